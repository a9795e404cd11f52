/**
 * The confirmatory evaluation of the transfer protocol (session 4), pre-registered: its plan is
 * rendered from CONFIRM into docs/experiments.md and committed before it runs, and it runs once.
 */
import * as fs from 'fs';
import * as path from 'path';
import { estimateScores, loadCheckpoint, type Series } from 'anomaly-lab';
import { firstDifferenceBaseline, fitBaselineStats, scoreStepSeries, type BaselineCombine } from 'anomaly-lab/evaluation';
import { MinMaxScaler } from 'anomaly-lab/io';
import { listCheckpointSteps } from 'anomaly-lab/runs';
import { RECOMMENDED_TRANSFER, resolveEstimation, SCRATCH_ESTIMATION, type TrainOptions } from 'anomaly-lab/training';
import {
  bestF1,
  COLUMN_MAP,
  COMMON,
  concat,
  conditions,
  JECHEON_COLUMNS,
  loadResults,
  log,
  mean,
  PANLI_COLUMNS,
  PANLI_SOURCE_DAYS,
  randomScores,
  REPO,
  REPORT_TEST,
  REPORT_TRAIN,
  saveResults,
  settingKey,
  smoothed,
  STEP_SCORING,
  testSets,
  trainSeconds,
  trainTimed,
  WORKSHOP_MODEL,
  type TestSet,
  type TransferArgs,
} from './protocol';
import type { ConfirmBaseline, ConfirmPanli, ConfirmPart, ConfirmRun, RecordedEstimation, StepEval, TransferResults } from './results';

// ---------------------------------------------------------------------------------------------
// Confirmatory evaluation (session 4). Everything below was fixed and rendered into the docs
// (committed) before any of it ran, and it runs once: new training seeds, new synthetic-anomaly
// draws on the held-out jecheon days (which rounds 1 and 2 had already looked at), a secondary set
// of longer anomalies than any choice was made on, and the source recipe on every panli day it did
// not train on. Each method is scored as a user gets it by default: a model with the estimation
// settings its run records (transfer: the recipe's; scratch and the source: the scratch settings),
// the first-difference baseline with its setting chosen on 05-17 (combine max, EWMA 0.5).

/** A pre-registered confirmatory plan: what runs, on which draws, where its results go (key of results.json). */
export interface ConfirmPlan {
  /** results.json key of its merged result */
  key: 'confirm' | 'confirm2';
  seeds: number[];
  /** Transfer: no --max_steps (the recipe's budget); scratch: the same number of steps, given. */
  steps: number;
  summary: number;
  jecheonSeed: number;
  long: { seed: number; anomalies: number; minLengthFraction: number; maxLengthFraction: number };
  panliDays: string[];
  panliSeed: number;
  panliSmokeSeed?: number;
  fd: { combine: BaselineCombine; smoothing: number };
  out: string;
  /** Training options of both arms beside the arm's own (COMMON for session 4). */
  common: Partial<TrainOptions>;
  /** --quick: every draw seed shifted by this, so the smoke run sees none of the plan's draws (session 5). */
  quickSeedOffset?: number;
  /** The recipe as it stood when the plan was fixed (what the rendered plan states). */
  recipe: { freeze_schedule: string; max_steps: number; estimation: RecordedEstimation; scratch_estimation: RecordedEstimation };
}

export const CONFIRM = {
  seeds: [21, 22, 23, 24, 25],
  /** Transfer: no --max_steps (the recipe's budget, 800 then); scratch: the same number of steps, given. */
  steps: 800,
  summary: 200,
  /** Held-out jecheon sets: the 6 of rounds 1–2 with new draws (those used test-set seeds 5001…5006). */
  jecheonSeed: 9001,
  /** Secondary: 6 anomalies of 0.05%…10% of a day each (the ESS synthesis functions' full range; choices used ≤ 2%). */
  long: { seed: 9201, anomalies: 6, minLengthFraction: 0.0005, maxLengthFraction: 0.1 },
  /**
   * panli days the source did not train on. 20220907 was the test day on which the workshop recipe
   * itself was chosen (issue 3, test-set seed 2024) and 0620/0723/0826 were scored once in round 1
   * (seeds 7001…7003): no panli day is unseen, so all four get new draws and are reported per day.
   */
  panliDays: ['20220620.parquet', '20220723.parquet', '20220826.parquet', '20220907.parquet'],
  /** A 20-step smoke run of this code scored the source on panli draws 9101… before this plan was committed: new draws here. */
  panliSeed: 9301,
  panliSmokeSeed: 9101,
  fd: { combine: 'max' as BaselineCombine, smoothing: 0.5 },
  out: 'runs/experiments/transfer-confirm',
};

/** Session 4's plan: CONFIRM (as stored in its results) with the recipe of that session, frozen. */
export const CONFIRM_PLAN: ConfirmPlan = {
  key: 'confirm',
  ...CONFIRM,
  common: COMMON,
  recipe: {
    freeze_schedule: 'embedding:50,all',
    max_steps: 800,
    estimation: { window_sliding: 16, smoothing: 0.9 },
    scratch_estimation: { window_sliding: 16, smoothing: 0.95 },
  },
};

/**
 * The second confirmatory evaluation (session 5), pre-registered the same way: the recipe after round
 * 3 (its budget and estimation settings, read from the library), new seeds and new draws, the library's
 * default training engine (onnx; one thread per run, the two arms run as two processes on two cores).
 */
export const CONFIRM2: ConfirmPlan = {
  key: 'confirm2',
  seeds: [31, 32, 33, 34, 35],
  steps: RECOMMENDED_TRANSFER.max_steps,
  summary: 400,
  jecheonSeed: 9501,
  long: { seed: 9601, anomalies: 6, minLengthFraction: 0.0005, maxLengthFraction: 0.1 },
  panliDays: CONFIRM.panliDays,
  panliSeed: 9701,
  fd: { combine: 'max', smoothing: 0.5 },
  out: 'runs/experiments/transfer-confirm2',
  common: confirm2Common(),
  quickSeedOffset: 50,
  recipe: {
    freeze_schedule: RECOMMENDED_TRANSFER.freeze_schedule,
    max_steps: RECOMMENDED_TRANSFER.max_steps,
    estimation: RECOMMENDED_TRANSFER.estimation,
    scratch_estimation: SCRATCH_ESTIMATION,
  },
};

/** COMMON without the tfjs engine pin and the worker count (the library's default engine), one onnx thread. */
function confirm2Common(): Partial<TrainOptions> {
  const { engine: _engine, workers: _workers, ...rest } = COMMON;
  return { ...rest, threads: 1 };
}

export const CONFIRM_PLANS = { confirm: CONFIRM_PLAN, confirm2: CONFIRM2 };

/** A plan's draw seeds as run: --quick shifts them when the plan says so. */
function drawSeeds(plan: ConfirmPlan, quick: boolean): { jecheon: number; long: number; panli: number } {
  const d = quick ? (plan.quickSeedOffset ?? 0) : 0;
  return { jecheon: plan.jecheonSeed + d, long: plan.long.seed + d, panli: plan.panliSeed + d };
}

export async function confirmSets(
  plan: ConfirmPlan,
  quick: boolean,
): Promise<{ primary: TestSet[]; long: TestSet[]; stats: ReturnType<typeof fitBaselineStats> }> {
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const trainScaled = scaler.transform(train.values, 2);
  const seeds = drawSeeds(plan, quick);
  const primary = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, trainScaled, seeds.jecheon);
  const { seed: _seed, ...spec } = plan.long;
  const long = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, trainScaled, seeds.long, spec);
  return { primary, long, stats: fitBaselineStats(trainScaled, 2, JECHEON_COLUMNS) };
}

export function confirmBaselines(
  plan: ConfirmPlan,
  sets: TestSet[],
  stats: ReturnType<typeof fitBaselineStats>,
  nCols: number,
): ConfirmBaseline[] {
  return sets.map((s, k) => {
    const rnd = randomScores(s.length, 1 + k);
    const rep = scoreStepSeries([{ step: 0, scores: rnd }], s.labels, STEP_SCORING);
    const fd = firstDifferenceBaseline(s.values, nCols, stats, { combine: plan.fd.combine });
    return {
      set: s.name,
      label_rate: rep.label_rate,
      fd_f1: bestF1(smoothed(fd, plan.fd.smoothing), s.labels, false),
      fd_raw_f1: bestF1(fd, s.labels, false),
      random_f1: bestF1(rnd, s.labels, false),
      random_ess_pa: rep.random_with_pa.ess_score,
    };
  });
}

/** Where the confirmatory runs go (--quick: a smoke run of 20 steps elsewhere). */
export const confirmOut = (plan: ConfirmPlan, quick: boolean): string => (quick ? `${plan.out}-quick` : plan.out);

export async function confirmArm(
  plan: ConfirmPlan,
  arm: 'transfer' | 'scratch',
  seed: number,
  train: Series,
  sets: { primary: TestSet[]; long: TestSet[] },
  source: string,
  quick: boolean,
): Promise<ConfirmRun> {
  const out = path.join(confirmOut(plan, quick), `${arm}-s${seed}`);
  fs.rmSync(out, { recursive: true, force: true });
  // Transfer: only --checkpoint and --column_map on top of the shared options (the CLI's default recipe).
  const options: Partial<TrainOptions> =
    arm === 'transfer'
      ? { ...plan.common, column_map: COLUMN_MAP, checkpoint: source, seed, summary_steps: plan.summary }
      : { ...plan.common, ...WORKSHOP_MODEL, seed, max_steps: plan.steps, summary_steps: plan.summary };
  if (quick) Object.assign(options, { max_steps: 20, summary_steps: 10 });
  const t0 = Date.now();
  const { finalStep: maxSteps, deltas } = await trainTimed(train, out, options, `${arm} s${seed}`);
  const trainS = trainSeconds(deltas, maxSteps, (i) => i % (options.summary_steps as number) === 0 || i === maxSteps);
  log(`  ${arm} s${seed}: trained ${maxSteps} steps in ${((Date.now() - t0) / 1000).toFixed(0)} s; scoring checkpoints`);
  const steps: StepEval[] = [];
  const perSet: Array<Array<{ step: number; scores: ArrayLike<number> }>> = sets.primary.map(() => []);
  let estimation = { window_sliding: 16, smoothing: 0 };
  let finalRaw: number[] = [];
  let longF1: number[] = [];
  let longRaw: number[] = [];
  const all = listCheckpointSteps(out);
  for (const step of all) {
    const loaded = await loadCheckpoint(path.join(out, 'state', `step_${step}`));
    // What a plain `anomaly-lab estimate` of this checkpoint does (explicit flags would win).
    const { from_run: _fromRun, ...settings } = resolveEstimation(loaded.meta);
    estimation = settings;
    const ev: StepEval = { step, f1: [], ess_pa: [] };
    const isFinal = step === all[all.length - 1];
    if (isFinal) finalRaw = [];
    for (let k = 0; k < sets.primary.length; k++) {
      const s = sets.primary[k];
      const raw = await estimateScores(loaded.model, s.values, s.length, { batchSize: 16, windowSliding: settings.window_sliding });
      const sc = smoothed(raw, settings.smoothing);
      ev.f1.push(bestF1(sc, s.labels, false));
      perSet[k].push({ step, scores: sc });
      if (isFinal) finalRaw.push(bestF1(raw, s.labels, false));
    }
    if (isFinal) {
      longF1 = [];
      longRaw = [];
      for (const s of sets.long) {
        const raw = await estimateScores(loaded.model, s.values, s.length, { batchSize: 16, windowSliding: settings.window_sliding });
        longF1.push(bestF1(smoothed(raw, settings.smoothing), s.labels, false));
        longRaw.push(bestF1(raw, s.labels, false));
      }
    }
    loaded.model.dispose();
    steps.push(ev);
  }
  const first: Array<number | null> = [];
  for (let k = 0; k < sets.primary.length; k++) {
    const rep = scoreStepSeries(perSet[k], sets.primary[k].labels, STEP_SCORING);
    rep.steps.forEach((row, j) => (steps[j].ess_pa[k] = row.ess_score_pa));
    first.push(rep.first_step_reaching_target);
  }
  log(
    `  ${arm} s${seed}: final mean F1 (no PA, ${settingKey({ stride: estimation.window_sliding, smoothing: estimation.smoothing })}) ${mean(steps[steps.length - 1].f1).toFixed(4)}`,
  );
  return {
    arm,
    seed,
    run_dir: path.relative(REPO, out),
    estimation,
    max_steps: maxSteps,
    steps,
    train_s: trainS,
    first_step_reaching_target: first,
    final_raw_f1: finalRaw,
    long_f1: longF1,
    long_raw_f1: longRaw,
  };
}

/** The source model on the panli days it did not train on, with the settings a scratch run records, vs the baseline. */
export async function confirmPanli(plan: ConfirmPlan, source: string, quick: boolean): Promise<ConfirmPanli> {
  const loaded = await loadCheckpoint(source);
  const scaler = MinMaxScaler.fromJSON(loaded.scaler);
  const train = await concat(
    PANLI_SOURCE_DAYS.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
  );
  const trainScaled = scaler.transform(train.values, PANLI_COLUMNS.length);
  const stats = fitBaselineStats(trainScaled, PANLI_COLUMNS.length, PANLI_COLUMNS);
  const sets = await testSets(
    plan.panliDays.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
    scaler,
    trainScaled,
    drawSeeds(plan, quick).panli,
  );
  // The source run predates recorded estimation settings; a run trained now with the README recipe records these.
  const settings = SCRATCH_ESTIMATION;
  const rows = [];
  for (const s of sets) {
    const raw = await estimateScores(loaded.model, s.values, s.length, { batchSize: 16, windowSliding: settings.window_sliding });
    const fd = firstDifferenceBaseline(s.values, PANLI_COLUMNS.length, stats, { combine: plan.fd.combine });
    rows.push({
      set: s.name,
      model_f1: bestF1(smoothed(raw, settings.smoothing), s.labels, false),
      model_raw_f1: bestF1(raw, s.labels, false),
      fd_f1: bestF1(smoothed(fd, plan.fd.smoothing), s.labels, false),
      fd_raw_f1: bestF1(fd, s.labels, false),
    });
    log(
      `  panli ${s.name}: model ${rows[rows.length - 1].model_f1.toFixed(4)} vs first-difference ${rows[rows.length - 1].fd_f1.toFixed(4)}`,
    );
  }
  loaded.model.dispose();
  return { source: path.relative(REPO, source), step: loaded.meta.step, estimation: settings, rows };
}

/** One process per arm (two cores): train and score its 5 seeds; the transfer process also scores the source on panli. */
export async function confirm(plan: ConfirmPlan, a: TransferArgs): Promise<void> {
  const file = path.join(confirmOut(plan, a.quick), `results-${a.arms.join('-')}.json`);
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const sets = await confirmSets(plan, a.quick);
  const out: ConfirmPart = {
    started: new Date().toISOString(),
    baselines: confirmBaselines(plan, sets.primary, sets.stats, 2),
    long_baselines: confirmBaselines(plan, sets.long, sets.stats, 2),
    runs: [],
  };
  saveResults(file, out);
  for (const seed of a.quick ? plan.seeds.slice(0, 1) : plan.seeds) {
    for (const arm of a.arms as Array<'transfer' | 'scratch'>) {
      out.runs.push(await confirmArm(plan, arm, seed, train, sets, a.source as string, a.quick));
      saveResults(file, out);
    }
  }
  if (a.arms.includes('transfer')) out.panli = await confirmPanli(plan, a.source as string, a.quick);
  out.conditions = conditions();
  out.finished = new Date().toISOString();
  saveResults(file, out);
}

/** Merge the per-arm files into results[plan.key] (runs of both arms, baselines, panli). */
export function confirmMerge(plan: ConfirmPlan, results: TransferResults, quick: boolean): void {
  const dir = confirmOut(plan, quick);
  const files = fs.readdirSync(dir).filter((f) => /^results-.*\.json$/.test(f));
  const parts = files.map((f) => loadResults<ConfirmPart>(path.join(dir, f)));
  const withPanli = parts.find((p) => p.panli);
  results[plan.key] = {
    // Session 4's results store CONFIRM itself as their protocol (as before); later plans store the whole plan.
    protocol: plan.key === 'confirm' ? CONFIRM : plan,
    baselines: parts[0].baselines,
    long_baselines: parts[0].long_baselines,
    runs: parts.flatMap((p) => p.runs),
    panli: withPanli?.panli,
    // The smoke run's panli figures (seen before the plan was committed), shown beside the result.
    // (Session 5's smoke run draws other seeds: nothing of it is shown.)
    smoke_panli:
      quick || plan.key !== 'confirm'
        ? undefined
        : loadResults<Partial<ConfirmPart>>(path.join(confirmOut(plan, true), 'results-transfer-scratch.json')).panli,
    conditions: parts.map((p) => p.conditions),
    started: parts.map((p) => p.started).sort()[0],
    finished: parts
      .map((p) => p.finished)
      .sort()
      .reverse()[0],
    complete: parts.every((p) => p.finished),
  };
}
