/**
 * Three-phase power-system recordings: `Time,Va,Vb,Vc,Ia,Ib,Ic` from CSV or parquet, a view on
 * the table layer (io/table.ts) read as float64.
 *
 * Values are kept in float64: the dashboard's features (skew, kurtosis, correlations) are
 * computed by pandas/scipy in float64 and the reference tolerances (1e-6 relative) leave no room
 * for a float32 round trip. Validation errors name the file, the row and the column so a
 * researcher can find the bad cell in a spreadsheet.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic';
import { parseCsvTable, readCsvText, readTable, TableError, tableToCsv, tableToParquet, type Table, type WritableTable } from '../io/table';
import { wrapParseError } from '../limits';
import { quoteName } from '../browser/text';
import { formatSignificant } from '../browser/format';

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
        `${source}: row ${i + 1}, column 'Time': step ${formatSignificant(dt, 6)} s differs from the sample time ${formatSignificant(sampleTime, 6)} s by more than ${tol * 100}% (irregular sampling; resample first)`,
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

const POWER_COLUMNS = [POWER_TIME_COLUMN, ...POWER_SIGNALS];
const EXPECTED_HEADER = POWER_COLUMNS.join(',');

/**
 * A table error in the power data's own words (row first, 1-based rows, as a spreadsheet shows
 * them); anything else as is.
 */
function powerError(e: unknown, source: string, csv: boolean): unknown {
  if (!(e instanceof TableError)) return e;
  const p = e.problem;
  const at = (row: number, line?: number): string => `row ${row + 1}${line !== undefined ? ` (line ${line})` : ''}`;
  const missing = (names: string[]): string => `missing column${names.length > 1 ? 's' : ''} ${names.map((m) => `'${m}'`).join(', ')}`;
  switch (p.kind) {
    case 'empty':
      return new Error(`${source}: empty file (expected a header ${EXPECTED_HEADER})`);
    case 'columns':
      return new Error(
        csv
          ? `${source}: ${missing(p.missing)} (header: ${headerText(p.available)}; expected ${EXPECTED_HEADER})`
          : `${source}: ${missing(p.missing)} (columns: ${headerText(p.available)})`,
      );
    case 'ragged': {
      const lacking = POWER_COLUMNS.find((c) => p.header.indexOf(c) >= p.fields);
      return new Error(
        lacking !== undefined
          ? `${source}: ${at(p.row, p.line)} has ${p.fields} cells; column '${lacking}' is missing`
          : `${source}: ${at(p.row, p.line)} has ${p.fields} cells, the header has ${p.header.length}`,
      );
    }
    case 'not-a-number':
      return new Error(`${source}: ${at(p.row, p.line)}, column '${p.column}': ${quoteName(p.text, 60)} is not a number`);
    case 'not-finite': {
      // infinities are named by validatePowerColumns' wording (no line: generated data has none)
      if (!Number.isNaN(p.value))
        return new Error(`${source}: ${at(p.row)}, column '${p.column}': value ${p.value} is not a finite number`);
      const what = p.text === '' ? 'empty cell' : p.text === null ? 'missing value' : 'NaN';
      return new Error(`${source}: ${at(p.row, p.line)}, column '${p.column}': ${what}`);
    }
  }
}

const READ_OPTIONS = { dtype: 'float64', columns: POWER_COLUMNS, timeColumn: null, nan: 'error' } as const;

/** The view: Time and the signals of a float64 table, validated. */
function fromTable(source: string, table: Table<Float64Array>, opts: PowerDataOptions): PowerData {
  const [time, ...signals] = table.data;
  const sampleTime = validatePowerColumns(source, time, signals, opts);
  return { source, length: time.length, time, signals, sampleTime };
}

/** Parse CSV text with a header containing Time and Va..Ic (other columns are ignored). */
export function parsePowerCsv(text: string, source: string, opts: PowerDataOptions = {}): PowerData {
  let table: Table<Float64Array>;
  try {
    table = parseCsvTable(text, source, { ...READ_OPTIONS, columns: [...POWER_COLUMNS] });
  } catch (e) {
    throw powerError(e, source, true);
  }
  return fromTable(source, table, opts);
}

/** Read a `Time,Va,Vb,Vc,Ia,Ib,Ic` CSV or parquet file. */
export async function loadPowerData(file: string, opts: PowerDataOptions = {}): Promise<PowerData> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  if (fs.statSync(file).isDirectory()) throw new Error(`${file}: is a directory; give a .csv or .parquet file`);
  // anything but parquet is read as CSV, whatever its name
  const ext = path.extname(file).toLowerCase() === '.parquet' ? '.parquet' : '.csv';
  try {
    const table =
      ext === '.csv'
        ? parseCsvTable(readCsvText(file), file, { ...READ_OPTIONS, columns: [...POWER_COLUMNS] })
        : await readTable(file, { ...READ_OPTIONS, columns: [...POWER_COLUMNS] });
    return fromTable(file, table, opts);
  } catch (e) {
    throw wrapParseError(powerError(e, file, ext === '.csv'), file, 'power data file');
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

/** The columns of the data as a table: Time, Va..Ic. */
function powerTable(data: PowerData, extra: Record<string, Float64Array> = {}): WritableTable {
  return {
    columns: [...POWER_COLUMNS, ...Object.keys(extra)],
    data: [data.time, ...data.signals, ...Object.values(extra)],
  };
}

/** CSV text of the data (the format parsePowerCsv reads back); full float64 precision. */
export function powerDataToCsv(data: PowerData): string {
  return tableToCsv(powerTable(data));
}

/** Write the data as parquet (Time and Va..Ic as DOUBLE columns), atomically. */
export async function writePowerParquet(file: string, data: PowerData, extra: Record<string, Float64Array> = {}): Promise<void> {
  writeFileAtomic(file, await tableToParquet(powerTable(data, extra)));
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
