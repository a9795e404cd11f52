/**
 * The shape of the transfer protocol's results.json (runs/experiments/transfer/results.json, copied
 * to docs/experiments-transfer.json): every number of the generated docs section comes from here.
 * Each round adds its key; older files lack the later keys.
 */
import type { BaselineCombine } from 'anomaly-lab/evaluation';
import type { TrainOptions } from 'anomaly-lab/training';

/** Scores of one saved step on every test set of a round. */
export interface StepEval {
  step: number;
  /** per test set, best F1 over the rate sweep without PA */
  f1: number[];
  /** per test set, the seed's ESS score with PA at the step-scoring rate */
  ess_pa: number[];
}

/** One trained arm (a candidate of the selection, or transfer/scratch of the report). */
export interface RunRecord {
  arm: string;
  seed: number;
  run_dir: string;
  steps: StepEval[];
  /** cumulative training seconds (estimations and checkpoints excluded) at each summary step */
  train_s: Record<string, number>;
  /** per test set: first summary step whose ESS score with PA exceeds the target (null: never) */
  first_step_reaching_target: Array<number | null>;
}

/** The simple baselines on one test set. */
export interface BaselineRow {
  set: string;
  fd_f1: number;
  random_f1: number;
  random_ess_pa: number;
  label_rate: number;
}

/** Load of the shared machine while a round ran. */
export interface Conditions {
  cpus: number;
  loadavg_1min_median: number;
  loadavg_1min_max: number;
  samples: number;
}

/** Options of a selection candidate on top of the shared ones, or a run from scratch. */
export type CandidateOptions = Partial<TrainOptions> | 'scratch';

export interface SelectionRow {
  candidate: string;
  options: CandidateOptions;
  final_f1: number[];
  mean_final_f1: number;
}

/** Round 1: settings chosen on jecheon 05-17. `partial` while the runs are still coming in. */
export interface SelectResults {
  partial?: boolean;
  train?: string[];
  validation?: string[];
  seeds?: number[];
  steps?: number;
  extra?: Partial<TrainOptions>;
  baselines?: BaselineRow[];
  table?: SelectionRow[];
  chosen?: string;
  runs: RunRecord[];
  conditions?: Conditions;
  finished?: string;
}

/** Round 1: the held-out days, 5 seeds, both arms. */
export interface ReportResults {
  partial?: boolean;
  train?: string[];
  test?: string[];
  seeds?: number[];
  steps?: number;
  summary?: number;
  recipe?: unknown;
  extra?: Partial<TrainOptions>;
  baselines?: BaselineRow[];
  runs: RunRecord[];
  conditions?: Conditions;
  finished?: string;
}

export interface PanliRow {
  set: string;
  model_f1: number;
  fd_f1: number;
}

/** The source model on held-out panli days (round 1). */
export interface PanliResults {
  source: string;
  step?: number;
  days: string[];
  rows: PanliRow[];
}

/** An estimation-time setting: a model's stride, or the baseline's combine rule; EWMA weight (0 = none). */
export interface EstSetting {
  stride?: number;
  combine?: BaselineCombine;
  smoothing: number;
}

export interface EstGridRow {
  setting: EstSetting;
  f1: number[];
  mean: number;
}

/** One method's estimation grid on the selection day and its chosen setting. */
export interface EstArm {
  runs?: string[];
  grid: EstGridRow[];
  chosen: EstSetting;
  chosen_f1: number;
}

/** A training candidate of round 2 (its steps and options) with the grid of every method. */
export interface EstCandidate {
  steps: number;
  extra: Partial<TrainOptions>;
  /** transfer, scratch (when run) and first-difference */
  arms: Record<string, EstArm>;
  finished: string;
}

export interface EstimationSelect {
  validation: string[];
  train: string[];
  strides: number[];
  smoothing: number[];
  combine: BaselineCombine[];
  candidates: Record<string, EstCandidate>;
  chosen?: string;
}

export interface EstReportRun {
  arm: string;
  seed: number;
  run_dir: string;
  f1: number[];
}

/** Round 2 on the held-out days, run once with the chosen candidate. */
export interface EstimationReport {
  partial?: boolean;
  candidate?: string;
  steps?: number;
  extra?: Partial<TrainOptions>;
  test?: string[];
  seeds?: number[];
  runs: EstReportRun[];
  baseline: Array<{ set: string; f1: number }>;
  conditions?: Conditions;
  finished?: string;
}

/** Estimation settings a run records (what a plain `anomaly-lab estimate` uses). */
export interface RecordedEstimation {
  window_sliding: number;
  smoothing: number;
}

/** One arm × seed of the confirmatory evaluation. */
export interface ConfirmRun {
  arm: string;
  seed: number;
  run_dir: string;
  /** The estimation settings the run recorded. */
  estimation: RecordedEstimation;
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

export interface ConfirmBaseline {
  set: string;
  label_rate: number;
  fd_f1: number;
  fd_raw_f1: number;
  random_f1: number;
  random_ess_pa: number;
}

export interface ConfirmPanliRow {
  set: string;
  model_f1: number;
  model_raw_f1: number;
  fd_f1: number;
  fd_raw_f1: number;
}

export interface ConfirmPanli {
  source: string;
  step?: number;
  estimation: RecordedEstimation;
  rows: ConfirmPanliRow[];
}

/** What one confirmatory process (one arm, or both) writes. */
export interface ConfirmPart {
  started: string;
  baselines: ConfirmBaseline[];
  long_baselines: ConfirmBaseline[];
  runs: ConfirmRun[];
  panli?: ConfirmPanli;
  conditions?: Conditions;
  finished?: string;
}

/** The confirmatory evaluation, merged from its processes. */
export interface ConfirmResults {
  protocol: unknown;
  baselines: ConfirmBaseline[];
  long_baselines: ConfirmBaseline[];
  runs: ConfirmRun[];
  panli?: ConfirmPanli;
  /** The smoke run's panli figures, seen before the plan was committed. */
  smoke_panli?: ConfirmPanli;
  conditions: Array<Conditions | undefined>;
  started: string;
  finished?: string;
  complete: boolean;
}

export interface TransferResults {
  /** The results file these came from (relative to the repository). */
  results_file?: string;
  select?: SelectResults;
  report?: ReportResults;
  panli?: PanliResults;
  estimation?: { select?: EstimationSelect; report?: EstimationReport };
  confirm?: ConfirmResults;
  /** Round 3 (session 5): selection of the budget and smoothing on 05-17. */
  round3?: Round3Results;
  /** The second confirmatory evaluation (session 5, pre-registered like the first). */
  confirm2?: ConfirmResults;
}

/** Round 3: one arm × seed × fold (the per-run JSON of round3.ts / the plain-JS explore.cjs, same shape). */
export interface Round3Run {
  arm: string;
  seed: number;
  fold: number;
  tag: string;
  extra: Partial<TrainOptions>;
  /** first-difference baseline: EWMA weight → F1 (no PA) per validation draw */
  fd: Record<string, number[]>;
  /** summary step → EWMA weight → F1 (no PA) per validation draw */
  steps: Record<string, Record<string, number[]>>;
}

/** Round 3, one summary step under one EWMA weight: means over the seed × fold pairs ('91/f0', …). */
export interface Round3Cell {
  transfer: number;
  scratch: number;
  transfer_pairs: Record<string, number>;
  scratch_pairs: Record<string, number>;
  /** transfer − scratch per pair */
  diff_pairs: Record<string, number>;
  diff_mean: number;
}

export interface Round3Budget {
  tag: string;
  budget: number;
  summary: number;
  seeds: number[];
  folds: number[];
  arms: string[];
  extra: Partial<TrainOptions>;
  /** summary step → EWMA weight → cell */
  steps: Record<string, Record<string, Round3Cell>>;
  /** EWMA weight → the baseline's mean F1 over folds, and per fold (the mean of its draws) */
  fd: Record<string, { mean: number; folds: Record<string, number> }>;
  runs: Round3Run[];
}

/** Round 3 (session 5): budget and smoothing chosen on jecheon 05-17 only, per tag (one budget each). */
export interface Round3Results {
  /** the directory of the per-run files */
  from: string;
  /** 'js': the plain-JS first version (coord/s5/explore.cjs); 'ts': `--round3` */
  ran_with: 'js' | 'ts';
  protocol: unknown;
  budgets: Record<string, Round3Budget>;
}
