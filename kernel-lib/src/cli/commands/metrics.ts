/**
 * `anomaly-lab metrics`: judge anomaly scores against labels with the reference metrics.
 *
 *   anomaly-lab metrics --scores s.npy --labels l.npy [--anomaly_rate R] [--smooth_scores
 *     --smoothing_weight W] [--point_adjust_k 0,10,...] [--json] [--out metrics.json]
 *
 * Without --anomaly_rate each part is the best F1 of the sweep min_anomaly_rate…max_anomaly_rate
 * (step 0.001, as the original estimate.py); PA%K then takes, per K, its best rate of the sweep.
 * The random-score baseline (uniform scores, seeded, same labels, with PA) is printed beside the
 * point-adjusted figure because PA alone flatters any detector on long intervals.
 */
import { readNpy, writeFileAtomic, type NdArray } from '../../io/index';
import {
  ewmaSmooth,
  prepareMetrics,
  randomScoresBaseline,
  randomScoresBaselineAsync,
  sweepRates,
  type MetricRow,
  type MetricEvaluator,
  type PaKCurve,
  defineOptions,
  formatFixed,
  formatPercent,
  rateText,
  toBinaryLabels,
} from '../../browser/index';
import { UsageError, parseCommandArgs, stopOnSigint } from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS.metrics;

/** Upper bound of --random_trials: each draw costs one sweep over the data. */
export const MAX_RANDOM_TRIALS = 100000;

const SPECS = defineOptions({
  scores: { kind: 'string', required: true, help: 'anomaly scores .npy, shape (length,) or (length, 1)' },
  labels: { kind: 'string', required: true, help: 'labels .npy of 0/1 (bool, int or float), shape (length,) or (length, 1)' },
  anomaly_rate: {
    kind: 'number',
    help: 'evaluate at this anomaly rate only (threshold = quantile(scores, 1 - rate)); default: best of the sweep',
  },
  min_anomaly_rate: { kind: 'number', default: 0.001, help: 'sweep start' },
  max_anomaly_rate: { kind: 'number', default: 0.3, help: 'sweep end (inclusive, step 0.001)' },
  smooth_scores: { kind: 'boolean', default: false, help: 'smooth the scores with an exponentially weighted moving average first' },
  smoothing_weight: { kind: 'number', default: 0.9, help: 'EWMA weight of the previous smoothed value' },
  point_adjust_k: { kind: 'list', help: 'K values (percent) for PA%K, e.g. 0,10,20,...,100 (default 0…100 step 1)' },
  random_seed: { kind: 'int', default: 0, help: 'seed of the random-score baseline' },
  // Each draw is a full sweep over the data: bounded, with progress and a clean Ctrl-C stop.
  random_trials: {
    kind: 'int',
    default: 1,
    min: 1,
    max: MAX_RANDOM_TRIALS,
    help: 'average the random baseline over this many draws (progress on stderr; Ctrl-C stops early and reports the draws done)',
  },
  json: { kind: 'boolean', default: false, help: 'print one JSON object instead of a table' },
  out: { kind: 'string', output: 'file', help: 'also write the JSON object to this file (atomically)' },
});

/** A (length,) or (length, 1) array as numbers; anything else names the file and option. */
function readColumn(file: string, option: string): NdArray & { length: number } {
  const arr = readNpy(file);
  if (!(arr.shape.length === 1 || (arr.shape.length === 2 && arr.shape[1] === 1))) {
    throw new Error(`--${option} ${file}: expected shape (length,) or (length, 1), got (${arr.shape.join(', ')})`);
  }
  return { ...arr, length: arr.shape[0] };
}

function asNumbers(arr: NdArray): ArrayLike<number> {
  const d = arr.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d, (v) => Number(v));
  return d as ArrayLike<number>;
}

function checkLabels(file: string, labels: ArrayLike<number>): Uint8Array {
  return toBinaryLabels(labels, { field: 'labels', what: file });
}

function checkScores(file: string, scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`--scores ${file}: non-finite score ${scores[i]} at index ${i}`);
  }
}

export interface MetricsReport {
  without_pa: MetricRow;
  with_pa: MetricRow;
  random_with_pa: MetricRow;
  pa_k: PaKCurve;
  unsmoothed?: { without_pa: MetricRow; with_pa: MetricRow };
  input: {
    scores: string;
    labels: string;
    length: number;
    anomalous_points: number;
    intervals: number;
    mode: 'fixed_rate' | 'sweep';
    smoothing_weight: number | null;
    random_seed: number;
    random_trials: number;
  };
}

function evaluate(ev: MetricEvaluator, rate: number | undefined, rates: Float64Array): { without_pa: MetricRow; with_pa: MetricRow } {
  return rate !== undefined
    ? { without_pa: ev.atRate(rate, false), with_pa: ev.atRate(rate, true) }
    : { without_pa: ev.sweep({ pointAdjust: false, rates }), with_pa: ev.sweep({ pointAdjust: true, rates }) };
}

// percentages as every report writes them; NaN (no positives) stays visible in the aligned column
const pct = (x: number): string => formatPercent(x, 2, 'NaN%').padStart(7);

function table(r: MetricsReport): string {
  const row = (name: string, m: MetricRow): string =>
    `${name.padEnd(22)} ${rateText(m.anomaly_rate).padStart(7)}  ${pct(m.precision)}  ${pct(m.recall)}  ${pct(m.f1)}  ${pct(m.ess_score)}`;
  const lines = [
    `${r.input.scores} vs ${r.input.labels}: ${r.input.length} points, ${r.input.anomalous_points} anomalous in ${r.input.intervals} intervals` +
      (r.input.smoothing_weight !== null ? `, scores EWMA-smoothed (weight ${r.input.smoothing_weight})` : ''),
    r.input.mode === 'sweep' ? 'best F1 over the anomaly-rate sweep' : 'at a fixed anomaly rate',
    '',
    `${''.padEnd(22)} ${'rate'.padStart(7)}  ${'prec'.padStart(7)}  ${'recall'.padStart(7)}  ${'F1'.padStart(7)}  ${'ESS'.padStart(7)}`,
    row('without PA', r.without_pa),
    row('with PA', r.with_pa),
    row(`random scores, PA`, r.random_with_pa),
  ];
  if (r.unsmoothed) {
    lines.push(row('unsmoothed, without PA', r.unsmoothed.without_pa), row('unsmoothed, with PA', r.unsmoothed.with_pa));
  }
  const at = (k: number): string => {
    const j = r.pa_k.k.indexOf(k);
    return j < 0 ? '' : ` K=${k}: ${pct(r.pa_k.f1[j]).trim()}`;
  };
  lines.push(
    '',
    `PA%K F1 AUC ${formatFixed(r.pa_k.auc, 4)} (K = ${r.pa_k.k[0]}…${r.pa_k.k[r.pa_k.k.length - 1]});${at(0)}${at(20)}${at(50)}${at(80)}${at(100)}`,
  );
  return lines.join('\n') + '\n';
}

/** Compute the report (exported for tests and notebooks that want the CLI's exact object). */
export function metricsReport(opts: {
  scores: ArrayLike<number>;
  labels: ArrayLike<number>;
  scoresName?: string;
  labelsName?: string;
  anomalyRate?: number;
  minRate?: number;
  maxRate?: number;
  smoothingWeight?: number | null;
  ks?: number[];
  randomSeed?: number;
  randomTrials?: number;
  /** The random baseline computed already (e.g. by the async, interruptible loop), with the draws it used. */
  randomBaseline?: { row: MetricRow; trials: number };
}): MetricsReport {
  const rates = sweepRates(opts.minRate ?? 0.001, opts.maxRate ?? 0.3);
  if (rates.length === 0) throw new UsageError(`--min_anomaly_rate ${opts.minRate} is above --max_anomaly_rate ${opts.maxRate}`);
  const smooth = opts.smoothingWeight ?? null;
  const scores: ArrayLike<number> = smooth !== null ? ewmaSmooth(opts.scores, smooth) : opts.scores;
  const ev = prepareMetrics(scores, opts.labels);
  const rate = opts.anomalyRate;
  const main = evaluate(ev, rate, rates);
  const report: MetricsReport = {
    ...main,
    random_with_pa:
      opts.randomBaseline?.row ??
      randomScoresBaseline(opts.labels, rate ?? null, {
        seed: opts.randomSeed ?? 0,
        pointAdjust: true,
        trials: opts.randomTrials ?? 1,
        rates,
      }),
    pa_k: rate !== undefined ? ev.paKCurve(rate, opts.ks) : ev.paKCurveSweep({ rates, ks: opts.ks }),
    input: {
      scores: opts.scoresName ?? 'scores',
      labels: opts.labelsName ?? 'labels',
      length: ev.length,
      anomalous_points: ev.positives,
      intervals: ev.intervals.length,
      mode: rate !== undefined ? 'fixed_rate' : 'sweep',
      smoothing_weight: smooth,
      random_seed: opts.randomSeed ?? 0,
      random_trials: opts.randomBaseline?.trials ?? opts.randomTrials ?? 1,
    },
  };
  if (smooth !== null) report.unsmoothed = evaluate(prepareMetrics(opts.scores, opts.labels), rate, rates);
  return report;
}

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab metrics --scores s.npy --labels l.npy [--anomaly_rate R] [--json]', summary);
  if (!options) return 0;
  const rate = options.anomaly_rate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new UsageError(`option --anomaly_rate must be in [0, 1], got ${rate}`);
  const minRate = options.min_anomaly_rate;
  const maxRate = options.max_anomaly_rate;
  if (!(minRate > 0 && maxRate <= 1 && minRate <= maxRate)) {
    throw new UsageError(`options --min_anomaly_rate/--max_anomaly_rate must satisfy 0 < min ≤ max ≤ 1, got ${minRate}/${maxRate}`);
  }
  const weight = options.smoothing_weight;
  if (!(weight >= 0 && weight <= 1)) throw new UsageError(`option --smoothing_weight must be in [0, 1], got ${weight}`);
  let ks: number[] | undefined;
  if (options.point_adjust_k !== undefined) {
    ks = options.point_adjust_k.map((s) => {
      const k = Number(s);
      if (!Number.isFinite(k) || k < 0 || k > 100) throw new UsageError(`option --point_adjust_k: '${s}' is not a percentage in 0…100`);
      return k;
    });
    ks = [...new Set(ks)].sort((a, b) => a - b);
  }
  const trials = options.random_trials;

  const scoresFile = options.scores;
  const labelsFile = options.labels;
  const s = readColumn(scoresFile, 'scores');
  const l = readColumn(labelsFile, 'labels');
  if (s.length !== l.length) {
    throw new Error(`length mismatch: --scores ${scoresFile} has ${s.length} points, --labels ${labelsFile} has ${l.length}`);
  }
  const scores = asNumbers(s);
  checkScores(scoresFile, scores);
  const labels = checkLabels(labelsFile, asNumbers(l));

  // The random baseline is the long loop (one sweep per draw): progress on stderr, Ctrl-C stops it.
  const interrupt = stopOnSigint('metrics');
  const tty = process.stderr.isTTY;
  let randomBaseline: { row: MetricRow; trials: number };
  try {
    randomBaseline = await randomScoresBaselineAsync(labels, rate ?? null, {
      seed: options.random_seed,
      pointAdjust: true,
      trials,
      rates: sweepRates(minRate, maxRate),
      shouldStop: interrupt.stopped,
      progressMs: tty ? 500 : 2000,
      onProgress: (done, total) =>
        process.stderr.write(`${tty ? '\r' : ''}metrics: random baseline draw ${done}/${total}${tty ? '' : '\n'}`),
    });
  } finally {
    interrupt.dispose();
  }
  if (tty && trials > 1) process.stderr.write('\n');
  if (randomBaseline.trials < trials)
    process.stderr.write(`metrics: interrupted after ${randomBaseline.trials} of ${trials} random draws; the baseline averages those\n`);
  const report = metricsReport({
    scores,
    labels,
    scoresName: scoresFile,
    labelsName: labelsFile,
    anomalyRate: rate,
    minRate,
    maxRate,
    smoothingWeight: options.smooth_scores ? weight : null,
    ks,
    randomSeed: options.random_seed,
    randomTrials: trials,
    randomBaseline,
  });
  const json = JSON.stringify(report);
  if (options.out) writeFileAtomic(options.out, JSON.stringify(report, null, 1) + '\n');
  process.stdout.write(options.json ? json + '\n' : table(report));
  return randomBaseline.trials < trials ? 130 : 0;
}
