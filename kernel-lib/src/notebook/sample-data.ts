/**
 * Embedded generated battery data for notebooks, workshops and the demo: two synthetic solar-ESS
 * "sites" shaped like the real data in ../shared/data/ess, small enough to train on a laptop CPU
 * in minutes. These are GENERATED series (a simple physical model plus noise), not measurements;
 * notebooks switch to the real files when ANOMALY_LAB_DATA points at them.
 *
 * Site A (like panli-clean): BANK_DC_VOLT, BANK_DC_CURRENT, BANK_SOC, MAX_CELL_TEMPERATURE_OF_BANK,
 * VOLTAGE_GAP. Site B (like jecheon): voltage, current, state, dischargeAh — a different column set,
 * so a transfer from A to B re-initialises the input embedding.
 *
 * Model, per sample (dt seconds): a daily schedule charges from the PV surplus around midday and
 * discharges in the evening peak; SOC integrates current / capacity; open-circuit voltage rises
 * with SOC (a mild S-curve), terminal voltage adds I·R; cell temperature relaxes toward ambient +
 * a Joule term ∝ I²; the cell-voltage gap grows with |I| and at the SOC extremes.
 */
import { createRng } from '../browser/random';
import type { Series } from '../io/series';

export interface EssSiteOptions {
  /** number of days (default 2). */
  days?: number;
  /** seconds per sample (default 30: 2,880 rows a day). */
  sampleSeconds?: number;
  seed?: number;
  /** epoch ms of the first sample (default 2022-05-10T00:00:00Z). */
  start?: number;
}

const DAY_S = 86400;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Charge (+) / discharge (−) current demand in units of the rated current at time of day t (s). */
function schedule(t: number, dayNoise: number): number {
  const h = (t % DAY_S) / 3600;
  // PV surplus charging 9:00–15:00 (bell shaped), evening discharge 18:00–22:00, idle otherwise.
  const charge = h > 9 && h < 15 ? Math.sin((Math.PI * (h - 9)) / 6) * (0.8 + 0.2 * dayNoise) : 0;
  const discharge = h > 18 && h < 22 ? -Math.sin((Math.PI * (h - 18)) / 4) * (1.25 - 0.1 * dayNoise) : 0;
  return charge + discharge;
}

interface CellState {
  time: Float64Array;
  current: Float32Array;
  soc: Float32Array;
  voltage: Float32Array;
  temperature: Float32Array;
  gap: Float32Array;
}

function simulate(
  n: number,
  dt: number,
  start: number,
  seed: number,
  p: { ratedA: number; capacityAh: number; nominalV: number; spanV: number; rOhm: number; ambient: number },
): CellState {
  const rng = createRng(seed);
  const s: CellState = {
    time: new Float64Array(n),
    current: new Float32Array(n),
    soc: new Float32Array(n),
    voltage: new Float32Array(n),
    temperature: new Float32Array(n),
    gap: new Float32Array(n),
  };
  let soc = 0.35;
  let temp = p.ambient;
  let dayNoise = rng.uniform();
  let drift = 0;
  for (let i = 0; i < n; i++) {
    const t = i * dt;
    if (i > 0 && Math.floor(t / DAY_S) !== Math.floor((t - dt) / DAY_S)) dayNoise = rng.uniform();
    drift = 0.98 * drift + rng.normal(0, 0.02);
    let demand = schedule(t, dayNoise) + (Math.abs(schedule(t, dayNoise)) > 0 ? drift : 0);
    // The BMS stops charging near full and discharging near empty.
    if (soc > 0.95 && demand > 0) demand *= Math.max(0, (1 - soc) / 0.05);
    if (soc < 0.08 && demand < 0) demand *= Math.max(0, soc / 0.08);
    const current = demand * p.ratedA + rng.normal(0, 0.004 * p.ratedA);
    soc = Math.min(1, Math.max(0, soc + (current * dt) / 3600 / p.capacityAh));
    const ocv = p.nominalV + p.spanV * (sigmoid(6 * (soc - 0.5)) - 0.5) + 0.02 * p.spanV * soc;
    const ambient = p.ambient + 4 * Math.sin((2 * Math.PI * ((t % DAY_S) / 3600 - 9)) / 24);
    temp += (dt / 1800) * (ambient - temp) + (dt / 1800) * 6 * (current / p.ratedA) ** 2;
    s.time[i] = start + t * 1000;
    s.current[i] = current;
    s.soc[i] = soc * 100;
    s.voltage[i] = ocv + current * p.rOhm + rng.normal(0, 0.0005 * p.spanV);
    s.temperature[i] = temp + rng.normal(0, 0.05);
    s.gap[i] = 0.012 + 0.02 * Math.abs(current / p.ratedA) + 0.03 * Math.max(0, Math.abs(soc - 0.5) - 0.4) + Math.abs(rng.normal(0, 0.001));
  }
  return s;
}

function rows(n: number, cols: Float32Array[]): Float32Array {
  const C = cols.length;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) for (let j = 0; j < C; j++) out[i * C + j] = cols[j][i];
  return out;
}

function resolve(opts: EssSiteOptions): { n: number; dt: number; start: number; seed: number } {
  const days = opts.days ?? 2;
  const dt = opts.sampleSeconds ?? 30;
  if (!(days > 0)) throw new Error(`generated ESS data: option days must be > 0, got ${days}`);
  if (!(dt > 0 && dt <= 3600)) throw new Error(`generated ESS data: option sampleSeconds must be in (0, 3600], got ${dt}`);
  return { n: Math.round((days * DAY_S) / dt), dt, start: opts.start ?? Date.UTC(2022, 4, 10), seed: opts.seed ?? 1 };
}

/** Generated site A (panli-like columns; VOLTAGE_GAP already in [0, 1] as in panli-clean). */
export function generateEssSiteA(opts: EssSiteOptions = {}): Series {
  const { n, dt, start, seed } = resolve(opts);
  const s = simulate(n, dt, start, seed, { ratedA: 50, capacityAh: 280, nominalV: 790, spanV: 90, rOhm: 0.05, ambient: 24 });
  return {
    source: `generated ESS site A (seed ${seed}, ${n} rows @ ${dt} s)`,
    columns: ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'],
    length: n,
    values: rows(n, [s.voltage, s.current, s.soc, s.temperature, s.gap.map((g) => Math.min(1, g / 0.08))]),
    time: s.time,
    timeColumn: 'TIMESTAMP',
  };
}

/** Generated site B (jecheon-like columns: voltage, current, state 0 idle / 1 charge / 2 discharge, dischargeAh). */
export function generateEssSiteB(opts: EssSiteOptions = {}): Series {
  const { n, dt, start, seed } = resolve(opts);
  const s = simulate(n, dt, start, seed + 1000, { ratedA: 23, capacityAh: 128, nominalV: 52, spanV: 6, rOhm: 0.004, ambient: 20 });
  const state = new Float32Array(n);
  const dischargeAh = new Float32Array(n);
  let ah = 0;
  for (let i = 0; i < n; i++) {
    const c = s.current[i];
    state[i] = c > 1 ? 1 : c < -1 ? 2 : 0;
    if (c < 0) ah += (-c * dt) / 3600;
    // The counter resets at midnight, as the rack's daily register does.
    if (i > 0 && Math.floor((i * dt) / DAY_S) !== Math.floor(((i - 1) * dt) / DAY_S)) ah = 0;
    dischargeAh[i] = ah;
  }
  return {
    source: `generated ESS site B (seed ${seed}, ${n} rows @ ${dt} s)`,
    columns: ['voltage', 'current', 'state', 'dischargeAh'],
    length: n,
    values: rows(n, [s.voltage, s.current, state, dischargeAh]),
    time: s.time,
    timeColumn: 'datetime',
  };
}
