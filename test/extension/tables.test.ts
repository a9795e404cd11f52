/** @jest-environment jsdom */
/**
 * One table builder (browser/viewer/tables.ts) behind every surface of a bundle: the widget's DOM
 * table and metrics card, the markdown export, the notebook summary (HTML and text) and the HTML
 * report all show the core's cells — same columns, same numbers. The bundle is generated here
 * (date axis, labels, producer faults whose names need escaping).
 */
import './jsdom-polyfills';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Widget } from '@lumino/widgets';
import {
  BundleDetector,
  buildViewerBundle,
  createRng,
  decodeViewerBundle,
  formatPercent,
  initialDetectionSettings,
  intervalsTable,
  markdownReport,
  metricsTable,
  scoreAtRate,
  summarizeDetection,
  tableMarkdown,
  viewerBundleToJSON,
  VIEWER_FILE_SUFFIX,
} from 'anomaly-lab/core';
import { viewerSummaryHtml, viewerSummaryText } from 'anomaly-lab/notebook';
import { viewerTableHtml, viewerTableText } from 'anomaly-lab/render';
import { readRunData, reportSections } from 'anomaly-lab/report';
import { AnomalyViewer } from '../../extension/src/viewer';

const T0 = Date.UTC(2024, 0, 1);
const STEP_MS = 250;
const FAULT = 'LG|<b>*x*</b>';

function bundle(): { bundle: ReturnType<typeof buildViewerBundle>; scores: Float32Array; labels: Uint8Array } {
  const n = 2000;
  const rng = createRng(7);
  const values = new Float32Array(n);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (const [a, b] of [
    [300, 340],
    [1200, 1290],
  ])
    labels.fill(1, a, b);
  for (let i = 0; i < n; i++) {
    values[i] = Math.sin(i / 25) + 0.05 * rng.normal();
    scores[i] = labels[i] ? 0.5 + 0.5 * rng.uniform() : 0.55 * rng.uniform();
  }
  const x = (i: number): number => T0 + i * STEP_MS;
  return {
    bundle: buildViewerBundle({
      kind: 'anomalybert',
      title: 'tables',
      series: { columns: ['v'], values },
      axis: { unit: 'epoch_ms', start: T0, step: STEP_MS },
      scores: { values: scores },
      labels,
      threshold: { mode: 'rate', rate: 0.08, pointAdjust: true },
      intervals: [{ start: x(300), end: x(339), fault: FAULT, confidence: 0.875 }],
    }),
    scores,
    labels,
  };
}

describe('the viewer tables', () => {
  const { bundle: b, scores, labels } = bundle();
  const d = decodeViewerBundle(b);
  const result = new BundleDetector(d).run(initialDetectionSettings(d));
  const metrics = metricsTable(result.metrics)!;
  const intervals = intervalsTable(result.intervals, 'epoch_ms', { labelled: true });

  test('cells: shares in percent, dates in UTC, durations in seconds, a row per interval', () => {
    expect(metrics.columns.map((c) => c.label)).toEqual(['', 'anomaly rate', 'precision', 'recall', 'F1', 'ESS score']);
    const raw = scoreAtRate(scores, labels, 0.08);
    const pa = scoreAtRate(scores, labels, 0.08, { pointAdjust: true });
    expect(metrics.rows.map((r) => r.cells[0])).toEqual(['without PA', 'with PA']);
    expect(metrics.rows[0].cells[4]).toBe(formatPercent(raw.f1, 2));
    expect(metrics.rows[1].cells[4]).toBe(formatPercent(pa.f1, 2));
    expect(intervals.columns.map((c) => c.label)).toEqual([
      '#',
      'start',
      'end',
      'duration (s)',
      'samples',
      'peak score',
      'fault',
      'confidence',
      'labelled',
    ]);
    expect(intervals.rows.length).toBe(result.intervals.length);
    const first = result.intervals[0];
    expect(intervals.rows[0].cells.slice(0, 5)).toEqual([
      '1',
      new Date(first.start).toISOString().replace('T', ' ').replace('.000Z', 'Z'),
      new Date(first.end).toISOString().replace('T', ' ').replace('.000Z', 'Z'),
      String((first.end - first.start) / 1000),
      String(first.endIndex - first.startIndex),
    ]);
    const faulted = intervals.rows.find((r) => r.cells[6] === FAULT)!;
    expect(faulted.cells[7]).toBe('87.50%');
    expect(faulted.cells[8]).toBe('yes');
  });

  test('the markdown export, the notebook summary and the HTML report show the same tables', () => {
    const md = markdownReport(b, result, summarizeDetection(result));
    expect(md).toContain(tableMarkdown(metrics));
    expect(md).toContain(tableMarkdown(intervals));
    expect(md).toContain('LG\\|\\<b\\>\\*x\\*\\</b\\>'); // a fault name cannot break the table

    const html = viewerSummaryHtml(b, { maxIntervals: 20 });
    expect(html).toContain(viewerTableHtml(metrics));
    expect(html).toContain(viewerTableHtml(intervals, { maxRows: 20 }));
    expect(html).not.toContain('<b>');
    const text = viewerSummaryText(b, { maxIntervals: 20 });
    expect(text).toContain(viewerTableText(metrics));
    expect(text).toContain(viewerTableText(intervals, { maxRows: 20 }));

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-tables-'));
    try {
      fs.writeFileSync(path.join(dir, `tables${VIEWER_FILE_SUFFIX}`), JSON.stringify(viewerBundleToJSON(b)));
      const sections = reportSections(readRunData(dir));
      const section = sections.find((s) => s.title === 'tables')!;
      expect(section.html).toContain(viewerTableHtml(metrics));
      expect(section.html).toContain(viewerTableHtml(intervals, { maxRows: 100 }));
      expect(section.markdown).toContain(tableMarkdown(intervals));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the widget's metrics card and interval table hold the same cells", () => {
    const v = new AnomalyViewer({ plotly: null });
    Widget.attach(v, document.body);
    try {
      v.setBundle(viewerBundleToJSON(b));
      const text = (el: Element): string => el.textContent ?? '';
      const head = Array.from(v.node.querySelectorAll('.al-table thead th')).map((th) => text(th).replace(/ [▲▼]$/, ''));
      expect(head).toEqual(intervals.columns.map((c) => c.label));
      const rows = Array.from(v.node.querySelectorAll('.al-interval-row')).map((tr) =>
        Array.from(tr.querySelectorAll('td')).map((td) => text(td).replace(/ ≈$/, '')),
      );
      expect(rows).toEqual(intervals.rows.map((r) => r.cells));
      const metricRows = Array.from(v.node.querySelectorAll('.al-metrics tbody tr')).map((tr) =>
        Array.from(tr.querySelectorAll('th, td')).map(text),
      );
      expect(metricRows).toEqual(metrics.rows.map((r) => r.cells));
    } finally {
      v.dispose();
    }
  });

  test('the anomaly rate reads in percent in the metrics card, beside the rate control, and in the markdown export', () => {
    const v = new AnomalyViewer({ plotly: null });
    Widget.attach(v, document.body);
    try {
      v.setBundle(viewerBundleToJSON(b));
      const control = v.node.querySelector('.al-threshold') as HTMLInputElement;
      const rateCells = (): string[] => Array.from(v.node.querySelectorAll('.al-metrics .al-m-rate')).map((td) => td.textContent ?? '');
      for (const percent of [8, 3.5]) {
        if (percent !== 8) v.applySettings({ mode: 'rate', rate: percent / 100 });
        // the control shows the rate in percent; every metrics row at this threshold shows the same number as a percentage
        expect(Number(control.value)).toBe(percent);
        expect(rateCells()).toEqual(['without PA', 'with PA'].map(() => `${percent.toFixed(2)}%`));
        const r = v.detection!;
        expect(markdownReport(v.bundle!, r, summarizeDetection(r))).toContain(`- anomaly rate: ${percent.toFixed(2)}%`);
      }
      // machine-readable outputs keep the fraction
      expect(v.detection!.metrics!.with_pa.anomaly_rate).toBeCloseTo(0.035, 12);
    } finally {
      v.dispose();
    }
  });
});
