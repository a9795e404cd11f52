import * as fs from 'fs';
import {
  quantileLinear,
  thresholdAtRate,
  labelIntervals,
  pointAdjust,
  scoreAtRate,
  sweepBestF1,
  sweepRates,
  ewmaSmooth,
  paKCurve,
  prepareMetrics,
  randomScoresBaseline,
  randomScoresBaselineAsync,
  metricRow,
  MetricRow,
  createRng,
} from 'anomaly-lab/core';
import { readNpy, toFloat64 } from 'anomaly-lab/io';
import { describeShared, sharedPath } from '../helpers/shared';

/** Direct, unoptimised reference: sort-based quantile, explicit predictions, explicit PA%K loop. */
function naiveQuantile(values: ArrayLike<number>, q: number): number {
  const s = Array.from(values).sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  const t = pos - lo;
  return t >= 0.5 ? s[hi] - (s[hi] - s[lo]) * (1 - t) : s[lo] + (s[hi] - s[lo]) * t;
}
function naiveRow(scores: ArrayLike<number>, labels: ArrayLike<number>, rate: number, k: number | null): MetricRow {
  const thr = naiveQuantile(scores, 1 - rate);
  const pred = Array.from(scores, (s) => (s > thr ? 1 : 0));
  if (k !== null) {
    let i = 0;
    while (i < labels.length) {
      if (!labels[i]) {
        i++;
        continue;
      }
      let e = i;
      let c = 0;
      while (e < labels.length && labels[e]) c += pred[e++];
      if (c > 0 && c * 100 >= k * (e - i)) for (let j = i; j < e; j++) pred[j] = 1;
      i = e;
    }
  }
  let tp = 0,
    fp = 0,
    fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (pred[i] && labels[i]) tp++;
    else if (pred[i]) fp++;
    else if (labels[i]) fn++;
  }
  return metricRow(rate, tp, fp, fn);
}

/** Labels with random-length intervals, scores noisy and higher inside intervals, many ties. */
function synthetic(n: number, seed: number): { scores: Float64Array; labels: Uint8Array } {
  const rng = createRng(seed);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n;) {
    if (rng.uniform() < 0.01) {
      const len = rng.int(1, 40);
      labels.fill(1, i, Math.min(n, i + len));
      i += len + 1;
    } else i++;
  }
  const scores = Float64Array.from(labels, (l) => Math.round((rng.uniform() * 0.7 + l * rng.uniform() * 0.5) * 200) / 200);
  return { scores, labels };
}

function expectRowClose(actual: MetricRow, expected: Partial<MetricRow>, tol = 1e-9): void {
  for (const key of ['precision', 'recall', 'f1', 'ess_score', 'anomaly_rate'] as const) {
    if (expected[key] === undefined) continue;
    expect(Math.abs(actual[key] - (expected[key] as number))).toBeLessThanOrEqual(tol);
  }
}

interface ExpectedMetrics {
  metrics: Array<MetricRow & { point_adjust: boolean }>;
  best: { without_pa: Partial<MetricRow>; with_pa: Partial<MetricRow> };
}

describeShared('metrics match the reference fixture (anomalybert/expected.json)', () => {
  const expected = JSON.parse(fs.readFileSync(sharedPath('fixtures/anomalybert/expected.json'), 'utf8')) as ExpectedMetrics;
  const scores = toFloat64(readNpy(sharedPath('fixtures/anomalybert/metric_scores.npy')));
  const labels = readNpy(sharedPath('fixtures/anomalybert/metric_labels.npy')).data as Int32Array;

  test.each(expected.metrics.map((r) => [r.anomaly_rate, r.point_adjust, r] as const))('rate %s, point_adjust %s', (rate, pa, row) => {
    expectRowClose(scoreAtRate(scores, labels, rate, { pointAdjust: pa }), row);
  });

  test('best F1 of the sweep without and with PA', () => {
    const ev = prepareMetrics(scores, labels);
    const without = ev.sweep({ pointAdjust: false });
    const withPa = ev.sweep({ pointAdjust: true });
    expectRowClose(without, expected.best.without_pa);
    expectRowClose(withPa, expected.best.with_pa);
    // the convenience function agrees with the prepared evaluator
    expect(sweepBestF1(scores, labels, { pointAdjust: true })).toEqual(withPa);
  });

  test('PA%K: K = 0 is point adjustment, K = 100 is no adjustment, F1 non-increasing in K', () => {
    for (const rate of [0.005, 0.05, 0.2]) {
      const c = paKCurve(scores, labels, rate);
      expect(c.k).toHaveLength(101);
      expect(c.f1[0]).toBeCloseTo(scoreAtRate(scores, labels, rate, { pointAdjust: true }).f1, 12);
      expect(c.f1[100]).toBeCloseTo(scoreAtRate(scores, labels, rate, { pointAdjust: false }).f1, 12);
      for (let j = 1; j < c.f1.length; j++) expect(c.f1[j]).toBeLessThanOrEqual(c.f1[j - 1] + 1e-15);
      for (const k of [10, 37, 50, 90])
        expectRowClose(
          { ...naiveRow(scores, labels, rate, k), anomaly_rate: rate },
          { f1: c.f1[k], precision: c.precision[k], recall: c.recall[k] },
          1e-12,
        );
      expect(c.auc).toBeGreaterThanOrEqual(c.f1[100]);
      expect(c.auc).toBeLessThanOrEqual(c.f1[0]);
    }
  });

  test('PA%K sweep: each K takes its best rate; its ends equal the best PA / no-PA rows', () => {
    const ev = prepareMetrics(scores, labels);
    const c = ev.paKCurveSweep();
    expect(c.f1[0]).toBeCloseTo(ev.sweep({ pointAdjust: true }).f1, 12);
    expect(c.f1[100]).toBeCloseTo(ev.sweep({ pointAdjust: false }).f1, 12);
    expect(c.anomaly_rate[0]).toBeCloseTo(expected.best.with_pa.anomaly_rate as number, 9);
  });
});

describe('metrics agree with a direct reference implementation', () => {
  const { scores, labels } = synthetic(3000, 5);

  test('quantile equals the numpy-linear formula, including exact ends', () => {
    for (const q of [0, 0.001, 0.25, 0.5, 0.9, 0.995, 0.999, 1]) expect(quantileLinear(scores, q)).toBe(naiveQuantile(scores, q));
    expect(quantileLinear([3, 1, 2], 1)).toBe(3);
    expect(quantileLinear([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(thresholdAtRate(scores, 0.1)).toBe(naiveQuantile(scores, 1 - 0.1));
  });

  test('every sweep rate with and without PA and at several K (ties in scores)', () => {
    const ev = prepareMetrics(scores, labels);
    const rates = sweepRates();
    for (let r = 0; r < rates.length; r += 7) {
      expectRowClose(ev.atRate(rates[r], false), naiveRow(scores, labels, rates[r], null), 1e-12);
      expectRowClose(ev.atRate(rates[r], true), naiveRow(scores, labels, rates[r], 0), 1e-12);
      const c = ev.paKCurve(rates[r], [0, 25, 50, 75, 100]);
      [0, 25, 50, 75, 100].forEach((k, j) => expect(c.f1[j]).toBeCloseTo(naiveRow(scores, labels, rates[r], k).f1, 12));
    }
  });

  test('sweep keeps the first strictly higher F1', () => {
    const rates = sweepRates();
    let best = { f1: -1, rate: NaN };
    for (const rate of rates) {
      const f1 = naiveRow(scores, labels, rate, 0).f1;
      if (f1 > best.f1) best = { f1, rate };
    }
    const row = sweepBestF1(scores, labels, { pointAdjust: true });
    expect(row.f1).toBeCloseTo(best.f1, 12);
    expect(row.anomaly_rate).toBeCloseTo(best.rate, 12);
  });

  test('sweep rates reproduce numpy arange(0.001, 0.301, 0.001)', () => {
    const r = sweepRates();
    expect(r.length).toBe(300);
    expect(r[0]).toBe(0.001);
    // numpy gives 0.022000000000000002 at index 21 (start + 21·delta) and exactly 0.3 at the end
    expect(r[21]).toBe(0.001 + 21 * 0.001);
    expect(r[299]).toBeCloseTo(0.3, 15);
  });
});

describe('point adjustment and intervals', () => {
  test('labelIntervals gives half-open runs, including at both ends', () => {
    expect(labelIntervals([1, 1, 0, 0, 1, 0, 1, 1])).toEqual([
      [0, 2],
      [4, 5],
      [6, 8],
    ]);
    expect(labelIntervals([0, 0])).toEqual([]);
  });

  test('pointAdjust fills whole detected intervals only', () => {
    const labels = [0, 1, 1, 1, 0, 1, 1, 0];
    const pred = [1, 0, 1, 0, 0, 0, 0, 0];
    expect(Array.from(pointAdjust(pred, labels))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(() => pointAdjust([1], [0, 1])).toThrow(/differ in length/);
  });

  test('division by zero gives 0 (no predictions, no labels)', () => {
    const none = scoreAtRate([0.1, 0.2, 0.3], [0, 0, 0], 0.5);
    expect(none.recall).toBe(0);
    expect(none.f1).toBe(0);
    const noPred = scoreAtRate([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 0], 0.5); // all tied → nothing > threshold
    expect(noPred).toEqual({ anomaly_rate: 0.5, precision: 0, recall: 0, f1: 0, ess_score: 0 });
  });

  test('bad input errors', () => {
    expect(() => scoreAtRate([0.1, 0.2], [0, 1, 0], 0.1)).toThrow(/scores \(2\) and labels \(3\) differ in length/);
    expect(() => scoreAtRate([0.1, 0.2], [0, 2], 0.1)).toThrow(/labels must be 0\/1, found 2 at index 1/);
    expect(() => scoreAtRate([0.1, NaN], [0, 1], 0.1)).toThrow(/non-finite value \(NaN\) at index 1/);
    expect(() => scoreAtRate([0.1, 0.2], [0, 1], 1.5)).toThrow(/anomaly_rate must be in \[0, 1\]/);
    expect(() => paKCurve([0.1, 0.2], [0, 1], 0.1, [50, 10])).toThrow(/strictly increasing/);
    expect(() => paKCurve([0.1, 0.2], [0, 1], 0.1, [0, 120])).toThrow(/within 0…100/);
  });
});

describe('ewmaSmooth', () => {
  test('float64 equals the reference loop exactly', () => {
    const x = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i / 7) + (i % 13) / 10);
    for (const w of [0.9, 0.5, 0.99]) {
      const ref = Float64Array.from(x);
      for (let i = 1; i < ref.length; i++) ref[i] = ref[i - 1] * w + ref[i] * (1 - w);
      expect(Array.from(ewmaSmooth(x, w))).toEqual(Array.from(ref));
    }
  });

  test('float32 follows float32 arithmetic and stays within 1e-6 of float64', () => {
    const x = Float32Array.from({ length: 500 }, (_, i) => Math.abs(Math.sin(i / 7)));
    const y = ewmaSmooth(x);
    expect(y).toBeInstanceOf(Float32Array);
    expect(y[0]).toBe(x[0]);
    const f = Math.fround;
    expect(y[1]).toBe(f(f(y[0] * f(0.9)) + f(x[1] * f(1 - 0.9))));
    const ref = ewmaSmooth(Float64Array.from(x), 0.9);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]));
    expect(worst).toBeLessThan(1e-6);
    expect(() => ewmaSmooth(x, 1.5)).toThrow(/smoothing_weight/);
  });
});

describe('randomScoresBaseline', () => {
  const { labels } = synthetic(5000, 9);
  test('seeded and reproducible; PA inflates random scores', () => {
    const a = randomScoresBaseline(labels, 0.05, { seed: 3 });
    expect(randomScoresBaseline(labels, 0.05, { seed: 3 })).toEqual(a);
    expect(randomScoresBaseline(labels, 0.05, { seed: 4 })).not.toEqual(a);
    const noPa = randomScoresBaseline(labels, 0.05, { seed: 3, pointAdjust: false });
    expect(a.recall).toBeGreaterThan(noPa.recall);
    // without PA random precision ≈ the label prevalence
    const prevalence = labels.reduce((s, v) => s + v, 0) / labels.length;
    expect(Math.abs(noPa.precision - prevalence)).toBeLessThan(0.05);
  });

  test('sweep variant and averaged trials', () => {
    const best = randomScoresBaseline(labels, null, { seed: 1 });
    expect(best.anomaly_rate).toBeGreaterThan(0);
    const avg = randomScoresBaseline(labels, 0.05, { seed: 1, trials: 4 });
    expect(avg.f1).toBeGreaterThan(0);
    expect(() => randomScoresBaseline(labels, 0.05, { trials: 0 })).toThrow(/trials/);
  });

  test('async: same numbers as the sync one; stopped early, it still draws once (never a zero baseline)', async () => {
    const full = await randomScoresBaselineAsync(labels, 0.05, { seed: 2, trials: 3, pointAdjust: true });
    expect(full).toEqual({ row: randomScoresBaseline(labels, 0.05, { seed: 2, trials: 3, pointAdjust: true }), trials: 3 });
    // Ctrl-C before the first draw: one draw, equal to a 1-trial baseline with the same seed.
    const stopped = await randomScoresBaselineAsync(labels, 0.05, { seed: 2, trials: 50, pointAdjust: true, shouldStop: () => true });
    expect(stopped.trials).toBe(1);
    expect(stopped.row).toEqual(randomScoresBaseline(labels, 0.05, { seed: 2, trials: 1, pointAdjust: true }));
    expect(stopped.row.f1).toBeGreaterThan(0);
  });
});
