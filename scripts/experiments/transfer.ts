/**
 * Issue 14: a transfer-learning protocol that cannot flatter us.
 *
 *   npm run build:lib   # not needed: run.sh bundles this file with the library sources
 *   scripts/experiments/run.sh transfer --source <panli run dir> --select            # choose settings on jecheon 05-17 only
 *   scripts/experiments/run.sh transfer --source <panli run dir> --report            # held-out days, 5 seeds, both arms
 *   scripts/experiments/run.sh transfer --render runs/experiments/transfer/results.json
 *
 * Settings are chosen on jecheon 2022-05-17 only (train rack 1, validate on rack 2 with synthetic
 * anomalies, two selection seeds that the report does not use). The report trains on both racks of
 * 05-17 and evaluates on 05-18, 05-23 and 05-24 (both racks each), never used for a choice; the
 * source model is evaluated on panli days it was neither trained nor selected on. Every number in
 * the generated docs section comes from results.json written here.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { anomalybert, core, evaluation, initBackend, io, LIBRARY_VERSION, runs, training } from 'anomaly-lab';
import type { Series } from 'anomaly-lab/io';
import type { BaselineCombine } from 'anomaly-lab/evaluation';
import type { StepProgress, TrainOptions } from 'anomaly-lab/training';

const { createRng, prepareMetrics, ewmaSmooth } = core;
const { loadSeries, concatSeries, MinMaxScaler, writeFileAtomic } = io;
const { loadCheckpoint, estimateScores } = anomalybert;
const { synthesizeTestSet, fitBaselineStats, firstDifferenceBaseline, scoreStepSeries } = evaluation;
const { trainAnomalyBert, RECOMMENDED_TRANSFER, SCRATCH_ESTIMATION, resolveEstimation, TRAIN_DEFAULTS } = training;
const { listCheckpointSteps } = runs;

const REPO = process.cwd();
const SHARED = process.env.ANOMALY_LAB_SHARED ?? path.resolve(REPO, '..', 'shared');
const ESS = path.join(SHARED, 'data', 'ess');
const PANLI_COLUMNS = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];
const JECHEON_COLUMNS = ['voltage', 'current'];
const COLUMN_MAP = { voltage: 'BANK_DC_VOLT', current: 'BANK_DC_CURRENT' };
/** Test sets: 12 anomalies of 0.05%…2% of a day each (as the issue-3 experiments). */
const SYNTH = { anomalies: 12, minLengthFraction: 0.0005, maxLengthFraction: 0.02 };
const WORKSHOP_MODEL = { n_features: 64, patch_size: 8, d_embed: 64, n_layer: 2, n_head: 8, diff_features: true };
/** What both arms share: the workshop recipe's lr, batch and degradation (docs/experiments.md (a)). */
const COMMON: Partial<TrainOptions> = {
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
const EVAL_SLIDING = 64;
/** The seed's step scoring: ESS score with PA at anomaly rate 0.05 against target 0.9. */
const STEP_SCORING = { anomalyRate: 0.05, target: 0.9 };

const SELECT_TRAIN = ['jecheon/data_1_20220517.csv'];
const SELECT_VALID = ['jecheon/data_2_20220517.csv'];
const REPORT_TRAIN = ['jecheon/data_1_20220517.csv', 'jecheon/data_2_20220517.csv'];
const REPORT_TEST = [
  'jecheon/data_1_20220518.csv',
  'jecheon/data_2_20220518.csv',
  'jecheon-extra/data_1_20220523.csv',
  'jecheon-extra/data_2_20220523.csv',
  'jecheon-extra/data_1_20220524.csv',
  'jecheon-extra/data_2_20220524.csv',
];
/** panli days the source model (README recipe, 4 days 04-12…05-08) neither trained nor was chosen on (09-07 chose the recipe). */
const PANLI_HELD_OUT = ['20220620.parquet', '20220723.parquet', '20220826.parquet'];
const PANLI_SOURCE_DAYS = ['20220412.parquet', '20220419.parquet', '20220505.parquet', '20220508.parquet'];

/** Candidates of the selection (strategy options on top of --checkpoint --column_map, or scratch). */
const CANDIDATES: Record<string, Partial<TrainOptions> | 'scratch'> = {
  scratch: 'scratch',
  'reinit-embedding': { freeze_schedule: '', layer_lr_decay: 1 },
  'map-full': { column_map: COLUMN_MAP, freeze_schedule: '', layer_lr_decay: 1 },
  'map-freeze-embedding-50': { column_map: COLUMN_MAP, freeze_schedule: 'embedding:50,all', layer_lr_decay: 1 },
  'map-lora-8': { column_map: COLUMN_MAP, freeze_schedule: '', layer_lr_decay: 1, lora_rank: 8, lora_alpha: 16 },
  'map-llrd-0.5': { column_map: COLUMN_MAP, freeze_schedule: '', layer_lr_decay: 0.5 },
};

interface Args {
  /** est-select / est-report: the estimation-time round (no training; scores finished runs again). */
  mode: 'select' | 'report' | 'render' | 'est-select' | 'est-report' | 'confirm' | 'confirm-merge';
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

function parseArgs(argv: string[]): Args {
  const a: Args = {
    mode: 'render',
    out: 'runs/experiments/transfer',
    seeds: [1, 2, 3, 4, 5],
    steps: 400,
    summary: 100,
    candidates: Object.keys(CANDIDATES),
    quick: false,
    arms: ['transfer', 'scratch'],
    noDocs: false,
    selectSeeds: [91, 92],
    reuse: false,
    estRuns: {},
    extra: {},
    estName: 'default',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--select') a.mode = 'select';
    else if (k === '--report') a.mode = 'report';
    else if (k === '--render') {
      a.mode = 'render';
      a.results = v();
    } else if (k === '--out') a.out = v();
    else if (k === '--source') a.source = v();
    else if (k === '--seeds') a.seeds = v().split(',').map(Number);
    else if (k === '--steps') a.steps = Number(v());
    else if (k === '--summary') a.summary = Number(v());
    else if (k === '--candidates') a.candidates = v().split(',');
    else if (k === '--quick') a.quick = true;
    else if (k === '--arms') a.arms = v().split(',');
    else if (k === '--no_docs') a.noDocs = true;
    else if (k === '--select_seeds') a.selectSeeds = v().split(',').map(Number);
    else if (k === '--reuse') a.reuse = true;
    else if (k === '--merge') a.merge = v();
    else if (k === '--est_name') a.estName = v();
    else if (k === '--extra') a.extra = JSON.parse(v()) as Partial<TrainOptions>;
    else if (k === '--estimation_select') a.mode = 'est-select';
    else if (k === '--estimation_report') a.mode = 'est-report';
    else if (k === '--confirm') a.mode = 'confirm';
    else if (k === '--confirm_merge') a.mode = 'confirm-merge';
    else if (k === '--est_runs') {
      for (const part of v().split(',')) {
        const [arm, dirs] = part.split('=');
        if (!dirs) throw new Error(`--est_runs: expected arm=dir1:dir2, got '${part}'`);
        a.estRuns[arm] = dirs.split(':');
      }
    } else if (k === '--results') a.results = v();
    else throw new Error(`unknown option ${k}`);
  }
  for (const c of a.candidates)
    if (!(c in CANDIDATES)) throw new Error(`--candidates: unknown '${c}' (known: ${Object.keys(CANDIDATES).join(', ')})`);
  if (a.quick) {
    a.seeds = a.seeds.slice(0, 2);
    a.steps = 20;
    a.summary = 10;
  }
  return a;
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const loadSamples: number[] = [];
setInterval(() => loadSamples.push(os.loadavg()[0]), 15000).unref();

async function concat(files: string[], columns: string[]): Promise<Series> {
  const parts: Series[] = [];
  for (const f of files) parts.push(await loadSeries(path.join(ESS, f), { columns }));
  // no file segments: the recorded experiments sampled windows across the day boundaries
  return concatSeries(parts, { segments: false });
}

interface TestSet {
  name: string;
  /** scaled values (the training scaler), synthetic anomalies inserted */
  values: Float32Array;
  length: number;
  labels: Uint8Array;
  fd: Float32Array;
}

/** Synthetic test sets from raw days, in the scaled space of `scaler`; the first-difference baseline's scores beside. */
async function testSets(
  files: string[],
  columns: string[],
  scaler: InstanceType<typeof MinMaxScaler>,
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

function bestF1(scores: ArrayLike<number>, labels: Uint8Array, pointAdjust: boolean): number {
  return prepareMetrics(scores, labels).sweep({ pointAdjust }).f1;
}

function randomScores(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = rng.uniform();
  return r;
}

interface StepEval {
  step: number;
  /** per test set, best F1 over the rate sweep without PA */
  f1: number[];
  /** per test set, the seed's ESS score with PA at the step-scoring rate */
  ess_pa: number[];
}

interface RunRecord {
  arm: string;
  seed: number;
  run_dir: string;
  steps: StepEval[];
  /** cumulative training seconds (estimations and checkpoints excluded) at each summary step */
  train_s: Record<string, number>;
  /** per test set: first summary step whose ESS score with PA exceeds the target (null: never) */
  first_step_reaching_target: Array<number | null>;
}

/** Train one arm, then score every summary checkpoint on every test set. */
async function runArm(
  arm: string,
  opts: Partial<TrainOptions> | 'scratch',
  seed: number,
  train: Series,
  sets: TestSet[],
  a: Args,
  source: string,
): Promise<RunRecord> {
  const out = path.join(a.out, a.mode, `${arm}-s${seed}`);
  const reused = a.reuse && fs.existsSync(path.join(out, 'state', `step_${a.steps}`, 'config.json'));
  if (!reused) fs.rmSync(out, { recursive: true, force: true });
  const options: Partial<TrainOptions> =
    opts === 'scratch'
      ? { ...COMMON, ...a.extra, ...WORKSHOP_MODEL, seed, max_steps: a.steps, summary_steps: a.summary }
      : { ...COMMON, ...a.extra, ...opts, checkpoint: source, seed, max_steps: a.steps, summary_steps: a.summary };
  // Training-only time: per-step deltas, a summary step (checkpoint + nothing else here) counted at the median step.
  const deltas: number[] = [];
  let last = 0;
  const t0 = Date.now();
  if (reused) log(`  ${arm} s${seed}: reusing ${out}`);
  else
    await trainAnomalyBert({
      train,
      out,
      backend: 'wasm',
      options,
      log: (l) => log(`  ${arm} s${seed}: ${l}`),
      onProgress: (p: StepProgress) => {
        deltas[p.step] = p.elapsedS - last;
        last = p.elapsedS;
      },
      onSummary: () => undefined,
    });
  const median = [...deltas.filter((d) => d !== undefined)].sort((x, y) => x - y)[Math.floor(deltas.length / 2)] ?? 0;
  const trainS: Record<string, number> = {};
  let cum = 0;
  for (let i = 0; i <= a.steps; i++) {
    if (i % a.summary === 0) trainS[i] = cum;
    const d = deltas[i] ?? median;
    cum += i % a.summary === 0 ? Math.min(d, median) : d;
  }
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

function mean(x: number[]): number {
  return x.length ? x.reduce((s, v) => s + v, 0) / x.length : NaN;
}

function sd(x: number[]): number {
  if (x.length < 2) return NaN;
  const m = mean(x);
  return Math.sqrt(x.reduce((s, v) => s + (v - m) * (v - m), 0) / (x.length - 1));
}

function baselineRows(
  sets: TestSet[],
): Array<{ set: string; fd_f1: number; random_f1: number; random_ess_pa: number; label_rate: number }> {
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Results = any;

function loadResults(file: string): Results {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
}

function saveResults(file: string, r: Results): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(r, null, 2) + '\n');
}

function conditions(): Record<string, unknown> {
  const s = [...loadSamples].sort((x, y) => x - y);
  return {
    cpus: os.cpus().length,
    loadavg_1min_median: s.length ? s[Math.floor(s.length / 2)] : os.loadavg()[0],
    loadavg_1min_max: s.length ? s[s.length - 1] : os.loadavg()[0],
    samples: s.length,
  };
}

async function select(a: Args, results: Results, file: string): Promise<void> {
  const train = await concat(SELECT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const sets = await testSets(SELECT_VALID, JECHEON_COLUMNS, scaler, scaler.transform(train.values, 2), 3001);
  const seeds = a.quick ? [91] : a.selectSeeds;
  // Runs of an earlier selection process (other candidates or seeds) are kept.
  const runs: RunRecord[] = (results.select?.runs ?? []).filter(
    (r: RunRecord) => !(a.candidates.includes(r.arm) && seeds.includes(r.seed)),
  );
  for (const name of a.candidates) {
    for (const seed of seeds) {
      runs.push(await runArm(name, CANDIDATES[name], seed, train, sets, { ...a, mode: 'select' }, a.source as string));
      results.select = { ...(results.select ?? {}), runs, partial: true };
      saveResults(file, results);
    }
  }
  const names = Object.keys(CANDIDATES).filter((n) => runs.some((r) => r.arm === n));
  const table = names.map((name) => {
    const rs = runs.filter((r) => r.arm === name);
    const finals = rs.map((r) => mean(r.steps[r.steps.length - 1].f1));
    return { candidate: name, options: CANDIDATES[name], final_f1: finals, mean_final_f1: mean(finals) };
  });
  const transferOnly = table.filter((t) => t.candidate !== 'scratch' && t.candidate !== 'reinit-embedding');
  const best = transferOnly.reduce((x, y) => (y.mean_final_f1 > x.mean_final_f1 ? y : x), transferOnly[0]);
  results.select = {
    train: SELECT_TRAIN,
    validation: SELECT_VALID,
    seeds: [...new Set(runs.map((r) => r.seed))],
    steps: a.steps,
    extra: a.extra,
    baselines: baselineRows(sets),
    table,
    chosen: best?.candidate,
    runs,
    conditions: conditions(),
    finished: new Date().toISOString(),
  };
  saveResults(file, results);
  log(`selection: ${table.map((t) => `${t.candidate} ${t.mean_final_f1.toFixed(4)}`).join('; ')} → ${best?.candidate}`);
}

// ---------------------------------------------------------------------------------------------
// Estimation-time round: settings that need no retraining (estimation stride, EWMA smoothing of the
// scores, and for the baseline how the per-column differences are combined), offered to every method
// alike. Chosen per method on jecheon 05-17 (the selection runs), then applied once to the finished
// report runs (the default recipe's checkpoints, unchanged) on the held-out days.

/** Estimation strides offered to the models (64 = the protocol's; smaller = denser overlap averaging). */
const EST_STRIDES = [64, 32, 16];
/** EWMA weights offered to every method (0 = no smoothing; the reference `ewma` of compute_metrics.py). */
const EST_SMOOTHING = [0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99];
/** How the baseline combines per-column first differences. */
const EST_COMBINE: BaselineCombine[] = ['max', 'l2'];

interface EstSetting {
  stride?: number;
  combine?: BaselineCombine;
  smoothing: number;
}

const settingKey = (s: EstSetting): string =>
  `${s.stride !== undefined ? `stride ${s.stride}` : `combine ${s.combine}`}, ewma ${s.smoothing}`;

function smoothed(scores: Float32Array, w: number): ArrayLike<number> {
  return w > 0 ? ewmaSmooth(scores, w) : scores;
}

async function finalModelScores(runDir: string, values: Float32Array, length: number, stride: number): Promise<Float32Array> {
  const steps = listCheckpointSteps(runDir);
  const { model } = await loadCheckpoint(path.join(runDir, 'state', `step_${steps[steps.length - 1]}`));
  try {
    return await estimateScores(model, values, length, { batchSize: 16, windowSliding: stride });
  } finally {
    model.dispose();
  }
}

/** The baseline's scores on a test set under one combine rule. */
function fdScores(s: TestSet, stats: ReturnType<typeof fitBaselineStats>, combine: BaselineCombine): Float32Array {
  return firstDifferenceBaseline(s.values, JECHEON_COLUMNS.length, stats, { combine });
}

/** Best setting of a grid: highest mean F1; ties keep the earlier (cheaper, less smoothed) setting. */
function bestOf(grid: Array<{ setting: EstSetting; f1: number[] }>): { setting: EstSetting; f1: number[] } {
  return grid.reduce((x, y) => (mean(y.f1) > mean(x.f1) ? y : x), grid[0]);
}

async function estimationSelect(a: Args, results: Results): Promise<void> {
  const train = await concat(SELECT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const trainScaled = scaler.transform(train.values, 2);
  const [set] = await testSets(SELECT_VALID, JECHEON_COLUMNS, scaler, trainScaled, 3001);
  const stats = fitBaselineStats(trainScaled, 2, JECHEON_COLUMNS);
  const arms: Results = {};
  for (const [arm, dirs] of Object.entries(a.estRuns)) {
    const grid: Array<{ setting: EstSetting; f1: number[] }> = [];
    for (const stride of EST_STRIDES) for (const smoothing of EST_SMOOTHING) grid.push({ setting: { stride, smoothing }, f1: [] });
    for (const dir of dirs) {
      for (const stride of EST_STRIDES) {
        const t0 = Date.now();
        const scores = await finalModelScores(dir, set.values, set.length, stride);
        for (const g of grid) if (g.setting.stride === stride) g.f1.push(bestF1(smoothed(scores, g.setting.smoothing), set.labels, false));
        log(`  est-select ${arm} ${path.basename(dir)} stride ${stride}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
    const best = bestOf(grid);
    arms[arm] = {
      runs: dirs,
      grid: grid.map((g) => ({ setting: g.setting, f1: g.f1, mean: mean(g.f1) })),
      chosen: best.setting,
      chosen_f1: mean(best.f1),
    };
    log(`  est-select ${arm}: chosen ${settingKey(best.setting)} → ${mean(best.f1).toFixed(4)}`);
  }
  const fdGrid: Array<{ setting: EstSetting; f1: number[] }> = [];
  for (const combine of EST_COMBINE) {
    const scores = fdScores(set, stats, combine);
    for (const smoothing of EST_SMOOTHING)
      fdGrid.push({ setting: { combine, smoothing }, f1: [bestF1(smoothed(scores, smoothing), set.labels, false)] });
  }
  const fdBest = bestOf(fdGrid);
  arms['first-difference'] = {
    grid: fdGrid.map((g) => ({ setting: g.setting, f1: g.f1, mean: mean(g.f1) })),
    chosen: fdBest.setting,
    chosen_f1: mean(fdBest.f1),
  };
  // One entry per training candidate (its runs, steps and extra options); the report takes the best transfer entry.
  const prev = results.estimation?.select ?? {};
  const candidates = {
    ...(prev.candidates ?? {}),
    [a.estName]: { steps: a.steps, extra: a.extra, arms, finished: new Date().toISOString() },
  };
  // Only candidates with both arms can be chosen (the comparison is at equal steps); a transfer-only entry is information.
  const complete = Object.entries(candidates).filter(([, c]) => (c as Results).arms.transfer && (c as Results).arms.scratch) as Array<
    [string, Results]
  >;
  const chosen = complete.length
    ? complete.reduce((x, y) => (y[1].arms.transfer.chosen_f1 > x[1].arms.transfer.chosen_f1 ? y : x))[0]
    : undefined;
  results.estimation = {
    select: {
      validation: SELECT_VALID,
      train: SELECT_TRAIN,
      strides: EST_STRIDES,
      smoothing: EST_SMOOTHING,
      combine: EST_COMBINE,
      candidates,
      chosen,
    },
  };
}

async function estimationReport(a: Args, results: Results): Promise<void> {
  const sel = results.estimation?.select;
  if (!sel?.chosen) throw new Error('--estimation_report needs the --estimation_select results first (results.estimation.select)');
  if (sel.chosen !== a.estName) throw new Error(`--est_name: the selection chose '${sel.chosen}', not '${a.estName}'`);
  const chosen = sel.candidates[sel.chosen].arms;
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const trainScaled = scaler.transform(train.values, 2);
  const sets = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, trainScaled, 5001);
  const stats = fitBaselineStats(trainScaled, 2, JECHEON_COLUMNS);
  const fdSet: EstSetting = chosen['first-difference'].chosen;
  const baseline = sets.map((s) => ({
    set: s.name,
    f1: bestF1(smoothed(fdScores(s, stats, fdSet.combine as BaselineCombine), fdSet.smoothing), s.labels, false),
  }));
  const runs: Array<{ arm: string; seed: number; run_dir: string; f1: number[] }> = [];
  for (const seed of a.seeds) {
    for (const arm of ['transfer', 'scratch']) {
      const setting: EstSetting = chosen[arm].chosen;
      const dir = path.join(a.estRuns.report?.[0] ?? path.join(a.out, 'report'), `${arm}-s${seed}`);
      const f1: number[] = [];
      for (const s of sets)
        f1.push(
          bestF1(smoothed(await finalModelScores(dir, s.values, s.length, setting.stride as number), setting.smoothing), s.labels, false),
        );
      runs.push({ arm, seed, run_dir: path.relative(REPO, dir), f1 });
      log(`  est-report ${arm} s${seed} (${settingKey(setting)}): ${mean(f1).toFixed(4)}`);
      results.estimation.report = { partial: true, runs, baseline };
    }
  }
  results.estimation.report = {
    candidate: a.estName,
    steps: a.steps,
    extra: sel.candidates[sel.chosen].extra,
    test: REPORT_TEST,
    seeds: a.seeds,
    runs,
    baseline,
    conditions: conditions(),
    finished: new Date().toISOString(),
  };
}

async function report(a: Args, results: Results, file: string): Promise<void> {
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const sets = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, scaler.transform(train.values, 2), 5001);
  // Runs of the other arm trained by another process (same data, seeds and steps), read again at every save.
  const mine: RunRecord[] = [];
  const merged = (): RunRecord[] => [
    ...(a.merge ? (loadResults(a.merge).report?.runs ?? []).filter((x: RunRecord) => !a.arms.includes(x.arm)) : []),
    ...mine,
  ];
  let runs = merged();
  for (const seed of a.seeds) {
    // Default recipe = only --checkpoint and --column_map: what `anomaly-lab train` applies by default.
    if (a.arms.includes('transfer'))
      mine.push(await runArm('transfer', { column_map: COLUMN_MAP }, seed, train, sets, { ...a, mode: 'report' }, a.source as string));
    if (a.arms.includes('scratch'))
      mine.push(await runArm('scratch', 'scratch', seed, train, sets, { ...a, mode: 'report' }, a.source as string));
    runs = merged();
    results.report = { partial: true, runs };
    saveResults(file, results);
  }
  results.report = {
    train: REPORT_TRAIN,
    test: REPORT_TEST,
    seeds: a.seeds,
    steps: a.steps,
    summary: a.summary,
    recipe: RECOMMENDED_TRANSFER,
    extra: a.extra,
    baselines: baselineRows(sets),
    runs,
    conditions: conditions(),
    finished: new Date().toISOString(),
  };
  if (a.arms.includes('transfer')) results.panli = await panli(a.source as string);
  saveResults(file, results);
}

/** The source model on held-out panli days vs the first-difference baseline (no PA). */
async function panli(source: string): Promise<Results> {
  const loaded = await loadCheckpoint(source);
  const scaler = MinMaxScaler.fromJSON(loaded.scaler as never);
  const train = await concat(
    PANLI_SOURCE_DAYS.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
  );
  const sets = await testSets(
    PANLI_HELD_OUT.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
    scaler,
    scaler.transform(train.values, PANLI_COLUMNS.length),
    7001,
  );
  const rows = [];
  for (const s of sets) {
    const scores = await estimateScores(loaded.model, s.values, s.length, { batchSize: 16, windowSliding: EVAL_SLIDING });
    rows.push({ set: s.name, model_f1: bestF1(scores, s.labels, false), fd_f1: bestF1(s.fd, s.labels, false) });
  }
  loaded.model.dispose();
  return { source: path.relative(REPO, source), step: loaded.meta.step, days: PANLI_HELD_OUT, rows };
}

// ---------------------------------------------------------------------------------------------
// Confirmatory evaluation (session 4). Everything below was fixed and rendered into the docs
// (committed) before any of it ran, and it runs once: new training seeds, new synthetic-anomaly
// draws on the held-out jecheon days (which rounds 1 and 2 had already looked at), a secondary set
// of longer anomalies than any choice was made on, and the source recipe on every panli day it did
// not train on. Each method is scored as a user gets it by default: a model with the estimation
// settings its run records (transfer: the recipe's; scratch and the source: the scratch settings),
// the first-difference baseline with its setting chosen on 05-17 (combine max, EWMA 0.5).

export const CONFIRM = {
  seeds: [21, 22, 23, 24, 25],
  /** Transfer: no --max_steps (the recipe's budget); scratch: the same number of steps, given. */
  steps: RECOMMENDED_TRANSFER.max_steps,
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

interface ConfirmRun {
  arm: string;
  seed: number;
  run_dir: string;
  /** The estimation settings the run recorded (what a plain `anomaly-lab estimate` uses). */
  estimation: { window_sliding: number; smoothing: number };
  max_steps: number;
  /** Per summary step, per primary set: F1 (no PA) and ESS score with PA, at the recorded settings. */
  steps: StepEval[];
  train_s: Record<string, number>;
  first_step_reaching_target: Array<number | null>;
  /** Final step, per primary set: raw scores at the recorded stride (secondary). */
  final_raw_f1: number[];
  /** Final step, per long-anomaly set: recorded settings / raw. */
  long_f1: number[];
  long_raw_f1: number[];
}

interface ConfirmBaseline {
  set: string;
  label_rate: number;
  fd_f1: number;
  fd_raw_f1: number;
  random_f1: number;
  random_ess_pa: number;
}

async function confirmSets(): Promise<{ primary: TestSet[]; long: TestSet[]; stats: ReturnType<typeof fitBaselineStats> }> {
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const scaler = MinMaxScaler.fit(train);
  const trainScaled = scaler.transform(train.values, 2);
  const primary = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, trainScaled, CONFIRM.jecheonSeed);
  const { seed, ...spec } = CONFIRM.long;
  const long = await testSets(REPORT_TEST, JECHEON_COLUMNS, scaler, trainScaled, seed, spec);
  return { primary, long, stats: fitBaselineStats(trainScaled, 2, JECHEON_COLUMNS) };
}

function confirmBaselines(sets: TestSet[], stats: ReturnType<typeof fitBaselineStats>, nCols: number): ConfirmBaseline[] {
  return sets.map((s, k) => {
    const rnd = randomScores(s.length, 1 + k);
    const rep = scoreStepSeries([{ step: 0, scores: rnd }], s.labels, STEP_SCORING);
    const fd = firstDifferenceBaseline(s.values, nCols, stats, { combine: CONFIRM.fd.combine });
    return {
      set: s.name,
      label_rate: rep.label_rate,
      fd_f1: bestF1(smoothed(fd, CONFIRM.fd.smoothing), s.labels, false),
      fd_raw_f1: bestF1(fd, s.labels, false),
      random_f1: bestF1(rnd, s.labels, false),
      random_ess_pa: rep.random_with_pa.ess_score,
    };
  });
}

/** Where the confirmatory runs go (--quick: a smoke run of 20 steps elsewhere). */
const confirmOut = (quick: boolean): string => (quick ? `${CONFIRM.out}-quick` : CONFIRM.out);

async function confirmArm(
  arm: 'transfer' | 'scratch',
  seed: number,
  train: Series,
  sets: { primary: TestSet[]; long: TestSet[] },
  source: string,
  quick: boolean,
): Promise<ConfirmRun> {
  const out = path.join(confirmOut(quick), `${arm}-s${seed}`);
  fs.rmSync(out, { recursive: true, force: true });
  // Transfer: only --checkpoint and --column_map on top of the shared options (the CLI's default recipe).
  const options: Partial<TrainOptions> =
    arm === 'transfer'
      ? { ...COMMON, column_map: COLUMN_MAP, checkpoint: source, seed, summary_steps: CONFIRM.summary }
      : { ...COMMON, ...WORKSHOP_MODEL, seed, max_steps: CONFIRM.steps, summary_steps: CONFIRM.summary };
  if (quick) Object.assign(options, { max_steps: 20, summary_steps: 10 });
  const deltas: number[] = [];
  let last = 0;
  const t0 = Date.now();
  const result = await trainAnomalyBert({
    train,
    out,
    backend: 'wasm',
    options,
    log: (l) => log(`  ${arm} s${seed}: ${l}`),
    onProgress: (p: StepProgress) => {
      deltas[p.step] = p.elapsedS - last;
      last = p.elapsedS;
    },
    onSummary: () => undefined,
  });
  const maxSteps = result.finalStep;
  const median = [...deltas.filter((d) => d !== undefined)].sort((x, y) => x - y)[Math.floor(deltas.length / 2)] ?? 0;
  const trainS: Record<string, number> = {};
  let cum = 0;
  for (let i = 0; i <= maxSteps; i++) {
    const summary = i % (options.summary_steps as number) === 0 || i === maxSteps;
    if (summary) trainS[i] = cum;
    const d = deltas[i] ?? median;
    cum += summary ? Math.min(d, median) : d;
  }
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
async function confirmPanli(source: string): Promise<Results> {
  const loaded = await loadCheckpoint(source);
  const scaler = MinMaxScaler.fromJSON(loaded.scaler as never);
  const train = await concat(
    PANLI_SOURCE_DAYS.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
  );
  const trainScaled = scaler.transform(train.values, PANLI_COLUMNS.length);
  const stats = fitBaselineStats(trainScaled, PANLI_COLUMNS.length, PANLI_COLUMNS);
  const sets = await testSets(
    CONFIRM.panliDays.map((d) => `panli-clean/${d}`),
    PANLI_COLUMNS,
    scaler,
    trainScaled,
    CONFIRM.panliSeed,
  );
  // The source run predates recorded estimation settings; a run trained now with the README recipe records these.
  const settings = SCRATCH_ESTIMATION;
  const rows = [];
  for (const s of sets) {
    const raw = await estimateScores(loaded.model, s.values, s.length, { batchSize: 16, windowSliding: settings.window_sliding });
    const fd = firstDifferenceBaseline(s.values, PANLI_COLUMNS.length, stats, { combine: CONFIRM.fd.combine });
    rows.push({
      set: s.name,
      model_f1: bestF1(smoothed(raw, settings.smoothing), s.labels, false),
      model_raw_f1: bestF1(raw, s.labels, false),
      fd_f1: bestF1(smoothed(fd, CONFIRM.fd.smoothing), s.labels, false),
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
async function confirm(a: Args): Promise<void> {
  const file = path.join(confirmOut(a.quick), `results-${a.arms.join('-')}.json`);
  const train = await concat(REPORT_TRAIN, JECHEON_COLUMNS);
  const sets = await confirmSets();
  const out: Results = {
    started: new Date().toISOString(),
    baselines: confirmBaselines(sets.primary, sets.stats, 2),
    long_baselines: confirmBaselines(sets.long, sets.stats, 2),
    runs: [] as ConfirmRun[],
  };
  saveResults(file, out);
  for (const seed of a.quick ? CONFIRM.seeds.slice(0, 1) : CONFIRM.seeds) {
    for (const arm of a.arms as Array<'transfer' | 'scratch'>) {
      out.runs.push(await confirmArm(arm, seed, train, sets, a.source as string, a.quick));
      saveResults(file, out);
    }
  }
  if (a.arms.includes('transfer')) out.panli = await confirmPanli(a.source as string);
  out.conditions = conditions();
  out.finished = new Date().toISOString();
  saveResults(file, out);
}

/** Merge the per-arm files into results.confirm (runs of both arms, baselines, panli). */
function confirmMerge(results: Results, quick: boolean): void {
  const dir = confirmOut(quick);
  const files = fs.readdirSync(dir).filter((f) => /^results-.*\.json$/.test(f));
  const parts = files.map((f) => loadResults(path.join(dir, f)));
  const withPanli = parts.find((p) => p.panli);
  results.confirm = {
    protocol: CONFIRM,
    baselines: parts[0].baselines,
    long_baselines: parts[0].long_baselines,
    runs: parts.flatMap((p) => p.runs),
    panli: withPanli?.panli,
    // The smoke run's panli figures (seen before the plan was committed), shown beside the result.
    smoke_panli: quick ? undefined : loadResults(path.join(confirmOut(true), 'results-transfer-scratch.json')).panli,
    conditions: parts.map((p) => p.conditions),
    started: parts.map((p) => p.started).sort()[0],
    finished: parts
      .map((p) => p.finished)
      .sort()
      .reverse()[0],
    complete: parts.every((p) => p.finished),
  };
}

// ---------------------------------------------------------------------------------------------
// rendering (docs/experiments.md, between the markers; nothing typed by hand)

export const BEGIN = '<!-- transfer-protocol:begin (generated by scripts/experiments/transfer.ts) -->';
export const END = '<!-- transfer-protocol:end -->';

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : '–');

function pairedT(d: number[]): { t: number; df: number } {
  return { t: mean(d) / (sd(d) / Math.sqrt(d.length)), df: d.length - 1 };
}

/** Two-sided exact sign-test p-value for `wins` of n. */
function signTestP(wins: number, n: number): number {
  const k = Math.min(wins, n - wins);
  let p = 0;
  const choose = (nn: number, kk: number): number => {
    let c = 1;
    for (let i = 1; i <= kk; i++) c = (c * (nn - i + 1)) / i;
    return c;
  };
  for (let i = 0; i <= k; i++) p += choose(n, i);
  return Math.min(1, (2 * p) / Math.pow(2, n));
}

function armRuns(r: Results, arm: string): RunRecord[] {
  return (r.report?.runs ?? []).filter((x: RunRecord) => x.arm === arm);
}

/** F1 (no PA, mean over held-out sets) of a run at the last summary step within `budgetS` training seconds. */
function atBudget(run: RunRecord, budgetS: number): { step: number; f1: number } {
  let best = run.steps[0];
  for (const s of run.steps) if (run.train_s[s.step] <= budgetS + 1e-9) best = s;
  return { step: best.step, f1: mean(best.f1) };
}

export function renderSection(r: Results): string {
  const L: string[] = [BEGIN, '', '## Transfer protocol (issue 14): held-out days, 5 seeds, equal budgets', ''];
  const rep = r.report;
  const sel = r.select;
  const closing: string[] = [];
  L.push(
    `Generated by \`scripts/experiments/run.sh transfer\` (anomaly-lab ${LIBRARY_VERSION}); raw numbers in [experiments-transfer.json](experiments-transfer.json) (a copy of \`${r.results_file ?? 'results.json'}\`). ` +
      'Nothing in this section is typed by hand.',
    '',
    '**Protocol.**',
    `- Source: the README workshop recipe on panli ${PANLI_SOURCE_DAYS.join(', ')} (first differences, 2,500 steps, seed 11): \`${r.panli?.source ?? '(source run)'}\`.`,
    `- Settings are chosen on jecheon 2022-05-17 only: train ${sel?.train?.join(', ') ?? SELECT_TRAIN.join(', ')}, validate on ${sel?.validation?.join(', ') ?? SELECT_VALID.join(', ')} with 12 synthetic anomalies, selection seeds ${sel?.seeds?.join(', ') ?? '91, 92'} (not used below).`,
    `- Reported: train on ${REPORT_TRAIN.join(', ')}; held out for reporting (never used for a choice): ${REPORT_TEST.map((f) => path.basename(f, '.csv')).join(', ')} — 3 days × 2 racks, each with 12 synthetic anomalies (0.05%…2% of the day each).`,
    `- Arms: **transfer** = \`anomaly-lab train --checkpoint <source run> --column_map voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT\` with no other new option (the default recipe); **scratch** = the same architecture freshly initialised. Both: lr 0.001 (cosine, 10% warm-up), batch 16, white_noising 0.15, replacing_rate_max 0.5, ${rep?.steps ?? 400} steps, the same seed per pair; seeds ${rep?.seeds?.join(', ') ?? '1…5'}.`,
    `- Metrics: best F1 over the anomaly-rate sweep **without** point adjustment, averaged over the 6 held-out sets; the seed's ESS score with PA at rate ${STEP_SCORING.anomalyRate} beside random scores' ESS score with PA; "first step reaching the target" = first summary step whose ESS score with PA exceeds ${STEP_SCORING.target}. Estimation stride ${EVAL_SLIDING}.`,
    "- Equal wall-clock: each pair gets the scratch run's training time (estimations and checkpoints excluded); an arm is scored at its last summary step within that time.",
    '',
  );
  if (sel) {
    L.push(
      '### Selection on jecheon 2022-05-17 (validation only)',
      '',
      '| candidate | options | seeds | final F1 per seed (no PA) | mean |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const t of sel.table) {
      const seedsOf = (sel.runs as RunRecord[]).filter((x) => x.arm === t.candidate).map((x) => x.seed);
      L.push(
        `| ${t.candidate} | \`${JSON.stringify(t.options)}\` | ${seedsOf.join(', ')} | ${t.final_f1.map(f4).join(', ')} | **${f4(t.mean_final_f1)}** |`,
      );
    }
    L.push(
      '',
      'The strategy candidates ran with one selection seed (time on the shared machine); a margin of a few thousandths between two of them is within what another seed changes.',
    );
    const b = sel.baselines[0];
    L.push(
      '',
      `Validation baselines: first-difference F1 ${f4(b.fd_f1)}, random ${f4(b.random_f1)}. Chosen (best mean among the column-mapped transfer candidates): **${sel.chosen}**; it is the default recipe below.`,
      '',
    );
  }
  if (rep && !rep.partial) {
    const tr = armRuns(r, 'transfer');
    const sc = armRuns(r, 'scratch');
    const base = rep.baselines as Array<{ set: string; fd_f1: number; random_f1: number; random_ess_pa: number; label_rate: number }>;
    const fdMean = mean(base.map((b) => b.fd_f1));
    const rndPa = mean(base.map((b) => b.random_ess_pa));
    L.push(
      '### Held-out jecheon days: equal steps',
      '',
      '| seed | transfer F1 (no PA) | scratch F1 (no PA) | difference | ahead |',
      '| --- | --- | --- | --- | --- |',
    );
    const diffs: number[] = [];
    let wins = 0;
    for (const t of tr) {
      const s = sc.find((x) => x.seed === t.seed) as RunRecord;
      const a1 = mean(t.steps[t.steps.length - 1].f1);
      const b1 = mean(s.steps[s.steps.length - 1].f1);
      diffs.push(a1 - b1);
      if (a1 > b1) wins++;
      L.push(`| ${t.seed} | ${f4(a1)} | ${f4(b1)} | ${f4(a1 - b1)} | ${a1 > b1 ? 'transfer' : 'scratch'} |`);
    }
    const tFinal = tr.map((t) => mean(t.steps[t.steps.length - 1].f1));
    const sFinal = sc.map((t) => mean(t.steps[t.steps.length - 1].f1));
    const pt = pairedT(diffs);
    L.push(
      `| mean ± sd | ${f4(mean(tFinal))} ± ${f4(sd(tFinal))} | ${f4(mean(sFinal))} ± ${f4(sd(sFinal))} | ${f4(mean(diffs))} ± ${f4(sd(diffs))} | transfer ${wins}/${tr.length} |`,
      '',
      `Paired comparison (transfer − scratch, per seed): mean ${f4(mean(diffs))}, paired t = ${pt.t.toFixed(2)} (df ${pt.df}), sign test p = ${signTestP(wins, tr.length).toFixed(3)}.`,
      '',
      '| held-out set | label rate | first-difference F1 (no PA) | random F1 (no PA) | random ESS score with PA | transfer F1 (mean of seeds) | scratch F1 (mean of seeds) |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    base.forEach((b, k) => {
      const tk = mean(tr.map((t) => t.steps[t.steps.length - 1].f1[k]));
      const sk = mean(sc.map((t) => t.steps[t.steps.length - 1].f1[k]));
      L.push(
        `| ${b.set} | ${f4(b.label_rate)} | ${f4(b.fd_f1)} | ${f4(b.random_f1)} | ${f4(b.random_ess_pa)} | ${f4(tk)}${tk < b.fd_f1 ? ' (below first-difference)' : ''} | ${f4(sk)}${sk < b.fd_f1 ? ' (below first-difference)' : ''} |`,
      );
    });
    const beatsScratch = mean(tFinal) > mean(sFinal) && wins >= 4;
    const beatsFd = mean(tFinal) > fdMean;
    closing.push(
      `- Transfer vs scratch on held-out jecheon days (no PA, ${rep.steps} steps): ${f4(mean(tFinal))} ± ${f4(sd(tFinal))} vs ${f4(mean(sFinal))} ± ${f4(sd(sFinal))}, ahead in ${wins}/${tr.length} seeds — ${beatsScratch ? 'met' : 'NOT met'}.`,
      `- Transfer vs the first-difference baseline on the same sets: ${f4(mean(tFinal))} vs ${f4(fdMean)} — ${beatsFd ? 'met' : `NOT met (short by ${f4(fdMean - mean(tFinal))})`}.`,
    );
    L.push(
      '',
      `**Acceptance (held-out jecheon, no PA, equal steps).** Transfer mean F1 ${f4(mean(tFinal))} vs scratch ${f4(mean(sFinal))}, ahead in ${wins} of ${tr.length} seeds → ` +
        `${beatsScratch ? '**met**' : '**NOT met**'} (needs a higher mean and ≥ 4 of 5). Transfer vs the first-difference baseline (mean over the same sets) ${f4(mean(tFinal))} vs ${f4(fdMean)} → ${beatsFd ? '**met**' : '**NOT met**'}.`,
      '',
    );
    // equal wall-clock
    L.push(
      '### Equal wall-clock budget',
      '',
      "| seed | budget (s, scratch's 400 steps) | transfer: step reached / F1 | scratch: step / F1 |",
      '| --- | --- | --- | --- |',
    );
    const wcT: number[] = [];
    const wcS: number[] = [];
    for (const t of tr) {
      const s = sc.find((x) => x.seed === t.seed) as RunRecord;
      const budget = s.train_s[String(rep.steps)];
      const a1 = atBudget(t, budget);
      const b1 = atBudget(s, budget);
      wcT.push(a1.f1);
      wcS.push(b1.f1);
      L.push(`| ${t.seed} | ${budget.toFixed(1)} | ${a1.step} / ${f4(a1.f1)} | ${b1.step} / ${f4(b1.f1)} |`);
    }
    L.push(
      `| mean ± sd | | ${f4(mean(wcT))} ± ${f4(sd(wcT))} | ${f4(mean(wcS))} ± ${f4(sd(wcS))} |`,
      '',
      'Both arms cost the same per step (the default recipe freezes nothing after step 50 and adds no parameters), so the budget mostly ' +
        "measures the machine: the arms ran in two processes beside other engineers' work (load below), and a seed whose transfer run met " +
        "a busier stretch reaches fewer steps within its scratch twin's time. Equal steps is the cleaner comparison here.",
      '',
    );
    // learning curves
    L.push(
      '### Learning curves (mean over seeds and held-out sets)',
      '',
      `| step | transfer F1 (no PA) | scratch F1 (no PA) | transfer ESS score (PA) | scratch ESS score (PA) | random ESS score (PA) |`,
      '| --- | --- | --- | --- | --- | --- |',
    );
    const stepsList = tr[0].steps.map((s: StepEval) => s.step);
    stepsList.forEach((step: number, j: number) => {
      const tf1 = mean(tr.map((t) => mean(t.steps[j].f1)));
      const sf1 = mean(sc.map((t) => mean(t.steps[j].f1)));
      const tpa = mean(tr.map((t) => mean(t.steps[j].ess_pa)));
      const spa = mean(sc.map((t) => mean(t.steps[j].ess_pa)));
      const flag = (x: number): string => (x <= rndPa ? ' (≤ random with PA)' : '');
      L.push(
        `| ${step} | ${f4(tf1)}${tf1 < fdMean ? ' (below first-difference)' : ''} | ${f4(sf1)}${sf1 < fdMean ? ' (below first-difference)' : ''} | ${f4(tpa)}${flag(tpa)} | ${f4(spa)}${flag(spa)} | ${f4(rndPa)} |`,
      );
    });
    L.push('', `First-difference baseline, mean over the held-out sets: F1 ${f4(fdMean)} (no PA).`, '');
    // first step reaching target
    L.push(
      `### First step reaching the target (ESS score with PA > ${STEP_SCORING.target} at rate ${STEP_SCORING.anomalyRate})`,
      '',
      '| seed | transfer (per held-out set) | scratch (per held-out set) |',
      '| --- | --- | --- |',
    );
    const fmtFirst = (x: Array<number | null>): string => x.map((v) => (v === null ? 'never' : String(v))).join(', ');
    let reachedT = 0;
    let reachedS = 0;
    let total = 0;
    for (const t of tr) {
      const s = sc.find((x) => x.seed === t.seed) as RunRecord;
      reachedT += t.first_step_reaching_target.filter((v) => v !== null).length;
      reachedS += s.first_step_reaching_target.filter((v) => v !== null).length;
      total += t.first_step_reaching_target.length;
      L.push(`| ${t.seed} | ${fmtFirst(t.first_step_reaching_target)} | ${fmtFirst(s.first_step_reaching_target)} |`);
    }
    L.push(
      '',
      `Reached at all: transfer ${reachedT}/${total}, scratch ${reachedS}/${total} (seed × set). Random scores' ESS score with PA on these sets: ${f4(rndPa)} — a PA figure near it says little.`,
      '',
    );
    const c = rep.conditions;
    L.push(
      `Load: ${c.cpus} cores shared with other work; 1-minute load average median ${Number(c.loadavg_1min_median).toFixed(1)}, max ${Number(c.loadavg_1min_max).toFixed(1)}.`,
      '',
    );
  } else if (rep?.partial) {
    L.push(`Report runs incomplete (${rep.runs.length} of ${2 * 5} finished when this was rendered).`, '');
  }
  if (r.panli) {
    L.push(
      '### Source recipe on held-out panli days (no PA)',
      '',
      '| day | source model F1 | first-difference F1 | |',
      '| --- | --- | --- | --- |',
    );
    for (const row of r.panli.rows)
      L.push(
        `| ${row.set} | ${f4(row.model_f1)} | ${f4(row.fd_f1)} | ${row.model_f1 > row.fd_f1 ? 'model ahead' : '**model below the baseline**'} |`,
      );
    const m = mean(r.panli.rows.map((x: { model_f1: number }) => x.model_f1));
    const b = mean(r.panli.rows.map((x: { fd_f1: number }) => x.fd_f1));
    L.push('', `Mean: source ${f4(m)} vs first-difference ${f4(b)} → ${m > b ? '**met**' : '**NOT met**'}.`, '');
    closing.push(
      `- Source recipe vs the first-difference baseline on held-out panli days: ${f4(m)} vs ${f4(b)} (mean of ${r.panli.rows.length} days) — ${m > b ? 'met' : 'NOT met'}.`,
    );
  }
  const est = r.estimation;
  if (est?.select?.candidates && est.select.chosen) {
    const es = est.select;
    const fmt = (s: EstSetting): string => settingKey(s);
    L.push(
      '### Round 2: settings chosen on jecheon 2022-05-17 to beat the first-difference baseline',
      '',
      `Every choice below is made on the selection day only (train ${es.train.join(', ')}, validate on ${es.validation.join(', ')}, the selection seeds above). ` +
        `Estimation-time settings need no retraining and are offered to every method alike, each method keeping its best on the selection day: estimation stride ${es.strides.join(' / ')} (denser overlap averaging), ` +
        `EWMA smoothing weight ${es.smoothing.join(' / ')} (0 = none; the reference \`ewma\`), and for the first-difference baseline the per-column combination ${es.combine.join(' / ')}. ` +
        "Training-time candidates change both arms identically (equal steps); the candidate is chosen by the transfer arm's best selection F1.",
      '',
      '| training candidate | steps | options on top of both arms | transfer: protocol F1 → best (setting) | scratch: protocol F1 → best (setting) | first-difference: protocol F1 → best (setting) |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const [name, c] of Object.entries(es.candidates as Record<string, Results>)) {
      const cell = (x: Results | undefined): string =>
        x === undefined
          ? 'not run (transfer arm only: does it reach the baseline?)'
          : `${f4(x.grid[0].mean)} → **${f4(x.chosen_f1)}** (${fmt(x.chosen)}; per seed ${(x.grid.find((g: Results) => settingKey(g.setting) === settingKey(x.chosen)).f1 as number[]).map(f4).join(', ')})`;
      L.push(
        `| ${name} | ${c.steps} | \`${JSON.stringify(c.extra)}\` | ${cell(c.arms.transfer)} | ${cell(c.arms.scratch)} | ${cell(c.arms['first-difference'])} |`,
      );
    }
    const ch = es.candidates[es.chosen];
    const selBeats = ch.arms.transfer.chosen_f1 > ch.arms['first-difference'].chosen_f1;
    L.push(
      '',
      `"Protocol F1" is the first setting of each grid (stride 64 / combine max, no smoothing: the protocol above). Chosen training candidate: **${es.chosen}**. ` +
        `On the selection day its transfer arm (${f4(ch.arms.transfer.chosen_f1)}) ${selBeats ? 'beats' : '**does not beat**'} the first-difference baseline with its own best setting (${f4(ch.arms['first-difference'].chosen_f1)}).`,
      '',
    );
    closing.push(
      `- Round 2 (selection day jecheon 05-17 only): best transfer setting ${f4(ch.arms.transfer.chosen_f1)} (${es.chosen}, ${fmt(ch.arms.transfer.chosen)}) vs first-difference ${f4(ch.arms['first-difference'].chosen_f1)} (${fmt(ch.arms['first-difference'].chosen)}) — ${selBeats ? 'ahead' : 'NOT ahead'} on the selection day.`,
    );
    const er = est.report;
    if (er && !er.partial) {
      const runsOf = (arm: string): Array<{ seed: number; f1: number[] }> => er.runs.filter((x: Results) => x.arm === arm);
      const tr = runsOf('transfer');
      const sc = runsOf('scratch');
      const fdMean = mean(er.baseline.map((b: Results) => b.f1));
      L.push(
        `#### Round 2 on the held-out days (run once, after the settings above were fixed)`,
        '',
        `Training candidate **${er.candidate}** (${er.steps} steps, \`${JSON.stringify(er.extra)}\`), seeds ${er.seeds.join(', ')}; transfer scored with ${fmt(ch.arms.transfer.chosen)}, scratch with ${fmt(ch.arms.scratch.chosen)}, ` +
          `the first-difference baseline with ${fmt(ch.arms['first-difference'].chosen)}. Runs: ${[...new Set(er.runs.map((x: Results) => path.dirname(x.run_dir)))].join(', ')}.`,
        '',
        '| seed | transfer F1 (no PA) | scratch F1 (no PA) | difference | ahead |',
        '| --- | --- | --- | --- | --- |',
      );
      const diffs: number[] = [];
      let wins = 0;
      for (const t of tr) {
        const s = sc.find((x) => x.seed === t.seed) as { f1: number[] };
        const d = mean(t.f1) - mean(s.f1);
        diffs.push(d);
        if (d > 0) wins++;
        L.push(`| ${t.seed} | ${f4(mean(t.f1))} | ${f4(mean(s.f1))} | ${f4(d)} | ${d > 0 ? 'transfer' : 'scratch'} |`);
      }
      const tF = tr.map((t) => mean(t.f1));
      const sF = sc.map((t) => mean(t.f1));
      const pt = pairedT(diffs);
      const beatsScratch = mean(tF) > mean(sF) && wins >= 4;
      const beatsFd = mean(tF) > fdMean;
      L.push(
        `| mean ± sd | ${f4(mean(tF))} ± ${f4(sd(tF))} | ${f4(mean(sF))} ± ${f4(sd(sF))} | ${f4(mean(diffs))} ± ${f4(sd(diffs))} | transfer ${wins}/${tr.length} |`,
        '',
        `Paired comparison (transfer − scratch): mean ${f4(mean(diffs))}, paired t = ${pt.t.toFixed(2)} (df ${pt.df}), sign test p = ${signTestP(wins, tr.length).toFixed(3)}.`,
        '',
        '| held-out set | first-difference F1 (its setting) | transfer F1 (mean of seeds) | scratch F1 (mean of seeds) |',
        '| --- | --- | --- | --- |',
      );
      er.baseline.forEach((b: Results, k: number) => {
        const tk = mean(tr.map((t) => t.f1[k]));
        const sk = mean(sc.map((t) => t.f1[k]));
        L.push(
          `| ${b.set} | ${f4(b.f1)} | ${f4(tk)}${tk < b.f1 ? ' (below first-difference)' : ''} | ${f4(sk)}${sk < b.f1 ? ' (below first-difference)' : ''} |`,
        );
      });
      L.push(
        '',
        `**Acceptance, round 2 (held-out jecheon, no PA, equal steps).** Transfer ${f4(mean(tF))} vs scratch ${f4(mean(sF))}, ahead in ${wins}/${tr.length} → ${beatsScratch ? '**met**' : '**NOT met**'}; ` +
          `vs the first-difference baseline (its own selected setting) ${f4(fdMean)} → ${beatsFd ? '**met**' : `**NOT met** (short by ${f4(fdMean - mean(tF))})`}` +
          (rep?.baselines
            ? `; for reference, the protocol's first-difference figure (combine max, no smoothing) on the same sets is ${f4(mean(rep.baselines.map((b: Results) => b.fd_f1)))}.`
            : '.'),
        '',
      );
      closing.push(
        `- Round 2 on held-out jecheon days (no PA, ${er.steps} steps, settings fixed on 05-17): transfer ${f4(mean(tF))} ± ${f4(sd(tF))} vs scratch ${f4(mean(sF))} ± ${f4(sd(sF))}, ahead in ${wins}/${tr.length} — ${beatsScratch ? 'met' : 'NOT met'}; vs first-difference ${f4(fdMean)} — ${beatsFd ? 'met' : 'NOT met'}.`,
      );
    } else {
      L.push(
        `Round 2 has **no held-out run**: the held-out days are scored once, for the chosen candidate (${es.chosen}, both arms, 5 seeds), and that run did not fit in the time of this session` +
          `${selBeats ? '' : '; by the protocol it was also not yet warranted, since no candidate beats the first-difference baseline on the selection day'}. No held-out figure of this round exists.`,
        '',
      );
      closing.push(
        `- Round 2 on the held-out days: not run (chosen candidate ${es.chosen}); the held-out figures above are still the default recipe's at ${rep?.steps ?? 400} steps.`,
      );
    }
  }
  renderConfirm(r, L, closing);
  if (closing.length > 0) L.push('### Closing note', '', ...closing, '');
  L.push(
    'Reproduce (the source run is the README recipe on the four panli days above, seed 11, no test set):',
    '',
    '```bash',
    'anomaly-lab train --train <dir with panli 20220412,20220419,20220505,20220508> --columns BANK_DC_VOLT,BANK_DC_CURRENT,BANK_SOC,MAX_CELL_TEMPERATURE_OF_BANK,VOLTAGE_GAP \\',
    '  --n_features 64 --patch_size 8 --d_embed 64 --n_layer 2 --diff_features --white_noising 0.15 --replacing_rate_max 0.5 \\',
    '  --lr 0.001 --max_steps 2500 --summary_steps 500 --seed 11 --out runs/experiments/transfer/source-panli',
    'scripts/experiments/run.sh transfer --select --source runs/experiments/transfer/source-panli     # settings, jecheon 05-17 only',
    'scripts/experiments/run.sh transfer --report --source runs/experiments/transfer/source-panli     # held-out days, 5 seeds, this section',
    '# round 2: a training candidate on 05-17 (both arms, selection seeds), then the estimation grid of every candidate (05-17 only)',
    "scripts/experiments/run.sh transfer --select --source runs/experiments/transfer/source-panli --out runs/experiments/transfer-r2/<name> --candidates map-freeze-embedding-50,scratch --select_seeds 91,92 [--steps N] [--extra '{json}'] --no_docs",
    "scripts/experiments/run.sh transfer --estimation_select --source runs/experiments/transfer/source-panli --est_name <name> --est_runs transfer=<dir>:<dir>,scratch=<dir>:<dir> [--steps N] [--extra '{json}']",
    '# round 2 on the held-out days, once, with the chosen candidate (its report runs trained by --report --out …/<name> [--steps N] [--extra …])',
    'scripts/experiments/run.sh transfer --estimation_report --source runs/experiments/transfer/source-panli --est_name <chosen> --est_runs report=<report run dir>',
    '```',
    '',
  );
  L.push(END);
  return L.join('\n');
}

/** The confirmatory subsection: the pre-registration (always, from CONFIRM), then its one result. */
function renderConfirm(r: Results, L: string[], closing: string[]): void {
  const C = CONFIRM;
  const setNames = REPORT_TEST.map((f) => path.basename(f, '.csv'));
  L.push(
    '### Confirmatory evaluation (pre-registered, run once)',
    '',
    'Written into this file and committed **before** any of its runs started; the script renders this plan from its own constants (`CONFIRM` in the script), and the results below it come from that one run. ' +
      'The jecheon held-out days are **not** fresh: rounds 1 and 2 above already looked at them twice (round 2 after round 1 had failed there). ' +
      'What is new: training seeds, synthetic-anomaly draws, a set of longer anomalies than any choice was made on, and the source model on every panli day it did not train on.',
    '',
    `- **Recipe under test (the defaults, nothing tuned here).** transfer = \`anomaly-lab train --checkpoint ${r.panli?.source ?? 'runs/experiments/transfer/source-panli'} --column_map voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT\` with no other new option: freeze schedule ${RECOMMENDED_TRANSFER.freeze_schedule}, ${RECOMMENDED_TRANSFER.max_steps} steps (the recipe's budget, no --max_steps), and the estimation settings it records (stride ${RECOMMENDED_TRANSFER.estimation.window_sliding}, EWMA ${RECOMMENDED_TRANSFER.estimation.smoothing}), used by a plain \`anomaly-lab estimate\`. ` +
      `scratch = the same architecture from scratch, --max_steps ${C.steps} (equal steps), scored with the settings a scratch run records (stride ${SCRATCH_ESTIMATION.window_sliding}, EWMA ${SCRATCH_ESTIMATION.smoothing}). ` +
      `Both: lr 0.001, batch 16, white_noising 0.15, replacing_rate_max 0.5, summaries every ${C.summary} steps, trained on ${REPORT_TRAIN.join(', ')}.`,
    `- **Seeds** ${C.seeds.join(', ')} (never used before; rounds 1–2 used 1–5, selection 91–92).`,
    `- **Primary test sets**: ${setNames.join(', ')}, each with ${SYNTH.anomalies} synthetic anomalies of ${SYNTH.minLengthFraction * 100}%…${SYNTH.maxLengthFraction * 100}% of the day, new draws (test-set seeds ${C.jecheonSeed}…${C.jecheonSeed + setNames.length - 1}; rounds 1–2 used 5001…5006). ` +
      `**Secondary**: the same days with ${C.long.anomalies} anomalies of ${C.long.minLengthFraction * 100}%…${C.long.maxLengthFraction * 100}% each (seeds ${C.long.seed}…${C.long.seed + setNames.length - 1}); no setting was chosen on anomalies longer than 2%.`,
    `- **Baseline**: first differences, combine ${C.fd.combine}, EWMA ${C.fd.smoothing} (its setting chosen on 05-17 in round 2); random scores for the PA figures. Also reported, secondary: every method on raw scores (models at stride 16 without smoothing, the baseline without smoothing).`,
    "- **Metric and decision** (the issue's \"Done when\", unchanged): best F1 over the anomaly-rate sweep without point adjustment, mean over the 6 primary sets, final step. Met if transfer's mean over seeds beats scratch's and transfer is ahead in ≥ 4 of 5 seeds, and transfer's mean beats the baseline's mean over the same sets. Paired t and sign test over seeds; per-set figures below either.",
    `- **Source recipe**: the source checkpoint on panli ${C.panliDays.map((d) => d.replace('.parquet', '')).join(', ')} (new draws, seeds ${C.panliSeed}…${C.panliSeed + C.panliDays.length - 1}) at the settings a scratch run records vs the baseline as above. ` +
      "No panli day is unseen: 20220907 is the day the workshop recipe itself was chosen on (issue 3), 0620/0723 were training days of issue 3's model (not of this source) and 0620/0723/0826 were scored once in round 1. Met if the mean over the four days beats the baseline; per day reported.",
    '- Learning curves (F1 without PA and the ESS score with PA beside random with PA), the first step reaching the target, and equal wall-clock are reported as in round 1, at the recorded settings.',
    `- Training engine: tfjs (wasm, one worker), as in rounds 1–2, set explicitly (the library's default is now the onnx engine where it loads). Estimation uses the library's default inference engine, as \`anomaly-lab estimate\` does.`,
    `- **Disclosure.** Before this plan was committed, a 20-step smoke run of the script (seed 21, output in ${CONFIRM.out}-quick) also scored the source model on panli with draws ${C.panliSmokeSeed}…${C.panliSmokeSeed + C.panliDays.length - 1}, and I saw those four figures; the panli result therefore uses new draws (${C.panliSeed}…), and the smoke figures are shown beside it. Its 20-step jecheon means (one seed) were seen in its log and say nothing about 800 steps; its baseline figures on the new jecheon draws were not looked at.`,
    '',
  );
  const c = r.confirm;
  if (!c) {
    L.push('**Result: not run yet** (this is the plan as committed before the run).', '');
    return;
  }
  if (!c.complete) {
    L.push(
      `**Result: incomplete** (${c.runs.length} of ${2 * C.seeds.length} runs finished when this was rendered); nothing is concluded from a partial run.`,
      '',
    );
    closing.push(`- Confirmatory evaluation: incomplete (${c.runs.length} of ${2 * C.seeds.length} runs).`);
    return;
  }
  const runsOf = (arm: string): ConfirmRun[] => (c.runs as ConfirmRun[]).filter((x) => x.arm === arm).sort((x, y) => x.seed - y.seed);
  const tr = runsOf('transfer');
  const sc = runsOf('scratch');
  const base = c.baselines as ConfirmBaseline[];
  const longBase = c.long_baselines as ConfirmBaseline[];
  const fin = (x: ConfirmRun): number[] => x.steps[x.steps.length - 1].f1;
  const cmp = (
    title: string,
    pick: (x: ConfirmRun) => number[],
    baseF1: number[],
    what: string,
  ): { t: number; s: number; b: number; wins: number } => {
    L.push(
      `**${title}**`,
      '',
      '| seed | transfer F1 (no PA) | scratch F1 (no PA) | difference | ahead |',
      '| --- | --- | --- | --- | --- |',
    );
    const diffs: number[] = [];
    let wins = 0;
    for (const t of tr) {
      const s = sc.find((x) => x.seed === t.seed) as ConfirmRun;
      const d = mean(pick(t)) - mean(pick(s));
      diffs.push(d);
      if (d > 0) wins++;
      L.push(`| ${t.seed} | ${f4(mean(pick(t)))} | ${f4(mean(pick(s)))} | ${f4(d)} | ${d > 0 ? 'transfer' : 'scratch'} |`);
    }
    const tF = tr.map((t) => mean(pick(t)));
    const sF = sc.map((t) => mean(pick(t)));
    const pt = pairedT(diffs);
    const b = mean(baseF1);
    L.push(
      `| mean ± sd | ${f4(mean(tF))} ± ${f4(sd(tF))} | ${f4(mean(sF))} ± ${f4(sd(sF))} | ${f4(mean(diffs))} ± ${f4(sd(diffs))} | transfer ${wins}/${tr.length} |`,
      '',
      `Paired (transfer − scratch): mean ${f4(mean(diffs))}, paired t = ${pt.t.toFixed(2)} (df ${pt.df}), sign test p = ${signTestP(wins, tr.length).toFixed(3)}. First-difference baseline (${what}), mean over the same sets: ${f4(b)}.`,
      '',
    );
    return { t: mean(tF), s: mean(sF), b, wins };
  };
  const perSet = (
    sets: ConfirmBaseline[],
    pick: (x: ConfirmRun) => number[],
    fdOf: (b: ConfirmBaseline) => number,
    fdWhat: string,
  ): void => {
    L.push(
      `| set | label rate | first-difference F1 (${fdWhat}) | random F1 | transfer F1 (mean of seeds) | scratch F1 (mean of seeds) |`,
      '| --- | --- | --- | --- | --- | --- |',
    );
    sets.forEach((b, k) => {
      const tk = mean(tr.map((t) => pick(t)[k]));
      const sk = mean(sc.map((t) => pick(t)[k]));
      const fd = fdOf(b);
      const flag = (x: number): string => (x < fd ? ' (below first-difference)' : '');
      L.push(`| ${b.set} | ${f4(b.label_rate)} | ${f4(fd)} | ${f4(b.random_f1)} | ${f4(tk)}${flag(tk)} | ${f4(sk)}${flag(sk)} |`);
    });
    const below = sets.filter((b, k) => mean(tr.map((t) => pick(t)[k])) < fdOf(b)).length;
    L.push('', `Transfer below the baseline on ${below} of ${sets.length} sets.`, '');
  };
  L.push(
    `#### Result (run ${String(c.started).slice(0, 16)}…${String(c.finished).slice(11, 16)} UTC; runs in ${CONFIRM.out})`,
    '',
    `Recorded estimation settings read back from the runs: transfer ${[...new Set(tr.map((t) => settingKey({ stride: t.estimation.window_sliding, smoothing: t.estimation.smoothing })))].join('; ')} (${[...new Set(tr.map((t) => t.max_steps))].join(', ')} steps); scratch ${[...new Set(sc.map((t) => settingKey({ stride: t.estimation.window_sliding, smoothing: t.estimation.smoothing })))].join('; ')} (${[...new Set(sc.map((t) => t.max_steps))].join(', ')} steps).`,
    '',
  );
  const p = cmp(
    'Primary: held-out jecheon, new draws, default settings, equal steps',
    fin,
    base.map((b) => b.fd_f1),
    `combine ${C.fd.combine}, EWMA ${C.fd.smoothing}`,
  );
  perSet(base, fin, (b) => b.fd_f1, `EWMA ${C.fd.smoothing}`);
  const pScratch = p.t > p.s && p.wins >= 4;
  const pFd = p.t > p.b;
  L.push(
    `**Decision (primary, as pre-registered).** Transfer ${f4(p.t)} vs scratch ${f4(p.s)}, ahead in ${p.wins}/${tr.length} → ${pScratch ? '**met**' : '**NOT met**'}; vs the first-difference baseline ${f4(p.b)} → ${pFd ? '**met**' : `**NOT met** (short by ${f4(p.b - p.t)})`}.`,
    '',
  );
  const raw = cmp(
    'Secondary: the same sets, raw scores (stride 16, no smoothing) for every method',
    (x) => x.final_raw_f1,
    base.map((b) => b.fd_raw_f1),
    `combine ${C.fd.combine}, raw`,
  );
  const lg = cmp(
    `Secondary: longer anomalies (${C.long.anomalies} of up to ${C.long.maxLengthFraction * 100}% of a day), default settings`,
    (x) => x.long_f1,
    longBase.map((b) => b.fd_f1),
    `combine ${C.fd.combine}, EWMA ${C.fd.smoothing}`,
  );
  perSet(
    longBase,
    (x) => x.long_f1,
    (b) => b.fd_f1,
    `EWMA ${C.fd.smoothing}`,
  );
  // curves
  const rndPa = mean(base.map((b) => b.random_ess_pa));
  L.push(
    '**Learning curves** (primary sets, mean over seeds and sets, recorded settings)',
    '',
    '| step | transfer F1 (no PA) | scratch F1 (no PA) | transfer ESS score (PA) | scratch ESS score (PA) | random ESS score (PA) |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  tr[0].steps.forEach((st, j) => {
    const tf1 = mean(tr.map((t) => mean(t.steps[j].f1)));
    const sf1 = mean(sc.map((t) => mean(t.steps[j].f1)));
    const tpa = mean(tr.map((t) => mean(t.steps[j].ess_pa)));
    const spa = mean(sc.map((t) => mean(t.steps[j].ess_pa)));
    const below = (x: number): string => (x < p.b ? ' (below first-difference)' : '');
    const flag = (x: number): string => (x <= rndPa ? ' (≤ random with PA)' : '');
    L.push(
      `| ${st.step} | ${f4(tf1)}${below(tf1)} | ${f4(sf1)}${below(sf1)} | ${f4(tpa)}${flag(tpa)} | ${f4(spa)}${flag(spa)} | ${f4(rndPa)} |`,
    );
  });
  let total = 0;
  const firstT: number[] = [];
  const firstS: number[] = [];
  for (const t of tr) {
    const s = sc.find((x) => x.seed === t.seed) as ConfirmRun;
    for (const v of t.first_step_reaching_target) if (v !== null) firstT.push(v);
    for (const v of s.first_step_reaching_target) if (v !== null) firstS.push(v);
    total += t.first_step_reaching_target.length;
  }
  L.push(
    '',
    `First step reaching the target (ESS score with PA > ${STEP_SCORING.target} at rate ${STEP_SCORING.anomalyRate}): reached in transfer ${firstT.length}/${total}, scratch ${firstS.length}/${total} (seed × set); median first step where reached: transfer ${firstT.length ? median(firstT) : '–'}, scratch ${firstS.length ? median(firstS) : '–'}. Random scores' ESS score with PA on these sets: ${f4(rndPa)}.`,
    '',
  );
  // equal wall-clock
  const wcT: number[] = [];
  const wcS: number[] = [];
  const confirmAt = (run: ConfirmRun, budget: number): { step: number; f1: number } => {
    let best = run.steps[0];
    for (const st of run.steps) if (run.train_s[st.step] <= budget + 1e-9) best = st;
    return { step: best.step, f1: mean(best.f1) };
  };
  const reachedSteps: number[] = [];
  for (const t of tr) {
    const s = sc.find((x) => x.seed === t.seed) as ConfirmRun;
    const budget = s.train_s[String(s.max_steps)];
    const a1 = confirmAt(t, budget);
    reachedSteps.push(a1.step);
    wcT.push(a1.f1);
    wcS.push(confirmAt(s, budget).f1);
  }
  L.push(
    `**Equal wall-clock** (each pair gets the scratch run's training time): transfer ${f4(mean(wcT))} ± ${f4(sd(wcT))} (steps reached ${reachedSteps.join(', ')}) vs scratch ${f4(mean(wcS))} ± ${f4(sd(wcS))}. Both arms cost the same per step; differences here are the shared machine's load.`,
    '',
  );
  const pan = c.panli;
  if (pan) {
    L.push(
      `**Source recipe on panli** (\`${pan.source}\`, step ${pan.step}; model at stride ${pan.estimation.window_sliding}, EWMA ${pan.estimation.smoothing}; baseline combine ${C.fd.combine}, EWMA ${C.fd.smoothing}; raw figures beside)`,
      '',
      '| day | source F1 | first-difference F1 | | source F1 (raw) | first-difference F1 (raw) |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const row of pan.rows)
      L.push(
        `| ${row.set}${row.set === '20220907' ? ' (the recipe was chosen on this day)' : ''} | ${f4(row.model_f1)} | ${f4(row.fd_f1)} | ${row.model_f1 > row.fd_f1 ? 'model ahead' : '**model below the baseline**'} | ${f4(row.model_raw_f1)} | ${f4(row.fd_raw_f1)} |`,
      );
    const m = mean(pan.rows.map((x: Results) => x.model_f1));
    const b = mean(pan.rows.map((x: Results) => x.fd_f1));
    const mr = mean(pan.rows.map((x: Results) => x.model_raw_f1));
    const br = mean(pan.rows.map((x: Results) => x.fd_raw_f1));
    L.push(
      '',
      `Mean: source ${f4(m)} vs first-difference ${f4(b)} → ${m > b ? '**met**' : '**NOT met**'} (raw: ${f4(mr)} vs ${f4(br)}).`,
      '',
    );
    if (c.smoke_panli)
      L.push(
        `Seen before the plan (smoke run, draws ${C.panliSmokeSeed}…): ${c.smoke_panli.rows.map((x: Results) => `${x.set} ${f4(x.model_f1)} vs ${f4(x.fd_f1)}`).join('; ')}.`,
        '',
      );
    closing.push(
      `- Confirmatory, source recipe on the 4 panli days it did not train on (new draws): ${f4(m)} vs first-difference ${f4(b)} — ${m > b ? 'met' : 'NOT met'}; raw scores ${f4(mr)} vs ${f4(br)}.`,
    );
  }
  closing.unshift(
    `- **Confirmatory (pre-registered, run once; seeds ${C.seeds.join('–')}, new anomaly draws on the held-out jecheon days, default recipe end to end):** transfer ${f4(p.t)} vs scratch ${f4(p.s)}, ahead in ${p.wins}/${tr.length} — ${pScratch ? 'met' : 'NOT met'}; vs first-difference ${f4(p.b)} — ${pFd ? 'met' : 'NOT met'}. Secondary: raw scores ${f4(raw.t)} / ${f4(raw.s)} / baseline ${f4(raw.b)} (${raw.wins}/5); long anomalies ${f4(lg.t)} / ${f4(lg.s)} / baseline ${f4(lg.b)} (${lg.wins}/5).`,
  );
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function writeDocs(r: Results): void {
  const file = path.join(REPO, 'docs', 'experiments.md');
  const text = fs.readFileSync(file, 'utf8');
  const section = renderSection(r);
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  const next = i >= 0 && j > i ? text.slice(0, i) + section + text.slice(j + END.length) : text.replace(/\n*$/, '\n\n') + section + '\n';
  writeFileAtomic(file, next);
  // The raw numbers beside the docs (runs/ is not committed).
  writeFileAtomic(path.join(REPO, 'docs', 'experiments-transfer.json'), JSON.stringify(r, null, 1) + '\n');
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const file = a.results ?? path.join(a.out, 'results.json');
  const results = loadResults(file);
  results.results_file = path.relative(REPO, file);
  if (a.mode !== 'render') {
    if (!a.source && a.mode !== 'confirm-merge') throw new Error('--source <panli run dir or checkpoint> is required to train');
    await initBackend({ backend: 'wasm', logger: log });
    if (a.mode === 'select') await select(a, results, file);
    else if (a.mode === 'est-select') await estimationSelect(a, results);
    else if (a.mode === 'est-report') await estimationReport(a, results);
    else if (a.mode === 'confirm') return await confirm(a);
    else if (a.mode === 'confirm-merge') confirmMerge(results, a.quick);
    else await report(a, results, file);
    if (a.mode === 'est-select' || a.mode === 'est-report' || a.mode === 'confirm-merge') saveResults(file, results);
  }
  if (a.quick || a.noDocs) return log(`results in ${file}; docs not written (--quick / --no_docs)`);
  writeDocs(results);
  log(`wrote docs/experiments.md section from ${file}`);
}

main().catch((e) => {
  process.stderr.write(`transfer experiment: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
