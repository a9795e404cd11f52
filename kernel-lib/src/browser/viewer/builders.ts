/**
 * Builders of viewer bundles (MIME application/vnd.anomaly-lab.viewer.v1+json). Producers hand over
 * typed arrays; the builders encode them compactly, fill defaults, validate, and return the bundle.
 * A builder never returns an invalid bundle: it throws an Error naming the offending field.
 *
 * Typical use (tslab):
 *   const bundle = anomalyBertViewerBundle({ title, series, scores, labels, rate: 0.01 });
 *   tslab.display.raw(VIEWER_MIME, viewerBundleToJSON(bundle));
 */
import { inferUnits } from './units';
import { encodeArray, type ViewerTypedArray } from './encoding';
import { parseViewerBundle } from './validate';
import { toBinaryLabels } from '../labels';
import {
  VIEWER_MIME,
  thresholdMaxGapSamples,
  type AxisSpec,
  type AxisUnit,
  type DetectorKind,
  type FeatureImportanceSpec,
  type HistoryRow,
  type IntervalRow,
  type Provenance,
  type ScoreAlignment,
  type ScoreKind,
  type ThresholdSpec,
  type TrainingSpec,
  type ViewerBundle,
  type ViewerMetricRow,
  type ViewerMetrics,
} from './types';
import { THRESHOLD_MODE_INFO, completeThresholdRule } from './threshold';

/** A series as kernel-lib's io `Series` has it (values row-major (length, C)). */
export interface ViewerSeriesInput {
  columns: string[];
  values: Float32Array | Float64Array;
  length?: number;
  /** x value per row (epoch ms from io.loadSeries, or seconds for power CSVs). */
  time?: Float64Array | ArrayLike<number>;
  units?: string[];
  /** data source (file name); goes to provenance.source when that is not given. */
  source?: string;
}

export interface ViewerScoresInput {
  /** (n) or (n, 1) scores: only the first output column is used when `outputs` > 1. */
  values: Float32Array | Float64Array | ArrayLike<number>;
  kind?: ScoreKind;
  name?: string;
  alignment?: ScoreAlignment;
  windowSize?: number;
  /** columns per row of `values` (AnomalyBERT estimateScores returns (length, out)); default 1. */
  outputs?: number;
}

export interface ViewerBundleInput {
  kind?: DetectorKind;
  title: string;
  provenance?: Provenance;
  series?: ViewerSeriesInput;
  /** axis when the series has no per-row time: unit + start + step (sample time). */
  axis?: { unit: AxisUnit; start?: number; step?: number; label?: string };
  scores?: ViewerScoresInput;
  /** 0/1 per score (ground truth), for metrics in the viewer. */
  labels?: ArrayLike<number>;
  threshold?: Partial<ThresholdSpec>;
  /** ground-truth intervals: rows, or half-open sample-index pairs [start, end). */
  labelledIntervals?: Array<IntervalRow | [number, number]>;
  /** the producer's intervals: rows, or x-axis pairs [start, end]. */
  intervals?: Array<IntervalRow | [number, number]>;
  classes?: string[];
  featureImportances?: { names: string[]; values: ArrayLike<number> };
  metrics?: ViewerMetrics;
  training?: { history: HistoryRow[]; finished?: boolean; maxSteps?: number };
}

function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** JSON has no NaN: undefined metric values (0/0) travel as null. */
function cleanMetricRow(row: ViewerMetricRow | undefined): ViewerMetricRow | undefined {
  if (!row) return undefined;
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(row)) out[k] = finiteOrNull(v as number);
  return out as unknown as ViewerMetricRow;
}

function cleanMetrics(m: ViewerMetrics | undefined): ViewerMetrics | undefined {
  if (!m) return undefined;
  const out: ViewerMetrics = {};
  for (const key of ['without_pa', 'with_pa', 'random_with_pa', 'best_without_pa', 'best_with_pa'] as const) {
    const row = cleanMetricRow(m[key]);
    if (row) out[key] = row;
  }
  return out;
}

function cleanHistory(rows: HistoryRow[]): HistoryRow[] {
  return rows.map((r, i) => {
    if (typeof r.step !== 'number' || !Number.isInteger(r.step) || r.step < 0)
      throw new Error(`training.history[${i}].step: expected a non-negative integer, got ${String(r.step)}`);
    const out: HistoryRow = { step: r.step };
    for (const k of ['loss', 'accuracy', 'lr', 'elapsed_s'] as const) {
      if (r[k] !== undefined) (out as unknown as Record<string, number | null>)[k] = finiteOrNull(r[k]);
    }
    if (r.test) {
      out.test = {};
      for (const k of ['without_pa', 'with_pa', 'random_with_pa'] as const) {
        const row = cleanMetricRow(r.test[k]);
        if (row) out.test[k] = row;
      }
    }
    return out;
  });
}

function toFloat32(values: Float32Array | Float64Array | ArrayLike<number>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

function intervalRows(
  rows: Array<IntervalRow | [number, number]> | undefined,
  pairsAreIndices: boolean,
  x: ((i: number) => number) | null,
): IntervalRow[] | undefined {
  if (!rows) return undefined;
  return rows.map((r) => {
    if (!Array.isArray(r)) {
      const row: IntervalRow = { ...r };
      if (row.confidence !== undefined && !Number.isFinite(row.confidence)) delete row.confidence;
      return row;
    }
    const [a, b] = r;
    if (pairsAreIndices) {
      // [a, b) in samples → x of row a to x of row b − 1 plus one sample time (a point lasts one
      // sample, the same convention the viewer uses for detected runs).
      const last = Math.max(a, b - 1);
      return { start: x ? x(a) : a, end: x ? x(last) + (x(1) - x(0) || 1) : last + 1, startIndex: a, endIndex: b };
    }
    return { start: a, end: b };
  });
}

/** Build, encode and validate a bundle. Throws naming the field when the input is inconsistent. */
export function buildViewerBundle(input: ViewerBundleInput): ViewerBundle {
  if (typeof input.title !== 'string') throw new Error('title: a bundle needs a title (string)');
  const bundle: ViewerBundle = { mime: VIEWER_MIME, version: 1, kind: input.kind ?? 'generic', title: input.title };

  const provenance: Provenance = { ...(input.provenance ?? {}) };
  if (provenance.source === undefined && input.series?.source) provenance.source = input.series.source;
  if (provenance.created === undefined) provenance.created = new Date().toISOString();
  bundle.provenance = provenance;

  let rowX: ((i: number) => number) | null = null;
  if (input.series) {
    const s = input.series;
    const c = s.columns.length;
    if (c === 0) throw new Error('series.columns: at least one column is required');
    const length = s.length ?? Math.floor(s.values.length / c);
    if (s.values.length !== length * c) {
      throw new Error(`series.values: ${s.values.length} values do not make ${length} rows × ${c} columns (${s.columns.join(', ')})`);
    }
    bundle.series = { columns: s.columns.map(String), length, values: encodeArray(toFloat32(s.values), [length, c]) };
    // units travel with the signals (the viewer's per-unit panels); known column names get theirs
    const units = s.units ? s.units.slice() : inferUnits(bundle.series.columns);
    if (units) bundle.series.units = units;
    if (s.time) {
      const time = s.time instanceof Float64Array ? s.time : Float64Array.from(s.time);
      if (time.length !== length) throw new Error(`series.time: ${time.length} values for ${length} rows`);
      const axis: AxisSpec = { unit: input.axis?.unit ?? 'epoch_ms', time: encodeArray(time) };
      if (input.axis?.label) axis.label = input.axis.label;
      bundle.axis = axis;
      rowX = (i) => time[Math.min(Math.max(i, 0), length - 1)];
    }
  }
  if (!bundle.axis && input.axis) {
    bundle.axis = { ...input.axis };
    const start = input.axis.start ?? 0;
    const step = input.axis.step ?? 1;
    rowX = (i) => start + i * step;
  }

  if (input.scores) {
    const sc = input.scores;
    const outputs = sc.outputs ?? 1;
    let values = toFloat32(sc.values);
    if (outputs > 1) {
      // estimateScores gives (length, out); the viewer thresholds the first output.
      const n = Math.floor(values.length / outputs);
      const first = new Float32Array(n);
      for (let i = 0; i < n; i++) first[i] = values[i * outputs];
      values = first;
    }
    const alignment = sc.alignment ?? 'point';
    bundle.scores = {
      kind: sc.kind ?? 'anomaly_score',
      alignment,
      values: encodeArray(values),
    };
    if (sc.name !== undefined) bundle.scores.name = sc.name;
    if (sc.windowSize !== undefined) bundle.scores.windowSize = sc.windowSize;
    if (input.labels !== undefined) {
      bundle.labels = encodeArray(toBinaryLabels(input.labels, { field: 'labels' }));
    }
  } else if (input.labels !== undefined) {
    throw new Error('labels: labels are aligned with scores; pass scores too');
  }

  if (input.scores || input.threshold) {
    const t = input.threshold ?? {};
    // the mode given or inferred, its parameter filled from the other view of the rule (threshold.ts)
    const rule = completeThresholdRule(t, { rate: 0.01, percentile: 95 });
    const mode = rule.mode;
    const threshold: ThresholdSpec = { mode, pointAdjust: t.pointAdjust ?? true, maxGapSamples: thresholdMaxGapSamples(t) };
    Object.assign(threshold, THRESHOLD_MODE_INFO[mode].params(rule));
    // a fixed threshold is the value alone; a missing one fails validation below, naming /threshold
    if (THRESHOLD_MODE_INFO[mode].required?.includes('value') && t.value !== undefined && !Number.isFinite(t.value)) {
      throw new Error(`threshold.value: mode '${mode}' needs a finite number, got ${t.value}`);
    }
    if (t.value !== undefined && Number.isFinite(t.value)) threshold.value = t.value;
    if (t.ewma !== undefined && t.ewma > 0) threshold.ewma = t.ewma;
    bundle.threshold = threshold;
  }

  const labelled = intervalRows(input.labelledIntervals, true, rowX);
  if (labelled) bundle.labelledIntervals = labelled;
  const intervals = intervalRows(input.intervals, false, rowX);
  if (intervals) bundle.intervals = intervals;
  if (input.classes) bundle.classes = input.classes.map(String);
  if (input.featureImportances) {
    const fi: FeatureImportanceSpec = {
      names: input.featureImportances.names.map(String),
      values: Array.from(input.featureImportances.values, Number),
    };
    bundle.featureImportances = fi;
  }
  const metrics = cleanMetrics(input.metrics);
  if (metrics) bundle.metrics = metrics;
  if (input.training) {
    const training: TrainingSpec = { history: cleanHistory(input.training.history) };
    if (input.training.finished !== undefined) training.finished = input.training.finished;
    if (input.training.maxSteps !== undefined) training.maxSteps = input.training.maxSteps;
    bundle.training = training;
  }
  // Validate what we hand out: a producer bug surfaces here, in the kernel, not as a blank widget.
  return parseViewerBundle(bundle, `viewer bundle "${input.title}"`);
}

export interface AnomalyBertViewerInput {
  title?: string;
  /** the evaluated series (io Series works as is); optional — scores alone are enough. */
  series?: ViewerSeriesInput;
  /** estimateScores output, (length) or (length, outputs). */
  scores: Float32Array | Float64Array | ArrayLike<number>;
  outputs?: number;
  labels?: ArrayLike<number>;
  /** anomaly rate for the threshold (default 0.01). */
  rate?: number;
  pointAdjust?: boolean;
  ewma?: number;
  /** merge detected intervals at most this many samples apart (default 0). */
  maxGapSamples?: number;
  /** @deprecated the earlier name of `maxGapSamples` (still read). */
  mergeGapSamples?: number;
  /** axis when the series has no time column, e.g. { unit: 'seconds', step: 1 } for 1 Hz data. */
  axis?: { unit: AxisUnit; start?: number; step?: number; label?: string };
  metrics?: ViewerMetrics;
  history?: HistoryRow[];
  provenance?: Provenance;
}

/** An AnomalyBERT estimation (scores per point, optional labels and training history). */
export function anomalyBertViewerBundle(input: AnomalyBertViewerInput): ViewerBundle {
  return buildViewerBundle({
    kind: 'anomalybert',
    title: input.title ?? 'AnomalyBERT anomaly scores',
    provenance: { model: 'AnomalyBERT', ...(input.provenance ?? {}) },
    series: input.series,
    axis: input.axis,
    scores: { values: input.scores, outputs: input.outputs, kind: 'anomaly_score', name: 'Anomaly score', alignment: 'point' },
    labels: input.labels,
    threshold: {
      mode: 'rate',
      rate: input.rate ?? 0.01,
      pointAdjust: input.pointAdjust ?? true,
      ewma: input.ewma,
      maxGapSamples: input.maxGapSamples ?? input.mergeGapSamples ?? 0,
    },
    metrics: input.metrics,
    training: input.history ? { history: input.history, finished: true } : undefined,
  });
}

export interface PowerViewerInput {
  title?: string;
  /** the Time column (seconds) and the Va..Ic columns, row-major. */
  time: Float64Array | ArrayLike<number>;
  columns: string[];
  values: Float32Array | Float64Array;
  /** reconstruction MSE per window (window i covers rows i … i+sequenceLength−1). */
  mse: Float32Array | Float64Array | ArrayLike<number>;
  sequenceLength: number;
  /** the percentile the detector was configured with (the threshold when thresholdMode is 'percentile'). */
  percentile: number;
  maxGapSamples: number;
  /** the threshold the detector used (required when thresholdMode is 'value'). */
  threshold?: number;
  /**
   * where the threshold came from: 'percentile' (default; the viewer recomputes it from `percentile`)
   * or 'value' — a fixed MSE threshold (`power detect --threshold`, `analyzePowerData({ threshold })`),
   * which the viewer then applies as is, so it opens with the intervals the detector found.
   */
  thresholdMode?: 'percentile' | 'value';
  /** merged, classified intervals in seconds. */
  intervals: Array<IntervalRow | [number, number]>;
  classes?: string[];
  featureImportances?: { names: string[]; values: ArrayLike<number> };
  labels?: ArrayLike<number>;
  provenance?: Provenance;
  units?: string[];
}

/** A power-system detection (LSTM autoencoder MSE per window + classified intervals). */
export function powerViewerBundle(input: PowerViewerInput): ViewerBundle {
  const mode = input.thresholdMode ?? 'percentile';
  if (mode !== 'percentile' && mode !== 'value') throw new Error(`thresholdMode: expected 'percentile' or 'value', got '${String(mode)}'`);
  if (mode === 'value' && !(typeof input.threshold === 'number' && Number.isFinite(input.threshold))) {
    throw new Error(`threshold: thresholdMode 'value' needs the fixed threshold as a finite number, got ${String(input.threshold)}`);
  }
  const threshold: ThresholdSpec =
    mode === 'value'
      ? { mode: 'value', value: input.threshold, pointAdjust: false, maxGapSamples: input.maxGapSamples }
      : {
          mode: 'percentile',
          percentile: input.percentile,
          value: input.threshold,
          pointAdjust: false,
          maxGapSamples: input.maxGapSamples,
        };
  return buildViewerBundle({
    kind: 'power',
    title: input.title ?? 'Power-system fault detection',
    provenance: { model: 'LSTM autoencoder + fault classifier', ...(input.provenance ?? {}) },
    series: { columns: input.columns, values: input.values, time: input.time, units: input.units },
    axis: { unit: 'seconds', label: 'Time (s)' },
    scores: {
      values: input.mse,
      kind: 'reconstruction_error',
      name: 'Reconstruction MSE',
      alignment: 'window',
      windowSize: input.sequenceLength,
    },
    labels: input.labels,
    threshold,
    intervals: input.intervals,
    classes: input.classes,
    featureImportances: input.featureImportances,
  });
}

/** A training monitor: loss, accuracy and validation metrics per summary step. Re-display to update. */
export function trainingViewerBundle(input: {
  title?: string;
  history: HistoryRow[];
  finished?: boolean;
  maxSteps?: number;
  provenance?: Provenance;
}): ViewerBundle {
  return buildViewerBundle({
    kind: 'training',
    title: input.title ?? 'Training monitor',
    provenance: input.provenance,
    training: { history: input.history, finished: input.finished, maxSteps: input.maxSteps },
  });
}

/** Serialise for display data / `*.anomaly.json` files. */
export function viewerBundleToJSON(bundle: ViewerBundle, indent?: number): string {
  return JSON.stringify(bundle, null, indent);
}

export type { ViewerTypedArray };
