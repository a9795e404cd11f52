/**
 * Threshold mode 'value' (a fixed threshold, `power detect --threshold`): contract, validation,
 * browser detection and the power builder. Expected results are computed directly from the
 * generated scores (flags = score > value) or by the power pipeline's own thresholding code
 * (thresholdWindows + mergeAnomalyIntervals, what the CLI runs) on the reference MSE.
 */
import * as fs from 'fs';
import {
  BundleDetector,
  buildViewerBundle,
  checkDetectionSettings,
  decodeViewerBundle,
  ewmaSmooth,
  initialDetectionSettings,
  labelIntervals,
  markdownReport,
  parseViewerBundle,
  powerViewerBundle,
  summarizeDetection,
  validateViewerBundle,
  viewerBundleToJSON,
  type ViewerBundle,
  createRng,
} from 'anomaly-lab/core';
import { parsePowerCsv, mergeAnomalyIntervals, thresholdWindows } from 'anomaly-lab/power';
import { describeShared, sharedPath } from '../helpers/shared';
import { loadPowerFixture, powerBundleFromFixture } from './bundles';

/** Point scores: noise with a few raised stretches, labels on some of them. */
function generated(n: number, seed: number): { scores: Float32Array; labels: Uint8Array } {
  const rng = createRng(seed);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) scores[i] = rng.uniform() * 0.5;
  for (let k = 0; k < 6; k++) {
    const s = rng.int(0, n - 20);
    const len = rng.int(3, 15);
    for (let i = s; i < s + len; i++) {
      scores[i] += 0.4 + 0.3 * rng.uniform();
      if (k % 2 === 0) labels[i] = 1;
    }
  }
  return { scores, labels };
}

function valueBundle(scores: Float32Array, labels: Uint8Array | undefined, value: number, pointAdjust = false): ViewerBundle {
  return buildViewerBundle({
    title: 'fixed threshold',
    axis: { unit: 'index' },
    scores: { values: scores },
    labels,
    threshold: { mode: 'value', value, pointAdjust, mergeGapSamples: 0 },
  });
}

describe("threshold mode 'value': browser detection", () => {
  const n = 600;
  const { scores, labels } = generated(n, 11);
  // a value between the noise and the raised stretches, taken from the data (not hard-coded)
  const sortedScores = Float64Array.from(scores).sort();
  const value = sortedScores[Math.floor(0.93 * n)];

  test('flags = score > value, rate = flagged fraction, intervals = runs of flags, metrics from counts', () => {
    const decoded = decodeViewerBundle(parseViewerBundle(viewerBundleToJSON(valueBundle(scores, labels, value))));
    const settings = initialDetectionSettings(decoded);
    expect(settings).toMatchObject({ mode: 'value', value, pointAdjust: false, maxGapSamples: 0 });
    const r = new BundleDetector(decoded).run(settings);
    const direct = Uint8Array.from(scores, (s) => (s > value ? 1 : 0));
    const count = direct.reduce((a, b) => a + b, 0);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(n);
    expect(r.threshold).toBe(value);
    expect(Array.from(r.flags)).toEqual(Array.from(direct));
    expect(r.anomalousCount).toBe(count);
    expect(r.rate).toBe(count / n);
    // point scores, no merging: each run [s, e) of flags is one interval [s, e) on the index axis
    expect(r.intervals.map((iv) => [iv.startIndex, iv.endIndex])).toEqual(labelIntervals(direct));
    expect(r.intervals.map((iv) => [iv.start, iv.end])).toEqual(labelIntervals(direct));
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < n; i++) {
      if (direct[i] && labels[i]) tp++;
      else if (direct[i]) fp++;
      else if (labels[i]) fn++;
    }
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    expect(r.metrics!.without_pa.anomaly_rate).toBe(count / n);
    expect(r.metrics!.without_pa.precision).toBeCloseTo(precision, 12);
    expect(r.metrics!.without_pa.recall).toBeCloseTo(recall, 12);
    expect(r.metrics!.without_pa.f1).toBeCloseTo((2 * precision * recall) / (precision + recall), 12);
  });

  test('the same value as a rate gives the same detection (modes are views of one rule)', () => {
    const decoded = decodeViewerBundle(valueBundle(scores, labels, value, true));
    const det = new BundleDetector(decoded);
    const fixed = det.run(initialDetectionSettings(decoded));
    // point adjustment extends flags to whole labelled intervals, the rate stays the raw share
    expect(fixed.rate).toBe(scores.filter((s) => s > value).length / n);
    const byRate = det.run({ ...initialDetectionSettings(decoded), mode: 'rate', rate: fixed.rate });
    expect(Array.from(byRate.flags)).toEqual(Array.from(fixed.flags));
    expect(byRate.metrics).toEqual(fixed.metrics);
    // merge gap and EWMA apply in value mode too
    const merged = det.run({ ...initialDetectionSettings(decoded), maxGapSamples: 50 });
    expect(merged.intervals.length).toBeLessThan(fixed.intervals.length);
    // EWMA: the fixed value applies to the smoothed scores (PA off to compare the raw flags)
    const smoothed = det.run({ ...initialDetectionSettings(decoded), ewma: 0.5, pointAdjust: false });
    expect(smoothed.threshold).toBe(value);
    const smoothedDirect = Array.from(ewmaSmooth(scores, 0.5), (s) => (s > value ? 1 : 0));
    expect(Array.from(smoothed.flags)).toEqual(smoothedDirect);
    expect(smoothed.rate).toBe(smoothedDirect.reduce((a: number, b) => a + b, 0) / n);
  });

  test('a value above every score flags nothing (rate 0); a bad value is refused naming the control', () => {
    const decoded = decodeViewerBundle(valueBundle(scores, undefined, value));
    const det = new BundleDetector(decoded);
    const none = det.run({ ...initialDetectionSettings(decoded), value: sortedScores[n - 1] });
    expect(none.anomalousCount).toBe(0);
    expect(none.rate).toBe(0);
    expect(none.intervals).toEqual([]);
    for (const bad of [NaN, Infinity]) {
      expect(() => checkDetectionSettings({ ...initialDetectionSettings(decoded), value: bad })).toThrow(
        `threshold value must be a finite number, got ${bad}`,
      );
    }
  });

  test('the markdown report names the fixed threshold and its rate', () => {
    const decoded = decodeViewerBundle(valueBundle(scores, labels, value));
    const r = new BundleDetector(decoded).run(initialDetectionSettings(decoded));
    const md = markdownReport(decoded.bundle, r, summarizeDetection(r));
    expect(md).toContain(`- fixed threshold: ${value} (anomaly rate ${(100 * r.rate).toFixed(2)}%)`);
    expect(md).not.toContain('percentile');
  });
});

describe("threshold mode 'value': contract and validation", () => {
  const scores = Float32Array.from({ length: 20 }, (_, i) => (i % 5) / 5);
  const good = (): ViewerBundle => valueBundle(scores, undefined, 0.5);

  test('a bundle with mode value and a finite value is valid', () => {
    expect(validateViewerBundle(JSON.parse(viewerBundleToJSON(good())))).toEqual({ valid: true, errors: [] });
    expect(good().threshold).toEqual({ mode: 'value', value: 0.5, pointAdjust: false, maxGapSamples: 0 });
  });

  test('mode value without a value is refused naming /threshold', () => {
    const b = JSON.parse(viewerBundleToJSON(good()));
    delete b.threshold.value;
    const v = validateViewerBundle(b);
    expect(v.valid).toBe(false);
    expect(v.errors).toContain("/threshold: must have required property 'value'");
    expect(() => buildViewerBundle({ title: 't', scores: { values: scores }, threshold: { mode: 'value' } })).toThrow(
      /\/threshold: must have required property 'value'/,
    );
  });

  test('a non-finite value (possible in a JS object, not in JSON) is refused naming /threshold/value', () => {
    const b = good();
    (b.threshold as { value: number }).value = NaN;
    const v = validateViewerBundle(b);
    expect(v.valid).toBe(false);
    // ajv's number type excludes NaN and ±Infinity; the schema names the field (a missing value: see above)
    expect(v.errors).toContain('/threshold/value: must be number');
    expect(() => buildViewerBundle({ title: 't', scores: { values: scores }, threshold: { mode: 'value', value: Infinity } })).toThrow(
      /threshold\.value: mode 'value' needs a finite number, got Infinity/,
    );
  });

  test('an unknown mode is refused by the schema', () => {
    const b = JSON.parse(viewerBundleToJSON(good()));
    b.threshold.mode = 'fixed';
    const v = validateViewerBundle(b);
    expect(v.valid).toBe(false);
    expect(v.errors.join('; ')).toMatch(/\/threshold\/mode: must be equal to one of the allowed values/);
  });
});

describeShared('power bundle with a fixed threshold opens with the intervals the power pipeline finds', () => {
  const f = loadPowerFixture();
  const e = f.expected;
  // the reference percentile threshold lowered by a fifth: a fixed value the percentile does not give
  const fixed = e.threshold * 0.8;

  function bundle(mode?: 'percentile' | 'value'): ViewerBundle {
    return powerBundleFromFixture(f, { title: 'fixed', threshold: fixed, thresholdMode: mode, intervals: [] });
  }

  test("thresholdMode 'value' → mode value; default stays percentile", () => {
    expect(bundle('value').threshold).toEqual({
      mode: 'value',
      value: fixed,
      pointAdjust: false,
      maxGapSamples: e.params.max_gap_samples,
    });
    expect(bundle().threshold).toMatchObject({ mode: 'percentile', percentile: e.params.percentile, value: fixed });
    expect(() => powerViewerBundle({ ...bundleInput(), threshold: undefined, thresholdMode: 'value' })).toThrow(
      /^threshold: thresholdMode 'value' needs the fixed threshold as a finite number, got undefined/,
    );
  });

  function bundleInput() {
    return {
      time: f.time,
      columns: f.columns,
      values: f.values,
      mse: f.mse,
      sequenceLength: e.params.sequence_length,
      percentile: e.params.percentile,
      maxGapSamples: e.params.max_gap_samples,
      intervals: [],
    };
  }

  test('the viewer detection equals thresholdWindows + mergeAnomalyIntervals with the fixed threshold', () => {
    const data = parsePowerCsv(fs.readFileSync(sharedPath('data/power-system/simData2.csv'), 'utf8'), 'simData2.csv');
    // the CLI's path on the same (float32-stored) MSE values the bundle carries
    const cli = thresholdWindows(data, Float64Array.from(f.mse), e.params.sequence_length, e.params.percentile, fixed);
    const cliMerged = mergeAnomalyIntervals(cli.intervals, e.params.max_gap_samples, data.sampleTime);
    const decoded = decodeViewerBundle(parseViewerBundle(viewerBundleToJSON(bundle('value'))));
    const r = new BundleDetector(decoded).run(initialDetectionSettings(decoded));
    const cliCount = cli.flags.reduce((a, b) => a + b, 0);
    expect(r.threshold).toBe(fixed);
    expect(r.anomalousCount).toBe(cliCount);
    expect(cliCount).toBeGreaterThan(e.n_anomalous_windows); // the lower value flags more than the percentile did
    expect(r.rate).toBe(cliCount / f.mse.length);
    expect(r.intervals.map((iv) => [iv.start, iv.end])).toEqual(cliMerged);
    // the same bundle read as a percentile bundle opens with the reference (percentile) detection instead
    const asPct = decodeViewerBundle(bundle('percentile'));
    expect(new BundleDetector(asPct).run(initialDetectionSettings(asPct)).anomalousCount).toBe(e.n_anomalous_windows);
  });
});
