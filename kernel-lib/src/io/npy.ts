/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), read and written without numpy.
 *
 * Supported: bool, int8..int64, uint8..uint64, float32, float64 (little or big endian, C order).
 * Not supported (clear error naming the file): Fortran order, object/structured/string dtypes,
 * float16, complex. Big-endian data is byte-swapped on read so `data` is always native order.
 */
import * as fs from 'fs';
import { writeFileAtomic } from './atomic';
import { limitError, resolveLimits, parsingFile, type LimitOverrides } from '../limits';
import { quoteName } from '../browser/text';
import { checkSha256 } from './integrity';

export type NdArrayData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** An n-dimensional array in C (row-major) order. `bool` is stored as a Uint8Array of 0/1. */
export interface NdArray {
  /** 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool' */
  dtype: string;
  shape: number[];
  data: NdArrayData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DtypeInfo {
  name: string;
  size: number;
  make: (buf: ArrayBuffer, n: number) => NdArrayData;
}

const DTYPES: Record<string, DtypeInfo> = {
  b1: { name: 'bool', size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i1: { name: 'int8', size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u1: { name: 'uint8', size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i2: { name: 'int16', size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { name: 'uint16', size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i4: { name: 'int32', size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { name: 'uint32', size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i8: { name: 'int64', size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { name: 'uint64', size: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  f4: { name: 'float32', size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { name: 'float64', size: 8, make: (b, n) => new Float64Array(b, 0, n) },
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(name: string, msg: string): never {
  throw new Error(`${name}: not a supported .npy file: ${msg}`);
}

/**
 * Parse the Python-literal header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
 * Only the three standard keys are understood; this is a small strict parser, never `eval`.
 */
function parseHeader(text: string, name: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) fail(name, 'structured (record) dtypes are not supported');
    fail(name, `header has no 'descr': ${quoteName(text.trim(), 120)}`);
  }
  if (!fortran) fail(name, `header has no 'fortran_order': ${quoteName(text.trim(), 120)}`);
  if (!shape) fail(name, `header has no 'shape': ${quoteName(text.trim(), 120)}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(d) || d < 0) fail(name, `bad shape entry '${s.slice(0, 40)}'`);
      return d;
    });
  return { descr: descr[2], fortran: fortran[1] === 'True', shape: dims };
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

export interface ParseNpyOptions {
  /** Named budgets for this read (NPY_MAX_HEADER_BYTES); see limits.ts. */
  limits?: LimitOverrides;
  /** Refuse the file unless its bytes hash to this sha256 (hex, as manifests record it). */
  expectedSha256?: string;
}

/** Parse the bytes of a `.npy` file. `name` (usually the file path) appears in every error. */
export function parseNpy(bytes: Uint8Array, name: string, opts: ParseNpyOptions = {}): NdArray {
  return parsingFile(name, '.npy file', () => parseNpyUnwrapped(bytes, name, opts));
}

function parseNpyUnwrapped(bytes: Uint8Array, name: string, opts: ParseNpyOptions): NdArray {
  checkSha256(bytes, opts.expectedSha256, name);
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) fail(name, 'bad magic (expected \\x93NUMPY)');
  const major = bytes[6];
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(name, 'truncated header');
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 0x1000000;
    headerStart = 12;
  } else {
    fail(name, `unknown format version ${major}.${bytes[7]}`);
  }
  // numpy's np.load refuses headers above 10,000 bytes too (max_header_size): a header is a short dict.
  const maxHeader = resolveLimits(opts.limits).NPY_MAX_HEADER_BYTES;
  if (headerLen > maxHeader) throw limitError(name, 'NPY_MAX_HEADER_BYTES', maxHeader, `a .npy header of ${headerLen} bytes`);
  if (headerStart + headerLen > bytes.length) fail(name, 'truncated header');
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLen);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const { descr, fortran, shape } = parseHeader(text, name);
  if (fortran && shape.filter((d) => d > 1).length > 1) {
    fail(name, 'Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  }
  const m = /^([<>|=])?([a-zA-Z]\d*)$/.exec(descr);
  if (!m) fail(name, `unsupported dtype ${quoteName(descr, 40)}`);
  const order = m[1] ?? '=';
  let code = m[2];
  if (code === '?') code = 'b1';
  if (code === 'O') fail(name, "object dtype ('O') is not supported (it needs pickle)");
  const info = DTYPES[code];
  if (!info) fail(name, `unsupported dtype ${quoteName(descr, 40)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * info.size)) fail(name, `shape (${shape.join(', ')}) is too large`);
  const dataStart = headerStart + headerLen;
  const expected = count * info.size;
  const available = bytes.length - dataStart;
  if (available < expected) {
    fail(name, `truncated data: shape (${shape.join(', ')}) of ${info.name} needs ${expected} bytes, file has ${available}`);
  }
  if (available > expected) {
    fail(name, `size mismatch: shape (${shape.join(', ')}) of ${info.name} needs ${expected} bytes, file has ${available}`);
  }
  // Copy into a fresh, aligned buffer (the file's data offset need not be aligned for the type).
  const copy = new Uint8Array(expected);
  copy.set(bytes.subarray(dataStart, dataStart + expected));
  const bigEndian = order === '>' || (order === '=' && !HOST_LITTLE_ENDIAN);
  if (info.size > 1 && bigEndian === HOST_LITTLE_ENDIAN) swapBytes(copy, info.size);
  return { dtype: info.name, shape, data: info.make(copy.buffer, count) };
}

/** Read a `.npy` file from disk. */
export function readNpy(file: string, opts: ParseNpyOptions = {}): NdArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read .npy file: ${(e as Error).message}`);
  }
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, opts);
}

function descrOf(data: NdArrayData, dtype?: string): string {
  const e = HOST_LITTLE_ENDIAN ? '<' : '>';
  if (dtype === 'bool') {
    if (!(data instanceof Uint8Array)) throw new Error(`encodeNpy: dtype 'bool' needs a Uint8Array`);
    return '|b1';
  }
  if (data instanceof Float32Array) return e + 'f4';
  if (data instanceof Float64Array) return e + 'f8';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int16Array) return e + 'i2';
  if (data instanceof Uint16Array) return e + 'u2';
  if (data instanceof Int32Array) return e + 'i4';
  if (data instanceof Uint32Array) return e + 'u4';
  if (data instanceof BigInt64Array) return e + 'i8';
  if (data instanceof BigUint64Array) return e + 'u8';
  throw new Error('encodeNpy: unsupported typed array');
}

/**
 * Encode a typed array as `.npy` (version 1.0, C order, native byte order).
 * `shape` defaults to 1-D; pass `dtype: 'bool'` to store a Uint8Array of 0/1 as numpy bool.
 */
export function encodeNpy(data: NdArrayData, shape: number[] = [data.length], dtype?: string): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`encodeNpy: bad shape (${shape.join(', ')})`);
  if (count !== data.length) {
    throw new Error(`encodeNpy: shape (${shape.join(', ')}) holds ${count} values but data has ${data.length}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data, dtype)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so the data starts on a 64-byte boundary (what numpy does), header ends with '\n'.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long');
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Write a `.npy` file atomically (see encodeNpy). */
export function writeNpy(file: string, data: NdArrayData, shape: number[] = [data.length], dtype?: string): void {
  writeFileAtomic(file, encodeNpy(data, shape, dtype));
}

/**
 * Convert any numeric NdArray to float32 (int64 through Number; bool → 0/1).
 * Returns `arr.data` itself when it already is a Float32Array.
 */
export function toFloat32(arr: NdArray): Float32Array {
  const d = arr.data;
  if (d instanceof Float32Array) return d;
  const out = new Float32Array(d.length);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  } else {
    out.set(d);
  }
  return out;
}

/** Convert any numeric NdArray to float64 (keeps float64 data as is). */
export function toFloat64(arr: NdArray): Float64Array {
  const d = arr.data;
  if (d instanceof Float64Array) return d;
  const out = new Float64Array(d.length);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  } else {
    out.set(d);
  }
  return out;
}
