/**
 * The transfer protocol's shared parts (issue 14): data, test sets, the two arms, scoring,
 * estimation-time settings. Settings are chosen on jecheon 2022-05-17 only (train rack 1, validate on
 * rack 2 with synthetic anomalies, two selection seeds that the report does not use); the report
 * trains on both racks of 05-17 and evaluates on 05-18, 05-23 and 05-24 (both racks each).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { estimateScores, loadCheckpoint, loadSeries, prepareMetrics, synthesizeTestSet, trainAnomalyBert, type Series } from 'anomaly-lab';
import { createRng, ewmaSmooth } from 'anomaly-lab/core';
import { fitBaselineStats, firstDifferenceBaseline, scoreStepSeries, type BaselineCombine } from 'anomaly-lab/evaluation';
import { concatSeries, writeFileAtomic, type MinMaxScaler } from 'anomaly-lab/io';
import { listCheckpointSteps } from 'anomaly-lab/runs';
import { TRAIN_DEFAULTS, type StepProgress, type TrainOptions } from 'anomaly-lab/training';
import type { BaselineRow, CandidateOptions, Conditions, EstSetting, RunRecord, StepEval, TransferResults } from './results';

export const REPO = process.cwd();
export const SHARED = process.env.ANOMALY_LAB_SHARED ?? path.resolve(REPO, '..', 'shared');
export const ESS = path.join(SHARED, 'data', 'ess');
export const PANLI_COLUMNS = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];
export const JECHEON_COLUMNS = ['voltage', 'current'];
export const COLUMN_MAP = { voltage: 'BANK_DC_VOLT', current: 'BANK_DC_CURRENT' };
/** Test sets: 12 anomalies of 0.05%…2% of a day each (as the issue-3 experiments). */
export const SYNTH = { anomalies: 12, minLengthFraction: 0.0005, maxLengthFraction: 0.02 };
export const WORKSHOP_MODEL = { n_features: 64, patch_size: 8, d_embed: 64, n_layer: 2, n_head: 8, diff_features: true };
/** What both arms share: the workshop recipe's lr, batch and degradation (docs/experiments.md (a)). */
export const COMMON: Partial<TrainOptions> = {
  lr: 1e-3,
  batch_size: 16,
  white_noising: 0.15,
  replacing_rate_max: 0.5,
  window_sliding: 64,
  // One thread per run (the machine is shared; timings comparable across arms) when the library has data-parallel workers.
  ...('workers' in TRAIN_DEFAULTS ? ({ workers: 1 } as Partial<TrainOptions>) : {}),
  // The tfjs training engine of rounds 1–2, not the newer onnx engine (its default where it loads).
  ...('engine' in TRAIN_DEFAULTS ? ({ engine: 'tfjs' } as Partial<TrainOptions>) : {}),
};
/** Estimation stride of the evaluation (64, not 16: 4× fewer windows on the shared 2-core machine). */
export const EVAL_SLIDING = 64;
/** The seed's step scoring: ESS score with PA at anomaly rate 0.05 against target 0.9. */
export const STEP_SCORING = { anomalyRate: 0.05, target: 0.9 };

export const SELECT_TRAIN = ['jecheon/data_1_20220517.csv'];
export const SELECT_VALID = ['jecheon/data_2_20220517.csv'];
export const REPORT_TRAIN = ['jecheon/data_1_20220517.csv', 'jecheon/data_2_20220517.csv'];
export const REPORT_TEST = [
  'jecheon/data_1_20220518.csv',
  'jecheon/data_2_20220518.csv',
  'jecheon-extra/data_1_20220523.csv',
  'jecheon-extra/data_2_20220523.csv',
  'jecheon-extra/data_1_20220524.csv',
  'jecheon-extra/data_2_20220524.csv',
];
/** panli days the source model (README recipe, 4 days 04-12…05-08) neither trained nor was chosen on (09-07 chose the recipe). */
export const PANLI_HELD_OUT = ['20220620.parquet', '20220723.parquet', '20220826.parquet'];
export const PANLI_SOURCE_DAYS = ['20220412.parquet', '20220419.parquet', '20220505.parquet', '20220508.parquet'];

/** Candidates of the selection (strategy options on top of --checkpoint --column_map, or scratch). */
export const CANDIDATES: Record<string, CandidateOptions> = {
  scratch: 'scratch',
  'reinit-embedding': { freeze_schedule: '', layer_lr_decay: 1 },
  'map-full': { column_map: COLUMN_MAP, freeze_schedule: '', layer_lr_decay: 1 },
  'map-freeze-embedding-50': { column_map: COLUMN_MAP, freeze_schedule: 'embedding:50,all', layer_lr_decay: 1 },
  'map-lora-8': { column_map: COLUMN_MAP, freeze_schedule: '', layer_lr_decay: 1, lora_rank: 8, lora_alpha: 16 },
  'map-llrd-0.5': { column_map: COLUMN_MAP, freeze_schedule: '', layer_lr_decay: 0.5 },
};

export interface TransferArgs {
  /** est-select / est-report: the estimation-time round (no training; scores finished runs again). */
  mode:
    | 'select'
    | 'report'
    | 'render'
    | 'est-select'
    | 'est-report'
    | 'confirm'
    | 'confirm-merge'
    | 'confirm2'
    | 'confirm2-merge'
    | 'round3'
    | 'round3-import';
  /** Round 3: training steps per run (one tag each), folds, the per-run files' tag, the directory to import. */
  budgets: number[];
  folds: number[];
  round3Tag?: string;
  round3Import?: string;
  /** est-select: run directories of the selection runs per arm (arm=dir1:dir2,…). */
  estRuns: Record<string, string[]>;
  /** Estimation round: name of the training candidate whose runs are scored (est-select) / reported (est-report). */
  estName: string;
  /** Training options given to every arm on top of COMMON (a training-time hypothesis; recorded in results). */
  extra: Partial<TrainOptions>;
  out: string;
  source?: string;
  seeds: number[];
  steps: number;
  summary: number;
  candidates: string[];
  results?: string;
  quick: boolean;
  /** Report arms to train in this process (the other arm's runs can come from --merge). */
  arms: string[];
  /** results.json of another process whose report runs (other arms) are merged in. */
  merge?: string;
  /** Do not write docs/experiments.md (a helper process). */
  noDocs: boolean;
  /** Seeds of the selection runs (never used by the report). */
  selectSeeds: number[];
  /** Reuse finished run directories (score their checkpoints again, no training; their timings are unknown). */
  reuse: boolean;
}

export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export const loadSamples: number[] = [];
setInterval(() => loadSamples.push(os.loadavg()[0]), 15000).unref();

export async function concat(files: string[], columns: string[]): Promise<Series> {
  const parts: Series[] = [];
  for (const f of files) parts.push(await loadSeries(path.join(ESS, f), { columns }));
  // no file segments: the recorded experiments sampled windows across the day boundaries
  return concatSeries(parts, { segments: false });
}

export interface TestSet {
  name: string;
  /** scaled values (the training scaler), synthetic anomalies inserted */
  values: Float32Array;
  length: number;
  labels: Uint8Array;
  fd: Float32Array;
}

/** Synthetic test sets from raw days, in the scaled space of `scaler`; the first-difference baseline's scores beside. */
export async function testSets(
  files: string[],
  columns: string[],
  scaler: MinMaxScaler,
  trainScaled: Float32Array,
  seed0: number,
  spec: { anomalies: number; minLengthFraction: number; maxLengthFraction: number } = SYNTH,
): Promise<TestSet[]> {
  const C = columns.length;
  const stats = fitBaselineStats(trainScaled, C, columns);
  const out: TestSet[] = [];
  for (let k = 0; k < files.length; k++) {
    const raw = await loadSeries(path.join(ESS, files[k]), { columns });
    const synth = synthesizeTestSet(
      { source: files[k], columns, length: raw.length, values: scaler.transform(raw.values, C) },
      { seed: seed0 + k, ...spec },
    );
    out.push({
      name: path.basename(files[k]).replace(/\.(csv|parquet)$/, ''),
      values: synth.values,
      length: raw.length,
      labels: synth.labels,
      fd: firstDifferenceBaseline(synth.values, C, stats),
    });
  }
  return out;
}

export function bestF1(scores: ArrayLike<number>, labels: Uint8Array, pointAdjust: boolean): number {
  return prepareMetrics(scores, labels).sweep({ pointAdjust }).f1;
}

export function randomScores(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = rng.uniform();
  return r;
}

export async function runArm(
  arm: string,
  opts: CandidateOptions,
  seed: number,
  train: Series,
  sets: TestSet[],
  a: TransferArgs,
  source: string,
): Promise<RunRecord> {
  const out = path.join(a.out, a.mode, `${arm}-s${seed}`);
  const reused = a.reuse && fs.existsSync(path.join(out, 'state', `step_${a.steps}`, 'config.json'));
  if (!reused) fs.rmSync(out, { recursive: true, force: true });
  const options: Partial<TrainOptions> =
    opts === 'scratch'
      ? { ...COMMON, ...a.extra, ...WORKSHOP_MODEL, seed, max_steps: a.steps, summary_steps: a.summary }
      : { ...COMMON, ...a.extra, ...opts, checkpoint: source, seed, max_steps: a.steps, summary_steps: a.summary };
  let deltas: number[] = [];
  const t0 = Date.now();
  if (reused) log(`  ${arm} s${seed}: reusing ${out}`);
  else ({ deltas } = await trainTimed(train, out, options, `${arm} s${seed}`));
  const trainS = trainSeconds(deltas, a.steps, (i) => i % a.summary === 0);
  log(`  ${arm} s${seed}: trained in ${((Date.now() - t0) / 1000).toFixed(0)} s; scoring checkpoints`);
  const steps: StepEval[] = [];
  const perSetScores: Array<Array<{ step: number; scores: Float32Array }>> = sets.map(() => []);
  for (const step of listCheckpointSteps(out)) {
    const { model } = await loadCheckpoint(path.join(out, 'state', `step_${step}`));
    const ev: StepEval = { step, f1: [], ess_pa: [] };
    for (let k = 0; k < sets.length; k++) {
      const s = sets[k];
      const scores = await estimateScores(model, s.values, s.length, { batchSize: 16, windowSliding: EVAL_SLIDING });
      ev.f1.push(bestF1(scores, s.labels, false));
      perSetScores[k].push({ step, scores });
    }
    model.dispose();
    steps.push(ev);
  }
  const first: Array<number | null> = [];
  for (let k = 0; k < sets.length; k++) {
    const rep = scoreStepSeries(perSetScores[k], sets[k].labels, STEP_SCORING);
    rep.steps.forEach((row, j) => (steps[j].ess_pa[k] = row.ess_score_pa));
    first.push(rep.first_step_reaching_target);
  }
  log(`  ${arm} s${seed}: final mean F1 (no PA) ${mean(steps[steps.length - 1].f1).toFixed(4)}`);
  return { arm, seed, run_dir: path.relative(REPO, out), steps, train_s: trainS, first_step_reaching_target: first };
}

/** A wasm training run logged under `label`, with the seconds each step took (the onProgress deltas). */
export async function trainTimed(
  train: Series,
  out: string,
  options: Partial<TrainOptions>,
  label: string,
): Promise<{ finalStep: number; deltas: number[] }> {
  const deltas: number[] = [];
  let last = 0;
  const result = await trainAnomalyBert({
    train,
    out,
    backend: 'wasm',
    options,
    log: (l) => log(`  ${label}: ${l}`),
    onProgress: (p: StepProgress) => {
      deltas[p.step] = p.elapsedS - last;
      last = p.elapsedS;
    },
    onSummary: () => undefined,
  });
  return { finalStep: result.finalStep, deltas };
}

/**
 * Training-only seconds at each summary step up to `lastStep`: the per-step deltas, a summary step
 * (checkpoint + nothing else here) counted at most as the median step, a missing one as the median.
 */
export function trainSeconds(deltas: number[], lastStep: number, isSummary: (step: number) => boolean): Record<string, number> {
  const median = [...deltas.filter((d) => d !== undefined)].sort((x, y) => x - y)[Math.floor(deltas.length / 2)] ?? 0;
  const trainS: Record<string, number> = {};
  let cum = 0;
  for (let i = 0; i <= lastStep; i++) {
    const summary = isSummary(i);
    if (summary) trainS[i] = cum;
    const d = deltas[i] ?? median;
    cum += summary ? Math.min(d, median) : d;
  }
  return trainS;
}

export function mean(x: number[]): number {
  return x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN;
}

export function sd(x: number[]): number {
  if (x.length < 2) return NaN;
  const m = mean(x);
  return Math.sqrt(x.reduce((s, v) => s + (v - m) * (v - m), 0) / (x.length - 1));
}

export function baselineRows(sets: TestSet[]): BaselineRow[] {
  return sets.map((s, k) => {
    const rnd = randomScores(s.length, 1 + k);
    const rep = scoreStepSeries([{ step: 0, scores: rnd }], s.labels, STEP_SCORING);
    return {
      set: s.name,
      fd_f1: bestF1(s.fd, s.labels, false),
      random_f1: bestF1(rnd, s.labels, false),
      random_ess_pa: rep.random_with_pa.ess_score,
      label_rate: rep.label_rate,
    };
  });
}

/** A results file, or an empty one when it does not exist yet. */
export function loadResults<T = TransferResults>(file: string): T {
  return (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {}) as T;
}

export function saveResults(file: string, r: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
}

export function conditions(): Conditions {
  const s = [...loadSamples].sort((x, y) => x - y);
  return {
    cpus: os.cpus().length,
    loadavg_1min_median: s.length ? s[Math.floor(s.length / 2)] : os.loadavg()[0],
    loadavg_1min_max: s.length ? s[s.length - 1] : os.loadavg()[0],
    samples: s.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Estimation-time round: settings that need no retraining (estimation stride, EWMA smoothing of the
// scores, and for the baseline how the per-column differences are combined), offered to every method
// alike. Chosen per method on jecheon 05-17 (the selection runs), then applied once to the finished
// report runs (the default recipe's checkpoints, unchanged) on the held-out days.

/** Estimation strides offered to the models (64 = the protocol's; smaller = denser overlap averaging). */
export const EST_STRIDES = [64, 32, 16];
/** EWMA weights offered to every method (0 = no smoothing; the reference `ewma` of compute_metrics.py). */
export const EST_SMOOTHING = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99];
/** How the baseline combines per-column first differences. */
export const EST_COMBINE: BaselineCombine[] = ['max', 'l2'];

export const settingKey = (s: EstSetting): string =>
  `${s.stride !== undefined ? `stride ${s.stride}` : `combine ${s.combine}`}, ewma ${s.smoothing}`;

export function smoothed(scores: Float32Array, w: number): ArrayLike<number> {
  return w > 0 ? ewmaSmooth(scores, w) : scores;
}

export async function finalModelScores(runDir: string, values: Float32Array, length: number, stride: number): Promise<Float32Array> {
  const { model } = await loadCheckpoint(runDir); // a run directory loads as its final checkpoint
  try {
    return await estimateScores(model, values, length, { batchSize: 16, windowSliding: stride });
  } finally {
    model.dispose();
  }
}

/** The baseline's scores on a test set under one combine rule. */
export function fdScores(s: TestSet, stats: ReturnType<typeof fitBaselineStats>, combine: BaselineCombine): Float32Array {
  return firstDifferenceBaseline(s.values, JECHEON_COLUMNS.length, stats, { combine });
}

/** Best setting of a grid: highest mean F1; ties keep the earlier (cheaper, less smoothed) setting. */
export function bestOf(grid: Array<{ setting: EstSetting; f1: number[] }>): { setting: EstSetting; f1: number[] } {
  return grid.reduce((x, y) => (mean(y.f1) > mean(x.f1) ? y : x), grid[0]);
}
