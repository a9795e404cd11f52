/**
 * Multi-head self-attention with a learned 1-D relative position bias:
 *   scores[b, h, i, j] = (q_i · k_j)/√d_k + table[i − j + N − 1, h],   d_k = D / H,
 * softmax over j, then the output projection. No attention dropout and no mask (as the original).
 *
 * The bias lookup is a host-side gather with a custom scatter-add gradient on wasm and cpu (wasm
 * has no UnsortedSegmentSum, gather's gradient), an on-device gather elsewhere; see
 * relativePositionBias.
 */
import * as tf from '@tensorflow/tfjs';
import { linear, linearSpecs, param, type ParamSpec, type Params } from './layers';

export function attentionPrefix(layer: number): string {
  return `transformer_encoder.encoder_layers.${layer}.attention_layer`;
}

export function attentionParamSpecs(prefix: string, dEmbed: number, nTokens: number, nHead: number): ParamSpec[] {
  return [
    ...linearSpecs(`${prefix}.word_fc_layers.0`, dEmbed, dEmbed),
    ...linearSpecs(`${prefix}.word_fc_layers.1`, dEmbed, dEmbed),
    ...linearSpecs(`${prefix}.word_fc_layers.2`, dEmbed, dEmbed),
    ...linearSpecs(`${prefix}.output_fc_layer`, dEmbed, dEmbed),
    // xavier too: the original's EncoderLayer re-initialises every 2-D attention parameter.
    { name: `${prefix}.relative_position_embedding_table`, torchShape: [2 * nTokens - 1, nHead], init: 'xavier', linearWeight: false },
  ];
}

/**
 * Relative position bias (H, N, N) from the table (2N − 1, H): bias[h, i, j] = table[i − j + N − 1, h].
 *
 * A gather and its scatter-add gradient, both done on the host: the table is tiny and the bias is
 * a pure copy of its entries, so the forward values are the table's bit for bit; the gradient sums
 * dBias over each diagonal, dTable[r, h] = Σ_{i − j + N − 1 = r} dBias[h, i, j] (in float64). Why
 * not tensor ops: wasm has no gather gradient (UnsortedSegmentSum), and the broadcast/reshape/slice
 * skew that replaced it cost ~7% of an ESS training pass per window (profiled: the Sum, Pad and
 * Transpose of its backward pass over a (N, 2N, H) intermediate), paid again for every micro-batch.
 */
const relativeBiasOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const table = args[0] as tf.Tensor;
  const [rows, h] = table.shape as [number, number];
  const n = (rows + 1) / 2;
  const t = table.dataSync();
  const out = new Float32Array(h * n * n);
  for (let k = 0; k < h; k++) {
    for (let i = 0; i < n; i++) {
      const base = (k * n + i) * n;
      for (let j = 0; j < n; j++) out[base + j] = t[(i - j + n - 1) * h + k];
    }
  }
  return {
    value: tf.tensor3d(out, [h, n, n]),
    gradFunc: (dy: tf.Tensor) => {
      const d = dy.dataSync();
      const g = new Float64Array(rows * h);
      for (let k = 0; k < h; k++) {
        for (let i = 0; i < n; i++) {
          const base = (k * n + i) * n;
          for (let j = 0; j < n; j++) g[(i - j + n - 1) * h + k] += d[base + j];
        }
      }
      return tf.tensor2d(Float32Array.from(g), [rows, h]);
    },
  };
});

/**
 * Backends whose gather runs on the host anyway (wasm, cpu): there the host copy above is the
 * cheapest form. Elsewhere (webgl, webgpu, tensorflow, tensorflow-gpu) reading the table back to
 * the host every forward pass would stall the device, and those backends have gather's gradient
 * (UnsortedSegmentSum), so the bias is an on-device gather.
 */
const HOST_BIAS_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/** The flat gather indices i − j + N − 1 (row-major over i, j), one kept tensor per backend and N. */
const biasIndexCache = new Map<string, tf.Tensor1D>();
function biasIndices(nTokens: number): tf.Tensor1D {
  const key = `${tf.getBackend()}:${nTokens}`;
  const cached = biasIndexCache.get(key);
  if (cached && !cached.isDisposed) return cached;
  const idx = new Int32Array(nTokens * nTokens);
  for (let i = 0; i < nTokens; i++) for (let j = 0; j < nTokens; j++) idx[i * nTokens + j] = i - j + nTokens - 1;
  // Kept: created once and reused by every forward pass (the tensor count stays flat across steps).
  const t = tf.keep(tf.tensor1d(idx, 'int32'));
  biasIndexCache.set(key, t);
  return t;
}

/** The on-device form of the bias: gather (N·N, H) → (N, N, H) → (H, N, N); same values. */
function relativeBiasByGather(table: tf.Tensor, nTokens: number): tf.Tensor3D {
  const [, h] = table.shape as [number, number];
  return tf.tidy(() => tf.transpose(tf.reshape(tf.gather(table, biasIndices(nTokens)), [nTokens, nTokens, h]), [2, 0, 1]));
}

export function relativePositionBias(table: tf.Tensor, nTokens: number, opts: { onHost?: boolean } = {}): tf.Tensor3D {
  const [rows] = table.shape;
  if (rows !== 2 * nTokens - 1)
    throw new Error(`relative position table has ${rows} rows, ${2 * nTokens - 1} expected for ${nTokens} tokens`);
  const onHost = opts.onHost ?? HOST_BIAS_BACKENDS.has(tf.getBackend());
  return onHost ? (relativeBiasOp(table) as tf.Tensor3D) : relativeBiasByGather(table, nTokens);
}

/**
 * Large token counts on wasm: wasm's BatchMatMul falls back to a slow generic loop for a batch of
 * different right-hand sides, while a 2-D product runs XNNPACK (measured 4–10× faster from N = 256
 * tokens). So each (window, head) is computed with 2-D products, reading Q, K, V straight out of the
 * fused projection and concatenating heads back into the (token, head·d_k) layout.
 */
export function usesPerHeadAttention(nTokens: number, dk: number): boolean {
  return nTokens * nTokens * dk >= 2_000_000 && tf.getBackend() === 'wasm';
}

/**
 * Per-(window, head) operands: Q (N, d_k), Kᵀ (d_k, N), V (N, d_k) for window w, head h.
 * Training slices tensors (differentiable). Inference reads the projection once and cuts it in
 * JS: wasm's Slice copies its WHOLE input for every slice (readSync), which made 3·n·H slices cost
 * more than the attention products themselves.
 */
function headOperands(
  qkv: tf.Tensor2D,
  nTokens: number,
  nHead: number,
  differentiable: boolean,
): (w: number, h: number) => [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const d = qkv.shape[1] / 3;
  const dk = d / nHead;
  const n = qkv.shape[0] / nTokens;
  if (differentiable) {
    // n·3H blocks (N, d_k): every head's Q, K, V of every window, cut by ONE unstack. Its gradient
    // is one stack; separate slices would each back-propagate a zero-padded copy of the whole
    // (n·3H·N, d_k) tensor, all alive until tfjs's backward pass ends (~0.85 GB per ESS window).
    const heads = tf.transpose(tf.reshape(qkv, [n, nTokens, 3 * nHead, dk]), [0, 2, 1, 3]); // (n, 3H, N, d_k)
    const blocks = tf.unstack(tf.reshape(heads, [n * 3 * nHead, nTokens, dk])) as tf.Tensor2D[];
    const block = (w: number, i: number): tf.Tensor2D => blocks[w * 3 * nHead + i];
    return (w, h) => [block(w, h), tf.transpose(block(w, nHead + h)), block(w, 2 * nHead + h)];
  }
  const data = qkv.dataSync() as Float32Array; // (n·N, 3D)
  const width = 3 * d;
  return (w, h) => {
    const q = new Float32Array(nTokens * dk);
    const kT = new Float32Array(dk * nTokens);
    const v = new Float32Array(nTokens * dk);
    for (let t = 0; t < nTokens; t++) {
      const row = (w * nTokens + t) * width + h * dk;
      for (let c = 0; c < dk; c++) {
        q[t * dk + c] = data[row + c];
        kT[c * nTokens + t] = data[row + d + c];
        v[t * dk + c] = data[row + 2 * d + c];
      }
    }
    return [tf.tensor2d(q, [nTokens, dk]), tf.tensor2d(kT, [dk, nTokens]), tf.tensor2d(v, [nTokens, dk])];
  };
}

/** qkv: (n·N, 3D) → (n·N, D); biasHeads: H tensors (N, N). */
function perHeadAttention(
  qkv: tf.Tensor2D,
  biasHeads: tf.Tensor2D[],
  nTokens: number,
  nHead: number,
  differentiable: boolean,
): tf.Tensor2D {
  return tf.tidy(() => {
    const n = qkv.shape[0] / nTokens;
    const operands = headOperands(qkv, nTokens, nHead, differentiable);
    const windows: tf.Tensor2D[] = [];
    for (let w = 0; w < n; w++) {
      const heads: tf.Tensor2D[] = [];
      for (let h = 0; h < nHead; h++) {
        const [q, kT, v] = operands(w, h);
        const probs = tf.softmax(tf.add(tf.matMul(q, kT), biasHeads[h]), -1) as tf.Tensor2D; // (N, N)
        heads.push(tf.matMul(probs, v)); // (N, d_k)
      }
      windows.push(tf.concat(heads, 1)); // (N, D): heads side by side, the torch layout
    }
    return tf.concat(windows, 0);
  });
}

/** Bias for one layer: the full (H, N, N) tensor and, for the per-head path, its H slices. */
export interface LayerBias {
  full: tf.Tensor3D;
  heads?: tf.Tensor2D[];
}

export interface AttentionOptions {
  /**
   * Inference only: the bias of this layer's current table, computed once and cached by the model
   * (the table cannot change between optimiser steps there). Absent in training: the bias is
   * rebuilt in the differentiable path.
   */
  cachedBias?: (prefix: string, table: tf.Tensor) => LayerBias;
}

/**
 * x: (n·N, D) normalised tokens of n windows → (n·N, D) attention output (before dropout/residual).
 */
export function multiHeadAttention(
  x: tf.Tensor2D,
  p: Params,
  prefix: string,
  nTokens: number,
  nHead: number,
  opts: AttentionOptions = {},
): tf.Tensor2D {
  return tf.tidy(() => {
    const [rows, d] = x.shape;
    const n = rows / nTokens;
    const dk = d / nHead;
    const scale = 1 / Math.sqrt(dk);
    // One fused product for Q, K and V; the 1/√d_k scale is folded into Q's weight and bias.
    const w = tf.concat(
      [
        tf.mul(param(p, `${prefix}.word_fc_layers.0.weight`), scale),
        param(p, `${prefix}.word_fc_layers.1.weight`),
        param(p, `${prefix}.word_fc_layers.2.weight`),
      ],
      1,
    ) as tf.Tensor2D; // (D, 3D)
    const b = tf.concat(
      [
        tf.mul(param(p, `${prefix}.word_fc_layers.0.bias`), scale),
        param(p, `${prefix}.word_fc_layers.1.bias`),
        param(p, `${prefix}.word_fc_layers.2.bias`),
      ],
      0,
    ); // (3D)
    const qkv = tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D; // (n·N, 3D)
    const table = param(p, `${prefix}.relative_position_embedding_table`);
    const perHead = usesPerHeadAttention(nTokens, dk);
    let merged: tf.Tensor2D;
    if (perHead) {
      const cached = opts.cachedBias?.(prefix, table).heads;
      const heads = cached ?? (tf.unstack(relativePositionBias(table, nTokens)) as tf.Tensor2D[]); // H × (N, N)
      merged = perHeadAttention(qkv, heads, nTokens, nHead, opts.cachedBias === undefined);
    } else {
      const bias = opts.cachedBias?.(prefix, table).full ?? relativePositionBias(table, nTokens); // (H, N, N)
      // (n, N, 3H, d_k) → (n, 3H, N, d_k); heads of Q, K, V are consecutive groups of H.
      const heads = tf.transpose(tf.reshape(qkv, [n, nTokens, 3 * nHead, dk]), [0, 2, 1, 3]);
      const [q, k, v] = tf.split(heads, 3, 1) as tf.Tensor4D[]; // each (n, H, N, d_k)
      const kT = tf.transpose(k, [0, 1, 3, 2]); // (n, H, d_k, N): plain matMul below, no transpose flag
      const scores = tf.add(tf.matMul(q, kT), bias); // (n, H, N, N)
      const probs = tf.softmax(scores, -1);
      const attended = tf.matMul(probs, v); // (n, H, N, d_k)
      merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [rows, d]) as tf.Tensor2D; // (n·N, D)
    }
    return linear(merged, p, `${prefix}.output_fc_layer`);
  });
}
