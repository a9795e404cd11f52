/**
 * The fine-tuning strategy of a run: freeze schedule, layer-wise learning rates and LoRA, resolved
 * from the options. A transfer (a checkpoint that is not resumed) given none of the strategy
 * options (nor --train_parts/--freeze) gets the recommended recipe (RECOMMENDED_TRANSFER in
 * options.ts); training from scratch, resuming, or choosing any strategy yourself gets only what
 * was asked for. What was applied is recorded (config.json
 * `fine_tuning`, every checkpoint's `extra.fine_tuning`).
 */
import { MODEL_PARTS, RECOMMENDED_TRANSFER, parseFreezeSchedule, type FreezeStage, type ModelPart, type TrainOptions } from './options';

export interface ResolvedRecipe {
  /** At least one stage; the last runs until the end. */
  stages: FreezeStage[];
  layer_lr_decay: number;
  lora_rank: number | undefined;
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

export function resolveTransferRecipe(o: TrainOptions, ctx: { transfer: boolean; nLayer: number }): ResolvedRecipe {
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
  return {
    stages,
    layer_lr_decay: decay,
    lora_rank: rank,
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
