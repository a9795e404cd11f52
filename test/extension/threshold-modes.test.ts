/**
 * The threshold module (kernel-lib/src/browser/viewer/threshold.ts): one home for the modes, the
 * rate ↔ percentile ↔ value conversions, the control's reading and the text descriptions. The
 * schema enum and the widget's options are read from THRESHOLD_MODES.
 */
import {
  BundleDetector,
  THRESHOLD_MODES,
  THRESHOLD_MODE_INFO,
  buildViewerBundle,
  completeThresholdRule,
  decodeViewerBundle,
  describeThreshold,
  initialDetectionSettings,
  percentileFromRate,
  rateFromPercentile,
  ruleRate,
  switchThresholdMode,
  viewerSchemaV1,
  type DetectionSettings,
  createRng,
} from 'anomaly-lab/core';

describe('threshold modes', () => {
  test('the schema enum is the module list', () => {
    const schema = viewerSchemaV1 as unknown as { properties: { threshold: { properties: { mode: { enum: string[] } } } } };
    expect(schema.properties.threshold.properties.mode.enum).toEqual([...THRESHOLD_MODES]);
  });

  test('rate and percentile convert both ways', () => {
    expect(rateFromPercentile(95)).toBeCloseTo(0.05, 12);
    expect(percentileFromRate(0.01)).toBeCloseTo(99, 12);
    expect(rateFromPercentile(percentileFromRate(0.037))).toBeCloseTo(0.037, 12);
    expect(completeThresholdRule({ percentile: 90 }, { rate: 0.01 })).toEqual({
      mode: 'percentile',
      rate: expect.closeTo(0.1, 12),
      percentile: 90,
      value: NaN,
    });
    expect(completeThresholdRule({ rate: 0.02 }, { rate: 0.01, percentile: 95 })).toEqual({
      mode: 'rate',
      rate: 0.02,
      percentile: expect.closeTo(98, 12),
      value: NaN,
    });
    expect(completeThresholdRule(undefined, { rate: 0.01, percentile: 95 })).toMatchObject({ mode: 'rate', rate: 0.01, percentile: 95 });
  });

  test('the control reads typed numbers per mode and names what is wrong', () => {
    expect(THRESHOLD_MODE_INFO.rate.fromControl(2.5)).toEqual({ patch: { mode: 'rate', rate: 0.025 } });
    expect(THRESHOLD_MODE_INFO.rate.fromControl(150)).toEqual({ error: 'anomaly rate: 150% is outside (0, 100)' });
    expect(THRESHOLD_MODE_INFO.percentile.fromControl(0)).toEqual({ error: 'percentile: 0 is outside (0, 100)' });
    expect(THRESHOLD_MODE_INFO.value.fromControl(-3)).toEqual({ patch: { mode: 'value', value: -3 } });
    expect(THRESHOLD_MODE_INFO.value.slider).toBeUndefined();
    const rule = { mode: 'rate' as const, rate: 0.0123, percentile: 98.77, value: NaN };
    expect(THRESHOLD_MODE_INFO.rate.controlValue(rule)).toBe(1.23);
    expect(THRESHOLD_MODE_INFO.percentile.controlValue({ ...rule, mode: 'percentile' })).toBe(98.77);
  });

  test('descriptions: one label per mode, the produced rate beside a fixed value; rates in percent, as the control reads them', () => {
    const rule = { rate: 0.05, percentile: 95, value: 0.25 };
    expect(describeThreshold({ ...rule, mode: 'rate' })).toEqual({ label: 'anomaly rate', text: '5.00%' });
    expect(describeThreshold({ ...rule, mode: 'percentile' })).toEqual({ label: 'threshold percentile', text: '95' });
    expect(describeThreshold({ ...rule, mode: 'value' }, { resultRate: 0.0123456789 })).toEqual({
      label: 'fixed threshold',
      text: '0.25 (anomaly rate 1.23%)',
    });
  });

  test('switching modes keeps the threshold in effect (same flags before and after)', () => {
    const rng = createRng(5);
    const n = 2000;
    const scores = Float32Array.from({ length: n }, () => rng.uniform());
    const decoded = decodeViewerBundle(
      buildViewerBundle({ kind: 'generic', title: 't', scores: { values: scores }, threshold: { rate: 0.04 } }),
    );
    const det = new BundleDetector(decoded);
    let settings: DetectionSettings = initialDetectionSettings(decoded);
    let last = det.run(settings);
    const flagged = last.anomalousCount;
    expect(flagged).toBe(Math.round(0.04 * n));
    for (const to of ['percentile', 'value', 'rate', 'value', 'percentile'] as const) {
      settings = { ...settings, ...switchThresholdMode(settings, to, { threshold: last.threshold, rate: last.rate }) };
      expect(settings.mode).toBe(to);
      last = det.run(settings);
      expect(last.anomalousCount).toBe(flagged);
      if (to !== 'value') expect(ruleRate(settings)).toBeCloseTo(0.04, 9);
    }
  });
});
