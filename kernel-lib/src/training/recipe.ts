/**
 * The fine-tuning strategy of a run: freeze schedule, layer-wise learning rates and LoRA, resolved
 * from the options. A transfer (a checkpoint that is not resumed) given none of the strategy
 * options (nor --train_parts/--freeze) gets the recommended recipe (RECOMMENDED_TRANSFER in
 * options.ts): its freeze schedule, its budget when --max_steps is not given, and its estimation
 * settings; training from scratch, resuming, or choosing any strategy yourself gets only what
 * was asked for (and the scratch estimation settings). What was applied is recorded (config.json
 * `fine_tuning` and `estimation`, every checkpoint's `extra.fine_tuning` / `extra.estimation`).
 */
import type { CheckpointMeta } from '../anomalybert/checkpoint';
import { DEFAULT_WINDOW_SLIDING } from '../anomalybert/config';
import {
  MODEL_PARTS,
  RECOMMENDED_TRANSFER,
  SCRATCH_ESTIMATION,
  parseFreezeSchedule,
  type EstimationDefaults,
  type FreezeStage,
  type ModelPart,
  type TrainOptions,
} from './options';

export interface ResolvedRecipe {
  /** At least one stage; the last runs until the end. */
  stages: FreezeStage[];
  layer_lr_decay: number;
  lora_rank: number | undefined;
  /** Steps to train: --max_steps when given, else the recipe's budget for a recipe transfer. */
  max_steps: number;
  /** Estimation settings the run recommends for its scores (config.json `estimation`). */
  estimation: EstimationDefaults;
  /** Log lines. */
  notes: string[];
  /** What config.json and checkpoints record. */
  record: {
    freeze_schedule: Array<{ stage: string; parts: readonly ModelPart[]; until_step: number | null }>;
    layer_lr_decay: number;
    lora: { rank: number; alpha: number; targets: string; merged_in_checkpoints: true } | null;
    /** Which settings came from the recommended transfer recipe (not given explicitly). */
    from_recommended_recipe: string[];
  };
}

export interface RecipeContext {
  /** Starting from a checkpoint that is not resumed. */
  transfer: boolean;
  nLayer: number;
  /** Window length W (the estimation stride must divide it). */
  windowLength?: number;
  /** --max_steps was given (else a recipe transfer trains the recipe's budget). */
  maxStepsGiven?: boolean;
  /** A resume keeps the estimation settings its checkpoint recorded. */
  resumedEstimation?: EstimationDefaults;
  /** A resume of a run that trained the recipe's budget keeps it when --max_steps is not given. */
  resumedRecipeBudget?: boolean;
}

export function resolveTransferRecipe(o: TrainOptions, ctx: RecipeContext): ResolvedRecipe {
  const fromRecipe: string[] = [];
  // The recipe applies as a whole: once the caller chooses any strategy (or which parts train),
  // the unspecified ones are off rather than mixed with a recipe chosen without them.
  const explicit =
    o.freeze_schedule !== undefined ||
    o.layer_lr_decay !== undefined ||
    o.lora_rank !== undefined ||
    o.train_parts.length > 0 ||
    o.freeze.length > 0;
  const pick = <K extends 'freeze_schedule' | 'layer_lr_decay' | 'lora_rank'>(k: K, none: TrainOptions[K]): TrainOptions[K] => {
    if (o[k] !== undefined) return o[k];
    if (!ctx.transfer || explicit) return none;
    if (RECOMMENDED_TRANSFER[k] !== none) fromRecipe.push(k);
    return RECOMMENDED_TRANSFER[k] as TrainOptions[K];
  };
  const schedule = pick('freeze_schedule', '') ?? '';
  const decay = pick('layer_lr_decay', 1) ?? 1;
  const rank = pick('lora_rank', undefined);
  const parsed = parseFreezeSchedule(schedule);
  const stages: FreezeStage[] = parsed.length > 0 ? parsed : [{ name: 'all', parts: MODEL_PARTS, until: Infinity }];
  // The rest of the recipe (budget, estimation) follows the strategy: only a recipe transfer gets it.
  const onRecipe = ctx.transfer && !explicit;
  let maxSteps = o.max_steps;
  if ((onRecipe || ctx.resumedRecipeBudget) && ctx.maxStepsGiven === false) {
    maxSteps = RECOMMENDED_TRANSFER.max_steps;
    fromRecipe.push('max_steps');
  }
  let estimation = ctx.resumedEstimation ?? (onRecipe ? RECOMMENDED_TRANSFER.estimation : SCRATCH_ESTIMATION);
  if (onRecipe && !ctx.resumedEstimation) fromRecipe.push('estimation');
  if (ctx.windowLength !== undefined && ctx.windowLength % estimation.window_sliding !== 0)
    // A small window: the largest stride ≤ the recommended one that divides it.
    estimation = { ...estimation, window_sliding: gcd(ctx.windowLength, estimation.window_sliding) };
  const notes: string[] = [];
  if (parsed.length > 0)
    notes.push(
      `freeze schedule: ${parsed.map((st) => `${st.name}${Number.isFinite(st.until) ? ` until step ${st.until}` : ' after'}`).join(', then ')}`,
    );
  if (decay !== 1)
    notes.push(`layer-wise lr decay ${decay}: head ×1, encoder layer l ×${decay}^(${ctx.nLayer}−l), embedding ×${decay}^${ctx.nLayer + 1}`);
  if (rank !== undefined)
    notes.push(
      `LoRA rank ${rank}, alpha ${o.lora_alpha} on the attention and feed-forward projections (encoder base weights frozen; checkpoints hold merged weights)`,
    );
  if (fromRecipe.length > 0) notes.push(`recommended transfer recipe applied for: ${fromRecipe.join(', ')}`);
  if (fromRecipe.includes('max_steps')) notes.push(`steps: ${maxSteps} (the recipe's budget; option max_steps changes it)`);
  notes.push(
    `estimation recorded for this run: window_sliding ${estimation.window_sliding}, EWMA ${estimation.smoothing} (anomaly-lab estimate uses them unless given)`,
  );
  return {
    stages,
    layer_lr_decay: decay,
    lora_rank: rank,
    max_steps: maxSteps,
    estimation,
    notes,
    record: {
      freeze_schedule: stages.map((st) => ({ stage: st.name, parts: st.parts, until_step: Number.isFinite(st.until) ? st.until : null })),
      layer_lr_decay: decay,
      lora:
        rank !== undefined
          ? {
              rank,
              alpha: o.lora_alpha,
              targets: 'attention q/k/v/output and feed-forward first/second of every layer',
              merged_in_checkpoints: true,
            }
          : null,
      from_recommended_recipe: fromRecipe,
    },
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** A positive integer stride and an EWMA weight in [0, 1), or undefined. */
function asEstimation(x: unknown): EstimationDefaults | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const { window_sliding: s, smoothing: w } = x as Record<string, unknown>;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || typeof w !== 'number' || !(w >= 0 && w < 1)) return undefined;
  return { window_sliding: s, smoothing: w };
}

/** The estimation settings a checkpoint recorded (`extra.estimation`), if any. */
export function recordedEstimation(meta: Pick<CheckpointMeta, 'extra'>): EstimationDefaults | undefined {
  return asEstimation(meta.extra?.estimation);
}

/**
 * Estimation settings for a checkpoint: each explicit one wins, then what the checkpoint's run
 * recorded, then the original estimate.py's (stride 16, no smoothing). `from_run` names the ones
 * taken from the run.
 */
export function resolveEstimation(
  meta: Pick<CheckpointMeta, 'extra'>,
  explicit: Partial<EstimationDefaults> = {},
): EstimationDefaults & { from_run: Array<keyof EstimationDefaults> } {
  const rec = recordedEstimation(meta);
  const from_run: Array<keyof EstimationDefaults> = [];
  const pick = (k: keyof EstimationDefaults, original: number): number => {
    const given = explicit[k];
    if (given !== undefined) return given;
    if (rec) {
      from_run.push(k);
      return rec[k];
    }
    return original;
  };
  return { window_sliding: pick('window_sliding', DEFAULT_WINDOW_SLIDING), smoothing: pick('smoothing', 0), from_run };
}

/** Whether a checkpoint's run trained the recipe's budget (`extra.fine_tuning.from_recommended_recipe`). */
export function trainedRecipeBudget(meta: Pick<CheckpointMeta, 'extra'>): boolean {
  const ft = meta.extra?.fine_tuning;
  if (typeof ft !== 'object' || ft === null) return false;
  const from = (ft as { from_recommended_recipe?: unknown }).from_recommended_recipe;
  return Array.isArray(from) && from.includes('max_steps');
}
