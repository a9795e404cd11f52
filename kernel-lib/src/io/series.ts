/**
 * Multivariate time series from files: `.npy` (1-D or 2-D), `.parquet`, `.csv`, or a directory of
 * them (files sorted by name, concatenated — e.g. one file per day). A view on the table layer
 * (io/table.ts), read as float32.
 *
 * Values are row-major float32 (length, C) — the layout the models consume. Time stamps:
 * parquet TIMESTAMP columns and date/time text become epoch milliseconds (text without a zone is
 * read as UTC unless `utcOffset` says otherwise — never the machine's zone); a numeric time column
 * (e.g. the power CSV's `Time` in seconds) is kept as is.
 *
 * Errors name the file and, where it applies, the column and the row/line, and list the available
 * columns when a requested one is missing. Non-finite or missing values are an error by default
 * (`nan: 'drop'` drops those rows, `nan: 'ffill'` carries the last valid value forward).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  checkNanOption,
  readTable,
  requireColumns,
  TABLE_EXTENSIONS,
  tableToCsv,
  tableToParquet,
  type ReadTableOptions,
  type Table,
  type WritableTable,
} from './table';
import { writeFileAtomic } from './atomic';

export { checkParquetRows } from './parquet-guard';
export { parseTimestamp, parseUtcOffset } from './table';
export type { NanPolicy } from './table';

export interface Series {
  /** File or directory the series came from. */
  source: string;
  columns: string[];
  length: number;
  /** row-major (length, C) */
  values: Float32Array;
  /** epoch ms (or the raw numbers of a numeric time column), when a time column exists */
  time?: Float64Array;
  /** Name of the time column, when one was used. */
  timeColumn?: string;
  /** For directory input: which rows came from which file (windows should not straddle them). */
  segments?: Array<{ file: string; start: number; length: number }>;
}

/**
 * Several series with the same columns, end to end (e.g. chosen days of one site). Each part
 * becomes a file segment (unless `segments: false`), so degradation windows never straddle two
 * parts; time is kept only when every part has it.
 */
export function concatSeries(parts: Series[], opts: { segments?: boolean } = {}): Series {
  if (parts.length === 0) throw new Error('concatSeries: no series given');
  const columns = parts[0].columns;
  for (const p of parts) {
    if (p.columns.length !== columns.length || p.columns.some((c, i) => c !== columns[i])) {
      throw new Error(`${p.source}: columns ${p.columns.join(',')} differ from ${parts[0].source}'s ${columns.join(',')}`);
    }
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  const values = new Float32Array(length * columns.length);
  const withTime = parts.every((p) => p.time !== undefined);
  const time = withTime ? new Float64Array(length) : undefined;
  const segments: NonNullable<Series['segments']> = [];
  let row = 0;
  for (const p of parts) {
    values.set(p.values, row * columns.length);
    if (time && p.time) time.set(p.time, row);
    segments.push({ file: p.source, start: row, length: p.length });
    row += p.length;
  }
  const out: Series = { source: parts.map((p) => path.basename(p.source)).join('+'), columns, length, values };
  if (opts.segments !== false) out.segments = segments;
  if (time) out.time = time;
  return out;
}

/**
 * Rows [start, end) of a series: values and time sliced together; file segments are clipped to
 * the range (so degradation still never straddles two files). Copies, never views.
 */
export function sliceSeries(series: Series, start: number, end: number): Series {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= series.length)) {
    throw new Error(`${series.source}: row range [${start}, ${end}) is outside the series (0..${series.length})`);
  }
  const C = series.columns.length;
  const out: Series = {
    source: series.source,
    columns: series.columns,
    length: end - start,
    values: series.values.slice(start * C, end * C),
  };
  if (series.time) out.time = series.time.slice(start, end);
  if (series.timeColumn !== undefined) out.timeColumn = series.timeColumn;
  if (series.segments) {
    out.segments = series.segments
      .map((g) => ({ file: g.file, start: Math.max(g.start, start) - start, end: Math.min(g.start + g.length, end) - start }))
      .filter((g) => g.end > g.start)
      .map((g) => ({ file: g.file, start: g.start, length: g.end - g.start }));
  }
  return out;
}

/** How `loadSeries` reads each file: the table options (io/table.ts); values are always float32. */
export type LoadSeriesOptions = Omit<ReadTableOptions, 'dtype'>;

function listDirectory(dir: string): string[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => (TABLE_EXTENSIONS as readonly string[]).includes(path.extname(f).toLowerCase()) && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`${dir}: directory holds no ${TABLE_EXTENSIONS.join('/')} files`);
  return files;
}

/**
 * Load a series from a `.npy`, `.parquet` or `.csv` file or a directory of them.
 * For `.npy` the columns are named col0, col1, …; a `columns` list naming every column of a .npy
 * (same count) names them positionally.
 */
export async function loadSeries(pathOrDir: string, opts: LoadSeriesOptions = {}): Promise<Series> {
  if (!fs.existsSync(pathOrDir)) throw new Error(`${pathOrDir}: no such file or directory`);
  checkNanOption(opts.nan);
  const isDir = fs.statSync(pathOrDir).isDirectory();
  const files = isDir ? listDirectory(pathOrDir) : [pathOrDir];
  const tables: Array<Table<Float32Array>> = [];
  let columns = opts.columns;
  let timeColumn = opts.timeColumn;
  for (const f of files) {
    const t = await readTable(f, { ...opts, columns, timeColumn, dtype: 'float32' });
    if (columns === undefined) columns = t.columns; // later files must provide the first file's columns
    if (timeColumn === undefined) timeColumn = t.timeColumn ?? null;
    tables.push(t);
  }
  const C = tables[0].columns.length;
  const length = tables.reduce((s, t) => s + t.length, 0);
  const values = new Float32Array(length * C);
  const withTime = tables.every((t) => t.time !== undefined);
  const time = withTime ? new Float64Array(length) : undefined;
  const segments: Array<{ file: string; start: number; length: number }> = [];
  let offset = 0;
  for (const t of tables) {
    const n = t.length;
    for (let j = 0; j < C; j++) {
      const col = t.data[j];
      for (let i = 0; i < n; i++) values[(offset + i) * C + j] = col[i];
    }
    if (time && t.time) time.set(t.time, offset);
    segments.push({ file: t.file, start: offset, length: n });
    offset += n;
  }
  const series: Series = { source: pathOrDir, columns: [...tables[0].columns], length, values };
  if (time) {
    series.time = time;
    series.timeColumn = tables[0].timeColumn;
  }
  if (isDir) series.segments = segments;
  return series;
}

/** Select columns of a loaded series by name (error lists the available ones). */
export function selectColumns(series: Series, columns: string[]): Series {
  requireColumns(series.source, columns, series.columns);
  const C = series.columns.length;
  const idx = columns.map((c) => series.columns.indexOf(c));
  const values = new Float32Array(series.length * columns.length);
  for (let i = 0; i < series.length; i++) for (let j = 0; j < idx.length; j++) values[i * idx.length + j] = series.values[i * C + idx[j]];
  return { ...series, columns: [...columns], values };
}

// ---------------------------------------------------------------- writers (tests and tools)

export interface WritableSeries {
  columns: string[];
  /** row-major (length, C) */
  values: ArrayLike<number>;
  length?: number;
  /** epoch ms */
  time?: ArrayLike<number>;
  timeColumn?: string;
}

function seriesLength(s: WritableSeries): number {
  const C = s.columns.length;
  const n = s.length ?? (C === 0 ? 0 : s.values.length / C);
  if (!Number.isInteger(n) || n * C !== s.values.length)
    throw new Error(`series values hold ${s.values.length} numbers, not a multiple of ${C} columns`);
  if (s.time && s.time.length !== n) throw new Error(`series time has ${s.time.length} entries for ${n} rows`);
  return n;
}

/** The table of a row-major series (one column array each). */
function seriesTable(s: WritableSeries): WritableTable {
  const n = seriesLength(s);
  const C = s.columns.length;
  const data = s.columns.map((_, j) => Float64Array.from({ length: n }, (_v, i) => s.values[i * C + j]));
  return { columns: s.columns, data, time: s.time, timeColumn: s.timeColumn };
}

/** Write a CSV (header + rows, time as ISO-8601 UTC text) atomically. */
export function writeCsv(file: string, s: WritableSeries): void {
  writeFileAtomic(file, tableToCsv(seriesTable(s)));
}

/** Write a parquet file (DOUBLE columns, TIMESTAMP (ms) time column) atomically. */
export async function writeParquet(file: string, s: WritableSeries): Promise<void> {
  writeFileAtomic(file, await tableToParquet(seriesTable(s)));
}
