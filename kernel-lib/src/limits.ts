/**
 * Resource budgets of the file parsers (issue 11): every size a file declares is checked against
 * one of these named limits BEFORE anything is allocated for it, and counted in total across the
 * file (not per object), so a small hostile file cannot make a reader allocate gigabytes, run for
 * minutes or overflow the stack.
 *
 * Each limit has a one-line error naming it (`limitError`). Real big models may need more: raise a
 * limit
 *   - for one call: the loaders' `limits` option (`{ TORCH_MAX_TENSOR_BYTES: 16 * 2 ** 30 }`),
 *   - for the process: `setLimits({...})`, or
 *   - from the shell (CLI, notebooks): ANOMALY_LAB_LIMITS='TORCH_MAX_TENSOR_BYTES=16GiB,ZIP_MAX_ENTRY_BYTES=8GiB'.
 * docs/security.md lists them all.
 *
 * Browser-safe: no Node imports (the env variable is read only where `process` exists).
 */
import { escapeControl } from './browser/text';

/** Default value of every named limit. Sizes in bytes, counts in items. */
export const DEFAULT_LIMITS = {
  // ---- pickle VM (pickle/unpickler.ts)
  /** Bytes of one LONG1/LONG4 integer (Python has no bound; no real checkpoint stores a bigger int). */
  PICKLE_MAX_INT_BYTES: 4096,
  /** Decimal digits of a protocol-0 INT/LONG literal (Python's own int_max_str_digits is 4300). */
  PICKLE_MAX_INT_DIGITS: 4300,
  /** Nodes walked to name one non-str dict key (a tuple key); bounds shared and cyclic keys. */
  PICKLE_MAX_KEY_NODES: 10_000,
  /** Pickles nested inside pickles (joblib object arrays holding object arrays …). */
  PICKLE_MAX_NESTING: 32,
  // ---- zip archives (torch .pt, Keras .keras)
  /** Entries in one zip archive. */
  ZIP_MAX_ENTRIES: 100_000,
  /** Uncompressed bytes of one zip entry (declared size, checked before inflating). */
  ZIP_MAX_ENTRY_BYTES: 2 * 1024 ** 3,
  /** Uncompressed bytes of all entries of an archive together. */
  ZIP_MAX_TOTAL_BYTES: 4 * 1024 ** 3,
  /** Uncompressed/compressed size of a deflated entry above 1 MiB (real weights compress < 3:1; zip bombs ~1000:1). */
  ZIP_MAX_COMPRESSION_RATIO: 100,
  // ---- torch checkpoints (pickle/torch.ts)
  /** Bytes of all decoded storages and materialised tensors of one checkpoint together. */
  TORCH_MAX_TENSOR_BYTES: 4 * 1024 ** 3,
  /**
   * Bytes of tensors that are copied out of a storage instead of owning it (views sharing one
   * storage, slices, stride-0 expansions), in total across the file: a tiny storage shared by
   * many expanded views is the memory bomb this stops.
   */
  TORCH_MAX_VIEW_BYTES: 256 * 1024 ** 2,
  // ---- joblib / scikit-learn (pickle/joblib.ts, pickle/sklearn.ts)
  /** Bytes a zlib/gzip-compressed joblib stream may inflate to (checked while inflating). */
  JOBLIB_MAX_DECOMPRESSED_BYTES: 512 * 1024 ** 2,
  /** Features of a scikit-learn model (n_features_in_) when no array says how many there are. */
  SKLEARN_MAX_FEATURES: 1_000_000,
  // ---- arrays and tables (io/npy.ts, io/series.ts, power/data.ts)
  /** Header bytes of a .npy file (numpy's own np.load refuses more than 10,000 by default). */
  NPY_MAX_HEADER_BYTES: 10_000,
  /** Rows a parquet footer may declare per byte of the file (a footer claiming 1e8 rows in 1 KB is refused). */
  PARQUET_MAX_ROWS_PER_BYTE: 64,
  /** Bytes of a CSV file (read as one string: V8 strings stop at ~512 MiB; use parquet beyond). */
  CSV_MAX_BYTES: 512 * 1024 ** 2,
  /** Columns of a CSV header. */
  CSV_MAX_COLUMNS: 100_000,
  // ---- Keras / HDF5 (power/keras-h5.ts, power/detector-io.ts)
  /** Bytes of a JSON document read by a loader (model.json, config.json, detector.json, scaler JSON). */
  JSON_MAX_BYTES: 256 * 1024 ** 2,
  /** Bytes of an HDF5 file (.h5, or model.weights.h5 inside .keras) copied into h5wasm's memory. */
  H5_MAX_BYTES: 2 * 1024 ** 3,
  /** Milliseconds to read a whole HDF5 file in a worker first (HDF5 can loop forever on a damaged file). */
  H5_MAX_READ_MS: 5000,
} as const;

export type LimitName = keyof typeof DEFAULT_LIMITS;
export type Limits = { [K in LimitName]: number };
/** Per-call overrides accepted by the loaders. */
export type LimitOverrides = Partial<Limits>;

/** The environment variable that raises (or lowers) limits for a process. */
export const LIMITS_ENV = 'ANOMALY_LAB_LIMITS';

let processOverrides: LimitOverrides = {};
let envCache: { text: string | undefined; value: LimitOverrides } | undefined;

/** '16GiB', '512MiB', '2e9', '100000' → number. */
export function parseLimitValue(text: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*(k|ki|m|mi|g|gi|t|ti)?b?\s*$/i.exec(text);
  if (!m) throw new Error(`${LIMITS_ENV}: value '${text}' of ${name} is not a number (e.g. 4GiB, 500000)`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult: Record<string, number> = { '': 1, k: 1e3, ki: 1024, m: 1e6, mi: 1024 ** 2, g: 1e9, gi: 1024 ** 3, t: 1e12, ti: 1024 ** 4 };
  const v = Number(m[1]) * mult[unit];
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${LIMITS_ENV}: value '${text}' of ${name} must be positive`);
  return Math.floor(v);
}

function checkName(name: string, where: string): asserts name is LimitName {
  if (!Object.prototype.hasOwnProperty.call(DEFAULT_LIMITS, name)) {
    throw new Error(`${where}: unknown limit '${name}' (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
  }
}

/** Parses `NAME=value,NAME=value` (the ANOMALY_LAB_LIMITS syntax). */
export function parseLimitsSpec(spec: string): LimitOverrides {
  const out: LimitOverrides = {};
  for (const part of spec.split(/[,;\s]+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`${LIMITS_ENV}: '${part}' is not NAME=value`);
    const name = part.slice(0, eq).trim().toUpperCase();
    checkName(name, LIMITS_ENV);
    out[name] = parseLimitValue(part.slice(eq + 1), name);
  }
  return out;
}

function envOverrides(): LimitOverrides {
  const text = typeof process !== 'undefined' && process.env ? process.env[LIMITS_ENV] : undefined;
  if (!envCache || envCache.text !== text) envCache = { text, value: text ? parseLimitsSpec(text) : {} };
  return envCache.value;
}

/** Raises or lowers limits for the whole process (on top of ANOMALY_LAB_LIMITS); `{}` resets. */
export function setLimits(overrides: LimitOverrides): void {
  for (const [k, v] of Object.entries(overrides)) {
    checkName(k, 'setLimits');
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`setLimits: ${k} must be a positive number, got ${String(v)}`);
  }
  processOverrides = { ...overrides };
}

/** Effective limits: defaults < ANOMALY_LAB_LIMITS < setLimits < per-call overrides. */
export function resolveLimits(overrides: LimitOverrides = {}): Limits {
  for (const [k, v] of Object.entries(overrides)) {
    checkName(k, 'limits option');
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`limits option: ${k} must be a positive number, got ${String(v)}`);
  }
  return { ...DEFAULT_LIMITS, ...envOverrides(), ...processOverrides, ...overrides };
}

/** A limit's value as it reads in messages: bytes in KiB/MiB/GiB when that is exact enough. */
export function formatLimit(name: LimitName, value: number): string {
  if (name.endsWith('_MS')) return `${value.toLocaleString('en-US')} ms`;
  if (!name.endsWith('_BYTES')) return value.toLocaleString('en-US');
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    // this is the limits' own formatter: at most 2 decimals, trailing zeros dropped ('1.5 GiB', '1000.5 MiB')
    if (value >= size) return `${Number((value / size).toFixed(2))} ${unit}`;
  }
  return `${value} bytes`;
}

/** Error raised when input exceeds a named limit. */
export class LimitError extends Error {
  constructor(
    message: string,
    readonly limit: LimitName,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}

/**
 * One line: `<file>: <what> exceeds LIMIT_NAME (value); raise it with ANOMALY_LAB_LIMITS=LIMIT_NAME=<n> if the file is trusted`.
 */
export function limitError(file: string, limit: LimitName, value: number, what: string): LimitError {
  return new LimitError(
    `${file}: ${what} exceeds ${limit} (${formatLimit(limit, value)}); if the file is trusted, raise it with ${LIMITS_ENV}=${limit}=<n>`,
    limit,
  );
}

/** A running total checked against one limit (bytes or items counted across a whole file). */
export class Budget {
  used = 0;
  constructor(
    readonly file: string,
    readonly limit: LimitName,
    readonly max: number,
    readonly what: string,
  ) {}
  /** Counts `n` more; throws the limit's error (before the caller allocates) when the total would pass it. */
  add(n: number, detail = ''): void {
    if (!(n >= 0) || this.used + n > this.max) {
      throw limitError(this.file, this.limit, this.max, `${this.what}${detail ? ` (${detail})` : ''}`);
    }
    this.used += n;
  }
}

/**
 * The message of an error thrown by a third-party parser (hyparquet, h5wasm …) for use inside our
 * own one-line message: its first line, escaped; engine errors (a TypeError from reading a
 * malformed structure) are named by kind only — their text describes the parser's code, not the file.
 */
export function libraryErrorText(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof RangeError || err instanceof TypeError || err instanceof ReferenceError) {
    for (const [re, say] of INTERNAL) {
      const m = re.exec(err.message);
      if (m) return say(m);
    }
    return `malformed structure (${err.name} in the reader)`;
  }
  return escapeControl(err.message.split('\n')[0].slice(0, 200));
}

/** Messages of JavaScript engine errors that must not reach a user as they are. */
const INTERNAL: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/Maximum call stack size exceeded/, () => 'the data is nested too deeply to read'],
  [
    /Invalid (typed )?array length(: (\d+))?|Array buffer allocation failed|Invalid array buffer length/,
    (m) => `a declared size${m[3] ? ` (${m[3]})` : ''} is too large to allocate`,
  ],
  [/Invalid string length|Cannot create a string longer than/, () => 'a text field is too long to hold in memory'],
  [/Invalid code point (\S+)/, (m) => `invalid Unicode code point ${m[1]}`],
];

/**
 * Converts an engine error (RangeError, TypeError …) thrown while parsing `file` into one line
 * naming the file; errors that already name it pass through unchanged.
 */
export function wrapParseError(e: unknown, file: string, what = 'file'): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof LimitError) return err;
  const msg = err.message.split('\n')[0];
  for (const [re, say] of INTERNAL) {
    const m = re.exec(msg);
    if (m) return withCause(new Error(`${file}: cannot read the ${what}: ${say(m)}`), err);
  }
  const base = file.split(/[\\/]/).pop() ?? file;
  if (msg.startsWith(`${file}:`) || msg.startsWith(`${file} `) || msg.startsWith(`${base}:`) || msg.includes(file)) {
    // Text from the file (names, literals) must not split the line or drive the terminal.
    return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(err.message) ? withCause(new Error(escapeControl(err.message)), err) : err;
  }
  const engine = err instanceof RangeError || err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError;
  if (engine)
    return withCause(new Error(`${file}: cannot read the ${what}: malformed or unsupported content (${err.name} while parsing)`), err);
  return withCause(new Error(`${file}: ${msg}`), err);
}

/** Runs a parser on `file`: anything it throws leaves as `wrapParseError` makes it (one line naming the file). */
export function parsingFile<T>(file: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw wrapParseError(e, file, what);
  }
}

function withCause(e: Error, cause: Error): Error {
  Object.defineProperty(e, 'cause', { value: cause, enumerable: false });
  return e;
}
