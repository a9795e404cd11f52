/**
 * Learning-rate schedule of the original training script: timm's `CosineLRScheduler` with
 * `t_initial = total`, `warmup_t = total // 10`, `warmup_lr_init = lr·0.001`, `lr_min = lr·0.01`,
 * `cycle_limit = 1`, `warmup_prefix = False`, stepped per update (`t_in_epochs = False`).
 *
 * Two timm details are kept on purpose so runs are comparable with the original:
 * - warm-up is linear from lr·0.001 towards lr over `warmup_t` steps, and the cosine that follows
 *   is evaluated at the absolute step t (not t − warmup_t), so at t = warmup_t the rate is
 *   already cos-decayed slightly below lr;
 * - the optimiser step i uses the rate that `scheduler.step_update(i − 1)` set (step 0 uses
 *   warmup_lr_init), i.e. `lrForStep(i) = cosineWarmupLr(max(i − 1, 0))`.
 */

export interface CosineScheduleConfig {
  /** Peak learning rate (the `lr` option). */
  lr: number;
  /** Schedule length t_initial (the number of optimisation steps). */
  totalSteps: number;
  /** Warm-up length; default ⌊totalSteps / 10⌋. */
  warmupSteps?: number;
  /** Start of the warm-up as a fraction of lr; default 0.001. */
  warmupInitFactor?: number;
  /** Floor of the decay as a fraction of lr; default 0.01. */
  minFactor?: number;
}

/** timm `_get_lr(t)`: the rate the scheduler sets after update t. */
export function cosineWarmupLr(t: number, cfg: CosineScheduleConfig): number {
  const { lr, totalSteps } = cfg;
  const warmup = cfg.warmupSteps ?? Math.floor(totalSteps / 10);
  const lrInit = lr * (cfg.warmupInitFactor ?? 0.001);
  const lrMin = lr * (cfg.minFactor ?? 0.01);
  if (t < warmup) return lrInit + (t * (lr - lrInit)) / warmup;
  // cycle_limit = 1: after the first cycle the rate stays at lr_min.
  if (t >= totalSteps) return lrMin;
  return lrMin + 0.5 * (lr - lrMin) * (1 + Math.cos((Math.PI * t) / totalSteps));
}

/** The rate used by optimisation step `step` (0-based), in the original script's order. */
export function lrForStep(step: number, cfg: CosineScheduleConfig): number {
  return cosineWarmupLr(Math.max(step - 1, 0), cfg);
}

/** Rates of steps 0…n−1 (for plots and tests). */
export function lrCurve(n: number, cfg: CosineScheduleConfig): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lrForStep(i, cfg);
  return out;
}
