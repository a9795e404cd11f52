/**
 * Anomaly-detection metrics with the reference semantics (see ../shared/README.md "Metrics" and the
 * original AnomalyBERT / ESS `estimate.py`):
 *
 * - threshold = numpy `quantile(scores, 1 − rate)` with linear interpolation (numpy's `_lerp`,
 *   computed in float64 — what numpy 2 does for float64 scores and for the numpy-float64 rates of
 *   the reference sweep; numpy 2 with float32 scores and a plain Python float rate returns a
 *   float32 threshold, which can differ when the interpolation rounds onto a score);
 * - predicted = score > threshold (strict);
 * - point adjustment (PA): a labelled interval counts as fully detected when any of its points is;
 * - precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), ESS score = (P+R)/2.
 *   Division by zero gives 0 (no predictions → precision 0; no labelled points → recall 0;
 *   P + R = 0 → F1 0), as the reference `ess_score` does;
 * - the rate sweep is numpy's `arange(0.001, 0.301, 0.001)` (300 rates, same float values) and keeps
 *   the first rate with a strictly higher F1 (the reference starts from F1 0 and would report rate 0
 *   with zeros when no rate scores; we report the first rate's real row instead).
 * - EWMA smoothing is the reference `ewma` of AnomalyBERT's compute_metrics.py / the ESS estimate.py.
 *
 * Everything is computed from sorted arrays prepared once (`prepareMetrics`), so one rate costs a
 * few binary searches: a full 300-rate sweep on 1,000,000 points is dominated by one sort.
 *
 * Labels: any numeric array of 0/1 (bool, int, float); other values are rejected.
 */
import { createRng } from './random';
import { assertBinaryLabels } from './labels';
import { roundSignificant } from './format';

export interface MetricRow {
  anomaly_rate: number;
  precision: number;
  recall: number;
  f1: number;
  ess_score: number;
}

/** Raw confusion counts at one threshold. */
export interface Confusion {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface PaKCurve {
  /** K in percent (0…100). */
  k: number[];
  f1: number[];
  precision: number[];
  recall: number[];
  /** Anomaly rate used at each K (all equal for a fixed-rate curve; the best rate per K for a sweep). */
  anomaly_rate: number[];
  /** Trapezoid area of F1 over K/100 (K = 0…100 → [0, 1]). */
  auc: number;
}

export interface SweepOptions {
  pointAdjust?: boolean;
  /** Rates to try; default `sweepRates()` = 0.001…0.300. */
  rates?: ArrayLike<number>;
}

/** numpy `arange(start, stop, step)` for floats: `start + i·delta`, delta = (start + step) − start. */
export function arangeLike(start: number, stop: number, step: number): Float64Array {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * delta;
  return out;
}

/** The reference sweep rates: numpy `arange(min, max + 0.001, 0.001)` (0.001…0.300 → 300 rates). */
export function sweepRates(min = 0.001, max = 0.3, step = 0.001): Float64Array {
  return arangeLike(min, max + step, step);
}

/** First index in ascending `arr[lo, hi)` whose value is > x. */
function upperBound(arr: Float64Array, x: number, lo = 0, hi = arr.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** numpy `_lerp`: the `t >= 0.5` branch interpolates from b so q = 1 lands exactly on b. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Linear quantile of an ascending-sorted array (numpy `method='linear'`). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile of an empty array');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile q must be in [0, 1], got ${q}`);
  const vi = (n - 1) * q;
  if (vi >= n - 1) return sorted[n - 1];
  const lo = Math.floor(vi);
  return lerp(sorted[lo], sorted[lo + 1], vi - lo);
}

function sortedCopy(values: ArrayLike<number>, what = 'scores'): Float64Array {
  const s = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i])) throw new Error(`${what} contain a non-finite value (${s[i]}) at index ${i}`);
  }
  return s.sort();
}

/** numpy `quantile(values, q)` with linear interpolation. */
export function quantileLinear(values: ArrayLike<number>, q: number): number {
  return quantileSorted(sortedCopy(values, 'values'), q);
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`anomaly_rate must be in [0, 1], got ${rate}`);
}

/** Threshold for an anomaly rate: `quantile(scores, 1 − rate)`; predicted = score > threshold. */
export function thresholdAtRate(scores: ArrayLike<number>, rate: number): number {
  checkRate(rate);
  return quantileLinear(scores, 1 - rate);
}

/** Labelled intervals as half-open [start, end) index pairs (runs of non-zero labels). */
export function labelIntervals(labels: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i < labels.length; i++) {
    const on = labels[i] !== 0;
    if (on && start < 0) start = i;
    else if (!on && start >= 0) {
      out.push([start, i]);
      start = -1;
    }
  }
  if (start >= 0) out.push([start, labels.length]);
  return out;
}

/** Point adjustment: every labelled interval containing a predicted point becomes fully predicted. */
export function pointAdjust(pred: ArrayLike<number>, labels: ArrayLike<number>): Uint8Array {
  if (pred.length !== labels.length)
    throw new Error(`pointAdjust: predictions (${pred.length}) and labels (${labels.length}) differ in length`);
  const out = new Uint8Array(pred.length);
  for (let i = 0; i < pred.length; i++) out[i] = pred[i] ? 1 : 0;
  for (const [s, e] of labelIntervals(labels)) {
    let hit = false;
    for (let i = s; i < e && !hit; i++) hit = out[i] === 1;
    if (hit) out.fill(1, s, e);
  }
  return out;
}

/** precision / recall / F1 / ESS from counts; division by zero → 0. */
export function metricRow(rate: number, tp: number, fp: number, fn: number): MetricRow {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { anomaly_rate: rate, precision, recall, f1, ess_score: (precision + recall) / 2 };
}

/** Rates from a numpy arange carry float noise (0.022000000000000002); report them cleanly. */
function cleanRate(rate: number): number {
  return roundSignificant(rate, 12);
}

/**
 * Scores and labels prepared once for many evaluations (rates, sweeps, PA%K).
 * Memory: about 3 float64 copies of the scores.
 */
export class MetricEvaluator {
  readonly length: number;
  readonly positives: number;
  readonly intervals: Array<[number, number]>;
  /** all scores, ascending */
  private readonly sorted: Float64Array;
  /** scores of labelled points, ascending */
  private readonly sortedPos: Float64Array;
  /** per-interval maxima, ascending, with the suffix sums of the matching interval lengths */
  private readonly sortedMax: Float64Array;
  private readonly suffixLen: Float64Array;
  /** each interval's scores sorted ascending, concatenated in interval order */
  private readonly intervalSorted: Float64Array;

  constructor(scores: ArrayLike<number>, labels: ArrayLike<number>) {
    if (scores.length !== labels.length) {
      throw new Error(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
    }
    if (scores.length === 0) throw new Error('scores are empty');
    assertBinaryLabels(labels);
    this.length = scores.length;
    this.sorted = sortedCopy(scores);
    this.intervals = labelIntervals(labels);
    let positives = 0;
    for (const [s, e] of this.intervals) positives += e - s;
    this.positives = positives;
    const seg = new Float64Array(positives);
    const maxima = new Float64Array(this.intervals.length);
    let o = 0;
    this.intervals.forEach(([s, e], j) => {
      let m = -Infinity;
      for (let i = s; i < e; i++) {
        seg[o + i - s] = scores[i];
        if (scores[i] > m) m = scores[i];
      }
      seg.subarray(o, o + e - s).sort();
      maxima[j] = m;
      o += e - s;
    });
    this.intervalSorted = seg;
    this.sortedPos = Float64Array.from(seg).sort();
    const order = Array.from(maxima.keys()).sort((a, b) => maxima[a] - maxima[b]);
    this.sortedMax = Float64Array.from(order, (j) => maxima[j]);
    this.suffixLen = new Float64Array(order.length + 1);
    for (let r = order.length - 1; r >= 0; r--) {
      const [s, e] = this.intervals[order[r]];
      this.suffixLen[r] = this.suffixLen[r + 1] + (e - s);
    }
  }

  thresholdAtRate(rate: number): number {
    checkRate(rate);
    return quantileSorted(this.sorted, 1 - rate);
  }

  /** Confusion counts at a threshold (predicted = score > threshold), with or without PA. */
  confusionAt(threshold: number, pointAdjust = false): Confusion {
    const predicted = this.length - upperBound(this.sorted, threshold);
    const tpRaw = this.positives - upperBound(this.sortedPos, threshold);
    const fp = predicted - tpRaw;
    const tp = pointAdjust ? this.suffixLen[upperBound(this.sortedMax, threshold)] : tpRaw;
    const fn = this.positives - tp;
    return { threshold, tp, fp, fn, tn: this.length - tp - fp - fn };
  }

  atRate(rate: number, pointAdjust = false): MetricRow {
    const c = this.confusionAt(this.thresholdAtRate(rate), pointAdjust);
    return metricRow(rate, c.tp, c.fp, c.fn);
  }

  /** Best F1 over the rates (first strictly higher F1 wins; starts below 0 so a row is always real). */
  sweep(opts: SweepOptions = {}): MetricRow {
    const rates = opts.rates ?? sweepRates();
    if (rates.length === 0) throw new Error('sweep: no rates given');
    let best: MetricRow | null = null;
    for (let i = 0; i < rates.length; i++) {
      const row = this.atRate(rates[i], opts.pointAdjust ?? false);
      if (best === null || row.f1 > best.f1) best = row;
    }
    const b = best as MetricRow;
    return { ...b, anomaly_rate: cleanRate(b.anomaly_rate) };
  }

  /**
   * PA%K counts for one threshold: TP for each K. An interval with c of its len points predicted is
   * adjusted (all points count) when c > 0 and c ≥ K% of len; otherwise its c points count as they are.
   * K = 0 is therefore plain PA and K = 100 no adjustment.
   */
  private paKTp(threshold: number, ks: Float64Array): { tp: Float64Array; fp: number } {
    const predicted = this.length - upperBound(this.sorted, threshold);
    const tpRaw = this.positives - upperBound(this.sortedPos, threshold);
    // gain[j] = points added by adjusting intervals whose largest admissible K index is j
    const gain = new Float64Array(ks.length + 1);
    let o = 0;
    for (const [s, e] of this.intervals) {
      const len = e - s;
      const c = len - (upperBound(this.intervalSorted, threshold, o, o + len) - o);
      o += len;
      if (c === 0 || c === len) continue;
      // last j with ks[j]·len ≤ 100·c (ks ascending); exact in integers for integer K
      let lo = 0;
      let hi = ks.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ks[mid] * len <= 100 * c) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) gain[lo - 1] += len - c;
    }
    const tp = new Float64Array(ks.length);
    let acc = 0;
    for (let j = ks.length - 1; j >= 0; j--) {
      acc += gain[j];
      tp[j] = tpRaw + acc;
    }
    return { tp, fp: predicted - tpRaw };
  }

  /** PA%K curve at one anomaly rate. */
  paKCurve(rate: number, ks: ArrayLike<number> = defaultKs()): PaKCurve {
    const k = checkKs(ks);
    const { tp, fp } = this.paKTp(this.thresholdAtRate(rate), k);
    const rows = Array.from(tp, (t) => metricRow(rate, t, fp, this.positives - t));
    return curveFrom(k, rows);
  }

  /** PA%K curve with, for each K, the best F1 over the rate sweep (first strictly higher wins). */
  paKCurveSweep(opts: { rates?: ArrayLike<number>; ks?: ArrayLike<number> } = {}): PaKCurve {
    const k = checkKs(opts.ks ?? defaultKs());
    const rates = opts.rates ?? sweepRates();
    const best: Array<MetricRow | null> = new Array(k.length).fill(null);
    for (let r = 0; r < rates.length; r++) {
      const { tp, fp } = this.paKTp(this.thresholdAtRate(rates[r]), k);
      for (let j = 0; j < k.length; j++) {
        const row = metricRow(rates[r], tp[j], fp, this.positives - tp[j]);
        const b = best[j];
        if (b === null || row.f1 > b.f1) best[j] = row;
      }
    }
    return curveFrom(
      k,
      best.map((b) => ({ ...(b as MetricRow), anomaly_rate: cleanRate((b as MetricRow).anomaly_rate) })),
    );
  }
}

function defaultKs(): number[] {
  return Array.from({ length: 101 }, (_, i) => i);
}

function checkKs(ks: ArrayLike<number>): Float64Array {
  const k = Float64Array.from(ks as ArrayLike<number>);
  if (k.length === 0) throw new Error('point_adjust_k: no K values given');
  for (let j = 0; j < k.length; j++) {
    if (!(k[j] >= 0 && k[j] <= 100)) throw new Error(`point_adjust_k: K must be within 0…100, got ${k[j]}`);
    if (j > 0 && !(k[j] > k[j - 1])) throw new Error('point_adjust_k: K values must be strictly increasing');
  }
  return k;
}

function curveFrom(k: Float64Array, rows: MetricRow[]): PaKCurve {
  let auc = 0;
  for (let j = 1; j < k.length; j++) auc += ((k[j] - k[j - 1]) / 100) * ((rows[j].f1 + rows[j - 1].f1) / 2);
  return {
    k: Array.from(k),
    f1: rows.map((r) => r.f1),
    precision: rows.map((r) => r.precision),
    recall: rows.map((r) => r.recall),
    anomaly_rate: rows.map((r) => r.anomaly_rate),
    auc,
  };
}

/** Prepare scores and labels for repeated evaluation (sort once). */
export function prepareMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>): MetricEvaluator {
  return new MetricEvaluator(scores, labels);
}

/** Metrics at one anomaly rate. */
export function scoreAtRate(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  rate: number,
  opts: { pointAdjust?: boolean } = {},
): MetricRow {
  return new MetricEvaluator(scores, labels).atRate(rate, opts.pointAdjust ?? false);
}

/** Best F1 over the rate sweep (default 0.001…0.300). */
export function sweepBestF1(scores: ArrayLike<number>, labels: ArrayLike<number>, opts: SweepOptions = {}): MetricRow {
  return new MetricEvaluator(scores, labels).sweep(opts);
}

/** PA%K curve at one rate; K in percent, default 0…100. */
export function paKCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, rate: number, ks?: ArrayLike<number>): PaKCurve {
  return new MetricEvaluator(scores, labels).paKCurve(rate, ks);
}

/**
 * Exponentially weighted moving average as in the reference `ewma`: y[0] = x[0],
 * y[i] = y[i−1]·w + x[i]·(1 − w). Float32 input is smoothed in float32 arithmetic (numpy does the
 * same on the float32 score arrays the estimator produces); Float64Array input stays float64.
 */
export function ewmaSmooth(scores: Float64Array, weight?: number): Float64Array;
export function ewmaSmooth(scores: ArrayLike<number>, weight?: number): Float32Array;
export function ewmaSmooth(scores: ArrayLike<number>, weight = 0.9): Float32Array | Float64Array {
  if (!(weight >= 0 && weight <= 1)) throw new Error(`smoothing_weight must be in [0, 1], got ${weight}`);
  if (scores instanceof Float64Array) {
    const out = new Float64Array(scores.length);
    const cur = 1 - weight;
    if (out.length > 0) out[0] = scores[0];
    for (let i = 1; i < out.length; i++) out[i] = out[i - 1] * weight + scores[i] * cur;
    return out;
  }
  const f = Math.fround;
  const out = new Float32Array(scores.length);
  const w = f(weight);
  const cur = f(1 - weight);
  if (out.length > 0) out[0] = scores[0];
  for (let i = 1; i < out.length; i++) out[i] = f(f(out[i - 1] * w) + f(f(scores[i]) * cur));
  return out;
}

export interface RandomBaselineOptions {
  seed?: number;
  pointAdjust?: boolean;
  /** Average the metrics over this many independent random score draws (default 1). */
  trials?: number;
  /** Rates for the sweep when `rate` is null. */
  rates?: ArrayLike<number>;
}

/**
 * What uniformly random scores achieve on the same labels — point adjustment inflates scores on
 * long intervals, and this number shows by how much. `rate` null → best of the sweep per draw.
 * With several trials the rows are averaged (anomaly_rate too, for a sweep).
 */
export function randomScoresBaseline(labels: ArrayLike<number>, rate: number | null, opts: RandomBaselineOptions = {}): MetricRow {
  const run = randomTrials(labels, rate, opts);
  while (run.done < run.total) run.next();
  return run.row();
}

/**
 * The trials of `randomScoresBaseline` one at a time, for callers that report progress or stop
 * early (the sync function and the async one share it, so their numbers are identical).
 */
function randomTrials(
  labels: ArrayLike<number>,
  rate: number | null,
  opts: RandomBaselineOptions,
): { total: number; done: number; next(): void; row(): MetricRow } {
  const trials = opts.trials ?? 1;
  if (!(Number.isInteger(trials) && trials >= 1)) throw new Error(`random baseline trials must be a positive integer, got ${trials}`);
  const rng = createRng(opts.seed ?? 0);
  const acc: MetricRow = { anomaly_rate: 0, precision: 0, recall: 0, f1: 0, ess_score: 0 };
  const scores = new Float64Array(labels.length);
  const state = {
    total: trials,
    done: 0,
    next(): void {
      for (let i = 0; i < scores.length; i++) scores[i] = rng.uniform();
      const ev = new MetricEvaluator(scores, labels);
      const row =
        rate === null ? ev.sweep({ pointAdjust: opts.pointAdjust ?? true, rates: opts.rates }) : ev.atRate(rate, opts.pointAdjust ?? true);
      acc.anomaly_rate += row.anomaly_rate / trials;
      acc.precision += row.precision / trials;
      acc.recall += row.recall / trials;
      acc.f1 += row.f1 / trials;
      acc.ess_score += row.ess_score / trials;
      state.done++;
    },
    row(): MetricRow {
      // Stopped early: the sums were divided by the planned count; rescale to the trials done.
      const k = state.done === trials ? 1 : trials / Math.max(state.done, 1);
      const out: MetricRow = {
        anomaly_rate: acc.anomaly_rate * k,
        precision: acc.precision * k,
        recall: acc.recall * k,
        f1: acc.f1 * k,
        ess_score: acc.ess_score * k,
      };
      if (trials === 1 || rate !== null) out.anomaly_rate = rate ?? cleanRate(out.anomaly_rate);
      return out;
    },
  };
  return state;
}

export interface RandomBaselineProgressOptions extends RandomBaselineOptions {
  /** Called about every `progressMs` (default 1000) with trials done and planned. */
  onProgress?: (done: number, total: number) => void;
  progressMs?: number;
  /**
   * Checked between trials; true stops early (the row averages the trials done). The first trial
   * always runs: a baseline averaged over no draw would read as zeros, not as "unknown".
   */
  shouldStop?: () => boolean;
}

/**
 * `randomScoresBaseline` for many trials: yields to the event loop between trials (so Ctrl-C and
 * progress output get through), reports progress and can stop early. Same numbers as the sync
 * function when it runs to the end. Returns the row and the number of trials done.
 */
export async function randomScoresBaselineAsync(
  labels: ArrayLike<number>,
  rate: number | null,
  opts: RandomBaselineProgressOptions = {},
): Promise<{ row: MetricRow; trials: number }> {
  const run = randomTrials(labels, rate, opts);
  const every = opts.progressMs ?? 1000;
  let lastYield = Date.now();
  let lastProgress = lastYield;
  while (run.done < run.total && (run.done === 0 || !(opts.shouldStop?.() ?? false))) {
    run.next();
    const now = Date.now();
    if (now - lastYield > 50) {
      await new Promise((r) => setTimeout(r, 0));
      lastYield = Date.now();
    }
    if (opts.onProgress && now - lastProgress >= every) {
      opts.onProgress(run.done, run.total);
      lastProgress = now;
    }
  }
  return { row: run.row(), trials: run.done };
}
