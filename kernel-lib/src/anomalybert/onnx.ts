/**
 * AnomalyBERT as an ONNX graph (opset 20, dynamic batch axis), and inference through onnxruntime.
 *
 *   x (batch, W, C) ─[first differences]─ Reshape (batch, N, P·F) ─ MatMul+Add ─ L × encoder layer
 *   ─ MatMul+Add, Gelu, MatMul+Add ─ Reshape → logits (batch, W, out), scores = Sigmoid(logits)
 *
 * Encoder layer (pre-norm, as model.ts): LayerNormalization(eps 1e-6) → Q, K, V MatMuls → scores
 * (batch, H, N, N) + relative position bias → Softmax → output projection → residual → LayerNorm →
 * Gelu feed-forward → residual. Initializers keep the torch state-dict names; Linear weights are
 * stored [in, out] (what MatMul reads). The bias is a Gather of the table by a constant (N, N)
 * index i − j + N − 1, so the file holds the table itself; onnxruntime folds it once per session.
 */
import { describeOnnxModel, GraphBuilder } from '../onnx/graph';
import { createOnnxSession, defaultThreads, runFloat } from '../onnx/runtime';
import { LIBRARY_VERSION } from '../version';
import { featuresPerPoint, windowSize, type AnomalyBertConfig, type ResolvedAnomalyBertConfig } from './config';
import { EMBEDDING_PREFIX } from './embedding';
import { attentionPrefix } from './attention';
import { encoderLayerPrefix } from './encoder';
import type { AnomalyBert } from './model';
import type * as Ort from 'onnxruntime-node';

export const ONNX_INPUT = 'x';
export const ONNX_LOGITS = 'logits';
export const ONNX_SCORES = 'scores';

/** Graph of `model` as ONNX bytes. */
export function exportAnomalyBertOnnx(model: AnomalyBert): Uint8Array {
  const c = model.config;
  const g = new GraphBuilder();
  const { nTokens: N, patchSize: P, dEmbed: D, nHead: H, nLayer: L, inputDim: C, outputDim: O } = c;
  const W = windowSize(c);
  const dk = D / H;
  // Internal layout: Linear weights [in, out], everything else as torch.
  const w = (name: string): string => {
    const v = model.variable(name);
    return g.weight(name, v.dataSync() as Float32Array, v.shape);
  };
  const linear = (x: string, prefix: string): string => g.node('Add', [g.node('MatMul', [x, w(`${prefix}.weight`)]), w(`${prefix}.bias`)]);
  const layerNorm = (x: string, prefix: string): string =>
    g.node('LayerNormalization', [x, w(`${prefix}.weight`), w(`${prefix}.bias`)], { axis: -1, epsilon: { float: 1e-6 } });
  const gelu = (x: string): string => g.node('Gelu', [x]);

  let features = ONNX_INPUT;
  if (c.diffScales) {
    // [x, asinh((x_t − x_(t−1)) / s)] with a zero difference at each window's first point.
    const axis1 = g.ints('axis1', [1]);
    const later = g.node('Slice', [ONNX_INPUT, g.ints('start1', [1]), g.ints('endW', [W]), axis1]);
    const earlier = g.node('Slice', [ONNX_INPUT, g.ints('start0', [0]), g.ints('endW1', [W - 1]), axis1]);
    const inv = g.floats(
      'diff_inv_scales',
      c.diffScales.map((s) => 1 / s),
    );
    const d = g.node('Asinh', [g.node('Mul', [g.node('Sub', [later, earlier]), inv])]);
    const padded = g.node('Pad', [d, g.ints('pad_first_step', [0, 1, 0, 0, 0, 0])], { mode: 'constant' });
    features = g.node('Concat', [ONNX_INPUT, padded], { axis: 2 });
  }
  const F = featuresPerPoint(c);
  // Tokens stay 2-D, (n·N, ·), between the attention blocks: onnxruntime fuses a 2-D MatMul + Add
  // into one Gemm (3-D products keep a separate bias Add, ~9% of a workshop batch).
  let x = linear(g.node('Reshape', [features, g.ints('tokens_shape', [-1, P * F])]), EMBEDDING_PREFIX); // (n·N, D)

  const idx: number[] = [];
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) idx.push(i - j + N - 1);
  const relIndex = g.ints('relative_index', idx, [N, N]);
  const headsShape = g.ints('heads_shape', [-1, N, H, dk]);
  const mergedShape = g.ints('merged_shape', [-1, D]);
  const scale = g.floats('inv_sqrt_dk', [1 / Math.sqrt(dk)], []);
  for (let l = 0; l < L; l++) {
    const prefix = encoderLayerPrefix(l);
    const att = attentionPrefix(l);
    const z = layerNorm(x, `${prefix}.norm_layers.0`);
    const heads = (k: number, perm: number[]): string =>
      g.node('Transpose', [g.node('Reshape', [linear(z, `${att}.word_fc_layers.${k}`), headsShape])], { perm });
    const q = g.node('Mul', [heads(0, [0, 2, 1, 3]), scale]); // (n, H, N, dk)
    const kT = heads(1, [0, 2, 3, 1]); // (n, H, dk, N)
    const v = heads(2, [0, 2, 1, 3]); // (n, H, N, dk)
    const table = w(`${att}.relative_position_embedding_table`); // (2N − 1, H)
    const bias = g.node('Transpose', [g.node('Gather', [table, relIndex], { axis: 0 })], { perm: [2, 0, 1] }); // (H, N, N)
    const probs = g.node('Softmax', [g.node('Add', [g.node('MatMul', [q, kT]), bias])], { axis: -1 });
    const merged = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), mergedShape]);
    const h = g.node('Add', [linear(merged, `${att}.output_fc_layer`), x]);
    const ff = `${prefix}.feed_forward_layer`;
    const inner = gelu(linear(layerNorm(h, `${prefix}.norm_layers.1`), `${ff}.first_fc_layer`));
    x = g.node('Add', [linear(inner, `${ff}.second_fc_layer`), h]);
  }
  const head = linear(gelu(linear(x, 'mlp_layers.0')), 'mlp_layers.2'); // (n·N, P·out)
  const logits = g.node('Reshape', [head, g.ints('out_shape', [-1, W, O])]);
  g.output(logits, ONNX_LOGITS);
  g.output(g.node('Sigmoid', [logits]), ONNX_SCORES);
  return g.build({
    name: 'anomalybert',
    inputs: [{ name: ONNX_INPUT, shape: ['batch', W, C] }],
    outputs: [
      { name: ONNX_LOGITS, shape: ['batch', W, O] },
      { name: ONNX_SCORES, shape: ['batch', W, O] },
    ],
    producerVersion: LIBRARY_VERSION,
    docString:
      'AnomalyBERT exported by anomaly-lab: x (batch, window, columns) float32 → logits and sigmoid scores (batch, window, outputs)',
    metadata: { 'anomaly-lab.model': 'anomalybert', 'anomaly-lab.config': JSON.stringify(c) },
  });
}

/** An AnomalyBERT running in onnxruntime: the `apply` of model.ts on host arrays. */
export class OnnxAnomalyBert {
  private constructor(
    readonly config: ResolvedAnomalyBertConfig,
    private readonly session: Ort.InferenceSession,
    readonly source: string,
  ) {}

  /** Export `model` in memory and open a session on it. */
  static async fromModel(model: AnomalyBert, opts: { threads?: number } = {}): Promise<OnnxAnomalyBert> {
    const bytes = exportAnomalyBertOnnx(model);
    return new OnnxAnomalyBert(
      { ...model.config, diffScales: model.config.diffScales?.slice() },
      await createOnnxSession(bytes, 'AnomalyBERT export', opts.threads ?? defaultThreads()),
      'AnomalyBERT export',
    );
  }

  /** Open an .onnx file written by `exportAnomalyBertOnnx` (its configuration is in the metadata). */
  static async fromBytes(bytes: Uint8Array, source: string, opts: { threads?: number } = {}): Promise<OnnxAnomalyBert> {
    const summary = describeOnnxModel(bytes, source);
    const cfg = summary.metadata['anomaly-lab.config'];
    if (summary.metadata['anomaly-lab.model'] !== 'anomalybert' || !cfg)
      throw new Error(`${source}: not an AnomalyBERT exported by anomaly-lab (no anomaly-lab.config metadata)`);
    const config = JSON.parse(cfg) as ResolvedAnomalyBertConfig;
    return new OnnxAnomalyBert(config, await createOnnxSession(bytes, source, opts.threads ?? defaultThreads()), source);
  }

  get windowSize(): number {
    return windowSize(this.config as AnomalyBertConfig);
  }

  /** windows (k, W, C) row-major → (k, W, out): logits, or sigmoid scores. */
  run(windows: Float32Array, k: number, output: 'logits' | 'scores' = 'logits'): Promise<Float32Array> {
    const { inputDim } = this.config;
    return runFloat(this.session, ONNX_INPUT, windows, [k, this.windowSize, inputDim], output === 'logits' ? ONNX_LOGITS : ONNX_SCORES);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Sessions of live models, rebuilt when the weights change: a variable's data id changes on every
 * assign (optimiser step, loadStateDict, reinitializeEmbedding), so the list of ids is the key.
 */
const sessions = new WeakMap<AnomalyBert, { ids: object[]; config: string; threads: number; runner: Promise<OnnxAnomalyBert> }>();

export function onnxRunnerFor(model: AnomalyBert, threads = defaultThreads()): Promise<OnnxAnomalyBert> {
  const ids = model.namedVariables().map(([, v]) => v.dataId as object);
  const config = JSON.stringify(model.config); // setDiffScales changes the graph, not the weights
  const hit = sessions.get(model);
  if (hit && hit.threads === threads && hit.config === config && hit.ids.length === ids.length && hit.ids.every((id, i) => id === ids[i]))
    return hit.runner;
  if (hit) void hit.runner.then((r) => r.dispose()).catch(() => undefined);
  const runner = OnnxAnomalyBert.fromModel(model, { threads });
  sessions.set(model, { ids, config, threads, runner });
  runner.catch(() => sessions.delete(model));
  return runner;
}
