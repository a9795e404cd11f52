/** @jest-environment jsdom */
/**
 * The extension's renderer logic in jsdom: the real AnomalyViewer / AnomalyViewerRenderer (lumino
 * widgets, their DOM and controls, kernel-lib's browser detection) with charts switched off
 * (`plotly: null` — plotly cannot lay out SVG in jsdom; the real charts run in the Chromium e2e
 * tests). Bundles are generated here so the suite runs without ../shared.
 */
import './jsdom-polyfills';
import * as fs from 'fs';
import * as path from 'path';
import { Widget } from '@lumino/widgets';
import {
  BundleDetector,
  buildViewerBundle,
  decodeViewerBundle,
  initialDetectionSettings,
  scoreAtRate,
  trainingViewerBundle,
  viewerBundleToJSON,
  VIEWER_MIME,
  type ViewerBundle,
  createRng,
} from 'anomaly-lab/core';
import { AnomalyViewerRenderer } from '../../extension/src/renderer';
import { AnomalyViewer } from '../../extension/src/viewer';
import { DEFAULT_SETTINGS, SettingsStore, normalizeSettings } from '../../extension/src/settings';
import { fmtPct } from '../../extension/src/dom';
import { plotlyDateToMs } from '../../extension/src/charts';
import { REPO_ROOT } from '../helpers/shared';

/** A labelled generated series: sine channels, scores high inside three labelled intervals. */
function generatedBundle(): { bundle: ViewerBundle; scores: Float32Array; labels: Uint8Array } {
  const n = 3000;
  const rng = createRng(42);
  const values = new Float32Array(n * 2);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (const [a, b] of [
    [400, 460],
    [1500, 1530],
    [2500, 2620],
  ])
    labels.fill(1, a, b);
  for (let i = 0; i < n; i++) {
    values[2 * i] = Math.sin(i / 30) + 0.05 * rng.normal();
    values[2 * i + 1] = Math.cos(i / 45) + 0.05 * rng.normal();
    scores[i] = labels[i] ? 0.5 + 0.5 * rng.uniform() : 0.6 * rng.uniform();
  }
  const bundle = buildViewerBundle({
    kind: 'anomalybert',
    title: 'generated',
    series: { columns: ['voltage', 'current'], values },
    axis: { unit: 'seconds', start: 0, step: 1 },
    scores: { values: scores },
    labels,
    threshold: { mode: 'rate', rate: 0.05, pointAdjust: true },
  });
  return { bundle, scores, labels };
}

function mount(settings = new SettingsStore()): AnomalyViewer {
  const v = new AnomalyViewer({ plotly: null, settings });
  Widget.attach(v, document.body);
  return v;
}

function change(el: HTMLInputElement | HTMLSelectElement, value: string): void {
  el.value = value;
  el.dispatchEvent(new Event('change'));
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('AnomalyViewer in jsdom', () => {
  test('cards, metrics and table follow the rate control, as kernel-lib computes them', () => {
    const { bundle, scores, labels } = generatedBundle();
    const v = mount();
    v.setBundle(viewerBundleToJSON(bundle));
    const node = v.node;
    const q = <T extends Element>(s: string): T => node.querySelector(s) as T;
    const expectRate = (rate: number): void => {
      const det = new BundleDetector(decodeViewerBundle(bundle)).run({ ...initialDetectionSettings(decodeViewerBundle(bundle)), rate });
      expect(q('.al-card-total .al-card-value').textContent).toBe(String(det.intervals.length));
      expect(node.querySelectorAll('.al-interval-row').length).toBe(det.intervals.length);
      expect(q('.al-metrics-raw .al-m-f1').textContent).toBe(fmtPct(scoreAtRate(scores, labels, rate).f1));
      expect(q('.al-metrics-pa .al-m-f1').textContent).toBe(fmtPct(scoreAtRate(scores, labels, rate, { pointAdjust: true }).f1));
    };
    expectRate(0.05);
    change(q<HTMLInputElement>('.al-threshold'), '2');
    expectRate(0.02);
    // switching to percentile keeps the same threshold
    change(q<HTMLSelectElement>('.al-mode'), 'percentile');
    expect(q<HTMLInputElement>('.al-threshold').value).toBe('98');
    expectRate(0.02);
    v.dispose();
  });

  test('bad control values are refused with a message naming the control', () => {
    const v = mount();
    v.setBundle(generatedBundle().bundle);
    const status = v.node.querySelector('.al-status')!;
    // a number input hands over '' for text it cannot parse
    change(v.node.querySelector('.al-threshold') as HTMLInputElement, 'abc');
    expect(status.textContent).toBe('threshold: "" is not a number');
    change(v.node.querySelector('.al-ewma') as HTMLInputElement, '1.5');
    expect(status.textContent).toMatch(/^EWMA smoothing: weight must be in \[0, 1\)/);
    change(v.node.querySelector('.al-gap') as HTMLInputElement, '-2');
    expect(status.textContent).toMatch(/^max merge gap: expected a whole number of samples ≥ 0, got "-2"/);
    expect(v.detectionSettings).toMatchObject({ rate: 0.05, ewma: 0, maxGapSamples: 0 });
    v.dispose();
  });

  test('table sorts by column and a row click zooms to its interval', () => {
    const v = mount();
    v.setBundle(generatedBundle().bundle);
    const header = (key: string): HTMLElement => v.node.querySelector(`th[data-sort="${key}"]`) as HTMLElement;
    const peaks = (): number[] =>
      Array.from(v.node.querySelectorAll('.al-interval-row td[data-col="peakScore"]')).map((td) => Number(td.textContent));
    header('peakScore').click(); // numeric columns sort descending first
    const desc = peaks();
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    expect(header('peakScore').getAttribute('aria-sort')).toBe('descending');
    header('peakScore').click();
    expect(peaks()).toEqual([...desc].sort((a, b) => a - b));
    const row = v.node.querySelector('.al-interval-row') as HTMLElement;
    const iv = v.detection!.intervals[Number(row.dataset.interval)];
    row.click();
    const [a, b] = v.xRange!;
    expect(a).toBeLessThan(iv.start);
    expect(b).toBeGreaterThan(iv.end);
    expect(row.classList.contains('al-selected')).toBe(true);
    v.dispose();
  });

  test('renderer accepts a JSON string or an object and updates in place (live training)', async () => {
    const r = new AnomalyViewerRenderer({ plotly: null });
    Widget.attach(r, document.body);
    // stand-in for JupyterLab's MimeModel (its ESM build does not load in jest): data + metadata
    const model = (data: unknown) => ({ data: { [VIEWER_MIME]: data }, metadata: {}, trusted: true, setData: () => undefined }) as never;
    const h1 = [
      { step: 0, loss: 0.7 },
      { step: 50, loss: 0.5 },
    ];
    await r.renderModel(model(viewerBundleToJSON(trainingViewerBundle({ history: h1, finished: false, maxSteps: 200 }))));
    const status = r.node.querySelector('.al-training-status')!;
    expect(status.textContent).toBe('live · step 50 of 200 · loss 0.5');
    const viewer = r.anomalyViewer;
    await r.renderModel(model(trainingViewerBundle({ history: [...h1, { step: 100, loss: 0.4 }], finished: false, maxSteps: 200 })));
    expect(r.anomalyViewer).toBe(viewer);
    expect(status.textContent).toBe('live · step 100 of 200 · loss 0.4');
    // invalid data: shown as text in the widget, no exception into the output area
    await r.renderModel(model('{"mime": 1'));
    expect(r.node.querySelector('.al-error')!.textContent).toMatch(/^display data: not valid JSON/);
    r.dispose();
  });

  test('hostile names are rendered as text', () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const v = mount();
    const b = buildViewerBundle({
      title: evil,
      provenance: { source: evil },
      series: { columns: [evil], values: new Float32Array([1, 2, 3, 4]) },
      scores: { values: [0, 1, 0, 0] },
      intervals: [{ start: 1, end: 2, fault: evil }],
    });
    v.setBundle(b);
    expect(v.node.querySelectorAll('img').length).toBe(0);
    expect(v.node.querySelector('.al-title')!.textContent).toBe(evil);
    expect(v.node.querySelector('.al-channel')!.textContent).toBe(evil);
    expect(v.node.querySelector('.al-fault')!.textContent).toBe(evil);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    v.dispose();
  });

  test('settings: the table honours maxTableRows and changes apply to live viewers', () => {
    const store = new SettingsStore();
    const v = mount(store);
    const { bundle } = generatedBundle();
    v.setBundle(bundle);
    v.applySettings({ rate: 0.3, pointAdjust: false });
    const total = v.detection!.intervals.length;
    expect(total).toBeGreaterThan(10);
    store.set(normalizeSettings({ maxTableRows: 10 }));
    expect(v.node.querySelectorAll('.al-interval-row').length).toBe(10);
    expect(v.node.querySelector('.al-table-wrap .al-note')!.textContent).toBe(`showing 10 of ${total} intervals (the CSV export has all)`);
    v.dispose();
  });
});

describe('settings schema', () => {
  test('extension/schema/plugin.json defaults are the code defaults; bad values fall back', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'extension/schema/plugin.json'), 'utf8'));
    const defaults = Object.fromEntries(
      Object.entries(schema.properties as Record<string, { default: unknown }>).map(([k, p]) => [k, p.default]),
    );
    expect(defaults).toEqual(DEFAULT_SETTINGS);
    const s = normalizeSettings({
      defaultAnomalyRate: 2,
      maxPointsDrawn: 'x',
      colors: { predicted: 'red;background:url(x)', score: '#123456' },
    });
    expect(s.defaultAnomalyRate).toBe(DEFAULT_SETTINGS.defaultAnomalyRate);
    expect(s.maxPointsDrawn).toBe(DEFAULT_SETTINGS.maxPointsDrawn);
    expect(s.colors.predicted).toBe(DEFAULT_SETTINGS.colors.predicted);
    expect(s.colors.score).toBe('#123456');
  });
});

describe('plotly date ranges', () => {
  test('every shortened form plotly emits reads back as UTC epoch ms', () => {
    expect(plotlyDateToMs('2022-05-12')).toBe(Date.UTC(2022, 4, 12));
    expect(plotlyDateToMs('2022-05-12 01:30')).toBe(Date.UTC(2022, 4, 12, 1, 30));
    expect(plotlyDateToMs('2022-05-12 01:30:05')).toBe(Date.UTC(2022, 4, 12, 1, 30, 5));
    expect(plotlyDateToMs('2022-05-12 01:30:05.1234')).toBeCloseTo(Date.UTC(2022, 4, 12, 1, 30, 5) + 123.4, 6);
    expect(plotlyDateToMs(1652317200000)).toBe(1652317200000);
    expect(plotlyDateToMs('yesterday')).toBeNaN();
  });
});

describe('chart updates', () => {
  test('a burst of threshold changes draws each chart once more, with the last threshold', async () => {
    // a recording stand-in for plotly.js (jsdom cannot lay out plotly's SVG; the Chromium e2e tests
    // draw with the real one): it records which element got which figure
    const draws: Array<{ el: HTMLElement; op: 'newPlot' | 'react'; data: Array<Record<string, unknown>> }> = [];
    const record =
      (op: 'newPlot' | 'react') =>
      async (el: HTMLElement, data: Array<Record<string, unknown>>): Promise<never> => {
        draws.push({ el, op, data });
        return Object.assign(el, { on: () => undefined }) as never;
      };
    const plotly = {
      newPlot: record('newPlot'),
      react: record('react'),
      relayout: async () => undefined as never,
      purge: () => undefined,
      toImage: async () => '',
      Plots: { resize: () => undefined },
    };
    const v = new AnomalyViewer({ plotly, settings: new SettingsStore() });
    Widget.attach(v, document.body);
    v.setBundle(viewerBundleToJSON(generatedBundle().bundle));
    await v.whenDrawn();
    const scoresEl = v.node.querySelector('.al-chart-scores') as HTMLElement;
    const signalsEl = v.node.querySelector('.al-chart-signals') as HTMLElement;
    expect(draws.filter((d) => d.el === scoresEl).map((d) => d.op)).toEqual(['newPlot']);
    draws.length = 0;

    for (const rate of [0.02, 0.03, 0.04, 0.06, 0.08]) v.applySettings({ mode: 'rate', rate });
    await v.whenDrawn();
    const scoreDraws = draws.filter((d) => d.el === scoresEl);
    expect(scoreDraws.map((d) => d.op)).toEqual(['react']);
    expect(draws.filter((d) => d.el === signalsEl).map((d) => d.op)).toEqual(['react']);
    const line = scoreDraws[0].data.find((t) => String(t.name).startsWith('threshold'));
    expect(line?.y).toEqual([v.detection!.threshold, v.detection!.threshold]);
    expect(v.detectionSettings?.rate).toBe(0.08);
    v.dispose();
  });
});
