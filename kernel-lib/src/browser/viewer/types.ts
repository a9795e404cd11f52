/**
 * The anomaly viewer's data contract, version 1 (MIME `application/vnd.anomaly-lab.viewer.v1+json`).
 *
 * One bundle = one detector run to look at. Producers (kernel-lib display helpers, the report
 * generator, the CLI) build it with the functions in `builders.ts`; the JupyterLab extension renders
 * it. The JSON Schema is `schema/viewer.v1.schema.json` (generated from `schema.ts`).
 *
 * Coordinates. The viewer's x axis is the series' time axis when there is one (`axis.unit` says
 * what a number means: epoch milliseconds, seconds, or plain sample index). Every interval in the
 * bundle carries both the x-axis bounds (`start`, `end`, what is drawn and exported) and, when the
 * producer knows them, the sample-index bounds (`startIndex`, `endIndex`, half-open).
 *
 * Scores. `scores.values[i]` is aligned either to series row i (`alignment: 'point'`, AnomalyBERT)
 * or to a window of `windowSize` rows starting at row i (`alignment: 'window'`, the power-system
 * LSTM autoencoder's reconstruction MSE). Labels, when present, are aligned with the scores (one
 * 0/1 per score), because that is what the metrics are computed on.
 *
 * Large arrays travel as little-endian typed-array bytes in base64 (`EncodedArray`); small ones may
 * be plain number lists. Kept within TypeScript 5.0 (tslab type-checks with it).
 */
import type { ThresholdMode, ThresholdRule } from './threshold';

export const VIEWER_MIME = 'application/vnd.anomaly-lab.viewer.v1+json';
export const VIEWER_BUNDLE_VERSION = 1;
/** File suffix of saved viewer bundles; the extension opens them as documents. */
export const VIEWER_FILE_SUFFIX = '.anomaly.json';

export type EncodedDtype = 'float32' | 'float64' | 'int32' | 'uint8';

/** A typed array as base64 of its little-endian bytes. `shape` is row-major. */
export interface EncodedArray {
  dtype: EncodedDtype;
  shape: number[];
  encoding: 'base64';
  data: string;
}

/** Either a compact encoded array or, for small arrays, a plain list of numbers. */
export type ArrayField = EncodedArray | number[];

export type AxisUnit = 'epoch_ms' | 'seconds' | 'index';

/** How a sample index maps to the x axis. `time` (explicit, one per row) wins over start + i·step. */
export interface AxisSpec {
  unit: AxisUnit;
  /** x value of row 0 when there is no explicit `time`. */
  start?: number;
  /** x distance between consecutive rows (the sample time) when there is no explicit `time`. */
  step?: number;
  /** explicit x value per row, float64, length = series length. */
  time?: ArrayField;
  /** human label of the axis, e.g. "Time (s)". */
  label?: string;
}

export interface SeriesSpec {
  columns: string[];
  length: number;
  /** float32 row-major (length, columns.length). */
  values: ArrayField;
  /** optional per-column unit, e.g. "V", "A". */
  units?: string[];
}

export type ScoreKind = 'anomaly_score' | 'reconstruction_error';
export type ScoreAlignment = 'point' | 'window';

export interface ScoresSpec {
  kind: ScoreKind;
  /** display name, e.g. "AnomalyBERT score" or "Reconstruction MSE". */
  name?: string;
  alignment: ScoreAlignment;
  /** rows covered by one score when alignment is 'window' (score i covers rows i … i+windowSize−1). */
  windowSize?: number;
  /** float32, one per point or window. */
  values: ArrayField;
}

export type { ThresholdMode };

/**
 * How the producer thresholded; the viewer starts from these and lets the user change them.
 * rate r and percentile p are the same rule seen two ways: threshold = quantile(scores, 1 − r)
 * = percentile(scores, p) with p = 100·(1 − r); a score is anomalous when it is strictly above.
 * Mode 'value' is a fixed threshold (e.g. `power detect --threshold 0.02`): threshold = `value`,
 * and the anomaly rate is whatever fraction of the scores lies above it.
 */
export interface ThresholdSpec extends Partial<Omit<ThresholdRule, 'mode'>> {
  /**
   * the rule (threshold.ts): `rate` in (0, 1) for mode 'rate', `percentile` in (0, 100) for
   * 'percentile', `value` required and used as is in mode 'value' (a finite number) — in the other
   * modes `value` is the threshold the producer found, for display (recomputed in the browser).
   */
  mode: ThresholdMode;
  /** EWMA smoothing weight in [0, 1); 0 or absent = no smoothing. */
  ewma?: number;
  /** point adjustment for metrics. */
  pointAdjust: boolean;
  /**
   * merge predicted intervals whose gap is at most this many samples (the power detection's
   * `max_gap_samples`). A bundle carries this or, if written before the name was settled,
   * `mergeGapSamples`: read both with `thresholdMaxGapSamples`.
   */
  maxGapSamples?: number;
  /** @deprecated the earlier name of `maxGapSamples` (still read, never written). */
  mergeGapSamples?: number;
}

/** A threshold block's merge gap in samples: `maxGapSamples`, else its earlier name `mergeGapSamples`, else 0. */
export function thresholdMaxGapSamples(t: Pick<ThresholdSpec, 'maxGapSamples' | 'mergeGapSamples'> | undefined): number {
  return t?.maxGapSamples ?? t?.mergeGapSamples ?? 0;
}

/** One detected (or labelled) interval. */
export interface IntervalRow {
  /**
   * x-axis bounds (axis units). Window-aligned scores (power): `end` is the x of the last row of
   * the last window (the seed's (Time[i], Time[i+w−1])). Point-aligned scores: a point lasts one
   * sample time, so the run of rows [s, e) is [x[s], x[e−1] + step] — what the viewer computes.
   */
  start: number;
  end: number;
  /** sample-index bounds, half-open [startIndex, endIndex). */
  startIndex?: number;
  endIndex?: number;
  /** fault class, e.g. "LLG" (power) — text, never HTML. */
  fault?: string;
  /** classifier confidence in [0, 1]. */
  confidence?: number;
  /** class → probability. */
  probabilities?: Record<string, number>;
  /** named features of the interval (power: the 46 classifier inputs). */
  features?: Record<string, number>;
}

export interface FeatureImportanceSpec {
  names: string[];
  values: number[];
}

/** Same fields as kernel-lib's browser `MetricRow`. */
export interface ViewerMetricRow {
  anomaly_rate: number;
  precision: number;
  recall: number;
  f1: number;
  ess_score: number;
}

export interface ViewerMetrics {
  without_pa?: ViewerMetricRow;
  with_pa?: ViewerMetricRow;
  random_with_pa?: ViewerMetricRow;
  /** best F1 over the rate sweep, when the producer computed it. */
  best_without_pa?: ViewerMetricRow;
  best_with_pa?: ViewerMetricRow;
}

/** One row of a training run's history.json. */
export interface HistoryRow {
  step: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  elapsed_s?: number;
  test?: {
    without_pa?: ViewerMetricRow;
    with_pa?: ViewerMetricRow;
    random_with_pa?: ViewerMetricRow;
  };
}

export interface TrainingSpec {
  history: HistoryRow[];
  /** false while training is still running (the monitor says "live"). */
  finished?: boolean;
  /** total steps planned, for the progress label. */
  maxSteps?: number;
}

export interface Provenance {
  /** data source(s): file names — text only. */
  source?: string;
  model?: string;
  checkpoint?: string;
  created?: string;
  tool?: string;
  backend?: string;
  notes?: string;
}

export type DetectorKind = 'anomalybert' | 'power' | 'training' | 'generic';

/** The v1 bundle as it travels (JSON). */
export interface ViewerBundle {
  mime: typeof VIEWER_MIME;
  version: 1;
  kind: DetectorKind;
  title: string;
  provenance?: Provenance;
  axis?: AxisSpec;
  series?: SeriesSpec;
  scores?: ScoresSpec;
  labels?: ArrayField;
  threshold?: ThresholdSpec;
  /** labelled anomaly intervals (ground truth), when known. */
  labelledIntervals?: IntervalRow[];
  /** the producer's predicted intervals (with fault classes when classified). */
  intervals?: IntervalRow[];
  /** class names of the fault classifier, in its order. */
  classes?: string[];
  featureImportances?: FeatureImportanceSpec;
  metrics?: ViewerMetrics;
  training?: TrainingSpec;
}

/** A bundle with every array decoded to a typed array (what the renderer works on). */
export interface DecodedBundle {
  bundle: ViewerBundle;
  /** x value per series row (length = series length), or per score when there is no series. */
  x: Float64Array;
  /** series values (length, C) row-major, or empty. */
  values: Float32Array;
  columns: string[];
  length: number;
  scores: Float32Array | null;
  /** x value of each score (the window's first row for 'window' alignment). */
  scoreX: Float64Array | null;
  /** x value of each score window's last row ('window' alignment), else equal to scoreX. */
  scoreXEnd: Float64Array | null;
  labels: Uint8Array | null;
}
