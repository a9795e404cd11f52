/**
 * AdamW with decoupled weight decay (PyTorch `torch.optim.AdamW` semantics) and global
 * gradient-norm clipping (`torch.nn.utils.clip_grad_norm_`), on plain `tf.Variable`s.
 *
 * Why our own and not `tf.train.adam`: tfjs has no AdamW (its Adam folds no decay, and L2 in the
 * loss is not decoupled), its optimiser cannot clip by the global norm across variables, and its
 * slot state is not easy to save and restore for resuming a killed run. Here the moments are
 * tf.Variables updated in place (tensor count stays flat) and `getState`/`setState` round-trip
 * them exactly (float32).
 *
 * Update for each parameter p with gradient g at step t (1-based), as torch does:
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 * Clipping first scales all gradients by min(1, maxNorm / (‖g‖₂ + 1e-6)), ‖g‖₂ over all of them.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (default 1e-4, the original script's value). */
  weightDecay?: number;
  /** Global gradient-norm clipping threshold; 0 or Infinity disables (default 1.0). */
  clipNorm?: number;
  /**
   * Per-variable learning-rate multipliers, in variable order (layer-wise learning rates); the
   * step of variable i uses lr · lrScales[i] (weight decay too, as torch param groups do). Default all 1.
   */
  lrScales?: number[];
}

/** Serializable optimiser state: step count and both moments per variable (by name). */
export interface AdamWState {
  step: number;
  slots: Array<{ name: string; shape: number[]; m: Float32Array; v: Float32Array }>;
}

/** Variables up to this many elements get the host-side update (see applyGradients). */
const HOST_UPDATE_MAX_SIZE = 1 << 16;

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  /** Number of updates applied so far (torch's `state['step']`). */
  step = 0;
  private readonly vars: tf.Variable[];
  /** Stable names for saved state (torch state-dict keys when given a Map). */
  private readonly names: string[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly lrScales: number[] | undefined;

  /**
   * `variables`: an array (state keyed by `variable.name`) or a Map from stable names (e.g.
   * torch state-dict keys, so saved state survives a restart) to variables.
   */
  constructor(vars: tf.Variable[] | Map<string, tf.Variable>, cfg: AdamWConfig = {}) {
    const variables = Array.isArray(vars) ? vars : [...vars.values()];
    this.names = Array.isArray(vars) ? vars.map((x) => x.name) : [...vars.keys()];
    if (variables.length === 0) throw new Error('AdamW: no trainable variables (is every part frozen?)');
    this.beta1 = cfg.beta1 ?? 0.9;
    this.beta2 = cfg.beta2 ?? 0.999;
    this.epsilon = cfg.epsilon ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 1e-4;
    this.clipNorm = cfg.clipNorm ?? 1.0;
    this.vars = variables;
    if (cfg.lrScales && cfg.lrScales.length !== variables.length)
      throw new Error(`AdamW: ${cfg.lrScales.length} lr scales for ${variables.length} variables`);
    // Undefined when every scale is 1, so the common path stays exactly the original update.
    this.lrScales = cfg.lrScales && cfg.lrScales.some((x) => x !== 1) ? cfg.lrScales.slice() : undefined;
    // tf.variable shares its initial tensor's data: tidy frees the zeros tensor (the variable
    // keeps the data), otherwise every moment leaked one tensor of its size after dispose().
    this.m = variables.map((x) => tf.tidy(() => tf.variable(tf.zeros(x.shape), false, undefined, 'float32')));
    this.v = variables.map((x) => tf.tidy(() => tf.variable(tf.zeros(x.shape), false, undefined, 'float32')));
  }

  /** Names of the variables this optimiser updates, in order. */
  get variableNames(): string[] {
    return [...this.names];
  }

  /**
   * Clip and apply one update. `grads` maps `variable.name` (tfjs's internal name, as
   * `tf.variableGrads` returns) → gradient; every optimised variable must have one. The gradients are not disposed here.
   * Returns the global gradient norm before clipping.
   */
  applyGradients(grads: tf.NamedTensorMap, lr: number): number {
    const gs = this.vars.map((x) => {
      const g = grads[x.name];
      if (!g) throw new Error(`AdamW: no gradient for variable '${x.name}' (is it used by the loss?)`);
      return g;
    });
    this.step += 1;
    const t = this.step;
    // Global L2 norm over all gradients, computed once per step (on the backend, as before).
    const [normT, coefT] = tf.tidy(() => {
      const total = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.mul(g, g)))));
      const clip = Number.isFinite(this.clipNorm) && this.clipNorm > 0;
      const coef = clip ? tf.minimum(tf.scalar(1), tf.div(tf.scalar(this.clipNorm), tf.add(total, tf.scalar(1e-6)))) : tf.scalar(1);
      return [total, coef];
    });
    const norm = normT.dataSync()[0];
    const coef = coefT.dataSync()[0];
    tf.dispose([normT, coefT]);
    // Small variables are updated on the host, one pass instead of ~14 backend ops (each a kernel
    // dispatch: about a third of a workshop step's kernels were these). Every operation is the
    // float32 one the tensor path does — Math.fround after each +, −, ×, ÷, √ of float32 operands
    // is exactly IEEE float32 arithmetic — so both paths give the same bits. Large variables stay
    // on the backend, where the arithmetic, not the dispatch, is the cost (ESS: the host loop was
    // 2× slower there).
    const f = Math.fround;
    const b1 = f(this.beta1);
    const b2 = f(this.beta2);
    const nb1 = f(1 - this.beta1);
    const nb2 = f(1 - this.beta2);
    const eps = f(this.epsilon);
    const sqrtBc2 = f(Math.sqrt(1 - Math.pow(this.beta2, t)));
    for (let i = 0; i < this.vars.length; i++) {
      const k = this.lrScales?.[i] ?? 1;
      const decay = f(1 - lr * k * this.weightDecay);
      const stepSize = f((lr * k) / (1 - Math.pow(this.beta1, t)));
      if (this.vars[i].size > HOST_UPDATE_MAX_SIZE) {
        tf.tidy(() => {
          const g = tf.mul(gs[i], tf.scalar(coef));
          const m = tf.add(tf.mul(this.m[i], tf.scalar(b1)), tf.mul(g, tf.scalar(nb1)));
          const v = tf.add(tf.mul(this.v[i], tf.scalar(b2)), tf.mul(tf.mul(g, g), tf.scalar(nb2)));
          this.m[i].assign(m);
          this.v[i].assign(v);
          const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(sqrtBc2)), tf.scalar(eps));
          this.vars[i].assign(tf.sub(tf.mul(this.vars[i], tf.scalar(decay)), tf.mul(tf.scalar(stepSize), tf.div(m, denom))));
        });
        continue;
      }
      const g = gs[i].dataSync() as Float32Array;
      const m = this.m[i].dataSync() as Float32Array;
      const v = this.v[i].dataSync() as Float32Array;
      const p = this.vars[i].dataSync() as Float32Array;
      const mOut = new Float32Array(m.length);
      const vOut = new Float32Array(v.length);
      const pOut = new Float32Array(p.length);
      for (let j = 0; j < p.length; j++) {
        const gj = f(g[j] * coef);
        const mj = f(f(m[j] * b1) + f(gj * nb1));
        const vj = f(f(v[j] * b2) + f(f(gj * gj) * nb2));
        const denom = f(f(f(Math.sqrt(vj)) / sqrtBc2) + eps);
        mOut[j] = mj;
        vOut[j] = vj;
        pOut[j] = f(f(p[j] * decay) - f(stepSize * f(mj / denom)));
      }
      const shape = this.vars[i].shape;
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(mOut, shape, 'float32'));
        this.v[i].assign(tf.tensor(vOut, shape, 'float32'));
        this.vars[i].assign(tf.tensor(pOut, shape, 'float32'));
      });
    }
    return norm;
  }

  /** A copy of the state (moments read back to the host). */
  getState(): AdamWState {
    return {
      step: this.step,
      slots: this.vars.map((x, i) => ({
        name: this.names[i],
        shape: [...x.shape],
        m: this.m[i].dataSync() as Float32Array,
        v: this.v[i].dataSync() as Float32Array,
      })),
    };
  }

  /** Restore a saved state. Variable names and shapes must match; errors name the variable. */
  setState(state: AdamWState): void {
    if (state.slots.length !== this.vars.length) {
      throw new Error(`optimizer state has ${state.slots.length} variables, the model trains ${this.vars.length}`);
    }
    const byName = new Map(state.slots.map((s) => [s.name, s]));
    this.vars.forEach((x, i) => {
      const name = this.names[i];
      const s = byName.get(name);
      if (!s) throw new Error(`optimizer state lacks variable '${name}'`);
      if (s.shape.join(',') !== x.shape.join(',')) {
        throw new Error(`optimizer state for '${name}' has shape [${s.shape}], variable has [${x.shape}]`);
      }
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(s.m, x.shape, 'float32'));
        this.v[i].assign(tf.tensor(s.v, x.shape, 'float32'));
      });
    });
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/**
 * Encode a state as one binary blob: uint32 header length, UTF-8 JSON header, then the
 * float32 moments in slot order (m then v per slot). `extra` rides along in the header
 * (the trainer stores its RNG state there).
 */
export function encodeAdamWState(state: AdamWState, extra: Record<string, unknown> = {}): Uint8Array {
  const header = JSON.stringify({
    format: 'anomaly-lab-adamw-v1',
    step: state.step,
    slots: state.slots.map((s) => ({ name: s.name, shape: s.shape })),
    extra,
  });
  const headerBytes = Buffer.from(header, 'utf8');
  // Pad the header so the float32 payload is 4-byte aligned.
  const pad = (4 - ((4 + headerBytes.length) % 4)) % 4;
  const nFloats = state.slots.reduce((acc, s) => acc + s.m.length + s.v.length, 0);
  const out = new Uint8Array(4 + headerBytes.length + pad + nFloats * 4);
  new DataView(out.buffer).setUint32(0, headerBytes.length + pad, true);
  out.set(headerBytes, 4);
  out.fill(0x20, 4 + headerBytes.length, 4 + headerBytes.length + pad);
  const payload = new Float32Array(out.buffer, 4 + headerBytes.length + pad, nFloats);
  let off = 0;
  for (const s of state.slots) {
    payload.set(s.m, off);
    off += s.m.length;
    payload.set(s.v, off);
    off += s.v.length;
  }
  return out;
}

/** Decode `encodeAdamWState` output. `source` names the file in errors. */
export function decodeAdamWState(bytes: Uint8Array, source: string): { state: AdamWState; extra: Record<string, unknown> } {
  const fail = (why: string): never => {
    throw new Error(`${source}: not an optimizer state file (${why})`);
  };
  if (bytes.length < 4) fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint32(0, true);
  if (4 + headerLen > bytes.length) fail('header length beyond end of file');
  let header: { format?: string; step: number; slots: Array<{ name: string; shape: number[] }>; extra?: Record<string, unknown> };
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + headerLen)).toString('utf8'));
  } catch {
    return fail('header is not JSON');
  }
  if (header.format !== 'anomaly-lab-adamw-v1') fail(`unknown format '${header.format}'`);
  const sizes = header.slots.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const nFloats = sizes.reduce((a, b) => a + 2 * b, 0);
  if (bytes.length !== 4 + headerLen + nFloats * 4) fail(`expected ${nFloats} float32 values after the header`);
  // Copy so the arrays do not depend on the caller's buffer alignment.
  const payload = new Float32Array(bytes.slice(4 + headerLen).buffer);
  let off = 0;
  const slots = header.slots.map((s, i) => {
    const m = payload.slice(off, off + sizes[i]);
    off += sizes[i];
    const v = payload.slice(off, off + sizes[i]);
    off += sizes[i];
    return { name: s.name, shape: s.shape, m, v };
  });
  return { state: { step: header.step, slots }, extra: header.extra ?? {} };
}
