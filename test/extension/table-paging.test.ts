/** @jest-environment jsdom */
/**
 * The widget's interval table on a bundle with 100,000 detected intervals: it formats and builds
 * one page of rows (settings' maxTableRows), "show more" appends the next page, sorting and the
 * selection work on every interval, and the CSV and markdown exports stay complete. The real
 * AnomalyViewer in jsdom with charts off (plotly: null), as in renderer.test.ts; the bundle is
 * generated here: alternating scores on a date axis flag every other point, a fixed threshold with
 * no merge gap keeps each flagged point an interval of its own.
 */
import './jsdom-polyfills';
import { Widget } from '@lumino/widgets';
import { anomaliesCsv, intervalsTable, markdownReport, summarizeDetection, viewerBundleToJSON } from 'anomaly-lab/core';
import { AnomalyViewer } from '../../extension/src/viewer';
import { SettingsStore, normalizeSettings } from '../../extension/src/settings';
import { manyIntervals } from '../helpers/many-intervals';

const N = 200_000;
const INTERVALS = N / 2;
const PAGE = 200;

describe('the interval table of a bundle with 100,000 intervals', () => {
  const bundle = manyIntervals(N);

  test('formats and renders one page of rows; "show more" appends a page; sorting and selection cover every interval; exports stay complete', () => {
    const store = new SettingsStore(normalizeSettings({ maxTableRows: PAGE }));
    const v = new AnomalyViewer({ plotly: null, settings: store });
    Widget.attach(v, document.body);
    // every date cell of the table is formatted by axisValueText through toISOString (start and
    // end: two per formatted row); counting the calls counts the rows formatted
    const iso = jest.spyOn(Date.prototype, 'toISOString');
    try {
      v.setBundle(viewerBundleToJSON(bundle));
      const result = v.detection!;
      expect(result.intervals.length).toBe(INTERVALS);
      const rows = (): HTMLElement[] => Array.from(v.node.querySelectorAll<HTMLElement>('.al-interval-row'));
      const note = (): string | null => v.node.querySelector('.al-table-footer .al-note')?.textContent ?? null;
      expect(rows().length).toBe(PAGE);
      expect(iso.mock.calls.length).toBeLessThanOrEqual(2 * PAGE);
      expect(note()).toBe(`showing ${PAGE} of ${INTERVALS} intervals (the CSV export has all)`);

      // the page is the whole table cut: the same cells as the complete table's first rows
      const full = intervalsTable(result.intervals, 'epoch_ms');
      const cells = (tr: HTMLElement): string[] => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '');
      expect(rows().map(cells)).toEqual(full.rows.slice(0, PAGE).map((r) => r.cells));

      // "show more" appends the next page (the rows already built stay the same elements)
      const first = rows()[0];
      iso.mockClear();
      const more = v.node.querySelector<HTMLButtonElement>('.al-show-more')!;
      expect(more.textContent).toBe(`show ${PAGE} more`);
      more.click();
      expect(rows().length).toBe(2 * PAGE);
      expect(rows()[0]).toBe(first);
      expect(iso.mock.calls.length).toBeLessThanOrEqual(2 * PAGE);
      expect(note()).toBe(`showing ${2 * PAGE} of ${INTERVALS} intervals (the CSV export has all)`);
      expect(rows().map(cells)).toEqual(full.rows.slice(0, 2 * PAGE).map((r) => r.cells));

      // select a row, then sort by start descending: the last interval of all comes first, the
      // pages shown stay two, and the selected interval keeps its mark when it is shown again
      rows()[3].click();
      expect(v.node.querySelector('.al-selected')!.getAttribute('data-interval')).toBe('3');
      const byStart = (): HTMLElement => v.node.querySelector<HTMLElement>('th[data-sort="start"]')!;
      byStart().click(); // a new sort key: start sorts ascending first
      byStart().click(); // descending
      expect(byStart().getAttribute('aria-sort')).toBe('descending');
      expect(rows().length).toBe(2 * PAGE);
      expect(rows()[0].getAttribute('data-interval')).toBe(String(INTERVALS - 1));
      expect(v.node.querySelector('.al-selected')).toBeNull(); // interval 3 is not among the last 400
      byStart().click(); // ascending again
      expect(v.node.querySelector('.al-selected')!.getAttribute('data-interval')).toBe('3');

      // the exports hold every interval
      const csv = anomaliesCsv(v.bundle!, result).trimEnd().split('\n');
      expect(csv.length).toBe(INTERVALS + 1);
      const md = markdownReport(v.bundle!, result, summarizeDetection(result));
      const anomalies = md.slice(md.indexOf('## Anomalies')).split('\n');
      const numbered = anomalies.filter((l) => /^\| \d+ \| /.test(l)); // a row per interval, `#` first
      expect(numbered.length).toBe(INTERVALS);
      expect(numbered[INTERVALS - 1].startsWith(`| ${INTERVALS} | `)).toBe(true);
    } finally {
      iso.mockRestore();
      v.dispose();
    }
  });

  test('the core formats the rows asked for, in the order asked, with the columns of every interval', () => {
    const intervals = [
      { start: 0, end: 2 },
      { start: 5, end: 6, fault: 'LG', confidence: 0.5 },
      { start: 9, end: 12 },
    ];
    const all = intervalsTable(intervals);
    const page = intervalsTable(intervals, 'index', { rows: [2, 0] });
    expect(page.columns).toEqual(all.columns); // the fault columns come from interval 1, not shown
    expect(page.rows).toEqual([all.rows[2], all.rows[0]]);
    expect(() => intervalsTable(intervals, 'index', { rows: [3] })).toThrow('intervals table: row 3 is no interval index (0 … 2)');
  });
});
