/**
 * Sliding-window estimation of anomaly scores over a whole series, reproducing the original
 * `estimate.py` window schedule and overlap averaging exactly (see ../shared/README.md).
 *
 * With window W, batch n, sliding s (W divisible by s) and last = length − W + 1:
 * - Phase 1 walks chunks of n·W points from 0 while the chunk start ≤ last − n·W; for each offset
 *   i ∈ {first, first+s, …, first+W−s} one batch holds the n back-to-back windows i, i+W, …,
 *   i+(n−1)W, so the chunk contributes every window starting at a multiple of s inside it.
 * - Phase 2 continues from there in steps of n·s up to `last`; a step [a, b) contributes windows
 *   a, a+s, … (below b − 1) plus one starting at b − 1. The final step ends at `last`, so the last
 *   possible window (start length − W) is scored whenever phase 2 runs.
 * Each point's score is the mean over all windows covering it (counts tracked, not assumed).
 *
 * One deliberate deviation: when phase 1 ends exactly at `last` (length − W + 1 a multiple of
 * n·W), phase 2 is empty and the original never scores the tail after the last phase-1 window; its
 * 0/0 average leaves those points NaN. We score one extra window at length − W and use it ONLY for
 * the points no scheduled window covered, so every value the original defines is unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnomalyBert } from './model';
import { resolveEngine, type EngineOptions } from '../onnx/runtime';
import { onnxRunnerFor } from './onnx';
import { FieldError } from '../browser/errors';
import { loopAbortPoint } from '../browser/abort';
import { checkWindowSliding, DEFAULT_WINDOW_SLIDING } from './config';

export { checkWindowSliding, DEFAULT_WINDOW_SLIDING };

/**
 * Window starts per model batch, in the reference order. Batches of phase 1 hold n windows,
 * those of phase 2 up to n + 1 (the extra window at the step's end − 1).
 */
export function slidingWindowSchedule(length: number, windowSize: number, batchSize: number, sliding: number): Int32Array[] {
  for (const [name, v] of [
    ['length', length],
    ['window size', windowSize],
    ['batch_size', batchSize],
    ['window_sliding', sliding],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`sliding-window estimation: ${name} must be a positive integer, got ${v}`);
  }
  checkWindowSliding(sliding, windowSize);
  const last = length - windowSize + 1;
  if (last < 1) throw new Error(`the series has ${length} points, fewer than one window (${windowSize} points)`);
  const batches: Int32Array[] = [];
  const chunk = batchSize * windowSize;
  let phase2Start = 0;
  for (let first = 0; first <= last - chunk; first += chunk) {
    for (let i = first; i < first + windowSize; i += sliding) {
      const starts = new Int32Array(batchSize);
      for (let k = 0; k < batchSize; k++) starts[k] = i + k * windowSize;
      batches.push(starts);
    }
    phase2Start = first + chunk;
  }
  const step = batchSize * sliding;
  for (let first = phase2Start; first < last; first += step) {
    const end = Math.min(first + step, last);
    const starts: number[] = [];
    for (let i = first; i < end - 1; i += sliding) starts.push(i);
    starts.push(end - 1);
    batches.push(Int32Array.from(starts));
  }
  return batches;
}

export interface EstimateOptions extends EngineOptions {
  /** Windows per model batch (the original's --batch_size). Default 16. */
  batchSize?: number;
  /** Stride between windows (the original's --window_sliding); must divide W. Default DEFAULT_WINDOW_SLIDING (16). */
  windowSliding?: number;
  /** 'sigmoid' (anomaly scores, default) or 'none' (raw outputs, e.g. reconstruction models). */
  postActivation?: 'sigmoid' | 'none';
  /** Called after each batch with windows done and the total. */
  onProgress?: (windowsDone: number, windowsTotal: number) => void;
  /** Checked before each batch: once aborted, throws an AbortedError ('estimateScores', windows done). */
  signal?: AbortSignal;
  /**
   * Estimate each [start, end) range on its own (the original's data divisions, e.g. one per file
   * or day, so no window straddles two of them). Default: the whole series.
   */
  divisions?: Array<[number, number]>;
}

/** Throw naming the first row/column holding NaN or ±Infinity. */
function checkFinite(values: Float32Array, nCols: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`${what} has a non-finite value (${values[i]}) at row ${Math.floor(i / nCols)}, column ${i % nCols}`);
    }
  }
}

/**
 * Anomaly scores of a whole series. values: row-major (length, C) → Float32Array (length, out),
 * each point the mean of the (sigmoid) outputs of all windows covering it.
 */
export async function estimateScores(
  model: AnomalyBert,
  values: Float32Array,
  length: number,
  opts: EstimateOptions = {},
): Promise<Float32Array> {
  const { inputDim: nCols, outputDim: nOut } = model.config;
  const w = model.windowSize;
  if (!Number.isInteger(length) || length < 1) throw new Error(`estimateScores: length must be a positive integer, got ${length}`);
  if (values.length !== length * nCols) {
    const got = values.length / length;
    throw new Error(
      Number.isInteger(got)
        ? `the model expects ${nCols} input columns, the series has ${got}`
        : `series values hold ${values.length} numbers, not a multiple of length ${length}`,
    );
  }
  checkFinite(values, nCols, 'series');
  const divisions = opts.divisions ?? [[0, length]];
  let previousEnd = 0;
  for (const [a, b] of divisions) {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < previousEnd || b > length || b <= a) {
      throw new Error(`divisions must be sorted, non-overlapping [start, end) ranges inside [0, ${length}); got [${a}, ${b})`);
    }
    previousEnd = b;
  }
  const batchSize = opts.batchSize ?? 16;
  const sliding = opts.windowSliding ?? DEFAULT_WINDOW_SLIDING;
  const schedules = divisions.map(([a, b]) => {
    try {
      return slidingWindowSchedule(b - a, w, batchSize, sliding);
    } catch (e) {
      throw divisions.length > 1 ? new Error(`division [${a}, ${b}): ${(e as Error).message}`) : e;
    }
  });
  const total = schedules.reduce((sum, sch) => sum + sch.reduce((x, batch) => x + batch.length, 0), 0);
  const sigmoid = (opts.postActivation ?? 'sigmoid') === 'sigmoid';
  // Points outside every division keep 0, as in the original (its output starts as zeros).
  const scores = new Float32Array(length * nOut);
  let done = 0;
  const abortPoint = loopAbortPoint(opts.signal, 'estimateScores');
  const engine = resolveEngine(opts);
  const onnxRunner = engine.name === 'onnx' ? await onnxRunnerFor(model, engine.threads) : undefined;

  /** Outputs (k, W, out) of the windows starting at `starts` (relative to `offset`). */
  const runBatch = async (offset: number, starts: Int32Array): Promise<Float32Array> => {
    const k = starts.length;
    const batch = new Float32Array(k * w * nCols);
    for (let b = 0; b < k; b++) batch.set(values.subarray((offset + starts[b]) * nCols, (offset + starts[b] + w) * nCols), b * w * nCols);
    if (onnxRunner) return onnxRunner.run(batch, k, sigmoid ? 'scores' : 'logits');
    const out = tf.tidy(() => {
      const logits = model.apply(tf.tensor3d(batch, [k, w, nCols])); // (k, W, out)
      return sigmoid ? tf.sigmoid(logits) : logits;
    });
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  };

  for (let d = 0; d < divisions.length; d++) {
    const [offset, end] = divisions[d];
    const len = end - offset;
    const sums = new Float64Array(len * nOut);
    const counts = new Int32Array(len);
    for (const starts of schedules[d]) {
      await abortPoint({ done, total, unit: 'windows' });
      const y = await runBatch(offset, starts);
      for (let b = 0; b < starts.length; b++) {
        const s = starts[b];
        const src = b * w * nOut;
        const dst = s * nOut;
        for (let j = 0; j < w * nOut; j++) sums[dst + j] += y[src + j];
        for (let j = 0; j < w; j++) counts[s + j]++;
      }
      done += starts.length;
      opts.onProgress?.(done, total);
    }
    if (counts[len - 1] === 0) {
      // The original leaves this tail NaN (see the module comment): fill only the uncovered points.
      const lastStart = len - w;
      const y = await runBatch(offset, Int32Array.of(lastStart));
      for (let j = 0; j < w; j++) {
        if (counts[lastStart + j] !== 0) continue;
        for (let o = 0; o < nOut; o++) sums[(lastStart + j) * nOut + o] = y[j * nOut + o];
        counts[lastStart + j] = 1;
      }
    }
    for (let t = 0; t < len; t++) {
      // Every point is covered by now; NaN would flag a schedule bug.
      const c = counts[t];
      for (let o = 0; o < nOut; o++) scores[(offset + t) * nOut + o] = c > 0 ? sums[t * nOut + o] / c : NaN;
    }
  }
  return scores;
}

export interface PredictOptions extends EngineOptions {
  /** Windows per forward pass (memory bound). Default 16. */
  batchSize?: number;
  /** Checked before each batch: once aborted, throws an AbortedError ('predictWindows', windows done). */
  signal?: AbortSignal;
}

/** Raw model outputs for n windows. windows: (n, W, C) row-major → Float32Array (n, W, out) logits. */
export async function predictWindows(
  model: AnomalyBert,
  windows: Float32Array,
  n: number,
  opts: PredictOptions = {},
): Promise<Float32Array> {
  const { inputDim: nCols, outputDim: nOut } = model.config;
  const w = model.windowSize;
  if (!Number.isInteger(n) || n < 0) throw new Error(`predictWindows: n must be a non-negative integer, got ${n}`);
  if (windows.length !== n * w * nCols) {
    throw new Error(`windows hold ${windows.length} numbers; ${n} windows of ${w} points × ${nCols} columns need ${n * w * nCols}`);
  }
  checkFinite(windows, nCols, 'windows');
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new FieldError('batchSize', (f) => `${f('batchSize')} must be a positive integer, got ${batchSize}`);
  const out = new Float32Array(n * w * nOut);
  const engine = resolveEngine(opts);
  const onnxRunner = engine.name === 'onnx' && n > 0 ? await onnxRunnerFor(model, engine.threads) : undefined;
  const abortPoint = loopAbortPoint(opts.signal, 'predictWindows');
  for (let first = 0; first < n; first += batchSize) {
    const k = Math.min(batchSize, n - first);
    await abortPoint({ done: first, total: n, unit: 'windows' });
    if (onnxRunner) {
      // A view, not a copy: onnxruntime-node reads the input from its byte offset.
      out.set(await onnxRunner.run(windows.subarray(first * w * nCols, (first + k) * w * nCols), k), first * w * nOut);
      continue;
    }
    const y = tf.tidy(() => model.apply(tf.tensor3d(windows.subarray(first * w * nCols, (first + k) * w * nCols), [k, w, nCols])));
    out.set((await y.data()) as Float32Array, first * w * nOut);
    y.dispose();
  }
  return out;
}
