/**
 * The viewer's tables, built once: the metrics table and the detected-intervals table of a bundle,
 * as column names and already-formatted cells. The widget (extension DOM), the markdown export, the
 * notebook summary (HTML and text) and the HTML report all render these, so every surface shows the
 * same columns and the same numbers; they differ only in how many rows they show.
 *
 * Number formats: shares (precision, recall, F1, ESS score, confidence) and anomaly rates as
 * percentages with 2 places (`anomaly-lab metrics` prints shares so too; the threshold control reads
 * a rate in percent, so the table beside it does), scores with `formatNumber`, x values with
 * `axisValueText`, durations in the axis' natural unit (seconds or samples). Machine-readable
 * outputs (CSV, the bundle's JSON) keep rates as fractions.
 */
import { formatNumber, formatPercent, markdownTable, rateText, type MdCell } from '../format';
import type { MetricRow } from '../metrics';
import type { AxisUnit, IntervalRow, ViewerMetrics } from './types';

// rateText is declared with the other formatters (format.ts); the viewer's table API offers it too
export { rateText };

/** One column: a stable key (DOM class, sort key), its header and whether it holds numbers (right-aligned). */
export interface TableColumn {
  key: string;
  label: string;
  numeric: boolean;
}

/** A table of formatted cells; `key` names the row (metric key, or the interval's index as text). */
export interface ViewerTable {
  columns: TableColumn[];
  rows: Array<{ key: string; cells: string[] }>;
  /**
   * The table's full row count when `rows` holds only some of them (intervalsTable's `rows`: the
   * rows a view shows): renderers cut at `maxRows` count the '… N more rows' from it. Unset: `rows.length`.
   */
  totalRows?: number;
}

/** A share (precision, recall, F1, confidence …) as a percentage with 2 places; '–' for none. */
export function shareText(v: number | null | undefined): string {
  return formatPercent(v, 2);
}

/** A plain number cell (scores, durations); '–' for none. */
function numberText(v: number | null | undefined): string {
  return typeof v === 'number' && !Number.isNaN(v) ? formatNumber(v) : '–';
}

/**
 * An x value as text for tables and chart labels: a date axis as UTC 'YYYY-MM-DD hh:mm:ss[.mmm]Z'
 * (an invalid date as its number), other axes with 6 significant digits.
 */
export function axisValueText(value: number, unit: AxisUnit | undefined): string {
  if (unit === 'epoch_ms') {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d.toISOString().replace('T', ' ').replace('.000Z', 'Z');
  }
  return formatNumber(value, 6);
}

/** Duration in the axis' natural unit: seconds for time axes, samples for an index axis. */
export function durationOf(start: number, end: number, unit: AxisUnit): number {
  return unit === 'epoch_ms' ? (end - start) / 1000 : end - start;
}

export function durationUnit(unit: AxisUnit): string {
  return unit === 'index' ? 'samples' : 's';
}

/** The metric rows a table can show, in order, with their labels. */
export const METRIC_ROWS: ReadonlyArray<readonly [keyof ViewerMetrics, string]> = [
  ['without_pa', 'without PA'],
  ['with_pa', 'with PA'],
  ['random_with_pa', 'random scores, with PA'],
  ['best_without_pa', 'best F1 without PA'],
  ['best_with_pa', 'best F1 with PA'],
];

/** The metrics table (null when there are no metrics): one row per metric key present. */
export function metricsTable(metrics: Partial<Record<keyof ViewerMetrics, MetricRow | undefined>> | null | undefined): ViewerTable | null {
  if (!metrics) return null;
  const rows: ViewerTable['rows'] = [];
  for (const [key, label] of METRIC_ROWS) {
    const m = metrics[key];
    if (m) rows.push({ key, cells: [label, rateText(m.anomaly_rate), ...[m.precision, m.recall, m.f1, m.ess_score].map(shareText)] });
  }
  if (!rows.length) return null;
  const col = (key: string, label: string, numeric = true): TableColumn => ({ key, label, numeric });
  return {
    columns: [
      col('name', '', false),
      col('rate', 'anomaly rate'),
      col('precision', 'precision'),
      col('recall', 'recall'),
      col('f1', 'F1'),
      col('ess', 'ESS score'),
    ],
    rows,
  };
}

/** An interval as the table reads it: a producer's interval, or a detected one (peak score, labelled). */
export type TableInterval = IntervalRow & { peakScore?: number; labelled?: boolean };

/**
 * The intervals table, one row per interval in the given order (row key: its index there, `#` is
 * index + 1). Columns present only when some interval has them: samples (index bounds on a time
 * axis), peak score, fault and confidence; labelled when `labelled` is set (the bundle has labels).
 *
 * `rows`: the indices of the intervals to format, in the order given (default: all, in order). A
 * view that shows a page of a long list (the widget: 100,000 intervals, a few hundred rows shown)
 * formats only that page; the columns still follow every interval, so a page looks like the whole
 * table cut, and the exports (which pass no `rows`) stay complete.
 */
export function intervalsTable(
  intervals: readonly TableInterval[],
  unit: AxisUnit = 'index',
  opts: { labelled?: boolean; rows?: readonly number[] } = {},
): ViewerTable {
  const some = (f: (r: TableInterval) => boolean): boolean => intervals.some(f);
  const hasSamples = unit !== 'index' && some((r) => r.startIndex !== undefined && r.endIndex !== undefined);
  const hasPeak = some((r) => typeof r.peakScore === 'number');
  const hasFault = some((r) => r.fault !== undefined);
  const columns: TableColumn[] = [
    { key: 'index', label: '#', numeric: true },
    { key: 'start', label: unit === 'seconds' ? 'start (s)' : 'start', numeric: unit !== 'epoch_ms' },
    { key: 'end', label: unit === 'seconds' ? 'end (s)' : 'end', numeric: unit !== 'epoch_ms' },
    { key: 'duration', label: `duration (${durationUnit(unit)})`, numeric: true },
  ];
  if (hasSamples) columns.push({ key: 'samples', label: 'samples', numeric: true });
  if (hasPeak) columns.push({ key: 'peakScore', label: 'peak score', numeric: true });
  if (hasFault) columns.push({ key: 'fault', label: 'fault', numeric: false }, { key: 'confidence', label: 'confidence', numeric: true });
  if (opts.labelled) columns.push({ key: 'labelled', label: 'labelled', numeric: false });
  const formatRow = (i: number): ViewerTable['rows'][number] => {
    const r = intervals[i];
    if (!r) throw new RangeError(`intervals table: row ${i} is no interval index (0 … ${intervals.length - 1})`);
    const cells = [String(i + 1), axisValueText(r.start, unit), axisValueText(r.end, unit), numberText(durationOf(r.start, r.end, unit))];
    if (hasSamples) cells.push(r.startIndex !== undefined && r.endIndex !== undefined ? String(r.endIndex - r.startIndex) : '–');
    if (hasPeak) cells.push(numberText(r.peakScore));
    if (hasFault) cells.push(r.fault ?? '–', shareText(r.confidence));
    if (opts.labelled) cells.push(r.labelled ? 'yes' : 'no');
    return { key: String(i), cells };
  };
  if (opts.rows) return { columns, rows: opts.rows.map(formatRow), totalRows: intervals.length };
  return { columns, rows: intervals.map((_, i) => formatRow(i)) };
}

/**
 * The indices of the rows a table cut to `maxRows` shows, of `count` (the rows `slice(0, maxRows)`
 * keeps): pass them as intervalsTable's `rows` so only the rows shown are formatted (the table
 * keeps the full count, `totalRows`, for the renderers' '… N more rows' note).
 */
export function leadingRows(count: number, maxRows = Infinity): number[] {
  const m = Math.trunc(maxRows) || 0;
  const end = m < 0 ? Math.max(0, count + m) : Math.min(count, m);
  return Array.from({ length: end }, (_, i) => i);
}

/**
 * A table as markdown through the one emitter. Headers and number cells are our own formatted
 * text (digits, '%', '–', units in parentheses) and go in as they are; text cells (fault names
 * from data) are escaped.
 */
export function tableMarkdown(t: ViewerTable, maxRows = Infinity): string {
  const rows = t.rows.slice(0, maxRows).map((r) => r.cells.map((c, j): MdCell => (t.columns[j].numeric ? { md: c } : c)));
  return markdownTable(
    t.columns.map((c) => ({ md: c.label })),
    rows,
  );
}
