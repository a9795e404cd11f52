/**
 * Fast inference for chain-shaped recurrent autoencoders (the dashboard's detectors).
 *
 * tf.layers' RNN loop unstacks the (batch, time, features) input along the time axis at every
 * layer and reverses it for backward LSTMs; on the wasm backend those strided Unpack/Reverse
 * kernels cost more than the arithmetic (profiled: ~60% of a predict call). Here the activations
 * stay time-major, (T, N, F), so each step's slice is contiguous, and the input projection of
 * all time steps is one matrix product. The arithmetic is Keras's LSTM cell:
 *   z = x·W + h·U + b;  i, f, g, o = split(z);  c = σ(f)·c + σ(i)·tanh(g);  h = σ(o)·tanh(c)
 * so results match model.predict to float32 rounding. Models with other layers fall back to
 * model.predict.
 */
import { tf } from '../backend';

type Act = (x: tf.Tensor) => tf.Tensor;

const ACT: Record<string, Act> = {
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
  relu: (x) => tf.relu(x),
  linear: (x) => x,
  hardSigmoid: (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
  hard_sigmoid: (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  softplus: (x) => tf.softplus(x),
};

function actOf(name: unknown): Act | undefined {
  const key = typeof name === 'string' ? name : undefined;
  return key ? ACT[key] : undefined;
}

/** One step of the time-major program: (T, N, F) or (N, F) in, same out. */
type Stage = (x: tf.Tensor) => tf.Tensor;

interface LstmParams {
  /** Per gate k ∈ (i, f, g, o): input kernel (F, U), recurrent kernel (U, U), bias (U). */
  kernel: tf.Tensor2D[];
  recurrent: tf.Tensor2D[];
  bias?: tf.Tensor1D[];
  units: number;
  act: Act;
  recAct: Act;
  returnSequences: boolean;
  goBackwards: boolean;
}

/**
 * Run one LSTM over time-major x (T, N, F) → (T, N, U) in input time order, or the last
 * state (N, U).
 *
 * Measured on wasm (2 shared cores): Slice of one step out of a (T, N, 4U) tensor ~9 ms,
 * Unpack similar, SplitV of the gates ~0.5 ms, an Add ~0.1 ms. So the input projection of all
 * steps is computed once, downloaded, regrouped in JS per (step, gate) and uploaded as small
 * contiguous tensors (memcpy); gates use separate (U, U) recurrent kernels instead of a split.
 */
function runLstm(p: LstmParams, x: tf.Tensor3D): tf.Tensor {
  const [T, N, F] = x.shape;
  const U = p.units;
  const x2d = tf.reshape(x, [T * N, F]);
  // (T·N, F)·(F, U) per gate → host, step-major: xw[k][t] is an (N, U) block.
  const xwHost = p.kernel.map((w) => {
    const m = tf.matMul(x2d, w);
    const d = m.dataSync() as Float32Array;
    m.dispose();
    return d;
  });
  x2d.dispose();
  const block = N * U;
  let h: tf.Tensor2D = tf.zeros([N, U]);
  let c: tf.Tensor2D = tf.zeros([N, U]);
  const outs: tf.Tensor2D[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = p.goBackwards ? T - 1 - s : s;
    const next = tf.tidy(() => {
      // Keras order: z = x·W + h·U, then + b.
      const z = [0, 1, 2, 3].map((k) => {
        const xw = tf.tensor2d(xwHost[k].subarray(t * block, (t + 1) * block), [N, U]);
        const zk = tf.add(xw, tf.matMul(h, p.recurrent[k]));
        return p.bias ? tf.add(zk, p.bias[k]) : zk;
      });
      const cNew = tf.add(tf.mul(p.recAct(z[1]), c), tf.mul(p.recAct(z[0]), p.act(z[2])));
      const hNew = tf.mul(p.recAct(z[3]), p.act(cNew));
      return [hNew, cNew] as [tf.Tensor2D, tf.Tensor2D];
    });
    c.dispose();
    // The initial zero state is never an output; later states are outputs with return_sequences.
    if (!p.returnSequences || s === 0) h.dispose();
    [h, c] = next;
    if (p.returnSequences) outs[t] = h;
  }
  c.dispose();
  if (!p.returnSequences) return h;
  // Keras re-aligns the backward layer's sequence to input time order; outs[t] is indexed by t.
  const seq = tf.stack(outs, 0);
  tf.dispose(outs);
  return seq;
}

/** Split a (rows, 4U) gate-concatenated weight into its four (rows, U) gate blocks. */
function gateBlocks<T extends tf.Tensor>(w: tf.Tensor, units: number): T[] {
  return tf.split(w, [units, units, units, units], w.rank - 1) as T[];
}

function lstmParams(layer: tf.layers.Layer, owned: tf.Tensor[]): LstmParams | undefined {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const act = actOf(cfg.activation);
  const recAct = actOf(cfg.recurrentActivation);
  if (!act || !recAct || cfg.stateful || cfg.returnState) return undefined;
  const w = layer.getWeights();
  const useBias = cfg.useBias !== false;
  if (w.length !== (useBias ? 3 : 2)) return undefined;
  const units = Number(cfg.units);
  // Gate blocks are copies: compile again after the model's weights change.
  const kernel = gateBlocks<tf.Tensor2D>(w[0], units);
  const recurrent = gateBlocks<tf.Tensor2D>(w[1], units);
  const bias = useBias ? gateBlocks<tf.Tensor1D>(w[2], units) : undefined;
  owned.push(...kernel, ...recurrent, ...(bias ?? []));
  return {
    kernel,
    recurrent,
    bias,
    units,
    act,
    recAct,
    returnSequences: Boolean(cfg.returnSequences),
    goBackwards: Boolean(cfg.goBackwards),
  };
}

function denseStage(layer: tf.layers.Layer): Stage | undefined {
  const cfg = layer.getConfig() as Record<string, unknown>;
  const act = actOf(cfg.activation);
  if (!act) return undefined;
  const w = layer.getWeights();
  const kernel = w[0] as tf.Tensor2D;
  const bias = w[1] as tf.Tensor1D | undefined;
  return (x) => {
    const shape = x.shape;
    const F = shape[shape.length - 1];
    let y = tf.matMul(tf.reshape(x, [-1, F]), kernel) as tf.Tensor;
    if (bias) y = tf.add(y, bias);
    y = act(y);
    return tf.reshape(y, [...shape.slice(0, -1), kernel.shape[1]]);
  };
}

function stageFor(layer: tf.layers.Layer, T: number, owned: tf.Tensor[]): Stage | undefined {
  const cls = layer.getClassName();
  switch (cls) {
    case 'InputLayer':
    case 'Dropout':
      return (x) => x;
    case 'LSTM': {
      const p = lstmParams(layer, owned);
      return p ? (x) => runLstm(p, x as tf.Tensor3D) : undefined;
    }
    case 'Bidirectional': {
      const inner = layer as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer; mergeMode: string };
      if (inner.forwardLayer?.getClassName() !== 'LSTM') return undefined;
      const fp = lstmParams(inner.forwardLayer, owned);
      const bp = lstmParams(inner.backwardLayer, owned);
      const mode = inner.mergeMode;
      if (!fp || !bp || !['concat', 'sum', 'mul', 'ave'].includes(mode)) return undefined;
      return (x) => {
        const f = runLstm(fp, x as tf.Tensor3D);
        const b = runLstm(bp, x as tf.Tensor3D);
        const axis = f.rank - 1;
        const out =
          mode === 'concat'
            ? tf.concat([f, b], axis)
            : mode === 'sum'
              ? tf.add(f, b)
              : mode === 'mul'
                ? tf.mul(f, b)
                : tf.mul(tf.add(f, b), 0.5);
        f.dispose();
        b.dispose();
        return out;
      };
    }
    case 'RepeatVector': {
      const n = Number((layer.getConfig() as Record<string, unknown>).n);
      // (N, F) → time-major (n, N, F)
      return (x) => tf.tile(tf.expandDims(x, 0), [n, 1, 1]);
    }
    case 'TimeDistributed': {
      const inner = (layer as unknown as { layer: tf.layers.Layer }).layer;
      if (inner.getClassName() === 'Dropout') return (x) => x;
      if (inner.getClassName() !== 'Dense') return undefined;
      return denseStage(inner);
    }
    case 'Dense':
      return denseStage(layer);
    default:
      void T;
      return undefined;
  }
}

/**
 * A time-major forward function for `model`, or undefined when some layer is not a chain of the
 * kinds above. Input (N, T, F) batch-major; output (N, T, F') batch-major, or (N, F').
 * Weights are read once, when compiled (re-compile after training changes them).
 */
export interface CompiledInference {
  run(x: tf.Tensor3D): tf.Tensor;
  /** Free the per-gate weight copies. */
  dispose(): void;
}

export function compileRecurrentInference(model: tf.LayersModel): CompiledInference | undefined {
  const layers = model.layers;
  // A chain: each layer's single inbound is the previous layer.
  for (let i = 1; i < layers.length; i++) {
    const nodes = layers[i].inboundNodes;
    if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1 || nodes[0].inboundLayers[0] !== layers[i - 1]) return undefined;
  }
  const T = Number(model.inputs[0].shape[1]);
  const stages: Stage[] = [];
  // Gate blocks are new tensors (tf.split of the live weights); dispose() frees exactly those.
  const owned: tf.Tensor[] = [];
  for (const layer of layers) {
    const st = stageFor(layer, T, owned);
    if (!st) {
      tf.dispose(owned);
      return undefined;
    }
    stages.push(st);
  }
  return {
    run: (x: tf.Tensor3D) =>
      tf.tidy(() => {
        let h: tf.Tensor = tf.transpose(x, [1, 0, 2]); // (T, N, F)
        for (const st of stages) h = st(h);
        return h.rank === 3 ? tf.transpose(h, [1, 0, 2]) : h;
      }),
    dispose: () => tf.dispose(owned),
  };
}
