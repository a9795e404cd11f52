/**
 * Multi-head self-attention with a learned 1-D relative position bias:
 *   scores[b, h, i, j] = (q_i · k_j)/√d_k + table[i − j + N − 1, h],   d_k = D / H,
 * softmax over j, then the output projection. No attention dropout and no mask (as the original).
 *
 * The bias lookup is built without gather (wasm has no UnsortedSegmentSum, gather's gradient):
 * a Toeplitz "skew" of the table by broadcasting, reshaping and slicing, all differentiable on
 * wasm and cpu.
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
 * Why it works: pad the table with one zero row to length 2N and repeat it N times; read the
 * flat result as rows of length 2N − 1. Row a then starts one element earlier in the period each
 * time, so element (a, k) is padded[(k − a) mod 2N]. With a = j and k = N − 1 + i the index is
 * i − j + N − 1 ∈ [0, 2N − 2] (never the pad). Slicing k ∈ [N−1, 2N−1) gives (j, i, H).
 */
export function relativePositionBias(table: tf.Tensor, nTokens: number): tf.Tensor3D {
  return tf.tidy(() => {
    const n = nTokens;
    const h = table.shape[1] as number;
    const padded = tf.concat([table, tf.zeros([1, h])], 0); // (2N, H)
    // Broadcast by adding zeros: its gradient is a sum (tile's gradient is a chain of slices).
    const repeated = tf.add(tf.zeros([n, 1, 1]), tf.expandDims(padded, 0)); // (N, 2N, H)
    const flat = tf.slice(tf.reshape(repeated, [n * 2 * n, h]), [0, 0], [n * (2 * n - 1), h]);
    const skewed = tf.reshape(flat, [n, 2 * n - 1, h]); // (j, k, H)
    const ji = tf.slice(skewed, [0, n - 1, 0], [n, n, h]); // (j, i, H)
    return tf.transpose(ji, [2, 1, 0]) as tf.Tensor3D; // (H, i, j)
  });
}

/**
 * x: (n·N, D) normalised tokens of n windows → (n·N, D) attention output (before dropout/residual).
 */
export function multiHeadAttention(x: tf.Tensor2D, p: Params, prefix: string, nTokens: number, nHead: number): tf.Tensor2D {
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
      [tf.mul(param(p, `${prefix}.word_fc_layers.0.bias`), scale), param(p, `${prefix}.word_fc_layers.1.bias`), param(p, `${prefix}.word_fc_layers.2.bias`)],
      0,
    ); // (3D)
    const qkv = tf.fused.matMul({ a: x, b: w, bias: b }); // (n·N, 3D)
    // (n, N, 3H, d_k) → (n, 3H, N, d_k); heads of Q, K, V are consecutive groups of H.
    const heads = tf.transpose(tf.reshape(qkv, [n, nTokens, 3 * nHead, dk]), [0, 2, 1, 3]);
    const [q, k, v] = tf.split(heads, 3, 1) as tf.Tensor4D[]; // each (n, H, N, d_k)
    const kT = tf.transpose(k, [0, 1, 3, 2]); // (n, H, d_k, N): plain matMul below, no transpose flag
    const bias = relativePositionBias(param(p, `${prefix}.relative_position_embedding_table`), nTokens); // (H, N, N)
    const scores = tf.add(tf.matMul(q, kT), bias); // (n, H, N, N)
    const probs = tf.softmax(scores, -1);
    const attended = tf.matMul(probs, v); // (n, H, N, d_k)
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [rows, d]) as tf.Tensor2D; // (n·N, D)
    return linear(merged, p, `${prefix}.output_fc_layer`);
  });
}
