/**
 * danfojs DataFrames where a table is the natural result: loaded series (with describe()), interval
 * tables, metric rows and sweeps. danfojs-node takes seconds to load (it brings its own tfjs
 * bindings), so it is required lazily, on the first frame.
 *
 * `showFrame(df)` displays a frame as ONE output with an escaped HTML table and aligned text;
 * danfojs' own `print()` writes box-drawing text only.
 */
import type { DataFrame } from 'danfojs-node';
import type { IntervalRow } from '../browser/viewer/types';
import { display, type ShowOptions } from './display';
import { escapeHtml, htmlTable, summaryWrapper, textTable, type Cell } from '../render/html';

type Danfo = typeof import('danfojs-node');
let danfo: Danfo | undefined;

/** The danfojs-node module (loaded on first use). */
export function danfojs(): Danfo {
  if (!danfo) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    danfo = require('danfojs-node') as Danfo;
  }
  return danfo;
}

/** A series as io's `Series` holds it: row-major values (length, C), optional epoch-ms time. */
export interface FrameSeries {
  columns: string[];
  length: number;
  values: Float32Array | Float64Array;
  time?: Float64Array;
}

function checkSeries(s: FrameSeries, what: string): void {
  if (s.values.length !== s.length * s.columns.length) {
    throw new Error(`${what}: values hold ${s.values.length} numbers, expected length ${s.length} × ${s.columns.length} columns`);
  }
}

/**
 * The first `maxRows` rows of a series (default all) as a DataFrame; a `time` column (ISO text) is
 * added when the series has epoch-ms times. Large series: pass maxRows, or use describeSeries.
 */
export function seriesFrame(series: FrameSeries, opts: { maxRows?: number; start?: number } = {}): DataFrame {
  checkSeries(series, 'seriesFrame');
  const C = series.columns.length;
  const start = Math.max(0, opts.start ?? 0);
  const end = Math.min(series.length, start + (opts.maxRows ?? series.length));
  const data: Record<string, Array<number | string>> = {};
  if (series.time) data.time = Array.from(series.time.subarray(start, end), (t) => new Date(t).toISOString());
  series.columns.forEach((c, j) => {
    const col = new Array<number>(end - start);
    for (let i = start; i < end; i++) col[i - start] = series.values[i * C + j];
    data[c] = col;
  });
  const index = Array.from({ length: end - start }, (_, k) => start + k);
  return new (danfojs().DataFrame)(data, { index });
}

/**
 * describe()-style summary of every column (count, mean, std, min, quartiles, max), computed on
 * the typed arrays in one pass per column so a 700,000-row day costs milliseconds, then returned as
 * a DataFrame (rows = statistics, columns = series columns). std is the sample std, as pandas does.
 */
export function describeSeries(series: FrameSeries): DataFrame {
  checkSeries(series, 'describeSeries');
  const C = series.columns.length;
  const n = series.length;
  const stats = ['count', 'mean', 'std', 'min', '25%', '50%', '75%', 'max'];
  const data: Record<string, number[]> = {};
  const col = new Float64Array(n);
  series.columns.forEach((c, j) => {
    let m = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = series.values[i * C + j];
      if (Number.isNaN(v)) continue;
      col[count++] = v;
    }
    const finite = col.subarray(0, count);
    for (let i = 0; i < count; i++) m += finite[i];
    const mean = count ? m / count : NaN;
    let ss = 0;
    for (let i = 0; i < count; i++) ss += (finite[i] - mean) ** 2;
    const sorted = Float64Array.from(finite).sort();
    const q = (p: number): number => {
      if (count === 0) return NaN;
      const pos = p * (count - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(count - 1, lo + 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    };
    data[c] = [count, mean, count > 1 ? Math.sqrt(ss / (count - 1)) : NaN, q(0), q(0.25), q(0.5), q(0.75), q(1)];
  });
  return new (danfojs().DataFrame)(data, { index: stats });
}

/** Intervals (detected or labelled) as a DataFrame: start, end, duration, samples, fault, confidence. */
export function intervalsFrame(rows: IntervalRow[]): DataFrame {
  const data: Record<string, Array<number | string>> = {
    start: rows.map((r) => r.start),
    end: rows.map((r) => r.end),
    duration: rows.map((r) => r.end - r.start),
  };
  if (rows.some((r) => r.startIndex !== undefined)) data.samples = rows.map((r) => (r.endIndex ?? NaN) - (r.startIndex ?? NaN));
  if (rows.some((r) => r.fault !== undefined)) {
    data.fault = rows.map((r) => r.fault ?? '');
    data.confidence = rows.map((r) => r.confidence ?? NaN);
  }
  if (rows.length === 0) return new (danfojs().DataFrame)([], { columns: Object.keys(data) });
  return new (danfojs().DataFrame)(data);
}

/** Metric rows (precision/recall/F1/ESS) keyed by a label, e.g. { 'without PA': row, 'with PA': row }. */
export function metricsFrame(
  rows: Record<string, { anomaly_rate: number; precision: number; recall: number; f1: number; ess_score: number }>,
): DataFrame {
  const labels = Object.keys(rows);
  const data = {
    anomaly_rate: labels.map((k) => rows[k].anomaly_rate),
    precision: labels.map((k) => rows[k].precision),
    recall: labels.map((k) => rows[k].recall),
    f1: labels.map((k) => rows[k].f1),
    ess_score: labels.map((k) => rows[k].ess_score),
  };
  return new (danfojs().DataFrame)(data, { index: labels });
}

/** A frame's rows as table cells (index first). */
export function frameCells(df: DataFrame): { columns: string[]; rows: Cell[][] } {
  const columns = ['', ...df.columns.map(String)];
  const values = df.values as unknown[][];
  const index = df.index as Array<string | number>;
  const rows = values.map(
    (r, i) =>
      [index[i], ...(Array.isArray(r) ? r : [r])].map((v) =>
        typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || v === null ? v : String(v),
      ) as Cell[],
  );
  return { columns, rows };
}

/** Display a DataFrame as one output: escaped HTML table + aligned text (first `maxRows` rows). */
export function showFrame(df: DataFrame, opts: ShowOptions & { title?: string; maxRows?: number } = {}): void {
  const { columns, rows } = frameCells(df);
  const maxRows = opts.maxRows ?? 30;
  const shape = `${df.shape[0]} rows × ${df.shape[1]} columns`;
  const title = opts.title ? `<h4>${escapeHtml(opts.title)} <small>(${shape})</small></h4>` : `<p class="al-meta">${shape}</p>`;
  const text = `${opts.title ? `${opts.title} ` : ''}(${shape})\n${textTable(columns, rows, { maxRows })}`;
  display({ 'text/html': summaryWrapper(title + htmlTable(columns, rows, { maxRows })), 'text/plain': text }, opts);
}
