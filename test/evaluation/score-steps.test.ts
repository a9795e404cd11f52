/**
 * Step scoring (kernel-lib/src/evaluation/score-steps.ts) on run directories built here with real
 * .npy files: checked against the reference fixture (../shared/fixtures/anomalybert metric_* and
 * expected.json) and against a transcription of the seed's `_score` function.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FieldError, createRng } from 'anomaly-lab/core';
import { checkScoreStepsOptions, listStepScoreFiles, readLabels, scoreSteps } from 'anomaly-lab/evaluation';
import { readNpy, toFloat64, writeNpy } from 'anomaly-lab/io';
import { describeShared, sharedPath } from '../helpers/shared';

function tmpRun(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-steps-'));
  fs.mkdirSync(path.join(dir, 'state'));
  return dir;
}

/**
 * The seed's `_score(gt, pr, anomaly_rate, adjust=True)` transcribed line by line (numpy quantile
 * with linear interpolation, strict >, point adjustment over label intervals, (P + R) / 2).
 */
function seedScore(gt: ArrayLike<number>, pr: ArrayLike<number>, rate: number): number {
  const n = gt.length;
  const sorted = Float64Array.from(pr as ArrayLike<number>).sort();
  const pos = (1 - rate) * (n - 1);
  const lo = Math.floor(pos);
  const q = lo + 1 < n ? sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - lo) : sorted[lo];
  const pa = Array.from(pr as ArrayLike<number>, (v) => (v > q ? 1 : 0));
  let i = 0;
  while (i < n) {
    if (gt[i] === 1) {
      let e = i;
      while (e < n && gt[e] === 1) e++;
      let any = false;
      for (let k = i; k < e; k++) if (pa[k]) any = true;
      if (any) for (let k = i; k < e; k++) pa[k] = 1;
      i = e;
    } else i++;
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let k = 0; k < n; k++) {
    if (gt[k] && pa[k]) tp++;
    else if (!gt[k] && pa[k]) fp++;
    else if (gt[k] && !pa[k]) fn++;
  }
  return (tp / (tp + fp) + tp / (tp + fn)) / 2;
}

describeShared('scoreSteps against the reference metrics fixture', () => {
  const fixture = JSON.parse(fs.readFileSync(sharedPath('fixtures/anomalybert/expected.json'), 'utf8')) as {
    metrics: Array<{ anomaly_rate: number; point_adjust: boolean; precision: number; recall: number; f1: number; ess_score: number }>;
    best: { without_pa: { f1: number } };
  };
  const scores = toFloat64(readNpy(sharedPath('fixtures/anomalybert/metric_scores.npy')));
  const labelsFile = sharedPath('fixtures/anomalybert/metric_labels.npy');
  const labels = readLabels(labelsFile);

  test('per-step PA ESS score, F1 with/without PA and best F1 match the reference; first step above target', () => {
    const run = tmpRun();
    // Step 0: inverted scores (a bad detector); steps 500 and 1000: the fixture's scores.
    const inverted = scores.map((v) => -v);
    writeNpy(path.join(run, 'state', 'step_0_scores.npy'), Float32Array.from(inverted), [scores.length, 1]);
    writeNpy(path.join(run, 'state', 'step_500_scores.npy'), scores, [scores.length, 1]);
    writeNpy(path.join(run, 'state', 'step_1000_scores.npy'), scores, [scores.length]);
    for (const rate of [0.01, 0.05]) {
      const report = scoreSteps(run, labelsFile, { anomalyRate: rate, target: 0.9 });
      expect(report.steps.map((s) => s.step)).toEqual([0, 500, 1000]);
      const pa = fixture.metrics.find((m) => m.anomaly_rate === rate && m.point_adjust)!;
      const raw = fixture.metrics.find((m) => m.anomaly_rate === rate && !m.point_adjust)!;
      for (const s of report.steps.slice(1)) {
        expect(s.ess_score_pa).toBeCloseTo(pa.ess_score, 10);
        expect(s.with_pa.f1).toBeCloseTo(pa.f1, 10);
        expect(s.without_pa.f1).toBeCloseTo(raw.f1, 10);
        expect(s.without_pa.precision).toBeCloseTo(raw.precision, 10);
        expect(s.best_without_pa.f1).toBeCloseTo(fixture.best.without_pa.f1, 10);
        expect(s.pa_k.k.length).toBe(101);
        expect(s.pa_k.f1[0]).toBeCloseTo(s.with_pa.f1, 10); // K = 0 is plain point adjustment
        expect(s.pa_k.auc).toBeGreaterThan(0);
        expect(s.pa_k.auc).toBeLessThanOrEqual(s.with_pa.f1 + 1e-12);
      }
      expect(report.steps[0].ess_score_pa).toBeCloseTo(seedScore(labels, inverted, rate), 12);
      expect(report.first_step_reaching_target).toBe(pa.ess_score > 0.9 ? 500 : null);
      expect(report.random_with_pa.f1).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('scoreSteps on a generated run', () => {
  const n = 4000;
  const labels = new Uint8Array(n);
  for (const [s, e] of [
    [300, 420],
    [1500, 1530],
    [2600, 2900],
    [3500, 3505],
  ])
    labels.fill(1, s, e);

  /** Scores that separate anomalies better as training advances (quality in [0, 1]). */
  function stepScores(quality: number, seed: number): Float32Array {
    const rng = createRng(seed);
    return Float32Array.from(labels, (l) => rng.uniform() * (1 - quality) + l * quality);
  }

  test('matches the seed formula at every step, reports the first step strictly above target, and the random PA baseline', () => {
    const run = tmpRun();
    const labelsFile = path.join(run, 'test_label.npy');
    writeNpy(labelsFile, labels, [n]);
    const qualities = [0, 0.2, 0.6, 0.9];
    const written = qualities.map((q, i) => stepScores(q, i + 1));
    written.forEach((sc, i) => writeNpy(path.join(run, 'state', `step_${i * 100}_scores.npy`), sc, [n, 1]));
    // A seed-style name is picked up too.
    writeNpy(path.join(run, 'state', 'state_dict_step_400_results.npy'), written[3], [n, 1]);
    const report = scoreSteps(run, labelsFile, { anomalyRate: 0.05, target: 0.9 });
    expect(report.steps.map((s) => s.step)).toEqual([0, 100, 200, 300, 400]);
    report.steps.forEach((s, i) => expect(s.ess_score_pa).toBeCloseTo(seedScore(labels, written[Math.min(i, 3)], 0.05), 12));
    const firstAbove = report.steps.find((s) => s.ess_score_pa > 0.9);
    expect(report.first_step_reaching_target).toBe(firstAbove ? firstAbove.step : null);
    expect(report.first_step_reaching_target).not.toBeNull();
    expect(report.steps[0].reaches_target).toBe(false);
    // Long intervals: random scores with PA look deceptively good, which is why they are reported.
    expect(report.random_with_pa.recall).toBeGreaterThan(0.5);
    expect(report.label_rate).toBeCloseTo(labels.reduce((a, b) => a + b, 0) / n, 12);
    // Exactly at the target is not "reaching" it (the seed tests `> 0.90`).
    const exact = scoreSteps(run, labelsFile, { anomalyRate: 0.05, target: report.steps[4].ess_score_pa });
    expect(exact.steps[4].reaches_target).toBe(false);
    expect(listStepScoreFiles(run).map((f) => path.basename(f.file))).toContain('state_dict_step_400_results.npy');
  });

  test('errors name the run directory or file', () => {
    const run = tmpRun();
    expect(() => scoreSteps(path.join(run, 'nope'), labels)).toThrow(/nope.*does not exist/);
    expect(() => scoreSteps(run, labels)).toThrow(/step_<i>_scores\.npy/);
    const short = path.join(run, 'state', 'step_7_scores.npy');
    writeNpy(short, new Float32Array(10), [10, 1]);
    expect(() => scoreSteps(run, labels)).toThrow(/step_7_scores\.npy: 10 scores/);
    fs.rmSync(short);
    writeNpy(path.join(run, 'state', 'step_8_scores.npy'), new Float32Array(n * 2), [n, 2]);
    expect(() => scoreSteps(run, labels)).toThrow(/step_8_scores\.npy.*shape/);
    writeNpy(path.join(run, 'state', 'step_8_scores.npy'), new Float32Array(n), [n, 1]);
    const badLabels = path.join(run, 'bad_labels.npy');
    writeNpy(badLabels, Float32Array.from([0, 1, 2]), [3]);
    expect(() => readLabels(badLabels)).toThrow(/bad_labels\.npy.*found 2 at row 2/);
    expect(() => scoreSteps(run, labels, { anomalyRate: 1.5 })).toThrow(/anomaly_rate/);
    // the option check alone (what the CLI runs on its flags first): one FieldError naming the field
    let err: unknown;
    try {
      checkScoreStepsOptions({ target: -0.5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FieldError);
    expect((err as FieldError).fields).toEqual(['target']);
    expect((err as FieldError).messageWith((f) => `--${f}`)).toBe('option --target must be in [0, 1], got -0.5');
    expect(() => scoreSteps(run, new Uint8Array(n))).toThrow(/no anomalies/);
  });
});
