/**
 * Numeric tables in files: CSV, parquet and `.npy`, read into named columns of one dtype and
 * written back. This is the one home of the tabular parsers and writers: a `Series` (io/series.ts,
 * float32 row-major for the models) and the power recordings (power/data.ts, float64 for the
 * pandas/scipy-equal features) are views on it and differ only in the dtype they ask for.
 *
 * Reading is strict and bounded: numbers must be whole numbers ('1x' is an error, not 1), CSV size
 * and header width are checked against CSV_MAX_BYTES / CSV_MAX_COLUMNS before parsing, a parquet
 * footer and its page headers are checked (io/parquet-guard.ts) before hyparquet sizes any array.
 * Errors are one line naming the file and, for a cell, its column and row (and CSV line); those
 * about a cell, the header or the requested columns are `TableError`s whose fields let a view word
 * the message its own way.
 *
 * Time: a time column (auto-detected by name, or named) becomes epoch milliseconds — parquet
 * TIMESTAMP columns, and date/time text read as UTC unless `utcOffset` says otherwise (never the
 * machine's zone); a numeric time column (the power CSV's `Time` in seconds) is kept as is.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readNpy, toFloat64, writeNpy } from './npy';
import { writeFileAtomic } from './atomic';
import { libraryErrorText, limitError, resolveLimits, wrapParseError } from '../limits';
import { checkParquetPages, checkParquetRows, flatDefinitionLevels, hyparquetDecompressor } from './parquet-guard';
import { escapeControl, quoteName } from '../browser/text';

/** Element type of the columns a table is read into (and of a written `.npy`). */
export type TableDtype = 'float32' | 'float64';

/** What to do with NaN, infinite or missing cells of the selected columns. */
export type NanPolicy = 'error' | 'drop' | 'ffill';

/** The file types tables are read from and written to. */
export const TABLE_EXTENSIONS = ['.npy', '.parquet', '.csv'] as const;

/** Names a time column is auto-detected by (any case), in this order of preference. */
export const TIME_COLUMN_NAMES = ['timestamp', 'datetime', 'time', 'date'] as const;

export interface ReadTableOptions {
  /** Element type of the columns (default 'float64'). Finiteness is checked in this type. */
  dtype?: TableDtype;
  /** Columns to read, in this order. Default: every numeric column except the time column. */
  columns?: string[];
  /**
   * Time column name. Default: the first of TIMESTAMP, datetime, timestamp, time, date (any case)
   * that exists; `null` reads no time column (a numeric `Time` can then be an ordinary column).
   */
  timeColumn?: string | null;
  /**
   * NaN, infinite or missing values in the selected columns (default 'error'): 'drop' drops those
   * rows, 'ffill' carries the last valid value forward (leading gaps take the first valid value).
   */
  nan?: NanPolicy;
  /**
   * Zone of date/time text that carries none, e.g. '+09:00' for the Korean ESS logs (default UTC).
   * Text with its own zone and parquet TIMESTAMP columns are not affected.
   */
  utcOffset?: string | number;
}

/** Named columns of one dtype read from a file. */
export interface Table<A extends Float32Array | Float64Array = Float64Array> {
  file: string;
  columns: string[];
  /** One array per column, `columns` order. */
  data: A[];
  length: number;
  /** Epoch ms (or the raw numbers of a numeric time column), when a time column was read. */
  time?: Float64Array;
  timeColumn?: string;
  /** Row i in messages: 'row 3 (line 4)' for a CSV (1-based data row), 'row 2 (0-based)' otherwise. */
  rowLabel(i: number): string;
}

/** What a `TableError` is about; the fields a view needs to word it its own way. */
export type TableProblem =
  /** the requested columns are not all there */
  | { kind: 'columns'; missing: string[]; available: string[] }
  /** a CSV without a header row */
  | { kind: 'empty' }
  /** a CSV record whose field count differs from the header's */
  | { kind: 'ragged'; row: number; line: number; fields: number; header: string[] }
  /** a cell that is not a number (`text` as written) */
  | { kind: 'not-a-number'; column: string; row: number; line?: number; text: string }
  /**
   * a NaN or missing cell (`text`: '' for an empty CSV cell, null for a parquet null, else as written)
   * or an infinite one (`value`), under the 'error' NaN policy
   */
  | { kind: 'not-finite'; column: string; row: number; line?: number; text: string | null; value: number };

/** A table read error about columns, the header or one cell: one line naming the file and where. */
export class TableError extends Error {
  constructor(
    readonly file: string,
    readonly problem: TableProblem,
    message: string,
  ) {
    // File and cell text must not split the line or drive the terminal.
    super(escapeControl(message));
    this.name = 'TableError';
  }
}

/** Row i of a table in messages: CSV data rows are 1-based with their line, other rows 0-based. */
const rowText = (row: number, line?: number): string => (line === undefined ? `row ${row} (0-based)` : `row ${row + 1} (line ${line})`);

/** The available columns for a message: quoted (control characters escaped), the first 20 only. */
export function listColumns(available: string[]): string {
  const shown = available
    .slice(0, 20)
    .map((c) => quoteName(c, 60))
    .join(', ');
  return available.length > 20 ? `${shown}, … (${available.length} in all)` : shown;
}

/** Throws unless every requested column is available (once); the error lists the available ones. */
export function requireColumns(file: string, requested: string[], available: string[]): void {
  // Sets, not indexOf: a header of 100,000 columns must not cost 10^10 comparisons.
  const have = new Set(available);
  const missing = requested.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new TableError(
      file,
      { kind: 'columns', missing, available },
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

function pickTimeColumn(file: string, available: string[], opt: string | null | undefined): string | undefined {
  if (opt === null) return undefined;
  if (opt !== undefined) {
    if (!available.includes(opt)) {
      throw new Error(`${file}: time column ${quoteName(opt)} not found; available columns: ${listColumns(available)}`);
    }
    return opt;
  }
  for (const n of TIME_COLUMN_NAMES) {
    const hit = available.find((c) => c.toLowerCase() === n);
    if (hit) return hit;
  }
  return undefined;
}

/** Column name → index (first occurrence). */
function indexOfColumns(names: string[]): Map<string, number> {
  const m = new Map<string, number>();
  names.forEach((n, i) => {
    if (!m.has(n)) m.set(n, i);
  });
  return m;
}

// ---------------------------------------------------------------- cells and time stamps

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NAN_RE = /^[+-]?(?:nan|NaN|NAN|inf|Inf|INF|infinity|Infinity|INFINITY)$/;

/** Strict number parsing: '' and NaN spellings → NaN (missing), ±inf spellings → ±Infinity, garbage → undefined. */
export function parseCell(text: string): number | undefined {
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

/**
 * Columns as read (float64, NaN for a missing cell) before the NaN policy and the dtype; `cell`
 * gives a cell as stored, for messages about it.
 */
interface RawTable {
  file: string;
  columns: string[];
  data: Float64Array[];
  time?: Float64Array;
  timeColumn?: string;
  /** CSV line of data row i */
  lineOf?: (i: number) => number;
  /** the cell as stored: CSV text (trimmed), null for a parquet null, else the number as text */
  cell: (j: number, i: number) => string | null;
}

// ---------------------------------------------------------------- CSV

/**
 * RFC 4180 rows: quoted fields ("" escapes a quote, newlines allowed inside quotes), CRLF or LF,
 * blank (empty or whitespace-only) lines skipped. Lines without quotes (nearly all numeric data)
 * take a split(',') fast path.
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
      const record = text.slice(pos, end);
      if (record.trim() !== '') {
        rows.push(record.split(','));
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

/**
 * i → lines[i], made outside the parser: a closure made inside it would keep the parser's scope,
 * every row's text with it, alive as long as the table's row labels.
 */
function lookup(lines: number[]): (i: number) => number {
  return (i) => lines[i];
}

function csvRawTable(text: string, file: string, opts: ReadTableOptions): RawTable {
  const limits = resolveLimits();
  const { rows, lines } = parseCsvRows(text, file);
  if (rows.length === 0) throw new TableError(file, { kind: 'empty' }, `${file}: empty CSV (no header row)`);
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
      throw new TableError(
        file,
        { kind: 'ragged', row: i, line: bodyLines[i], fields: r.length, header },
        `${file}: line ${bodyLines[i]} has ${r.length} fields, the header has ${header.length}`,
      );
    }
  });
  const timeColumn = pickTimeColumn(file, header, opts.timeColumn);
  let selected: string[];
  if (opts.columns) {
    requireColumns(file, opts.columns, header);
    selected = opts.columns;
  } else {
    // default: columns whose first non-empty cell is a number
    selected = header.filter((h, j) => {
      if (h === timeColumn) return false;
      const first = body.find((r) => r[j].trim() !== '');
      return first !== undefined && parseCell(first[j]) !== undefined;
    });
    if (selected.length === 0) throw new Error(`${file}: no numeric columns; columns: ${listColumns(header)}`);
  }
  const where = selected.map((name) => headerIndex.get(name)!);
  const data = selected.map((name, k) => {
    const j = where[k];
    const col = new Float64Array(body.length);
    for (let i = 0; i < body.length; i++) {
      const v = parseCell(body[i][j]);
      if (v === undefined) {
        throw new TableError(
          file,
          { kind: 'not-a-number', column: name, row: i, line: bodyLines[i], text: body[i][j].trim() },
          `${file}: column ${quoteName(name)}, ${rowText(i, bodyLines[i])}: ${quoteName(body[i][j], 60)} is not a number`,
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
          `${file}: time column ${quoteName(timeColumn)}, ${rowText(i, bodyLines[i])}: cannot parse ${quoteName(body[i][j], 60)} as a date/time`,
        );
      }
      time[i] = t;
    }
  }
  return { file, columns: selected, data, time, timeColumn, lineOf: lookup(bodyLines), cell: (k, i) => body[i][where[k]].trim() };
}

/** A CSV file's text, refused by CSV_MAX_BYTES before it is read; errors name the file. */
export function readCsvText(file: string): string {
  const limits = resolveLimits();
  try {
    // V8 strings stop near 512 MiB: a bigger CSV is refused by name, not with 'Invalid string length'.
    const size = fs.statSync(file).size;
    if (size > limits.CSV_MAX_BYTES)
      throw limitError(file, 'CSV_MAX_BYTES', limits.CSV_MAX_BYTES, `a CSV of ${size} bytes (convert it to parquet)`);
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as Error).name === 'LimitError') throw e;
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
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

async function parquetRawTable(file: string, opts: ReadTableOptions): Promise<RawTable> {
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
  // num_rows sizes every column array: checked against its row groups and the file size first.
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
    requireColumns(file, opts.columns, available);
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
  // by index, not find(): a footer of 100,000 columns must not cost 10^10 comparisons (first of a name, as find gave)
  const fieldIndex = indexOfColumns(available);
  for (const name of selected) {
    const f = fields[fieldIndex.get(name) ?? -1];
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
  const nulls = new Map<number, Set<number>>(); // column → rows holding a parquet null (only columns that have one)
  const assemble = (name: string, convert: (v: unknown, row: number) => number, k = -1): Float64Array => {
    const out = new Float64Array(n).fill(NaN);
    for (const { start, values } of chunks.get(name) ?? []) {
      for (let i = 0; i < values.length && start + i < n; i++) {
        const v = values[i];
        if ((v === null || v === undefined) && k >= 0) {
          if (!nulls.has(k)) nulls.set(k, new Set());
          nulls.get(k)!.add(start + i);
        }
        out[start + i] = convert(v, start + i);
      }
    }
    return out;
  };
  const data = selected.map((name, k) => assemble(name, toNumber, k));
  let time: Float64Array | undefined;
  if (timeColumn !== undefined) {
    const offset = parseUtcOffset(opts.utcOffset ?? 0);
    time = assemble(timeColumn, (v, row) => {
      const t = typeof v === 'string' ? parseTimestamp(v, offset) : toNumber(v);
      if (!Number.isFinite(t)) {
        throw new Error(
          `${file}: time column ${quoteName(timeColumn)}, ${rowText(row)}: cannot read ${quoteName(String(v), 60)} as a time`,
        );
      }
      return t;
    });
  }
  return { file, columns: selected, data, time, timeColumn, cell: (k, i) => (nulls.get(k)?.has(i) ? null : String(data[k][i])) };
}

// ---------------------------------------------------------------- npy

function npyRawTable(file: string, opts: ReadTableOptions): RawTable {
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
  requireColumns(file, selected, names);
  const data = selected.map((name) => {
    const j = names.indexOf(name);
    const col = new Float64Array(length);
    for (let i = 0; i < length; i++) col[i] = flat[i * C + j];
    return col;
  });
  return { file, columns: selected, data, cell: (k, i) => String(data[k][i]) };
}

// ---------------------------------------------------------------- NaN policy and dtype

/** The table after the NaN policy (columns still float64) and, when rows were dropped, which rows were kept. */
function applyNanPolicy(t: RawTable, policy: NanPolicy, dtype: TableDtype): { t: RawTable; keep?: number[] } {
  const n = t.data[0]?.length ?? 0;
  if (policy === 'error') {
    // finite in the dtype read into: 1e39 is a number, but not a float32 one
    const finite = dtype === 'float32' ? (v: number) => Number.isFinite(v) && Number.isFinite(Math.fround(v)) : Number.isFinite;
    for (let j = 0; j < t.columns.length; j++) {
      const col = t.data[j];
      for (let i = 0; i < n; i++) {
        if (!finite(col[i])) {
          const what = Number.isNaN(col[i]) ? 'missing or NaN value' : `non-finite value ${col[i]}`;
          const line = t.lineOf?.(i);
          throw new TableError(
            t.file,
            { kind: 'not-finite', column: t.columns[j], row: i, line, text: t.cell(j, i), value: col[i] },
            `${t.file}: column ${quoteName(t.columns[j])}, ${rowText(i, line)}: ${what} (use nan: 'drop' or 'ffill' to accept)`,
          );
        }
      }
    }
    return { t };
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
    return { t };
  }
  if (policy === 'drop') {
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (t.data.every((c) => Number.isFinite(c[i]))) keep.push(i);
    if (keep.length === n) return { t };
    const pick = (a: Float64Array): Float64Array => Float64Array.from(keep, (i) => a[i]);
    // rows keep their numbers in messages: `finish` labels row i by keep[i]
    return { t: { ...t, data: t.data.map(pick), time: t.time ? pick(t.time) : undefined }, keep };
  }
  throw new Error(`option nan must be 'error', 'drop' or 'ffill', got '${String(policy)}'`);
}

function finish(raw: RawTable, opts: ReadTableOptions): Table<Float32Array | Float64Array> {
  const dtype = opts.dtype ?? 'float64';
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`option dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
  const { t, keep } = applyNanPolicy(raw, opts.nan ?? 'error', dtype);
  const lineOf = raw.lineOf;
  const rowLabel = (i: number): string => {
    const r = keep ? keep[i] : i;
    return rowText(r, lineOf?.(r));
  };
  const out: Table<Float32Array | Float64Array> = {
    file: t.file,
    columns: t.columns,
    data: dtype === 'float32' ? t.data.map((c) => Float32Array.from(c)) : t.data,
    length: t.data[0]?.length ?? 0,
    rowLabel,
  };
  if (t.time) out.time = t.time;
  if (t.timeColumn !== undefined) out.timeColumn = t.timeColumn;
  return out;
}

/** Refuses an unknown `nan` option before any file is read (readTable, parseCsvTable, loadSeries). */
export function checkNanOption(policy: unknown): void {
  if (policy !== undefined && !['error', 'drop', 'ffill'].includes(policy as string))
    throw new Error(`option nan must be 'error', 'drop' or 'ffill', got '${String(policy)}'`);
}

// ---------------------------------------------------------------- reading

/** Read a table from a `.csv`, `.parquet` or `.npy` file (npy columns are col0, col1, … or named positionally by `columns`). */
export async function readTable(file: string, opts: ReadTableOptions & { dtype: 'float32' }): Promise<Table<Float32Array>>;
export async function readTable(file: string, opts?: ReadTableOptions & { dtype?: 'float64' }): Promise<Table<Float64Array>>;
export async function readTable(file: string, opts?: ReadTableOptions): Promise<Table<Float32Array | Float64Array>>;
export async function readTable(file: string, opts: ReadTableOptions = {}): Promise<Table<Float32Array | Float64Array>> {
  checkNanOption(opts.nan);
  const ext = path.extname(file).toLowerCase();
  if (!(TABLE_EXTENSIONS as readonly string[]).includes(ext))
    throw new Error(`${file}: unsupported file type ${quoteName(ext)} (expected ${TABLE_EXTENSIONS.join(', ')})`);
  try {
    const raw =
      ext === '.csv'
        ? csvRawTable(readCsvText(file), file, opts)
        : ext === '.parquet'
          ? await parquetRawTable(file, opts)
          : npyRawTable(file, opts);
    return finish(raw, opts);
  } catch (e) {
    // Engine errors (allocation, string length, stack) become one line naming the file.
    throw e instanceof TableError ? e : wrapParseError(e, file, `${ext.slice(1)} file`);
  }
}

/** Parse CSV text as `readTable` reads a `.csv` file; `file` names it in errors. */
export function parseCsvTable(text: string, file: string, opts: ReadTableOptions & { dtype: 'float32' }): Table<Float32Array>;
export function parseCsvTable(text: string, file: string, opts?: ReadTableOptions & { dtype?: 'float64' }): Table<Float64Array>;
export function parseCsvTable(text: string, file: string, opts: ReadTableOptions = {}): Table<Float32Array | Float64Array> {
  checkNanOption(opts.nan);
  return finish(csvRawTable(text, file, opts), opts);
}

// ---------------------------------------------------------------- writing

/** Columns to write: one array per column, and an optional time column of epoch ms. */
export interface WritableTable {
  columns: string[];
  /** One array per column, `columns` order, all of one length. */
  data: ArrayLike<number>[];
  /** Epoch ms: ISO-8601 UTC text in a CSV, a TIMESTAMP (ms) column in parquet; first column. Not in `.npy`. */
  time?: ArrayLike<number>;
  /** Name of the time column (default 'datetime' in a CSV, 'TIMESTAMP' in parquet). */
  timeColumn?: string;
}

function tableLength(t: WritableTable): number {
  if (t.data.length !== t.columns.length) throw new Error(`table has ${t.columns.length} column names for ${t.data.length} columns`);
  const n = t.data[0]?.length ?? t.time?.length ?? 0;
  t.data.forEach((c, j) => {
    if (c.length !== n) throw new Error(`table column ${quoteName(t.columns[j])} has ${c.length} values, the first column ${n}`);
  });
  if (t.time && t.time.length !== n) throw new Error(`table time has ${t.time.length} entries for ${n} rows`);
  return n;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text of a table (header + rows, numbers in full precision, time as ISO-8601 UTC text). */
export function tableToCsv(t: WritableTable): string {
  const n = tableLength(t);
  const header = [...(t.time ? [t.timeColumn ?? 'datetime'] : []), ...t.columns].map(csvField).join(',');
  const lines = [header];
  for (let i = 0; i < n; i++) {
    const cells: string[] = [];
    if (t.time) cells.push(new Date(t.time[i]).toISOString());
    for (const col of t.data) cells.push(String(col[i]));
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}

/** Parquet bytes of a table: DOUBLE columns, a TIMESTAMP (ms) time column first. */
export async function tableToParquet(t: WritableTable): Promise<Uint8Array> {
  const n = tableLength(t);
  const writer = await import('hyparquet-writer');
  const columnData: Array<{ name: string; data: Float64Array | Date[]; type: 'DOUBLE' | 'TIMESTAMP'; nullable: boolean }> = [];
  const time = t.time;
  if (time)
    columnData.push({
      name: t.timeColumn ?? 'TIMESTAMP',
      data: Array.from({ length: n }, (_, i) => new Date(time[i])),
      type: 'TIMESTAMP',
      nullable: false,
    });
  t.columns.forEach((name, j) => {
    const col = t.data[j];
    columnData.push({ name, data: col instanceof Float64Array ? col : Float64Array.from(col), type: 'DOUBLE', nullable: false });
  });
  return new Uint8Array(writer.parquetWriteBuffer({ columnData }));
}

/** Row-major (length, C) matrix of a table's columns in `dtype` (the `.npy` layout). */
export function tableMatrix(t: WritableTable, dtype: TableDtype = 'float64'): Float32Array | Float64Array {
  const n = tableLength(t);
  const C = t.columns.length;
  const out = dtype === 'float32' ? new Float32Array(n * C) : new Float64Array(n * C);
  t.data.forEach((col, j) => {
    for (let i = 0; i < n; i++) out[i * C + j] = col[i];
  });
  return out;
}

export interface WriteTableOptions {
  /** Element type of a `.npy` (default 'float64'); CSV and parquet always hold full float64 precision. */
  dtype?: TableDtype;
}

/**
 * Write a table atomically as `.csv`, `.parquet` or `.npy` (by the extension). A `.npy` holds the
 * (length, C) matrix only: no names, no time.
 */
export async function writeTable(file: string, t: WritableTable, opts: WriteTableOptions = {}): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') writeFileAtomic(file, tableToCsv(t));
  else if (ext === '.parquet') writeFileAtomic(file, await tableToParquet(t));
  else if (ext === '.npy') writeNpy(file, tableMatrix(t, opts.dtype), [tableLength(t), t.columns.length]);
  else throw new Error(`${file}: unsupported file type ${quoteName(ext)} (expected ${TABLE_EXTENSIONS.join(', ')})`);
}
