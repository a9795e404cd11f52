/**
 * Synthetic evaluation anomalies: turn a normal series (values in [0, 1]) into a labelled test set,
 * as the ESS project built its evaluation sets (../shared/README.md "Test-set anomalies").
 *
 * Types (one per anomaly, drawn uniformly from `types`):
 * - soft_replacement: each degraded column is blended with an interval of the same column taken
 *   elsewhere (from `replacingData` when given, otherwise from a non-overlapping stretch of the same
 *   series), weight ramping linearly 0 → 0.7 at the middle → 0 at the end (a triangle across the
 *   whole interval, unlike training's plateau); label the interval.
 * - uniform_replacement: each degraded column becomes one constant drawn uniformly within ±0.1 of
 *   that column's mean over the interval, clipped to [0, 1]; label the interval.
 * - peak_noise: one random point per degraded column is moved by at least 0.1 (uniformly in the part
 *   of [0, 1] at least 0.1 away from its value, either side when both fit); only those points are
 *   labelled (the interval record keeps the span they were drawn in).
 * - white_noise: N(0, 0.003) added to the degraded columns, clipped to [0, 1]; label the interval.
 *
 * Degraded columns use the training rule (`chooseDegradedColumns`: all with v ≤ 0.3, at least one).
 * Interval lengths are uniform integers in [⌈0.05%·n⌉, ⌊10%·n⌋] (at least 1 point). Intervals do not
 * overlap and are separated by at least one clean point, so each one is a separate labelled
 * interval for point adjustment.
 *
 * Shapes: values (length, C) row-major float32; labels (length,) uint8.
 */
import { createRng, type Rng } from '../browser/random';
import { chooseDegradedColumns, WHITE_NOISE_STD, type DegradeSeries } from '../training/degrade';
import { synthTemperature, voltageGapAnomaly, type EssContext } from '../training/ess-anomalies';
import { FieldError } from '../browser/errors';

export type SynthAnomalyType =
  'soft_replacement' | 'uniform_replacement' | 'peak_noise' | 'white_noise' | 'temperature_anomaly' | 'voltage_gap';
/** The default types (the ESS project's synthesis functions). */
export const SYNTH_ANOMALY_TYPES: readonly SynthAnomalyType[] = ['soft_replacement', 'uniform_replacement', 'peak_noise', 'white_noise'];
/** Opt-in types of the 2025 OpenESS code (ess-anomalies.ts): need `ess` (temperature / voltage-gap columns, curve). */
export const SYNTH_ESS_ANOMALY_TYPES: readonly SynthAnomalyType[] = ['temperature_anomaly', 'voltage_gap'];

/** Peak weight of the soft-replacement triangle. */
export const SYNTH_SOFT_WEIGHT = 0.7;
/** Half-width of the band around the interval mean the uniform constant is drawn from. */
export const SYNTH_UNIFORM_BAND = 0.1;
/** Minimum displacement of a peak. */
export const SYNTH_PEAK_MIN_SHIFT = 0.1;

export interface SynthInterval {
  type: SynthAnomalyType;
  /** half-open [start, end) in rows of the series */
  start: number;
  end: number;
  columns: number[];
  /** peak_noise: the rows that were moved (one per degraded column; only these are labelled) */
  points?: number[];
  /** soft_replacement: where each degraded column's replacement came from */
  sourceStarts?: number[];
}

export interface SynthOptions {
  seed: number;
  /** number of anomalies to inject, a positive integer (default 5) */
  anomalies?: number;
  types?: readonly SynthAnomalyType[];
  /** interval length bounds as fractions of the series length (default 0.0005 and 0.1) */
  minLengthFraction?: number;
  maxLengthFraction?: number;
  /** series the soft-replacement intervals come from (same column count); default: the series itself */
  replacingData?: DegradeSeries;
  /** columns and curve of the OpenESS types (temperature_anomaly, voltage_gap) */
  ess?: EssContext;
}

export interface SynthTestSet {
  /** (length, C) row-major */
  values: Float32Array;
  /** (length,) 1 = anomalous */
  labels: Uint8Array;
  /** sorted by start */
  intervals: SynthInterval[];
}

/** Triangular weights over an interval of length L: 0 → w at the middle → 0, linear both sides. */
export function triangleWeights(length: number, peak = SYNTH_SOFT_WEIGHT): Float32Array {
  const out = new Float32Array(length);
  if (length === 1) {
    out[0] = peak;
    return out;
  }
  const mid = (length - 1) / 2;
  for (let i = 0; i < length; i++) out[i] = peak * (1 - Math.abs(i - mid) / mid);
  return out;
}

/** The option part of SynthOptions that `checkSynthOptions` checks, as a caller may hold it (types as text). */
export interface SynthOptionValues {
  anomalies?: number;
  types?: readonly string[];
  minLengthFraction?: number;
  maxLengthFraction?: number;
}

function checkLengthFractions(minFraction: number, maxFraction: number): void {
  if (!(minFraction > 0 && minFraction <= maxFraction && maxFraction <= 1)) {
    throw new FieldError(
      ['minLengthFraction', 'maxLengthFraction'],
      (f) =>
        `options ${f('minLengthFraction')} (${minFraction}) and ${f('maxLengthFraction')} (${maxFraction}) must satisfy 0 < min ≤ max ≤ 1`,
    );
  }
}

/**
 * The one check of the synthesis options (synthesizeTestSet runs it; the CLI's `synth` runs it on
 * its flags before loading any data): each bad value is a FieldError naming the option as this API
 * spells it (a front end renders it its own way: the CLI as `--anomalies`, `--min_length`, …).
 * Returns the options with their defaults and the types narrowed.
 */
export function checkSynthOptions(o: SynthOptionValues): {
  anomalies: number;
  types: SynthAnomalyType[];
  minLengthFraction: number;
  maxLengthFraction: number;
} {
  const anomalies = o.anomalies ?? 5;
  // a test set without anomalies has nothing to evaluate a detector on
  if (!Number.isInteger(anomalies))
    throw new FieldError('anomalies', (f) => `option ${f('anomalies')} must be an integer, got ${anomalies}`);
  if (anomalies < 1) throw new FieldError('anomalies', (f) => `option ${f('anomalies')} must be ≥ 1, got ${anomalies}`);
  const known: readonly SynthAnomalyType[] = [...SYNTH_ANOMALY_TYPES, ...SYNTH_ESS_ANOMALY_TYPES];
  const isKnown = (t: string): t is SynthAnomalyType => (known as readonly string[]).includes(t);
  const given = o.types ?? SYNTH_ANOMALY_TYPES;
  if (given.length === 0) throw new FieldError('types', (f) => `option ${f('types')} must name at least one anomaly type`);
  const types: SynthAnomalyType[] = [];
  for (const t of given) {
    if (!isKnown(t)) throw new FieldError('types', (f) => `option ${f('types')}: unknown anomaly type '${t}' (known: ${known.join(', ')})`);
    types.push(t);
  }
  const minLengthFraction = o.minLengthFraction ?? 0.0005;
  const maxLengthFraction = o.maxLengthFraction ?? 0.1;
  checkLengthFractions(minLengthFraction, maxLengthFraction);
  return { anomalies, types, minLengthFraction, maxLengthFraction };
}

/** Length bounds [lo, hi] in rows for a series of n rows. */
export function synthLengthBounds(n: number, minFraction = 0.0005, maxFraction = 0.1): { lo: number; hi: number } {
  checkLengthFractions(minFraction, maxFraction);
  const lo = Math.max(1, Math.ceil(n * minFraction));
  const hi = Math.max(lo, Math.floor(n * maxFraction));
  return { lo, hi };
}

/** A new value at least `minShift` away from v inside [0, 1]; either side when both fit. */
export function peakValue(v: number, u1: number, u2: number, minShift = SYNTH_PEAK_MIN_SHIFT): number {
  const clamped = Math.min(1, Math.max(0, v));
  const upRoom = 1 - (clamped + minShift);
  const downRoom = clamped - minShift;
  const canUp = upRoom >= 0;
  const canDown = downRoom >= 0;
  // Choose the side in proportion to the room there (uniform over the feasible set).
  const up = canUp && (!canDown || u1 * (upRoom + downRoom) < upRoom);
  return up ? clamped + minShift + u2 * upRoom : downRoom * u2;
}

function validateSeries(series: DegradeSeries): number {
  const C = series.columns.length;
  const name = series.source ? `'${series.source}'` : 'the series';
  if (C === 0) throw new Error(`${name} has no columns`);
  if (series.values.length !== series.length * C)
    throw new Error(`${name}: values hold ${series.values.length} numbers, expected ${series.length} × ${C}`);
  return C;
}

/** Non-overlapping placement: a start for `len` rows whose span ±1 row is free. */
function placeInterval(taken: Uint8Array, len: number, rng: Rng, tries = 200): number {
  const n = taken.length;
  for (let t = 0; t < tries; t++) {
    const start = rng.int(0, n - len + 1);
    const a = Math.max(0, start - 1);
    const b = Math.min(n, start + len + 1);
    let free = true;
    for (let i = a; i < b && free; i++) if (taken[i]) free = false;
    if (free) return start;
  }
  return -1;
}

/**
 * Inject `anomalies` synthetic anomalies into a copy of `series` (values expected in [0, 1]).
 * Deterministic for a seed.
 */
export function synthesizeTestSet(series: DegradeSeries, options: SynthOptions): SynthTestSet {
  const C = validateSeries(series);
  const n = series.length;
  const name = series.source ? `'${series.source}'` : 'the series';
  const { anomalies: count, types, minLengthFraction, maxLengthFraction } = checkSynthOptions(options);
  if (types.includes('temperature_anomaly') && options.ess?.temperatureColumn === undefined)
    throw new Error("anomaly type 'temperature_anomaly' needs the temperature column (ess.temperatureColumn)");
  if (types.includes('voltage_gap') && (options.ess?.voltageGapColumn === undefined || !options.ess.voltageGapCurve)) {
    throw new Error("anomaly type 'voltage_gap' needs the voltage-gap column and curve (ess.voltageGapColumn, ess.voltageGapCurve)");
  }
  const { lo, hi } = synthLengthBounds(n, minLengthFraction, maxLengthFraction);
  if (n < 2 * lo + 2) throw new Error(`${name} has ${n} rows, too short for synthetic anomalies`);
  const replacing = options.replacingData ?? series;
  if (options.replacingData) {
    validateSeries(options.replacingData);
    if (options.replacingData.columns.length !== C) {
      throw new Error(
        `replacing data ${options.replacingData.source ?? ''} has ${options.replacingData.columns.length} columns, ${name} has ${C}`,
      );
    }
  }
  const rng = createRng(options.seed);
  const values = series.values.slice();
  const labels = new Uint8Array(n);
  const taken = new Uint8Array(n);
  const intervals: SynthInterval[] = [];

  for (let a = 0; a < count; a++) {
    const type = types[rng.int(0, types.length)];
    let len = rng.int(lo, hi + 1);
    let start = placeInterval(taken, len, rng);
    // A crowded series: retry with shorter intervals before giving up.
    while (start < 0 && len > lo) {
      len = Math.max(lo, Math.floor(len / 2));
      start = placeInterval(taken, len, rng);
    }
    if (start < 0) {
      throw new FieldError(
        'anomalies',
        (f) => `cannot place ${count} non-overlapping anomalies in ${name} (${n} rows); ask for fewer with ${f('anomalies')}`,
      );
    }
    const end = start + len;
    taken.fill(1, start, end);
    const draws = new Float64Array(C);
    for (let c = 0; c < C; c++) draws[c] = rng.uniform();
    const columns = chooseDegradedColumns(draws);
    const record: SynthInterval = { type, start, end, columns };

    switch (type) {
      case 'soft_replacement': {
        const w = triangleWeights(len);
        const sourceStarts: number[] = [];
        for (const col of columns) {
          // Prefer a stretch that does not overlap the target (a truly external interval).
          let from = -1;
          const maxFrom = replacing.length - len;
          if (maxFrom < 0)
            throw new Error(`replacing data ${replacing.source ?? ''} has ${replacing.length} rows, shorter than an anomaly of ${len}`);
          for (let t = 0; t < 50 && from < 0; t++) {
            const f = rng.int(0, maxFrom + 1);
            if (replacing !== series || f + len <= start || f >= end) from = f;
          }
          if (from < 0) from = rng.int(0, maxFrom + 1);
          sourceStarts.push(from);
          for (let i = 0; i < len; i++) {
            const at = (start + i) * C + col;
            const src = replacing.values[(from + i) * C + col];
            values[at] = src * w[i] + values[at] * (1 - w[i]);
          }
        }
        record.sourceStarts = sourceStarts;
        labels.fill(1, start, end);
        break;
      }
      case 'uniform_replacement': {
        for (const col of columns) {
          let mean = 0;
          for (let i = start; i < end; i++) mean += values[i * C + col];
          mean /= len;
          const v = Math.min(1, Math.max(0, mean + (2 * rng.uniform() - 1) * SYNTH_UNIFORM_BAND));
          for (let i = start; i < end; i++) values[i * C + col] = v;
        }
        labels.fill(1, start, end);
        break;
      }
      case 'peak_noise': {
        const points: number[] = [];
        for (const col of columns) {
          const p = rng.int(start, end);
          const at = p * C + col;
          values[at] = peakValue(values[at], rng.uniform(), rng.uniform());
          points.push(p);
          labels[p] = 1;
        }
        record.points = points;
        break;
      }
      case 'temperature_anomaly': {
        const col = options.ess?.temperatureColumn as number;
        synthTemperature(values, C, col, start, end, 1.1 + 0.1 * rng.uniform());
        record.columns = [col];
        labels.fill(1, start, end);
        break;
      }
      case 'voltage_gap': {
        const col = options.ess?.voltageGapColumn as number;
        voltageGapAnomaly(values, C, col, (options.ess?.voltageGapCurve as Float32Array).subarray(start, end), start, end);
        record.columns = [col];
        labels.fill(1, start, end);
        break;
      }
      case 'white_noise': {
        for (const col of columns) {
          for (let i = start; i < end; i++) {
            const at = i * C + col;
            const v = values[at] + rng.normal(0, WHITE_NOISE_STD);
            values[at] = v < 0 ? 0 : v > 1 ? 1 : v;
          }
        }
        labels.fill(1, start, end);
        break;
      }
    }
    intervals.push(record);
  }
  intervals.sort((x, y) => x.start - y.start);
  return { values, labels, intervals };
}
