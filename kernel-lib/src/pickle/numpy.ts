/**
 * numpy objects inside pickles: dtypes (incl. structured dtypes), ndarrays and scalars, for both
 * numpy 1 (`numpy.core.*`) and numpy 2 (`numpy._core.*`) module paths.
 *
 * Arrays come back as `NumpyArray` (same `dtype`/`shape`/`data` shape as the io area's NdArray),
 * always C-contiguous and native (little-endian) order: Fortran-ordered and big-endian data are
 * converted on load.
 */
import { PickleContext, PickleGlobal, PY_SETSTATE, isPyDict, latin1 } from './unpickler';
import type { NdArrayData } from '../io/npy';

/** The typed arrays a numpy array can be read into (the same set as a `.npy` file's). */
export type NumericData = NdArrayData;

/** A numpy dtype, as read from a pickle. */
export class NumpyDtype {
  constructor(
    /** numpy kind character: f i u b O U S V (c, M, m are recognised but not decodable). */
    public kind: string,
    /** bytes per element */
    public itemSize: number,
    /** '<' | '>' | '|' */
    public byteOrder: string,
    /** structured dtypes: fields in offset order */
    public fields?: Array<{ name: string; dtype: NumpyDtype; offset: number }>,
    /** sub-array dtypes ('(3,)f8'): base dtype and shape */
    public subarray?: { base: NumpyDtype; shape: number[] },
  ) {}

  /** The io-contract dtype name: 'float64', 'int64', 'bool', 'object', 'str', 'bytes', 'structured', ... */
  get name(): string {
    switch (this.kind) {
      case 'f':
        return this.itemSize === 2 ? 'float16' : `float${this.itemSize * 8}`;
      case 'i':
        return `int${this.itemSize * 8}`;
      case 'u':
        return `uint${this.itemSize * 8}`;
      case 'b':
        return 'bool';
      case 'O':
        return 'object';
      case 'U':
        return 'str';
      case 'S':
        return 'bytes';
      case 'V':
        return this.fields ? 'structured' : 'void';
      case 'c':
        return `complex${this.itemSize * 8}`;
      case 'M':
        return 'datetime64';
      case 'm':
        return 'timedelta64';
      default:
        return this.kind;
    }
  }

  /** numpy's BUILD of a dtype: (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]). */
  [PY_SETSTATE](state: unknown, ctx: PickleContext): void {
    if (!Array.isArray(state) || state.length < 8) throw ctx.vm.error('numpy dtype state is malformed');
    const [, byteOrder, subarray, names, fields, elsize] = state as unknown[];
    if (typeof byteOrder === 'string') this.byteOrder = byteOrder === '=' ? '<' : byteOrder;
    if (typeof elsize === 'number' && elsize > 0) this.itemSize = elsize;
    if (Array.isArray(subarray)) {
      const [base, shape] = subarray as [unknown, unknown];
      if (!(base instanceof NumpyDtype) || !Array.isArray(shape)) throw ctx.vm.error('numpy sub-array dtype is malformed');
      this.subarray = { base, shape: shape as number[] };
    }
    if (Array.isArray(names) && isPyDict(fields)) {
      this.fields = (names as unknown[]).map((n) => {
        const f = (fields as Record<string, unknown>)[String(n)];
        if (!Array.isArray(f) || !(f[0] instanceof NumpyDtype) || typeof f[1] !== 'number') {
          ctx.vm.fail(`numpy structured dtype field '${String(n)}' is malformed`);
        }
        return { name: String(n), dtype: f[0] as NumpyDtype, offset: f[1] as number };
      });
    }
  }
}

/** numpy array from a pickle; C-contiguous, native byte order. */
export class NumpyArray {
  constructor(
    public dtype: string,
    public shape: number[],
    /** numeric dtypes: a typed array; bool: Uint8Array; str/bytes: string[]; object: unknown[]; structured: raw record bytes (see `fields`). */
    public data: NumericData | unknown[],
    /** structured dtypes: one array per field, same shape as the array */
    fields?: Record<string, NumpyArray>,
  ) {
    if (fields) this.fields = fields;
  }

  /** structured dtypes: one array per field, same shape as the array */
  fields?: Record<string, NumpyArray>;

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Values as plain numbers (bigint → number; booleans → 0/1). Throws for non-numeric dtypes. */
  toNumbers(): Float64Array {
    if (!ArrayBuffer.isView(this.data)) throw new Error(`numpy array of dtype ${this.dtype} is not numeric`);
    const out = new Float64Array(this.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Number(this.data[i]);
    return out;
  }
}

/** Parses a numpy dtype string ('f8', '<i4', 'U5', 'b1', 'O8', 'V64', 'float64'…). */
export function parseDtypeString(spec: string, where: string): NumpyDtype {
  const aliases: Record<string, string> = {
    float64: 'f8',
    float32: 'f4',
    float16: 'f2',
    int64: 'i8',
    int32: 'i4',
    int16: 'i2',
    int8: 'i1',
    uint64: 'u8',
    uint32: 'u4',
    uint16: 'u2',
    uint8: 'u1',
    bool: 'b1',
    object: 'O8',
    '?': 'b1',
  };
  let s = aliases[spec] ?? spec;
  let order = '<';
  if ('<>|='.includes(s[0])) {
    order = s[0] === '=' ? '<' : s[0];
    s = s.slice(1);
  }
  const m = /^([fiubOUSVcMm?])(\d*)(\[\w+\])?$/.exec(s);
  if (!m) throw new Error(`${where}: unsupported numpy dtype '${spec}'`);
  const kind = m[1] === '?' ? 'b' : m[1];
  let n = m[2] === '' ? 0 : Number(m[2]);
  if (kind === 'b') n = 1;
  if (kind === 'O') n = 8;
  if (kind === 'U') n *= 4; // UCS-4 code units
  if (n === 0 && 'fiuc'.includes(kind)) throw new Error(`${where}: numpy dtype '${spec}' has no size`);
  if (kind === 'f' && ![2, 4, 8].includes(n)) throw new Error(`${where}: unsupported numpy float size in '${spec}'`);
  if ((kind === 'i' || kind === 'u') && ![1, 2, 4, 8].includes(n)) throw new Error(`${where}: unsupported numpy integer size in '${spec}'`);
  return new NumpyDtype(kind, n, n <= 1 && kind !== 'U' ? '|' : order);
}

/** IEEE 754 half-precision bits → number (numpy float16, torch HalfStorage). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Decodes `count` elements of a simple (non-structured) dtype starting at byte `offset` with a
 * byte `stride` between elements (stride > itemSize inside structured records).
 */
function decodeElements(
  raw: Uint8Array,
  dtype: NumpyDtype,
  count: number,
  offset: number,
  stride: number,
  where: string,
): NumericData | unknown[] {
  const le = dtype.byteOrder !== '>';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = dtype.itemSize;
  const at = (i: number): number => offset + i * stride;
  switch (dtype.kind) {
    case 'f': {
      if (n === 8) {
        const o = new Float64Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getFloat64(at(i), le);
        return o;
      }
      const o = new Float32Array(count);
      if (n === 4) for (let i = 0; i < count; i++) o[i] = v.getFloat32(at(i), le);
      else for (let i = 0; i < count; i++) o[i] = halfToFloat(v.getUint16(at(i), le));
      return o;
    }
    case 'i':
      if (n === 8) {
        const o = new BigInt64Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getBigInt64(at(i), le);
        return o;
      }
      if (n === 4) {
        const o = new Int32Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getInt32(at(i), le);
        return o;
      }
      if (n === 2) {
        const o = new Int16Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getInt16(at(i), le);
        return o;
      }
      {
        const o = new Int8Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getInt8(at(i));
        return o;
      }
    case 'u':
      if (n === 8) {
        const o = new BigUint64Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getBigUint64(at(i), le);
        return o;
      }
      if (n === 4) {
        const o = new Uint32Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getUint32(at(i), le);
        return o;
      }
      if (n === 2) {
        const o = new Uint16Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getUint16(at(i), le);
        return o;
      }
      {
        const o = new Uint8Array(count);
        for (let i = 0; i < count; i++) o[i] = v.getUint8(at(i));
        return o;
      }
    case 'b': {
      const o = new Uint8Array(count);
      for (let i = 0; i < count; i++) o[i] = v.getUint8(at(i)) ? 1 : 0;
      return o;
    }
    case 'U': {
      const o: string[] = new Array(count);
      for (let i = 0; i < count; i++) {
        let s = '';
        for (let c = 0; c < n / 4; c++) {
          const cp = v.getUint32(at(i) + 4 * c, le);
          if (cp === 0) break; // numpy pads with NULs
          if (cp > 0x10ffff) throw new Error(`${where}: numpy str array item ${i} holds the invalid code point 0x${cp.toString(16)}`);
          s += String.fromCodePoint(cp);
        }
        o[i] = s;
      }
      return o;
    }
    case 'S': {
      const o: string[] = new Array(count);
      for (let i = 0; i < count; i++) {
        let end = n;
        while (end > 0 && raw[at(i) + end - 1] === 0) end--;
        o[i] = latin1(raw.subarray(at(i), at(i) + end));
      }
      return o;
    }
    default:
      throw new Error(`${where}: numpy dtype ${dtype.name} cannot be decoded`);
  }
}

/** Reorders elements stored in Fortran (column-major) order into C (row-major) order. */
function fortranToC<T extends NumericData | unknown[]>(src: T, shape: number[]): T {
  if (shape.length < 2) return src;
  const size = src.length;
  const dst = (Array.isArray(src) ? new Array(size) : new (src.constructor as new (n: number) => NumericData)(size)) as T;
  const fStride: number[] = [];
  let s = 1;
  for (const d of shape) {
    fStride.push(s);
    s *= d;
  }
  const idx = new Array<number>(shape.length).fill(0);
  let fPos = 0;
  for (let c = 0; c < size; c++) {
    (dst as unknown as { [i: number]: unknown })[c] = (src as unknown as { [i: number]: unknown })[fPos];
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      fPos += fStride[d];
      if (idx[d] < shape[d]) break;
      fPos -= idx[d] * fStride[d];
      idx[d] = 0;
    }
  }
  return dst;
}

/**
 * Raw array bytes (as numpy's tobytes / joblib's inline records hold them) → NumpyArray.
 * `fortranOrder` means the bytes list elements in column-major order.
 */
export function decodeNumpyBytes(raw: Uint8Array, dtype: NumpyDtype, shape: number[], fortranOrder: boolean, where: string): NumpyArray {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || shape.length > 64)
    throw new Error(`${where}: numpy array shape (${shape.slice(0, 8).join(', ')}${shape.length > 8 ? ', …' : ''}) is invalid`);
  if (dtype.subarray) {
    // '(k,)f8' elements: fold the sub-array shape into the array shape. A pickled dtype can name
    // itself as its own base: follow at most 32 levels.
    let base: NumpyDtype = dtype;
    const dims = [...shape];
    for (let depth = 0; base.subarray; depth++) {
      if (depth >= 32) throw new Error(`${where}: numpy sub-array dtype nested more than 32 levels (cyclic dtype?)`);
      dims.push(...base.subarray.shape);
      base = base.subarray.base;
    }
    return decodeNumpyBytes(raw, base, dims, fortranOrder, where);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (dtype.kind === 'O') throw new Error(`${where}: object arrays carry no raw bytes`);
  // Zero-size items (e.g. 'U0', 'V0') pass the byte-length check for any shape: bound the count itself.
  if (count > 2 ** 31 || (dtype.itemSize === 0 && count > 1 << 20)) {
    throw new Error(`${where}: numpy array shape (${shape.join(', ')}) of ${dtype.name} has too many elements`);
  }
  const expected = count * dtype.itemSize;
  if (raw.length < expected) {
    throw new Error(
      `${where}: numpy array data has ${raw.length} bytes, ${expected} expected for shape (${shape.join(', ')}) of ${dtype.name}`,
    );
  }
  if (dtype.fields) {
    const fields: Record<string, NumpyArray> = {};
    for (const f of dtype.fields) {
      if (f.offset + f.dtype.itemSize > dtype.itemSize) throw new Error(`${where}: structured field '${f.name}' lies outside its record`);
      let data = decodeElements(raw, f.dtype.subarray ? f.dtype.subarray.base : f.dtype, count, f.offset, dtype.itemSize, where);
      if (fortranOrder) data = fortranToC(data, shape);
      fields[f.name] = new NumpyArray(f.dtype.name, shape.slice(), data);
    }
    let recs = raw.slice(0, expected);
    if (fortranOrder) recs = reorderRecords(recs, dtype.itemSize, shape);
    return new NumpyArray('structured', shape.slice(), recs, fields);
  }
  let data = decodeElements(raw, dtype, count, 0, dtype.itemSize, where);
  if (fortranOrder) data = fortranToC(data, shape);
  return new NumpyArray(dtype.name, shape.slice(), data);
}

function reorderRecords(recs: Uint8Array, itemSize: number, shape: number[]): Uint8Array {
  const count = recs.length / itemSize;
  const order = fortranToC(
    Array.from({ length: count }, (_, i) => i),
    shape,
  );
  const out = new Uint8Array(recs.length);
  order.forEach((src, dst) => out.set(recs.subarray(src * itemSize, (src + 1) * itemSize), dst * itemSize));
  return out;
}

/** numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') placeholder, filled by BUILD. */
class PendingArray {
  result?: NumpyArray;
  [PY_SETSTATE](state: unknown, ctx: PickleContext): void {
    // state: (version, shape, dtype, is_fortran, rawdata)
    if (!Array.isArray(state) || state.length < 5) throw ctx.vm.error('numpy array state is malformed');
    const [, shape, dtype, isFortran, rawdata] = state as unknown[];
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) throw ctx.vm.error('numpy array shape is malformed');
    if (!(dtype instanceof NumpyDtype)) throw ctx.vm.error('numpy array dtype is malformed');
    const dims = shape as number[];
    if (dtype.kind === 'O') {
      if (!Array.isArray(rawdata)) throw ctx.vm.error('numpy object array without a list of items');
      const expected = dims.reduce((a, b) => a * b, 1);
      if (rawdata.length !== expected) throw ctx.vm.error(`numpy object array has ${rawdata.length} items, ${expected} expected`);
      this.result = new NumpyArray('object', dims.slice(), isFortran ? fortranToC(rawdata, dims) : rawdata.slice());
      return;
    }
    // Python 2 pickles hold the bytes as a latin-1 str.
    const raw = typeof rawdata === 'string' ? Uint8Array.from(rawdata, (c) => c.charCodeAt(0)) : rawdata;
    if (!(raw instanceof Uint8Array)) throw ctx.vm.error('numpy array data is not bytes');
    try {
      this.result = decodeNumpyBytes(raw, dtype, dims, Boolean(isFortran), ctx.name);
    } catch (e) {
      ctx.vm.fail((e as Error).message.replace(`${ctx.name}: `, ''));
    }
  }
}

/** Replaces the BUILT placeholder of an ndarray by its NumpyArray (used as the VM's afterBuild). */
export function numpyAfterBuild(obj: unknown): unknown {
  return obj instanceof PendingArray ? obj.result : undefined;
}

function scalarValue(dtype: NumpyDtype, payload: unknown, ctx: PickleContext): unknown {
  if (dtype.kind === 'O') return payload;
  const raw = typeof payload === 'string' ? Uint8Array.from(payload, (c) => c.charCodeAt(0)) : payload;
  if (!(raw instanceof Uint8Array)) throw ctx.vm.error('numpy scalar payload is not bytes');
  const arr = decodeNumpyBytes(raw, dtype, [], false, ctx.name);
  if (arr.fields) return arr;
  const v = (arr.data as ArrayLike<unknown>)[0];
  if (dtype.kind === 'b') return v === 1;
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  return v;
}

function dtypeFrom(spec: unknown, ctx: PickleContext): NumpyDtype {
  if (spec instanceof NumpyDtype) return spec;
  if (typeof spec === 'string') {
    try {
      return parseDtypeString(spec, ctx.name);
    } catch (e) {
      ctx.vm.fail((e as Error).message.replace(`${ctx.name}: `, ''));
    }
  }
  throw ctx.vm.error('numpy dtype argument is not a string');
}

/** The numpy globals a pickle of arrays/dtypes/scalars uses, for both numpy 1 and numpy 2 paths. */
export function numpyGlobals(): Record<string, PickleGlobal> {
  const reconstruct: PickleGlobal = {
    call: (args, ctx) => {
      const cls = args[0] as { fullName?: string } | undefined;
      if (!cls || cls.fullName !== 'numpy.ndarray') throw ctx.vm.error('numpy _reconstruct of a class other than numpy.ndarray');
      return new PendingArray();
    },
  };
  const scalar: PickleGlobal = {
    call: (args, ctx) => {
      if (!(args[0] instanceof NumpyDtype)) throw ctx.vm.error('numpy scalar without a dtype');
      return scalarValue(args[0], args[1], ctx);
    },
  };
  const frombuffer: PickleGlobal = {
    // numpy ≥ 1.16 with pickle protocol 5: _frombuffer(buffer, dtype, shape, order)
    call: (args, ctx) => {
      const [buf, dtype, shape, order] = args;
      if (!(buf instanceof Uint8Array) || !Array.isArray(shape)) throw ctx.vm.error('numpy _frombuffer arguments are malformed');
      try {
        return decodeNumpyBytes(buf, dtypeFrom(dtype, ctx), shape as number[], order === 'F', ctx.name);
      } catch (e) {
        throw ctx.vm.error((e as Error).message.replace(`${ctx.name}: `, ''));
      }
    },
  };
  const dtype: PickleGlobal = {
    call: (args, ctx) => dtypeFrom(args[0], ctx),
  };
  const globals: Record<string, PickleGlobal> = {
    'numpy.ndarray': {},
    'numpy.dtype': dtype,
  };
  for (const core of ['numpy.core', 'numpy._core']) {
    globals[`${core}.multiarray._reconstruct`] = reconstruct;
    globals[`${core}.multiarray.scalar`] = scalar;
    globals[`${core}.numeric._frombuffer`] = frombuffer;
  }
  return globals;
}
