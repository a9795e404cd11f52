/**
 * MLP head: Linear(D → hidden), exact GELU, Linear(hidden → P·out); each token's P·out outputs
 * are its P points' outputs (point-major), so reshaping gives (n, W, out). No dropout here.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu, linear, linearSpecs, type ParamSpec, type Params } from './layers';

export function headParamSpecs(dEmbed: number, hiddenDim: number, patchSize: number, outputDim: number): ParamSpec[] {
  return [...linearSpecs('mlp_layers.0', dEmbed, hiddenDim), ...linearSpecs('mlp_layers.2', hiddenDim, patchSize * outputDim)];
}

/** x: (n·N, D) → (n, W, out) logits. */
export function mlpHead(x: tf.Tensor2D, p: Params, nWindows: number, windowSize: number, outputDim: number): tf.Tensor3D {
  return tf.tidy(() => {
    const out = linear(gelu(linear(x, p, 'mlp_layers.0')), p, 'mlp_layers.2'); // (n·N, P·out)
    return tf.reshape(out, [nWindows, windowSize, outputDim]) as tf.Tensor3D;
  });
}
