/**
 * joblib files (`joblib.dump`) read without Python.
 *
 * A joblib file is a plain pickle in which every numpy array is pickled as a
 * `joblib.numpy_pickle.NumpyArrayWrapper` object; right after the wrapper's BUILD opcode the array's
 * raw bytes follow inline in the stream (preceded, since joblib 1.2, by one byte giving the length of
 * an alignment padding). Object arrays are a nested pickle at that position instead. The whole stream
 * may be zlib- or gzip-compressed (`compress=...`); we detect that from the magic bytes.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { NumpyArray, NumpyDtype, decodeNumpyBytes, numpyAfterBuild, numpyGlobals } from './numpy';
import { PickleContext, PickleGlobal, PyObject, Unpickler, UnpickleLimits, UnpickleOptions } from './unpickler';
import { sklearnGlobals } from './sklearn-globals';
import { LimitOverrides, limitError, resolveLimits, parsingFile } from '../limits';
import { checkSha256 } from '../io/integrity';

export interface LoadJoblibOptions {
  /** Extra allowlisted globals ("module.qualname" → implementation) on top of numpy/sklearn/builtins. */
  globals?: Record<string, PickleGlobal>;
  limits?: UnpickleLimits;
  /** Maximum size of a decompressed joblib stream (default JOBLIB_MAX_DECOMPRESSED_BYTES, 512 MiB). */
  maxDecompressedBytes?: number;
  /** Named budgets for this load (JOBLIB_MAX_DECOMPRESSED_BYTES, PICKLE_*, SKLEARN_MAX_FEATURES); see limits.ts. */
  limitOverrides?: LimitOverrides;
  /** Refuse the file unless its bytes hash to this sha256 (hex, as manifests record it). */
  expectedSha256?: string;
}

const JOBLIB_WRAPPER = 'joblib.numpy_pickle.NumpyArrayWrapper';

/**
 * Decompresses zlib/gzip streams with a size cap (a small file must not expand without bound).
 * Node's native inflate stops at `maxOutputLength` while inflating, so a bomb costs at most the
 * cap in memory and runs at native speed.
 */
function inflateCapped(bytes: Uint8Array, kind: 'zlib' | 'gzip', max: number, name: string): Uint8Array {
  try {
    const out = kind === 'zlib' ? zlib.inflateSync(bytes, { maxOutputLength: max }) : zlib.gunzipSync(bytes, { maxOutputLength: max });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE')
      throw limitError(name, 'JOBLIB_MAX_DECOMPRESSED_BYTES', max, `${kind}-compressed joblib data that inflates further`);
    if (err.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(err.message))
      throw new Error(`${name}: truncated ${kind}-compressed joblib data`);
    throw new Error(`${name}: corrupt ${kind}-compressed joblib data (${err.message.split('\n')[0].slice(0, 120)})`);
  }
}

/** Identifies the container format from the first bytes and returns the pickle stream. */
export function joblibPickleBytes(
  bytes: Uint8Array,
  name: string,
  maxDecompressedBytes = resolveLimits().JOBLIB_MAX_DECOMPRESSED_BYTES,
): Uint8Array {
  if (bytes.length === 0) throw new Error(`${name}: empty file, not a joblib/pickle file`);
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0x80) return bytes; // pickle protocol ≥ 2
  if (b0 === 0x1f && b1 === 0x8b) return inflateCapped(bytes, 'gzip', maxDecompressedBytes, name);
  if (b0 === 0x78 && bytes.length > 1 && ((b0 << 8) | b1) % 31 === 0) return inflateCapped(bytes, 'zlib', maxDecompressedBytes, name);
  if (b0 === 0x5a && b1 === 0x46)
    throw new Error(`${name}: old joblib (< 0.10) compressed format 'ZF' is not supported; re-save it with a recent joblib`);
  if (b0 === 0xfd && b1 === 0x37)
    throw new Error(`${name}: xz-compressed joblib files are not supported; re-save with compress=('zlib', 3) or without compression`);
  if (b0 === 0x42 && b1 === 0x5a)
    throw new Error(`${name}: bz2-compressed joblib files are not supported; re-save with compress=('zlib', 3) or without compression`);
  if (b0 === 0x5d && b1 === 0x00)
    throw new Error(`${name}: lzma-compressed joblib files are not supported; re-save with compress=('zlib', 3) or without compression`);
  if (b0 === 0x04 && b1 === 0x22)
    throw new Error(`${name}: lz4-compressed joblib files are not supported; re-save with compress=('zlib', 3) or without compression`);
  // Protocol 0/1 pickles start with an opcode, not PROTO: accept the common first opcodes.
  if ('(]}cNIKJ'.includes(String.fromCharCode(b0))) return bytes;
  throw new Error(
    `${name}: not a joblib/pickle file (unknown magic bytes 0x${b0.toString(16).padStart(2, '0')} 0x${(b1 ?? 0).toString(16).padStart(2, '0')})`,
  );
}

/** The array that follows a NumpyArrayWrapper's BUILD in the stream (joblib's read_array). */
function readWrappedArray(wrapper: PyObject, vm: Unpickler, nestedOpts: UnpickleOptions): NumpyArray {
  const { shape, order, dtype } = wrapper as { shape?: unknown; order?: unknown; dtype?: unknown };
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    vm.fail('joblib array record has a malformed shape');
  }
  if (!(dtype instanceof NumpyDtype)) vm.fail('joblib array record has no numpy dtype');
  if (dtype.kind === 'O') {
    // Object arrays: a separate pickle (own memo) at the current position. Each level is one more
    // JS stack frame set, so the nesting is bounded (PICKLE_MAX_NESTING) instead of the stack.
    const nested = new Unpickler(vm.bytes, { ...nestedOpts, nesting: vm.nesting + 1 }, vm.pos);
    const arr = nested.load();
    vm.pos = nested.pos;
    if (!(arr instanceof NumpyArray)) vm.fail('joblib object array record does not hold a numpy array');
    return arr;
  }
  const alignment = (wrapper as { numpy_array_alignment_bytes?: unknown }).numpy_array_alignment_bytes;
  if (alignment !== undefined && alignment !== null) {
    const padding = vm.readRaw(1)[0];
    if (padding > 64) vm.fail(`joblib array record has an implausible padding of ${padding} bytes`);
    vm.readRaw(padding);
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const need = count * dtype.itemSize;
  if (!Number.isSafeInteger(need) || need > vm.bytes.length - vm.pos) {
    vm.fail(
      `joblib array of shape (${(shape as number[]).join(', ')}) needs ${need} bytes, ${vm.bytes.length - vm.pos} remain in the file (truncated or malformed)`,
    );
  }
  const raw = vm.readRaw(need);
  try {
    return decodeNumpyBytes(raw, dtype, shape as number[], order === 'F', vm.name);
  } catch (e) {
    return vm.fail((e as Error).message.replace(`${vm.name}: `, ''));
  }
}

/** Builtins that appear in joblib'd scikit-learn objects; all are data constructors. */
function builtinGlobals(): Record<string, PickleGlobal> {
  const slice = (args: unknown[]): unknown => ({ start: args[0] ?? null, stop: args[1] ?? null, step: args[2] ?? null });
  return {
    'builtins.slice': { call: slice },
    'builtins.set': { call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) },
    'builtins.frozenset': { call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) },
    'builtins.bytearray': { call: (args) => (args[0] instanceof Uint8Array ? args[0].slice() : new Uint8Array(0)) },
    '__builtin__.set': { call: (args) => new Set(Array.isArray(args[0]) ? args[0] : []) },
    'collections.OrderedDict': { call: () => ({}) },
    'copyreg._reconstructor': {
      // copyreg._reconstructor(cls, object, None) == object.__new__(cls) for plain classes
      call: (args, ctx) => {
        const cls = args[0] as { impl?: PickleGlobal; fullName?: string };
        if (!cls?.impl?.create || args[1] === undefined) throw ctx.vm.error('copyreg._reconstructor with a non-allowlisted class');
        return cls.impl.create([], {}, ctx);
      },
    },
    'builtins.object': {},
    // Protocol-2 pickles write bytes as _codecs.encode(<latin-1 str>, 'latin1').
    '_codecs.encode': {
      call: (args, ctx) => {
        const [text, encoding] = args;
        if (typeof text !== 'string') throw ctx.vm.error('_codecs.encode of a non-str');
        const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace('_', '-') : 'utf-8';
        if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') {
          return Uint8Array.from(text, (c) => {
            const code = c.charCodeAt(0);
            if (code > 255) throw ctx.vm.error('_codecs.encode: character outside latin-1');
            return code;
          });
        }
        if (enc === 'utf-8' || enc === 'utf8' || enc === 'ascii') return new TextEncoder().encode(text);
        throw ctx.vm.error(`_codecs.encode with unsupported encoding '${String(encoding)}'`);
      },
    },
  };
}

/** All globals a joblib'd scikit-learn/numpy object graph may use (the allowlist). */
export function joblibGlobals(extra: Record<string, PickleGlobal> = {}): Record<string, PickleGlobal> {
  const wrapper: PickleGlobal = { create: () => new PyObject(JOBLIB_WRAPPER) };
  // joblib < 0.10 kept arrays in sibling .npy/.z files referenced from the pickle: say so plainly.
  const oldFormat: PickleGlobal = {
    create: (_args, _kw, ctx) => {
      throw ctx.vm.error(
        'old joblib (< 0.10) multi-file format (arrays in separate files) is not supported; re-save it with a recent joblib',
      );
    },
  };
  return {
    ...builtinGlobals(),
    ...numpyGlobals(),
    ...sklearnGlobals(),
    [JOBLIB_WRAPPER]: wrapper,
    'joblib.numpy_pickle.NDArrayWrapper': oldFormat,
    'joblib.numpy_pickle.ZNDArrayWrapper': oldFormat,
    'sklearn.externals.joblib.numpy_pickle.NDArrayWrapper': oldFormat,
    'sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper': oldFormat,
    ...extra,
  };
}

/** Unpickles a joblib/pickle byte stream (compressed or not); `name` labels errors. */
export function parseJoblib(bytes: Uint8Array, name: string, opts: LoadJoblibOptions = {}): unknown {
  // Engine errors (stack, allocation, code points) become one line naming the file.
  return parsingFile(name, 'joblib file', () => parseJoblibUnwrapped(bytes, name, opts));
}

function parseJoblibUnwrapped(bytes: Uint8Array, name: string, opts: LoadJoblibOptions): unknown {
  checkSha256(bytes, opts.expectedSha256, name);
  const named = resolveLimits(opts.limitOverrides);
  const stream = joblibPickleBytes(bytes, name, opts.maxDecompressedBytes ?? named.JOBLIB_MAX_DECOMPRESSED_BYTES);
  const unpickleOpts: UnpickleOptions = {
    name,
    globals: joblibGlobals(opts.globals),
    limits: opts.limits,
    limitOverrides: opts.limitOverrides,
    afterBuild: (obj: unknown, ctx: PickleContext) => {
      if (obj instanceof PyObject && obj.__class__ === JOBLIB_WRAPPER) return readWrappedArray(obj, ctx.vm, unpickleOpts);
      return numpyAfterBuild(obj);
    },
  };
  const vm = new Unpickler(stream, unpickleOpts);
  return vm.load();
}

/** Loads a `joblib.dump` file (or a plain pickle of the same allowlisted objects) into a JS object graph. */
export async function loadJoblib(file: string, opts: LoadJoblibOptions = {}): Promise<unknown> {
  const buf = await fs.promises.readFile(file);
  return parseJoblib(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path.basename(file), opts);
}
