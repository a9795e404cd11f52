/**
 * The tfjs engine's loss over a batch taken in chunks of windows (gradient accumulation), shared by
 * the single-thread micro-batched step (train.ts) and the data-parallel workers (train-worker.ts),
 * so both weigh, seed and sum the chunks the same way: chunk k's loss is its mean BCE × chunk rows /
 * batch rows, its dropout masks come from `chunkDropoutSeed(seed, offset + k)`, and losses,
 * accuracies and gradients are summed on the device in chunk order. Only one chunk's activations
 * (and tape) are alive at a time.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnomalyBert, ApplyOptions } from '../anomalybert/model';

/** Mean BCE of sigmoid(z) against y, from the logits (stable form). z, y: (n, W). */
export function bceWithLogits(z: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar);
}

/** Fraction of points where (sigmoid(z) > 0.5) equals the label. */
export function accuracyOf(z: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.cast(tf.greater(z, 0), 'float32'), y), 'float32')) as tf.Scalar);
}

/** Dropout seed of micro-batch k: chunk 0 keeps the step's seed, later chunks get distinct masks. */
export function chunkDropoutSeed(seed: number | undefined, k: number): number | undefined {
  if (seed === undefined || k === 0) return seed;
  return (seed + Math.imul(k, 0x9e3779b9)) >>> 0;
}

export interface ChunkedBatch {
  /** (rows, windowSize, nCols) values, row-major. */
  x: Float32Array;
  /** (rows, windowSize) 0/1 labels. */
  y: Uint8Array;
}

export interface AccumulateOptions {
  /** Windows in `x`/`y`. */
  rows: number;
  windowSize: number;
  nCols: number;
  /** Windows per chunk (divides rows). */
  chunkRows: number;
  /** Windows of the whole batch (a worker's shard is part of it): the chunk weight is chunkRows / batchRows. */
  batchRows: number;
  /** Index of the first chunk within the whole batch (its dropout masks). Default 0. */
  chunkOffset?: number;
  /** Seed of the step's dropout masks. */
  dropoutSeed?: number;
  /** Differentiate (false: forward only, no tape — e.g. the final summary). */
  differentiate: boolean;
  /** Also sum the weighted accuracy. */
  accuracy: boolean;
  /** Parameter hook of the forward pass (LoRA adapters, see lora.ts). */
  adaptParams?: ApplyOptions['adaptParams'];
}

export interface AccumulatedChunks {
  /** Σ weighted chunk gradients by variable name (when differentiating). The caller disposes them. */
  grads?: tf.NamedTensorMap;
  /** Σ weighted chunk losses: the batch's mean BCE over these rows. The caller disposes it. */
  loss: tf.Scalar;
  /** Σ weighted chunk accuracies (when asked). The caller disposes it. */
  accuracy?: tf.Scalar;
}

export function accumulateChunks(model: AnomalyBert, varList: tf.Variable[], batch: ChunkedBatch, o: AccumulateOptions): AccumulatedChunks {
  const { rows, windowSize: W, nCols: C, chunkRows: mb } = o;
  if (mb < 1 || rows % mb !== 0) throw new Error(`chunk of ${mb} windows does not divide ${rows} windows`);
  const weight = mb / o.batchRows;
  const chunkValues = mb * W * C;
  const chunkPoints = mb * W;
  let loss: tf.Scalar = tf.scalar(0);
  let accuracy: tf.Scalar | undefined = o.accuracy ? tf.scalar(0) : undefined;
  let grads: tf.NamedTensorMap | undefined;
  try {
    for (let k = 0; k < rows / mb; k++) {
      // Chunk tensors straight from the host arrays (no slice of a full-batch tensor).
      const xk = tf.tensor3d(batch.x.subarray(k * chunkValues, (k + 1) * chunkValues), [mb, W, C]); // (mb, W, C)
      const yk = tf.tensor2d(Float32Array.from(batch.y.subarray(k * chunkPoints, (k + 1) * chunkPoints)), [mb, W]); // (mb, W)
      const dropoutSeed = chunkDropoutSeed(o.dropoutSeed, (o.chunkOffset ?? 0) + k);
      let logits: tf.Tensor2D | undefined;
      const chunkLoss = (): tf.Scalar => {
        const z = tf.squeeze(model.apply(xk, { training: true, dropoutSeed, adaptParams: o.adaptParams }), [2]) as tf.Tensor2D; // (mb, W)
        if (o.accuracy) logits = tf.keep(z);
        return tf.mul(bceWithLogits(z, yk), weight) as tf.Scalar;
      };
      try {
        let value: tf.Scalar;
        if (!o.differentiate) value = tf.tidy(chunkLoss);
        else {
          const r = tf.variableGrads(chunkLoss, varList);
          value = r.value;
          if (grads === undefined) grads = r.grads;
          else {
            const previous = grads;
            grads = {};
            for (const name of Object.keys(previous)) grads[name] = tf.add(previous[name], r.grads[name]);
            tf.dispose(Object.values(previous));
            tf.dispose(Object.values(r.grads));
          }
        }
        const nextLoss = tf.add(loss, value) as tf.Scalar;
        tf.dispose([loss, value]);
        loss = nextLoss;
        if (logits && accuracy) {
          const chunkLogits = logits;
          const previous = accuracy;
          accuracy = tf.tidy(() => tf.add(previous, tf.mul(accuracyOf(chunkLogits, yk), weight)) as tf.Scalar);
          previous.dispose();
        }
      } finally {
        tf.dispose([xk, yk]);
        if (logits) tf.dispose(logits);
      }
    }
    return { grads, loss, accuracy };
  } catch (e) {
    tf.dispose([loss, ...(accuracy ? [accuracy] : []), ...(grads ? Object.values(grads) : [])]);
    throw e;
  }
}
