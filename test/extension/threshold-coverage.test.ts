/** @jest-environment jsdom */
/**
 * Every threshold mode is complete from the threshold module's table alone (issue 12: a new mode
 * touches the threshold module, the widget control and the schema only). For each entry of
 * THRESHOLD_MODES: the widget's control offers it with its label, switching the real widget into
 * it keeps the threshold in effect and shows the mode's control value, a bundle written in that
 * mode validates against the schema (enum, parameters, required ones) and re-opens in the same
 * mode with the same detection, and the markdown export and the notebook summary describe it with
 * the module's own words. Nothing here lists the modes by hand.
 */
import './jsdom-polyfills';
import { Widget } from '@lumino/widgets';
import {
  BundleDetector,
  THRESHOLD_MODES,
  THRESHOLD_MODE_INFO,
  THRESHOLD_PARAM_SCHEMA,
  buildViewerBundle,
  decodeViewerBundle,
  describeThreshold,
  initialDetectionSettings,
  markdownReport,
  summarizeDetection,
  validateViewerBundle,
  viewerSchemaV1,
  type ViewerBundle,
  createRng,
} from 'anomaly-lab/core';
import { viewerSummaryText } from 'anomaly-lab/notebook';
import { AnomalyViewer } from '../../extension/src/viewer';
import { DEFAULT_SETTINGS, SettingsStore } from '../../extension/src/settings';

function scoredBundle(): ViewerBundle {
  const rng = createRng(17);
  const n = 1500;
  const scores = Float32Array.from({ length: n }, () => rng.uniform());
  const labels = Uint8Array.from({ length: n }, (_, i) => (i >= 700 && i < 760 ? 1 : 0));
  for (let i = 700; i < 760; i++) scores[i] += 0.5;
  return buildViewerBundle({
    kind: 'generic',
    title: 'modes',
    series: { columns: ['a'], values: Float32Array.from(scores, (s) => 2 * s) },
    scores: { values: scores },
    labels,
    threshold: { mode: 'rate', rate: 0.05, pointAdjust: false },
  });
}

type ThresholdSchema = {
  properties: { threshold: { properties: Record<string, unknown> & { mode: { enum: string[] } }; allOf?: unknown[] } };
};

describe('every threshold mode, from the mode table', () => {
  const schema = (viewerSchemaV1 as unknown as ThresholdSchema).properties.threshold;

  test('the schema enumerates the modes and declares every parameter a mode writes or requires', () => {
    expect(schema.properties.mode.enum).toEqual([...THRESHOLD_MODES]);
    const rule = { mode: 'rate' as const, rate: 0.05, percentile: 95, value: 0.5 };
    for (const m of THRESHOLD_MODES) {
      const info = THRESHOLD_MODE_INFO[m];
      for (const k of [...Object.keys(info.params({ ...rule, mode: m })), ...(info.required ?? [])]) {
        expect(Object.keys(THRESHOLD_PARAM_SCHEMA)).toContain(k);
        expect(schema.properties[k]).toEqual(THRESHOLD_PARAM_SCHEMA[k as keyof typeof THRESHOLD_PARAM_SCHEMA]);
      }
    }
    // one label per mode in the control and in text
    const labels = THRESHOLD_MODES.map((m) => THRESHOLD_MODE_INFO[m].controlLabel);
    const described = THRESHOLD_MODES.map((m) => describeThreshold({ ...rule, mode: m }).label);
    expect(new Set(labels).size).toBe(THRESHOLD_MODES.length);
    expect(new Set(described).size).toBe(THRESHOLD_MODES.length);
  });

  test('the widget offers each mode, keeps the threshold when switching, and each mode round-trips through a bundle', () => {
    const bundle = scoredBundle();
    const v = new AnomalyViewer({ plotly: null, settings: new SettingsStore(DEFAULT_SETTINGS) });
    Widget.attach(v, document.body);
    try {
      v.setBundle(bundle);
      const select = v.node.querySelector('.al-mode') as HTMLSelectElement;
      expect(Array.from(select.options, (o) => o.value)).toEqual([...THRESHOLD_MODES]);
      expect(Array.from(select.options, (o) => o.textContent)).toEqual(THRESHOLD_MODES.map((m) => THRESHOLD_MODE_INFO[m].controlLabel));
      const flagged = v.detection!.anomalousCount;
      expect(flagged).toBe(Math.round(0.05 * 1500));
      // into every mode and back to the first: the same points stay flagged
      for (const m of [...THRESHOLD_MODES.slice(1), THRESHOLD_MODES[0]]) {
        select.value = m;
        select.dispatchEvent(new Event('change'));
        const s = v.detectionSettings!;
        const info = THRESHOLD_MODE_INFO[m];
        expect(s.mode).toBe(m);
        expect(v.detection!.anomalousCount).toBe(flagged);
        const input = v.node.querySelector('.al-threshold') as HTMLInputElement;
        const slider = v.node.querySelector('.al-slider') as HTMLInputElement;
        expect(Number(input.value)).toBe(info.controlValue(s));
        expect(slider.hidden).toBe(!info.slider);
        // typing the control value back in is accepted and changes nothing
        expect(info.fromControl(info.controlValue(s))).toEqual({ patch: expect.objectContaining({ mode: m }) });

        // written in this mode, the bundle is valid and re-opens in it with the same detection
        const written: ViewerBundle = {
          ...bundle,
          threshold: {
            mode: m,
            ...info.params(s),
            ...(info.required?.includes('value') ? { value: v.detection!.threshold } : {}),
            pointAdjust: false,
            mergeGapSamples: 0,
          },
        };
        expect(validateViewerBundle(written)).toEqual({ valid: true, errors: [] });
        const d = decodeViewerBundle(written);
        const again = new BundleDetector(d).run(initialDetectionSettings(d));
        expect(again.settings.mode).toBe(m);
        expect(again.anomalousCount).toBe(flagged);
        // the markdown export and the notebook summary say it with the module's words
        const { label } = describeThreshold(again.settings);
        expect(markdownReport(written, again, summarizeDetection(again))).toContain(`- ${label}: `);
        expect(viewerSummaryText(written)).toContain(label);
        // a mode with required parameters is refused by the schema without them
        for (const k of info.required ?? []) {
          const missing = { ...written, threshold: { ...written.threshold!, [k]: undefined } };
          delete (missing.threshold as unknown as Record<string, unknown>)[k];
          expect(validateViewerBundle(missing).valid).toBe(false);
        }
      }
    } finally {
      v.dispose();
    }
  });
});
