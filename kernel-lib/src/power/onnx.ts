/**
 * The power dashboard's recurrent autoencoder (a chain of Keras layers) as an ONNX graph, and its
 * inference through onnxruntime.
 *
 * Same layer kinds as fast-inference.ts: InputLayer, Dropout (identity at inference), LSTM,
 * Bidirectional(LSTM), RepeatVector, Dense and TimeDistributed(Dense). Activations stay
 * time-major (T, batch, F) as onnx's LSTM reads them. Keras keeps LSTM gates in the order
 * i, f, c, o with kernels (in, 4U); ONNX wants i, o, f, c with (4U, in), and a second bias for
 * the recurrent product, which Keras does not have (zeros). Anything else is refused, naming the
 * layer.
 */
import { tf } from '../backend';
import { describeOnnxModel, GraphBuilder, type AttrValue } from '../onnx/graph';
import { createOnnxSession, defaultThreads, runFloat } from '../onnx/runtime';
import { LIBRARY_VERSION } from '../version';
import type * as Ort from 'onnxruntime-node';

export const DETECTOR_ONNX_INPUT = 'x';
export const DETECTOR_ONNX_OUTPUT = 'reconstruction';

/** Keras activation → ONNX operator (elementwise); 'linear' is the identity. */
const ACTIVATION_OPS: Record<string, { op: string; attrs?: Record<string, AttrValue> } | null> = {
  linear: null,
  tanh: { op: 'Tanh' },
  sigmoid: { op: 'Sigmoid' },
  relu: { op: 'Relu' },
  elu: { op: 'Elu', attrs: { alpha: { float: 1 } } },
  selu: { op: 'Selu' },
  softplus: { op: 'Softplus' },
  // tfjs/Keras hard sigmoid: clip(0.2·x + 0.5, 0, 1), ONNX HardSigmoid's defaults.
  hard_sigmoid: { op: 'HardSigmoid', attrs: { alpha: { float: 0.2 }, beta: { float: 0.5 } } },
  hardSigmoid: { op: 'HardSigmoid', attrs: { alpha: { float: 0.2 }, beta: { float: 0.5 } } },
};
/** Activations onnx's LSTM takes by name (f, g, h); HardSigmoid uses its default 0.2 / 0.5. */
const LSTM_ACTIVATIONS: Record<string, string> = {
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  relu: 'Relu',
  hard_sigmoid: 'HardSigmoid',
  hardSigmoid: 'HardSigmoid',
};

function unsupported(layer: tf.layers.Layer, why: string): Error {
  return new Error(`ONNX export: layer '${layer.name}' (${layer.getClassName()}) is not supported: ${why}`);
}

interface Value {
  name: string;
  /** 3: time-major (T, batch, F); 2: (batch, F). */
  rank: 2 | 3;
  width: number;
}

/** Gate blocks of a Keras (rows, 4U) matrix in ONNX order i, o, f, c, each transposed to (U, rows). */
function onnxGates(w: Float32Array, rows: number, units: number): Float32Array {
  const out = new Float32Array(4 * units * rows);
  const order = [0, 3, 1, 2]; // keras i, f, c, o → onnx i, o, f, c
  order.forEach((k, slot) => {
    for (let u = 0; u < units; u++) for (let r = 0; r < rows; r++) out[(slot * units + u) * rows + r] = w[r * 4 * units + k * units + u];
  });
  return out;
}

function lstmWeights(
  g: GraphBuilder,
  layer: tf.layers.Layer,
  inWidth: number,
): { W: Float32Array; R: Float32Array; B: Float32Array; units: number; acts: string[]; goBackwards: boolean; returnSequences: boolean } {
  const cfg = layer.getConfig() as Record<string, unknown>;
  if (cfg.stateful || cfg.returnState) throw unsupported(layer, 'stateful LSTMs and returned states');
  const act = LSTM_ACTIVATIONS[String(cfg.activation)];
  const recAct = LSTM_ACTIVATIONS[String(cfg.recurrentActivation)];
  if (!act || !recAct)
    throw unsupported(layer, `activation ${String(cfg.activation)} / recurrent activation ${String(cfg.recurrentActivation)}`);
  const units = Number(cfg.units);
  const weights = layer.getWeights();
  const useBias = cfg.useBias !== false;
  if (weights.length !== (useBias ? 3 : 2)) throw unsupported(layer, `expected ${useBias ? 3 : 2} weight tensors, found ${weights.length}`);
  const kernel = weights[0].dataSync() as Float32Array;
  const recurrent = weights[1].dataSync() as Float32Array;
  const B = new Float32Array(8 * units);
  if (useBias) B.set(onnxGates(weights[2].dataSync() as Float32Array, 1, units), 0);
  void g;
  return {
    W: onnxGates(kernel, inWidth, units),
    R: onnxGates(recurrent, units, units),
    B,
    units,
    acts: [recAct, act, act],
    goBackwards: Boolean(cfg.goBackwards),
    returnSequences: Boolean(cfg.returnSequences),
  };
}

function activation(g: GraphBuilder, layer: tf.layers.Layer, x: string): string {
  const name = String((layer.getConfig() as Record<string, unknown>).activation ?? 'linear');
  if (!(name in ACTIVATION_OPS)) throw unsupported(layer, `activation '${name}'`);
  const spec = ACTIVATION_OPS[name];
  return spec ? g.node(spec.op, [x], spec.attrs) : x;
}

function dense(g: GraphBuilder, layer: tf.layers.Layer, x: Value, outer: tf.layers.Layer): Value {
  const w = layer.getWeights();
  const kernel = w[0];
  if (!kernel || kernel.shape.length !== 2) throw unsupported(outer, 'a Dense layer without a 2-D kernel');
  const [inW, outW] = kernel.shape as [number, number];
  if (inW !== x.width) throw unsupported(outer, `kernel expects ${inW} inputs, the previous layer gives ${x.width}`);
  let y = g.node('MatMul', [x.name, g.weight(`${outer.name}/kernel`, kernel.dataSync() as Float32Array, [inW, outW])]);
  if (w[1]) y = g.node('Add', [y, g.weight(`${outer.name}/bias`, w[1].dataSync() as Float32Array, [outW])]);
  return { name: activation(g, layer, y), rank: x.rank, width: outW };
}

function lstm(g: GraphBuilder, layer: tf.layers.Layer, x: Value, backward?: tf.layers.Layer, mergeMode?: string): Value {
  if (x.rank !== 3) throw unsupported(layer, 'an LSTM needs a sequence input');
  const f = lstmWeights(g, layer, x.width);
  const b = backward ? lstmWeights(g, backward, x.width) : undefined;
  if (!b && f.goBackwards && f.returnSequences) throw unsupported(layer, 'go_backwards with return_sequences outside Bidirectional');
  const dirs = b ? 2 : 1;
  const cat = (a: Float32Array, c?: Float32Array): Float32Array => {
    if (!c) return a;
    const out = new Float32Array(a.length + c.length);
    out.set(a);
    out.set(c, a.length);
    return out;
  };
  const U = f.units;
  const W = g.weight(`${layer.name}/W`, cat(f.W, b?.W), [dirs, 4 * U, x.width]);
  const R = g.weight(`${layer.name}/R`, cat(f.R, b?.R), [dirs, 4 * U, U]);
  const B = g.weight(`${layer.name}/B`, cat(f.B, b?.B), [dirs, 8 * U]);
  const direction = b ? 'bidirectional' : f.goBackwards ? 'reverse' : 'forward';
  const [Y, Yh] = g.nodeOutputs(
    'LSTM',
    [x.name, W, R, B],
    { hidden_size: U, direction, activations: { strings: [...f.acts, ...(b?.acts ?? [])] } },
    2,
  );
  if (!b) {
    if (f.returnSequences) return { name: g.node('Squeeze', [Y, g.ints('axis', [1])]), rank: 3, width: U }; // (T, batch, U)
    return { name: g.node('Squeeze', [Yh, g.ints('axis', [0])]), rank: 2, width: U }; // (batch, U)
  }
  const seq = f.returnSequences;
  const dirAxis = seq ? 1 : 0;
  const src = seq ? Y : Yh; // (T, 2, batch, U) or (2, batch, U)
  if (mergeMode === 'concat') {
    const perm = seq ? [0, 2, 1, 3] : [1, 0, 2];
    const shape = seq ? [0, 0, 2 * U] : [0, 2 * U]; // 0: copy that dimension (T, batch)
    return { name: g.node('Reshape', [g.node('Transpose', [src], { perm }), g.ints('merged', shape)]), rank: seq ? 3 : 2, width: 2 * U };
  }
  const reduce = { sum: 'ReduceSum', mul: 'ReduceProd', ave: 'ReduceMean' }[mergeMode ?? ''];
  if (!reduce) throw unsupported(layer, `merge mode '${String(mergeMode)}'`);
  return { name: g.node(reduce, [src, g.ints('dir_axis', [dirAxis])], { keepdims: 0 }), rank: seq ? 3 : 2, width: U };
}

/**
 * ONNX bytes of a chain-shaped Keras/tfjs autoencoder with input (batch, T, F): output
 * `reconstruction` shaped as the model's output, batch axis dynamic.
 */
export function exportDetectorOnnx(model: tf.LayersModel, opts: { name?: string } = {}): Uint8Array {
  const layers = model.layers;
  for (let i = 1; i < layers.length; i++) {
    const nodes = layers[i].inboundNodes;
    if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1 || nodes[0].inboundLayers[0] !== layers[i - 1]) {
      throw unsupported(layers[i], 'only a chain of layers (each reading the previous one) can be exported');
    }
  }
  const inShape = model.inputs[0].shape;
  if (inShape.length !== 3 || !inShape[1] || !inShape[2])
    throw new Error(
      `ONNX export: detector input must be (batch, time, features) with fixed time and features, got ${JSON.stringify(inShape)}`,
    );
  const T = Number(inShape[1]);
  const F = Number(inShape[2]);
  const g = new GraphBuilder();
  let x: Value = { name: g.node('Transpose', [DETECTOR_ONNX_INPUT], { perm: [1, 0, 2] }), rank: 3, width: F };
  for (const layer of layers) {
    const cls = layer.getClassName();
    switch (cls) {
      case 'InputLayer':
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'GaussianNoise':
      case 'GaussianDropout':
        break; // identity at inference
      case 'LSTM':
        x = lstm(g, layer, x);
        break;
      case 'Bidirectional': {
        const inner = layer as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer; mergeMode: string };
        if (inner.forwardLayer?.getClassName() !== 'LSTM') throw unsupported(layer, `wrapping ${inner.forwardLayer?.getClassName()}`);
        x = lstm(g, inner.forwardLayer, x, inner.backwardLayer, inner.mergeMode);
        break;
      }
      case 'RepeatVector': {
        if (x.rank !== 2) throw unsupported(layer, 'RepeatVector needs a (batch, features) input');
        const n = Number((layer.getConfig() as Record<string, unknown>).n);
        x = {
          name: g.node('Expand', [g.node('Unsqueeze', [x.name, g.ints('axis', [0])]), g.ints('repeat', [n, 1, 1])]),
          rank: 3,
          width: x.width,
        };
        break;
      }
      case 'TimeDistributed': {
        const inner = (layer as unknown as { layer: tf.layers.Layer }).layer;
        if (inner.getClassName() === 'Dropout') break;
        if (inner.getClassName() !== 'Dense') throw unsupported(layer, `wrapping ${inner.getClassName()}`);
        x = dense(g, inner, x, layer);
        break;
      }
      case 'Dense':
        x = dense(g, layer, x, layer);
        break;
      default:
        throw unsupported(layer, 'no ONNX translation for this layer class');
    }
  }
  const outShape = model.outputs[0].shape;
  const out = x.rank === 3 ? g.node('Transpose', [x.name], { perm: [1, 0, 2] }) : x.name;
  g.output(out, DETECTOR_ONNX_OUTPUT);
  return g.build({
    name: opts.name ?? model.name ?? 'detector',
    inputs: [{ name: DETECTOR_ONNX_INPUT, shape: ['batch', T, F] }],
    outputs: [{ name: DETECTOR_ONNX_OUTPUT, shape: ['batch', ...outShape.slice(1).map((d) => Number(d))] }],
    producerVersion: LIBRARY_VERSION,
    docString: 'power-system detector exported by anomaly-lab: x (batch, time, signals) float32 → reconstruction',
    metadata: { 'anomaly-lab.model': 'power-detector', 'anomaly-lab.input': JSON.stringify([T, F]) },
  });
}

/** A detector running in onnxruntime. */
export class OnnxDetector {
  private constructor(
    private readonly session: Ort.InferenceSession,
    readonly timeSteps: number,
    readonly features: number,
  ) {}

  static async fromModel(model: tf.LayersModel, opts: { threads?: number } = {}): Promise<OnnxDetector> {
    const bytes = exportDetectorOnnx(model);
    const [, T, F] = model.inputs[0].shape as number[];
    return new OnnxDetector(await createOnnxSession(bytes, `detector '${model.name}' export`, opts.threads ?? defaultThreads()), T, F);
  }

  /** Open an .onnx file written by `exportDetectorOnnx` (its input shape is in the metadata). */
  static async fromBytes(bytes: Uint8Array, source: string, opts: { threads?: number } = {}): Promise<OnnxDetector> {
    const summary = describeOnnxModel(bytes, source);
    const input = summary.metadata['anomaly-lab.input'];
    if (summary.metadata['anomaly-lab.model'] !== 'power-detector' || !input)
      throw new Error(`${source}: not a power detector exported by anomaly-lab (no anomaly-lab.input metadata)`);
    const [T, F] = JSON.parse(input) as [number, number];
    return new OnnxDetector(await createOnnxSession(bytes, source, opts.threads ?? defaultThreads()), T, F);
  }

  /** windows (k, T, F) row-major → reconstruction, row-major. */
  run(windows: Float32Array, k: number): Promise<Float32Array> {
    return runFloat(this.session, DETECTOR_ONNX_INPUT, windows, [k, this.timeSteps, this.features], DETECTOR_ONNX_OUTPUT);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/**
 * ONNX bytes of a functional Keras model (any DAG) built from: InputLayer, Dense (any rank,
 * activations as above plus softmax), Dropout (identity), LayerNormalization (last axis),
 * MultiHeadAttention (keras-h5.ts's KerasMultiHeadAttention: self or cross attention),
 * Add, Concatenate, GlobalAveragePooling1D. Inputs keep the model's input names and shapes with a
 * dynamic batch axis; outputs are `output_<i>`. This is how the seed's transformer fault classifier
 * (two inputs → softmax) exports; anything else is refused naming the layer.
 */
export function exportKerasGraphOnnx(model: tf.LayersModel, opts: { name?: string } = {}): Uint8Array {
  const g = new GraphBuilder();
  // Value of each (layer, output index): its name in the graph and its shape without the batch.
  const values = new Map<string, { name: string; shape: number[] }>();
  const key = (layer: tf.layers.Layer, i = 0): string => `${layer.name}#${i}`;
  const inputs = model.inputLayers.map((l, i) => {
    const shape = (model.inputs[i].shape.slice(1) as Array<number | null>).map((d) => {
      if (d === null) throw unsupported(l, 'inputs need fixed sizes except the batch axis');
      return d;
    });
    const name = l.name;
    values.set(key(l), { name, shape });
    return { name, shape: ['batch' as string | number, ...shape] };
  });
  const f32 = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') continue;
    const nodes = layer.inboundNodes;
    if (nodes.length !== 1) throw unsupported(layer, 'a layer applied more than once (shared layers)');
    const node = nodes[0];
    const ins = node.inboundLayers.map((l, i) => {
      const v = values.get(key(l, node.tensorIndices[i]));
      if (!v) throw unsupported(layer, `input from '${l.name}' was not exported before it`);
      return v;
    });
    const cfg = layer.getConfig() as Record<string, unknown>;
    let out: { name: string; shape: number[] };
    switch (cls) {
      case 'Dropout':
        out = ins[0];
        break;
      case 'Dense': {
        const [kernel, bias] = layer.getWeights();
        const [inW, outW] = kernel.shape as [number, number];
        let y = g.node('MatMul', [ins[0].name, g.weight(`${layer.name}/kernel`, f32(kernel), [inW, outW])]);
        if (bias) y = g.node('Add', [y, g.weight(`${layer.name}/bias`, f32(bias), [outW])]);
        const act = String(cfg.activation ?? 'linear');
        if (act === 'softmax') y = g.node('Softmax', [y], { axis: -1 });
        else y = activation(g, layer, y);
        out = { name: y, shape: [...ins[0].shape.slice(0, -1), outW] };
        break;
      }
      case 'LayerNormalization': {
        const axis = cfg.axis;
        if (!(
          axis === -1 ||
          JSON.stringify(axis) === '[-1]' ||
          (Array.isArray(axis) && axis.length === 1 && axis[0] === ins[0].shape.length)
        ))
          throw unsupported(layer, `axis ${JSON.stringify(axis)}`);
        const width = ins[0].shape[ins[0].shape.length - 1];
        const w = layer.getWeights();
        const center = cfg.center !== false;
        const scale = cfg.scale !== false;
        const gamma = scale ? f32(w[0]) : new Float32Array(width).fill(1);
        const beta = center ? f32(w[scale ? 1 : 0]) : new Float32Array(width);
        const y = g.node(
          'LayerNormalization',
          [ins[0].name, g.weight(`${layer.name}/gamma`, gamma, [width]), g.weight(`${layer.name}/beta`, beta, [width])],
          { axis: -1, epsilon: { float: Number(cfg.epsilon ?? 1e-3) } },
        );
        out = { name: y, shape: ins[0].shape };
        break;
      }
      case 'KerasMultiHeadAttention': {
        const mha = layer as unknown as { numHeads: number; keyDim: number; valueDim: number; useBias: boolean };
        const [query, value, keyIn = value] = ins;
        const H = mha.numHeads;
        const w = layer.getWeights();
        const take = (): tf.Tensor => w.shift() as tf.Tensor;
        // Keras order: query, key, value, attention_output; kernel then bias.
        const parts = ['query', 'key', 'value', 'output'].map((part) => ({ part, kernel: take(), bias: mha.useBias ? take() : undefined }));
        const project = (x: { name: string; shape: number[] }, p: (typeof parts)[number], headDim: number, perm: number[]): string => {
          const E = x.shape[x.shape.length - 1];
          let y = g.node('MatMul', [x.name, g.weight(`${layer.name}/${p.part}/kernel`, f32(p.kernel), [E, H * headDim])]);
          if (p.bias) y = g.node('Add', [y, g.weight(`${layer.name}/${p.part}/bias`, f32(p.bias), [H * headDim])]);
          return g.node('Transpose', [g.node('Reshape', [y, g.ints('heads', [0, x.shape[0], H, headDim])])], { perm });
        };
        const q = g.node('Mul', [
          project(query, parts[0], mha.keyDim, [0, 2, 1, 3]),
          g.floats('mha_scale', [1 / Math.sqrt(mha.keyDim)], []),
        ]);
        const kT = project(keyIn, parts[1], mha.keyDim, [0, 2, 3, 1]);
        const v = project(value, parts[2], mha.valueDim, [0, 2, 1, 3]);
        const probs = g.node('Softmax', [g.node('MatMul', [q, kT])], { axis: -1 });
        const Eq = query.shape[query.shape.length - 1];
        const context = g.node('Reshape', [
          g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }),
          g.ints('context', [0, query.shape[0], H * mha.valueDim]),
        ]);
        let y = g.node('MatMul', [context, g.weight(`${layer.name}/output/kernel`, f32(parts[3].kernel), [H * mha.valueDim, Eq])]);
        if (parts[3].bias) y = g.node('Add', [y, g.weight(`${layer.name}/output/bias`, f32(parts[3].bias), [Eq])]);
        out = { name: y, shape: query.shape };
        break;
      }
      case 'Add': {
        let y = ins[0].name;
        for (const x of ins.slice(1)) y = g.node('Add', [y, x.name]);
        out = { name: y, shape: ins[0].shape };
        break;
      }
      case 'Concatenate': {
        const rank = ins[0].shape.length + 1;
        const axis = Number(cfg.axis ?? -1);
        const a = axis < 0 ? axis + rank : axis;
        const shape = ins[0].shape.slice();
        shape[a - 1] = ins.reduce((s, x) => s + x.shape[a - 1], 0);
        out = {
          name: g.node(
            'Concat',
            ins.map((x) => x.name),
            { axis: a },
          ),
          shape,
        };
        break;
      }
      case 'GlobalAveragePooling1D':
        out = { name: g.node('ReduceMean', [ins[0].name, g.ints('time_axis', [1])], { keepdims: 0 }), shape: ins[0].shape.slice(1) };
        break;
      default:
        throw unsupported(layer, 'no ONNX translation for this layer class');
    }
    values.set(key(layer), out);
  }
  const outputs = model.outputLayers.map((l, i) => {
    const v = values.get(key(l, model.outputLayersTensorIndices?.[i] ?? 0)) as { name: string; shape: number[] };
    g.output(v.name, `output_${i}`);
    return { name: `output_${i}`, shape: ['batch' as string | number, ...v.shape] };
  });
  return g.build({
    name: opts.name ?? model.name ?? 'keras_model',
    inputs,
    outputs,
    producerVersion: LIBRARY_VERSION,
    docString: 'Keras model exported by anomaly-lab',
    metadata: { 'anomaly-lab.model': 'keras-graph', 'anomaly-lab.inputs': JSON.stringify(inputs.map((i) => i.name)) },
  });
}
