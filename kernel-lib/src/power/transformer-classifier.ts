/**
 * The power-system seed's later fault classifier (`seed-models/classifier_transformer/`): a Keras 3
 * model with two inputs, imported without Python.
 *
 *   sequence_input [B, 128, 6]  (Va..Ic, StandardScaler `sequence_scaler.joblib`)
 *     → x + LN(MHA(x, x))  (8 heads, key_dim 32) → LN → y + Dense(6)(Dense(128, relu)(y)) → LN
 *     → GlobalAveragePooling1D → [B, 6]
 *   feature_input [B, 57]       (StandardScaler `feature_scaler.joblib`) → Dense(32, relu)
 *   concat [B, 38] → Dense(64, relu) → Dropout(0.3) → Dense(5, softmax) → [B, 5]
 * Class names come from `label_encoder.joblib` (LG, LL, LLG, LLL, LLLG).
 *
 * What the seed does not document, and what we therefore chose (see docs/power.md):
 *  - the 57 features. The scaler's statistics fit 6 signals × 7 statistics (the dashboard's mean,
 *    std, skew, kurt, rms, peak2peak, crest, signal-major, as for the random forest) followed by the
 *    15 pairwise Pearson correlations of Va..Ic in itertools.combinations order; both scalers saw
 *    the same number of samples (1314; 168192 = 1314 × 128 sequence rows), so one feature row
 *    belongs to one 128-sample sequence and is computed from that sequence's rows.
 *  - how a detected interval becomes sequences: the interval's rows are covered by ⌈n/128⌉ evenly
 *    spread 128-row windows (one centred window when the interval is shorter); the class
 *    probabilities are the mean of the windows' softmax outputs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../backend';
import { loadJoblib } from '../pickle/joblib';
import { NumpyArray } from '../pickle/numpy';
import { LabelEncoderModel, StandardScalerModel } from '../pickle/sklearn';
import { PyObject } from '../pickle/unpickler';
import { POWER_SIGNALS, type PowerData } from './data';
import { FEATURE_STATS, intervalRows, pearson, signalStatistics } from './features';
import { loadKerasH5 } from './keras-h5';
import { loadPowerScaler } from './models';

/** File names inside a classifier_transformer directory, as the seed writes them. */
export const TRANSFORMER_CLASSIFIER_FILES = {
  model: 'best_fault_classifier.h5',
  sequenceScaler: 'sequence_scaler.joblib',
  featureScaler: 'feature_scaler.joblib',
  labelEncoder: 'label_encoder.joblib',
  metadata: 'model_metadata.joblib',
  system: 'complete_dl_fault_system.joblib',
} as const;

/** Pairs (i, j), i < j, of the six signals in itertools.combinations order. */
const SIGNAL_PAIRS: Array<[number, number]> = [];
for (let i = 0; i < POWER_SIGNALS.length; i++) for (let j = i + 1; j < POWER_SIGNALS.length; j++) SIGNAL_PAIRS.push([i, j]);

/** Our names for the 57 feature_input columns (the seed stores none; the order is inferred). */
export const TRANSFORMER_FEATURE_NAMES: readonly string[] = [
  ...POWER_SIGNALS.flatMap((s) => FEATURE_STATS.map((st) => `${s}_${st}`)),
  ...SIGNAL_PAIRS.map(([i, j]) => `corr_${POWER_SIGNALS[i]}${POWER_SIGNALS[j]}`),
];

/** What model_metadata.joblib holds (all optional: only present fields are checked). */
export interface TransformerClassifierMetadata {
  model_name?: string;
  model_type?: string;
  sequence_length?: number;
  n_features?: number;
  n_classes?: number;
  class_names?: string[];
  performance?: { test_accuracy?: number; f1_score?: number; training_epochs?: number };
  preprocessing?: Record<string, unknown>;
}

export interface TransformerClassifier {
  /** Two inputs [B, L, 6] and [B, F] → softmax [B, C]. */
  model: tf.LayersModel;
  /** L: rows per sequence (128 for the seed). */
  sequenceLength: number;
  /** F: feature_input width (57 for the seed). */
  nFeatures: number;
  sequenceScaler: StandardScalerModel;
  featureScaler: StandardScalerModel;
  /** Class names in output order (label encoder `classes_`). */
  classes: string[];
  metadata?: TransformerClassifierMetadata;
  /** Fault intervals (s) of the training recording, from complete_dl_fault_system.joblib. */
  trainingFaultIntervals?: Record<string, Array<[number, number]>>;
  /** The directory and the .h5 it was loaded from. */
  source: string;
  modelFile: string;
}

export interface TransformerPrediction {
  start_time: number;
  end_time: number;
  predicted_fault: string;
  /** Largest mean class probability. */
  confidence: number;
  /** Mean softmax over the interval's windows, in `classes` order. */
  proba: number[];
  /** First row of each 128-row window fed to the model. */
  window_starts: number[];
  /** Argmax class of each window alone. */
  window_labels: string[];
  /** Features that were NaN/±inf (constant signal in a window) and were set to the scaler mean. */
  n_nonfinite_features: number;
}

function plainOf(v: unknown): unknown {
  if (v instanceof NumpyArray) return Array.from(v.data as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? Number(x) : x));
  if (Array.isArray(v)) return v.map(plainOf);
  if (v && typeof v === 'object' && !(v instanceof PyObject)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainOf(x)]));
  return v;
}

function requireFile(dir: string, name: string): string {
  const file = path.join(dir, name);
  if (!fs.existsSync(file))
    throw new Error(
      `${file}: transformer classifier file not found (a classifier_transformer directory holds ${Object.values(TRANSFORMER_CLASSIFIER_FILES).join(', ')})`,
    );
  return file;
}

/**
 * Load a classifier_transformer directory: the Keras model, both scalers, the label encoder and
 * (when present) the metadata, checking that they agree with each other. Errors name the file.
 */
export async function loadTransformerClassifier(dir: string): Promise<TransformerClassifier> {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: transformer classifier directory not found`);
  if (!fs.statSync(dir).isDirectory())
    throw new Error(
      `${dir}: not a directory (expected the classifier_transformer directory holding ${TRANSFORMER_CLASSIFIER_FILES.model})`,
    );
  const F = TRANSFORMER_CLASSIFIER_FILES;
  const modelFile = requireFile(dir, F.model);
  const seqFile = requireFile(dir, F.sequenceScaler);
  const featFile = requireFile(dir, F.featureScaler);
  const encFile = requireFile(dir, F.labelEncoder);
  // Pickles first: they are cheap and fail before the model is built.
  const sequenceScaler = await loadPowerScaler(seqFile, 'sequence scaler');
  const featureScaler = await loadPowerScaler(featFile, 'feature scaler');
  const enc = await loadJoblib(encFile);
  const encoder =
    enc instanceof PyObject && enc.__class__ === 'sklearn.preprocessing._label.LabelEncoder'
      ? LabelEncoderModel.fromSklearn(enc, encFile)
      : undefined;
  if (!encoder) throw new Error(`${encFile}: expected a scikit-learn LabelEncoder`);
  const classes = encoder.classes.map(String);
  let metadata: TransformerClassifierMetadata | undefined;
  const metaFile = path.join(dir, F.metadata);
  if (fs.existsSync(metaFile)) {
    const m = plainOf(await loadJoblib(metaFile));
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error(`${metaFile}: expected a dict of model metadata`);
    metadata = m as TransformerClassifierMetadata;
  }
  let trainingFaultIntervals: TransformerClassifier['trainingFaultIntervals'];
  const sysFile = path.join(dir, F.system);
  if (fs.existsSync(sysFile)) {
    const sys = (await loadJoblib(sysFile)) as Record<string, unknown>;
    const cols = plainOf((sys?.extraction_params as Record<string, unknown> | undefined)?.signal_columns);
    if (cols !== undefined && JSON.stringify(cols) !== JSON.stringify(POWER_SIGNALS)) {
      throw new Error(`${sysFile}: extraction_params.signal_columns ${JSON.stringify(cols)} differ from ${JSON.stringify(POWER_SIGNALS)}`);
    }
    trainingFaultIntervals = plainOf(sys?.fault_intervals) as TransformerClassifier['trainingFaultIntervals'];
  }

  const loaded = await loadKerasH5(modelFile);
  const { model, inputShapes, outputShape } = loaded;
  try {
    if (inputShapes.length !== 2 || inputShapes[0].length !== 2 || inputShapes[1].length !== 1) {
      throw new Error(`${modelFile}: expected two inputs [sequence_length, 6] and [n_features], found ${JSON.stringify(inputShapes)}`);
    }
    const [[L, C], [nF]] = inputShapes;
    if (C !== POWER_SIGNALS.length)
      throw new Error(`${modelFile}: sequence input has ${C} channels, expected ${POWER_SIGNALS.length} (${POWER_SIGNALS.join(', ')})`);
    if (sequenceScaler.nFeatures !== C)
      throw new Error(`${seqFile}: sequence scaler has ${sequenceScaler.nFeatures} features, the model's sequence input has ${C}`);
    if (nF !== TRANSFORMER_FEATURE_NAMES.length)
      throw new Error(
        `${modelFile}: feature input has ${nF} columns; only the 57-feature layout (6 signals × 7 statistics + 15 correlations) is known`,
      );
    if (featureScaler.nFeatures !== nF)
      throw new Error(`${featFile}: feature scaler has ${featureScaler.nFeatures} features, the model's feature input has ${nF}`);
    if (outputShape.length !== 1 || outputShape[0] !== classes.length)
      throw new Error(`${encFile}: ${classes.length} classes, the model outputs ${JSON.stringify(outputShape)}`);
    if (metadata) {
      const checks: Array<[string, unknown, unknown]> = [
        ['sequence_length', metadata.sequence_length, L],
        ['n_features', metadata.n_features, nF],
        ['n_classes', metadata.n_classes, classes.length],
      ];
      for (const [k, got, want] of checks) {
        if (got !== undefined && got !== want) throw new Error(`${metaFile}: ${k} is ${JSON.stringify(got)}, the model has ${want}`);
      }
      if (metadata.class_names && JSON.stringify(metadata.class_names.map(String)) !== JSON.stringify(classes)) {
        throw new Error(
          `${metaFile}: class_names ${JSON.stringify(metadata.class_names)} differ from ${encFile} ${JSON.stringify(classes)}`,
        );
      }
    }
    return {
      model,
      sequenceLength: L,
      nFeatures: nF,
      sequenceScaler,
      featureScaler,
      classes,
      metadata,
      trainingFaultIntervals,
      source: dir,
      modelFile,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * First rows of the L-row windows covering rows [a, b): ⌈n/L⌉ windows spread evenly from a to
 * b − L (the last ends at b); an interval shorter than L gets one window centred on it, clamped
 * into [0, nRows − L].
 */
export function transformerWindowStarts(nRows: number, a: number, b: number, L: number, source = 'data'): number[] {
  if (nRows < L) throw new Error(`${source}: ${nRows} rows; the transformer classifier needs at least ${L}`);
  const n = b - a;
  if (n <= L) {
    const centred = Math.round((a + b) / 2 - L / 2);
    return [Math.min(Math.max(centred, 0), nRows - L)];
  }
  const k = Math.ceil(n / L);
  return Array.from({ length: k }, (_, i) => a + Math.round((i * (n - L)) / (k - 1)));
}

/**
 * The 57 feature_input values of rows [a, b): per signal (Va..Ic) mean, population std, biased
 * skew, Fisher kurtosis, RMS, peak-to-peak, crest; then the 15 pairwise Pearson correlations.
 * NaN skew/kurtosis/correlation of a constant signal are returned as NaN.
 */
export function transformerFeatures(data: PowerData, a: number, b: number): Float64Array {
  const out = new Float64Array(TRANSFORMER_FEATURE_NAMES.length);
  let o = 0;
  for (const x of data.signals) {
    const st = signalStatistics(x, a, b);
    for (const v of [st.mean, st.std, st.skew, st.kurt, st.rms, st.peak2peak, st.crest]) out[o++] = v;
  }
  for (const [i, j] of SIGNAL_PAIRS) out[o++] = pearson(data.signals[i], data.signals[j], a, b);
  return out;
}

export interface TransformerClassifyOptions {
  /** Windows per model call (default 64: attention is [B, 8, 128, 128] floats). */
  batchSize?: number;
}

/**
 * Classify intervals (start, end) in seconds of `data`: windows → scaled sequences [W, L, 6] and
 * scaled features [W, 57] → softmax [W, C] → mean per interval. Tensors are disposed per batch.
 */
export function classifyIntervalsTransformer(
  clf: TransformerClassifier,
  data: PowerData,
  intervals: Array<[number, number]>,
  opts: TransformerClassifyOptions = {},
): TransformerPrediction[] {
  const L = clf.sequenceLength;
  const C = POWER_SIGNALS.length;
  const F = clf.nFeatures;
  const batchSize = Math.max(1, opts.batchSize ?? 64);
  const windows: Array<{ interval: number; start: number }> = [];
  intervals.forEach((iv, k) => {
    const [a, b] = intervalRows(data, iv);
    if (b - a < 1) throw new Error(`${data.source}: interval (${iv[0]}, ${iv[1]}) contains no samples`);
    for (const start of transformerWindowStarts(data.length, a, b, L, data.source)) windows.push({ interval: k, start });
  });
  const probs = new Float64Array(windows.length * clf.classes.length);
  const nonFinite = new Int32Array(intervals.length);
  for (let w0 = 0; w0 < windows.length; w0 += batchSize) {
    const batch = windows.slice(w0, w0 + batchSize);
    const seq = new Float32Array(batch.length * L * C); // [B, L, 6] row-major
    const feat = new Float32Array(batch.length * F); // [B, 57]
    batch.forEach(({ interval, start }, i) => {
      const raw = new Float64Array(L * C);
      for (let t = 0; t < L; t++) for (let c = 0; c < C; c++) raw[t * C + c] = data.signals[c][start + t];
      seq.set(clf.sequenceScaler.transform(raw, C), i * L * C);
      const f = clf.featureScaler.transform(transformerFeatures(data, start, start + L), F);
      for (let j = 0; j < F; j++) {
        // A constant signal has no skew/kurtosis/correlation: use the training mean (0 once scaled).
        if (!Number.isFinite(f[j])) {
          f[j] = 0;
          nonFinite[interval]++;
        }
      }
      feat.set(f, i * F);
    });
    const out = tf.tidy(() => {
      const y = clf.model.predict([tf.tensor3d(seq, [batch.length, L, C]), tf.tensor2d(feat, [batch.length, F])]) as tf.Tensor;
      return y.dataSync() as Float32Array; // [B, classes]
    });
    probs.set(out, w0 * clf.classes.length);
  }
  const K = clf.classes.length;
  return intervals.map((iv, k) => {
    const mine = windows.map((w, i) => ({ ...w, i })).filter((w) => w.interval === k);
    const proba = new Array<number>(K).fill(0);
    const labels: string[] = [];
    for (const { i } of mine) {
      let best = 0;
      for (let c = 0; c < K; c++) {
        proba[c] += probs[i * K + c] / mine.length;
        if (probs[i * K + c] > probs[i * K + best]) best = c;
      }
      labels.push(clf.classes[best]);
    }
    let arg = 0;
    for (let c = 1; c < K; c++) if (proba[c] > proba[arg]) arg = c;
    return {
      start_time: iv[0],
      end_time: iv[1],
      predicted_fault: clf.classes[arg],
      confidence: proba[arg],
      proba,
      window_starts: mine.map((w) => w.start),
      window_labels: labels,
      n_nonfinite_features: nonFinite[k],
    };
  });
}

/** The JSON the CLI writes (transformer_predictions.json): says which classifier ran and how. */
export function transformerPredictionsJson(clf: TransformerClassifier, predictions: TransformerPrediction[]): Record<string, unknown> {
  return {
    classifier: 'transformer',
    model: clf.modelFile,
    classes: clf.classes,
    sequence_length: clf.sequenceLength,
    n_features: clf.nFeatures,
    input_construction: `each interval is covered by ceil(rows/${clf.sequenceLength}) evenly spread ${clf.sequenceLength}-row windows (one centred window if shorter); per window the Va..Ic rows (sequence_scaler) and ${clf.nFeatures} statistics of those rows (feature_scaler); probabilities are the mean over windows. The seed does not document this step: see docs/power.md.`,
    reported_test_accuracy: clf.metadata?.performance?.test_accuracy ?? null,
    predictions,
  };
}
