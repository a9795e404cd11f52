/**
 * Re-thresholding a decoded bundle in the browser: the viewer's controls (rate, percentile or a fixed
 * threshold value, EWMA,
 * point adjustment, merge gap) → threshold, anomalous points, merged intervals, metrics. All the
 * numerics are kernel-lib's browser metrics and interval code; this module only wires them to the
 * bundle's coordinates, and caches what does not change between slider moves (the smoothed scores,
 * their sorted copy, the prepared metric evaluator) so a new rate costs O(n) for the flags, not a sort.
 */
import {
  MetricEvaluator,
  ewmaSmooth,
  labelIntervals,
  metricRow,
  pointAdjust as pointAdjustPred,
  quantileSorted,
  type MetricRow,
} from '../metrics';
import { intervalsFromFlags, mergeIntervals } from '../intervals';
import { thresholdMaxGapSamples, type DecodedBundle, type IntervalRow } from './types';
import { THRESHOLD_MODES, THRESHOLD_MODE_INFO, completeThresholdRule, isThresholdMode, type ThresholdRule } from './threshold';

/** The viewer's controls: the threshold rule (its mode and parameters, threshold.ts) and the rest. */
export interface DetectionSettings extends ThresholdRule {
  /** EWMA weight in [0, 1); 0 = off. */
  ewma: number;
  pointAdjust: boolean;
  /** merge detected intervals at most this many samples apart. */
  maxGapSamples: number;
}

export interface DetectedInterval extends IntervalRow {
  startIndex: number;
  endIndex: number;
  /** highest score inside the interval. */
  peakScore: number;
  /** overlaps a labelled interval (when labels exist). */
  labelled?: boolean;
  /** where fault/confidence came from: the producer's interval with identical bounds, or an overlapping one. */
  classifiedBy?: 'exact' | 'overlap';
}

export interface DetectionResult {
  settings: DetectionSettings;
  /** effective anomaly rate (1 − percentile/100 in percentile mode; the fraction of scores above the threshold in value mode). */
  rate: number;
  threshold: number;
  /** scores after EWMA (the input scores when EWMA is off). */
  scores: Float32Array;
  /** 0/1 per score: score > threshold (point-adjusted when PA is on and labels exist). */
  flags: Uint8Array;
  anomalousCount: number;
  intervals: DetectedInterval[];
  /** ground-truth intervals in x units with index bounds. */
  labelled: DetectedInterval[];
  metrics: { without_pa: MetricRow; with_pa: MetricRow } | null;
}

/** Initial settings from the bundle's threshold block (and the user's default rate). */
export function initialDetectionSettings(d: DecodedBundle, defaultRate = 0.01): DetectionSettings {
  const t = d.bundle.threshold;
  return {
    ...completeThresholdRule(t, { rate: defaultRate }),
    ewma: t?.ewma ?? 0,
    pointAdjust: t?.pointAdjust ?? true,
    maxGapSamples: thresholdMaxGapSamples(t),
  };
}

/** Metrics at a threshold already found (score > threshold), reported with its anomaly rate. */
function metricsAt(ev: MetricEvaluator, threshold: number, rate: number, pointAdjust: boolean): MetricRow {
  const c = ev.confusionAt(threshold, pointAdjust);
  return metricRow(rate, c.tp, c.fp, c.fn);
}

/** Index of the first x ≥ value (numpy searchsorted, side 'left'); x ascending. */
export function searchSorted(x: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedFloat64(values: ArrayLike<number>): Float64Array {
  const s = Float64Array.from(values);
  s.sort();
  return s;
}

/**
 * Validate control values; returns the effective anomaly rate, or NaN in mode 'value' (there the
 * rate is only known after thresholding). Throws naming the control.
 */
export function checkDetectionSettings(settings: DetectionSettings): number {
  if (!isThresholdMode(settings.mode)) {
    throw new Error(
      `threshold mode must be ${THRESHOLD_MODES.map((m) => `'${m}'`)
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1')}, got '${String(settings.mode)}'`,
    );
  }
  const info = THRESHOLD_MODE_INFO[settings.mode];
  const problem = info.check(settings);
  if (problem) throw new Error(problem);
  const rate = info.rate(settings);
  if (!(settings.ewma >= 0 && settings.ewma < 1)) throw new Error(`EWMA weight must be in [0, 1), got ${settings.ewma}`);
  if (!(settings.maxGapSamples >= 0)) throw new Error(`max merge gap must be ≥ 0 samples, got ${settings.maxGapSamples}`);
  return rate;
}

/**
 * Stateful detector over one decoded bundle. `run(settings)` is cheap to call on every control
 * change; the expensive parts are cached per EWMA weight.
 */
export class BundleDetector {
  readonly decoded: DecodedBundle;
  private cacheEwma = -1;
  private smoothed: Float32Array | null = null;
  private sorted: Float64Array | null = null;
  private evaluator: MetricEvaluator | null = null;
  private readonly producerIntervals: IntervalRow[];

  constructor(decoded: DecodedBundle) {
    this.decoded = decoded;
    this.producerIntervals = decoded.bundle.intervals ?? [];
  }

  get hasScores(): boolean {
    return this.decoded.scores !== null && this.decoded.scores.length > 0;
  }

  private prepare(ewma: number): void {
    if (ewma === this.cacheEwma && this.smoothed) return;
    const raw = this.decoded.scores as Float32Array;
    this.smoothed = ewma > 0 ? ewmaSmooth(raw, ewma) : raw;
    this.sorted = sortedFloat64(this.smoothed);
    this.evaluator = this.decoded.labels ? new MetricEvaluator(this.smoothed, this.decoded.labels) : null;
    this.cacheEwma = ewma;
  }

  run(settings: DetectionSettings): DetectionResult {
    if (!this.hasScores) throw new Error('this bundle has no scores to threshold');
    const d = this.decoded;
    const requestedRate = checkDetectionSettings(settings);
    this.prepare(settings.ewma);
    const scores = this.smoothed as Float32Array;
    // numpy quantile(scores, 1 − rate), linear — the same function the kernel uses — for the modes that ask for it
    const ev = this.evaluator;
    const sorted = this.sorted as Float64Array;
    const threshold = THRESHOLD_MODE_INFO[settings.mode].threshold(
      settings,
      (r) => (ev ? ev.thresholdAtRate(r) : quantileSorted(sorted, 1 - r)),
      scores,
    );
    let flags = new Uint8Array(scores.length);
    let count = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] > threshold) {
        flags[i] = 1;
        count++;
      }
    }
    // a rule without a rate of its own (a fixed value) has the rate it flags (before point adjustment, like the rate it replaces)
    const rate = Number.isFinite(requestedRate) ? requestedRate : count / scores.length;
    if (settings.pointAdjust && d.labels) flags = pointAdjustPred(flags, d.labels);
    const intervals = this.intervalsOf(flags, settings.maxGapSamples, scores);
    const labelled = this.labelledIntervals();
    if (labelled.length > 0) {
      for (const iv of intervals) iv.labelled = labelled.some((l) => l.startIndex < iv.endIndex && iv.startIndex < l.endIndex);
    }
    const metrics = ev ? { without_pa: metricsAt(ev, threshold, rate, false), with_pa: metricsAt(ev, threshold, rate, true) } : null;
    return { settings: { ...settings }, rate, threshold, scores, flags, anomalousCount: count, intervals, labelled, metrics };
  }

  /** Ground truth: the bundle's labelled intervals, else runs of labels. */
  labelledIntervals(): DetectedInterval[] {
    const d = this.decoded;
    if (d.bundle.labelledIntervals) {
      return d.bundle.labelledIntervals.map((r) => ({
        ...r,
        startIndex: r.startIndex ?? searchSorted(d.x, r.start),
        endIndex: r.endIndex ?? Math.max(searchSorted(d.x, r.end), searchSorted(d.x, r.start) + 1),
        peakScore: NaN,
      }));
    }
    if (!d.labels || !d.scoreX || !d.scoreXEnd) return [];
    const pointDt = d.bundle.scores?.alignment === 'window' ? 0 : d.x.length > 1 ? d.x[1] - d.x[0] : 1;
    return labelIntervals(d.labels).map(([s, e]) => ({
      start: d.scoreX![s],
      end: d.scoreXEnd![e - 1] + pointDt,
      startIndex: s,
      endIndex: e,
      peakScore: NaN,
    }));
  }

  private intervalsOf(flags: Uint8Array, gapSamples: number, scores: Float32Array): DetectedInterval[] {
    const d = this.decoded;
    const sx = d.scoreX as Float64Array;
    const sxe = d.scoreXEnd as Float64Array;
    const x = d.x;
    const sampleTime = x.length > 1 ? x[1] - x[0] : 1;
    let pairs: Array<[number, number]>;
    if (d.bundle.scores?.alignment === 'window') {
      // Power seed: each flagged window is (Time[i], Time[i+w−1]); merge when start ≤ end + gap·dt.
      pairs = mergeIntervals(intervalsFromFlags(flags, sx, sxe), gapSamples, sampleTime);
    } else {
      // Runs of flagged points; a point covers one sample time, so a run [s, e) spans
      // x[s] … x[e−1] + dt (a single anomalous point lasts dt, not 0), and two runs separated by
      // k unflagged points merge exactly when k ≤ the merge gap.
      const runs = labelIntervals(flags).map(([s, e]) => [sx[s], sx[e - 1] + sampleTime] as [number, number]);
      pairs = mergeIntervals(runs, gapSamples, sampleTime);
    }
    const pointAligned = d.bundle.scores?.alignment !== 'window';
    const rows: DetectedInterval[] = pairs.map(([start, end]) => {
      const startIndex = searchSorted(x, start);
      let endIndex: number;
      if (pointAligned) {
        // end = x[last] + dt: the rows before it (half a sample of slack for float time axes)
        endIndex = searchSorted(x, end - 0.5 * sampleTime);
      } else {
        // end = x of the last covered row: that row, plus one (half-open)
        endIndex = searchSorted(x, end);
        if (endIndex < x.length && x[endIndex] === end) endIndex++;
      }
      endIndex = Math.max(endIndex, startIndex + 1);
      // peak over the scores whose x (point, or window start) lies in the interval
      const s0 = searchSorted(sx, start);
      const s1 = pointAligned ? Math.min(scores.length, endIndex) : Math.min(scores.length, Math.max(searchSorted(sx, end) + 1, s0 + 1));
      let peak = -Infinity;
      for (let i = s0; i < s1; i++) if (scores[i] > peak) peak = scores[i];
      return { start, end, startIndex, endIndex, peakScore: peak };
    });
    this.attachClasses(rows);
    return rows;
  }

  /** Fault classes exist only for the producer's intervals (the classifier ran in the kernel). */
  private attachClasses(rows: DetectedInterval[]): void {
    if (this.producerIntervals.length === 0) return;
    for (const row of rows) {
      let best: IntervalRow | null = null;
      let bestOverlap = 0;
      for (const p of this.producerIntervals) {
        const overlap = Math.min(row.end, p.end) - Math.max(row.start, p.start);
        if (overlap > bestOverlap || (overlap === 0 && bestOverlap === 0 && best === null && row.start <= p.end && p.start <= row.end)) {
          best = p;
          bestOverlap = overlap;
        }
      }
      if (!best) continue;
      const exact = Math.abs(best.start - row.start) < 1e-12 && Math.abs(best.end - row.end) < 1e-12;
      row.classifiedBy = exact ? 'exact' : 'overlap';
      if (best.fault !== undefined) row.fault = best.fault;
      if (best.confidence !== undefined) row.confidence = best.confidence;
      if (best.probabilities) row.probabilities = best.probabilities;
      if (exact && best.features) row.features = best.features;
    }
  }
}

export interface DetectionSummary {
  total: number;
  faultTypes: number;
  /** count per fault class (unclassified intervals under "unclassified"). */
  faultCounts: Record<string, number>;
  /** mean interval duration in x units (seconds / ms / samples). */
  meanDuration: number;
  anomalousPoints: number;
}

export function summarizeDetection(r: DetectionResult): DetectionSummary {
  const faultCounts: Record<string, number> = {};
  let dur = 0;
  for (const iv of r.intervals) {
    const f = iv.fault ?? 'unclassified';
    faultCounts[f] = (faultCounts[f] ?? 0) + 1;
    dur += iv.end - iv.start;
  }
  const faultTypes = Object.keys(faultCounts).filter((k) => k !== 'unclassified').length;
  return {
    total: r.intervals.length,
    faultTypes,
    faultCounts,
    meanDuration: r.intervals.length ? dur / r.intervals.length : 0,
    anomalousPoints: r.anomalousCount,
  };
}
