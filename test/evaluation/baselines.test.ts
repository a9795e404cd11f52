/**
 * Baseline detectors (kernel-lib/src/evaluation/baselines.ts): definitions checked against a direct
 * float64 computation, and behaviour on a synthetic test set (they must find what they are built for).
 */
import { randomScoresBaseline, sweepBestF1, createRng } from 'anomaly-lab/core';
import { evaluateBaselines, fitBaselineStats, zScoreBaseline, firstDifferenceBaseline, synthesizeTestSet } from 'anomaly-lab/evaluation';
import { loadSeries, MinMaxScaler } from 'anomaly-lab/io';
import { describeShared, sharedPath } from '../helpers/shared';

const C = 3;

/** Noisy 3-column series around different offsets and scales; column 2 is constant (test input). */
function noisySeries(length: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const v = new Float32Array(length * C);
  for (let t = 0; t < length; t++) {
    v[t * C] = 0.4 + 0.1 * Math.sin(t / 40) + rng.normal(0, 0.01);
    v[t * C + 1] = 230 + 5 * Math.sin(t / 90) + rng.normal(0, 0.5);
    v[t * C + 2] = 0.25;
  }
  return v;
}

describe('baselines', () => {
  const train = noisySeries(5000, 1);
  const stats = fitBaselineStats(train, C, ['a', 'volts', 'flat']);

  test('statistics are the per-column mean, population std and first-difference std (constant column -> floor)', () => {
    for (let c = 0; c < 2; c++) {
      let mean = 0;
      for (let t = 0; t < 5000; t++) mean += train[t * C + c];
      mean /= 5000;
      let varSum = 0;
      for (let t = 0; t < 5000; t++) varSum += (train[t * C + c] - mean) ** 2;
      expect(stats.mean[c]).toBeCloseTo(mean, 9);
      expect(stats.std[c]).toBeCloseTo(Math.sqrt(varSum / 5000), 9);
      const d: number[] = [];
      for (let t = 1; t < 5000; t++) d.push(train[t * C + c] - train[(t - 1) * C + c]);
      const dm = d.reduce((s, x) => s + x, 0) / d.length;
      expect(stats.diffStd[c]).toBeCloseTo(Math.sqrt(d.reduce((s, x) => s + (x - dm) ** 2, 0) / d.length), 9);
    }
    expect(stats.std[2]).toBe(1e-6);
    expect(stats.diffStd[2]).toBe(1e-6);
  });

  test('z-score combines |z| by max (default) or L2; first difference scores row 0 as 0', () => {
    const test = noisySeries(300, 2);
    const zMax = zScoreBaseline(test, C, stats);
    const zL2 = zScoreBaseline(test, C, stats, { combine: 'l2' });
    const dMax = firstDifferenceBaseline(test, C, stats);
    expect(zMax.length).toBe(300);
    expect(dMax[0]).toBe(0);
    for (const t of [0, 17, 299]) {
      const z = [0, 1, 2].map((c) => Math.abs((test[t * C + c] - stats.mean[c]) / stats.std[c]));
      expect(zMax[t]).toBeCloseTo(Math.max(...z), 4);
      expect(zL2[t]).toBeCloseTo(Math.hypot(...z), 4);
    }
    for (const t of [1, 150, 299]) {
      const d = [0, 1, 2].map((c) => Math.abs(test[t * C + c] - test[(t - 1) * C + c]) / stats.diffStd[c]);
      expect(dMax[t]).toBeCloseTo(Math.max(...d), 4);
    }
  });

  test('both baselines find peak anomalies far better than random scores', () => {
    // Work in [0, 1] as the synthesis expects: min-max the noisy series per column.
    const n = 20000;
    const raw = noisySeries(n, 3);
    const unit = new Float32Array(raw.length);
    for (let c = 0; c < C; c++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let t = 0; t < n; t++) {
        lo = Math.min(lo, raw[t * C + c]);
        hi = Math.max(hi, raw[t * C + c]);
      }
      for (let t = 0; t < n; t++) unit[t * C + c] = hi > lo ? (raw[t * C + c] - lo) / (hi - lo) : 0.5;
    }
    const series = { source: 'noisy', columns: ['a', 'volts', 'flat'], length: n, values: unit };
    const fitted = fitBaselineStats(unit, C);
    const peaks = synthesizeTestSet(series, { seed: 4, anomalies: 10, types: ['peak_noise'] });
    const chance = randomScoresBaseline(peaks.labels, null, { seed: 1, pointAdjust: false }).f1;
    // A peak also makes the step back down large, so precision is at most ½ at full recall.
    const diffF1 = sweepBestF1(firstDifferenceBaseline(peaks.values, C, fitted), peaks.labels).f1;
    const zF1 = sweepBestF1(zScoreBaseline(peaks.values, C, fitted), peaks.labels).f1;
    expect(diffF1).toBeGreaterThan(0.5);
    expect(diffF1).toBeGreaterThan(20 * chance);
    expect(zF1).toBeGreaterThan(5 * chance);
  });

  test('bad input is named', () => {
    expect(() => fitBaselineStats(new Float32Array(7), 3)).toThrow(/rows of 3 columns/);
    expect(() => fitBaselineStats(new Float32Array(3), 3)).toThrow(/at least 2 rows/);
    expect(() => zScoreBaseline(new Float32Array(8), 2, stats)).toThrow(/fitted on 3 columns.*2/);
    expect(() => firstDifferenceBaseline(new Float32Array(9), 3, stats, { combine: 'mean' as never })).toThrow(/combine/);
  });
});

describeShared('baselines on real ESS data (panli-clean)', () => {
  test('evaluateBaselines: train day -> synthetic test day, beside random scores', async () => {
    const columns = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];
    const train = await loadSeries(sharedPath('data/ess/panli-clean/20220412.parquet'), { columns });
    const day = await loadSeries(sharedPath('data/ess/panli-clean/20220826.parquet'), { columns });
    const scaler = MinMaxScaler.fit(day);
    const test = synthesizeTestSet({ ...day, values: scaler.transform(day.values, 5, { clip: true }) }, { seed: 2, anomalies: 6 });
    // Back to the data's own units so the training statistics apply, as `anomaly-lab synth` writes it.
    const testValues = scaler.inverseTransform(test.values, 5);
    const report = evaluateBaselines(train.values, testValues, 5, test.labels, { randomTrials: 2 });
    for (const b of [report.z_score, report.first_difference]) {
      expect(b.best_without_pa.f1).toBeGreaterThan(0);
      expect(b.best_with_pa.f1).toBeGreaterThanOrEqual(b.best_without_pa.f1 - 1e-12);
      expect(b.pa_k_auc).toBeGreaterThanOrEqual(0);
      expect(b.pa_k_auc).toBeLessThanOrEqual(1);
    }
    // The peaks alone make first differences beat chance without point adjustment.
    expect(report.first_difference.best_without_pa.f1).toBeGreaterThan(report.random_without_pa.f1);
    expect(report.random_with_pa.f1).toBeGreaterThan(report.random_without_pa.f1);
  });
});
