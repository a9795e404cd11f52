/**
 * The notebook summary (HTML and text) and the HTML report cut the interval table to 20 / 100
 * rows: they format only the rows they show (intervalsTable's `rows`), and print the same tables
 * as formatting every interval and cutting afterwards. A bundle with 20,000 intervals on a date
 * axis: every date cell is formatted through Date.prototype.toISOString (start and end, two per
 * row), so counting the calls counts the rows formatted, as table-paging.test.ts does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeViewerBundle, intervalsTable, viewerBundleToJSON } from 'anomaly-lab/core';
import { initialDetection, viewerSummaryHtml, viewerSummaryText } from 'anomaly-lab/notebook';
import { readRunData, reportSections } from 'anomaly-lab/report';
import { viewerTableHtml, viewerTableText } from 'anomaly-lab/render';
import { manyIntervals } from '../helpers/many-intervals';

const N = 40_000;
const INTERVALS = N / 2;

const bundle = manyIntervals(N);
const result = initialDetection(decodeViewerBundle(bundle))!;
/** The whole table, formatted as before: every interval, cut when rendered. */
const everyRow = intervalsTable(result.intervals, 'epoch_ms', { labelled: false });

/** Runs `f` and counts its toISOString calls (date cells formatted). */
function isoCalls<T>(f: () => T): { value: T; calls: number } {
  const iso = jest.spyOn(Date.prototype, 'toISOString');
  try {
    const value = f();
    return { value, calls: iso.mock.calls.length };
  } finally {
    iso.mockRestore();
  }
}

test('the bundle has 20,000 intervals; the full table formats each (two dates per row)', () => {
  expect(result.intervals.length).toBe(INTERVALS);
  expect(isoCalls(() => intervalsTable(result.intervals, 'epoch_ms')).calls).toBe(2 * INTERVALS);
});

test('the notebook summary formats the rows it shows (20 by default), with the same tables as before', () => {
  const html = isoCalls(() => viewerSummaryHtml(bundle));
  const text = isoCalls(() => viewerSummaryText(bundle));
  expect(html.value).toContain(`<h4>Detected intervals</h4>${viewerTableHtml(everyRow, { maxRows: 20 })}`);
  expect(html.value).toContain(`… ${INTERVALS - 20} more rows`);
  expect(text.value).toContain(`Detected intervals\n${viewerTableText(everyRow, { maxRows: 20 })}`);
  // 20 more rows shown: 40 more dates formatted per summary; the rest does not grow with the intervals
  const html40 = isoCalls(() => viewerSummaryHtml(bundle, { maxIntervals: 40 }));
  const text40 = isoCalls(() => viewerSummaryText(bundle, { maxIntervals: 40 }));
  expect(html40.calls - html.calls).toBe(2 * 20);
  expect(text40.calls - text.calls).toBe(2 * 20);
  expect(html.calls).toBeLessThan(200);
  expect(text.calls).toBeLessThan(200);
});

test('the HTML report formats the 100 rows its table shows (the markdown export keeps every interval)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-interval-rows-'));
  try {
    fs.writeFileSync(path.join(dir, 'many.anomaly.json'), viewerBundleToJSON(bundle));
    const d = readRunData(dir);
    const { value: sections, calls } = isoCalls(() => reportSections(d));
    const html = sections.map((s) => s.html).join('');
    expect(html).toContain(`<h4>Detected intervals</h4>${viewerTableHtml(everyRow, { maxRows: 100 })}`);
    expect(html).toContain(`… ${INTERVALS - 100} more rows`);
    expect(sections.map((s) => s.markdown).join('')).toContain(`| ${INTERVALS} |`);
    // the markdown export formats every interval once (2 dates each); the HTML table only its 100
    // rows (was every interval again: 4 × 20,000 calls)
    expect(calls).toBeGreaterThanOrEqual(2 * INTERVALS);
    expect(calls).toBeLessThan(2 * INTERVALS + 2 * 100 + 200);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
