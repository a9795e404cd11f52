/**
 * Training an LSTM autoencoder detector here, on normal (fault-free) recordings.
 *
 * Architecture (default = the seed's): input (L, 6) → [Bi]LSTM u1 (sequences) → [Bi]LSTM u2
 * (last state) → RepeatVector L → [Bi]LSTM u2 → [Bi]LSTM u1 → TimeDistributed Dense 6; MSE
 * loss, Adam. Windows of the scaled signals are taken every `stride` samples, shuffled with the
 * seeded RNG, the last `validationSplit` fraction held out (as Keras does), and training stops
 * when the validation loss has not improved for `patience` epochs; the best epoch's weights are
 * restored (Keras EarlyStopping(restore_best_weights=True)).
 */
import { tf } from '../backend';
import { loopAbortPoint, throwIfAborted } from '../browser/abort';
import { createRng } from '../browser/random';
import { StandardScalerModel } from '../pickle/sklearn';
import { POWER_SIGNALS, signalMatrix, type PowerData } from './data';
import { quantileLinear } from '../browser/metrics';

export interface AutoencoderConfig {
  sequenceLength: number;
  /** Encoder widths, outer first (default [32, 16]); the decoder mirrors them. */
  units?: number[];
  bidirectional?: boolean;
  dropout?: number;
  seed?: number;
}

export const SEED_AUTOENCODER: Required<Omit<AutoencoderConfig, 'seed'>> = {
  sequenceLength: 50,
  units: [32, 16],
  bidirectional: true,
  dropout: 0,
};
/** Small enough to train on a laptop CPU in a minute or two (workshops, tests). */
export const WORKSHOP_AUTOENCODER: Required<Omit<AutoencoderConfig, 'seed'>> = {
  sequenceLength: 50,
  units: [16, 8],
  bidirectional: false,
  dropout: 0,
};

/** Build the (untrained) autoencoder: (batch, L, 6) → (batch, L, 6). */
export function createLstmAutoencoder(cfg: AutoencoderConfig): tf.LayersModel {
  const L = cfg.sequenceLength;
  const units = cfg.units ?? SEED_AUTOENCODER.units;
  const bi = cfg.bidirectional ?? true;
  if (!Number.isInteger(L) || L < 2) throw new Error(`autoencoder: sequence length must be an integer ≥ 2, got ${L}`);
  if (units.length < 1 || units.some((u) => !Number.isInteger(u) || u < 1))
    throw new Error(`autoencoder: units must be positive integers, got [${units}]`);
  let seed = cfg.seed ?? 0;
  const init = () => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: seed++ }),
  });
  const lstm = (u: number, returnSequences: boolean): tf.layers.Layer => {
    const layer = tf.layers.lstm({ units: u, returnSequences, ...init() });
    return bi ? tf.layers.bidirectional({ layer: layer as unknown as tf.RNN, mergeMode: 'concat' }) : layer;
  };
  const input = tf.input({ shape: [L, POWER_SIGNALS.length] });
  let x = input as tf.SymbolicTensor;
  units.forEach((u, i) => {
    x = lstm(u, i < units.length - 1).apply(x) as tf.SymbolicTensor;
    if (cfg.dropout) x = tf.layers.dropout({ rate: cfg.dropout }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.repeatVector({ n: L }).apply(x) as tf.SymbolicTensor;
  [...units].reverse().forEach((u) => {
    x = lstm(u, true).apply(x) as tf.SymbolicTensor;
  });
  const dense = tf.layers.dense({ units: POWER_SIGNALS.length, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }) });
  const out = tf.layers.timeDistributed({ layer: dense }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'lstm_autoencoder' });
}

export interface TrainDetectorOptions extends AutoencoderConfig {
  /** Step between training windows in samples (default 5). */
  stride?: number;
  /** Cap on the number of training windows (default 4000), taken evenly. */
  maxWindows?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  validationSplit?: number;
  patience?: number;
  onEpoch?: (e: { epoch: number; loss: number; val_loss: number; elapsed_s: number; tensors: number }) => void;
  /** Checked after every batch: once aborted, the current epoch ends there and an AbortedError ('trainDetector', epochs done) is thrown. */
  signal?: AbortSignal;
}

export interface TrainedDetector {
  model: tf.LayersModel;
  scaler: StandardScalerModel;
  history: Array<{ epoch: number; loss: number; val_loss: number; elapsed_s: number }>;
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Reconstruction MSE quantiles of the validation windows (for choosing a threshold). */
  validationMse: { p50: number; p95: number; p99: number; max: number };
  config: Required<Omit<AutoencoderConfig, 'seed'>> & { seed: number };
}

/** Fit the scaler and the autoencoder on normal recordings. */
export async function trainDetector(
  normal: PowerData | PowerData[],
  opts: TrainDetectorOptions = { sequenceLength: 50 },
): Promise<TrainedDetector> {
  const sets = Array.isArray(normal) ? normal : [normal];
  const L = opts.sequenceLength ?? 50;
  const stride = opts.stride ?? 5;
  const epochs = opts.epochs ?? 20;
  const batchSize = opts.batchSize ?? 64;
  const valSplit = opts.validationSplit ?? 0.1;
  const patience = opts.patience ?? 3;
  const seed = opts.seed ?? 0;
  if (!(valSplit > 0 && valSplit < 0.5)) throw new Error(`validation split must be in (0, 0.5), got ${valSplit}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`stride must be a positive integer, got ${stride}`);
  const C = POWER_SIGNALS.length;
  // Scaler on all normal rows (sklearn StandardScaler.fit).
  const rowsAll = sets.map((d) => signalMatrix(d));
  const total = rowsAll.reduce((s, r) => s + r.length, 0);
  const allRows = new Float64Array(total);
  let off = 0;
  for (const r of rowsAll) {
    allRows.set(r, off);
    off += r.length;
  }
  const scaler = StandardScalerModel.fit(allRows, C, [...POWER_SIGNALS]);
  // Window starts across all sets.
  const starts: Array<[number, number]> = [];
  sets.forEach((d, si) => {
    for (let i = 0; i + L <= d.length; i += stride) starts.push([si, i]);
  });
  if (starts.length < 10)
    throw new Error(`training data: only ${starts.length} windows of ${L} samples; give more normal data or a smaller stride`);
  const maxW = opts.maxWindows ?? 4000;
  const picked = starts.length > maxW ? Array.from({ length: maxW }, (_, k) => starts[Math.floor((k * starts.length) / maxW)]) : starts;
  const rng = createRng(seed);
  for (let i = picked.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [picked[i], picked[j]] = [picked[j], picked[i]];
  }
  const scaled = rowsAll.map((r) => scaler.transform(r, C));
  const n = picked.length;
  const X = new Float32Array(n * L * C);
  picked.forEach(([si, i], w) => X.set(scaled[si].subarray(i * C, (i + L) * C), w * L * C));
  const nVal = Math.max(1, Math.round(n * valSplit));
  const nTrain = n - nVal;
  const config = {
    sequenceLength: L,
    units: opts.units ?? SEED_AUTOENCODER.units,
    bidirectional: opts.bidirectional ?? true,
    dropout: opts.dropout ?? 0,
    seed,
  };
  const model = createLstmAutoencoder(config);
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const xTrain = tf.tensor3d(X.subarray(0, nTrain * L * C), [nTrain, L, C]);
  const xVal = tf.tensor3d(X.subarray(nTrain * L * C), [nVal, L, C]);
  const history: TrainedDetector['history'] = [];
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights: tf.Tensor[] | undefined;
  let stoppedEarly = false;
  const t0 = Date.now();
  const batchPoint = loopAbortPoint(opts.signal, 'trainDetector');
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      // The epoch order comes from our seeded RNG (fit's own shuffle uses Math.random).
      const perm = Int32Array.from({ length: nTrain }, (_, i) => i);
      for (let i = nTrain - 1; i > 0; i--) {
        const j = rng.int(0, i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const xs = tf.tidy(() => tf.gather(xTrain, tf.tensor1d(perm, 'int32')));
      let h: tf.History;
      try {
        h = await model.fit(xs, xs, {
          epochs: 1,
          batchSize,
          shuffle: false,
          verbose: 0,
          validationData: [xVal, xVal],
          // After each batch: let a Ctrl-C in (the event loop turns every 100 ms), stop the epoch if aborted.
          callbacks: opts.signal ? { onBatchEnd: () => batchPoint().catch(() => void (model.stopTraining = true)) } : undefined,
        });
      } finally {
        xs.dispose();
      }
      throwIfAborted(opts.signal, 'trainDetector', { done: epoch, total: epochs, unit: 'epochs' });
      const loss = Number(h.history.loss[0]);
      const valLoss = Number(h.history.val_loss[0]);
      const rec = { epoch: epoch + 1, loss, val_loss: valLoss, elapsed_s: (Date.now() - t0) / 1000 };
      history.push(rec);
      opts.onEpoch?.({ ...rec, tensors: tf.memory().numTensors });
      if (valLoss < best) {
        best = valLoss;
        bestEpoch = epoch + 1;
        if (bestWeights) tf.dispose(bestWeights);
        bestWeights = model.getWeights().map((w) => w.clone());
      } else if (epoch + 1 - bestEpoch >= patience) {
        stoppedEarly = epoch + 1 < epochs;
        break;
      }
    }
    if (bestWeights) model.setWeights(bestWeights);
  } catch (e) {
    // Nobody else holds the model of a run that did not finish.
    model.dispose();
    throw e;
  } finally {
    if (bestWeights) tf.dispose(bestWeights);
    xTrain.dispose();
    xVal.dispose();
    // The model does not own an optimizer passed as an instance; its moment slots would leak.
    optimizer.dispose();
  }
  // Validation reconstruction errors with the restored weights (float64 MSE as in detection).
  const valRows = new Float64Array(nVal * L * C);
  for (let w = 0; w < nVal; w++) {
    const [si, i] = picked[nTrain + w];
    valRows.set(scaled[si].subarray(i * C, (i + L) * C), w * L * C);
  }
  const valMse = await valWindowErrors(model, valRows, nVal, L);
  return {
    model,
    scaler,
    history,
    bestEpoch,
    stoppedEarly,
    validationMse: {
      p50: quantileLinear(valMse, 0.5),
      p95: quantileLinear(valMse, 0.95),
      p99: quantileLinear(valMse, 0.99),
      // not Math.max(...valMse): a spread of a few 100k windows (a large maxWindows) overflows the stack
      max: valMse.reduce((m, v) => Math.max(m, v), -Infinity),
    },
    config,
  };
}

/** MSE of independent windows given as (n, L, 6) float64 rows: (n). */
async function valWindowErrors(model: tf.LayersModel, rows: Float64Array, n: number, L: number): Promise<Float64Array> {
  const C = POWER_SIGNALS.length;
  const per = L * C;
  const out = new Float64Array(n);
  const batch = 256;
  for (let first = 0; first < n; first += batch) {
    const count = Math.min(batch, n - first);
    const block = Float32Array.from(rows.subarray(first * per, (first + count) * per));
    const y = tf.tidy(() => model.predict(tf.tensor3d(block, [count, L, C])) as tf.Tensor);
    const r = (await y.data()) as Float32Array;
    y.dispose();
    for (let w = 0; w < count; w++) {
      let s = 0;
      for (let k = 0; k < per; k++) {
        const d = rows[(first + w) * per + k] - r[w * per + k];
        s += d * d;
      }
      out[first + w] = s / per;
    }
  }
  return out;
}
