/**
 * Re-thresholding in the browser code reproduces the reference pipelines: the power seed's
 * threshold, anomalous window count and merged intervals (fixtures/power-system), and the
 * AnomalyBERT metrics at fixed rates (fixtures/anomalybert/expected.json). Plus downsampling and
 * exports.
 */
import * as fs from 'fs';
import {
  BundleDetector,
  anomaliesCsv,
  buildViewerBundle,
  decodeViewerBundle,
  flaggedPoints,
  initialDetectionSettings,
  markdownReport,
  minMaxDownsample,
  parseViewerBundle,
  scoreAtRate,
  summarizeDetection,
  viewerBundleToJSON,
  createRng,
} from 'anomaly-lab/core';
import { describeShared, sharedPath } from '../helpers/shared';
import { anomalyBertBundleFromFixture, anomalyBertFixture, loadPowerFixture, powerBundleFromFixture } from './bundles';

describeShared('power-system bundle re-thresholded in the browser code', () => {
  const f = loadPowerFixture();
  const decoded = decodeViewerBundle(parseViewerBundle(viewerBundleToJSON(powerBundleFromFixture(f))));
  const det = new BundleDetector(decoded);

  test('initial settings reproduce the reference threshold, window count and merged intervals', () => {
    const r = det.run(initialDetectionSettings(decoded));
    expect(r.threshold).toBeCloseTo(f.expected.threshold, 6);
    expect(r.anomalousCount).toBe(f.expected.n_anomalous_windows);
    expect(r.intervals.length).toBe(f.expected.merged_intervals.length);
    r.intervals.forEach((iv, i) => {
      expect(iv.start).toBeCloseTo(f.expected.merged_intervals[i][0], 9);
      expect(iv.end).toBeCloseTo(f.expected.merged_intervals[i][1], 9);
      expect(iv.fault).toBe(f.expected.predictions[i].predicted_fault);
      expect(iv.classifiedBy).toBe('exact');
    });
    const csv = anomaliesCsv(decoded.bundle, r).trim().split('\n');
    expect(csv[0].split(',').slice(0, 8)).toEqual([
      'start_time',
      'end_time',
      'duration_s',
      'start_index',
      'end_index',
      'peak_score',
      'predicted_fault',
      'confidence',
    ]);
    expect(csv.length).toBe(1 + f.expected.merged_intervals.length);
    expect(csv[1].split(',')[6]).toBe(f.expected.predictions[0].predicted_fault);
    const md = markdownReport(decoded.bundle, r, summarizeDetection(r));
    expect(md).toContain(`total anomalies (intervals): ${f.expected.merged_intervals.length}`);
  });

  test('a smaller merge gap splits intervals; a lower percentile finds more windows', () => {
    const base = initialDetectionSettings(decoded);
    const split = det.run({ ...base, maxGapSamples: 0 });
    expect(split.intervals.length).toBeGreaterThan(f.expected.merged_intervals.length);
    const lower = det.run({ ...base, percentile: 90 });
    expect(lower.anomalousCount).toBeGreaterThan(f.expected.n_anomalous_windows);
    // classes come from the kernel's intervals: overlapping ones are marked as such
    expect(split.intervals.every((iv) => iv.classifiedBy === 'overlap' || iv.classifiedBy === undefined)).toBe(true);
  });
});

describeShared('AnomalyBERT bundle re-thresholded in the browser code', () => {
  const expected = JSON.parse(fs.readFileSync(sharedPath('fixtures/anomalybert/expected.json'), 'utf8'));
  const { scores, labels } = anomalyBertFixture();
  const decoded = decodeViewerBundle(parseViewerBundle(viewerBundleToJSON(anomalyBertBundleFromFixture())));
  const det = new BundleDetector(decoded);

  test('metrics at each reference rate match the Python fixture, with and without PA', () => {
    for (const row of expected.metrics as Array<{
      anomaly_rate: number;
      point_adjust: boolean;
      precision: number;
      recall: number;
      f1: number;
      ess_score: number;
    }>) {
      const r = det.run({ ...initialDetectionSettings(decoded), rate: row.anomaly_rate });
      const m = row.point_adjust ? r.metrics!.with_pa : r.metrics!.without_pa;
      expect(m.precision).toBeCloseTo(row.precision, 9);
      expect(m.recall).toBeCloseTo(row.recall, 9);
      expect(m.f1).toBeCloseTo(row.f1, 9);
      expect(m.ess_score).toBeCloseTo(row.ess_score, 9);
    }
  });

  test('EWMA changes the scores the metrics see, exactly as scoreAtRate on smoothed scores', () => {
    const s = { ...initialDetectionSettings(decoded), rate: 0.05, ewma: 0.5 };
    const r = det.run(s);
    const again = scoreAtRate(r.scores, labels, 0.05, { pointAdjust: true });
    expect(r.metrics!.with_pa).toEqual(again);
    expect(r.scores).not.toEqual(scores);
  });

  test('intervals are runs of flagged points; labelled intervals come from the labels', () => {
    const r = det.run({ ...initialDetectionSettings(decoded), rate: 0.01, pointAdjust: false });
    let runs = 0;
    for (let i = 0; i < r.flags.length; i++) if (r.flags[i] && (i === 0 || !r.flags[i - 1])) runs++;
    expect(r.intervals.length).toBe(runs);
    let labelRuns = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] && (i === 0 || !labels[i - 1])) labelRuns++;
    expect(r.labelled.length).toBe(labelRuns);
  });
});

describe('bad control values are refused with the control named', () => {
  const b = buildViewerBundle({ title: 't', scores: { values: [0.1, 0.5, 0.9, 0.2] } });
  const det = new BundleDetector(decodeViewerBundle(b));
  const s = initialDetectionSettings(det.decoded);
  test.each([
    [{ rate: 1.5 }, /anomaly rate must be in \[0, 1\], got 1.5/],
    [{ ewma: 1 }, /EWMA weight must be in \[0, 1\), got 1/],
    [{ maxGapSamples: -3 }, /max merge gap must be ≥ 0 samples, got -3/],
  ])('%o', (patch, re) => {
    expect(() => det.run({ ...s, ...patch })).toThrow(re);
  });
});

describe('min/max downsampling', () => {
  test('keeps every bucket extreme of a 1,000,000-point series, in time order', () => {
    const n = 1_000_000;
    const rng = createRng(3);
    const x = new Float64Array(n);
    const v = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      x[i] = i;
      v[i * 2] = rng.normal();
      v[i * 2 + 1] = i;
    }
    v[123457 * 2] = 50; // a one-sample spike must survive
    const d = minMaxDownsample(x, v, 2, 0, 0, n, 1000);
    expect(d.exact).toBe(false);
    expect(d.x.length).toBeLessThanOrEqual(2000);
    expect(Array.from(d.y)).toContain(50);
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]).toBeGreaterThan(d.x[i - 1]);
    // a zoomed range small enough is returned exactly
    const z = minMaxDownsample(x, v, 2, 1, 500, 1500, 1000);
    expect(z.exact).toBe(true);
    expect(Array.from(z.y)).toEqual(Array.from({ length: 1000 }, (_, i) => 500 + i));
  });

  test('flagged points are capped by keeping the highest per bucket', () => {
    const scores = Float32Array.from({ length: 100 }, (_, i) => i % 10);
    const flags = Uint8Array.from(scores, (s) => (s >= 5 ? 1 : 0));
    const x = Float64Array.from({ length: 100 }, (_, i) => i);
    expect(flaggedPoints(x, scores, flags, 0, 100, 1000).x.length).toBe(50);
    const capped = flaggedPoints(x, scores, flags, 0, 100, 10);
    expect(capped.x.length).toBe(10);
    expect(Array.from(capped.y).every((y) => y === 9)).toBe(true);
  });
});

describe('point-aligned intervals', () => {
  test('a run of k points lasts k sample times; runs merge when the gap is at most the merge gap', () => {
    // flagged points (score 1) at 10, 11, 12 and 15 on a 0.5 s axis
    const scores = new Float32Array(40).fill(0);
    for (const i of [10, 11, 12, 15]) scores[i] = 1;
    const b = buildViewerBundle({
      title: 't',
      series: { columns: ['a'], values: new Float32Array(40) },
      axis: { unit: 'seconds', start: 100, step: 0.5 },
      scores: { values: scores },
      threshold: { rate: 0.1, pointAdjust: false },
    });
    const det = new BundleDetector(decodeViewerBundle(b));
    const base = initialDetectionSettings(det.decoded);
    const apart = det.run({ ...base, maxGapSamples: 1 });
    expect(apart.intervals.map((r) => [r.start, r.end, r.startIndex, r.endIndex, r.peakScore])).toEqual([
      [105, 106.5, 10, 13, 1],
      [107.5, 108, 15, 16, 1],
    ]);
    // two unflagged points (13, 14) between the runs: merged at gap 2, not at gap 1
    const merged = det.run({ ...base, maxGapSamples: 2 });
    expect(merged.intervals.map((r) => [r.start, r.end, r.startIndex, r.endIndex])).toEqual([[105, 108, 10, 16]]);
  });
});
