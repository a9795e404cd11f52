/**
 * Reverse-mode differentiation over ONNX graphs: a graph is recorded with static shapes, and
 * `gradients(loss, wrt)` appends its backward pass to the same graph as ordinary ONNX ops, so a
 * plain onnxruntime InferenceSession (which has no training API) computes loss and gradients in
 * one native, multi-threaded call.
 *
 * Why static shapes: the broadcast reductions of the backward pass (a bias's gradient sums over
 * every row) need to know which axes were broadcast. A training graph is built per batch size
 * anyway (the session is cached per shape), so every value's shape is known when it is recorded.
 *
 * Every differentiable op goes through a method of `DiffGraph` that records it on a tape with its
 * vector-Jacobian rule's inputs; values that do not depend on a differentiated input (data,
 * dropout masks, constants) are never taped. An op recorded with `op()` that has no rule in
 * `VJP_RULES` is refused when the backward pass reaches it, naming the op and the layer.
 */
import { GraphBuilder, type AttrValue } from './graph';

export type Shape = readonly number[];

interface TapeEntry {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** Layer (torch prefix) the op belongs to, for error messages. */
  label: string;
  /** Node name in the graph (`<Op>_<k>`), for error messages. */
  node: string;
}

/** A rule returns one gradient per input (undefined: no gradient flows there). */
type VjpRule = (d: DiffGraph, e: TapeEntry, gOut: Array<string | undefined>) => Array<string | undefined>;

const numel = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const fmt = (s: Shape): string => `[${s.join(', ')}]`;

/** Numpy broadcasting of two static shapes. */
export function broadcastShapes(a: Shape, b: Shape, what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`ONNX training graph: ${what}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

export class DiffGraph {
  readonly g: GraphBuilder;
  private readonly shapes = new Map<string, number[]>();
  private readonly differentiable = new Set<string>();
  private readonly tape: TapeEntry[] = [];
  /** Taped entry that produced each value (for recomputation). */
  private readonly producer = new Map<string, TapeEntry>();
  /** Values recomputed in the backward pass instead of kept alive from the forward pass. */
  private readonly recomputable = new Set<string>();
  private readonly recomputed = new Map<string, string>();
  private nodeCounter = 0;
  /** Layer the next recorded ops belong to (set by the model's assembly; used in errors). */
  label = '';

  constructor(g: GraphBuilder = new GraphBuilder()) {
    this.g = g;
  }

  // ---- values -------------------------------------------------------------------------------

  /** Declare a graph input (or any value built outside) with its shape; `grad` marks it differentiable. */
  declare(name: string, shape: Shape, grad = false): string {
    this.shapes.set(name, [...shape]);
    if (grad) this.differentiable.add(name);
    return name;
  }

  shape(v: string): number[] {
    const s = this.shapes.get(v);
    if (!s) throw new Error(`ONNX training graph: no shape recorded for value '${v}'`);
    return s;
  }

  needsGrad(v: string): boolean {
    return this.differentiable.has(v);
  }

  /** A float32 constant. */
  floats(stem: string, values: number[] | Float32Array, dims: number[] = [values.length]): string {
    return this.declare(this.g.floats(stem, values, dims), dims);
  }

  /** An int64 constant (shapes, axes, indices). */
  ints(stem: string, values: number[], dims: number[] = [values.length]): string {
    return this.declare(this.g.ints(stem, values, dims), dims);
  }

  // ---- recording ----------------------------------------------------------------------------

  /**
   * Append any node whose output shapes the caller knows. When an input is differentiable the
   * node is taped: the backward pass then needs a rule for `opType` (VJP_RULES) or it refuses.
   */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue>, outShapes: Shape[]): string[] {
    const outputs = this.g.nodeOutputs(opType, inputs, attrs, outShapes.length);
    const node = `${opType}_${this.nodeCounter++}`;
    outputs.forEach((o, i) => this.shapes.set(o, [...outShapes[i]]));
    if (inputs.some((x) => this.differentiable.has(x))) {
      outputs.forEach((o) => this.differentiable.add(o));
      const entry = { op: opType, inputs, outputs, attrs, label: this.label, node };
      this.tape.push(entry);
      outputs.forEach((o) => this.producer.set(o, entry));
    }
    return outputs;
  }

  /**
   * Trade compute for memory: the backward pass recomputes these values (from their taped inputs,
   * recursively through other recomputed values) where a rule reads them, instead of keeping the
   * forward pass's copies alive until then. For AnomalyBERT's attention probabilities, the largest
   * activation of long windows (ESS: 134 MB a layer at batch 16), for one more product per layer.
   */
  recompute(...values: string[]): void {
    for (const v of values) {
      // An untaped value (no trained parameter upstream, e.g. a frozen encoder) has no backward use.
      if (this.producer.has(v)) this.recomputable.add(v);
    }
  }

  /** The backward pass's name of a forward value: itself, or its recomputation (emitted once). */
  private rematerialize(v: string): string {
    if (!this.recomputable.has(v)) return v;
    const hit = this.recomputed.get(v);
    if (hit) return hit;
    const e = this.producer.get(v) as TapeEntry;
    const inputs = e.inputs.map((x) => this.rematerialize(x));
    const outs = this.g.nodeOutputs(e.op, inputs, e.attrs, e.outputs.length);
    e.outputs.forEach((o, i) => {
      this.shapes.set(outs[i], this.shape(o));
      if (this.differentiable.has(o)) this.differentiable.add(outs[i]);
      this.recomputed.set(o, outs[i]);
    });
    return this.recomputed.get(v) as string;
  }

  private op1(opType: string, inputs: string[], attrs: Record<string, AttrValue>, outShape: Shape): string {
    return this.op(opType, inputs, attrs, [outShape])[0];
  }

  // ---- differentiable ops (shapes in, shapes out) ---------------------------------------------

  /** Elementwise a ∘ b with numpy broadcasting; op one of Add, Sub, Mul, Div. */
  binary(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: string, b: string): string {
    return this.op1(op, [a, b], {}, broadcastShapes(this.shape(a), this.shape(b), `${op} in ${this.label || 'graph'}`));
  }
  add(a: string, b: string): string {
    return this.binary('Add', a, b);
  }
  sub(a: string, b: string): string {
    return this.binary('Sub', a, b);
  }
  mul(a: string, b: string): string {
    return this.binary('Mul', a, b);
  }
  div(a: string, b: string): string {
    return this.binary('Div', a, b);
  }

  /** Unary elementwise op (same shape): Neg, Exp, Erf, Sigmoid, Relu, Abs, Softplus, Gelu, Identity… */
  unary(op: string, x: string, attrs: Record<string, AttrValue> = {}): string {
    return this.op1(op, [x], attrs, this.shape(x));
  }

  /** cond ? a : b elementwise (cond a boolean value, never differentiated). */
  where(cond: string, a: string, b: string): string {
    const s = broadcastShapes(
      broadcastShapes(this.shape(cond), this.shape(a), 'Where'),
      this.shape(b),
      `Where in ${this.label || 'graph'}`,
    );
    return this.op1('Where', [cond, a, b], {}, s);
  }

  /** Matrix product with numpy semantics for rank ≥ 2 operands: (…, m, k) @ (…, k, n) → (…, m, n). */
  matMul(a: string, b: string): string {
    const sa = this.shape(a);
    const sb = this.shape(b);
    if (sa.length < 2 || sb.length < 2 || sa[sa.length - 1] !== sb[sb.length - 2])
      throw new Error(`ONNX training graph: MatMul in ${this.label || 'graph'}: shapes ${fmt(sa)} and ${fmt(sb)} do not multiply`);
    const batch = broadcastShapes(sa.slice(0, -2), sb.slice(0, -2), `MatMul in ${this.label || 'graph'}`);
    return this.op1('MatMul', [a, b], {}, [...batch, sa[sa.length - 2], sb[sb.length - 1]]);
  }

  transpose(x: string, perm: number[]): string {
    const s = this.shape(x);
    return this.op1(
      'Transpose',
      [x],
      { perm },
      perm.map((p) => s[p]),
    );
  }

  /** Reshape to a static shape (no −1: every training-graph shape is known). */
  reshape(x: string, shape: number[]): string {
    if (numel(shape) !== numel(this.shape(x)))
      throw new Error(`ONNX training graph: Reshape in ${this.label || 'graph'}: ${fmt(this.shape(x))} cannot become ${fmt(shape)}`);
    return this.op1('Reshape', [x, this.g.ints('shape', shape)], {}, shape);
  }

  /** Softmax over the last axis. */
  softmax(x: string): string {
    return this.op1('Softmax', [x], { axis: -1 }, this.shape(x));
  }

  /** LayerNormalization over the last axis; Mean and InvStdDev are kept for the backward pass. */
  layerNorm(x: string, scale: string, bias: string, epsilon: number): string {
    const s = this.shape(x);
    const stat = [...s.slice(0, -1), 1];
    return this.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: epsilon } }, [s, stat, stat])[0];
  }

  /** Gather along axis 0 by constant int64 indices. */
  gather(data: string, indices: string): string {
    const s = this.shape(data);
    return this.op1('Gather', [data, indices], { axis: 0 }, [...this.shape(indices), ...s.slice(1)]);
  }

  /** Concat along `axis` (non-negative). */
  concat(xs: string[], axis: number): string {
    const shapes = xs.map((x) => this.shape(x));
    const out = [...shapes[0]];
    out[axis] = shapes.reduce((a, s) => a + s[axis], 0);
    return this.op1('Concat', xs, { axis }, out);
  }

  /**
   * Mean binary cross-entropy of sigmoid(z) against 0/1 targets y, from the logits in the stable
   * form max(z, 0) − z·y + log(1 + e^−|z|) (the tfjs trainer's `bceWithLogits`). One taped entry:
   * its gradient (sigmoid(z) − y)/count is simpler and exact, where differentiating the pieces
   * would add five backward ops per point.
   */
  bceWithLogitsMean(z: string, y: string): string {
    const g = this.g;
    const relu = g.node('Relu', [z]);
    const zy = g.node('Mul', [z, y]);
    const soft = g.node('Softplus', [g.node('Neg', [g.node('Abs', [z])])]);
    const pointwise = g.node('Add', [g.node('Sub', [relu, zy]), soft]);
    const loss = g.node('ReduceMean', [pointwise], { keepdims: 0 });
    this.shapes.set(loss, []);
    if (this.differentiable.has(z)) {
      this.differentiable.add(loss);
      this.tape.push({
        op: 'BceWithLogitsMean',
        inputs: [z, y],
        outputs: [loss],
        attrs: {},
        label: this.label,
        node: `BceWithLogitsMean_${this.nodeCounter++}`,
      });
    }
    return loss;
  }

  // ---- helpers of the backward pass --------------------------------------------------------------

  /** Sum `g` (shape of the op's output) down to `target` (an operand's shape before broadcasting). */
  unbroadcast(grad: string, target: Shape): string {
    const s = this.shape(grad);
    if (s.length === target.length && s.every((d, i) => d === target[i])) return grad;
    const padded = [...Array<number>(s.length - target.length).fill(1), ...target];
    const axes = s.map((d, i) => (padded[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0);
    let out = grad;
    if (axes.length) {
      const reduced = s.map((d, i) => (axes.includes(i) ? 1 : d));
      out = this.declare(this.g.node('ReduceSum', [grad, this.g.ints('axes', axes)], { keepdims: 1 }), reduced);
    }
    return this.shape(out).length === target.length ? out : this.plainReshape(out, [...target]);
  }

  /** Reshape outside the tape (backward pass). */
  plainReshape(x: string, shape: number[]): string {
    return this.declare(this.g.node('Reshape', [x, this.g.ints('shape', shape)]), shape);
  }

  /** An untaped node with a known output shape (backward pass). */
  plain(opType: string, inputs: string[], shape: Shape, attrs: Record<string, AttrValue> = {}): string {
    return this.declare(this.g.node(opType, inputs, attrs), shape);
  }

  /** A scalar float constant. */
  scalar(v: number): string {
    return this.floats('c', [v], []);
  }

  // ---- the backward pass -----------------------------------------------------------------------

  /**
   * Append d`loss`/d`w` for every w of `wrt` (declared differentiable) to the graph. `loss` must be
   * a scalar. Returns name → gradient value. An op without a rule on the way throws one line
   * naming the op, its node and its layer.
   */
  gradients(loss: string, wrt: string[]): Map<string, string> {
    if (numel(this.shape(loss)) !== 1)
      throw new Error(`ONNX training graph: the loss must be a scalar, got shape ${fmt(this.shape(loss))}`);
    const pending = new Map<string, string[]>();
    const push = (v: string, gv: string): void => {
      const list = pending.get(v);
      if (list) list.push(gv);
      else pending.set(v, [gv]);
    };
    const take = (v: string): string | undefined => {
      const list = pending.get(v);
      if (!list || list.length === 0) return undefined;
      const total = list.length === 1 ? list[0] : this.plain('Sum', list, this.shape(v));
      pending.set(v, [total]);
      return total;
    };
    push(loss, this.floats('d_loss', [1], this.shape(loss)));
    // Only entries on a path from a wanted input to the loss are differentiated.
    const wanted = new Set(wrt);
    const reaches = new Set<string>(wrt);
    for (const e of this.tape) if (e.inputs.some((x) => reaches.has(x))) e.outputs.forEach((o) => reaches.add(o));
    for (let k = this.tape.length - 1; k >= 0; k--) {
      const e = this.tape[k];
      if (!e.inputs.some((x) => reaches.has(x))) continue;
      const gOut = e.outputs.map((o) => take(o));
      if (gOut.every((x) => x === undefined)) continue;
      const rule = VJP_RULES[e.op];
      if (!rule)
        throw new Error(
          `ONNX training graph: no gradient rule for op '${e.op}' (node ${e.node}${e.label ? ` in layer ${e.label}` : ''}); supported: ${Object.keys(VJP_RULES).join(', ')}`,
        );
      // Rules that read forward values get the recomputed ones; the others only read shapes.
      const view = VALUE_FREE_RULES.has(e.op)
        ? e
        : { ...e, inputs: e.inputs.map((x) => this.rematerialize(x)), outputs: e.outputs.map((x) => this.rematerialize(x)) };
      const gIn = rule(this, view, gOut);
      e.inputs.forEach((x, i) => {
        const gi = gIn[i];
        if (gi !== undefined && reaches.has(x) && this.differentiable.has(x)) push(x, gi);
      });
    }
    const out = new Map<string, string>();
    for (const w of wanted) {
      const gw = take(w);
      // A parameter the loss does not use gets a zero gradient (as tfjs reports it), not a missing one.
      out.set(w, gw ?? this.floats('zero_grad', new Float32Array(numel(this.shape(w))), this.shape(w)));
    }
    return out;
  }
}

/** Ops whose rules use only shapes and attributes of the forward values (never recompute for them). */
const VALUE_FREE_RULES = new Set(['Identity', 'Add', 'Sub', 'Neg', 'Transpose', 'Reshape', 'Concat']);

/** Swap the last two axes. */
function swapLast(d: DiffGraph, x: string): string {
  const s = d.shape(x);
  const perm = s.map((_, i) => i);
  [perm[s.length - 2], perm[s.length - 1]] = [perm[s.length - 1], perm[s.length - 2]];
  return d.plain(
    'Transpose',
    [x],
    perm.map((p) => s[p]),
    { perm },
  );
}

const mulRule = (d: DiffGraph, a: string, b: string, g: string, outShape: Shape): string =>
  d.unbroadcast(d.plain('Mul', [g, b], outShape), d.shape(a));

/**
 * Vector-Jacobian products of the supported ops, each written as ONNX ops. `e.inputs[i]` are the
 * forward values (kept alive by onnxruntime for the backward pass), gOut the output gradients.
 */
export const VJP_RULES: Record<string, VjpRule> = {
  Identity: (_d, _e, [g]) => [g],
  Add: (d, e, [g]) => [d.unbroadcast(g as string, d.shape(e.inputs[0])), d.unbroadcast(g as string, d.shape(e.inputs[1]))],
  Sub: (d, e, [g]) => {
    const gv = g as string;
    const needB = d.needsGrad(e.inputs[1]);
    return [
      d.unbroadcast(gv, d.shape(e.inputs[0])),
      needB ? d.unbroadcast(d.plain('Neg', [gv], d.shape(gv)), d.shape(e.inputs[1])) : undefined,
    ];
  },
  Mul: (d, e, [g]) => {
    const [a, b] = e.inputs;
    const s = d.shape(e.outputs[0]);
    return [d.needsGrad(a) ? mulRule(d, a, b, g as string, s) : undefined, d.needsGrad(b) ? mulRule(d, b, a, g as string, s) : undefined];
  },
  Div: (d, e, [g]) => {
    // d(a/b) = g/b · da − g·(a/b)/b · db
    const [a, b] = e.inputs;
    const s = d.shape(e.outputs[0]);
    const gOverB = d.plain('Div', [g as string, b], s);
    return [
      d.needsGrad(a) ? d.unbroadcast(gOverB, d.shape(a)) : undefined,
      d.needsGrad(b) ? d.unbroadcast(d.plain('Neg', [d.plain('Mul', [gOverB, e.outputs[0]], s)], s), d.shape(b)) : undefined,
    ];
  },
  Neg: (d, e, [g]) => [d.plain('Neg', [g as string], d.shape(e.inputs[0]))],
  Exp: (d, e, [g]) => [d.plain('Mul', [g as string, e.outputs[0]], d.shape(e.inputs[0]))],
  Sigmoid: (d, e, [g]) => {
    // σ' = σ(1 − σ)
    const s = d.shape(e.inputs[0]);
    const y = e.outputs[0];
    return [d.plain('Mul', [g as string, d.plain('Mul', [y, d.plain('Sub', [d.scalar(1), y], s)], s)], s)];
  },
  Gelu: (d, e, [g]) => {
    // Exact GELU x·Φ(x): d/dx = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π).
    const x = e.inputs[0];
    const s = d.shape(x);
    const cdf = d.plain(
      'Mul',
      [d.plain('Add', [d.plain('Erf', [d.plain('Mul', [x, d.scalar(Math.SQRT1_2)], s)], s), d.scalar(1)], s), d.scalar(0.5)],
      s,
    );
    const pdf = d.plain(
      'Mul',
      [d.plain('Exp', [d.plain('Mul', [d.plain('Mul', [x, x], s), d.scalar(-0.5)], s)], s), d.scalar(1 / Math.sqrt(2 * Math.PI))],
      s,
    );
    return [d.plain('Mul', [g as string, d.plain('Add', [cdf, d.plain('Mul', [x, pdf], s)], s)], s)];
  },
  MatMul: (d, e, [g]) => {
    const [a, b] = e.inputs;
    const gv = g as string;
    const sa = d.shape(a);
    const sb = d.shape(b);
    const sg = d.shape(gv);
    let ga: string | undefined;
    let gb: string | undefined;
    if (sb.length === 2) {
      // x (…, m, k) @ W (k, n): flatten the leading axes into rows, so both products are 2-D Gemms
      // (the transposes are Gemm flags, not copies of the activations).
      const k = sa[sa.length - 1];
      const n = sb[1];
      const rows = numel(sa) / k;
      const a2 = sa.length === 2 ? a : d.plainReshape(a, [rows, k]);
      const g2 = sg.length === 2 ? gv : d.plainReshape(gv, [rows, n]);
      if (d.needsGrad(a)) {
        const p = d.plain('Gemm', [g2, b], [rows, k], { transB: 1 });
        ga = sa.length === 2 ? p : d.plainReshape(p, [...sa]);
      }
      if (d.needsGrad(b)) gb = d.plain('Gemm', [a2, g2], [k, n], { transA: 1 });
      return [ga, gb];
    }
    if (d.needsGrad(a)) {
      const bt = swapLast(d, b);
      ga = d.unbroadcast(d.plain('MatMul', [gv, bt], [...sg.slice(0, -1), sb[sb.length - 2]]), sa);
    }
    if (d.needsGrad(b)) {
      const at = swapLast(d, a);
      gb = d.unbroadcast(d.plain('MatMul', [at, gv], [...sg.slice(0, -2), sa[sa.length - 1], sg[sg.length - 1]]), sb);
    }
    return [ga, gb];
  },
  Transpose: (d, e, [g]) => {
    const perm = e.attrs.perm as number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [d.plain('Transpose', [g as string], d.shape(e.inputs[0]), { perm: inv })];
  },
  Reshape: (d, e, [g]) => [d.plainReshape(g as string, d.shape(e.inputs[0])), undefined],
  Softmax: (d, e, [g]) => {
    // dx = y ⊙ (g − Σ_last(g ⊙ y))
    const y = e.outputs[0];
    const s = d.shape(y);
    const gy = d.plain('Mul', [g as string, y], s);
    const sum = d.plain('ReduceSum', [gy, d.ints('axes', [s.length - 1])], [...s.slice(0, -1), 1], { keepdims: 1 });
    return [d.plain('Mul', [y, d.plain('Sub', [g as string, sum], s)], s)];
  },
  LayerNormalization: (d, e, [g]) => {
    // x̂ = (x − μ)·r, y = γ x̂ + β (r = 1/√(σ² + ε), over the last axis):
    //   dx = r · (γg − mean(γg) − x̂ · mean(γg ⊙ x̂));  dγ = Σ_rows g ⊙ x̂;  dβ = Σ_rows g
    const [x, gamma, beta] = e.inputs;
    const [, mean, invStd] = e.outputs;
    const gv = g as string;
    const s = d.shape(x);
    const last = s.length - 1;
    const stat = [...s.slice(0, -1), 1];
    const xhat = d.plain('Mul', [d.plain('Sub', [x, mean], s), invStd], s);
    const rowAxes = d.ints(
      'axes',
      s.slice(0, -1).map((_, i) => i),
    );
    const lastAxis = d.ints('axes', [last]);
    const out: Array<string | undefined> = [undefined, undefined, undefined];
    if (d.needsGrad(x)) {
      const gg = d.plain('Mul', [gv, gamma], s);
      const m1 = d.plain('ReduceMean', [gg, lastAxis], stat, { keepdims: 1 });
      const m2 = d.plain('ReduceMean', [d.plain('Mul', [gg, xhat], s), lastAxis], stat, { keepdims: 1 });
      const inner = d.plain('Sub', [d.plain('Sub', [gg, m1], s), d.plain('Mul', [xhat, m2], s)], s);
      out[0] = d.plain('Mul', [inner, invStd], s);
    }
    if (d.needsGrad(gamma)) out[1] = d.plain('ReduceSum', [d.plain('Mul', [gv, xhat], s), rowAxes], [s[last]], { keepdims: 0 });
    if (d.needsGrad(beta)) out[2] = d.plain('ReduceSum', [gv, rowAxes], [s[last]], { keepdims: 0 });
    return out;
  },
  Gather: (d, e, [g]) => {
    // Scatter-add of the output gradient back to the gathered rows (indices repeat: the relative
    // position bias reads each table row for every (i, j) with the same offset).
    const [data, indices] = e.inputs;
    const sd = d.shape(data);
    const rows = numel(d.shape(indices));
    const width = numel(sd.slice(1));
    const g2 = d.plainReshape(g as string, [rows, width]);
    const idx = d.plain('Expand', [d.plainReshape(indices, [rows, 1]), d.ints('shape', [rows, width])], [rows, width]);
    const zeros = d.floats('zeros', new Float32Array(sd[0] * width), [sd[0], width]);
    const summed = d.plain('ScatterElements', [zeros, idx, g2], [sd[0], width], { axis: 0, reduction: 'add' });
    return [sd.length === 2 ? summed : d.plainReshape(summed, [...sd]), undefined];
  },
  Where: (d, e, [g]) => {
    // y = cond ? a : b  →  da = cond ? g : 0, db = cond ? 0 : g (cond is boolean: no gradient)
    const [cond, a, b] = e.inputs;
    const s = d.shape(e.outputs[0]);
    const zero = (): string => d.scalar(0);
    return [
      undefined,
      d.needsGrad(a) ? d.unbroadcast(d.plain('Where', [cond, g as string, zero()], s), d.shape(a)) : undefined,
      d.needsGrad(b) ? d.unbroadcast(d.plain('Where', [cond, zero(), g as string], s), d.shape(b)) : undefined,
    ];
  },
  Concat: (d, e, [g]) => {
    const axis = e.attrs.axis as number;
    const sizes = e.inputs.map((x) => d.shape(x)[axis]);
    const parts = d.g.nodeOutputs('Split', [g as string, d.ints('split', sizes)], { axis }, sizes.length);
    return parts.map((p, i) => d.declare(p, d.shape(e.inputs[i])));
  },
  BceWithLogitsMean: (d, e, [g]) => {
    // d/dz mean(max(z,0) − z·y + log(1 + e^−|z|)) = (σ(z) − y) / count
    const [z, y] = e.inputs;
    const s = d.shape(z);
    const diff = d.plain('Sub', [d.plain('Sigmoid', [z], s), y], s);
    return [d.plain('Mul', [diff, d.plain('Mul', [g as string, d.scalar(1 / numel(s))], [])], s), undefined];
  },
};
