/**
 * End-to-end: the REAL renderer (extension AnomalyViewerRenderer: lumino + plotly.js, fed through
 * JupyterLab's MimeModel) in headless Chromium, on bundles produced by kernel-lib — the power
 * pipeline's reference output on simData2.csv, the AnomalyBERT reference scores/labels, and a real
 * AnomalyBERT estimation run. Expected numbers are what kernel-lib computes in Node for the same
 * settings. Screenshots go to test/artifacts/.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import {
  BundleDetector,
  anomaliesCsv,
  decodeViewerBundle,
  initialDetectionSettings,
  scoreAtRate,
  trainingViewerBundle,
  viewerBundleToJSON,
  buildViewerBundle,
  type ViewerBundle,
  type DetectionSettings,
} from 'anomaly-lab/core';
import { fmtPct } from '../../extension/src/dom';
import { describeWithTools } from '../helpers/tools';
import { HAS_SHARED } from '../helpers/shared';
import { anomalyBertBundleFromFixture, anomalyBertFixture, powerBundleFromFixture } from '../extension/bundles';
import { ARTIFACTS, openViewerPage, type ViewerPage } from './harness';
import { anomalyBertEstimationBundle } from './runs';

interface AlTest {
  render(data: unknown, opts?: { reuse?: boolean; path?: string }): Promise<{ ms: number }>;
  clearAll(): void;
  chartState(selector: string): {
    traces: Array<{ name?: string; points: number; yaxis: string }>;
    xrange: unknown[] | null;
    yaxes: Array<{ id: string; title: string; domain: number[]; range: number[] | null; overlaying: string | null }>;
  } | null;
  viewer(): { xRange: [number, number] | null; detectionSettings: DetectionSettings | null; whenDrawn(): Promise<void> };
  relayout(selector: string, update: Record<string, unknown>): Promise<void>;
  setTheme(dark: boolean): void;
}
declare const alTest: AlTest;

function nodeDetection(bundle: ViewerBundle, patch: Partial<DetectionSettings>) {
  const decoded = decodeViewerBundle(bundle);
  return new BundleDetector(decoded).run({ ...initialDetectionSettings(decoded), ...patch });
}

async function render(page: Page, bundle: ViewerBundle | string): Promise<void> {
  const json = typeof bundle === 'string' ? bundle : viewerBundleToJSON(bundle);
  await page.evaluate(async (j) => {
    alTest.clearAll();
    await alTest.render(j);
  }, json);
}

async function setInput(page: Page, selector: string, value: string): Promise<void> {
  await page.fill(selector, value);
  await page.dispatchEvent(selector, 'change');
  await page.evaluate(() => alTest.viewer().whenDrawn());
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

const describeE2E = HAS_SHARED
  ? describeWithTools
  : (name: string, _tools: Record<string, string>, fn: () => void) => describe.skip(name, fn);

describeE2E('anomaly viewer in headless Chromium', { chromium: 'chromium' }, () => {
  let vp: ViewerPage;
  let page: Page;

  beforeAll(async () => {
    vp = await openViewerPage();
    page = vp.page;
  });
  afterAll(async () => {
    await vp?.close();
  });
  afterEach(() => {
    // no uncaught errors or console errors in the page, whatever the test did
    const errors = vp.errors.splice(0);
    expect(errors).toEqual([]);
  });

  test('power detection: re-threshold, table zoom (linked), CSV export', async () => {
    const bundle = powerBundleFromFixture();
    await render(page, bundle);
    const initial = nodeDetection(bundle, {});
    await expect(page.locator('.al-interval-row').count()).resolves.toBe(initial.intervals.length);
    await expect(page.locator('.al-card-total .al-card-value').textContent()).resolves.toBe(String(initial.intervals.length));
    await expect(page.locator('.al-interval-row .al-fault').allTextContents()).resolves.toEqual(initial.intervals.map((i) => i.fault));
    await shot(page, 'power-initial.png');

    // lower percentile → more anomalous windows and the interval count kernel-lib computes
    await setInput(page, '.al-threshold', '90');
    const p90 = nodeDetection(bundle, { percentile: 90 });
    expect(p90.anomalousCount).toBeGreaterThan(initial.anomalousCount);
    await expect(page.locator('.al-card-points .al-card-value').textContent()).resolves.toBe(String(p90.anomalousCount));
    await expect(page.locator('.al-interval-row').count()).resolves.toBe(p90.intervals.length);
    // merge gap 0 splits them further
    await setInput(page, '.al-gap', '0');
    const p90g0 = nodeDetection(bundle, { percentile: 90, maxGapSamples: 0 });
    await expect(page.locator('.al-card-total .al-card-value').textContent()).resolves.toBe(String(p90g0.intervals.length));
    expect(p90g0.intervals.length).not.toBe(p90.intervals.length);
    await setInput(page, '.al-gap', '1500');

    // click the second row → both charts zoom to it
    const target = p90.intervals[1];
    await page.locator('.al-interval-row').nth(1).click();
    await page.evaluate(() => alTest.viewer().whenDrawn());
    const range = await page.evaluate(() => alTest.viewer().xRange);
    expect(range).not.toBeNull();
    expect(range![0]).toBeLessThanOrEqual(target.start);
    expect(range![1]).toBeGreaterThanOrEqual(target.end);
    expect(range![1] - range![0]).toBeLessThan(3 * (target.end - target.start) + 1e-2);
    for (const sel of ['.al-chart-signals', '.al-chart-scores']) {
      const st = await page.evaluate((s) => alTest.chartState(s), sel);
      expect((st!.xrange as number[]).map(Number)).toEqual(range);
    }
    await shot(page, 'power-zoomed.png');

    // a drag-zoom on the scores chart carries the signals chart with it
    await page.evaluate(() => alTest.relayout('.al-chart-scores', { 'xaxis.range[0]': 0.1, 'xaxis.range[1]': 0.2 }));
    const linked = await page.evaluate(() => alTest.chartState('.al-chart-signals'));
    expect((linked!.xrange as number[]).map(Number)).toEqual([0.1, 0.2]);

    // export: the downloaded CSV is kernel-lib's anomaliesCsv for the current settings
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.al-export-csv')]);
    expect(download.suggestedFilename()).toMatch(/-anomalies\.csv$/);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv).toBe(anomaliesCsv(bundle, p90));
    fs.writeFileSync(path.join(ARTIFACTS, 'power-anomalies.csv'), csv);
    const [md] = await Promise.all([page.waitForEvent('download'), page.click('.al-export-md')]);
    expect(fs.readFileSync((await md.path())!, 'utf8')).toContain(`total anomalies (intervals): ${p90.intervals.length}`);
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('.al-export-png')]);
    const pngBytes = fs.readFileSync((await png.path())!);
    expect(pngBytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  test('power detection with a fixed threshold opens with the fixed-value intervals; switching to "fixed value" re-thresholds', async () => {
    const pct = powerBundleFromFixture();
    // a fixed threshold the percentile does not give: the reference threshold lowered by a fifth
    const fixed = pct.threshold!.value! * 0.8;
    const bundle: ViewerBundle = {
      ...pct,
      title: 'simData2.csv — fixed threshold',
      threshold: { mode: 'value', value: fixed, pointAdjust: false, maxGapSamples: pct.threshold!.maxGapSamples },
    };
    await render(page, bundle);
    const opened = nodeDetection(bundle, {});
    expect(opened.threshold).toBe(fixed);
    expect(opened.anomalousCount).toBeGreaterThan(nodeDetection(pct, {}).anomalousCount);
    await expect(page.locator('.al-mode').inputValue()).resolves.toBe('value');
    await expect(page.locator('.al-threshold').inputValue()).resolves.toBe(String(fixed));
    await expect(page.locator('.al-slider').isHidden()).resolves.toBe(true);
    await expect(page.locator('.al-card-points .al-card-value').textContent()).resolves.toBe(String(opened.anomalousCount));
    await expect(page.locator('.al-interval-row').count()).resolves.toBe(opened.intervals.length);
    const [csv0] = await Promise.all([page.waitForEvent('download'), page.click('.al-export-csv')]);
    expect(fs.readFileSync((await csv0.path())!, 'utf8')).toBe(anomaliesCsv(bundle, opened));
    await shot(page, 'power-fixed-threshold.png');

    // the percentile bundle: switch to "fixed value" (starts at the threshold in effect), then type one
    await render(page, pct);
    const atPct = nodeDetection(pct, {});
    await page.selectOption('.al-mode', 'value');
    await page.evaluate(() => alTest.viewer().whenDrawn());
    await expect(page.evaluate(() => alTest.viewer().detectionSettings)).resolves.toMatchObject({ mode: 'value', value: atPct.threshold });
    await expect(page.locator('.al-card-points .al-card-value').textContent()).resolves.toBe(String(atPct.anomalousCount));
    const typed = Number((atPct.threshold * 0.7).toPrecision(6));
    await setInput(page, '.al-threshold', String(typed));
    const lowered = nodeDetection(pct, { mode: 'value', value: typed });
    expect(lowered.anomalousCount).toBeGreaterThan(atPct.anomalousCount);
    await expect(page.locator('.al-card-points .al-card-value').textContent()).resolves.toBe(String(lowered.anomalousCount));
    await expect(page.locator('.al-interval-row').count()).resolves.toBe(lowered.intervals.length);
    const [csv1] = await Promise.all([page.waitForEvent('download'), page.click('.al-export-csv')]);
    expect(fs.readFileSync((await csv1.path())!, 'utf8')).toBe(anomaliesCsv(pct, lowered));
    // an empty (or unparsable: the number input reports it as empty) value is refused with the status message; the threshold stays
    await setInput(page, '.al-threshold', '');
    await expect(page.locator('.al-status').textContent()).resolves.toBe('threshold: "" is not a number');
    await expect(page.evaluate(() => alTest.viewer().detectionSettings!.value)).resolves.toBe(typed);
    // back to percentile: keeps the share of windows the fixed value flagged
    await page.selectOption('.al-mode', 'percentile');
    await page.evaluate(() => alTest.viewer().whenDrawn());
    await expect(page.evaluate(() => alTest.viewer().detectionSettings!.percentile)).resolves.toBeCloseTo(100 * (1 - lowered.rate), 9);
  });

  test('AnomalyBERT reference scores: rate change → interval count and F1 (with/without PA) from kernel-lib', async () => {
    const { scores, labels } = anomalyBertFixture();
    const bundle = anomalyBertBundleFromFixture(0.01);
    await render(page, bundle);
    for (const pct of ['5', '10']) {
      const rate = Number(pct) / 100;
      await setInput(page, '.al-threshold', pct);
      const raw = scoreAtRate(scores, labels, rate, { pointAdjust: false });
      const pa = scoreAtRate(scores, labels, rate, { pointAdjust: true });
      await expect(page.locator('.al-metrics-raw .al-m-f1').textContent()).resolves.toBe(fmtPct(raw.f1));
      await expect(page.locator('.al-metrics-pa .al-m-f1').textContent()).resolves.toBe(fmtPct(pa.f1));
      await expect(page.locator('.al-metrics-raw .al-m-ess').textContent()).resolves.toBe(fmtPct(raw.ess_score));
      const det = nodeDetection(bundle, { rate });
      await expect(page.locator('.al-card-total .al-card-value').textContent()).resolves.toBe(String(det.intervals.length));
    }
    // PA off: predicted intervals are the raw runs (more, shorter ones than with PA)
    await page.click('.al-pa');
    await page.evaluate(() => alTest.viewer().whenDrawn());
    const noPa = nodeDetection(bundle, { rate: 0.1, pointAdjust: false });
    await expect(page.locator('.al-card-total .al-card-value').textContent()).resolves.toBe(String(noPa.intervals.length));
    // invalid input is refused with a message naming the control; nothing changes
    await setInput(page, '.al-threshold', '150');
    await expect(page.locator('.al-status').textContent()).resolves.toMatch(/anomaly rate: 150% is outside/);
    await expect(page.evaluate(() => alTest.viewer().detectionSettings!.rate)).resolves.toBeCloseTo(0.1, 12);
    await shot(page, 'anomalybert-reference.png');
  });

  test('real AnomalyBERT estimation run: labelled vs predicted bands, channel picker, dark theme', async () => {
    const { bundle } = await anomalyBertEstimationBundle();
    await render(page, bundle);
    const st = await page.evaluate(() => alTest.chartState('.al-chart-signals'));
    const lines = st!.traces.filter((t) => !/anomaly$/.test(t.name ?? ''));
    expect([...lines.map((t) => t.name)].sort()).toEqual(['current', 'soc', 'temperature', 'voltage', 'voltage_gap']);
    // small multiples: every channel sits in the panel of its unit (V, A, %, °C); the two V channels
    // share one only when their ranges are within 10× (here the fixture series is min-max scaled)
    const unitOf: Record<string, string> = { voltage: 'V', current: 'A', soc: '%', temperature: '°C', voltage_gap: 'V' };
    const titleOf = new Map(st!.yaxes.filter((a) => !a.overlaying).map((a) => [a.id, a.title]));
    for (const t of lines) expect([t.name, titleOf.get(t.yaxis)]).toEqual([t.name, unitOf[t.name!]]);
    expect(titleOf.size).toBeGreaterThanOrEqual(4);
    expect(st!.traces.find((t) => t.name === 'labelled anomaly')!.points).toBeGreaterThan(0);
    await page.locator('.al-channels input[data-channel="1"]').uncheck();
    await page.evaluate(() => alTest.viewer().whenDrawn());
    const after = await page.evaluate(() => alTest.chartState('.al-chart-signals'));
    expect(after!.traces.map((t) => t.name)).not.toContain('current');
    await shot(page, 'anomalybert-estimation-light.png');
    await page.evaluate(() => alTest.setTheme(true));
    await page.evaluate(() => alTest.viewer().whenDrawn());
    await shot(page, 'anomalybert-estimation-dark.png');
    await page.evaluate(() => alTest.setTheme(false));
  });

  test('readable signals: per-unit panels by default (V and A), the user can switch to one per channel or one axis', async () => {
    const bundle = powerBundleFromFixture(undefined, { units: undefined }); // units inferred from Va..Ic
    expect(bundle.series!.units).toEqual(['V', 'V', 'V', 'A', 'A', 'A']);
    await page.evaluate(() => alTest.clearAll());
    await render(page, bundle);
    const panels = async () => {
      const st = (await page.evaluate(() => alTest.chartState('.al-chart-signals')))!;
      const axes = st.yaxes.filter((a) => !a.overlaying);
      const lines = st.traces.filter((t) => !/anomaly$/.test(t.name ?? ''));
      return { titles: axes.map((a) => a.title), byAxis: axes.map((a) => lines.filter((t) => t.yaxis === a.id).map((t) => t.name)), axes };
    };
    const auto = await panels();
    expect(auto.titles).toEqual(['V', 'A']);
    expect(auto.byAxis).toEqual([
      ['Va', 'Vb', 'Vc'],
      ['Ia', 'Ib', 'Ic'],
    ]);
    // the voltage panel spans the voltages (about ±1), not the currents (hundreds of A)
    const vRange = auto.axes[0].range!;
    expect(Math.max(Math.abs(vRange[0]), Math.abs(vRange[1]))).toBeLessThan(10);
    // panels are stacked, not overlapping
    expect(auto.axes[0].domain[0]).toBeGreaterThan(auto.axes[1].domain[1]);
    await shot(page, 'signals-panels-by-unit.png');
    await page.selectOption('.al-layout', 'channel');
    await page.evaluate(() => alTest.viewer().whenDrawn());
    expect((await panels()).byAxis).toEqual([['Va'], ['Vb'], ['Vc'], ['Ia'], ['Ib'], ['Ic']]);
    await page.selectOption('.al-layout', 'overlay');
    await page.evaluate(() => alTest.viewer().whenDrawn());
    const overlay = (await page.evaluate(() => alTest.chartState('.al-chart-signals')))!;
    // one panel: the voltages on the left axis, the currents on a right-hand axis
    expect(overlay.yaxes.filter((a) => a.title).map((a) => a.title)).toEqual(['V', 'A']);
    expect(overlay.yaxes.find((a) => a.title === 'A')!.overlaying).toBe('y');
    await shot(page, 'signals-overlay.png');
  });

  test('training monitor updates in place when the display is updated', async () => {
    const history = [
      { step: 0, loss: 0.69, accuracy: 0.52 },
      {
        step: 100,
        loss: 0.41,
        accuracy: 0.81,
        test: {
          without_pa: { anomaly_rate: 0.01, precision: 0.3, recall: 0.2, f1: 0.24, ess_score: 0.25 },
          with_pa: { anomaly_rate: 0.01, precision: 0.6, recall: 0.7, f1: 0.646, ess_score: 0.65 },
        },
      },
    ];
    await render(page, trainingViewerBundle({ title: 'ESS training', history, finished: false, maxSteps: 300 }));
    await expect(page.locator('.al-training-status').textContent()).resolves.toMatch(/^live · step 100 of 300/);
    const more = [
      ...history,
      { step: 200, loss: 0.3, accuracy: 0.88 },
      {
        step: 300,
        loss: 0.25,
        accuracy: 0.9,
        test: { with_pa: { anomaly_rate: 0.01, precision: 0.8, recall: 0.9, f1: 0.847, ess_score: 0.85 } },
      },
    ];
    // same renderer, new model: what update_display_data does
    await page.evaluate(
      async (j) => {
        await alTest.render(j, { reuse: true });
      },
      viewerBundleToJSON(trainingViewerBundle({ title: 'ESS training', history: more, finished: true, maxSteps: 300 })),
    );
    await expect(page.locator('.al-viewer').count()).resolves.toBe(1);
    await expect(page.locator('.al-training-status').textContent()).resolves.toMatch(
      /^finished · step 300 of 300 · loss 0\.25 · validation F1 \(PA\) 84\.70%/,
    );
    const st = await page.evaluate(() => alTest.chartState('.al-chart-training'));
    expect(st!.traces.find((t) => t.name === 'loss')!.points).toBe(4);
    await shot(page, 'training-monitor.png');
  });

  test('names from data are text: an <img onerror> title, column and fault name execute nothing', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const n = 400;
    const values = new Float32Array(n * 2);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      values[2 * i] = Math.sin(i / 10);
      values[2 * i + 1] = Math.cos(i / 7);
      scores[i] = i >= 200 && i < 210 ? 0.9 : 0.1 + 0.001 * (i % 7);
    }
    const bundle = buildViewerBundle({
      kind: 'power',
      title: evil,
      provenance: { source: `${evil}.csv` },
      series: { columns: [evil, 'Vb'], values },
      axis: { unit: 'index' },
      scores: { values: scores },
      threshold: { rate: 0.025 },
      intervals: [{ start: 200, end: 210, fault: evil, confidence: 0.9 }],
      featureImportances: { names: [evil, 'rms_Va'], values: [0.7, 0.3] },
    });
    await render(page, bundle);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('.al-viewer img').count()).toBe(0);
    await expect(page.locator('.al-title').textContent()).resolves.toBe(evil);
    await expect(page.locator('.al-interval-row .al-fault').first().textContent()).resolves.toBe(evil);
    await expect(page.locator('.al-channels label').first().textContent()).resolves.toBe(evil);
    await shot(page, 'hostile-names.png');
  });

  test('epoch-ms time axis: a drag-zoom on the scores chart (date strings from plotly) moves both charts', async () => {
    const n = 5000;
    const t0 = Date.UTC(2022, 4, 10);
    const values = new Float32Array(n);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      values[i] = Math.sin(i / 50);
      scores[i] = ((i * 7919) % 1000) / 1000;
    }
    const time = Float64Array.from({ length: n }, (_, i) => t0 + 1000 * i);
    await render(
      page,
      buildViewerBundle({
        title: 'epoch axis',
        series: { columns: ['soc'], values, time },
        scores: { values: scores },
        threshold: { rate: 0.01 },
      }),
    );
    await page.evaluate(() =>
      alTest.relayout('.al-chart-scores', { 'xaxis.range[0]': '2022-05-10 00:10', 'xaxis.range[1]': '2022-05-10 00:20:30.5' }),
    );
    const range = await page.evaluate(() => alTest.viewer().xRange);
    expect(range).toEqual([t0 + 600_000, t0 + 1_230_500]);
    const st = await page.evaluate(() => alTest.chartState('.al-chart-signals'));
    // the signals chart shows exactly the rows of the zoomed range, at full resolution
    expect(st!.traces[0].points).toBeGreaterThanOrEqual(630);
    expect(st!.traces[0].points).toBeLessThanOrEqual(634);
  });

  test('an invalid bundle shows a readable error naming the field', async () => {
    await page.evaluate(async () => {
      alTest.clearAll();
      await alTest.render(
        '{"mime":"application/vnd.anomaly-lab.viewer.v1+json","version":1,"kind":"generic","title":"x","series":{"columns":["a"],"length":3,"values":[1,2]}}',
        { path: 'broken.anomaly.json' },
      );
    });
    await expect(page.locator('.al-error').textContent()).resolves.toMatch(
      /^broken\.anomaly\.json: invalid viewer bundle: \/series\/values: holds 2 values, expected length 3 × 1 columns = 3/,
    );
  });
});
