/**
 * The onnx training engine: one training step as a single onnxruntime-node session call (forward,
 * BCE loss and backward pass of anomalybert/onnx-train.ts, multi-threaded native kernels), then the
 * trainer's own AdamW update (optimizer.ts) with the returned gradients, so the update rule,
 * clipping, layer-wise learning rates and frozen parts are exactly those of the tfjs engine.
 *
 * Dropout: the keep-masks are drawn here on the host and fed to the graph as bool inputs, one seed
 * per site in the order model.ts draws them (per layer: after the attention, inside and after the
 * feed-forward block), from the step's dropout seed, so a resumed run draws the same masks.
 * Two generators (`dropoutMasks`):
 *  - 'fast' (default): sfc32 (browser/random) straight into one reused buffer per site. No garbage:
 *    an ESS step needs 151 M mask units, and tf.randomUniform's two float copies of each were GBs
 *    of short-lived buffers (measured: the process peaked at 7.9 GB against 4.0 GB for the session).
 *  - 'tfjs': tf.dropout's own masks (tf.randomUniform with the same seeds), so the step equals the
 *    tfjs engine's bit for bit in its masks; the tests compare the engines this way.
 *
 * Sessions are cached per (configuration, batch size, trained parameters, threads): building one
 * exports and optimises the whole graph (tens of ms for the workshop model, seconds for ESS), a
 * freeze-schedule stage change needs another one. The whole batch runs in one call (no micro-batches).
 *
 * LoRA: with the run's `LoraAdapters`, the graph builds each adapted projection's W + s·(A·B) itself
 * (targets and scale from lora.ts) and returns the adapters' gradients; the frozen base weights are
 * fed as inputs only.
 */
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { createRng } from '../browser/random';
import type { AnomalyBert } from '../anomalybert/model';
import {
  exportAnomalyBertTrainingGraph,
  TRAIN_INPUT_X,
  TRAIN_INPUT_Y,
  TRAIN_OUTPUT_LOGITS,
  TRAIN_OUTPUT_LOSS,
} from '../anomalybert/onnx-train';
import { createOnnxSession, defaultThreads, floatView, loadOnnxRuntime } from '../onnx/runtime';
import type { AdamW } from './optimizer';
import type { LoraAdapters } from './lora';

export type DropoutMaskSource = 'fast' | 'tfjs';

/** What one training step is told, whichever engine runs it (the worker pool adds its micro-batch). */
export interface TrainStepOptions {
  nRows: number;
  windowSize: number;
  nCols: number;
  lr: number;
  /** Seed of this step's dropout masks (the tfjs engine's, so both drop the same units). */
  dropoutSeed?: number;
  /** Also compute the accuracy of the batch (summary steps). */
  accuracy?: boolean;
}

export interface OnnxStepOptions extends TrainStepOptions {
  /** Training-mode dropout (default true, as the trainer). */
  training?: boolean;
}

export interface OnnxStepResult {
  loss: number;
  accuracy: number;
  gradNorm: number;
}

interface CachedSession {
  session: Ort.InferenceSession;
  params: Array<{ name: string; shape: number[] }>;
  masks: Array<{ name: string; shape: number[] }>;
  grads: Map<string, string>;
}

/**
 * tf.dropout's keep-mask for one site: floor(u + keep) with u = tf.randomUniform(shape, 0, 1,
 * 'float32', seed), the sum rounded to float32 as the backend does (u < 1, so it is 0 or 1).
 */
function tfjsKeepMask(shape: number[], rate: number, seed: number | undefined): Uint8Array {
  const keep = Math.fround(1 - rate);
  const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
  const values = u.dataSync() as Float32Array;
  u.dispose();
  const mask = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) mask[i] = Math.fround(values[i] + keep) >= 1 ? 1 : 0;
  return mask;
}

/**
 * Keep-mask from sfc32 (the generator of browser/random, seeded from it) into `out`: P(keep) =
 * ⌊(1 − rate)·2³²⌋ / 2³². Inlined on int32 locals: through createRng's closure the uint32 state
 * lived in heap numbers and a workshop step spent 54 ms here (69 ns a unit); this runs ~2 ns a unit.
 */
function fastKeepMask(out: Uint8Array, rate: number, seed: number): Uint8Array {
  const init = createRng(seed);
  let a = init.nextUint32() | 0;
  let b = init.nextUint32() | 0;
  let c = init.nextUint32() | 0;
  let d = init.nextUint32() | 0;
  const threshold = Math.floor((1 - rate) * 2 ** 32);
  for (let i = 0; i < out.length; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    out[i] = t >>> 0 < threshold ? 1 : 0;
  }
  return out;
}

export class OnnxTrainingEngine {
  private readonly sessions = new Map<string, Promise<CachedSession>>();
  private readonly names: Map<tf.Variable, string>;
  /** Graph input name → variable: the model's parameters and the LoRA adapters. */
  private readonly inputs: Map<string, tf.Variable>;
  /** 'fast' masks: one buffer per site and shape, reused every step. */
  private readonly maskBuffers = new Map<string, Uint8Array>();

  constructor(
    readonly model: AnomalyBert,
    readonly threads: number = defaultThreads(),
    readonly dropoutMasks: DropoutMaskSource = 'fast',
    /** The run's LoRA adapters (their variables are graph inputs; the trainer's varList holds them). */
    readonly lora?: LoraAdapters,
  ) {
    if (!loadOnnxRuntime()) throw new Error('onnx training engine: onnxruntime-node cannot be loaded');
    this.inputs = new Map([...model.namedVariables(), ...(lora?.variables ?? [])]);
    this.names = new Map([...this.inputs].map(([name, v]) => [v, name]));
  }

  /** Graph names of `varList` (torch names; `<target>.lora_A`/`lora_B` for adapters). */
  torchNames(varList: readonly tf.Variable[]): string[] {
    return varList.map((v) => {
      const name = this.names.get(v);
      if (!name) throw new Error(`onnx training engine: variable '${v.name}' is neither a parameter of the model nor a LoRA adapter`);
      return name;
    });
  }

  private sessionFor(n: number, trained: string[], dropout: boolean): Promise<CachedSession> {
    const lora = this.lora ? { rank: this.lora.rank, scale: this.lora.scale, targets: this.lora.targets } : undefined;
    const key = JSON.stringify([this.model.config, n, trained, dropout, this.threads, lora]);
    let hit = this.sessions.get(key);
    if (!hit) {
      hit = (async () => {
        const graph = exportAnomalyBertTrainingGraph(this.model.config, { batch: n, trained, dropout, lora });
        const session = await createOnnxSession(graph.bytes, 'AnomalyBERT training graph', this.threads, {
          arena: false,
          pattern: false,
          optimize: false,
        });
        return { session, params: graph.params, masks: graph.masks, grads: graph.grads };
      })();
      hit.catch(() => this.sessions.delete(key));
      this.sessions.set(key, hit);
    }
    return hit;
  }

  /**
   * Loss, logits and gradients of the trained variables for one batch (no update). Gradients are
   * keyed by the tfjs variable name (what `AdamW.applyGradients` reads); the caller disposes them.
   */
  async gradients(
    varList: readonly tf.Variable[],
    batch: { x: Float32Array; y: Uint8Array },
    o: OnnxStepOptions,
  ): Promise<{ loss: number; logits: Float32Array; grads: tf.NamedTensorMap }> {
    const ort = loadOnnxRuntime() as typeof Ort;
    const { nRows: n, windowSize: W, nCols: C } = o;
    const trained = this.torchNames(varList);
    const rate = this.model.config.dropout;
    const dropout = (o.training ?? true) && rate > 0;
    const s = await this.sessionFor(n, trained, dropout);
    const feeds: Record<string, Ort.Tensor> = {
      [TRAIN_INPUT_X]: new ort.Tensor('float32', batch.x, [n, W, C]),
      [TRAIN_INPUT_Y]: new ort.Tensor('float32', Float32Array.from(batch.y), [n, W]),
    };
    for (const p of s.params)
      feeds[p.name] = new ort.Tensor('float32', (this.inputs.get(p.name) as tf.Variable).dataSync() as Float32Array, p.shape);
    // model.apply's seed source: one nextUint32 per dropout call, in forward order (unseeded: random).
    const rng = createRng(o.dropoutSeed ?? Math.floor(Math.random() * 2 ** 32));
    for (const m of s.masks) {
      const seed = rng.nextUint32();
      let mask: Uint8Array;
      if (this.dropoutMasks === 'tfjs') mask = tfjsKeepMask(m.shape, rate, o.dropoutSeed !== undefined ? seed : undefined);
      else {
        const key = `${m.name}:${m.shape.join('x')}`;
        let buffer = this.maskBuffers.get(key);
        if (!buffer) this.maskBuffers.set(key, (buffer = new Uint8Array(m.shape.reduce((a, b) => a * b, 1))));
        mask = fastKeepMask(buffer, rate, seed);
      }
      feeds[m.name] = new ort.Tensor('bool', mask, m.shape);
    }
    let result: Ort.InferenceSession.OnnxValueMapType;
    try {
      result = await s.session.run(feeds);
    } catch (e) {
      throw new Error(`onnx training engine: the training step failed in onnxruntime (${(e as Error).message.split('\n')[0]})`);
    }
    const loss = floatView(result[TRAIN_OUTPUT_LOSS])[0];
    const logits = floatView(result[TRAIN_OUTPUT_LOGITS]).slice();
    const grads: tf.NamedTensorMap = {};
    varList.forEach((v, i) => {
      grads[v.name] = tf.tensor(floatView(result[s.grads.get(trained[i]) as string]), v.shape, 'float32');
    });
    for (const t of Object.values(result)) t.dispose?.();
    return { loss, logits, grads };
  }

  /** One training step: gradients here, then the trainer's clipped AdamW update. */
  async step(
    optimizer: AdamW,
    varList: readonly tf.Variable[],
    batch: { x: Float32Array; y: Uint8Array },
    o: OnnxStepOptions,
  ): Promise<OnnxStepResult> {
    const { loss, logits, grads } = await this.gradients(varList, batch, o);
    try {
      const gradNorm = optimizer.applyGradients(grads, o.lr);
      return { loss, accuracy: o.accuracy ? accuracyOfLogits(logits, batch.y) : NaN, gradNorm };
    } finally {
      tf.dispose(Object.values(grads));
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.maskBuffers.clear();
    for (const s of all) await s.then((c) => c.session.release()).catch(() => undefined);
  }
}

/** Fraction of points where (logit > 0) equals the 0/1 label (train.ts accuracyOf, on the host). */
export function accuracyOfLogits(logits: Float32Array, y: Uint8Array): number {
  let hits = 0;
  for (let i = 0; i < y.length; i++) if ((logits[i] > 0 ? 1 : 0) === y[i]) hits++;
  return Math.fround(hits / y.length);
}
