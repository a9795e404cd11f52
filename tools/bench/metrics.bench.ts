/**
 * Metrics on 1,000,000 points: the full 300-rate sweep with and without point adjustment, the
 * PA%K sweep (101 K values × 300 rates), the random baseline, EWMA smoothing — compared with a
 * direct per-rate evaluation (quantile by sorting, explicit predictions and PA), extrapolated
 * from a few rates. Timings are wall-clock medians of 3 runs on a shared machine (pessimistic).
 */
import { prepareMetrics, sweepRates } from 'anomaly-lab';
import { createRng, ewmaSmooth, metricRow, pointAdjust, quantileLinear, randomScoresBaseline } from 'anomaly-lab/core';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeMs(fn: () => void, repeats = 3): number {
  const t: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return Math.round(median(t) * 10) / 10;
}

/** Labels: ~290 intervals of 10–500 points (~7% of the series); scores higher inside them. */
function synthetic(n: number): { scores: Float32Array; labels: Uint8Array; intervals: number } {
  const rng = createRng(2024);
  const labels = new Uint8Array(n);
  let intervals = 0;
  for (let i = 0; i < n;) {
    if (rng.uniform() < 0.0003) {
      const len = rng.int(10, 500);
      labels.fill(1, i, Math.min(n, i + len));
      intervals++;
      i += len + 1;
    } else i++;
  }
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) scores[i] = 0.6 * rng.uniform() + (labels[i] ? 0.5 * rng.uniform() : 0);
  return { scores, labels, intervals };
}

export async function run(): Promise<object> {
  const n = 1_000_000;
  const { scores, labels, intervals } = synthetic(n);
  const rates = sweepRates();
  const mem0 = process.memoryUsage().arrayBuffers;
  let ev = prepareMetrics(scores, labels);
  const preparedBytes = process.memoryUsage().arrayBuffers - mem0; // typed arrays live outside the JS heap

  const prepareMs = timeMs(() => {
    ev = prepareMetrics(scores, labels);
  });
  const sweepNoPaMs = timeMs(() => ev.sweep({ pointAdjust: false }));
  const sweepPaMs = timeMs(() => ev.sweep({ pointAdjust: true }));
  const endToEndMs = timeMs(() => {
    const e = prepareMetrics(scores, labels);
    e.sweep({ pointAdjust: false });
    e.sweep({ pointAdjust: true });
  });
  const paKSweepMs = timeMs(() => ev.paKCurveSweep(), 1);
  const randomBaselineMs = timeMs(() => randomScoresBaseline(labels, null, { seed: 1 }), 1);
  const ewmaMs = timeMs(() => ewmaSmooth(scores, 0.9));

  // direct evaluation of a few rates, extrapolated to the 300-rate sweep
  const sample = [0.001, 0.05, 0.1, 0.2, 0.3];
  const naiveMs = timeMs(() => {
    for (const rate of sample) {
      const thr = quantileLinear(scores, 1 - rate);
      const pred = new Uint8Array(n);
      for (let i = 0; i < n; i++) pred[i] = scores[i] > thr ? 1 : 0;
      const adj = pointAdjust(pred, labels);
      let tp = 0,
        fp = 0,
        fn = 0;
      for (let i = 0; i < n; i++) {
        if (adj[i] && labels[i]) tp++;
        else if (adj[i]) fp++;
        else if (labels[i]) fn++;
      }
      metricRow(rate, tp, fp, fn);
    }
  }, 1);
  const naiveSweepEstimateMs = Math.round((naiveMs / sample.length) * rates.length);

  return {
    points: n,
    label_intervals: intervals,
    rates: rates.length,
    prepare_ms: prepareMs,
    sweep_without_pa_ms: sweepNoPaMs,
    sweep_with_pa_ms: sweepPaMs,
    prepare_plus_both_sweeps_ms: endToEndMs,
    pa_k_sweep_101k_ms: paKSweepMs,
    random_baseline_sweep_ms: randomBaselineMs,
    ewma_ms: ewmaMs,
    direct_per_rate_ms: Math.round(naiveMs / sample.length),
    direct_sweep_estimate_ms: naiveSweepEstimateMs,
    speedup_vs_direct: Math.round(naiveSweepEstimateMs / endToEndMs),
    prepared_typed_arrays_mb: Math.round((preparedBytes / 2 ** 20) * 10) / 10,
    note: 'medians of 3 runs (PA%K, random baseline and direct: 1 run) on a 2-core machine shared with other jobs: pessimistic',
  };
}
