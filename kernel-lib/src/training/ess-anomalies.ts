/**
 * The ESS-specific degradations of the 2025 OpenESS AnomalyBERT code (keti-dp/OpenESS,
 * SNU_AI/Anomaly_Detection/utils/dataset.py, read through the search tool; not copied), with its
 * option names `temperature_anomaly` and `voltage_gap` (probabilities, checked before the others:
 * u > 1 − voltage_gap → voltage gap; else u > 1 − voltage_gap − temperature_anomaly → temperature;
 * then soft/uniform/peak/… as before, so with both at 0 every draw is unchanged).
 *
 * - Temperature anomaly (applied only at the end of a charge): in the window, the charging rows
 *   (charge status 1) must form one contiguous run longer than a minimum; with r ~ U(0.2, 0.5) and
 *   intensity k ~ U(1.1, 1.2), the temperature column is multiplied by a ramp 1 → k from
 *   (last charging row − r·run) to the last charging row, then k → 1 over the next 0.5·r·run rows
 *   (clipped to the window); that span is labelled. Otherwise the window stays clean (as there).
 * - Voltage-gap anomaly: |voltage-gap curve| is added to the voltage-gap column over the whole
 *   window, and the whole window is labelled.
 *
 * What is inferred rather than read (our data differ from OpenESS's .npy layout):
 * - Charge status: OpenESS reads it from an extra first column; panli-clean has none, so it is
 *   derived from the SOC column: charging where SOC rises over ±CHARGE_STATUS_HALF_SPAN rows.
 * - Minimum charging run: OpenESS requires > 1000 rows of its 46,080-row window (512 × 90); here the
 *   same fraction of the window, ⌈W · 1000 / 46080⌉ rows.
 * - The voltage-gap curve: OpenESS reads an extra last column; here the `VOLTAGE_GAP_CURVE` column
 *   of panli-clean (not a model input), aligned with the window's own rows. (OpenESS indexes the
 *   curve by the interval's offset inside the window from the start of the series — most likely a
 *   slip; we use the window's rows.)
 * - Test sets (`synth --types …,temperature_anomaly,voltage_gap`): the anomaly is placed on the
 *   drawn interval instead of a charge end / whole window: temperature ramps 1 → k over its first
 *   two thirds and back over the last third; the voltage gap adds |curve| over the interval.
 */
import type { Rng } from '../browser/random';
import { FieldError } from '../browser/errors';

/** Column names of panli-clean the ESS degradations act on (OpenESS hard-codes positions 3 and 4). */
export const ESS_COLUMNS = {
  temperature: 'MAX_CELL_TEMPERATURE_OF_BANK',
  voltageGap: 'VOLTAGE_GAP',
  soc: 'BANK_SOC',
  curve: 'VOLTAGE_GAP_CURVE',
} as const;

/** Half-span (rows) of the SOC rise that marks charging. */
export const CHARGE_STATUS_HALF_SPAN = 300;
/** OpenESS: more than 1000 charging rows of a 46,080-row window. */
const OPENESS_MIN_CHARGE = 1000;
const OPENESS_WINDOW = 46080;

/** Per-row context of a series for the ESS degradations (same rows as the series). */
export interface EssContext {
  /** column index of the temperature (temperature anomaly) */
  temperatureColumn?: number;
  /** column index of the voltage gap (voltage-gap anomaly) */
  voltageGapColumn?: number;
  /** 1 = charging, per row */
  chargeStatus?: Uint8Array;
  /** voltage-gap curve per row */
  voltageGapCurve?: Float32Array;
}

/** Charging where the SOC rises: soc[t + h] > soc[t − h] (clipped at the ends). values (length, C). */
export function chargeStatusFromSoc(
  values: ArrayLike<number>,
  length: number,
  nCols: number,
  socColumn: number,
  halfSpan = CHARGE_STATUS_HALF_SPAN,
): Uint8Array {
  const out = new Uint8Array(length);
  for (let t = 0; t < length; t++) {
    const a = values[Math.max(0, t - halfSpan) * nCols + socColumn];
    const b = values[Math.min(length - 1, t + halfSpan) * nCols + socColumn];
    out[t] = b > a ? 1 : 0;
  }
  return out;
}

/** Minimum charging run for a window of W rows (OpenESS's fraction). */
export function minChargeRun(windowSize: number): number {
  return Math.ceil((windowSize * OPENESS_MIN_CHARGE) / OPENESS_WINDOW);
}

/**
 * Temperature anomaly on one window (row-major (W, C)), in place. `charge` holds the window's charge
 * status. Returns the labelled span [start, end) or null (window left clean). Draws r then k.
 */
export function temperatureAnomaly(
  window: Float32Array,
  nCols: number,
  column: number,
  charge: ArrayLike<number>,
  rng: Rng,
): [number, number] | null {
  const W = charge.length;
  let first = -1;
  let last = -1;
  let count = 0;
  for (let t = 0; t < W; t++) {
    if (charge[t] !== 1) continue;
    if (first < 0) first = t;
    last = t;
    count++;
  }
  if (count <= minChargeRun(W) || last - first + 1 !== count) return null;
  const r = 0.2 + 0.3 * rng.uniform();
  const k = 1.1 + 0.1 * rng.uniform();
  const start = Math.trunc(last - count * r);
  const peak = last;
  const end = Math.min(Math.trunc(peak + 0.5 * count * r), W);
  ramp(window, nCols, column, start, peak, 1, k);
  ramp(window, nCols, column, peak, end, k, 1);
  return [start, end];
}

/** Multiply rows [a, b) of a column by a linear ramp from f0 to f1 (torch.linspace: both ends included). */
function ramp(window: Float32Array, nCols: number, column: number, a: number, b: number, f0: number, f1: number): void {
  const n = b - a;
  for (let i = 0; i < n; i++) {
    const f = n === 1 ? f0 : f0 + ((f1 - f0) * i) / (n - 1);
    window[(a + i) * nCols + column] *= f;
  }
}

/** Voltage-gap anomaly: add |curve| to the gap column over rows [a, b) (curve indexed like the rows). */
export function voltageGapAnomaly(
  window: Float32Array,
  nCols: number,
  column: number,
  curve: ArrayLike<number>,
  a = 0,
  b = curve.length,
): void {
  for (let t = a; t < b; t++) window[t * nCols + column] += Math.abs(curve[t - a]);
}

/** Test-set temperature anomaly on [start, end): ramp 1 → k over the first two thirds, back to 1 over the rest. */
export function synthTemperature(values: Float32Array, nCols: number, column: number, start: number, end: number, k: number): void {
  const peak = start + Math.max(1, Math.floor((2 * (end - start)) / 3));
  ramp(values, nCols, column, start, Math.min(peak, end), 1, k);
  if (peak < end) ramp(values, nCols, column, peak, end, k, 1);
}

/** Resolve the ESS context of a series by column names; errors name the option and the missing column. */
export function essContextFor(
  columns: readonly string[],
  values: ArrayLike<number>,
  length: number,
  want: { temperature: boolean; voltageGap: boolean },
  curve?: Float32Array,
): EssContext {
  const ctx: EssContext = {};
  // Errors name the option as a field; the CLI renders it as its flag (FieldError.messageWith).
  const need = (name: string, option: string): number => {
    const i = columns.indexOf(name);
    if (i < 0)
      throw new FieldError(option, (f) => `option ${f(option)} needs a ${name} column in the data (columns: ${columns.join(', ')})`);
    return i;
  };
  if (want.temperature) {
    ctx.temperatureColumn = need(ESS_COLUMNS.temperature, 'temperature_anomaly');
    ctx.chargeStatus = chargeStatusFromSoc(values, length, columns.length, need(ESS_COLUMNS.soc, 'temperature_anomaly'));
  }
  if (want.voltageGap) {
    ctx.voltageGapColumn = need(ESS_COLUMNS.voltageGap, 'voltage_gap');
    if (!curve)
      throw new FieldError(
        'voltage_gap',
        (f) => `option ${f('voltage_gap')} needs the voltage-gap curve: a ${ESS_COLUMNS.curve} column in the training file(s)`,
      );
    if (curve.length !== length)
      throw new FieldError(
        'voltage_gap',
        (f) => `option ${f('voltage_gap')}: the ${ESS_COLUMNS.curve} column has ${curve.length} rows, the data ${length}`,
      );
    ctx.voltageGapCurve = curve;
  }
  return ctx;
}
