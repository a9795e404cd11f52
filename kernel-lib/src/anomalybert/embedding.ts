/**
 * Patch embedding: a window of W = N·P points with C columns becomes N tokens, token t holding
 * points t·P … t·P+P−1 flattened point-major (all columns of a point, then the next point), then
 * Linear(P·C → D). No positional encoding (AnomalyBERT relies on the relative position bias).
 */
import * as tf from '@tensorflow/tfjs';
import { linear, linearSpecs, type ParamSpec, type Params } from './layers';

export const EMBEDDING_PREFIX = 'linear_embedding';

export function embeddingParamSpecs(patchSize: number, inputDim: number, dEmbed: number): ParamSpec[] {
  return linearSpecs(EMBEDDING_PREFIX, patchSize * inputDim, dEmbed);
}

/** x: (n, W, C) → (n·N, D), tokens of each window contiguous. */
export function embedPatches(x: tf.Tensor3D, p: Params, nTokens: number, patchSize: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, w, c] = x.shape;
    if (w !== nTokens * patchSize) throw new Error(`AnomalyBERT: window length ${w} ≠ nTokens ${nTokens} × patchSize ${patchSize}`);
    // (n, W, C) → (n·N, P·C): a pure reshape because a token's points are consecutive rows.
    const tokens = tf.reshape(x, [n * nTokens, patchSize * c]) as tf.Tensor2D;
    return linear(tokens, p, EMBEDDING_PREFIX);
  });
}
