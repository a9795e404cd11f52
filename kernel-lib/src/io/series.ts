/**
 * Multivariate time series from files: `.npy` (1-D or 2-D), `.parquet`, `.csv`, or a directory of
 * them (files sorted by name, concatenated — e.g. one file per day).
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
import { readNpy, toFloat64 } from './npy';
import { writeFileAtomic } from './atomic';
import { libraryErrorText, limitError, resolveLimits, wrapParseError } from '../limits';
import { checkParquetPages, checkParquetRows, flatDefinitionLevels, hyparquetDecompressor } from './parquet-guard';

export { checkParquetRows } from './parquet-guard';
import { quoteName } from '../browser/text';

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

export type NanPolicy = 'error' | 'drop' | 'ffill';

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

export interface LoadSeriesOptions {
  /** Columns to load, in this order. Default: every numeric column except the time column. */
  columns?: string[];
  /**
   * Time column name. Default: the first of TIMESTAMP, datetime, timestamp, time, date (any case)
   * that exists; `null` disables time handling.
   */
  timeColumn?: string | null;
  /** What to do with NaN/inf/missing values in the selected columns (default 'error'). */
  nan?: NanPolicy;
  /**
   * Zone of date/time text that carries none, e.g. '+09:00' for the Korean ESS logs
   * (default UTC). Text with its own zone and parquet TIMESTAMP columns are not affected.
   */
  utcOffset?: string | number;
}

const TIME_NAMES = ['timestamp', 'datetime', 'time', 'date'];
const SUPPORTED = ['.npy', '.parquet', '.csv'];

/** A raw table: named float64 columns (NaN for missing) plus an optional time column. */
interface Table {
  file: string;
  columns: string[];
  data: Float64Array[];
  time?: Float64Array;
  timeColumn?: string;
  /** describes row i for error messages */
  rowLabel: (i: number) => string;
}

/** The available columns for a message: quoted (control characters escaped), the first 20 only. */
function listColumns(available: string[]): string {
  const shown = available
    .slice(0, 20)
    .map((c) => quoteName(c, 60))
    .join(', ');
  return available.length > 20 ? `${shown}, … (${available.length} in all)` : shown;
}

function pickTimeColumn(file: string, available: string[], opt: string | null | undefined): string | undefined {
  if (opt === null) return undefined;
  if (opt !== undefined) {
    if (!available.includes(opt)) {
      throw new Error(`${file}: time column ${quoteName(opt)} not found; available columns: ${listColumns(available)}`);
    }
    return opt;
  }
  for (const n of TIME_NAMES) {
    const hit = available.find((c) => c.toLowerCase() === n);
    if (hit) return hit;
  }
  return undefined;
}

function checkRequested(file: string, requested: string[], available: string[]): void {
  // Sets, not indexOf: a header of 100,000 columns must not cost 10^10 comparisons.
  const have = new Set(available);
  const missing = requested.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new Error(
      `${file}: column${missing.length > 1 ? 's' : ''} ${missing
        .slice(0, 20)
        .map((m) => quoteName(m, 60))
        .join(', ')} not found; available columns: ${listColumns(available)}`,
    );
  }
  const seen = new Set<string>();
  for (const c of requested) {
    if (seen.has(c)) throw new Error(`${file}: column ${quoteName(c)} requested twice`);
    seen.add(c);
  }
}

/** Column name → index (first occurrence). */
function indexOfColumns(names: string[]): Map<string, number> {
  const m = new Map<string, number>();
  names.forEach((n, i) => {
    if (!m.has(n)) m.set(n, i);
  });
  return m;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NAN_RE = /^[+-]?(?:nan|NaN|NAN|inf|Inf|INF|infinity|Infinity|INFINITY)$/;

/** Strict number parsing: '' and NaN spellings → NaN (missing), garbage → undefined. */
function parseNumber(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return NaN;
  if (NUMBER_RE.test(s)) return Number(s);
  if (NAN_RE.test(s)) {
    const lower = s.toLowerCase();
    if (lower.includes('nan')) return NaN;
    return s.startsWith('-') ? -Infinity : Infinity;
  }
  return undefined;
}

const DATETIME_RE = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** '+09:00' / '-0530' / 'Z' / minutes → minutes east of UTC. */
export function parseUtcOffset(offset: string | number): number {
  if (typeof offset === 'number') {
    if (!Number.isFinite(offset) || Math.abs(offset) > 18 * 60) throw new Error(`utcOffset must be within ±18 h in minutes, got ${offset}`);
    return offset;
  }
  if (offset === 'Z' || offset === 'UTC') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset.trim());
  if (!m) throw new Error(`utcOffset must look like '+09:00', got '${offset}'`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * Date/time text → epoch ms: 'YYYY-MM-DD[ T]hh:mm[:ss[.fff]][Z|±hh:mm]' (also with '/' between
 * date parts) or a plain number (kept as is). Text without a zone is read at `defaultOffsetMinutes`
 * east of UTC (default 0 = UTC, never the machine's zone, so results are reproducible). Anything
 * else → NaN (callers turn that into an error naming file, column and row).
 */
export function parseTimestamp(text: string, defaultOffsetMinutes = 0): number {
  const s = text.trim();
  const m = DATETIME_RE.exec(s);
  if (!m) return NUMBER_RE.test(s) ? Number(s) : NaN;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const year = +y;
  const month = +mo;
  const day = +d;
  const hour = h === undefined ? 0 : +h;
  const minute = mi === undefined ? 0 : +mi;
  const second = sec === undefined ? 0 : +sec;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return NaN;
  const t = Date.UTC(year, month - 1, day, hour, minute, second) + (frac ? Math.round(Number(frac) * 1e6) / 1e3 : 0);
  const offset = zone === undefined ? defaultOffsetMinutes : parseUtcOffset(zone);
  return t - offset * 60000;
}

// ---------------------------------------------------------------- CSV

/**
 * RFC 4180 rows: quoted fields ("" escapes a quote, newlines allowed inside quotes), CRLF or LF,
 * blank lines skipped. Lines without quotes (nearly all numeric data) take a split(',') fast path.
 */
function parseCsvRows(text: string, file: string): { rows: string[][]; lines: number[] } {
  const rows: string[][] = [];
  const lines: number[] = [];
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0; // BOM
  let line = 1;
  let nextQuote = text.indexOf('"', pos); // searched again only once passed (keeps parsing linear)
  while (pos < n) {
    if (nextQuote >= 0 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    let end = eol;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--; // CR of CRLF
    const startLine = line;
    if (nextQuote < 0 || nextQuote >= end) {
      if (end > pos) {
        rows.push(text.slice(pos, end).split(','));
        lines.push(startLine);
      }
      pos = eol + 1;
      line++;
      continue;
    }
    // a record with quotes: character by character, possibly across lines
    const row: string[] = [];
    let field = '';
    let inQuotes = false;
    let fieldStart = true;
    let i = pos;
    for (;;) {
      if (i >= n) {
        if (inQuotes) throw new Error(`${file}: unterminated quoted field starting on line ${startLine}`);
        row.push(field);
        pos = n;
        break;
      }
      const ch = text[i];
      if (inQuotes) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          inQuotes = false;
        } else {
          if (ch === '\n') line++;
          field += ch;
        }
        i++;
        continue;
      }
      if (ch === '"' && fieldStart) {
        inQuotes = true;
        fieldStart = false;
        i++;
      } else if (ch === ',') {
        row.push(field);
        field = '';
        fieldStart = true;
        i++;
      } else if (ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) {
        row.push(field);
        pos = ch === '\r' ? i + 2 : i + 1;
        line++;
        break;
      } else {
        field += ch;
        fieldStart = false;
        i++;
      }
    }
    rows.push(row);
    lines.push(startLine);
  }
  return { rows, lines };
}

function readCsvTable(file: string, opts: LoadSeriesOptions): Table {
  const limits = resolveLimits();
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > limits.CSV_MAX_BYTES)
      throw limitError(file, 'CSV_MAX_BYTES', limits.CSV_MAX_BYTES, `a CSV of ${size} bytes (convert it to parquet)`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as Error).name === 'LimitError') throw e;
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  const { rows, lines } = parseCsvRows(text, file);
  if (rows.length === 0) throw new Error(`${file}: empty CSV (no header row)`);
  if (rows[0].length > limits.CSV_MAX_COLUMNS)
    throw limitError(file, 'CSV_MAX_COLUMNS', limits.CSV_MAX_COLUMNS, `a CSV header of ${rows[0].length} columns`);
  const header = rows[0].map((h) => h.trim());
  const headerIndex = indexOfColumns(header);
  if (headerIndex.size !== header.length) {
    const dupHeader = header.find((h, i) => headerIndex.get(h) !== i);
    throw new Error(`${file}: duplicate column name ${quoteName(dupHeader ?? '')} in the header`);
  }
  const body = rows.slice(1);
  const bodyLines = lines.slice(1);
  body.forEach((r, i) => {
    if (r.length !== header.length) {
      throw new Error(`${file}: line ${bodyLines[i]} has ${r.length} fields, the header has ${header.length}`);
    }
  });
  const timeColumn = pickTimeColumn(file, header, opts.timeColumn);
  let selected: string[];
  if (opts.columns) {
    checkRequested(file, opts.columns, header);
    selected = opts.columns;
  } else {
    // default: columns whose first non-empty cell is a number
    selected = header.filter((h, j) => {
      if (h === timeColumn) return false;
      const first = body.find((r) => r[j].trim() !== '');
      return first !== undefined && parseNumber(first[j]) !== undefined;
    });
    if (selected.length === 0) throw new Error(`${file}: no numeric columns; columns: ${listColumns(header)}`);
  }
  const data = selected.map((name) => {
    const j = headerIndex.get(name)!;
    const col = new Float64Array(body.length);
    for (let i = 0; i < body.length; i++) {
      const v = parseNumber(body[i][j]);
      if (v === undefined) {
        throw new Error(
          `${file}: column ${quoteName(name)}, row ${i + 1} (line ${bodyLines[i]}): ${quoteName(body[i][j], 60)} is not a number`,
        );
      }
      col[i] = v;
    }
    return col;
  });
  let time: Float64Array | undefined;
  if (timeColumn !== undefined) {
    const offset = parseUtcOffset(opts.utcOffset ?? 0);
    const j = headerIndex.get(timeColumn)!;
    time = new Float64Array(body.length);
    for (let i = 0; i < body.length; i++) {
      const t = parseTimestamp(body[i][j], offset);
      if (!Number.isFinite(t)) {
        throw new Error(
          `${file}: time column ${quoteName(timeColumn)}, row ${i + 1} (line ${bodyLines[i]}): cannot parse ${quoteName(body[i][j], 60)} as a date/time`,
        );
      }
      time[i] = t;
    }
  }
  return { file, columns: selected, data, time, timeColumn, rowLabel: (i) => `row ${i + 1} (line ${bodyLines[i]})` };
}

// ---------------------------------------------------------------- parquet

// hyparquet is ESM-only: loaded with a real import() (kept as such in the CommonJS build).
const importHyparquet = async () => {
  const hp = await import('hyparquet');
  const comp = await import('hyparquet-compressors');
  return { hp, compressors: comp.compressors };
};
let hyparquetPromise: ReturnType<typeof importHyparquet> | undefined;
function loadHyparquet(): ReturnType<typeof importHyparquet> {
  hyparquetPromise ??= importHyparquet();
  return hyparquetPromise;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) return NaN;
  if (v instanceof Date) return v.getTime();
  return NaN;
}

const NUMERIC_PARQUET = new Set(['BOOLEAN', 'INT32', 'INT64', 'FLOAT', 'DOUBLE']);

async function readParquetTable(file: string, opts: LoadSeriesOptions): Promise<Table> {
  const { hp, compressors } = await loadHyparquet();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let metadata: ReturnType<typeof hp.parquetMetadata>;
  try {
    metadata = hp.parquetMetadata(ab);
  } catch (e) {
    throw new Error(`${file}: not a readable parquet file: ${libraryErrorText(e)}`);
  }
  checkParquetRows(file, metadata, ab.byteLength);
  const tree = hp.parquetSchema(metadata);
  const fields = tree.children.map((c) => c.element);
  const available = fields.map((f) => f.name);
  const isTimestamp = (f: (typeof fields)[number]): boolean =>
    f.logical_type?.type === 'TIMESTAMP' ||
    f.converted_type === 'TIMESTAMP_MILLIS' ||
    f.converted_type === 'TIMESTAMP_MICROS' ||
    f.type === 'INT96';
  const timeColumn = pickTimeColumn(file, available, opts.timeColumn);
  let selected: string[];
  if (opts.columns) {
    checkRequested(file, opts.columns, available);
    selected = opts.columns;
  } else {
    selected = fields
      .filter(
        (f) =>
          f.name !== timeColumn &&
          f.type !== undefined &&
          NUMERIC_PARQUET.has(f.type) &&
          !isTimestamp(f) &&
          !f.logical_type?.type?.startsWith('DATE'),
      )
      .map((f) => f.name);
    if (selected.length === 0) throw new Error(`${file}: no numeric columns; columns: ${listColumns(available)}`);
  }
  for (const name of selected) {
    const f = fields.find((x) => x.name === name);
    if (!f || f.type === undefined || !NUMERIC_PARQUET.has(f.type) || isTimestamp(f)) {
      throw new Error(
        `${file}: column ${quoteName(name)} is not numeric (parquet type ${f?.type ?? 'group'}${f?.logical_type ? ' ' + f.logical_type.type : ''})`,
      );
    }
  }
  const n = Number(metadata.num_rows);
  const wanted = timeColumn !== undefined ? [...selected, timeColumn] : selected;
  // Page headers size hyparquet's arrays: checked before any page is decoded.
  checkParquetPages(file, new Uint8Array(ab), metadata, wanted, {
    decompress: hyparquetDecompressor(compressors, hp.snappyUncompress),
    maxDefinitionLevels: flatDefinitionLevels(tree.children),
  });
  const chunks = new Map<string, Array<{ start: number; values: ArrayLike<unknown> }>>();
  wanted.forEach((c) => chunks.set(c, []));
  try {
    await hp.parquetRead({
      file: ab,
      metadata,
      columns: wanted,
      compressors,
      parsers: {
        // keep timestamps as epoch-ms numbers (no Date objects: faster, and sub-ms precision stays)
        timestampFromMilliseconds: (v: bigint) => Number(v),
        timestampFromMicroseconds: (v: bigint) => Number(v) / 1e3,
        timestampFromNanoseconds: (v: bigint) => Number(v / 1000n) / 1e3,
        dateFromDays: (d: number) => d * 86400000,
      },
      onChunk: (c) => {
        chunks.get(c.columnName)?.push({ start: c.rowStart, values: c.columnData as ArrayLike<unknown> });
      },
    });
  } catch (e) {
    throw new Error(`${file}: cannot decode parquet data: ${libraryErrorText(e)}`);
  }
  // Rows actually decoded must match the footer before num_rows sizes any array.
  for (const name of wanted) {
    const got = (chunks.get(name) ?? []).reduce((m, c) => Math.max(m, c.start + c.values.length), 0);
    if (got < n) throw new Error(`${file}: column ${quoteName(name)} holds ${got} rows, the footer says ${n} (corrupt parquet file)`);
  }
  const assemble = (name: string, convert: (v: unknown, row: number) => number): Float64Array => {
    const out = new Float64Array(n).fill(NaN);
    for (const { start, values } of chunks.get(name) ?? []) {
      for (let i = 0; i < values.length && start + i < n; i++) out[start + i] = convert(values[i], start + i);
    }
    return out;
  };
  const data = selected.map((name) => assemble(name, toNumber));
  let time: Float64Array | undefined;
  if (timeColumn !== undefined) {
    const offset = parseUtcOffset(opts.utcOffset ?? 0);
    time = assemble(timeColumn, (v, row) => {
      const t = typeof v === 'string' ? parseTimestamp(v, offset) : toNumber(v);
      if (!Number.isFinite(t)) {
        throw new Error(
          `${file}: time column ${quoteName(timeColumn)}, row ${row} (0-based): cannot read ${quoteName(String(v), 60)} as a time`,
        );
      }
      return t;
    });
  }
  return { file, columns: selected, data, time, timeColumn, rowLabel: (i) => `row ${i} (0-based)` };
}

// ---------------------------------------------------------------- npy

function readNpyTable(file: string, opts: LoadSeriesOptions): Table {
  const arr = readNpy(file);
  if (arr.shape.length !== 1 && arr.shape.length !== 2) {
    throw new Error(`${file}: expected a 1-D (length,) or 2-D (length, columns) array, got shape (${arr.shape.join(', ')})`);
  }
  const length = arr.shape[0];
  const C = arr.shape.length === 2 ? arr.shape[1] : 1;
  const flat = toFloat64(arr);
  let names = Array.from({ length: C }, (_, j) => `col${j}`);
  const selected = opts.columns ?? names;
  // .npy stores no column names. Names given for every column (e.g. a test set written by `synth`
  // from a parquet series, loaded with the training columns) are taken positionally.
  if (opts.columns && !opts.columns.every((c) => names.includes(c))) {
    if (opts.columns.length !== C) {
      throw new Error(
        `${file}: a .npy has no column names; ${opts.columns.length} columns (${listColumns(opts.columns)}) were requested but it has ${C} (select by position with col0…col${C - 1})`,
      );
    }
    names = [...opts.columns];
  }
  checkRequested(file, selected, names);
  const data = selected.map((name) => {
    const j = names.indexOf(name);
    const col = new Float64Array(length);
    for (let i = 0; i < length; i++) col[i] = flat[i * C + j];
    return col;
  });
  return { file, columns: selected, data, rowLabel: (i) => `row ${i} (0-based)` };
}

// ---------------------------------------------------------------- assembly

async function readTable(file: string, opts: LoadSeriesOptions): Promise<Table> {
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.csv') return readCsvTable(file, opts);
    if (ext === '.parquet') return await readParquetTable(file, opts);
    if (ext === '.npy') return readNpyTable(file, opts);
  } catch (e) {
    // Engine errors (allocation, string length, stack) become one line naming the file.
    throw wrapParseError(e, file, `${ext.slice(1)} file`);
  }
  throw new Error(`${file}: unsupported file type ${quoteName(ext)} (expected ${SUPPORTED.join(', ')})`);
}

/** Apply the NaN policy; returns the rows kept (or all). */
function applyNanPolicy(t: Table, policy: NanPolicy): Table {
  const n = t.data[0]?.length ?? 0;
  if (policy === 'error') {
    for (let j = 0; j < t.columns.length; j++) {
      const col = t.data[j];
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(col[i]) || !Number.isFinite(Math.fround(col[i]))) {
          const what = Number.isNaN(col[i]) ? 'missing or NaN value' : `non-finite value ${col[i]}`;
          throw new Error(`${t.file}: column ${quoteName(t.columns[j])}, ${t.rowLabel(i)}: ${what} (use nan: 'drop' or 'ffill' to accept)`);
        }
      }
    }
    return t;
  }
  if (policy === 'ffill') {
    for (let j = 0; j < t.columns.length; j++) {
      const col = t.data[j];
      let first = -1;
      for (let i = 0; i < n; i++)
        if (Number.isFinite(col[i])) {
          first = i;
          break;
        }
      if (first < 0) throw new Error(`${t.file}: column ${quoteName(t.columns[j])} has no finite value to fill from`);
      // leading gaps take the first valid value (there is nothing before it to carry forward)
      for (let i = 0; i < first; i++) col[i] = col[first];
      for (let i = first + 1; i < n; i++) if (!Number.isFinite(col[i])) col[i] = col[i - 1];
    }
    return t;
  }
  if (policy === 'drop') {
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (t.data.every((c) => Number.isFinite(c[i]))) keep.push(i);
    if (keep.length === n) return t;
    const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]);
    return { ...t, data: t.data.map(pick), time: t.time ? pick(t.time) : undefined, rowLabel: (i) => t.rowLabel(keep[i]) };
  }
  throw new Error(`option nan must be 'error', 'drop' or 'ffill', got '${String(policy)}'`);
}

function listDirectory(dir: string): string[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => SUPPORTED.includes(path.extname(f).toLowerCase()) && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`${dir}: directory holds no ${SUPPORTED.join('/')} files`);
  return files;
}

/**
 * Load a series from a `.npy`, `.parquet` or `.csv` file or a directory of them.
 * For `.npy` the columns are named col0, col1, …; a `columns` list naming every column of a .npy
 * (same count) names them positionally.
 */
export async function loadSeries(pathOrDir: string, opts: LoadSeriesOptions = {}): Promise<Series> {
  if (!fs.existsSync(pathOrDir)) throw new Error(`${pathOrDir}: no such file or directory`);
  const policy = opts.nan ?? 'error';
  if (!['error', 'drop', 'ffill'].includes(policy))
    throw new Error(`option nan must be 'error', 'drop' or 'ffill', got '${String(policy)}'`);
  const isDir = fs.statSync(pathOrDir).isDirectory();
  const files = isDir ? listDirectory(pathOrDir) : [pathOrDir];
  const tables: Table[] = [];
  let columns = opts.columns;
  let timeColumn = opts.timeColumn;
  for (const f of files) {
    const t = applyNanPolicy(await readTable(f, { ...opts, columns, timeColumn }), policy);
    if (columns === undefined) columns = t.columns; // later files must provide the first file's columns
    if (timeColumn === undefined) timeColumn = t.timeColumn ?? null;
    tables.push(t);
  }
  const C = tables[0].columns.length;
  const length = tables.reduce((s, t) => s + (t.data[0]?.length ?? 0), 0);
  const values = new Float32Array(length * C);
  const withTime = tables.every((t) => t.time !== undefined);
  const time = withTime ? new Float64Array(length) : undefined;
  const segments: Array<{ file: string; start: number; length: number }> = [];
  let offset = 0;
  for (const t of tables) {
    const n = t.data[0]?.length ?? 0;
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
  checkRequested(series.source, columns, series.columns);
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

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Write a CSV (header + rows, time as ISO-8601 UTC text) atomically. */
export function writeCsv(file: string, s: WritableSeries): void {
  const n = seriesLength(s);
  const C = s.columns.length;
  const header = [...(s.time ? [s.timeColumn ?? 'datetime'] : []), ...s.columns].map(csvField).join(',');
  const lines = [header];
  for (let i = 0; i < n; i++) {
    const cells: string[] = [];
    if (s.time) cells.push(new Date(s.time[i]).toISOString());
    for (let j = 0; j < C; j++) cells.push(String(s.values[i * C + j]));
    lines.push(cells.join(','));
  }
  writeFileAtomic(file, lines.join('\n') + '\n');
}

/** Write a parquet file (DOUBLE columns, TIMESTAMP (ms) time column) atomically. */
export async function writeParquet(file: string, s: WritableSeries): Promise<void> {
  const n = seriesLength(s);
  const C = s.columns.length;
  const writer = await import('hyparquet-writer');
  const columnData: Array<{ name: string; data: Float64Array | Date[]; type: 'DOUBLE' | 'TIMESTAMP'; nullable: boolean }> = [];
  if (s.time)
    columnData.push({
      name: s.timeColumn ?? 'TIMESTAMP',
      data: Array.from({ length: n }, (_, i) => new Date((s.time as ArrayLike<number>)[i])),
      type: 'TIMESTAMP',
      nullable: false,
    });
  s.columns.forEach((name, j) => {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = s.values[i * C + j];
    columnData.push({ name, data: col, type: 'DOUBLE', nullable: false });
  });
  const buf = writer.parquetWriteBuffer({ columnData });
  writeFileAtomic(file, new Uint8Array(buf));
}
