/**
 * The ESS experiment's protocol, shared by the main run (run.ts) and the follow-ups (variants.ts):
 * data, model settings, test-set synthesis, detector evaluation and the load record. Everything is
 * deterministic, so a follow-up rebuilds exactly the test sets a run used.
 */
import * as os from 'os';
import * as path from 'path';
import { loadSeries, prepareMetrics, synthesizeTestSet, type Series, type TrainResult } from 'anomaly-lab';
import { createRng, randomScoresBaseline, thresholdAtRate } from 'anomaly-lab/core';
import { fitBaselineStats, firstDifferenceBaseline, zScoreBaseline, type SynthTestSet } from 'anomaly-lab/evaluation';
import { concatSeries, MinMaxScaler, readNpy } from 'anomaly-lab/io';
import type { HistoryEntry } from 'anomaly-lab/runs';
import type { CurvePoint, DetectorRow, LoadConditions, PerTypeRow, RandomRow, TypeRow } from './results';

/** Re-running a protocol step replaces its own earlier run directory (runs refuse reuse otherwise). */
export const REDO = 'overwrite' as const;

// tools/experiments/run.sh runs from the repository root; paths in results.json are relative to it.
export const REPO = process.cwd();
export const SHARED = process.env.ANOMALY_LAB_SHARED ?? path.resolve(REPO, '..', 'shared');
export const PANLI = path.join(SHARED, 'data', 'ess', 'panli-clean');
export const JECHEON = path.join(SHARED, 'data', 'ess', 'jecheon');
export const PANLI_COLUMNS = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];
export const JECHEON_COLUMNS = ['voltage', 'current'];
/**
 * Test-set synthesis: 12 anomalies of 0.05%…2% of the series each (~12% anomalous points). The
 * library default (5 anomalies up to 10% each) labels ~25-50% of a day, above the largest rate of
 * the sweep (0.3), where F1 without point adjustment mostly measures the label fraction.
 */
export const SYNTH = { anomalies: 12, minLengthFraction: 0.0005, maxLengthFraction: 0.02 };

/**
 * The workshop model (part a; part b's scratch arm is the same architecture): 64 tokens × patch 8,
 * width 64, 2 layers, reading each column's first difference beside its value (`diff_features`;
 * the attempts without it, kept under "Earlier attempts" in the docs, stayed far below the
 * first-difference baseline).
 */
export const WORKSHOP_MODEL = {
  n_features: 64,
  patch_size: 8,
  d_embed: 64,
  n_layer: 2,
  n_head: 8,
  diff_features: true,
};

/** Training settings of part a (part b shares lr, batch, degradation and stride). */
export const WORKSHOP = {
  ...WORKSHOP_MODEL,
  batch_size: 16,
  lr: 1e-3,
  // Two departures from the original degradation defaults, both because of what the test recipe
  // contains (not searched on its scores): N(0, 0.003) white noise, which the default (0.0) never
  // shows the model, and long intervals — test anomalies span 43…1728 points, the default
  // replacing_rate_max 0.15 degrades at most 76 of a 512-point window; 0.5 allows 256.
  white_noising: 0.15,
  replacing_rate_max: 0.5,
  // Test-set estimation stride: the original default.
  window_sliding: 16,
  // A seed not used while choosing the settings above (the variants ran with seed 7).
  seed: 11,
};

/** Settings both arms of part b share (transfer and scratch): (a)'s lr, batch, degradation and stride. */
export const TRANSFER_SETTINGS = {
  lr: WORKSHOP.lr,
  batch_size: WORKSHOP.batch_size,
  white_noising: WORKSHOP.white_noising,
  replacing_rate_max: WORKSHOP.replacing_rate_max,
  window_sliding: WORKSHOP.window_sliding,
};

/** The command line of the experiment, resolved (paths absolute, `--set` as an object). */
export interface EssArgs {
  quick: boolean;
  out: string;
  stepsA: number;
  stepsB: number;
  docs: boolean;
  /** Re-render docs/experiments.md from an existing results.json (no training). */
  render?: string;
  /** Add the per-anomaly-type analysis to an existing results.json (no training), then render. */
  analyze?: string;
  /** With --render: merge `npm run bench -- train` output (.bench/results.json) into the results. */
  bench?: string;
  /** Repeat (b) with other seeds (comma list) and merge into this results.json. */
  repeatB?: string;
  seedsB: number[];
  /** Train a named variant of (a) with option overrides (--set) and merge it into this results.json. */
  variant?: string;
  /** Short name of the variant (run directory `a-<name>`, key in results.json `a_variants`). */
  variantName?: string;
  /** Training option overrides of the variant or measurement, original option names. */
  overrides: Record<string, number | string>;
  /** Number of test-set summaries (estimations) of a variant run. */
  summaries: number;
  /** Short throughput measurement (no test set, no docs) with the --set overrides. */
  measure?: string;
  /** One-paragraph rationale of the variant, stored with it and rendered above its table. */
  why?: string;
  /** With --name and --why: set the rationale of an already merged variant and re-render. */
  annotate?: string;
  /** Add first-difference statistics of (a)'s scaled training data to this results.json and re-render. */
  dataStats?: string;
  /** results.json of the earlier attempts (models without first-difference features), summarised in the docs. */
  earlier?: string;
  /** With --render: results.json files whose named variants (a_variants) are merged into the rendered one. */
  mergeVariants?: string[];
}

// ---------------------------------------------------------------------------------------------
// load conditions: the machine is shared, so the numbers are only meaningful with the load beside them

export const loadSamples: number[] = [];
const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]), 15000);
loadTimer.unref();

export function loadConditions(): LoadConditions {
  const s = [...loadSamples].sort((x, y) => x - y);
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    loadavg_1min_samples: s.length,
    loadavg_1min_median: s.length ? s[Math.floor(s.length / 2)] : os.loadavg()[0],
    loadavg_1min_max: s.length ? s[s.length - 1] : os.loadavg()[0],
  };
}

// ---------------------------------------------------------------------------------------------
// data helpers

export async function concatFiles(files: string[], columns: string[]): Promise<Series> {
  const parts: Series[] = [];
  for (const f of files) parts.push(await loadSeries(f, { columns }));
  // no file segments: the recorded experiments sampled windows across the day boundaries
  return concatSeries(parts, { segments: false });
}

export function withValues(s: Series, values: Float32Array, source: string): Series {
  return { source, columns: s.columns, length: s.length, values };
}

export function evaluate(detector: string, scores: ArrayLike<number>, labels: Uint8Array): DetectorRow {
  const ev = prepareMetrics(scores, labels);
  const withPa = ev.sweep({ pointAdjust: true });
  return { detector, without_pa: ev.sweep({ pointAdjust: false }), with_pa: withPa, pa_k_auc: ev.paKCurve(withPa.anomaly_rate).auc };
}

/**
 * Uniformly random scores on the same labels: the same draws as the library's
 * `randomScoresBaseline` (createRng(seed).uniform() per point), kept as an array so the PA%K curve
 * can be computed too; the library's figure is recorded beside it as a cross-check.
 */
export function randomRow(labels: Uint8Array, seed: number): RandomRow {
  const rng = createRng(seed);
  const scores = new Float64Array(labels.length);
  for (let i = 0; i < scores.length; i++) scores[i] = rng.uniform();
  return {
    ...evaluate('random scores', scores, labels),
    library_random_with_pa: randomScoresBaseline(labels, null, { seed, pointAdjust: true }),
  };
}

/**
 * Which anomaly types a detector finds, at its own best no-PA rate: per synthetic interval, the
 * flagged fraction of its labelled points (peak noise labels only the moved points).
 */
export function perTypeDetection(
  scores: ArrayLike<number>,
  labels: Uint8Array,
  synth: SynthTestSet,
  rate: number,
): Omit<PerTypeRow, 'detector'> {
  const thr = thresholdAtRate(scores, rate);
  const byType = new Map<string, TypeRow>();
  for (const iv of synth.intervals) {
    let n = 0;
    let hit = 0;
    for (let t = iv.start; t < iv.end; t++) {
      if (labels[t] !== 1) continue;
      n++;
      if (scores[t] > thr) hit++;
    }
    const row = byType.get(iv.type) ?? { type: iv.type, anomalies: 0, detected: 0, mean_point_recall: 0 };
    row.anomalies++;
    if (hit > 0) row.detected++;
    row.mean_point_recall += n > 0 ? hit / n : 0;
    byType.set(iv.type, row);
  }
  let fp = 0;
  for (let t = 0; t < labels.length; t++) if (labels[t] === 0 && scores[t] > thr) fp++;
  const types = [...byType.values()].map((r) => ({ ...r, mean_point_recall: r.mean_point_recall / r.anomalies }));
  return { rate, false_positives: fp, types };
}

export function scoresOfRun(runDir: string, step: number): Float32Array {
  const arr = readNpy(path.join(REPO, runDir, 'state', `step_${step}_scores.npy`));
  return arr.data as Float32Array;
}

export function scoresOf(run: TrainResult, step: number): Float32Array {
  const arr = readNpy(path.join(run.runDir, 'state', `step_${step}_scores.npy`));
  return arr.data as Float32Array;
}

export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Data of both parts; deterministic, so --analyze rebuilds exactly the test sets a run used.

export interface Prepared {
  train: Series;
  scaler: MinMaxScaler;
  /** synthetic test set in the scaled [0, 1] space */
  synth: SynthTestSet;
  /** the same test set in raw units (what training receives) */
  test: Series;
}

export async function prepareA(trainDays: string[], testDay: string): Promise<Prepared> {
  const train = await concatFiles(
    trainDays.map((d) => path.join(PANLI, d)),
    PANLI_COLUMNS,
  );
  const testRaw = await loadSeries(path.join(PANLI, testDay), { columns: PANLI_COLUMNS });
  const scaler = MinMaxScaler.fit(train);
  const C = PANLI_COLUMNS.length;
  const synth = synthesizeTestSet(withValues(testRaw, scaler.transform(testRaw.values, C), testDay), { seed: 2024, ...SYNTH });
  return { train, scaler, synth, test: withValues(testRaw, scaler.inverseTransform(synth.values, C), `synth(${testDay})`) };
}

export async function prepareB(trainFiles: string[], testFile: string): Promise<Prepared> {
  const train = await concatFiles(
    trainFiles.map((f) => path.join(JECHEON, f)),
    JECHEON_COLUMNS,
  );
  const testRaw = await loadSeries(path.join(JECHEON, testFile), { columns: JECHEON_COLUMNS });
  const scaler = MinMaxScaler.fit(train);
  const synth = synthesizeTestSet(withValues(testRaw, scaler.transform(testRaw.values, 2), testFile), { seed: 2025, ...SYNTH });
  return { train, scaler, synth, test: withValues(testRaw, scaler.inverseTransform(synth.values, 2), `synth(${testFile})`) };
}

/** Detector scores of a part, in the order of its `detectors` rows (model runs first, then baselines, random). */
export function detectorScores(p: Prepared, modelScores: Float32Array[], columns: string[]): Array<ArrayLike<number>> {
  const C = columns.length;
  const stats = fitBaselineStats(p.scaler.transform(p.train.values, C), C, columns);
  const rng = createRng(1);
  const random = new Float64Array(p.synth.labels.length);
  for (let i = 0; i < random.length; i++) random[i] = rng.uniform();
  return [...modelScores, zScoreBaseline(p.synth.values, C, stats), firstDifferenceBaseline(p.synth.values, C, stats), random];
}

/**
 * Post-hoc analysis of a finished run (cheap: no training): which anomaly types each detector finds
 * at its best no-PA rate; also saves the test labels and intervals beside the runs (for
 * `anomaly-lab score-steps`). Updates results.json and re-renders the docs.

/** The loss and test F1 of every summary step of a run's history. */
export function curveOf(history: HistoryEntry[]): CurvePoint[] {
  return history.map((e) => ({ step: e.step, loss: e.loss, f1: e.test?.without_pa.f1, f1_pa: e.test?.with_pa.f1 }));
}

/**
 * Training-only throughput from onProgress: steps that follow a summary include its test-set
 * estimation, so only plain steps are timed (the same rule as in part (a)); the first `skip` steps
 * (wasm warm-up, kernel compilation) are left out.
 */
export function trainingTimer(summarySteps: number, skip = 3): { onProgress(step: number): void; onSummary(): void; stepsPerS(): number } {
  const t = { seconds: 0, steps: 0, last: Date.now() };
  return {
    onProgress: (step: number) => {
      const now = Date.now();
      if (step % summarySteps !== 0 && step > skip) {
        t.seconds += (now - t.last) / 1000;
        t.steps += 1;
      }
      t.last = now;
    },
    onSummary: () => {
      t.last = Date.now();
    },
    stepsPerS: () => (t.seconds > 0 ? t.steps / t.seconds : NaN),
  };
}
