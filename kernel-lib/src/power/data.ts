/**
 * Three-phase power-system recordings: `Time,Va,Vb,Vc,Ia,Ib,Ic` from CSV or parquet.
 *
 * Values are kept in float64: the dashboard's features (skew, kurtosis, correlations) are
 * computed by pandas/scipy in float64 and the reference tolerances (1e-6 relative) leave no room
 * for a float32 round trip. Validation errors name the file, the row and the column so a
 * researcher can find the bad cell in a spreadsheet.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic';
import { checkParquetPages, checkParquetRows, flatDefinitionLevels, hyparquetDecompressor } from '../io/parquet-guard';
import { libraryErrorText, limitError, resolveLimits, wrapParseError } from '../limits';
import { quoteName } from '../browser/text';

/** Header columns for a message: quoted (control characters escaped), the first 20 only. */
function headerText(header: string[]): string {
  const shown = header
    .slice(0, 20)
    .map((h) => quoteName(h, 60))
    .join(',');
  return header.length > 20 ? `${shown},… (${header.length} columns)` : shown;
}

/** The six signals, in the order the detector and its scaler expect them. */
export const POWER_SIGNALS = ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'] as const;
export type PowerSignal = (typeof POWER_SIGNALS)[number];
export const POWER_TIME_COLUMN = 'Time';

export interface PowerData {
  /** File the data came from (or a label for generated data). */
  source: string;
  length: number;
  /** Time in seconds, strictly increasing and regular. */
  time: Float64Array;
  /** One column per signal, POWER_SIGNALS order. */
  signals: Float64Array[];
  /** Time[1] − Time[0], as the seed computes it. */
  sampleTime: number;
}

export interface PowerDataOptions {
  /**
   * Largest allowed relative deviation of a time step from the sample time before the series is
   * called irregular (default 0.01: 1% jitter of a logger clock passes, a missing sample does not).
   */
  timeTolerance?: number;
  /** Smallest number of rows accepted (default 2: a sample time needs two rows). */
  minRows?: number;
}

/** Check order, regularity and finiteness; returns the sample time. Errors name the row. */
export function validatePowerColumns(source: string, time: Float64Array, signals: Float64Array[], opts: PowerDataOptions = {}): number {
  const tol = opts.timeTolerance ?? 0.01;
  const minRows = Math.max(2, opts.minRows ?? 2);
  const n = time.length;
  if (n < minRows) throw new Error(`${source}: ${n} data rows; at least ${minRows} are needed`);
  for (let c = 0; c < signals.length; c++) {
    if (signals[c].length !== n) throw new Error(`${source}: column '${POWER_SIGNALS[c]}' has ${signals[c].length} values, Time has ${n}`);
    const col = signals[c];
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(col[i]))
        throw new Error(`${source}: row ${i + 1}, column '${POWER_SIGNALS[c]}': value ${col[i]} is not a finite number`);
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(time[i])) throw new Error(`${source}: row ${i + 1}, column 'Time': value ${time[i]} is not a finite number`);
  }
  const sampleTime = time[1] - time[0];
  if (!(sampleTime > 0))
    throw new Error(`${source}: row 2, column 'Time': ${time[1]} is not greater than the previous time ${time[0]} (Time must increase)`);
  for (let i = 1; i < n; i++) {
    const dt = time[i] - time[i - 1];
    if (!(dt > 0))
      throw new Error(
        `${source}: row ${i + 1}, column 'Time': ${time[i]} is not greater than the previous time ${time[i - 1]} (Time must increase)`,
      );
    if (Math.abs(dt - sampleTime) > tol * sampleTime) {
      throw new Error(
        `${source}: row ${i + 1}, column 'Time': step ${dt.toPrecision(6)} s differs from the sample time ${sampleTime.toPrecision(6)} s by more than ${tol * 100}% (irregular sampling; resample first)`,
      );
    }
  }
  return sampleTime;
}

/** Build PowerData from columns (generated data, notebooks); validates like the file readers. */
export function powerDataFromColumns(
  source: string,
  time: ArrayLike<number>,
  signals: Record<PowerSignal, ArrayLike<number>>,
  opts: PowerDataOptions = {},
): PowerData {
  const t = Float64Array.from(time);
  const cols = POWER_SIGNALS.map((name) => {
    const col = signals[name];
    if (!col) throw new Error(`${source}: missing column '${name}'`);
    return Float64Array.from(col);
  });
  const sampleTime = validatePowerColumns(source, t, cols, opts);
  return { source, length: t.length, time: t, signals: cols, sampleTime };
}

/** Split one CSV line (RFC 4180 quotes; no embedded newlines — numeric data has none). */
function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        cur += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** Strict number parse: the whole cell must be a number (Number('') is 0, parseFloat('1x') is 1). */
function parseCell(raw: string): number {
  const s = raw.trim();
  return s === '' ? NaN : Number(s);
}

/** Parse CSV text with a header containing Time and Va..Ic (other columns are ignored). */
export function parsePowerCsv(text: string, source: string, opts: PowerDataOptions = {}): PowerData {
  const lines = text.split(/\r?\n/);
  let headerLine = 0;
  while (headerLine < lines.length && lines[headerLine].trim() === '') headerLine++;
  if (headerLine >= lines.length) throw new Error(`${source}: empty file (expected a header Time,Va,Vb,Vc,Ia,Ib,Ic)`);
  const header = splitCsvLine(lines[headerLine].replace(/^\uFEFF/, '')).map((h) => h.trim());
  const maxColumns = resolveLimits().CSV_MAX_COLUMNS;
  if (header.length > maxColumns) throw limitError(source, 'CSV_MAX_COLUMNS', maxColumns, `a CSV header of ${header.length} columns`);
  const want = [POWER_TIME_COLUMN, ...POWER_SIGNALS];
  const missing = want.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new Error(
      `${source}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} (header: ${headerText(header)}; expected Time,Va,Vb,Vc,Ia,Ib,Ic)`,
    );
  }
  const idx = want.map((c) => header.indexOf(c));
  const rows: number[][] = want.map(() => []);
  for (let li = headerLine + 1; li < lines.length; li++) {
    const line = lines[li];
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    const row = rows[0].length + 1;
    for (let k = 0; k < want.length; k++) {
      const raw = cells[idx[k]];
      if (raw === undefined)
        throw new Error(`${source}: row ${row} (line ${li + 1}) has ${cells.length} cells; column '${want[k]}' is missing`);
      const v = parseCell(raw);
      if (Number.isNaN(v)) {
        const what =
          raw.trim() === '' ? 'empty cell' : /^[+-]?nan$/i.test(raw.trim()) ? 'NaN' : `${quoteName(raw.trim(), 60)} is not a number`;
        throw new Error(`${source}: row ${row} (line ${li + 1}), column '${want[k]}': ${what}`);
      }
      rows[k].push(v);
    }
  }
  const time = Float64Array.from(rows[0]);
  const signals = rows.slice(1).map((r) => Float64Array.from(r));
  const sampleTime = validatePowerColumns(source, time, signals, opts);
  return { source, length: time.length, time, signals, sampleTime };
}

async function readPowerParquet(file: string, opts: PowerDataOptions): Promise<PowerData> {
  const { parquetReadObjects, parquetMetadata, parquetSchema, snappyUncompress } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let names: string[];
  let meta: ReturnType<typeof parquetMetadata>;
  let levels: Map<string, number>;
  try {
    meta = parquetMetadata(ab);
    const children = parquetSchema(meta).children;
    names = children.map((c) => c.element.name);
    levels = flatDefinitionLevels(children);
  } catch (e) {
    throw new Error(`${file}: not a readable parquet file (${libraryErrorText(e)})`);
  }
  // num_rows sizes the row objects: checked against its row groups and the file size first.
  checkParquetRows(file, meta, ab.byteLength);
  const want = [POWER_TIME_COLUMN, ...POWER_SIGNALS];
  const missing = want.filter((c) => !names.includes(c));
  if (missing.length)
    throw new Error(
      `${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} (columns: ${headerText(names)})`,
    );
  // Page headers size hyparquet's arrays: checked before any page is decoded.
  checkParquetPages(file, new Uint8Array(ab), meta, want, {
    decompress: hyparquetDecompressor(compressors, snappyUncompress),
    maxDefinitionLevels: levels,
  });
  let rows: Array<Record<string, unknown>>;
  try {
    rows = (await parquetReadObjects({ file: ab, metadata: meta, columns: want, compressors })) as Array<Record<string, unknown>>;
  } catch (e) {
    throw new Error(`${file}: cannot decode parquet data (${libraryErrorText(e)})`);
  }
  const cols = want.map(() => new Float64Array(rows.length));
  for (let i = 0; i < rows.length; i++) {
    for (let k = 0; k < want.length; k++) {
      const raw = rows[i][want[k]];
      const v = typeof raw === 'number' ? raw : typeof raw === 'bigint' ? Number(raw) : NaN;
      if (Number.isNaN(v)) {
        const what =
          raw === null || raw === undefined
            ? 'missing value'
            : typeof raw === 'number'
              ? 'NaN'
              : `${quoteName(String(raw), 60)} is not a number`;
        throw new Error(`${file}: row ${i + 1}, column '${want[k]}': ${what}`);
      }
      cols[k][i] = v;
    }
  }
  const time = cols[0];
  const signals = cols.slice(1);
  const sampleTime = validatePowerColumns(file, time, signals, opts);
  return { source: file, length: time.length, time, signals, sampleTime };
}

/** Read a `Time,Va,Vb,Vc,Ia,Ib,Ic` CSV or parquet file. */
export async function loadPowerData(file: string, opts: PowerDataOptions = {}): Promise<PowerData> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  if (fs.statSync(file).isDirectory()) throw new Error(`${file}: is a directory; give a .csv or .parquet file`);
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.parquet') return await readPowerParquet(file, opts);
    // V8 strings stop near 512 MiB: a bigger CSV is refused by name, not with 'Invalid string length'.
    const max = resolveLimits().CSV_MAX_BYTES;
    const size = fs.statSync(file).size;
    if (size > max) throw limitError(file, 'CSV_MAX_BYTES', max, `a CSV of ${size} bytes (convert it to parquet)`);
    return parsePowerCsv(fs.readFileSync(file, 'utf8'), file, opts);
  } catch (e) {
    throw wrapParseError(e, file, 'power data file');
  }
}

/** Row-major (length, 6) float64 matrix of the signals. */
export function signalMatrix(data: PowerData): Float64Array {
  const n = data.length;
  const C = POWER_SIGNALS.length;
  const out = new Float64Array(n * C);
  for (let c = 0; c < C; c++) {
    const col = data.signals[c];
    for (let i = 0; i < n; i++) out[i * C + c] = col[i];
  }
  return out;
}

/** CSV text of the data (the format parsePowerCsv reads back); full float64 precision. */
export function powerDataToCsv(data: PowerData): string {
  const lines = [[POWER_TIME_COLUMN, ...POWER_SIGNALS].join(',')];
  for (let i = 0; i < data.length; i++) {
    const row = [data.time[i], ...data.signals.map((s) => s[i])];
    lines.push(row.map((v) => String(v)).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Write the data as parquet (Time and Va..Ic as DOUBLE columns), atomically. */
export async function writePowerParquet(file: string, data: PowerData, extra: Record<string, Float64Array> = {}): Promise<void> {
  const writer = await import('hyparquet-writer');
  const columnData = [
    { name: POWER_TIME_COLUMN, data: data.time, type: 'DOUBLE' as const, nullable: false },
    ...POWER_SIGNALS.map((name, c) => ({ name, data: data.signals[c], type: 'DOUBLE' as const, nullable: false })),
    ...Object.entries(extra).map(([name, col]) => ({ name, data: col, type: 'DOUBLE' as const, nullable: false })),
  ];
  writeFileAtomic(file, new Uint8Array(writer.parquetWriteBuffer({ columnData })));
}

/**
 * danfojs-node DataFrame (Time, Va..Ic) for notebook users. danfojs is loaded lazily: it pulls
 * in a second tfjs copy and is only needed when a notebook asks for a DataFrame.
 */
export function powerDataToDataFrame(data: PowerData): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as { DataFrame: new (data: Record<string, number[]>) => unknown };
  const obj: Record<string, number[]> = { [POWER_TIME_COLUMN]: Array.from(data.time) };
  POWER_SIGNALS.forEach((name, c) => {
    obj[name] = Array.from(data.signals[c]);
  });
  return new dfd.DataFrame(obj);
}
