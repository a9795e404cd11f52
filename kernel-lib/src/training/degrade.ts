/**
 * Synthetic degradation of normal windows: the per-sample outlier synthesis of the original
 * AnomalyBERT training script (soft replacement, uniform replacement, peak noise, length
 * adjustment, white noise), on row-major Float32Array windows with a seeded Rng.
 *
 * STABLE API for the training loop (do not rely on anything not listed here):
 *
 *   const lengths = ReplacingLengthTable.create(windowSize, replacingRateMax, rng);   // once per run
 *   const { x, y, samples } = makeDegradedBatch(series, {
 *     batchSize, windowSize, patchSize, replacingRateMax, rng, lengths,
 *     probabilities: { softReplacing, uniformReplacing, peakNoising, lengthAdjusting, whiteNoising },
 *     flip: 'all' | 'vertical' | 'horizontal' | 'none',   // flip_replacing_interval
 *     replacingWeight: 0.7,                                // replacing_weight
 *     replacingData,                                       // optional other series (same column count)
 *   });
 *   // x: Float32Array (batchSize, windowSize, C) row-major -> tf.tensor3d(x, [n, W, C])
 *   // y: Uint8Array   (batchSize, windowSize) 1 = degraded point -> BCE target
 *   // samples: one DegradationRecord per window (type, interval, columns) for logging/tests.
 *
 * Resume: `lengths.toJSON()` / `ReplacingLengthTable.fromJSON()` keep the table and its cursor;
 * save `rng.state()` beside it (browser/random.ts `restoreRng`) and the continued run draws exactly
 * the batches the uninterrupted run would have drawn.
 *
 * Semantics follow ../shared/README.md "Training degradation" (the original train.py):
 * - window starts uniform in [0, len − W) (the original's `arange(len − W)`, last start excluded);
 *   with `series.segments`, uniform over the starts [s, s + len_s − W) of every segment instead;
 * - lengths from a table of 10,000 ints uniform in [⌊W·(r/10)⌋, ⌊W·r⌋), consumed cyclically;
 * - target start uniform in [0, W − L]; type draw u ~ U(0,1); per-column v ~ U(0,1), degrade the
 *   columns with v − max(min v, 0.3) ≤ 0.001 (all with v ≤ 0.3, at least the smallest);
 * - every column is numerical here (our series carry no categorical columns);
 * - a zero length leaves the window clean, as in the original (`if leng > 0`).
 * The random stream differs from numpy's, so batches are statistically, not bitwise, equal to the
 * original's.
 */
import type { Rng } from '../browser/random';
import { temperatureAnomaly, voltageGapAnomaly, type EssContext } from './ess-anomalies';

/** The part of io's `Series` this module needs: row-major (length, C) values. */
export interface DegradeSeries {
  /** where the data came from (used in error messages) */
  source?: string;
  columns: readonly string[];
  length: number;
  /** row-major (length, C) */
  values: Float32Array;
  /**
   * Rows that belong together (io's `Series.segments` for a directory of files, e.g. one file per
   * day). When given, training windows never straddle two segments and shortening only reads earlier
   * rows of the same segment: a window across the jump between two non-consecutive days would be
   * an unlabelled anomaly. Without it the series is one stretch, as in the original.
   */
  segments?: ReadonlyArray<{ start: number; length: number; file?: string }>;
}

export type FlipMode = 'all' | 'vertical' | 'horizontal' | 'none';
export const FLIP_MODES: readonly FlipMode[] = ['all', 'vertical', 'horizontal', 'none'];

export type DegradationType =
  | 'soft_replacing'
  | 'uniform_replacing'
  | 'peak_noising'
  | 'length_adjusting'
  | 'white_noising'
  | 'temperature_anomaly'
  | 'voltage_gap'
  | 'none';

/** Probabilities of the synthesis types (the original script's option names, camelCased). */
export interface DegradationProbabilities {
  softReplacing: number;
  uniformReplacing: number;
  peakNoising: number;
  /** only meaningful with the BCE loss (the only loss here) */
  lengthAdjusting: number;
  whiteNoising: number;
  /** OpenESS 2025 (ess-anomalies.ts): checked first, default 0 */
  temperatureAnomaly?: number;
  voltageGap?: number;
}

/** The defaults (soft 0.5, uniform 0.15, peak 0.15, length 0.0, white 0.0). */
export const DEFAULT_DEGRADATION_PROBABILITIES: Readonly<DegradationProbabilities> = Object.freeze({
  softReplacing: 0.5,
  uniformReplacing: 0.15,
  peakNoising: 0.15,
  lengthAdjusting: 0.0,
  whiteNoising: 0.0,
});

/** Number of entries of the original's replacing-length table. */
export const REPLACING_TABLE_LENGTH = 10000;

/** Standard deviation of the white noise the original adds. */
export const WHITE_NOISE_STD = 0.003;

/** What happened to one window. Label interval is half-open [labelStart, labelEnd). */
export interface DegradationRecord {
  type: DegradationType;
  /** start of the window in the training series */
  origin: number;
  /** interval drawn for the sample (target start and length) */
  start: number;
  length: number;
  /** degraded columns (ascending); length adjustment moves every column */
  columns: number[];
  labelStart: number;
  labelEnd: number;
  /** soft replacement: source column per degraded column, source start, flips */
  sourceColumns?: number[];
  sourceStarts?: number[];
  horizontalFlips?: boolean[];
  verticalFlips?: boolean[];
  /** peak noise: position inside the window */
  peakIndex?: number;
  /** length adjustment: stretch factor s and direction */
  scale?: number;
  lengthening?: boolean;
}

export interface DegradedBatch {
  /** (n, W, C) row-major */
  x: Float32Array;
  /** (n, W) */
  y: Uint8Array;
  samples: DegradationRecord[];
}

export interface DegradedBatchOptions {
  batchSize: number;
  /** W = n_features (tokens) × patch_size */
  windowSize: number;
  patchSize: number;
  replacingRateMax: number;
  probabilities?: Partial<DegradationProbabilities>;
  flip?: FlipMode;
  /** plateau weight of soft replacement (replacing_weight, default 0.7) */
  replacingWeight?: number;
  /** series the soft-replacement intervals come from (default: the training series) */
  replacingData?: DegradeSeries;
  rng: Rng;
  lengths: ReplacingLengthTable;
  /** Per-row context of `series` for the ESS degradations (temperature_anomaly, voltage_gap). */
  ess?: EssContext;
}

/** The bounds of the length table: [⌊W·(r/10)⌋, ⌊W·r⌋). */
export function replacingLengthBounds(windowSize: number, replacingRateMax: number): { low: number; high: number } {
  if (!Number.isInteger(windowSize) || windowSize <= 0) throw new Error(`window size must be a positive integer, got ${windowSize}`);
  if (!(replacingRateMax > 0 && replacingRateMax <= 1)) {
    throw new Error(`option replacing_rate_max must be in (0, 1], got ${replacingRateMax}`);
  }
  // Same float expressions as the original: int(W * (r / 10)) and int(r * W).
  const low = Math.floor(windowSize * (replacingRateMax / 10));
  const high = Math.floor(replacingRateMax * windowSize);
  if (high <= low) {
    throw new Error(
      `option replacing_rate_max ${replacingRateMax} with window ${windowSize} gives an empty length range [${low}, ${high}); use a larger window or rate`,
    );
  }
  return { low, high };
}

/**
 * The original's table of replacing lengths, drawn once per run and consumed `batchSize` entries
 * per step, wrapping around. Keeping the cursor in the object makes resumption exact.
 */
export class ReplacingLengthTable {
  constructor(
    readonly values: Int32Array,
    public index = 0,
  ) {
    if (values.length === 0) throw new Error('ReplacingLengthTable: empty table');
    if (!Number.isInteger(index) || index < 0 || index >= values.length) {
      throw new Error(`ReplacingLengthTable: index ${index} outside [0, ${values.length})`);
    }
  }

  static create(windowSize: number, replacingRateMax: number, rng: Rng, size = REPLACING_TABLE_LENGTH): ReplacingLengthTable {
    const { low, high } = replacingLengthBounds(windowSize, replacingRateMax);
    const values = new Int32Array(size);
    for (let i = 0; i < size; i++) values[i] = rng.int(low, high);
    return new ReplacingLengthTable(values);
  }

  /** The next n lengths, cyclically (n may exceed the table size). */
  take(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.values[this.index];
      this.index = (this.index + 1) % this.values.length;
    }
    return out;
  }

  toJSON(): { index: number; values: number[] } {
    return { index: this.index, values: Array.from(this.values) };
  }

  static fromJSON(json: { index: number; values: ArrayLike<number> }): ReplacingLengthTable {
    if (!json || !json.values || typeof json.index !== 'number') {
      throw new Error('ReplacingLengthTable.fromJSON: expected { index, values }');
    }
    return new ReplacingLengthTable(Int32Array.from(json.values), json.index);
  }
}

/**
 * Soft-replacement weights for an interval of length L: linspace(0, w, ⌊L/10⌋), w for the middle,
 * linspace(w, 0, ⌊L/10⌋) — numpy's linspace includes both ends, so the ramps reach 0 and w.
 */
export function replacingWeights(length: number, weight: number): Float32Array {
  const out = new Float32Array(length);
  const ramp = Math.floor(length / 10);
  out.fill(weight);
  for (let i = 0; i < ramp; i++) {
    // numpy linspace(0, w, n): step w / (n − 1); a single point is the start value.
    const up = ramp === 1 ? 0 : (weight * i) / (ramp - 1);
    out[i] = up;
    out[length - 1 - i] = up;
  }
  return out;
}

/**
 * The columns to degrade from one draw v per column: those with v − max(min v, 0.3) ≤ 0.001.
 * Every column with v ≤ 0.3 qualifies, and the smallest always does (so at least one).
 */
export function chooseDegradedColumns(draws: ArrayLike<number>): number[] {
  let min = Infinity;
  for (let c = 0; c < draws.length; c++) if (draws[c] < min) min = draws[c];
  const bar = Math.max(min, 0.3);
  const cols: number[] = [];
  for (let c = 0; c < draws.length; c++) if (draws[c] - bar <= 0.001) cols.push(c);
  return cols;
}

/** Type of a sample from its draw u, by the original's cumulative thresholds. */
export function degradationTypeFor(u: number, p: DegradationProbabilities): DegradationType {
  // OpenESS checks its two ESS types first; with both 0 the thresholds below are the original's.
  const gap = 1 - (p.voltageGap ?? 0);
  const temperature = gap - (p.temperatureAnomaly ?? 0);
  if (u > gap) return 'voltage_gap';
  if (u > temperature) return 'temperature_anomaly';
  const soft = temperature - p.softReplacing;
  const uniform = soft - p.uniformReplacing;
  const peak = uniform - p.peakNoising;
  const length = peak - p.lengthAdjusting;
  if (u > soft) return 'soft_replacing';
  if (u > uniform) return 'uniform_replacing';
  if (u > peak) return 'peak_noising';
  if (u > length) return 'length_adjusting';
  if (u < p.whiteNoising) return 'white_noising';
  return 'none';
}

/**
 * Blend replacement intervals into a window: for each degraded column k,
 * window[start + i, col_k] = source_k[i]·w_i + window[start + i, col_k]·(1 − w_i).
 * `sources[k]` has `weights.length` points (already flipped as required).
 */
export function softReplace(
  window: Float32Array,
  nCols: number,
  start: number,
  columns: readonly number[],
  sources: readonly Float32Array[],
  weights: Float32Array,
): void {
  const len = weights.length;
  for (let k = 0; k < columns.length; k++) {
    const col = columns[k];
    const src = sources[k];
    for (let i = 0; i < len; i++) {
      const at = (start + i) * nCols + col;
      window[at] = src[i] * weights[i] + window[at] * (1 - weights[i]);
    }
  }
}

/** Set each degraded column to its constant over [start, start + length). */
export function uniformReplace(
  window: Float32Array,
  nCols: number,
  start: number,
  length: number,
  columns: readonly number[],
  constants: ArrayLike<number>,
): void {
  for (let k = 0; k < columns.length; k++) {
    for (let i = start; i < start + length; i++) window[i * nCols + columns[k]] = constants[k];
  }
}

/**
 * Peak at window row `at`: a value below 0.5 jumps to 1 − 0.1·pull, otherwise to 0 + 0.1·pull
 * (pull ~ U(0,1) per column), i.e. to the far edge of [0, 1], pulled slightly back inside.
 */
export function peakNoise(window: Float32Array, nCols: number, at: number, columns: readonly number[], pulls: ArrayLike<number>): void {
  for (let k = 0; k < columns.length; k++) {
    const idx = at * nCols + columns[k];
    const high = window[idx] < 0.5 ? 1 : 0;
    window[idx] = high + 0.1 * (1 - 2 * high) * pulls[k];
  }
}

/** Label interval of a peak at window row `at`: [at − patch, at + patch] clipped to the window. */
export function peakLabelInterval(at: number, patchSize: number, windowSize: number): [number, number] {
  return [Math.max(0, at - patchSize), Math.min(windowSize, at + patchSize + 1)];
}

/**
 * Lengthen (slow down) inside a window: L' = L − L mod s; [start, start + L') becomes each point of
 * [start, start + L'/s) repeated s times, and the rest of the window continues with the content that
 * followed start + L'/s (the tail that no longer fits is dropped). All columns move. Returns L'.
 */
export function lengthenInterval(window: Float32Array, nCols: number, start: number, length: number, scale: number): number {
  const W = window.length / nCols;
  const adjusted = length - (length % scale);
  const scaled = adjusted / scale;
  const orig = window.slice();
  // Tail: rows [start + L', W) take rows [start + L'/s, W − L' + L'/s).
  for (let r = start + adjusted; r < W; r++) {
    const from = r - adjusted + scaled;
    window.set(orig.subarray(from * nCols, (from + 1) * nCols), r * nCols);
  }
  for (let i = 0; i < adjusted; i++) {
    const from = start + Math.floor(i / scale);
    window.set(orig.subarray(from * nCols, (from + 1) * nCols), (start + i) * nCols);
  }
  return adjusted;
}

/**
 * Shorten (speed up) a window taken at `origin` in the series: the part before `start` is read
 * L·(s − 1) points earlier in the series, and [start, start + L) holds every s-th point of the
 * series from there, so the interval covers L·s original points. Rows after start + L keep their
 * values. Requires origin ≥ L·(s − 1) (the caller checks the original's 1.5·⌊W·r⌋ condition).
 */
export function shortenInterval(
  window: Float32Array,
  series: Float32Array,
  nCols: number,
  origin: number,
  start: number,
  length: number,
  scale: number,
): void {
  const shift = length * (scale - 1);
  const base = origin - shift;
  if (base < 0) throw new Error(`shortenInterval: origin ${origin} is less than L·(s−1) = ${shift}`);
  window.set(series.subarray(base * nCols, (base + start) * nCols), 0);
  for (let i = 0; i < length; i++) {
    const from = base + start + i * scale;
    window.set(series.subarray(from * nCols, (from + 1) * nCols), (start + i) * nCols);
  }
}

/** Add N(0, std) to the degraded columns over the interval and clip to [0, 1]. */
export function whiteNoise(
  window: Float32Array,
  nCols: number,
  start: number,
  length: number,
  columns: readonly number[],
  rng: Rng,
  std = WHITE_NOISE_STD,
): void {
  for (let k = 0; k < columns.length; k++) {
    for (let i = start; i < start + length; i++) {
      const at = i * nCols + columns[k];
      const v = window[at] + rng.normal(0, std);
      window[at] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
}

/** Validated options with defaults. */
interface ResolvedOptions {
  ess?: EssContext;
  batchSize: number;
  windowSize: number;
  patchSize: number;
  replacingRateMax: number;
  probabilities: DegradationProbabilities;
  horizontalFlip: boolean;
  verticalFlip: boolean;
  replacingWeight: number;
  replacing: DegradeSeries;
  /** ⌊W·r⌋ */
  lenMax: number;
  origins: OriginTable;
}

function describeSeries(s: DegradeSeries, fallback: string): string {
  return s.source ? `'${s.source}'` : fallback;
}

function checkSeries(s: DegradeSeries, what: string): void {
  const C = s.columns.length;
  if (C === 0) throw new Error(`${what} ${describeSeries(s, '')} has no columns`);
  if (s.values.length !== s.length * C) {
    throw new Error(`${what} ${describeSeries(s, '')}: values hold ${s.values.length} numbers, expected length ${s.length} × ${C} columns`);
  }
}

function resolveOptions(series: DegradeSeries, o: DegradedBatchOptions): ResolvedOptions {
  const name = describeSeries(series, 'training series');
  checkSeries(series, 'training series');
  if (!Number.isInteger(o.batchSize) || o.batchSize <= 0)
    throw new Error(`option batch_size must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.patchSize) || o.patchSize <= 0)
    throw new Error(`option patch_size must be a positive integer, got ${o.patchSize}`);
  if (!Number.isInteger(o.windowSize) || o.windowSize <= 0 || o.windowSize % o.patchSize !== 0) {
    throw new Error(`window size ${o.windowSize} must be a positive multiple of patch_size ${o.patchSize}`);
  }
  if (series.length <= o.windowSize) {
    throw new Error(`training series ${name} has ${series.length} rows; it needs more than the window size ${o.windowSize}`);
  }
  const origins = windowOrigins(series, o.windowSize, name);
  replacingLengthBounds(o.windowSize, o.replacingRateMax);
  const probabilities: DegradationProbabilities = { ...DEFAULT_DEGRADATION_PROBABILITIES, ...(o.probabilities ?? {}) };
  const optionNames: Record<keyof DegradationProbabilities, string> = {
    softReplacing: 'soft_replacing',
    uniformReplacing: 'uniform_replacing',
    peakNoising: 'peak_noising',
    lengthAdjusting: 'length_adjusting',
    whiteNoising: 'white_noising',
    temperatureAnomaly: 'temperature_anomaly',
    voltageGap: 'voltage_gap',
  };
  for (const key of Object.keys(optionNames) as Array<keyof DegradationProbabilities>) {
    const v = probabilities[key] ?? 0;
    if (!(v >= 0 && v <= 1)) throw new Error(`option ${optionNames[key]} must be a probability in [0, 1], got ${v}`);
  }
  const flip = o.flip ?? 'all';
  if (!FLIP_MODES.includes(flip)) throw new Error(`option flip_replacing_interval must be one of ${FLIP_MODES.join('|')}, got '${flip}'`);
  const replacingWeight = o.replacingWeight ?? 0.7;
  if (!(replacingWeight >= 0 && replacingWeight <= 1)) throw new Error(`option replacing_weight must be in [0, 1], got ${replacingWeight}`);
  const replacing = o.replacingData ?? series;
  if (o.replacingData) {
    checkSeries(o.replacingData, 'replacing data');
    if (o.replacingData.columns.length !== series.columns.length) {
      throw new Error(
        `replacing data ${describeSeries(o.replacingData, '')} has ${o.replacingData.columns.length} columns, the training series ${name} has ${series.columns.length}`,
      );
    }
  }
  const lenMax = Math.floor(o.replacingRateMax * o.windowSize);
  if (replacing.length < lenMax) {
    throw new Error(
      `replacing data ${describeSeries(replacing, '')} has ${replacing.length} rows; soft replacement needs at least ${lenMax}`,
    );
  }
  return {
    batchSize: o.batchSize,
    windowSize: o.windowSize,
    patchSize: o.patchSize,
    replacingRateMax: o.replacingRateMax,
    probabilities,
    horizontalFlip: flip === 'all' || flip === 'horizontal',
    verticalFlip: flip === 'all' || flip === 'vertical',
    replacingWeight,
    replacing,
    lenMax,
    origins,
    ess: o.ess,
  };
}

/** Where windows may start: per segment [start, start + length − W), as cumulative counts. */
interface OriginTable {
  segStarts: Int32Array;
  /** number of valid starts in segments 0..k (inclusive prefix sums) */
  cumulative: Float64Array;
  total: number;
}

function windowOrigins(series: DegradeSeries, W: number, name: string): OriginTable {
  const segs = series.segments && series.segments.length > 0 ? series.segments : [{ start: 0, length: series.length }];
  const segStarts = new Int32Array(segs.length);
  const cumulative = new Float64Array(segs.length);
  let total = 0;
  let covered = 0;
  segs.forEach((seg, k) => {
    if (!(
      Number.isInteger(seg.start) &&
      Number.isInteger(seg.length) &&
      seg.start >= 0 &&
      seg.length >= 0 &&
      seg.start + seg.length <= series.length
    )) {
      throw new Error(
        `training series ${name}: segment ${k} [${seg.start}, ${seg.start + seg.length}) lies outside its ${series.length} rows`,
      );
    }
    covered += seg.length;
    segStarts[k] = seg.start;
    total += Math.max(0, seg.length - W);
    cumulative[k] = total;
  });
  if (total === 0) {
    throw new Error(
      `training series ${name}: no ${segs.length > 1 ? 'file (segment)' : 'stretch'} has more rows than the window size ${W}`,
    );
  }
  if (covered > series.length) throw new Error(`training series ${name}: segments overlap`);
  return { segStarts, cumulative, total };
}

/** Draw a window start: uniform over every valid start of every segment. Returns [origin, segment start]. */
function drawOrigin(t: OriginTable, rng: Rng): [number, number] {
  const r = rng.int(0, t.total);
  let k = 0;
  while (t.cumulative[k] <= r) k++;
  const before = k === 0 ? 0 : t.cumulative[k - 1];
  return [t.segStarts[k] + (r - before), t.segStarts[k]];
}

/**
 * Degrade one window in place (row-major (W, C)) and mark its labels (length W) — one sample of the
 * original's inner loop. `origin` is the window's start in `series` (needed by shortening).
 * Draw order per sample: target start, type u, one v per column, then the type's own draws.
 */
function degradeSample(
  window: Float32Array,
  label: Uint8Array,
  series: DegradeSeries,
  origin: number,
  segmentStart: number,
  length: number,
  o: ResolvedOptions,
  rng: Rng,
): DegradationRecord {
  const C = series.columns.length;
  const W = o.windowSize;
  const start = rng.int(0, W - length + 1);
  const u = rng.uniform();
  const v = new Float64Array(C);
  for (let c = 0; c < C; c++) v[c] = rng.uniform();
  const columns = chooseDegradedColumns(v);
  const record: DegradationRecord = { type: 'none', origin, start, length, columns, labelStart: 0, labelEnd: 0 };
  if (length <= 0) return record;

  const type = degradationTypeFor(u, o.probabilities);
  const mark = (a: number, b: number): void => {
    label.fill(1, a, b);
    record.labelStart = a;
    record.labelEnd = b;
  };
  switch (type) {
    case 'soft_replacing': {
      const rep = o.replacing;
      const sourceColumns: number[] = [];
      const sourceStarts: number[] = [];
      const horizontalFlips: boolean[] = [];
      const verticalFlips: boolean[] = [];
      const sources: Float32Array[] = [];
      for (let k = 0; k < columns.length; k++) {
        const col = rng.int(0, C);
        const from = rng.int(0, rep.length - length + 1);
        const h = rng.uniform() < 0.5;
        const vf = rng.uniform() < 0.5;
        const src = new Float32Array(length);
        for (let i = 0; i < length; i++) src[i] = rep.values[(from + i) * C + col];
        if (o.horizontalFlip && h) src.reverse();
        if (o.verticalFlip && vf) for (let i = 0; i < length; i++) src[i] = 1 - src[i];
        sourceColumns.push(col);
        sourceStarts.push(from);
        horizontalFlips.push(o.horizontalFlip && h);
        verticalFlips.push(o.verticalFlip && vf);
        sources.push(src);
      }
      softReplace(window, C, start, columns, sources, replacingWeights(length, o.replacingWeight));
      Object.assign(record, { sourceColumns, sourceStarts, horizontalFlips, verticalFlips });
      record.type = type;
      mark(start, start + length);
      break;
    }
    case 'uniform_replacing': {
      const constants = columns.map(() => rng.uniform());
      uniformReplace(window, C, start, length, columns, constants);
      record.type = type;
      mark(start, start + length);
      break;
    }
    case 'peak_noising': {
      const at = start + rng.int(0, length);
      peakNoise(
        window,
        C,
        at,
        columns,
        columns.map(() => rng.uniform()),
      );
      record.type = type;
      record.peakIndex = at;
      const [a, b] = peakLabelInterval(at, o.patchSize, W);
      mark(a, b);
      break;
    }
    case 'length_adjusting': {
      record.columns = Array.from({ length: C }, (_, c) => c);
      if (length > Math.floor(o.lenMax / 2)) {
        const scale = rng.int(2, 5);
        const adjusted = lengthenInterval(window, C, start, length, scale);
        Object.assign(record, { type, scale, lengthening: true });
        mark(start, start + adjusted);
      } else if (origin - segmentStart > o.lenMax * 1.5) {
        const scale = rng.int(2, 5);
        shortenInterval(window, series.values, C, origin, start, length, scale);
        Object.assign(record, { type, scale, lengthening: false });
        mark(start, start + length);
      } else {
        // Too close to the series start to read L·(s−1) earlier points: the original leaves it clean.
        record.columns = [];
      }
      break;
    }
    case 'white_noising': {
      whiteNoise(window, C, start, length, columns, rng);
      record.type = type;
      mark(start, start + length);
      break;
    }
    case 'voltage_gap': {
      const ess = o.ess;
      if (!ess?.voltageGapCurve || ess.voltageGapColumn === undefined)
        throw new Error('option voltage_gap needs the voltage-gap column and curve (see ess-anomalies.ts)');
      voltageGapAnomaly(window, C, ess.voltageGapColumn, ess.voltageGapCurve.subarray(origin, origin + W));
      record.type = type;
      record.columns = [ess.voltageGapColumn];
      mark(0, W);
      break;
    }
    case 'temperature_anomaly': {
      const ess = o.ess;
      if (!ess?.chargeStatus || ess.temperatureColumn === undefined)
        throw new Error('option temperature_anomaly needs the temperature column and charge status (see ess-anomalies.ts)');
      const span = temperatureAnomaly(window, C, ess.temperatureColumn, ess.chargeStatus.subarray(origin, origin + W), rng);
      record.columns = span ? [ess.temperatureColumn] : [];
      if (span) {
        record.type = type;
        mark(span[0], span[1]);
      }
      break;
    }
    default:
      break;
  }
  return record;
}

/**
 * A training batch: `batchSize` windows at uniform starts in [0, len − W) of `series` (within one
 * segment when `series.segments` is set), each degraded per the original script. See the module comment for the contract.
 * Shapes: x (batchSize, W, C) float32 row-major, y (batchSize, W) uint8.
 */
export function makeDegradedBatch(series: DegradeSeries, options: DegradedBatchOptions): DegradedBatch {
  const o = resolveOptions(series, options);
  const { rng } = options;
  const C = series.columns.length;
  const W = o.windowSize;
  const n = o.batchSize;
  const x = new Float32Array(n * W * C);
  const y = new Uint8Array(n * W);
  // Same order as the original: all window starts, then the lengths for the batch.
  const origins = new Int32Array(n);
  const segmentStarts = new Int32Array(n);
  for (let j = 0; j < n; j++) [origins[j], segmentStarts[j]] = drawOrigin(o.origins, rng);
  const lengths = options.lengths.take(n);
  const samples: DegradationRecord[] = [];
  for (let j = 0; j < n; j++) {
    const window = x.subarray(j * W * C, (j + 1) * W * C);
    window.set(series.values.subarray(origins[j] * C, (origins[j] + W) * C));
    const label = y.subarray(j * W, (j + 1) * W);
    samples.push(degradeSample(window, label, series, origins[j], segmentStarts[j], lengths[j], o, rng));
  }
  return { x, y, samples };
}
