/**
 * Step scoring, as the ESS seed's `score(config, adjust=True)` does: for every saved step's test
 * scores, threshold at numpy quantile(scores, 1 − anomaly_rate), point-adjust, ESS score =
 * (precision + recall) / 2, and report the first step whose score exceeds the target. The seed
 * tests `ESS_score > 0.90` (strictly greater); we keep that comparison.
 *
 * Because point adjustment flatters any detector on long intervals, every row also carries the
 * same metrics without point adjustment, the best F1 of the rate sweep with and without it, what
 * uniformly random scores reach with PA on the same labels and rate, and the PA%K curve (K = 0…100)
 * with its area.
 *
 * Score files: `<run>/state/step_<i>_scores.npy` ((length, 1) or (length,) float32), the run
 * directory contract; the seed's `state/state_dict_step_<i>_results.npy` names are accepted too.
 */
import * as fs from 'fs';
import * as path from 'path';
import { prepareMetrics, randomScoresBaseline, type MetricRow } from '../browser/metrics';
import { readNpy, toFloat64 } from '../io/npy';
import { toBinaryLabels } from '../browser/labels';
import { AbortedError, loopAbortPoint } from '../browser/abort';
import { FieldError } from '../browser/errors';

export interface StepScoresFile {
  step: number;
  file: string;
}

export interface StepScoreRow {
  step: number;
  file: string;
  /** the seed's score: ESS score with point adjustment at the anomaly rate */
  ess_score_pa: number;
  reaches_target: boolean;
  /** metrics at the anomaly rate */
  with_pa: MetricRow;
  without_pa: MetricRow;
  /** best F1 over the rate sweep 0.001…0.300 */
  best_with_pa: MetricRow;
  best_without_pa: MetricRow;
  /** random scores on the same labels at the same rate, with PA */
  random_with_pa: MetricRow;
  /** PA%K at the anomaly rate: F1 for K = 0…100 (% of an interval that must be detected) and its area */
  pa_k: { k: number[]; f1: number[]; auc: number };
}

export interface StepScoreReport {
  run: string;
  labels?: string;
  anomaly_rate: number;
  target: number;
  /** first step (ascending) whose ess_score_pa > target, or null */
  first_step_reaching_target: number | null;
  /** fraction of labelled points (for reading the PA figures) */
  label_rate: number;
  random_with_pa: MetricRow;
  steps: StepScoreRow[];
}

export interface ScoreStepsOptions {
  /** anomaly rate of the threshold (default 0.05) */
  anomalyRate?: number;
  /** target ESS score with PA (default 0.9) */
  target?: number;
  /** seed of the random-score baseline (default 0) */
  seed?: number;
  /** number of random draws averaged in the random baseline (default 5) */
  randomTrials?: number;
}

const STEP_PATTERNS = [/^step_(\d+)_scores\.npy$/, /^state_dict_step_(\d+)_results\.npy$/];

/** The step score files of a run directory, ascending by step. */
export function listStepScoreFiles(runDir: string): StepScoresFile[] {
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory()) throw new Error(`run directory ${runDir} does not exist`);
  const stateDir = path.join(runDir, 'state');
  if (!fs.existsSync(stateDir)) throw new Error(`run directory ${runDir} has no state/ folder (no saved steps)`);
  const bySteps = new Map<number, string>();
  for (const name of fs.readdirSync(stateDir)) {
    for (const re of STEP_PATTERNS) {
      const m = re.exec(name);
      if (m && !bySteps.has(Number(m[1]))) bySteps.set(Number(m[1]), path.join(stateDir, name));
    }
  }
  if (bySteps.size === 0)
    throw new Error(`run directory ${runDir} has no state/step_<i>_scores.npy files (was it trained with a test set?)`);
  return [...bySteps.entries()].sort((a, b) => a[0] - b[0]).map(([step, file]) => ({ step, file }));
}

/** Scores of one step as a flat Float64Array (float32 files convert exactly; float64 files keep their precision). */
export function readStepScores(file: string): Float64Array {
  const arr = readNpy(file);
  if (arr.shape.length === 1) return toFloat64(arr);
  if (arr.shape.length === 2 && arr.shape[1] === 1) return toFloat64(arr);
  throw new Error(`${file}: expected scores of shape (length, 1) or (length,), got (${arr.shape.join(', ')})`);
}

/** Labels from a .npy of 0/1 values, shape (length,) or (length, 1). */
export function readLabels(file: string): Uint8Array {
  const arr = readNpy(file);
  if (!(arr.shape.length === 1 || (arr.shape.length === 2 && arr.shape[1] === 1))) {
    throw new Error(`${file}: expected labels of shape (length,) or (length, 1), got (${arr.shape.join(', ')})`);
  }
  return toBinaryLabels(arr.data, { what: file, position: 'row' });
}

/**
 * The options with their defaults, checked: errors are `FieldError`s naming `anomaly_rate` (as
 * the report names it) / `target` (the CLI checks its flags with this before touching any file).
 */
export function checkScoreStepsOptions(o: ScoreStepsOptions): Required<ScoreStepsOptions> {
  const anomalyRate = o.anomalyRate ?? 0.05;
  const target = o.target ?? 0.9;
  if (!(anomalyRate > 0 && anomalyRate < 1))
    throw new FieldError('anomaly_rate', (f) => `option ${f('anomaly_rate')} must be in (0, 1), got ${anomalyRate}`);
  if (!(target >= 0 && target <= 1)) throw new FieldError('target', (f) => `option ${f('target')} must be in [0, 1], got ${target}`);
  return { anomalyRate, target, seed: o.seed ?? 0, randomTrials: o.randomTrials ?? 5 };
}

/** Score one step's scores against labels (pure; used by the run-directory version and notebooks). */
export function scoreOneStep(
  step: number,
  file: string,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  random: MetricRow,
  o: Required<ScoreStepsOptions>,
): StepScoreRow {
  if (scores.length !== labels.length) throw new Error(`${file}: ${scores.length} scores but ${labels.length} labels`);
  const ev = prepareMetrics(scores, labels);
  const withPa = ev.atRate(o.anomalyRate, true);
  const curve = ev.paKCurve(o.anomalyRate);
  return {
    step,
    file,
    ess_score_pa: withPa.ess_score,
    reaches_target: withPa.ess_score > o.target,
    with_pa: withPa,
    without_pa: ev.atRate(o.anomalyRate, false),
    best_with_pa: ev.sweep({ pointAdjust: true }),
    best_without_pa: ev.sweep({ pointAdjust: false }),
    random_with_pa: random,
    pa_k: { k: curve.k, f1: curve.f1, auc: curve.auc },
  };
}

/** Score in-memory step scores (ascending step order is enforced). */
export function scoreStepSeries(
  entries: Array<{ step: number; scores: ArrayLike<number>; file?: string }>,
  labels: ArrayLike<number>,
  options: ScoreStepsOptions = {},
): Omit<StepScoreReport, 'run' | 'labels'> {
  const o = checkScoreStepsOptions(options);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] ? 1 : 0;
  if (positives === 0) throw new Error('labels contain no anomalies: step scores would be meaningless');
  const random = randomScoresBaseline(labels, o.anomalyRate, { seed: o.seed, pointAdjust: true, trials: o.randomTrials });
  const sorted = [...entries].sort((a, b) => a.step - b.step);
  const steps = sorted.map((e) => scoreOneStep(e.step, e.file ?? `step ${e.step}`, e.scores, labels, random, o));
  return seriesReport(o, positives / labels.length, random, steps);
}

function seriesReport(
  o: Required<ScoreStepsOptions>,
  labelRate: number,
  random: MetricRow,
  steps: StepScoreRow[],
): Omit<StepScoreReport, 'run' | 'labels'> {
  const first = steps.find((s) => s.reaches_target);
  return {
    anomaly_rate: o.anomalyRate,
    target: o.target,
    first_step_reaching_target: first ? first.step : null,
    label_rate: labelRate,
    random_with_pa: random,
    steps,
  };
}

export interface ScoreStepsAsyncOptions extends ScoreStepsOptions {
  /**
   * Checked between steps: once aborted, throws an AbortedError ('scoreSteps', steps done) whose
   * `partial` is the report of the steps scored so far (complete for those steps).
   */
  signal?: AbortSignal;
  /** Called after each step with steps done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * `scoreSteps` one step at a time, letting the event loop run between steps (a run can hold many
 * saved steps, each a sweep over the test set): stoppable through `signal`, with progress.
 */
export async function scoreStepsAsync(
  runDir: string,
  labels: ArrayLike<number> | string,
  options: ScoreStepsAsyncOptions = {},
): Promise<StepScoreReport> {
  const { signal, onProgress, ...rest } = options;
  const o = checkScoreStepsOptions(rest);
  const labelFile = typeof labels === 'string' ? labels : undefined;
  const labelValues = typeof labels === 'string' ? readLabels(labels) : labels;
  const files = listStepScoreFiles(runDir);
  let positives = 0;
  for (let i = 0; i < labelValues.length; i++) positives += labelValues[i] ? 1 : 0;
  if (positives === 0) throw new Error('labels contain no anomalies: step scores would be meaningless');
  const random = randomScoresBaseline(labelValues, o.anomalyRate, { seed: o.seed, pointAdjust: true, trials: o.randomTrials });
  const report = (steps: StepScoreRow[]): StepScoreReport => ({
    run: runDir,
    labels: labelFile,
    ...seriesReport(o, positives / labelValues.length, random, steps),
  });
  const steps: StepScoreRow[] = [];
  const abortPoint = loopAbortPoint(signal, 'scoreSteps', 0);
  for (const f of files) {
    try {
      await abortPoint();
    } catch {
      throw new AbortedError('scoreSteps', { done: steps.length, total: files.length, unit: 'steps', partial: report(steps) });
    }
    const scores = readStepScores(f.file);
    if (scores.length !== labelValues.length) {
      throw new Error(`${f.file}: ${scores.length} scores but ${labelFile ?? 'the labels'} has ${labelValues.length} rows`);
    }
    steps.push(scoreOneStep(f.step, f.file, scores, labelValues, random, o));
    onProgress?.(steps.length, files.length);
  }
  return report(steps);
}

/** Score every saved step of a run directory against labels (an array or a .npy path). */
export function scoreSteps(runDir: string, labels: ArrayLike<number> | string, options: ScoreStepsOptions = {}): StepScoreReport {
  checkScoreStepsOptions(options); // option errors first, before touching files
  const labelFile = typeof labels === 'string' ? labels : undefined;
  const labelValues = typeof labels === 'string' ? readLabels(labels) : labels;
  const files = listStepScoreFiles(runDir);
  const entries = files.map((f) => {
    const scores = readStepScores(f.file);
    if (scores.length !== labelValues.length) {
      throw new Error(`${f.file}: ${scores.length} scores but ${labelFile ?? 'the labels'} has ${labelValues.length} rows`);
    }
    return { step: f.step, file: f.file, scores };
  });
  return { run: runDir, labels: labelFile, ...scoreStepSeries(entries, labelValues, options) };
}
