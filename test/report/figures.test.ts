/**
 * One home for figures: the HTML report and the notebook summary draw a viewer bundle with the
 * core's figure builders (the ones the extension hands to plotly), and every static chart goes
 * through the one SVG renderer. Checked by rebuilding the figures here and comparing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BundleDetector,
  DEFAULT_FIGURE_OPTIONS,
  LIGHT_THEME,
  buildViewerBundle,
  decodeViewerBundle,
  figureToJSON,
  initialDetectionSettings,
  scoresFigure,
  signalsFigure,
  viewerBundleToJSON,
  type ViewerBundle,
} from 'anomaly-lab/core';
import { readRunData, reportSections } from 'anomaly-lab/report';
import { viewerSummaryHtml } from 'anomaly-lab/notebook';
import { figureSvg, hasStaticForm } from 'anomaly-lab/render';

const EVIL = '<img src=x onerror="alert(1)">';

function bundle(): ViewerBundle {
  const n = 2000;
  const values = new Float32Array(n * 3);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // volts around 800 and a current of ±100 A: two panels by unit
    values.set([800 + 10 * Math.sin(i / 40), 100 * Math.sin(i / 25), 790 + 10 * Math.cos(i / 40)], 3 * i);
    labels[i] = i >= 900 && i < 950 ? 1 : 0;
    scores[i] = 0.2 * Math.abs(Math.sin(i / 9)) + (labels[i] ? 0.7 : 0);
  }
  return buildViewerBundle({
    kind: 'anomalybert',
    title: `run ${EVIL}`,
    series: { columns: ['BANK_DC_VOLT', 'BANK_DC_CURRENT', EVIL], values, units: ['V', 'A', 'V'] },
    scores: { values: scores },
    labels,
    threshold: { rate: 0.03, pointAdjust: true },
  });
}

describe('the report and the notebook summary draw with the core figure builders', () => {
  const b = bundle();
  const d = decodeViewerBundle(b);
  const det = new BundleDetector(d).run(initialDetectionSettings(d));
  const signals = signalsFigure(d, det, [0, 1, 2], null, DEFAULT_FIGURE_OPTIONS, LIGHT_THEME);
  const scores = scoresFigure(d, det, null, DEFAULT_FIGURE_OPTIONS, LIGHT_THEME);

  test('report sections carry exactly the viewer figures of the bundle', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-figures-'));
    fs.writeFileSync(path.join(dir, 'detection.anomaly.json'), viewerBundleToJSON(b));
    const sections = reportSections(readRunData(dir));
    const charts = new Map(sections.flatMap((s) => s.charts.map((c) => [c.id, c.figure] as const)));
    expect(charts.get('bundle0-series')).toEqual(signals);
    expect(charts.get('bundle0-scores')).toEqual(scores);
    // two panels (V above A), the predicted band on both, the labelled strip at the bottom
    expect(signals.layout.yaxis.title.text).toBe('V');
    expect(signals.layout.yaxis3.title.text).toBe('A');
    expect(signals.data.filter((t) => t.fill === 'toself').length).toBe(4);
    // embedded as plain JSON: typed arrays became lists with the same (rounded) values
    const json = figureToJSON(signals);
    expect(Array.isArray(json.data[0].y)).toBe(true);
    expect(json.data[0].y.length).toBe(signals.data[0].y.length);
    expect(json.data[0].y[5]).toBeCloseTo(signals.data[0].y[5], 3);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the notebook summary holds the SVG of the same figures, names escaped', () => {
    const html = viewerSummaryHtml(b);
    expect(html).toContain(figureSvg(signals, { width: 720, title: 'Series (detected intervals shaded)' })!);
    expect(html).toContain(figureSvg(scores, { width: 720, title: `${b.scores?.name ?? 'Score'} (labelled anomalies shaded)` })!);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x');
  });

  test('the SVG renderer: one frame per panel, every channel a line, bands as rectangles; bars have no static form', () => {
    const svg = figureSvg(signals)!;
    expect(svg.match(/<rect x="48" y="[\d.]+" width="\d+" height="[\d.]+" fill="none" stroke="#ccc"\/>/g)?.length).toBe(2);
    expect(svg.match(/<polyline /g)?.length).toBe(3);
    // per panel: at least one predicted band and the labelled strip
    expect(svg.match(/fill-opacity=/g)?.length).toBeGreaterThanOrEqual(4);
    // a long series costs ~2 points per pixel column, not one per sample
    const points = [...svg.matchAll(/points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    for (const p of points) expect(p).toBeLessThanOrEqual(2 * 720);
    expect(hasStaticForm({ data: [{ type: 'bar', x: ['a'], y: [1] }], layout: {} })).toBe(false);
    expect(figureSvg({ data: [{ type: 'bar', x: ['a'], y: [1] }], layout: {} })).toBeNull();
  });
});
