/**
 * The typed results of the ESS experiment (issue 3 acceptance): `results.json` of a run, which
 * `run.ts` writes, `variants.ts` extends (variants, repeats, analyses) and `render.ts` turns into
 * docs/experiments.md. Older results files lack the later fields, hence the optional ones.
 */
import * as fs from 'fs';
import type { MetricRow, TrainOptions } from 'anomaly-lab';
import type { HistoryEntry } from 'anomaly-lab/runs';

/** The shared machine's load while a run trained (timings mean little without it). */
export interface LoadConditions {
  cpus: number;
  cpu_model?: string;
  loadavg_1min_samples: number;
  loadavg_1min_median: number;
  loadavg_1min_max: number;
}

/** One detector's best F1 over the anomaly-rate sweep, with and without point adjustment. */
export interface DetectorRow {
  detector: string;
  without_pa: MetricRow;
  with_pa: MetricRow;
  pa_k_auc: number;
}

export interface RandomRow extends DetectorRow {
  /** The library's `randomScoresBaseline` on the same draws, as a cross-check. */
  library_random_with_pa: MetricRow;
}

/** How one detector does on one synthetic anomaly type. */
export interface TypeRow {
  type: string;
  anomalies: number;
  /** intervals with at least one labelled point flagged */
  detected: number;
  /** flagged fraction of the labelled points, averaged over the intervals of this type */
  mean_point_recall: number;
}

/** A detector's per-type detection at its own best no-PA rate. */
export interface PerTypeRow {
  detector: string;
  rate: number;
  false_positives: number;
  types: TypeRow[];
}

/** Loss and test F1 at a summary step. */
export interface CurvePoint {
  step: number;
  loss: number;
  f1?: number;
  f1_pa?: number;
}

/** (a): workshop AnomalyBERT on panli-clean against the baselines. */
export interface PartA {
  train_days: string[];
  test_day: string;
  train_rows: number;
  test_rows: number;
  anomalies: number;
  anomalous_points: number;
  options: TrainOptions;
  run_dir: string;
  training_wall_s: number;
  total_wall_s: number;
  steps_per_s_overall: number;
  steps_per_s_training_only: number;
  training_only_s_estimate: number;
  last_reported_steps_per_s: number;
  final: HistoryEntry;
  /** model, z-score, first-difference, random (in this order) */
  detectors: DetectorRow[];
  curve: CurvePoint[];
  per_type?: PerTypeRow[];
}

/** (b): transfer to jecheon against training from scratch. */
export interface PartB {
  train_files: string[];
  test_file: string;
  train_rows: number;
  test_rows: number;
  anomalies: number;
  anomalous_points: number;
  steps: number;
  /** the checkpoint of (a) the transfer arm starts from */
  parent: string;
  transfer_run: string;
  scratch_run: string;
  /** training seed of both arms when not the default 8 */
  options_seed?: number;
  /** fine-tuned, scratch, z-score, first-difference, random (in this order) */
  detectors: DetectorRow[];
  transfer_curve: CurvePoint[];
  scratch_curve: CurvePoint[];
  per_type?: PerTypeRow[];
}

/** A named variant of (a) (`--variant`): option overrides, same data and test set. */
export interface Variant {
  name: string;
  why?: string;
  overrides: Record<string, number | string>;
  options: TrainOptions;
  run_dir: string;
  training_wall_s: number;
  steps_per_s_training_only: number;
  training_only_s_estimate: number;
  load: LoadConditions;
  detectors: DetectorRow[];
  per_type: PerTypeRow[];
  curve: CurvePoint[];
}

/** (b) again with another training seed (`--repeat_b`). */
export interface Repeat {
  seed: number;
  transfer_f1: number;
  scratch_f1: number;
  transfer_curve: CurvePoint[];
  scratch_curve: CurvePoint[];
  dir: string;
}

/** One configuration of `npm run bench -- train` (tools/bench/train.bench.ts). */
export interface BenchTrainRow {
  config: { nTokens: number; patchSize: number; dEmbed: number; nLayer: number; diffScales?: unknown };
  batch_size: number;
  micro_batch?: number;
  parameters: number;
  timed_steps: number;
  steps_per_s: number;
  points_per_s: number;
  peak_rss_mb: number;
  tf_bytes_mb_after_step: number;
  tf_tensors_growth_over_timed_steps: number;
  error?: string;
}

export const BENCH_TRAIN_KEYS = ['workshop', 'workshop_diff', 'ess', 'ess_batch1', 'ess_batch2', 'ess_batch4'] as const;
export type BenchTrainKey = (typeof BENCH_TRAIN_KEYS)[number];

/** The train bench merged into the results (`--render … --bench bench.json`). */
export type BenchTrain = {
  started: string;
  backend: string;
  node: string;
  loadavg_1min_at_start?: number;
  loadavg_1min_at_end?: number;
} & {
  [K in BenchTrainKey]?: BenchTrainRow;
};

/** What `npm run -s bench` prints: the train module's JSON under results.train (or that JSON alone). */
export type BenchFile = {
  started: string;
  backend: string;
  node: string;
  results?: { train?: Omit<BenchTrain, 'started' | 'backend' | 'node'> };
} & Omit<BenchTrain, 'started' | 'backend' | 'node'>;

/** Per column of (a)'s scaled training data: how often x_t − x_(t−1) is 0 and its upper quantiles. */
export interface DataStat {
  column: string;
  zero_fraction: number;
  p99: number;
  p999: number;
}

/** (a)'s final scores around each uniform replacement. */
export interface EdgeProfile {
  normal_median: number;
  intervals: Array<{ start: number; end: number; columns: number[]; before: number; inside: number; after: number }>;
}

/** One earlier attempt of (a) (models without first-difference features). */
export interface EarlierRow {
  name: string;
  run_dir: string;
  settings: string;
  steps: number;
  training_min: number;
  f1: number;
  f1_pa: number;
  pa_k_auc: number;
  per_type?: TypeRow[];
}

/** The earlier attempts, summarised from their own results.json (`--earlier`). */
export interface EarlierSummary {
  source: string;
  a: EarlierRow[];
  b: Array<{ seed: number; transfer_f1: number; scratch_f1: number }>;
  baselines: DetectorRow[];
}

/** results.json of the ESS experiment. */
export interface EssResults {
  generated: string;
  started: string;
  library_version: string;
  backend: string;
  node: string;
  load: LoadConditions;
  a: PartA;
  b: PartB;
  a_variants?: Variant[];
  /** The single variant of the first results files (before named variants). */
  a_variant?: Variant & { white_noising: number };
  b_repeats?: Repeat[];
  bench?: BenchTrain;
  earlier?: EarlierSummary;
  a_data_stats?: DataStat[];
  a_edge_profile?: EdgeProfile;
}

/** Read a results.json (written by this experiment; its shape is the one above). */
export function readResults(file: string): EssResults {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as EssResults;
}

/** A variant entry replaces the one of the same name in place (the list keeps the order the variants ran in); new names append. */
export function upsertVariant(list: Variant[] | undefined, v: Variant): Variant[] {
  const all = list ?? [];
  return all.some((x) => x.name === v.name) ? all.map((x) => (x.name === v.name ? v : x)) : [...all, v];
}
