/**
 * Pre-norm transformer encoder layer (the original's EncoderLayer):
 *   h = x + Dropout(Attn(LN₀(x)));   out = h + Dropout(FF(LN₁(h)))
 *   FF(z) = Linear(4D→D)(Dropout(GELU(Linear(D→4D)(z))))
 * LayerNorm eps 1e-6, exact GELU; no final norm after the last layer.
 */
import * as tf from '@tensorflow/tfjs';
import { attentionParamSpecs, attentionPrefix, multiHeadAttention } from './attention';
import { dropout, gelu, layerNorm, layerNormSpecs, linear, linearSpecs, type ForwardContext, type ParamSpec, type Params } from './layers';

export function encoderLayerPrefix(layer: number): string {
  return `transformer_encoder.encoder_layers.${layer}`;
}

export function encoderLayerParamSpecs(layer: number, dEmbed: number, hiddenDim: number, nTokens: number, nHead: number): ParamSpec[] {
  const prefix = encoderLayerPrefix(layer);
  return [
    ...attentionParamSpecs(attentionPrefix(layer), dEmbed, nTokens, nHead),
    ...linearSpecs(`${prefix}.feed_forward_layer.first_fc_layer`, dEmbed, hiddenDim),
    ...linearSpecs(`${prefix}.feed_forward_layer.second_fc_layer`, hiddenDim, dEmbed),
    ...layerNormSpecs(`${prefix}.norm_layers.0`, dEmbed),
    ...layerNormSpecs(`${prefix}.norm_layers.1`, dEmbed),
  ];
}

/** x: (n·N, D) → (n·N, D). */
export function encoderLayer(x: tf.Tensor2D, p: Params, layer: number, nTokens: number, nHead: number, ctx: ForwardContext): tf.Tensor2D {
  return tf.tidy(() => {
    const prefix = encoderLayerPrefix(layer);
    const attended = multiHeadAttention(layerNorm(x, p, `${prefix}.norm_layers.0`), p, attentionPrefix(layer), nTokens, nHead, {
      cachedBias: ctx.training ? undefined : ctx.cachedBias,
    });
    const h = tf.add(dropout(attended, ctx), x) as tf.Tensor2D;
    const ff = `${prefix}.feed_forward_layer`;
    const inner = dropout(gelu(linear(layerNorm(h, p, `${prefix}.norm_layers.1`), p, `${ff}.first_fc_layer`)), ctx);
    return tf.add(dropout(linear(inner, p, `${ff}.second_fc_layer`), ctx), h) as tf.Tensor2D;
  });
}

/** All L layers: (n·N, D) → (n·N, D). */
export function transformerEncoder(
  x: tf.Tensor2D,
  p: Params,
  nLayer: number,
  nTokens: number,
  nHead: number,
  ctx: ForwardContext,
): tf.Tensor2D {
  return tf.tidy(() => {
    let out = x;
    for (let l = 0; l < nLayer; l++) out = encoderLayer(out, p, l, nTokens, nHead, ctx);
    return out;
  });
}
