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
import { describeOnnxModel, GraphBuilder, type GraphIO } from '../onnx/graph';
import { createOnnxSession, defaultThreads, loadOnnxRuntime, runFloat } from '../onnx/runtime';
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

export interface AnomalyBertOnnxExportOptions {
  /**
   * 'initializers' (default): the weights are stored in the file (a standalone model; onnxruntime
   * folds and pre-packs them). 'inputs': every parameter is a float32 graph input under its torch
   * name, fed at run time, so one session serves weights that change (training's summary scoring).
   */
  weights?: 'initializers' | 'inputs';
}

/**
 * The first-difference features of model.ts on an (n, W, C) input, as graph nodes:
 * [x, asinh((x_t − x_(t−1)) / s)] → (n, W, 2C), with a zero difference at each window's first point.
 * Shared by the inference export and the training graph (onnx-train.ts), which must read the same.
 */
export function appendDiffFeatures(g: GraphBuilder, input: string, diffScales: readonly number[], W: number): string {
  const axis1 = g.ints('axis1', [1]);
  const later = g.node('Slice', [input, g.ints('start1', [1]), g.ints('endW', [W]), axis1]);
  const earlier = g.node('Slice', [input, g.ints('start0', [0]), g.ints('endW1', [W - 1]), axis1]);
  const inv = g.floats(
    'diff_inv_scales',
    diffScales.map((s) => 1 / s),
  );
  const diff = g.node('Asinh', [g.node('Mul', [g.node('Sub', [later, earlier]), inv])]);
  const padded = g.node('Pad', [diff, g.ints('pad_first_step', [0, 1, 0, 0, 0, 0])], { mode: 'constant' });
  return g.node('Concat', [input, padded], { axis: 2 });
}

/** Graph of `model` as ONNX bytes. */
export function exportAnomalyBertOnnx(model: AnomalyBert, opts: AnomalyBertOnnxExportOptions = {}): Uint8Array {
  const c = model.config;
  const g = new GraphBuilder();
  const { nTokens: N, patchSize: P, dEmbed: D, nHead: H, nLayer: L, inputDim: C, outputDim: O } = c;
  const W = windowSize(c);
  const dk = D / H;
  // Internal layout: Linear weights [in, out], everything else as torch.
  const weightInputs: GraphIO[] = [];
  const w = (name: string): string => {
    const v = model.variable(name);
    if (opts.weights !== 'inputs') return g.weight(name, v.dataSync() as Float32Array, v.shape);
    weightInputs.push({ name, shape: v.shape });
    return name;
  };
  const linear = (x: string, prefix: string): string => g.node('Add', [g.node('MatMul', [x, w(`${prefix}.weight`)]), w(`${prefix}.bias`)]);
  const layerNorm = (x: string, prefix: string): string =>
    g.node('LayerNormalization', [x, w(`${prefix}.weight`), w(`${prefix}.bias`)], { axis: -1, epsilon: { float: 1e-6 } });
  const gelu = (x: string): string => g.node('Gelu', [x]);

  const features = c.diffScales ? appendDiffFeatures(g, ONNX_INPUT, c.diffScales, W) : ONNX_INPUT;
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
    inputs: [{ name: ONNX_INPUT, shape: ['batch', W, C] }, ...weightInputs],
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

/**
 * AnomalyBERT inference sessions opened so far in this process (`InferenceSession.create` calls
 * of this module): how tests check that training's summary scoring reuses one session.
 */
let sessionsCreated = 0;
export const onnxInferenceSessionsCreated = (): number => sessionsCreated;

async function openSession(bytes: Uint8Array, source: string, threads: number): Promise<Ort.InferenceSession> {
  const session = await createOnnxSession(bytes, source, threads);
  sessionsCreated++;
  return session;
}

/** An AnomalyBERT running in onnxruntime: the `apply` of model.ts on host arrays. */
export class OnnxAnomalyBert {
  /** Parameters fed with every run (a session of a 'weights: inputs' export), by torch name. */
  private weightFeed: Record<string, Ort.Tensor> | undefined;

  private constructor(
    readonly config: ResolvedAnomalyBertConfig,
    private readonly session: Ort.InferenceSession,
    readonly source: string,
  ) {}

  /** Export `model` in memory (weights as initializers) and open a session on it. */
  static async fromModel(model: AnomalyBert, opts: { threads?: number } = {}): Promise<OnnxAnomalyBert> {
    const bytes = exportAnomalyBertOnnx(model);
    return new OnnxAnomalyBert(
      { ...model.config, diffScales: model.config.diffScales?.slice() },
      await openSession(bytes, 'AnomalyBERT export', opts.threads ?? defaultThreads()),
      'AnomalyBERT export',
    );
  }

  /**
   * A session whose graph takes the weights as inputs: built once, it follows `model`'s current
   * weights after each `setWeights(model)` (the graph depends on the configuration only).
   */
  static async live(model: AnomalyBert, opts: { threads?: number } = {}): Promise<OnnxAnomalyBert> {
    const bytes = exportAnomalyBertOnnx(model, { weights: 'inputs' });
    const runner = new OnnxAnomalyBert(
      { ...model.config, diffScales: model.config.diffScales?.slice() },
      await openSession(bytes, 'AnomalyBERT export (weights as inputs)', opts.threads ?? defaultThreads()),
      'AnomalyBERT export (weights as inputs)',
    );
    runner.setWeights(model);
    return runner;
  }

  /** Open an .onnx file written by `exportAnomalyBertOnnx` (its configuration is in the metadata). */
  static async fromBytes(bytes: Uint8Array, source: string, opts: { threads?: number } = {}): Promise<OnnxAnomalyBert> {
    const summary = describeOnnxModel(bytes, source);
    const cfg = summary.metadata['anomaly-lab.config'];
    if (summary.metadata['anomaly-lab.model'] !== 'anomalybert' || !cfg)
      throw new Error(`${source}: not an AnomalyBERT exported by anomaly-lab (no anomaly-lab.config metadata)`);
    const config = JSON.parse(cfg) as ResolvedAnomalyBertConfig;
    return new OnnxAnomalyBert(config, await openSession(bytes, source, opts.threads ?? defaultThreads()), source);
  }

  get windowSize(): number {
    return windowSize(this.config as AnomalyBertConfig);
  }

  /** Copy `model`'s current weights into the feed of a `live` session (a snapshot: later updates need another call). */
  setWeights(model: AnomalyBert): void {
    if (!this.session.inputNames.includes(model.parameterNames()[0]))
      throw new Error(`${this.source}: this session holds its weights; setWeights needs OnnxAnomalyBert.live`);
    const ort = loadOnnxRuntime() as typeof Ort;
    const feed: Record<string, Ort.Tensor> = {};
    for (const [name, v] of model.namedVariables())
      feed[name] = new ort.Tensor('float32', Float32Array.from(v.dataSync() as Float32Array), v.shape);
    this.weightFeed = feed;
  }

  /** windows (k, W, C) row-major → (k, W, out): logits, or sigmoid scores. */
  async run(windows: Float32Array, k: number, output: 'logits' | 'scores' = 'logits'): Promise<Float32Array> {
    const { inputDim } = this.config;
    const name = output === 'logits' ? ONNX_LOGITS : ONNX_SCORES;
    const dims = [k, this.windowSize, inputDim];
    return runFloat(this.session, ONNX_INPUT, windows, dims, name, this.weightFeed);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * One session per live model, built on the weights-as-inputs graph: the graph depends only on the
 * configuration, so when the weights change (a variable's data id changes on every assign:
 * optimiser step, loadStateDict, reinitializeEmbedding) the session stays and only the fed weights
 * are refreshed. Training's summary scoring thus opens one session per run, not one per summary.
 * Measured on the workshop model (5 columns + differences, W 512, d 64, 2 layers), batches of 16:
 * the same speed as the graph with the weights folded in (1 thread ~17 vs ~15–21 ms, 2 threads
 * ~8–9 vs ~7–14 ms, noise of a shared machine) and identical outputs. The configuration
 * (setDiffScales changes the graph) and the thread count are the key.
 */
const sessions = new WeakMap<AnomalyBert, { ids: object[]; config: string; threads: number; runner: Promise<OnnxAnomalyBert> }>();

export function onnxRunnerFor(model: AnomalyBert, threads = defaultThreads()): Promise<OnnxAnomalyBert> {
  const ids = model.namedVariables().map(([, v]) => v.dataId as object);
  const config = JSON.stringify(model.config);
  const hit = sessions.get(model);
  if (hit && hit.threads === threads && hit.config === config) {
    if (hit.ids.length === ids.length && hit.ids.every((id, i) => id === ids[i])) return hit.runner;
    // Same graph, new weights: feed them to the session already open.
    const runner = hit.runner.then((r) => {
      r.setWeights(model);
      return r;
    });
    sessions.set(model, { ...hit, ids, runner });
    runner.catch(() => sessions.delete(model));
    return runner;
  }
  if (hit) void hit.runner.then((r) => r.dispose()).catch(() => undefined);
  const runner = OnnxAnomalyBert.live(model, { threads });
  sessions.set(model, { ids, config, threads, runner });
  runner.catch(() => sessions.delete(model));
  return runner;
}
