/**
 * Two simple detectors a trained AnomalyBERT must beat (issue 3 acceptance), both fitted on the
 * normal training series and applied to a test series with the same columns:
 *
 * - z-score distance: z_c(t) = (x_c(t) − mean_c) / std_c with the training mean and population std
 *   of each column; the point's score combines |z_c| over columns by their maximum (default: an
 *   anomaly in one column out of five should not be diluted by four normal ones) or by the L2 norm
 *   √Σ z_c² (`combine: 'l2'`).
 * - first-difference magnitude: d_c(t) = |x_c(t) − x_c(t−1)| / s_c, with s_c the population std of
 *   the training series' first differences of column c (so a column that normally moves a lot needs
 *   a bigger jump); combined over columns the same way. The first row has no predecessor: score 0.
 *
 * A column that is constant in training (std 0) gets a tiny scale, 1e-6·max(1, |mean|), instead of
 * a division by zero: any change of a column that never moved is as anomalous as it gets.
 * Inputs: row-major (length, C) Float32Array; outputs: Float32Array of length `length`.
 */
import { prepareMetrics, randomScoresBaseline, type MetricRow } from '../browser/metrics';

export type BaselineCombine = 'max' | 'l2';

export interface BaselineStats {
  /** per-column mean of the training values */
  mean: Float64Array;
  /** per-column population std of the training values (floored, see above) */
  std: Float64Array;
  /** per-column population std of the training first differences (floored) */
  diffStd: Float64Array;
  columns?: string[];
}

function checkShape(values: Float32Array, nCols: number, what: string): number {
  if (!Number.isInteger(nCols) || nCols <= 0) throw new Error(`${what}: column count must be a positive integer, got ${nCols}`);
  if (values.length % nCols !== 0) throw new Error(`${what}: ${values.length} values do not split into rows of ${nCols} columns`);
  return values.length / nCols;
}

/** Per-column statistics of a normal (training) series, accumulated in float64. */
export function fitBaselineStats(values: Float32Array, nCols: number, columns?: string[]): BaselineStats {
  const n = checkShape(values, nCols, 'baseline training data');
  if (n < 2) throw new Error(`baseline training data needs at least 2 rows, got ${n}`);
  const mean = new Float64Array(nCols);
  const std = new Float64Array(nCols);
  const diffMean = new Float64Array(nCols);
  const diffStd = new Float64Array(nCols);
  for (let t = 0; t < n; t++) for (let c = 0; c < nCols; c++) mean[c] += values[t * nCols + c];
  for (let t = 1; t < n; t++) for (let c = 0; c < nCols; c++) diffMean[c] += values[t * nCols + c] - values[(t - 1) * nCols + c];
  for (let c = 0; c < nCols; c++) {
    mean[c] /= n;
    diffMean[c] /= n - 1;
  }
  // Two-pass variance: the one-pass formula loses everything on large offsets (e.g. raw volts).
  for (let t = 0; t < n; t++) {
    for (let c = 0; c < nCols; c++) {
      const d = values[t * nCols + c] - mean[c];
      std[c] += d * d;
      if (t > 0) {
        const e = values[t * nCols + c] - values[(t - 1) * nCols + c] - diffMean[c];
        diffStd[c] += e * e;
      }
    }
  }
  for (let c = 0; c < nCols; c++) {
    const floor = 1e-6 * Math.max(1, Math.abs(mean[c]));
    std[c] = Math.max(Math.sqrt(std[c] / n), floor);
    diffStd[c] = Math.max(Math.sqrt(diffStd[c] / (n - 1)), floor);
  }
  return { mean, std, diffStd, columns };
}

function combineInto(out: Float32Array, t: number, acc: number, combine: BaselineCombine): void {
  out[t] = combine === 'max' ? acc : Math.sqrt(acc);
}

function checkCombine(combine: string): BaselineCombine {
  if (combine !== 'max' && combine !== 'l2') throw new Error(`baseline combine must be 'max' or 'l2', got '${combine}'`);
  return combine;
}

function checkStats(stats: BaselineStats, nCols: number): void {
  if (stats.mean.length !== nCols) {
    throw new Error(`baseline statistics were fitted on ${stats.mean.length} columns, the test data has ${nCols}`);
  }
}

/** Per-point z-score distance to the training distribution. */
export function zScoreBaseline(
  values: Float32Array,
  nCols: number,
  stats: BaselineStats,
  opts: { combine?: BaselineCombine } = {},
): Float32Array {
  const n = checkShape(values, nCols, 'z-score baseline input');
  checkStats(stats, nCols);
  const combine = checkCombine(opts.combine ?? 'max');
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    let acc = 0;
    for (let c = 0; c < nCols; c++) {
      const z = Math.abs((values[t * nCols + c] - stats.mean[c]) / stats.std[c]);
      acc = combine === 'max' ? Math.max(acc, z) : acc + z * z;
    }
    combineInto(out, t, acc, combine);
  }
  return out;
}

/** First-difference magnitude |x_t − x_{t−1}| scaled per column by the training difference std. */
export function firstDifferenceBaseline(
  values: Float32Array,
  nCols: number,
  stats: BaselineStats,
  opts: { combine?: BaselineCombine } = {},
): Float32Array {
  const n = checkShape(values, nCols, 'first-difference baseline input');
  checkStats(stats, nCols);
  const combine = checkCombine(opts.combine ?? 'max');
  const out = new Float32Array(n);
  for (let t = 1; t < n; t++) {
    let acc = 0;
    for (let c = 0; c < nCols; c++) {
      const d = Math.abs(values[t * nCols + c] - values[(t - 1) * nCols + c]) / stats.diffStd[c];
      acc = combine === 'max' ? Math.max(acc, d) : acc + d * d;
    }
    combineInto(out, t, acc, combine);
  }
  return out;
}

export interface BaselineEvaluation {
  /** best F1 over the rate sweep without point adjustment (the comparison figure) */
  best_without_pa: MetricRow;
  /** best F1 over the sweep with point adjustment (shown beside the random PA baseline) */
  best_with_pa: MetricRow;
  /** PA%K curve area at the best no-PA rate */
  pa_k_auc: number;
}

export interface BaselineReport {
  z_score: BaselineEvaluation;
  first_difference: BaselineEvaluation;
  /** uniformly random scores on the same labels (best of the sweep, averaged over trials) */
  random_without_pa: MetricRow;
  random_with_pa: MetricRow;
  combine: BaselineCombine;
}

/**
 * Both baselines fitted on `train` and scored on `test` (same columns, same scaling), judged on
 * `labels` as the model is: best F1 of the rate sweep with and without point adjustment, PA%K
 * area, and random scores on the same labels for reference.
 */
export function evaluateBaselines(
  train: Float32Array,
  test: Float32Array,
  nCols: number,
  labels: ArrayLike<number>,
  opts: { combine?: BaselineCombine; seed?: number; randomTrials?: number } = {},
): BaselineReport {
  const combine = checkCombine(opts.combine ?? 'max');
  const stats = fitBaselineStats(train, nCols);
  const judge = (scores: Float32Array): BaselineEvaluation => {
    const ev = prepareMetrics(scores, labels);
    const best = ev.sweep({ pointAdjust: false });
    return { best_without_pa: best, best_with_pa: ev.sweep({ pointAdjust: true }), pa_k_auc: ev.paKCurve(best.anomaly_rate).auc };
  };
  const random = { seed: opts.seed ?? 0, trials: opts.randomTrials ?? 5 };
  return {
    z_score: judge(zScoreBaseline(test, nCols, stats, { combine })),
    first_difference: judge(firstDifferenceBaseline(test, nCols, stats, { combine })),
    random_without_pa: randomScoresBaseline(labels, null, { ...random, pointAdjust: false }),
    random_with_pa: randomScoresBaseline(labels, null, { ...random, pointAdjust: true }),
    combine,
  };
}
