/**
 * Import of Keras models saved as HDF5 (`model.save('x.h5')`, Keras 2 and Keras 3) into tfjs.
 *
 * No Python at run time: the file is read with h5wasm, `model_config` (JSON attribute) is parsed
 * and the graph is rebuilt with tf.layers for the layer kinds the dashboard's models use
 * (InputLayer, LSTM, Bidirectional, RepeatVector, TimeDistributed, Dense, Dropout for the
 * detectors; MultiHeadAttention, LayerNormalization, Add, Concatenate, GlobalAveragePooling1D for
 * the later transformer fault classifier), in Sequential or Functional models (several inputs,
 * one output). Keras's MultiHeadAttention has no tfjs-layers equivalent: `KerasMultiHeadAttention`
 * below is its forward pass in tf ops with Keras's weight layout. Weights are read in the order
 * Keras wrote them:
 *  - legacy HDF5 layout (Keras 2 and Keras 3 `.h5`): `model_weights/<layer>` carries a
 *    `weight_names` attribute listing datasets under that group, in `layer.weights` order;
 *  - Keras 3 weights layout (`.weights.h5`): `layers/<layer>/.../vars/<i>`, nested per sub-layer
 *    (`forward_layer`, `backward_layer`, `cell`, `layer`).
 * Both orders match tfjs `layer.getWeights()` for these layer kinds (LSTM: kernel, recurrent
 * kernel, bias, gates i,f,c,o; Bidirectional: forward then backward; Dense: kernel, bias;
 * LayerNormalization: gamma, beta; MultiHeadAttention: query, key, value, attention_output,
 * each kernel then bias).
 * Anything else gets an error naming the layer, its class and the file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { strFromU8 } from 'fflate';
import { tf } from '../backend';
import { ZipArchive } from '../io/zip';
import { checkSha256 } from '../io/integrity';
import { LimitOverrides, limitError, resolveLimits, wrapParseError } from '../limits';
import { quoteName } from '../browser/text';

export interface LoadKerasOptions {
  /** Named budgets for this load (ZIP_*, H5_MAX_BYTES, JSON_MAX_BYTES); see limits.ts. */
  limits?: LimitOverrides;
  /**
   * Refuse the file unless its bytes hash to this sha256 (hex, as manifests record it). HDF5 keeps
   * no checksum of its datasets: a flipped byte in a weight loads silently without this.
   */
  expectedSha256?: string;
}

/*
 * The slice of h5wasm's API used here. h5wasm is ESM-only and this package compiles to CommonJS,
 * so its types cannot be imported statically; these mirror src/hdf5_hl.d.ts of h5wasm 0.10.
 */
interface H5Attribute {
  value: unknown;
}
interface H5Entity {
  type: string;
  attrs: Record<string, H5Attribute>;
}
interface H5Group extends H5Entity {
  keys(): string[];
  get(name: string): H5Entity | null;
}
interface H5Dataset extends H5Entity {
  shape: number[] | null;
  dtype: unknown;
  value: unknown;
}
interface H5File extends H5Group {
  close(): unknown;
}
interface H5Module {
  ready: Promise<{ FS: H5FS }>;
  File: new (path: string, mode: string) => H5File;
}
interface H5FS {
  writeFile(p: string, d: Uint8Array): void;
  unlink(p: string): void;
  /** Emscripten stream of a descriptor; in the Node (NODERAWFS) build it carries the native fd. */
  getStream?(fd: number): { nfd?: number } | undefined;
}

let h5Promise: Promise<{ h5: H5Module; FS: H5FS }> | undefined;

/**
 * Lines h5wasm's JavaScript side prints through the `console.error` it bound when its module was
 * created ("Aborted(native code called abort())", "warning: Invalid UTF-8 leading byte …"): while
 * an array, they are collected here instead of reaching stderr.
 */
let h5JsMessages: string[] | undefined;

/** h5wasm is ESM-only; load it once with a real dynamic import. */
async function loadH5wasm(): Promise<{ h5: H5Module; FS: H5FS }> {
  if (!h5Promise) {
    h5Promise = (async () => {
      // Emscripten binds console.error when the module is created: hand it a dispatcher.
      const original = console.error;
      const dispatcher = (...args: unknown[]): void => {
        if (h5JsMessages) h5JsMessages.push(args.map(String).join(' '));
        else original.apply(console, args);
      };
      console.error = dispatcher;
      try {
        const mod = (await import('h5wasm/node')) as unknown as H5Module & { default?: H5Module };
        const h5 = mod.File ? mod : (mod.default as H5Module);
        // The emscripten module (and its in-memory FS) is what `ready` resolves to.
        const { FS } = await h5.ready;
        return { h5, FS };
      } finally {
        if (console.error === dispatcher) console.error = original;
      }
    })();
  }
  return h5Promise;
}

/** An error from inside h5wasm (a wasm abort or trap) as a clause of our one-line message. */
function h5ErrorText(e: unknown): string {
  if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) return 'the HDF5 library aborted on this file';
  return firstLine(e);
}

/**
 * HDF5's C library prints its error stack ("HDF5-DIAG: Error detected in HDF5 …", 40+ lines for a
 * truncated file) to stderr. h5wasm's Node build writes the C stderr (emscripten stream 2) straight
 * to the process's fd 2, so while we read a file that stream's native fd points at a scratch file;
 * its lines are then summarised in our one-line error (ANOMALY_LAB_DEBUG=1 prints them whole).
 */
interface StderrCapture {
  /** Lines captured so far (capture continues). */
  peek(): string[];
  /** Restores stderr and returns every captured line; later calls return []. */
  stop(): string[];
}

function captureH5Stderr(FS: H5FS): StderrCapture {
  const none: StderrCapture = { peek: () => [], stop: () => [] };
  const stream = typeof FS.getStream === 'function' ? FS.getStream(2) : undefined;
  if (!stream || typeof stream.nfd !== 'number') return none;
  const file = path.join(os.tmpdir(), `anomaly-lab-h5diag-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  let fd: number;
  try {
    fd = fs.openSync(file, 'w+', 0o600);
  } catch {
    return none; // no scratch space: diagnostics stay on stderr
  }
  const previous = stream.nfd;
  stream.nfd = fd;
  let stopped = false;
  const read = (): string[] => {
    try {
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
  };
  return {
    peek: () => (stopped ? [] : read()),
    stop: () => {
      if (stopped) return [];
      stopped = true;
      stream.nfd = previous;
      const lines = read();
      try {
        fs.closeSync(fd);
        fs.unlinkSync(file);
      } catch {
        /* already gone */
      }
      return lines;
    },
  };
}

/** One short clause from HDF5's error stack: its outermost and innermost descriptions. */
function summariseDiagnostics(all: string[]): string {
  // The first error stack is the cause; later ones are follow-ups (reading through a failed handle).
  const second = all.findIndex((l, i) => i > 0 && l.startsWith('HDF5-DIAG'));
  const lines = second > 0 ? all.slice(0, second) : all;
  const steps = lines.map((l) => /#\d+: .*? in (\w+\(\)): (.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  if (steps.length === 0) return lines.length ? `HDF5 reported ${lines.length} diagnostic lines` : '';
  const first = `${steps[0][1]} ${steps[0][2].trim()}`;
  const last = steps.length > 1 ? `; ${steps[steps.length - 1][1]} ${steps[steps.length - 1][2].trim()}` : '';
  return `HDF5: ${first}${last}`.slice(0, 300);
}

/** The 8-byte HDF5 signature; it sits at offset 0, 512, 1024, 2048 … (user block). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function hasHdf5Signature(bytes: Uint8Array): boolean {
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_SIGNATURE.every((b, i) => bytes[off + i] === b)) return true;
    if (off > 1 << 20) break;
  }
  return false;
}

/** Keras layer description normalised from the Keras 2 / Keras 3 JSON. */
interface KerasLayerSpec {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** Names of the layers whose first output feeds this one (functional models), in call order. */
  inbound: string[];
  /** Keyword arguments of the call (Keras 3 functional models), checked by layers that take some. */
  kwargs?: Record<string, unknown>;
}

export interface KerasModelInfo {
  /** 'Sequential' or 'Functional' (Keras 2 'Model' is reported as 'Functional'). */
  kind: 'Sequential' | 'Functional';
  name: string;
  kerasVersion?: string;
  backend?: string;
  layers: KerasLayerSpec[];
  inputLayers: string[];
  outputLayers: string[];
}

export interface LoadedKerasModel {
  model: tf.LayersModel;
  info: KerasModelInfo;
  /** Input shape without the batch dimension, e.g. [50, 6] (the first input's). */
  inputShape: number[];
  /** Every input's shape without the batch dimension, in `model.inputs` order, e.g. [[128, 6], [57]]. */
  inputShapes: number[][];
  outputShape: number[];
  source: string;
}

const SUPPORTED = [
  'InputLayer',
  'LSTM',
  'Bidirectional',
  'RepeatVector',
  'TimeDistributed',
  'Dense',
  'Dropout',
  'MultiHeadAttention',
  'LayerNormalization',
  'GlobalAveragePooling1D',
  'Add',
  'Concatenate',
];

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Record<string, unknown>;
}

/** Keyword arguments of a Keras 3 call node (Keras 2 nodes keep them per tensor; none are used). */
function inboundKwargs(layer: Record<string, unknown>): Record<string, unknown> | undefined {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length !== 1) return undefined;
  const node = nodes[0] as unknown;
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const kw = (node as Record<string, unknown>).kwargs;
  return kw && typeof kw === 'object' && !Array.isArray(kw) ? (kw as Record<string, unknown>) : undefined;
}

/** Names of the inbound layers from either inbound_nodes layout. */
function inboundNames(layer: Record<string, unknown>, where: string): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1)
    throw new Error(`${where}: layer '${String(layer.name)}' is called more than once (shared layers are not supported)`);
  const node = nodes[0] as unknown;
  const names: string[] = [];
  if (Array.isArray(node)) {
    // Keras 2: [[layer_name, node_index, tensor_index, kwargs], ...]
    for (const entry of node as unknown[]) {
      if (Array.isArray(entry) && typeof entry[0] === 'string') names.push(entry[0]);
    }
  } else if (node && typeof node === 'object') {
    // Keras 3: { args: [ {class_name: '__keras_tensor__', config: { keras_history: [name, 0, 0] } } ], kwargs }
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) {
        v.forEach(visit);
      } else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.class_name === '__keras_tensor__') {
          const hist = (o.config as Record<string, unknown> | undefined)?.keras_history;
          if (Array.isArray(hist) && typeof hist[0] === 'string') names.push(hist[0]);
        } else {
          Object.values(o).forEach(visit);
        }
      }
    };
    visit((node as Record<string, unknown>).args);
  }
  return names;
}

/** Parse the `model_config` JSON of a Keras 2 or Keras 3 HDF5 file. */
export function parseKerasModelConfig(json: string, where = 'model_config'): KerasModelInfo {
  let root: Record<string, unknown>;
  try {
    root = asRecord(JSON.parse(json), where);
  } catch (e) {
    throw new Error(`${where}: model_config is not valid JSON (${(e as Error).message})`);
  }
  const className = String(root.class_name);
  let config = root.config as unknown;
  if (className === 'Sequential') {
    // Keras 2.0 stored a bare list of layers; later versions {name, layers}.
    const layersRaw = Array.isArray(config) ? config : (asRecord(config, `${where}: config`).layers as unknown[]);
    if (!Array.isArray(layersRaw)) throw new Error(`${where}: Sequential config has no layers`);
    const name = Array.isArray(config) ? 'sequential' : String((config as Record<string, unknown>).name ?? 'sequential');
    const layers: KerasLayerSpec[] = [];
    for (const raw of layersRaw) {
      const l = asRecord(raw, `${where}: layer`);
      const cfg = asRecord(l.config, `${where}: layer config`);
      const lname = String(cfg.name ?? l.name ?? `layer_${layers.length}`);
      layers.push({
        className: String(l.class_name),
        name: lname,
        config: cfg,
        inbound: layers.length ? [layers[layers.length - 1].name] : [],
      });
    }
    return checkNames(
      {
        kind: 'Sequential',
        name,
        layers,
        inputLayers: layers.length ? [layers[0].name] : [],
        outputLayers: layers.length ? [layers[layers.length - 1].name] : [],
      },
      where,
    );
  }
  if (className !== 'Functional' && className !== 'Model') {
    throw new Error(`${where}: unsupported model class '${className}' (Sequential and Functional models are supported)`);
  }
  config = asRecord(config, `${where}: config`);
  const c = config as Record<string, unknown>;
  const layersRaw = c.layers;
  if (!Array.isArray(layersRaw)) throw new Error(`${where}: Functional config has no layers`);
  const layers: KerasLayerSpec[] = layersRaw.map((raw) => {
    const l = asRecord(raw, `${where}: layer`);
    const cfg = asRecord(l.config, `${where}: layer config`);
    const name = String(l.name ?? cfg.name);
    return { className: String(l.class_name), name, config: cfg, inbound: inboundNames(l, where), kwargs: inboundKwargs(l) };
  });
  const ioNames = (v: unknown): string[] => {
    if (!Array.isArray(v)) return [];
    // Keras 2: [[name, 0, 0], ...]; Keras 3 single: [name, 0, 0] or list of those.
    if (typeof v[0] === 'string') return [v[0] as string];
    return v.map((e) => (Array.isArray(e) ? String(e[0]) : String(e)));
  };
  return checkNames(
    {
      kind: 'Functional',
      name: String(c.name ?? 'model'),
      layers,
      inputLayers: ioNames(c.input_layers),
      outputLayers: ioNames(c.output_layers),
    },
    where,
  );
}

/**
 * Layer and class names end up in messages and reports: names with control characters (terminal
 * escapes, newlines) or of absurd length are refused here, once, so no later message can carry them.
 */
function checkNames(info: KerasModelInfo, where: string): KerasModelInfo {
  const bad = (n: string): boolean => n.length > 256 || /[\u0000-\u001f\u007f-\u009f]/.test(n);
  for (const l of info.layers) {
    for (const n of [l.name, l.className, ...l.inbound]) {
      if (bad(n)) throw new Error(`${where}: layer name ${quoteName(n, 60)} contains control characters or is longer than 256 characters`);
    }
  }
  if (bad(info.name))
    throw new Error(`${where}: model name ${quoteName(info.name, 60)} contains control characters or is longer than 256 characters`);
  return info;
}

const ACTIVATIONS: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  hard_sigmoid: 'hardSigmoid',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  elu: 'elu',
  selu: 'selu',
  swish: 'swish',
  silu: 'swish',
  gelu: 'gelu',
};

function activationOf(cfg: Record<string, unknown>, key: string, layerName: string, dflt: string): string {
  const raw = cfg[key] ?? dflt;
  // Keras 3 may serialise an activation as {class_name, config}, the name being `config` itself
  // or `config.name`; only named built-in activations are supported.
  let name: string | undefined;
  if (typeof raw === 'string') name = raw;
  else if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const c = o.config;
    if (typeof c === 'string') name = c;
    else if (c && typeof c === 'object' && typeof (c as Record<string, unknown>).name === 'string')
      name = (c as Record<string, unknown>).name as string;
    else if (typeof o.class_name === 'string' && o.class_name !== 'function') name = `${o.class_name} object`;
  }
  const mapped = name === undefined ? undefined : ACTIVATIONS[name];
  if (!mapped) {
    const shown = name !== undefined ? quoteName(name, 60) : `of type ${Array.isArray(raw) ? 'list' : typeof raw}`;
    throw new Error(
      `layer ${quoteName(layerName, 60)}: unsupported activation ${shown} for ${key} (supported: ${Object.keys(ACTIVATIONS).join(', ')})`,
    );
  }
  return mapped;
}

function innerLayerSpec(cfg: Record<string, unknown>, key: string, outer: string): { className: string; config: Record<string, unknown> } {
  const inner = asRecord(cfg[key], `layer '${outer}': ${key}`);
  return { className: String(inner.class_name), config: asRecord(inner.config, `layer '${outer}': ${key}.config`) };
}

/**
 * Initialisers of layers built for import: zeros, because the stored weights overwrite them and
 * the orthogonal recurrent initialiser costs seconds for the seed's 32×128 kernels.
 */
let importInit: 'zeros' | undefined;

function makeLstm(cfg: Record<string, unknown>, name: string, goBackwards?: boolean): tf.layers.Layer {
  for (const k of ['stateful', 'return_state'] as const) {
    if (cfg[k]) throw new Error(`layer '${name}': LSTM with ${k}=true is not supported`);
  }
  return tf.layers.lstm({
    name,
    units: Number(cfg.units),
    activation: activationOf(cfg, 'activation', name, 'tanh') as never,
    recurrentActivation: activationOf(cfg, 'recurrent_activation', name, 'sigmoid') as never,
    useBias: cfg.use_bias !== false,
    unitForgetBias: cfg.unit_forget_bias !== false,
    returnSequences: Boolean(cfg.return_sequences),
    goBackwards: goBackwards ?? Boolean(cfg.go_backwards),
    dropout: Number(cfg.dropout ?? 0),
    recurrentDropout: Number(cfg.recurrent_dropout ?? 0),
    ...(importInit ? { kernelInitializer: importInit, recurrentInitializer: importInit, biasInitializer: importInit } : {}),
  });
}

function makeDense(cfg: Record<string, unknown>, name: string): tf.layers.Layer {
  return tf.layers.dense({
    name,
    units: Number(cfg.units),
    activation: activationOf(cfg, 'activation', name, 'linear') as never,
    useBias: cfg.use_bias !== false,
    ...(importInit ? { kernelInitializer: importInit, biasInitializer: importInit } : {}),
  });
}

/** Per-head size of MultiHeadAttention's projections. */
interface MultiHeadAttentionArgs {
  name: string;
  numHeads: number;
  keyDim: number;
  valueDim: number;
  useBias: boolean;
}

/**
 * Keras 3 `MultiHeadAttention` (inference) over rank-3 inputs with attention along axis 1:
 *   query [B, Tq, Eq], value [B, Tv, Ev], key [B, Tv, Ek] (key defaults to value)
 *   Q = query·Wq + bq → [B, Tq, H, Dk]   (Wq [Eq, H, Dk], bq [H, Dk]); K, V likewise
 *   P = softmax(Q·Kᵀ / √Dk) over the key axis → [B, H, Tq, Tv]
 *   out = (P·V)·Wo + bo → [B, Tq, Eq]    (Wo [H, Dv, Eq], bo [Eq])
 * Attention dropout is a training-time operation and is not applied. Weights are created in
 * Keras's order (query, key, value, attention_output; kernel then bias) so `setWeights` takes
 * the stored list as is. tfjs-layers 4.22 has no public equivalent.
 */
export class KerasMultiHeadAttention extends tf.layers.Layer {
  static className = 'KerasMultiHeadAttention';
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly useBias: boolean;
  private kernels: Record<'query' | 'key' | 'value' | 'output', tf.LayerVariable | undefined> = {
    query: undefined,
    key: undefined,
    value: undefined,
    output: undefined,
  };
  private biases: Record<'query' | 'key' | 'value' | 'output', tf.LayerVariable | undefined> = {
    query: undefined,
    key: undefined,
    value: undefined,
    output: undefined,
  };

  constructor(args: MultiHeadAttentionArgs) {
    super({ name: args.name });
    this.numHeads = args.numHeads;
    this.keyDim = args.keyDim;
    this.valueDim = args.valueDim;
    this.useBias = args.useBias;
  }

  private shapesOf(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length < 2 || shapes.length > 3)
      throw new Error(`layer '${this.name}': MultiHeadAttention takes query, value and optionally key; got ${shapes.length} inputs`);
    for (const s of shapes) {
      if (s.length !== 3)
        throw new Error(`layer '${this.name}': MultiHeadAttention inputs must be [batch, time, features]; got shape [${s.map(String)}]`);
    }
    return shapes;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [q, v, k = v] = this.shapesOf(inputShape);
    const H = this.numHeads;
    const init = tf.initializers.glorotUniform({});
    const zeros = tf.initializers.zeros();
    const add = (part: 'query' | 'key' | 'value' | 'output', kernelShape: number[], biasShape: number[]): void => {
      const prefix = part === 'output' ? 'attention_output' : part;
      this.kernels[part] = this.addWeight(`${prefix}/kernel`, kernelShape, 'float32', init);
      if (this.useBias) this.biases[part] = this.addWeight(`${prefix}/bias`, biasShape, 'float32', zeros);
    };
    add('query', [Number(q[2]), H, this.keyDim], [H, this.keyDim]);
    add('key', [Number(k[2]), H, this.keyDim], [H, this.keyDim]);
    add('value', [Number(v[2]), H, this.valueDim], [H, this.valueDim]);
    add('output', [H, this.valueDim, Number(q[2])], [Number(q[2])]);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return this.shapesOf(inputShape)[0];
  }

  /** [B, T, E] → [B, H, T, D] with a head-split dense projection. */
  private project(x: tf.Tensor, part: 'query' | 'key' | 'value', headDim: number): tf.Tensor4D {
    const [B, T, E] = x.shape;
    const kernel = (this.kernels[part] as tf.LayerVariable).read().reshape([E, this.numHeads * headDim]);
    let y = tf.matMul(x.reshape([B * T, E]) as tf.Tensor2D, kernel as tf.Tensor2D);
    const bias = this.biases[part];
    if (bias) y = y.add(bias.read().reshape([this.numHeads * headDim]));
    return y.reshape([B, T, this.numHeads, headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const [query, value, key = value] = list;
      const [B, Tq, Eq] = query.shape;
      // Keras scales the query (not the scores) by 1/√key_dim before the dot product.
      const q = this.project(query, 'query', this.keyDim).mul(1 / Math.sqrt(this.keyDim)) as tf.Tensor4D; // [B, H, Tq, Dk]
      const k = this.project(key, 'key', this.keyDim); // [B, H, Tv, Dk]
      const v = this.project(value, 'value', this.valueDim); // [B, H, Tv, Dv]
      const probs = tf.softmax(tf.matMul(q, k, false, true), -1); // [B, H, Tq, Tv]
      const context = tf
        .matMul(probs, v)
        .transpose([0, 2, 1, 3])
        .reshape([B * Tq, this.numHeads * this.valueDim]); // [B·Tq, H·Dv]
      const wo = (this.kernels.output as tf.LayerVariable).read().reshape([this.numHeads * this.valueDim, Eq]);
      let out = tf.matMul(context as tf.Tensor2D, wo as tf.Tensor2D);
      if (this.biases.output) out = out.add(this.biases.output.read());
      return out.reshape([B, Tq, Eq]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim, useBias: this.useBias };
  }
}
tf.serialization.registerClass(KerasMultiHeadAttention);

/** How many tensors a layer kind is called with: [min, max]. */
function arityOf(className: string): [number, number] {
  switch (className) {
    case 'Add':
    case 'Concatenate':
      return [2, Infinity];
    case 'MultiHeadAttention':
      return [2, 3];
    default:
      return [1, 1];
  }
}

/** Keras MultiHeadAttention config → our layer; anything beyond the plain self/cross attention fails. */
function makeMultiHeadAttention(
  cfg: Record<string, unknown>,
  name: string,
  kwargs: Record<string, unknown> | undefined,
  file: string,
): tf.layers.Layer {
  const where = `${file}: layer '${name}' (MultiHeadAttention)`;
  const numHeads = Number(cfg.num_heads);
  const keyDim = Number(cfg.key_dim);
  const valueDim = cfg.value_dim === null || cfg.value_dim === undefined ? keyDim : Number(cfg.value_dim);
  for (const [k, v] of [
    ['num_heads', numHeads],
    ['key_dim', keyDim],
    ['value_dim', valueDim],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${k} must be a positive integer, got ${JSON.stringify(cfg[k])}`);
  }
  if (cfg.output_shape !== null && cfg.output_shape !== undefined)
    throw new Error(
      `${where}: output_shape ${JSON.stringify(cfg.output_shape)} is not supported (only the default: the query's feature size)`,
    );
  const axes = cfg.attention_axes;
  if (axes !== null && axes !== undefined && JSON.stringify(axes) !== '[1]' && JSON.stringify(axes) !== '1') {
    throw new Error(`${where}: attention_axes ${JSON.stringify(axes)} is not supported (only attention over the time axis, [1])`);
  }
  for (const k of ['attention_mask', 'query_mask', 'value_mask', 'key_mask', 'key']) {
    if (kwargs && kwargs[k] !== null && kwargs[k] !== undefined)
      throw new Error(`${where}: call argument '${k}' is not supported (pass key positionally; masks are not supported)`);
  }
  for (const k of ['use_causal_mask', 'return_attention_scores']) {
    if (kwargs && kwargs[k]) throw new Error(`${where}: call argument ${k}=true is not supported`);
  }
  return new KerasMultiHeadAttention({ name, numHeads, keyDim, valueDim, useBias: cfg.use_bias !== false });
}

/** Keras LayerNormalization over the last axis: (x − mean)/√(var + ε)·γ + β, weights [gamma, beta]. */
function makeLayerNormalization(cfg: Record<string, unknown>, name: string, file: string): tf.layers.Layer {
  const where = `${file}: layer '${name}' (LayerNormalization)`;
  const axis = cfg.axis ?? -1;
  if (JSON.stringify(axis) !== '[-1]' && JSON.stringify(axis) !== '-1')
    throw new Error(`${where}: axis ${JSON.stringify(axis)} is not supported (only the last axis, -1)`);
  if (cfg.rms_scaling) throw new Error(`${where}: rms_scaling=true is not supported`);
  const epsilon = Number(cfg.epsilon ?? 1e-3);
  if (!(epsilon >= 0)) throw new Error(`${where}: epsilon ${JSON.stringify(cfg.epsilon)} is not a number ≥ 0`);
  return tf.layers.layerNormalization({ name, axis: -1, epsilon, center: cfg.center !== false, scale: cfg.scale !== false });
}

/** Keras GlobalAveragePooling1D, channels_last: [B, T, C] → [B, C]. */
function makeGlobalAveragePooling1D(
  cfg: Record<string, unknown>,
  name: string,
  kwargs: Record<string, unknown> | undefined,
  file: string,
): tf.layers.Layer {
  const where = `${file}: layer '${name}' (GlobalAveragePooling1D)`;
  if ((cfg.data_format ?? 'channels_last') !== 'channels_last')
    throw new Error(`${where}: data_format '${String(cfg.data_format)}' is not supported (channels_last only)`);
  if (cfg.keepdims) throw new Error(`${where}: keepdims=true is not supported`);
  if (kwargs && kwargs.mask !== null && kwargs.mask !== undefined) throw new Error(`${where}: a mask is not supported`);
  return tf.layers.globalAveragePooling1d({ name });
}

/** One Keras layer spec → a tfjs layer (not yet applied). */
function buildLayer(
  spec: { className: string; name: string; config: Record<string, unknown>; kwargs?: Record<string, unknown> },
  file: string,
): tf.layers.Layer {
  const { className, name, config: cfg } = spec;
  switch (className) {
    case 'MultiHeadAttention':
      return makeMultiHeadAttention(cfg, name, spec.kwargs, file);
    case 'LayerNormalization':
      return makeLayerNormalization(cfg, name, file);
    case 'GlobalAveragePooling1D':
      return makeGlobalAveragePooling1D(cfg, name, spec.kwargs, file);
    case 'Add':
      return tf.layers.add({ name });
    case 'Concatenate':
      return tf.layers.concatenate({ name, axis: Number(cfg.axis ?? -1) });
    case 'LSTM':
      return makeLstm(cfg, name);
    case 'Dense':
      return makeDense(cfg, name);
    case 'Dropout':
      return tf.layers.dropout({ name, rate: Number(cfg.rate ?? 0) });
    case 'RepeatVector':
      return tf.layers.repeatVector({ name, n: Number(cfg.n) });
    case 'TimeDistributed': {
      const inner = innerLayerSpec(cfg, 'layer', name);
      if (inner.className !== 'Dense' && inner.className !== 'Dropout') {
        throw new Error(
          `${file}: layer '${name}': TimeDistributed(${inner.className}) is not supported (TimeDistributed(Dense) and TimeDistributed(Dropout) are)`,
        );
      }
      const innerName = String(inner.config.name ?? `${name}_inner`);
      return tf.layers.timeDistributed({
        name,
        layer: buildLayer({ className: inner.className, name: innerName, config: inner.config }, file),
      });
    }
    case 'Bidirectional': {
      const fwd = innerLayerSpec(cfg, 'layer', name);
      if (fwd.className !== 'LSTM')
        throw new Error(`${file}: layer '${name}': Bidirectional(${fwd.className}) is not supported (Bidirectional(LSTM) is)`);
      const mergeMode = String(cfg.merge_mode ?? 'concat');
      if (!['concat', 'sum', 'mul', 'ave'].includes(mergeMode))
        throw new Error(`${file}: layer '${name}': Bidirectional merge_mode '${mergeMode}' is not supported`);
      if (cfg.backward_layer) {
        const bwd = innerLayerSpec(cfg, 'backward_layer', name);
        const keys = ['units', 'activation', 'recurrent_activation', 'use_bias', 'return_sequences'];
        for (const k of keys) {
          if (JSON.stringify(bwd.config[k]) !== JSON.stringify(fwd.config[k])) {
            throw new Error(`${file}: layer '${name}': backward layer differs from the forward layer in '${k}' (not supported)`);
          }
        }
      }
      // tfjs builds the backward copy itself (same config, go_backwards flipped), as Keras does.
      const forward = makeLstm(fwd.config, String(fwd.config.name ?? `forward_${name}`), false) as unknown as tf.RNN;
      return tf.layers.bidirectional({ name, layer: forward, mergeMode: mergeMode as 'concat' });
    }
    default:
      throw new Error(`${file}: layer '${name}' has unsupported class '${className}' (supported: ${SUPPORTED.join(', ')})`);
  }
}

/** Batch input shape of an InputLayer (Keras 3 `batch_shape`, Keras 2 `batch_input_shape`). */
function inputShapeOf(cfg: Record<string, unknown>): number[] | undefined {
  const shape = (cfg.batch_shape ?? cfg.batch_input_shape) as unknown;
  if (!Array.isArray(shape)) return undefined;
  return shape.slice(1).map((d) => (d === null ? -1 : Number(d)));
}

/**
 * Build the tfjs graph for a parsed Keras model. With `init: 'random'` the layers get Keras's
 * default initialisers (for training from scratch); the default 'zeros' is for loading weights.
 */
export function buildKerasModel(info: KerasModelInfo, file = 'model', opts: { init?: 'zeros' | 'random' } = {}): tf.LayersModel {
  importInit = (opts.init ?? 'zeros') === 'zeros' ? 'zeros' : undefined;
  // A tensor scope: tfjs's LSTM bias initialiser with unit_forget_bias leaves 4 intermediate tensors
  // per cell (32 for the seed detector, every load). Variables outlive the scope; the rest is freed.
  tf.engine().startScope();
  try {
    return buildKerasGraph(info, file);
  } finally {
    tf.engine().endScope();
    importInit = undefined;
  }
}

function buildKerasGraph(info: KerasModelInfo, file: string): tf.LayersModel {
  const layersByName = new Map<string, tf.layers.Layer>();
  try {
    return buildKerasGraphInto(info, file, layersByName);
  } catch (e) {
    // Layers applied before the failure already own weights: release them (a refused file leaves no tensors).
    for (const layer of layersByName.values()) {
      try {
        layer.dispose();
      } catch {
        /* never built */
      }
    }
    throw e;
  }
}

function buildKerasGraphInto(info: KerasModelInfo, file: string, layersByName: Map<string, tf.layers.Layer>): tf.LayersModel {
  const tensors = new Map<string, tf.SymbolicTensor>();
  const specs = [...info.layers];
  if (specs.length === 0) throw new Error(`${file}: the model has no layers`);
  // A Sequential model may omit the InputLayer and put batch_input_shape on its first layer.
  if (specs[0].className !== 'InputLayer') {
    const shape = inputShapeOf(specs[0].config);
    if (!shape) throw new Error(`${file}: cannot tell the model's input shape (no InputLayer and no batch_input_shape)`);
    const inputName = `${specs[0].name}_input`;
    specs.unshift({ className: 'InputLayer', name: inputName, config: { batch_shape: [null, ...shape] }, inbound: [] });
    specs[1] = { ...specs[1], inbound: [inputName] };
    if (info.kind === 'Sequential') info.inputLayers = [inputName];
  }
  const inputs: tf.SymbolicTensor[] = [];
  for (const spec of specs) {
    if (spec.className === 'InputLayer') {
      const shape = inputShapeOf(spec.config);
      if (!shape) throw new Error(`${file}: InputLayer '${spec.name}' has no batch shape`);
      if (shape.some((d) => d < 0))
        throw new Error(`${file}: InputLayer '${spec.name}' has a variable dimension ${JSON.stringify(shape)} (fixed shapes only)`);
      const t = tf.input({ shape, name: spec.name });
      tensors.set(spec.name, t);
      inputs.push(t);
      continue;
    }
    if (!SUPPORTED.includes(spec.className))
      throw new Error(`${file}: layer '${spec.name}' has unsupported class '${spec.className}' (supported: ${SUPPORTED.join(', ')})`);
    const [minIn, maxIn] = arityOf(spec.className);
    if (spec.inbound.length < minIn || spec.inbound.length > maxIn) {
      const want = minIn === maxIn ? `${minIn}` : maxIn === Infinity ? `at least ${minIn}` : `${minIn} to ${maxIn}`;
      throw new Error(`${file}: layer '${spec.name}' (${spec.className}) has ${spec.inbound.length} inputs; it takes ${want}`);
    }
    const srcs = spec.inbound.map((n) => {
      const t = tensors.get(n);
      if (!t) throw new Error(`${file}: layer '${spec.name}' refers to unknown input layer '${n}'`);
      return t;
    });
    const layer = buildLayer(spec, file);
    layersByName.set(spec.name, layer);
    tensors.set(spec.name, layer.apply(srcs.length === 1 ? srcs[0] : srcs) as tf.SymbolicTensor);
  }
  const outName = info.outputLayers[info.outputLayers.length - 1] ?? specs[specs.length - 1].name;
  if (info.outputLayers.length > 1) throw new Error(`${file}: models with ${info.outputLayers.length} outputs are not supported`);
  const output = tensors.get(outName);
  if (!output) throw new Error(`${file}: output layer '${outName}' not found`);
  // Inputs in the model's declared order (a Functional model may list them unlike the layers).
  const ordered = info.inputLayers.length === inputs.length ? info.inputLayers.map((n) => tensors.get(n)) : inputs;
  if (ordered.some((t) => !t))
    throw new Error(`${file}: input layers ${JSON.stringify(info.inputLayers)} do not match the model's InputLayers`);
  const modelInputs = ordered as tf.SymbolicTensor[];
  return tf.model({ inputs: modelInputs.length === 1 ? modelInputs[0] : modelInputs, outputs: output, name: info.name });
}

function readDatasetF32(ds: H5Dataset, where: string): { shape: number[]; data: Float32Array } {
  const v = ds.value as unknown;
  const shape = (ds.shape ?? []).map(Number);
  if (v instanceof Float32Array) return { shape, data: v };
  if (v instanceof Float64Array) return { shape, data: Float32Array.from(v) };
  throw new Error(`${where}: weight dataset has dtype ${String(ds.dtype)} (float expected)`);
}

function isGroup(e: unknown): e is H5Group {
  return !!e && typeof e === 'object' && (e as { type?: string }).type === 'Group';
}
function isDataset(e: unknown): e is H5Dataset {
  return !!e && typeof e === 'object' && (e as { type?: string }).type === 'Dataset';
}

function attrStrings(g: H5Group, name: string): string[] | undefined {
  const a = g.attrs[name];
  if (!a) return undefined;
  const v = a.value as unknown;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map(String);
  if (ArrayBuffer.isView(v)) return []; // an empty attribute array reads as an empty typed array
  return undefined;
}

/** Keras 3 `.weights.h5` layout: depth-first over `vars`, forward before backward sub-layers. */
function collectVars(g: H5Group, where: string, out: Array<{ name: string; shape: number[]; data: Float32Array }>, path: string): void {
  const keys = g.keys();
  if (keys.includes('vars')) {
    const vars = g.get('vars');
    if (isGroup(vars)) {
      const idx = vars.keys().sort((a, b) => Number(a) - Number(b));
      for (const k of idx) {
        const ds = vars.get(k);
        if (isDataset(ds)) out.push({ name: `${path}/vars/${k}`, ...readDatasetF32(ds, `${where}/${path}/vars/${k}`) });
      }
    }
  }
  const order = (k: string): number => (k === 'forward_layer' ? 0 : k === 'backward_layer' ? 1 : 2);
  for (const k of keys.filter((k) => k !== 'vars').sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const child = g.get(k);
    if (isGroup(child)) collectVars(child, where, out, `${path}/${k}`);
  }
}

/** Weights of one layer, in Keras order. */
function layerWeights(file: H5File, layerName: string, source: string): Array<{ name: string; shape: number[]; data: Float32Array }> {
  const out: Array<{ name: string; shape: number[]; data: Float32Array }> = [];
  // Keras 2 `save_weights('x.h5')` files keep the layer groups at the root.
  const legacyRoot = file.keys().includes('model_weights') ? file.get('model_weights') : attrStrings(file, 'layer_names') ? file : null;
  if (isGroup(legacyRoot) && legacyRoot.keys().includes(layerName)) {
    const g = legacyRoot.get(layerName);
    if (isGroup(g)) {
      const names = attrStrings(g, 'weight_names') ?? [];
      for (const wn of names) {
        const ds = g.get(wn);
        if (!isDataset(ds)) throw new Error(`${source}: weight '${wn}' of layer '${layerName}' is missing (file truncated?)`);
        out.push({ name: wn, ...readDatasetF32(ds, `${source}: ${layerName}/${wn}`) });
      }
      return out;
    }
  }
  const layersRoot = file.keys().includes('layers') ? file.get('layers') : null;
  if (isGroup(layersRoot) && layersRoot.keys().includes(layerName)) {
    const g = layersRoot.get(layerName);
    if (isGroup(g)) collectVars(g, source, out, layerName);
  }
  return out;
}

function readAttrString(g: H5Group, name: string): string | undefined {
  const a = g.attrs[name];
  if (!a) return undefined;
  const v = a.value as unknown;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return undefined;
}

/** Open HDF5 bytes in h5wasm's in-memory FS (independent of the host FS), run fn, clean up. */
/**
 * Reads the whole file once in a worker thread under H5_MAX_READ_MS (see h5-probe-worker.ts): a
 * damaged file on which HDF5 loops forever is refused instead of hanging the process. Skipped
 * where the compiled worker is absent (running from the TypeScript sources).
 */
async function probeH5(file: string, where: string, maxMs: number): Promise<void> {
  const worker = path.join(__dirname, 'h5-probe-worker.js');
  if (!fs.existsSync(worker)) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('worker_threads') as typeof import('worker_threads');
  const w = new Worker(worker, { workerData: { file }, stdout: true, stderr: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => {
        w.once('message', () => resolve(true));
        w.once('error', () => resolve(true)); // the real read reports the problem
        w.once('exit', () => resolve(true));
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), maxMs);
      }),
    ]);
    if (!finished) throw limitError(where, 'H5_MAX_READ_MS', maxMs, 'the time to read the HDF5 file (HDF5 loops on some damaged files)');
  } finally {
    if (timer) clearTimeout(timer);
    await w.terminate();
  }
}

async function withH5<T>(bytes: Uint8Array, where: string, fn: (f: H5File) => T, limits: LimitOverrides = {}): Promise<T> {
  if (!hasHdf5Signature(bytes)) throw new Error(`${where}: not an HDF5 file (no HDF5 signature); expected a Keras .h5 model`);
  const resolved = resolveLimits(limits);
  const max = resolved.H5_MAX_BYTES;
  if (bytes.length > max) throw limitError(where, 'H5_MAX_BYTES', max, `an HDF5 file of ${bytes.length} bytes`);
  const { h5, FS } = await loadH5wasm();
  // h5wasm's Node build maps its FS onto the real one: the copy goes to the temp directory.
  const memName = path.join(os.tmpdir(), `anomaly-lab-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.h5`);
  FS.writeFile(memName, bytes);
  try {
    await probeH5(memName, where, resolved.H5_MAX_READ_MS);
  } catch (e) {
    try {
      FS.unlink(memName);
    } catch {
      /* nothing to remove */
    }
    throw e;
  }
  let f: H5File | undefined;
  const capture = captureH5Stderr(FS);
  const jsMessages: string[] = [];
  h5JsMessages = jsMessages;
  const summary = (): string => {
    const s = summariseDiagnostics(capture.peek());
    return s ? `; ${s}` : '';
  };
  try {
    try {
      f = new h5.File(memName, 'r');
      f.keys();
    } catch (e) {
      throw new Error(`${where}: HDF5 file cannot be opened (truncated or corrupt: ${h5ErrorText(e)}${summary()})`);
    }
    try {
      return fn(f);
    } catch (e) {
      // HDF5 errors while reading a group/dataset/attribute: the file is damaged past its header.
      const msg = h5ErrorText(e);
      const s = summary();
      const wasm = typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError;
      if ((s || wasm) && !msg.startsWith(where)) throw new Error(`${where}: HDF5 data cannot be read (truncated or corrupt: ${msg}${s})`);
      throw e;
    }
  } finally {
    try {
      f?.close();
    } catch {
      /* already closed */
    }
    try {
      FS.unlink(memName);
    } catch {
      /* nothing to remove */
    }
    // Closing a file that failed to open prints diagnostics too: stop capturing only now.
    const diagnostics = [...capture.stop(), ...jsMessages];
    h5JsMessages = undefined;
    if (process.env.ANOMALY_LAB_DEBUG && diagnostics.length) process.stderr.write(diagnostics.join('\n') + '\n');
  }
}

/** Build the graph of `info` and fill every layer's weights from the open HDF5 file. */
function assembleModel(f: H5File, info: KerasModelInfo, file: string): LoadedKerasModel {
  const model = buildKerasModel(info, file);
  try {
    for (const layer of model.layers) {
      // LayerVariable shapes only: getWeights() would hand out the live variables.
      const expected = layer.weights.map((w) => w.shape);
      if (expected.length === 0) continue;
      let stored: Array<{ name: string; shape: number[]; data: Float32Array }>;
      try {
        stored = layerWeights(f, layer.name, file);
      } catch (e) {
        const msg = (e as Error).message;
        throw new Error(
          msg.startsWith(file) ? msg : `${file}: cannot read the weights of layer '${layer.name}' (truncated or corrupt: ${msg})`,
        );
      }
      if (stored.length !== expected.length) {
        throw new Error(`${file}: layer '${layer.name}' has ${stored.length} stored weights, the architecture needs ${expected.length}`);
      }
      stored.forEach((w, i) => {
        const want = expected[i];
        if (w.shape.length !== want.length || w.shape.some((d, j) => d !== want[j])) {
          throw new Error(`${file}: weight '${w.name}' of layer '${layer.name}' has shape [${w.shape}], expected [${want}]`);
        }
        if (w.data.length !== w.shape.reduce((a, b) => a * b, 1))
          throw new Error(`${file}: weight '${w.name}' of layer '${layer.name}' holds ${w.data.length} values for shape [${w.shape}]`);
      });
      // Shapes are checked first: no tensor is created for a weight that cannot be used.
      const values = stored.map((w) => tf.tensor(w.data, w.shape, 'float32'));
      try {
        layer.setWeights(values);
      } finally {
        tf.dispose(values);
      }
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  const inputShapes = model.inputs.map((t) => (t.shape as Array<number | null>).slice(1).map(Number));
  const outputShape = (model.outputs[0].shape as Array<number | null>).slice(1).map(Number);
  return { model, info, inputShape: inputShapes[0], inputShapes, outputShape, source: file };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
}

function readBytes(file: string, opts: LoadKerasOptions = {}): Uint8Array {
  const cannotRead = (e: unknown) =>
    new Error(`${file}: cannot read Keras model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  // Size first: a multi-gigabyte file is refused before it is read into memory (withH5 checks
  // the bytes again for callers that pass a buffer).
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw cannotRead(e);
  }
  const max = resolveLimits(opts.limits ?? {}).H5_MAX_BYTES;
  if (size > max) throw limitError(file, 'H5_MAX_BYTES', max, `an HDF5 file of ${size} bytes`);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw cannotRead(e);
  }
  checkSha256(bytes, opts.expectedSha256, file);
  return bytes;
}

/**
 * Load a Keras HDF5 model file (`model.save('x.h5')`, Keras 2 or 3) into a tfjs LayersModel
 * with its trained weights. Errors name the file and, where it applies, the layer and the weight.
 */
export async function loadKerasH5(file: string, opts: LoadKerasOptions = {}): Promise<LoadedKerasModel> {
  try {
    return await withH5(
      readBytes(file, opts),
      file,
      (f) => {
        const configJson = readAttrString(f, 'model_config');
        if (!configJson) throw new Error(`${file}: no 'model_config' attribute; this is a weights-only file or not a Keras model`);
        const maxJson = resolveLimits(opts.limits).JSON_MAX_BYTES;
        if (configJson.length > maxJson)
          throw limitError(file, 'JSON_MAX_BYTES', maxJson, `a model_config of ${configJson.length} characters`);
        const info = parseKerasModelConfig(configJson, file);
        info.kerasVersion =
          readAttrString(f, 'keras_version') ??
          (f.keys().includes('model_weights') && isGroup(f.get('model_weights'))
            ? readAttrString(f.get('model_weights') as H5Group, 'keras_version')
            : undefined);
        info.backend = readAttrString(f, 'backend');
        return assembleModel(f, info, file);
      },
      opts.limits,
    );
  } catch (e) {
    throw wrapParseError(e, file, 'Keras model');
  }
}

/**
 * Load a Keras 3 `.keras` archive (zip: config.json, metadata.json, model.weights.h5 whose
 * weights sit under `layers/<name>/…/vars/<i>`).
 */
export async function loadKerasArchive(file: string, opts: LoadKerasOptions = {}): Promise<LoadedKerasModel> {
  try {
    return await loadKerasArchiveUnwrapped(file, opts);
  } catch (e) {
    throw wrapParseError(e, file, '.keras archive');
  }
}

async function loadKerasArchiveUnwrapped(file: string, opts: LoadKerasOptions): Promise<LoadedKerasModel> {
  const bytes = readBytes(file, opts);
  const limits = resolveLimits(opts.limits);
  // Declared sizes (entry, total, compression ratio) are checked before inflating; CRC-32 after.
  const archive = new ZipArchive(bytes, file, '.keras archive', limits);
  for (const need of ['config.json', 'model.weights.h5']) {
    if (!archive.has(need)) throw new Error(`${file}: .keras archive has no ${need}`);
  }
  for (const json of ['config.json', 'metadata.json']) {
    const size = archive.entries.get(json)?.size ?? 0;
    if (size > limits.JSON_MAX_BYTES)
      throw limitError(file, 'JSON_MAX_BYTES', limits.JSON_MAX_BYTES, `.keras entry ${json} of ${size} bytes`);
  }
  const entries: Record<string, Uint8Array> = {};
  for (const name of ['config.json', 'metadata.json', 'model.weights.h5']) if (archive.has(name)) entries[name] = archive.read(name);
  const info = parseKerasModelConfig(strFromU8(entries['config.json']), `${file}:config.json`);
  if (entries['metadata.json']) {
    try {
      info.kerasVersion = String(JSON.parse(strFromU8(entries['metadata.json'])).keras_version ?? '') || undefined;
    } catch {
      /* metadata is informative only */
    }
  }
  return withH5(entries['model.weights.h5'], `${file}:model.weights.h5`, (f) => assembleModel(f, info, file), limits);
}
