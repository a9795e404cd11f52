/**
 * LoRA adapters (Hu et al. 2021) for transfer learning, as the 2025 OpenESS AnomalyBERT code uses
 * them (loralib `Linear(r=rank)` on the attention's query/key/value projections). Here they sit on
 * every attention projection (query, key, value, output) and both feed-forward projections of
 * every encoder layer, as issue 14 asks.
 *
 *   W' = W + (alpha / r) · A·B        W (in, out) frozen, A (in, r), B (r, out)
 *
 * A starts uniform in ±1/√in (loralib's kaiming-uniform bound), B at zero, so W' = W at step 0.
 * The adapters enter the forward pass through `ApplyOptions.adaptParams` (the model stays the
 * original one); `merged()` writes W' into the model's own variables for a checkpoint or an
 * evaluation and restores W afterwards, so every saved checkpoint is a plain AnomalyBERT
 * (exportable to .pt) and training continues on the unmerged base.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../browser/random';
import type { AnomalyBert } from '../anomalybert/model';
import type { Params } from '../anomalybert/layers';
import { FieldError } from '../browser/errors';

/** Linear weights that get adapters (torch names without `.weight`), per encoder layer l. */
export function loraTargets(nLayer: number): string[] {
  const out: string[] = [];
  for (let l = 0; l < nLayer; l++) {
    const a = `transformer_encoder.encoder_layers.${l}.attention_layer`;
    const f = `transformer_encoder.encoder_layers.${l}.feed_forward_layer`;
    out.push(
      `${a}.word_fc_layers.0`,
      `${a}.word_fc_layers.1`,
      `${a}.word_fc_layers.2`,
      `${a}.output_fc_layer`,
      `${f}.first_fc_layer`,
      `${f}.second_fc_layer`,
    );
  }
  return out;
}

export class LoraAdapters {
  readonly rank: number;
  readonly alpha: number;
  readonly scale: number;
  /** `<target>.lora_A` / `<target>.lora_B` → variable (stable names for the optimiser state). */
  readonly variables = new Map<string, tf.Variable>();
  /** Adapted Linear prefixes (torch names without `.weight`); the onnx training graph adapts the same. */
  readonly targets: readonly string[];

  constructor(model: AnomalyBert, rank: number, alpha: number, seed: number) {
    const width = model.config.dEmbed;
    if (!Number.isInteger(rank) || rank < 1 || rank > width) {
      throw new FieldError('lora_rank', (f) => `option ${f('lora_rank')} must be an integer in 1…${width} (the model width), got ${rank}`);
    }
    this.rank = rank;
    this.alpha = alpha;
    this.scale = alpha / rank;
    this.targets = loraTargets(model.config.nLayer);
    const rng = createRng(seed ^ 0x10a4);
    for (const t of this.targets) {
      const [inDim, outDim] = model.variable(`${t}.weight`).shape;
      const bound = 1 / Math.sqrt(inDim);
      const a = new Float32Array(inDim * rank);
      for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
      // Inside tidy: the variable keeps the data, the initial tensor is freed (no leaked tensor).
      this.variables.set(
        `${t}.lora_A`,
        tf.tidy(() => tf.variable(tf.tensor2d(a, [inDim, rank]), true)),
      );
      this.variables.set(
        `${t}.lora_B`,
        tf.tidy(() => tf.variable(tf.zeros([rank, outDim]), true)),
      );
    }
  }

  /** Number of adapter parameters. */
  countParameters(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** The forward-pass hook: parameters with W + s·A·B for every target (inside the caller's tidy). */
  readonly adaptParams = (params: Params): Params => {
    const out = new Map(params);
    for (const t of this.targets) out.set(`${t}.weight`, this.effective(params.get(`${t}.weight`) as tf.Tensor2D, t));
    return out;
  };

  private effective(w: tf.Tensor2D, t: string): tf.Tensor2D {
    const a = this.variables.get(`${t}.lora_A`) as tf.Variable;
    const b = this.variables.get(`${t}.lora_B`) as tf.Variable;
    return tf.add(w, tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), this.scale)) as tf.Tensor2D;
  }

  /**
   * Run `fn` with the adapters merged into the model's weights (checkpoints, evaluation), then
   * restore the base weights exactly.
   */
  async merged<T>(model: AnomalyBert, fn: () => Promise<T>): Promise<T> {
    const saved = new Map<string, tf.Tensor>();
    for (const t of this.targets) {
      const v = model.variable(`${t}.weight`);
      saved.set(t, tf.clone(v));
      tf.tidy(() => v.assign(this.effective(v as tf.Tensor as tf.Tensor2D, t)));
    }
    try {
      return await fn();
    } finally {
      for (const [t, base] of saved) model.variable(`${t}.weight`).assign(base);
      tf.dispose([...saved.values()]);
    }
  }

  /** Merge for good (export): W ← W + s·A·B; the adapters are then spent. */
  mergeInto(model: AnomalyBert): void {
    for (const t of this.targets) {
      const v = model.variable(`${t}.weight`);
      tf.tidy(() => v.assign(this.effective(v as tf.Tensor as tf.Tensor2D, t)));
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
