/**
 * Building blocks shared by the AnomalyBERT modules: parameter specs, Linear, LayerNorm, exact
 * GELU and dropout.
 *
 * Parameter layout: every parameter is keyed by its torch state-dict name. Torch stores a Linear
 * weight as [out, in]; we keep it as [in, out] (transposed once when loading / saving) so every
 * forward product is a plain `x @ W` — on wasm a transposed matMul is ~10× slower.
 */
import * as tf from '@tensorflow/tfjs';

/** Parameters of a model, keyed by torch state-dict name (Linear weights in [in, out] layout). */
export type Params = ReadonlyMap<string, tf.Tensor>;

export type InitKind = 'xavier' | 'zeros' | 'ones';

export interface ParamSpec {
  /** Torch state-dict name. */
  name: string;
  /** Shape as torch stores it. */
  torchShape: number[];
  /** Initialisation for training from scratch (the original's xavier_uniform / zeros, LayerNorm ones/zeros). */
  init: InitKind;
  /** True for a torch Linear weight: stored transposed ([in, out]) here. */
  linearWeight: boolean;
}

export function linearSpecs(prefix: string, inDim: number, outDim: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, torchShape: [outDim, inDim], init: 'xavier', linearWeight: true },
    { name: `${prefix}.bias`, torchShape: [outDim], init: 'zeros', linearWeight: false },
  ];
}

export function layerNormSpecs(prefix: string, dim: number): ParamSpec[] {
  return [
    { name: `${prefix}.weight`, torchShape: [dim], init: 'ones', linearWeight: false },
    { name: `${prefix}.bias`, torchShape: [dim], init: 'zeros', linearWeight: false },
  ];
}

/** Shape as stored in our Params (Linear weights transposed). */
export function internalShape(spec: ParamSpec): number[] {
  return spec.linearWeight ? [spec.torchShape[1], spec.torchShape[0]] : spec.torchShape.slice();
}

export function param(p: Params, name: string): tf.Tensor {
  const t = p.get(name);
  if (!t) throw new Error(`AnomalyBERT: missing parameter '${name}'`);
  return t;
}

/** Linear layer: (m, in) → (m, out), bias fused into the product. */
export function linear(x: tf.Tensor2D, p: Params, prefix: string): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: param(p, `${prefix}.weight`) as tf.Tensor2D, bias: param(p, `${prefix}.bias`) }) as tf.Tensor2D;
}

/** LayerNorm over the last axis, biased variance, eps inside the square root (torch semantics). */
export function layerNorm(x: tf.Tensor2D, p: Params, prefix: string, eps = 1e-6): tf.Tensor2D {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    // x*x, not pow: pow is ~10× slower on wasm.
    const variance = tf.mean(tf.mul(centred, centred), -1, true);
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, param(p, `${prefix}.weight`)), param(p, `${prefix}.bias`)) as tf.Tensor2D;
  });
}

/** Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as torch's nn.GELU() default (wasm and cpu have Erf). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

/** How one forward pass runs: dropout only when training. */
export interface ForwardContext {
  training: boolean;
  dropout: number;
  /** Seed source for dropout masks (deterministic runs); unseeded when absent. */
  nextSeed?: () => number;
  /** Inference: the model's cache of relative position biases (see AttentionOptions). */
  cachedBias?: (prefix: string, table: tf.Tensor) => { full: tf.Tensor3D; heads?: tf.Tensor2D[] };
}

export function dropout<T extends tf.Tensor>(x: T, ctx: ForwardContext): T {
  if (!ctx.training || ctx.dropout <= 0) return x;
  return tf.dropout(x, ctx.dropout, undefined, ctx.nextSeed?.()) as T;
}
