/**
 * The dashboard seed's analysis pipeline: scale → overlapping windows → LSTM-autoencoder
 * reconstruction MSE → percentile threshold → raw window intervals → merged intervals →
 * features → fault class with confidence.
 *
 * Numerics follow the reference (../shared/README.md, power-system section):
 *  - the StandardScaler is applied in float64 ((x − mean) / scale), Keras receives float32;
 *  - MSE per window = mean over (L, 6) of (scaled_float64 − reconstruction_float32)², in float64
 *    (numpy promotes the float32 prediction when subtracting it from the float64 windows);
 *  - threshold = numpy percentile (linear); anomalous = MSE > threshold;
 *  - window i covers rows i … i+L−1, its interval is (Time[i], Time[i+L−1]).
 */
import { tf } from '../backend';
import { loopAbortPoint } from '../browser/abort';
import { checkMaxGapSamples, mergeIntervals } from '../browser/intervals';
import { quantileLinear } from '../browser/metrics';
import { POWER_SIGNALS, type PowerData } from './data';
import { compileRecurrentInference } from './fast-inference';
import { OnnxDetector } from './onnx';
import { resolveEngine, type EngineOptions } from '../onnx/runtime';
import { extractFeatures, featureMatrix, POWER_FEATURE_NAMES, type FeatureRow } from './features';
import { FieldError } from '../browser/errors';

import { POWER_DEFAULTS } from './options';

export { POWER_DEFAULTS };

/** What the pipeline needs of a StandardScaler (sklearn import, our JSON, or one fitted here). */
export interface PowerScaler {
  mean: ArrayLike<number>;
  scale: ArrayLike<number>;
  /** sklearn `feature_names_in_` when the scaler was fitted on a DataFrame. */
  featureNames?: string[];
}

/** What the pipeline needs of a probabilistic classifier. */
export interface PowerClassifier {
  /** Class labels in probability-column order (sklearn `classes_`). */
  classes: Array<string | number>;
  /** (nRows, nFeatures) row-major → (nRows, nClasses) row-major probabilities. */
  predictProba(X: Float64Array, nRows: number): Float64Array;
}

/** Standardise a row-major (n, nCols) matrix in float64, sklearn's `(X − mean_) / scale_`. */
export function standardize(rows: Float64Array, nCols: number, scaler: PowerScaler, what = 'scaler'): Float64Array {
  if (scaler.mean.length !== nCols || scaler.scale.length !== nCols) {
    throw new Error(`${what} has ${scaler.mean.length} features, the data has ${nCols}`);
  }
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i += nCols) {
    for (let c = 0; c < nCols; c++) out[i + c] = (rows[i + c] - scaler.mean[c]) / scaler.scale[c];
  }
  return out;
}

/** Scaled signals, row-major (length, 6) float64. */
export function scaleSignals(data: PowerData, scaler: PowerScaler, what = 'detector scaler'): Float64Array {
  const C = POWER_SIGNALS.length;
  if (scaler.mean.length !== C)
    throw new Error(`${what} has ${scaler.mean.length} features; the detector scaler must have 6 (Va, Vb, Vc, Ia, Ib, Ic)`);
  if (scaler.featureNames && scaler.featureNames.join(',') !== POWER_SIGNALS.join(',')) {
    throw new Error(`${what} was fitted on columns ${scaler.featureNames.join(',')}, expected ${POWER_SIGNALS.join(',')}`);
  }
  const n = data.length;
  const out = new Float64Array(n * C);
  for (let c = 0; c < C; c++) {
    const col = data.signals[c];
    const m = scaler.mean[c];
    const s = scaler.scale[c];
    for (let i = 0; i < n; i++) out[i * C + c] = (col[i] - m) / s;
  }
  return out;
}

/** Number of overlapping windows of length L: one per start 0 … n − L. */
export function windowCount(length: number, sequenceLength: number): number {
  return Math.max(0, length - sequenceLength + 1);
}

/** Copy windows [first, first+count) of scaled (n, C) rows into a (count, L, C) float32 block. */
function windowBlock(scaled: Float64Array, C: number, L: number, first: number, count: number): Float32Array {
  const out = new Float32Array(count * L * C);
  for (let w = 0; w < count; w++) out.set(scaled.subarray((first + w) * C, (first + w + L) * C), w * L * C);
  return out;
}

/**
 * The seed's `preprocess_data`: scaled overlapping sequences, (n_windows, L, 6) float32
 * row-major. For long recordings prefer detectAnomalies, which windows in chunks.
 */
export function preprocessData(
  data: PowerData,
  scaler: PowerScaler,
  sequenceLength: number = POWER_DEFAULTS.sequenceLength,
): { windows: Float32Array; shape: [number, number, number] } {
  const C = POWER_SIGNALS.length;
  const n = windowCount(data.length, sequenceLength);
  if (n === 0) throw new Error(`${data.source}: ${data.length} rows are fewer than the sequence length ${sequenceLength}`);
  return { windows: windowBlock(scaleSignals(data, scaler), C, sequenceLength, 0, n), shape: [n, sequenceLength, C] };
}

/** Check a detector's input shape against the data and the sequence length. */
export function checkDetectorShape(model: tf.LayersModel, sequenceLength: number, nSignals: number, where = 'detector'): void {
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 3)
    throw new Error(`${where}: expects input of shape ${JSON.stringify(shape)}; a (batch, sequence, signals) input is required`);
  const [, L, C] = shape;
  if (C !== null && C !== nSignals)
    throw new Error(`${where}: expects ${C} signals per time step, the data has ${nSignals} (${POWER_SIGNALS.join(', ')})`);
  if (L !== null && L !== sequenceLength)
    throw new FieldError(
      'sequenceLength',
      (f) => `${where}: expects windows of ${L} samples, but the sequence length is ${sequenceLength} (use ${f('sequenceLength')} ${L})`,
    );
  const out = model.outputs[0]?.shape;
  if (!out || out.length !== 3 || (out[1] !== null && out[1] !== sequenceLength) || (out[2] !== null && out[2] !== nSignals)) {
    throw new Error(`${where}: output shape ${JSON.stringify(out)} is not a reconstruction of its (${sequenceLength}, ${nSignals}) input`);
  }
}

export interface DetectOptions extends EngineOptions {
  sequenceLength?: number;
  percentile?: number;
  /** Windows per model call (memory bound: batch × L × 6 floats). Default 512. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Checked before each batch of windows: once aborted, throws an AbortedError ('reconstructionErrors', windows done). */
  signal?: AbortSignal;
  /** Use the time-major recurrent fast path when the model allows it (default true). */
  fast?: boolean;
  /**
   * A fixed MSE threshold instead of the percentile (e.g. from the detector's validation
   * errors): the seed's percentile always flags a fixed share of windows, fault or not.
   */
  threshold?: number;
}

export interface PowerDetection {
  /** One reconstruction MSE per window (n_windows) — float64 as in the seed. */
  mse: Float64Array;
  threshold: number;
  /** 1 where mse > threshold. */
  flags: Uint8Array;
  /** Window i spans (windowStart[i], windowEnd[i]) = (Time[i], Time[i+L−1]). */
  windowStart: Float64Array;
  windowEnd: Float64Array;
  /** Intervals of the flagged windows, in window order (before merging). */
  intervals: Array<[number, number]>;
  sequenceLength: number;
  percentile: number;
}

/**
 * Reconstruction MSE of every window: (n_windows) float64. The model sees float32 windows
 * (batch, L, 6); the difference is taken against the float64 scaled values.
 */
export async function reconstructionErrors(
  model: tf.LayersModel,
  scaled: Float64Array,
  length: number,
  sequenceLength: number,
  opts: {
    batchSize?: number;
    onProgress?: (done: number, total: number) => void;
    fast?: boolean;
    signal?: AbortSignal;
  } & EngineOptions = {},
): Promise<Float64Array> {
  const C = POWER_SIGNALS.length;
  const L = sequenceLength;
  const n = windowCount(length, L);
  const batch = Math.max(1, opts.batchSize ?? 512);
  const mse = new Float64Array(n);
  const per = L * C;
  // onnxruntime when the engine is onnx (the model exported in memory); else the time-major
  // tfjs fast path for chain-shaped recurrent models; model.predict otherwise.
  const engine = resolveEngine(opts);
  const onnxRunner = engine.name === 'onnx' ? await OnnxDetector.fromModel(model, { threads: engine.threads }) : undefined;
  const fast = onnxRunner || opts.fast === false ? undefined : compileRecurrentInference(model);
  const abortPoint = loopAbortPoint(opts.signal, 'reconstructionErrors');
  try {
    for (let first = 0; first < n; first += batch) {
      await abortPoint({ done: first, total: n, unit: 'windows' });
      const count = Math.min(batch, n - first);
      const block = windowBlock(scaled, C, L, first, count);
      let r: Float32Array;
      if (onnxRunner) r = await onnxRunner.run(block, count);
      else {
        const recon = tf.tidy(() => {
          const x = tf.tensor3d(block, [count, L, C]);
          return fast ? fast.run(x) : (model.predict(x) as tf.Tensor);
        });
        r = (await recon.data()) as Float32Array;
        recon.dispose();
      }
      for (let w = 0; w < count; w++) {
        const base = (first + w) * C;
        let s = 0;
        for (let k = 0; k < per; k++) {
          const d = scaled[base + k] - r[w * per + k];
          s += d * d;
        }
        mse[first + w] = s / per;
      }
      opts.onProgress?.(first + count, n);
    }
  } finally {
    fast?.dispose();
    await onnxRunner?.dispose();
  }
  return mse;
}

/** The seed's `detect_anomalies`. */
export async function detectAnomalies(
  data: PowerData,
  detector: tf.LayersModel,
  scaler: PowerScaler,
  opts: DetectOptions = {},
): Promise<PowerDetection> {
  const L = opts.sequenceLength ?? POWER_DEFAULTS.sequenceLength;
  const percentile = opts.percentile ?? POWER_DEFAULTS.percentile;
  if (!Number.isInteger(L) || L < 2) throw new Error(`sequence length must be an integer ≥ 2, got ${L}`);
  if (!(percentile >= 0 && percentile <= 100)) throw new Error(`percentile must be within [0, 100], got ${percentile}`);
  if (data.length < L) throw new Error(`${data.source}: ${data.length} rows are fewer than the sequence length ${L}`);
  checkDetectorShape(detector, L, POWER_SIGNALS.length);
  const scaled = scaleSignals(data, scaler);
  const mse = await reconstructionErrors(detector, scaled, data.length, L, opts);
  return thresholdWindows(data, mse, L, percentile, opts.threshold);
}

/** Threshold, flags, window times and raw intervals from per-window errors. */
export function thresholdWindows(
  data: PowerData,
  mse: Float64Array,
  sequenceLength: number,
  percentile: number,
  fixedThreshold?: number,
): PowerDetection {
  const n = mse.length;
  if (fixedThreshold !== undefined && !(fixedThreshold >= 0)) throw new Error(`threshold must be a number ≥ 0, got ${fixedThreshold}`);
  const threshold = fixedThreshold ?? quantileLinear(mse, percentile / 100);
  const flags = new Uint8Array(n);
  const windowStart = new Float64Array(n);
  const windowEnd = new Float64Array(n);
  const intervals: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    windowStart[i] = data.time[i];
    windowEnd[i] = data.time[i + sequenceLength - 1];
    if (mse[i] > threshold) {
      flags[i] = 1;
      intervals.push([windowStart[i], windowEnd[i]]);
    }
  }
  return { mse, threshold, flags, windowStart, windowEnd, intervals, sequenceLength, percentile };
}

/** The seed's merge: gap given in samples, converted with the sample time. */
export function mergeAnomalyIntervals(
  intervals: Array<[number, number]>,
  maxGapSamples: number,
  sampleTime: number,
): Array<[number, number]> {
  return mergeIntervals(intervals, maxGapSamples, sampleTime);
}

export interface IntervalPrediction {
  start_time: number;
  end_time: number;
  predicted_fault: string;
  confidence: number;
  /** Class probabilities in `classes` order. */
  proba: number[];
}

export interface PowerPredictOptions {
  /**
   * Names for numeric class labels (the seed's class_names.joblib). Used only when the
   * classifier's own classes are numbers: a forest trained on string labels already carries the
   * names (the seed's class_names list is ordered differently from its classes_, so indexing it
   * by probability column would mislabel).
   */
  classNames?: string[];
}

/**
 * The seed's `predict_anomaly_intervals`: features in the scaler's `feature_names_in_` order
 * (or the seed order), standardised, classified; label = classes[argmax], confidence = max
 * probability. No intervals → an empty table.
 */
export function predictAnomalyIntervals(
  data: PowerData,
  intervals: Array<[number, number]>,
  classifier: PowerClassifier,
  classifierScaler: PowerScaler | undefined,
  opts: PowerPredictOptions = {},
): { predictions: IntervalPrediction[]; features: FeatureRow[] } {
  if (intervals.length === 0) return { predictions: [], features: [] };
  const features = intervals.map((iv) => extractFeatures(data, iv));
  const names = classifierScaler?.featureNames ?? POWER_FEATURE_NAMES;
  const X = featureMatrix(features, names, 'classifier scaler');
  let Z = classifierScaler ? standardize(X, names.length, classifierScaler, 'classifier scaler') : X;
  // A constant segment has NaN skew/kurtosis (as in scipy); the forest cannot route NaN, so such
  // a feature is set to the training mean (0 after standardisation).
  if (Z.some((v) => !Number.isFinite(v))) Z = Z.map((v) => (Number.isFinite(v) ? v : 0));
  const proba = classifier.predictProba(Z, intervals.length);
  const K = classifier.classes.length;
  if (proba.length !== K * intervals.length)
    throw new Error(`classifier returned ${proba.length} probabilities for ${intervals.length} rows × ${K} classes`);
  const predictions = intervals.map(([start, end], r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (proba[r * K + k] > proba[r * K + best]) best = k;
    const cls = classifier.classes[best];
    let label = String(cls);
    if (typeof cls === 'number' && opts.classNames) {
      const name = opts.classNames[cls];
      if (name === undefined) throw new Error(`class_names has ${opts.classNames.length} entries; the classifier predicted class ${cls}`);
      label = name;
    }
    return {
      start_time: start,
      end_time: end,
      predicted_fault: label,
      confidence: proba[r * K + best],
      proba: Array.from(proba.subarray(r * K, (r + 1) * K)),
    };
  });
  return { predictions, features };
}

export interface PowerAnalysisOptions extends DetectOptions {
  /** Merge detected intervals at most this many samples apart (default POWER_DEFAULTS.maxGapSamples, 1500). */
  maxGapSamples?: number;
  /** @deprecated the earlier name of `maxGapSamples` (still read). */
  maxGap?: number;
  classNames?: string[];
}

export interface PowerAnalysis {
  source: string;
  params: { sequence_length: number; percentile: number; max_gap_samples: number };
  sampleTime: number;
  detection: PowerDetection;
  mergedIntervals: Array<[number, number]>;
  features: FeatureRow[];
  /** Empty when no classifier was given or nothing was detected. */
  predictions: IntervalPrediction[];
  classes?: string[];
}

/** Detection, merging, features and (with a classifier) fault classes, in one call. */
export async function analyzePowerData(
  data: PowerData,
  models: { detector: tf.LayersModel; scaler: PowerScaler; classifier?: PowerClassifier; classifierScaler?: PowerScaler },
  opts: PowerAnalysisOptions = {},
): Promise<PowerAnalysis> {
  const maxGap = opts.maxGapSamples ?? opts.maxGap ?? POWER_DEFAULTS.maxGapSamples;
  checkMaxGapSamples(maxGap, opts.maxGapSamples === undefined && opts.maxGap !== undefined ? 'maxGap' : 'maxGapSamples');
  const detection = await detectAnomalies(data, models.detector, models.scaler, opts);
  const mergedIntervals = mergeAnomalyIntervals(detection.intervals, maxGap, data.sampleTime);
  let features: FeatureRow[];
  let predictions: IntervalPrediction[] = [];
  if (models.classifier) {
    ({ predictions, features } = predictAnomalyIntervals(data, mergedIntervals, models.classifier, models.classifierScaler, {
      classNames: opts.classNames,
    }));
  } else {
    features = mergedIntervals.map((iv) => extractFeatures(data, iv));
  }
  return {
    source: data.source,
    params: { sequence_length: detection.sequenceLength, percentile: detection.percentile, max_gap_samples: maxGap },
    sampleTime: data.sampleTime,
    detection,
    mergedIntervals,
    features,
    predictions,
    classes: models.classifier?.classes.map(String),
  };
}
