/**
 * AnomalyBERT (Jeong et al., 2023) on tfjs, numerically matching the original PyTorch model.
 *
 *   x (n, W, C) ─ embedPatches → (n·N, D) ─ L × encoderLayer → (n·N, D) ─ mlpHead → (n, W, out) logits
 *
 * Parameters are `tf.Variable`s keyed by the torch state-dict names, so a torch `state_dict.pt`
 * maps one to one. Torch Linear weights ([out, in]) are held transposed ([in, out]); `toStateDict`
 * and `fromStateDict` convert, so state dicts are always in torch layout.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../browser/random';
import { FieldError } from '../browser/errors';
import { featuresPerPoint, validateConfig, windowSize, type AnomalyBertConfig, type ResolvedAnomalyBertConfig } from './config';
import { withFirstDifferences } from './input-features';
import { EMBEDDING_PREFIX, embedPatches, embeddingParamSpecs } from './embedding';
import { encoderLayerParamSpecs, transformerEncoder } from './encoder';
import { headParamSpecs, mlpHead } from './head';
import { attentionPrefix, relativePositionBias, usesPerHeadAttention, type LayerBias } from './attention';
import { internalShape, type ForwardContext, type ParamSpec, type Params } from './layers';

/** One tensor of a torch-layout state dict (what `loadTorchStateDict` returns). */
export interface StateTensor {
  shape: number[];
  dtype: string;
  data: Float32Array;
}
export type StateDict = Map<string, StateTensor>;

export interface ApplyOptions {
  /** Dropout active (training mode). Default false (eval mode, as `model.eval()`). */
  training?: boolean;
  /** Seed for this pass's dropout masks (reproducible training); unseeded when absent. */
  dropoutSeed?: number;
  /**
   * Replace some parameters for this pass, e.g. LoRA adapters (W + s·A·B, training/lora.ts):
   * called inside the pass's tidy with the model's parameters, returns the ones to use.
   */
  adaptParams?: (params: Params) => Params;
}

export interface CreateOptions {
  /** Seed of the initialisation. Default 0. */
  seed?: number;
  /**
   * The original builds one encoder layer, initialises it, then deep-copies it L times, so every
   * layer starts with the same weights. Default true (faithful); false draws each layer anew.
   */
  identicalLayers?: boolean;
}

/** Every parameter of a configuration, in torch state-dict order. */
export function parameterSpecs(config: AnomalyBertConfig): ParamSpec[] {
  const c = validateConfig(config);
  const specs: ParamSpec[] = [...embeddingParamSpecs(c.patchSize, featuresPerPoint(c), c.dEmbed)];
  for (let l = 0; l < c.nLayer; l++) specs.push(...encoderLayerParamSpecs(l, c.dEmbed, c.hiddenDim, c.nTokens, c.nHead));
  specs.push(...headParamSpecs(c.dEmbed, c.hiddenDim, c.patchSize, c.outputDim));
  return specs;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Transpose a row-major (rows, cols) matrix. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** torch xavier_uniform_: U(−a, a), a = √(6 / (fan_in + fan_out)); fan_in = shape[1], fan_out = shape[0]. */
function initValues(spec: ParamSpec, rng: Rng): Float32Array {
  const out = new Float32Array(size(spec.torchShape));
  if (spec.init === 'ones') out.fill(1);
  else if (spec.init === 'xavier') {
    const [fanOut, fanIn] = spec.torchShape;
    const a = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < out.length; i++) out[i] = a * (2 * rng.uniform() - 1);
  }
  return out;
}

/** Torch-layout values → our internal layout. */
function toInternal(spec: ParamSpec, torchData: Float32Array): Float32Array {
  return spec.linearWeight ? transpose2d(torchData, spec.torchShape[0], spec.torchShape[1]) : torchData;
}

const FLOAT_DTYPES = ['float32', 'float64', 'float16', 'bfloat16'];

const LAYER_KEY = /^transformer_encoder\.encoder_layers\.(\d+)\.(.+)$/;

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function fmtShape(s: number[]): string {
  return `[${s.join(', ')}]`;
}

let modelCounter = 0;

export class AnomalyBert {
  readonly config: ResolvedAnomalyBertConfig;
  private readonly vars = new Map<string, tf.Variable>();
  /**
   * Inference-time relative position biases per layer, keyed by the table's data id: assigning a
   * variable (optimiser step, loadStateDict) gives it a new data id, which invalidates the entry.
   */
  private readonly biasCache = new Map<string, { dataId: object; bias: LayerBias }>();
  private readonly id = ++modelCounter;
  private generation = 0;
  private disposed = false;

  private constructor(config: AnomalyBertConfig, values: Map<string, Float32Array>) {
    this.config = validateConfig(config);
    for (const spec of parameterSpecs(this.config)) this.addVariable(spec, values.get(spec.name) as Float32Array);
    // Built now rather than on first use, so a forward pass never changes the tensor count.
    for (let l = 0; l < this.config.nLayer; l++) {
      const prefix = attentionPrefix(l);
      this.cachedBias(prefix, this.variable(`${prefix}.relative_position_embedding_table`));
    }
  }

  private readonly cachedBias = (prefix: string, table: tf.Tensor): LayerBias => {
    const hit = this.biasCache.get(prefix);
    if (hit && hit.dataId === table.dataId) return hit.bias;
    if (hit) tf.dispose([hit.bias.full, ...(hit.bias.heads ?? [])]);
    const { nTokens, dEmbed, nHead } = this.config;
    const bias = tf.tidy(() => {
      const full = relativePositionBias(table, nTokens);
      return { full, heads: usesPerHeadAttention(nTokens, dEmbed / nHead) ? (tf.unstack(full) as tf.Tensor2D[]) : undefined };
    });
    tf.keep(bias.full);
    bias.heads?.forEach((t) => tf.keep(t));
    this.biasCache.set(prefix, { dataId: table.dataId, bias });
    return bias;
  };

  /** A freshly initialised model (the original's xavier-uniform / zero init). */
  static create(config: AnomalyBertConfig, opts: CreateOptions = {}): AnomalyBert {
    const c = validateConfig(config);
    const rng = createRng(opts.seed ?? 0);
    const identical = opts.identicalLayers ?? true;
    const values = new Map<string, Float32Array>();
    const firstLayer = new Map<string, Float32Array>();
    for (const spec of parameterSpecs(c)) {
      const m = LAYER_KEY.exec(spec.name);
      if (identical && m && m[1] !== '0' && firstLayer.has(m[2])) {
        values.set(spec.name, toInternal(spec, (firstLayer.get(m[2]) as Float32Array).slice()));
        continue;
      }
      const v = initValues(spec, rng);
      if (m && m[1] === '0') firstLayer.set(m[2], v);
      values.set(spec.name, toInternal(spec, v));
    }
    return new AnomalyBert(c, values);
  }

  /**
   * Infer the configuration from a torch-layout state dict's shapes. `overrides` settle what
   * shapes cannot: the patch size P is only known through P·C (embedding) and P·out (head), so
   * P = patchSize ?? P·C / inputDim ?? P·out / outputDim, with outputDim 1 (the anomaly score)
   * when nothing is given. Heads come from the relative position table (2N − 1, H). Shapes cannot
   * tell first-difference features either: `overrides.diffScales` says the embedding reads 2C per point.
   */
  static inferConfig(sd: StateDict, overrides: Partial<AnomalyBertConfig> = {}, source = 'state dict'): ResolvedAnomalyBertConfig {
    const need = (name: string, rank: number): number[] => {
      const t = sd.get(name);
      if (!t) throw new Error(`${source}: missing key '${name}' (not an AnomalyBERT state dict?)`);
      if (t.shape.length !== rank) throw new Error(`${source}: '${name}' has shape ${fmtShape(t.shape)}, expected rank ${rank}`);
      return t.shape;
    };
    const [dEmbed, patchTimesIn] = need('linear_embedding.weight', 2);
    const table = need('transformer_encoder.encoder_layers.0.attention_layer.relative_position_embedding_table', 2);
    if (table[0] % 2 !== 1)
      throw new Error(`${source}: relative_position_embedding_table has ${table[0]} rows; expected 2·n_tokens − 1 (odd)`);
    const nTokens = (table[0] + 1) / 2;
    const nHead = table[1];
    const [hiddenDim] = need('mlp_layers.0.weight', 2);
    const [patchTimesOut] = need('mlp_layers.2.weight', 2);
    const layers = new Set<number>();
    for (const key of sd.keys()) {
      const m = LAYER_KEY.exec(key);
      if (m) layers.add(Number(m[1]));
    }
    const nLayer = layers.size;
    for (let l = 0; l < nLayer; l++) {
      if (!layers.has(l)) throw new Error(`${source}: encoder layers are not numbered 0…${nLayer - 1} (layer ${l} missing)`);
    }
    if (overrides.nHead !== undefined && overrides.nHead !== nHead) {
      throw new Error(`${source}: n_head ${overrides.nHead} was requested but the relative position table has ${nHead} heads`);
    }
    const perColumn = overrides.diffScales ? 2 : 1;
    let patchSize: number;
    if (overrides.patchSize !== undefined) patchSize = overrides.patchSize;
    else if (overrides.inputDim !== undefined) patchSize = patchTimesIn / (overrides.inputDim * perColumn);
    else patchSize = patchTimesOut / (overrides.outputDim ?? 1);
    if (!Number.isInteger(patchSize) || patchSize < 1 || patchTimesIn % (patchSize * perColumn) !== 0 || patchTimesOut % patchSize !== 0) {
      throw new FieldError(
        'patchSize',
        (f) =>
          `${source}: cannot split embedding input ${patchTimesIn} and head output ${patchTimesOut} by patch size ${patchSize}; pass the patch size (${f('patchSize')}) explicitly`,
      );
    }
    const config = validateConfig(
      {
        inputDim: patchTimesIn / (patchSize * perColumn),
        outputDim: patchTimesOut / patchSize,
        patchSize,
        nTokens,
        dEmbed,
        nLayer,
        nHead,
        dropout: overrides.dropout ?? 0.1,
        hiddenDim,
        diffScales: overrides.diffScales,
      },
      source,
    );
    if (overrides.inputDim !== undefined && overrides.inputDim !== config.inputDim) {
      throw new Error(`${source}: model takes ${config.inputDim} input columns, ${overrides.inputDim} requested`);
    }
    if (overrides.outputDim !== undefined && overrides.outputDim !== config.outputDim) {
      throw new Error(`${source}: model has ${config.outputDim} output columns, ${overrides.outputDim} requested`);
    }
    for (const k of ['nTokens', 'dEmbed', 'nLayer', 'hiddenDim'] as const) {
      if (overrides[k] !== undefined && overrides[k] !== config[k]) {
        throw new Error(`${source}: ${k} ${String(overrides[k])} was requested but the weights say ${config[k]}`);
      }
    }
    return config;
  }

  /** Build a model from a torch-layout state dict (a `state_dict.pt` or our checkpoint's weights). */
  static fromStateDict(sd: StateDict, overrides: Partial<AnomalyBertConfig> = {}, source = 'state dict'): AnomalyBert {
    const config = AnomalyBert.inferConfig(sd, overrides, source);
    const specs = parameterSpecs(config);
    const expected = new Set(specs.map((s) => s.name));
    const missing = specs.filter((s) => !sd.has(s.name)).map((s) => s.name);
    const unexpected = [...sd.keys()].filter((k) => !expected.has(k));
    if (missing.length || unexpected.length) {
      const parts: string[] = [];
      if (missing.length)
        parts.push(`missing keys: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5} more)` : ''}`);
      if (unexpected.length)
        parts.push(
          `unexpected keys: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ` (+${unexpected.length - 5} more)` : ''}`,
        );
      throw new Error(`${source}: ${parts.join('; ')}`);
    }
    const values = new Map<string, Float32Array>();
    for (const spec of specs) {
      const t = sd.get(spec.name) as StateTensor;
      if (!sameShape(t.shape, spec.torchShape)) {
        throw new Error(
          `${source}: '${spec.name}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(spec.torchShape)} for ${describeConfig(config)}`,
        );
      }
      if (!FLOAT_DTYPES.includes(t.dtype))
        throw new Error(`${source}: '${spec.name}' has dtype ${t.dtype}, expected a floating-point tensor`);
      if (t.data.length !== size(spec.torchShape)) {
        throw new Error(
          `${source}: '${spec.name}' holds ${t.data.length} values, its shape ${fmtShape(t.shape)} needs ${size(spec.torchShape)}`,
        );
      }
      values.set(spec.name, toInternal(spec, Float32Array.from(t.data)));
    }
    return new AnomalyBert(config, values);
  }

  /** Window length W = nTokens × patchSize. */
  get windowSize(): number {
    return windowSize(this.config);
  }

  /**
   * Forward pass. x: (n, W, C) → (n, W, out) logits (no sigmoid). Dropout only when training.
   * The caller owns the returned tensor; intermediates are freed.
   */
  apply(x: tf.Tensor3D, opts: ApplyOptions = {}): tf.Tensor3D {
    this.checkAlive();
    const { inputDim, nTokens, patchSize, nLayer, nHead, outputDim, dropout } = this.config;
    if (x.rank !== 3) throw new Error(`AnomalyBERT: input must be (n, window, columns), got shape ${fmtShape(x.shape)}`);
    const [n, w, c] = x.shape;
    if (w !== this.windowSize)
      throw new Error(
        `AnomalyBERT: window length ${w} does not match the model's ${this.windowSize} (= ${nTokens} tokens × patch ${patchSize})`,
      );
    if (c !== inputDim) throw new Error(`AnomalyBERT: model expects ${inputDim} input columns, got ${c}`);
    let nextSeed: (() => number) | undefined;
    if (opts.dropoutSeed !== undefined) {
      const rng = createRng(opts.dropoutSeed);
      nextSeed = () => rng.nextUint32();
    }
    const ctx: ForwardContext = { training: opts.training ?? false, dropout, nextSeed, cachedBias: this.cachedBias };
    const scales = this.config.diffScales;
    return tf.tidy(() => {
      const p = opts.adaptParams ? opts.adaptParams(this.vars) : (this.vars as ReadonlyMap<string, tf.Tensor>);
      const features = scales ? withFirstDifferences(x, scales) : x; // (n, W, C) or (n, W, 2C)
      const tokens = embedPatches(features, p, nTokens, patchSize); // (n·N, D)
      const encoded = transformerEncoder(tokens, p, nLayer, nTokens, nHead, ctx); // (n·N, D)
      return mlpHead(encoded, p, n, w, outputDim); // (n, W, out)
    });
  }

  /** Parameter names (torch state-dict names) in state-dict order. */
  parameterNames(): string[] {
    return [...this.vars.keys()];
  }

  /** The variable of one parameter (Linear weights are [in, out]). */
  variable(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`AnomalyBERT: no parameter '${name}'`);
    return v;
  }

  /** Variables whose torch name passes `filter` (all when absent), in state-dict order. */
  trainableVariables(filter?: (name: string) => boolean): tf.Variable[] {
    this.checkAlive();
    return [...this.vars.entries()].filter(([name]) => !filter || filter(name)).map(([, v]) => v);
  }

  /** [torch name, variable] pairs, in state-dict order. */
  namedVariables(): Array<[string, tf.Variable]> {
    return [...this.vars.entries()];
  }

  /** Number of scalar parameters. */
  countParameters(): number {
    let total = 0;
    for (const v of this.vars.values()) total += v.size;
    return total;
  }

  /**
   * Transfer learning to a data set with another column count: replace the input embedding by a
   * freshly initialised Linear(P·inputDim → D) (xavier / zeros, as the original); everything else
   * is kept. A model with first-difference features needs the new columns' scales (`diffScales`).
   */
  reinitializeEmbedding(inputDim: number, seed = 0, diffScales?: number[]): void {
    this.checkAlive();
    if (!Number.isInteger(inputDim) || inputDim < 1)
      throw new Error(`reinitializeEmbedding: inputDim must be a positive integer, got ${inputDim}`);
    if (this.config.diffScales && !diffScales)
      throw new Error("reinitializeEmbedding: this model reads first differences; give the new columns' diffScales");
    const next = validateConfig(
      { ...this.config, inputDim, diffScales: this.config.diffScales ? diffScales : undefined },
      'reinitializeEmbedding',
    );
    const rng = createRng(seed);
    const specs = embeddingParamSpecs(this.config.patchSize, featuresPerPoint(next), this.config.dEmbed);
    for (const spec of specs) {
      this.vars.get(spec.name)?.dispose();
      this.vars.delete(spec.name);
    }
    (this.config as { inputDim: number }).inputDim = inputDim;
    if (next.diffScales) this.config.diffScales = next.diffScales;
    this.generation++;
    const rest = new Map(this.vars);
    this.vars.clear();
    // Keep state-dict order: embedding first.
    for (const spec of specs) this.addVariable(spec, toInternal(spec, initValues(spec, rng)));
    for (const [k, v] of rest) this.vars.set(k, v);
  }

  /**
   * Replace the first-difference scales (same column count): a fresh or transferred model takes
   * them from its training data. Weights are unchanged.
   */
  setDiffScales(scales: number[]): void {
    this.checkAlive();
    if (!this.config.diffScales) throw new Error('setDiffScales: this model has no first-difference features');
    this.config.diffScales = validateConfig({ ...this.config, diffScales: scales }, 'setDiffScales').diffScales;
  }

  /** Parameters in torch layout (Linear weights [out, in]), copies. */
  toStateDict(): StateDict {
    this.checkAlive();
    const sd: StateDict = new Map();
    for (const spec of parameterSpecs(this.config)) {
      const data = this.variable(spec.name).dataSync() as Float32Array;
      const torchData = spec.linearWeight ? transpose2d(data, spec.torchShape[1], spec.torchShape[0]) : Float32Array.from(data);
      sd.set(spec.name, { shape: spec.torchShape.slice(), dtype: 'float32', data: torchData });
    }
    return sd;
  }

  /** Overwrite every parameter from a torch-layout state dict of the same configuration. */
  loadStateDict(sd: StateDict, source = 'state dict'): void {
    this.checkAlive();
    const other = AnomalyBert.inferConfig(sd, { patchSize: this.config.patchSize, diffScales: this.config.diffScales }, source);
    for (const k of ['inputDim', 'outputDim', 'nTokens', 'dEmbed', 'nLayer', 'nHead', 'hiddenDim'] as const) {
      if (other[k] !== this.config[k]) throw new Error(`${source}: ${k} is ${other[k]}, this model has ${this.config[k]}`);
    }
    for (const spec of parameterSpecs(this.config)) {
      const t = sd.get(spec.name);
      if (!t) throw new Error(`${source}: missing key '${spec.name}'`);
      if (!sameShape(t.shape, spec.torchShape))
        throw new Error(`${source}: '${spec.name}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(spec.torchShape)}`);
      const v = this.variable(spec.name);
      tf.tidy(() => v.assign(tf.tensor(toInternal(spec, Float32Array.from(t.data)), v.shape, 'float32')));
    }
  }

  /** Free every variable. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    for (const { bias } of this.biasCache.values()) tf.dispose([bias.full, ...(bias.heads ?? [])]);
    this.biasCache.clear();
    this.disposed = true;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private addVariable(spec: ParamSpec, value: Float32Array): void {
    const shape = internalShape(spec);
    // tfjs variable names are global: make them unique per model instance and embedding generation.
    const initial = tf.tensor(value, shape, 'float32');
    const v = tf.variable(initial, true, `anomalybert${this.id}.${this.generation}/${spec.name}`);
    initial.dispose(); // the variable holds its own reference to the data
    this.vars.set(spec.name, v);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('AnomalyBERT: model was disposed');
  }
}

export function describeConfig(c: AnomalyBertConfig): string {
  return `AnomalyBERT(columns ${c.inputDim}${c.diffScales ? ' + first differences' : ''}→${c.outputDim}, patch ${c.patchSize}, tokens ${c.nTokens}, width ${c.dEmbed}, layers ${c.nLayer}, heads ${c.nHead})`;
}

export { EMBEDDING_PREFIX };
