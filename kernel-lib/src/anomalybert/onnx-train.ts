/**
 * AnomalyBERT's training graph as ONNX: forward pass, BCE loss and the backward pass (onnx/grad.ts)
 * in one graph, so onnxruntime-node's plain InferenceSession computes a training step natively.
 *
 *   inputs   x (n, W, C) raw windows, y (n, W) 0/1 labels, every parameter under its torch name
 *            (internal layout: Linear weights [in, out]), and with dropout the three masks of each
 *            layer (tfjs's dropout multipliers, drawn by the trainer with tfjs's own RNG)
 *   outputs  loss (scalar), logits (n, W, out), and `grad:<torch name>` for each trained parameter
 *
 * Parameters are graph inputs, not initializers: they change every step and the session is built
 * once per (configuration, batch size, trained set). The forward pass is the one of model.ts
 * (pre-norm encoder, exact GELU, LayerNorm eps 1e-6, dropout after the attention, inside and after
 * the feed-forward block, first-difference features when configured); the loss is the tfjs
 * trainer's `bceWithLogits` (mean over n·W points). The relative position bias is a Gather of the
 * table (gradient: ScatterElements with reduction add).
 *
 * LoRA (`lora` option, training/lora.ts): each adapted projection multiplies by W + s·(A·B), built
 * in the graph from the frozen W and the adapters A (in, r), B (r, out), which are inputs named
 * `<target>.lora_A` / `<target>.lora_B` with their own `grad:` outputs (the existing MatMul, Mul and
 * Add rules differentiate them; W gets no gradient unless it is trained too).
 */
import { DiffGraph } from '../onnx/grad';
import { LIBRARY_VERSION } from '../version';
import { featuresPerPoint, windowSize, type ResolvedAnomalyBertConfig } from './config';
import { EMBEDDING_PREFIX } from './embedding';
import { attentionPrefix } from './attention';
import { encoderLayerPrefix } from './encoder';
import { internalShape } from './layers';
import { parameterSpecs } from './model';
import { appendDiffFeatures } from './onnx';

export const TRAIN_INPUT_X = 'x';
export const TRAIN_INPUT_Y = 'y';
export const TRAIN_OUTPUT_LOSS = 'loss';
export const TRAIN_OUTPUT_LOGITS = 'logits';
/** Output name of a parameter's gradient. */
export const gradOutputName = (param: string): string => `grad:${param}`;

/** Where the dropout masks of layer l go, in the order the tfjs forward pass draws them. */
export const DROPOUT_SITES = ['attention', 'inner', 'output'] as const;
export const dropoutInputName = (layer: number, site: (typeof DROPOUT_SITES)[number]): string => `dropout.${layer}.${site}`;

export interface TrainingGraphOptions {
  /** Windows per step (the graph's static batch size). */
  batch: number;
  /** Torch names of the parameters whose gradients are outputs (the others are inputs only). */
  trained: readonly string[];
  /** Dropout masks as inputs (training mode with dropout > 0); false: no dropout (eval-mode forward). */
  dropout: boolean;
  /**
   * Recompute the attention probabilities and the feed-forward's GELU-and-dropout output in the
   * backward pass instead of keeping them (default true): saves n·H·N² + n·N·hidden floats a layer
   * (ESS batch 16: 134 + 67 MB × 6 layers) for ~3% more work.
   */
  recomputeAttention?: boolean;
  /**
   * LoRA adapters: `targets` are Linear prefixes (torch names without `.weight`) whose weight
   * becomes W + scale·(A·B); A and B are inputs `<target>.lora_A` (in, rank) and `<target>.lora_B`
   * (rank, out), trainable through `trained` like any parameter. The caller (training/lora.ts)
   * chooses the targets and the scale alpha/rank, so the graph composes exactly what tfjs does.
   */
  lora?: { rank: number; scale: number; targets: readonly string[] };
}

export interface TrainingGraph {
  bytes: Uint8Array;
  /** Every parameter input: torch name and internal shape, in state-dict order, then the LoRA adapters. */
  params: Array<{ name: string; shape: number[] }>;
  /** Dropout keep-masks (bool inputs) in draw order (empty without dropout). */
  masks: Array<{ name: string; shape: number[] }>;
  /** Trained parameter → gradient output name. */
  grads: Map<string, string>;
}

/** The training graph of `config` at a fixed batch size. */
export function exportAnomalyBertTrainingGraph(config: ResolvedAnomalyBertConfig, opts: TrainingGraphOptions): TrainingGraph {
  const c = config;
  const { nTokens: N, patchSize: P, dEmbed: D, nHead: H, nLayer: L, inputDim: C, outputDim: O } = c;
  const n = opts.batch;
  if (!Number.isInteger(n) || n < 1) throw new Error(`ONNX training graph: batch must be a positive integer, got ${n}`);
  if (O !== 1) throw new Error(`ONNX training graph: the BCE loss needs one output column, the model has ${O}`);
  const W = windowSize(c);
  const dk = D / H;
  const rows = n * N;
  const d = new DiffGraph();
  const g = d.g;
  const trained = new Set(opts.trained);
  const specs = parameterSpecs(c);
  const params = specs.map((s) => ({ name: s.name, shape: internalShape(s) }));
  const adapted = new Set(opts.lora?.targets ?? []);
  if (opts.lora) {
    const r = opts.lora.rank;
    if (!Number.isInteger(r) || r < 1) throw new Error(`ONNX training graph: LoRA rank must be a positive integer, got ${r}`);
    for (const t of opts.lora.targets) {
      const w = params.find((p) => p.name === `${t}.weight`);
      if (!w || w.shape.length !== 2) throw new Error(`ONNX training graph: LoRA target '${t}' is not a Linear layer of the model`);
      params.push({ name: `${t}.lora_A`, shape: [w.shape[0], r] }, { name: `${t}.lora_B`, shape: [r, w.shape[1]] });
    }
  }
  for (const name of trained) if (!params.some((p) => p.name === name)) throw new Error(`ONNX training graph: no parameter '${name}'`);
  for (const p of params) d.declare(p.name, p.shape, trained.has(p.name));
  d.declare(TRAIN_INPUT_X, [n, W, C]);
  d.declare(TRAIN_INPUT_Y, [n, W]);
  const masks: Array<{ name: string; shape: number[] }> = [];

  // lora.ts's effective weight: add(W, mul(matMul(A, B), scale)), the same ops in the same order.
  const loraScale = opts.lora ? d.floats('lora_scale', [Math.fround(opts.lora.scale)], []) : '';
  const weight = (prefix: string): string =>
    adapted.has(prefix)
      ? d.add(`${prefix}.weight`, d.mul(d.matMul(`${prefix}.lora_A`, `${prefix}.lora_B`), loraScale))
      : `${prefix}.weight`;
  const linear = (x: string, prefix: string): string => d.add(d.matMul(x, weight(prefix)), `${prefix}.bias`);
  const layerNorm = (x: string, prefix: string): string => d.layerNorm(x, `${prefix}.weight`, `${prefix}.bias`, 1e-6);
  // tf.dropout multiplies by floor(u + keep)/keep: 1/keep in float32 where kept, 0 elsewhere. The
  // mask enters as bool (one byte a unit, a quarter of a float mask: ESS feeds 151 M of them a
  // step) and x·(1/keep) is selected by Where, whose gradient needs only the bool mask.
  const withDropout = opts.dropout && c.dropout > 0;
  const dropScale = withDropout ? d.floats('dropout_scale', [Math.fround(1 / Math.fround(1 - c.dropout))], []) : '';
  const zero = withDropout ? d.floats('zero', [0], []) : '';
  /** Dropout of x; with `recompute`, its values (and x) are recomputed in the backward pass. */
  const dropout = (x: string, layer: number, site: (typeof DROPOUT_SITES)[number], recompute = false): string => {
    if (!withDropout) {
      if (recompute) d.recompute(x);
      return x;
    }
    const name = d.declare(dropoutInputName(layer, site), d.shape(x));
    masks.push({ name, shape: d.shape(x) });
    const scaled = d.mul(x, dropScale);
    const out = d.where(name, scaled, zero);
    if (recompute) d.recompute(x, scaled, out);
    return out;
  };

  // First differences of the raw input: constants of the backward pass (no parameter involved).
  const features = c.diffScales ? d.declare(appendDiffFeatures(g, TRAIN_INPUT_X, c.diffScales, W), [n, W, 2 * C]) : TRAIN_INPUT_X;
  const F = featuresPerPoint(c);
  d.label = EMBEDDING_PREFIX;
  let x = linear(d.reshape(features, [rows, P * F]), EMBEDDING_PREFIX); // (n·N, D)

  const idx: number[] = [];
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) idx.push(i - j + N - 1);
  const relIndex = d.ints('relative_index', idx, [N, N]);
  const scale = d.floats('inv_sqrt_dk', [1 / Math.sqrt(dk)], []);
  for (let l = 0; l < L; l++) {
    const prefix = encoderLayerPrefix(l);
    const att = attentionPrefix(l);
    d.label = att;
    const z = layerNorm(x, `${prefix}.norm_layers.0`);
    const heads = (k: number, perm: number[]): string =>
      d.transpose(d.reshape(linear(z, `${att}.word_fc_layers.${k}`), [n, N, H, dk]), perm);
    const q = d.mul(heads(0, [0, 2, 1, 3]), scale); // (n, H, N, dk)
    const kT = heads(1, [0, 2, 3, 1]); // (n, H, dk, N)
    const v = heads(2, [0, 2, 1, 3]); // (n, H, N, dk)
    const bias = d.transpose(d.gather(`${att}.relative_position_embedding_table`, relIndex), [2, 0, 1]); // (H, N, N)
    const scores = d.matMul(q, kT);
    const biased = d.add(scores, bias);
    const probs = d.softmax(biased); // (n, H, N, N)
    // Not kept for the backward pass: recomputed there from q, kT and the table (see DiffGraph.recompute).
    if (opts.recomputeAttention ?? true) d.recompute(scores, biased, probs);
    const merged = d.reshape(d.transpose(d.matMul(probs, v), [0, 2, 1, 3]), [rows, D]);
    const h = d.add(dropout(linear(merged, `${att}.output_fc_layer`), l, 'attention'), x);
    const ff = `${prefix}.feed_forward_layer`;
    d.label = ff;
    // The feed-forward's widest activation (n·N × hidden) is kept once, as the Gelu's input: its
    // output after dropout, which the second product's weight gradient reads, is recomputed.
    const inner = dropout(
      d.unary('Gelu', linear(layerNorm(h, `${prefix}.norm_layers.1`), `${ff}.first_fc_layer`)),
      l,
      'inner',
      opts.recomputeAttention ?? true,
    );
    x = d.add(dropout(linear(inner, `${ff}.second_fc_layer`), l, 'output'), h);
  }
  d.label = 'mlp_layers';
  const head = linear(d.unary('Gelu', linear(x, 'mlp_layers.0')), 'mlp_layers.2'); // (n·N, P·out)
  const logits = d.reshape(head, [n, W]);
  d.label = 'loss';
  const loss = d.bceWithLogitsMean(logits, TRAIN_INPUT_Y);
  const wrt = params.filter((p) => trained.has(p.name)).map((p) => p.name);
  const gradValues = d.gradients(loss, wrt);
  g.output(loss, TRAIN_OUTPUT_LOSS);
  g.output(g.node('Reshape', [logits, g.ints('out_shape', [n, W, O])]), TRAIN_OUTPUT_LOGITS);
  const grads = new Map<string, string>();
  for (const name of wrt) {
    grads.set(name, gradOutputName(name));
    g.output(gradValues.get(name) as string, gradOutputName(name));
  }
  const bytes = g.build({
    name: 'anomalybert_training_step',
    inputs: [
      { name: TRAIN_INPUT_X, shape: [n, W, C] },
      { name: TRAIN_INPUT_Y, shape: [n, W] },
      ...params,
      ...masks.map((m) => ({ ...m, type: 'bool' as const })),
    ],
    outputs: [
      { name: TRAIN_OUTPUT_LOSS, shape: [] },
      { name: TRAIN_OUTPUT_LOGITS, shape: [n, W, O] },
      ...wrt.map((name) => ({ name: gradOutputName(name), shape: params.find((p) => p.name === name)?.shape ?? [] })),
    ],
    producerVersion: LIBRARY_VERSION,
    docString: 'AnomalyBERT training step exported by anomaly-lab: loss, logits and parameter gradients',
    metadata: { 'anomaly-lab.model': 'anomalybert-training-step', 'anomaly-lab.config': JSON.stringify(c) },
  });
  return { bytes, params, masks, grads };
}
