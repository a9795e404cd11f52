/**
 * PyTorch state dicts written by `torch.save` (zip format, torch ≥ 1.6) read without Python.
 *
 * Archive layout: `<prefix>/data.pkl` (the pickle), `<prefix>/data/<key>` (raw storages),
 * `<prefix>/byteorder` (optional, "little"/"big"), `<prefix>/version`. The pickle refers to storages
 * through persistent ids `('storage', torch.<X>Storage, key, location, numel)`; tensors are rebuilt
 * by `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`. Only those globals
 * (plus OrderedDict and _rebuild_parameter) are allowlisted; nothing in the file is executed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { GlobalRef, PickleGlobal, Unpickler, isPyDict, pyDictItems } from './unpickler';
import { Budget, LimitOverrides, Limits, resolveLimits, parsingFile } from '../limits';
import { ZipArchive } from '../io/zip';
import { checkSha256 } from '../io/integrity';
import { isOmegaConf, omegaconfGlobals, omegaconfToPlain } from './omegaconf';
import { halfToFloat } from './numpy';

/** One tensor of a state dict. `data` is always float32 (ints/bools widened); `intData` keeps integer storages exactly. */
export interface TorchTensor {
  shape: number[];
  /** torch dtype name without the prefix: 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool'. */
  dtype: string;
  /** Row-major (C-contiguous) values, shape `shape`. */
  data: Float32Array;
  /** Exact values for integer and bool tensors (int64 as BigInt64Array). */
  intData?: BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

/** @deprecated use `limits` (ZIP_MAX_ENTRIES, ZIP_MAX_ENTRY_BYTES, ZIP_MAX_TOTAL_BYTES). */
export interface ZipLimits {
  /** Maximum entries in the archive (default 100,000). */
  maxEntries?: number;
  /** Maximum uncompressed size of one entry (default 2 GiB). */
  maxEntryBytes?: number;
  /** Maximum total uncompressed size (default 4 GiB). */
  maxTotalBytes?: number;
}

export interface LoadTorchOptions {
  /** @deprecated use `limits`. */
  zipLimits?: ZipLimits;
  /**
   * Raises (or lowers) the named budgets for this load: ZIP_* (archive), TORCH_MAX_TENSOR_BYTES,
   * TORCH_MAX_VIEW_BYTES, PICKLE_* (see limits.ts and docs/security.md).
   */
  limits?: LimitOverrides;
  /** Refuse the file unless its bytes hash to this sha256 (hex, as manifests record it). */
  expectedSha256?: string;
}

function torchLimits(opts: LoadTorchOptions): Limits {
  const z = opts.zipLimits ?? {};
  return resolveLimits({
    ...(z.maxEntries !== undefined ? { ZIP_MAX_ENTRIES: z.maxEntries } : {}),
    ...(z.maxEntryBytes !== undefined ? { ZIP_MAX_ENTRY_BYTES: z.maxEntryBytes } : {}),
    ...(z.maxTotalBytes !== undefined ? { ZIP_MAX_TOTAL_BYTES: z.maxTotalBytes } : {}),
    ...(opts.limits ?? {}),
  });
}

/** Memory budgets counted across one checkpoint. */
interface TensorBudgets {
  /** Decoded storages plus materialised tensor copies. */
  total: Budget;
  /** Tensors copied out of a storage they do not own whole (shared, sliced, expanded views). */
  views: Budget;
}

interface StorageType {
  dtype: string;
  itemSize: number;
}

const STORAGE_TYPES: Record<string, StorageType> = {
  FloatStorage: { dtype: 'float32', itemSize: 4 },
  DoubleStorage: { dtype: 'float64', itemSize: 8 },
  HalfStorage: { dtype: 'float16', itemSize: 2 },
  BFloat16Storage: { dtype: 'bfloat16', itemSize: 2 },
  LongStorage: { dtype: 'int64', itemSize: 8 },
  IntStorage: { dtype: 'int32', itemSize: 4 },
  ShortStorage: { dtype: 'int16', itemSize: 2 },
  CharStorage: { dtype: 'int8', itemSize: 1 },
  ByteStorage: { dtype: 'uint8', itemSize: 1 },
  BoolStorage: { dtype: 'bool', itemSize: 1 },
};

type StorageValues = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** A storage decoded to element values: float16/bfloat16/float32 as Float32Array (exact), float64 kept, ints kept. */
class Storage {
  /** Set once a tensor owns `values` outright (so later views of the same storage copy). */
  handedOut = false;
  constructor(
    readonly type: StorageType,
    readonly key: string,
    readonly numel: number,
    readonly values: StorageValues,
  ) {}
}

class TensorValue {
  constructor(readonly tensor: TorchTensor) {}
}

const ZIP_LOCAL_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY_MAGIC = [0x50, 0x4b, 0x05, 0x06];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function decodeStorage(bytes: Uint8Array, type: StorageType, numel: number, littleEndian: boolean): StorageValues {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type.dtype) {
    case 'float32': {
      // Fast path: a copy is 4-byte aligned, so a little-endian storage maps straight onto a Float32Array.
      if (littleEndian) return new Float32Array(bytes.slice(0, numel * 4).buffer);
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getFloat32(i * 4, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getFloat64(i * 8, littleEndian);
      return out;
    }
    case 'float16': {
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = halfToFloat(view.getUint16(i * 2, littleEndian));
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(numel);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) bits[i] = view.getUint16(i * 2, littleEndian) << 16;
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getBigInt64(i * 8, littleEndian);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getInt32(i * 4, littleEndian);
      return out;
    }
    case 'int16': {
      const out = new Int16Array(numel);
      for (let i = 0; i < numel; i++) out[i] = view.getInt16(i * 2, littleEndian);
      return out;
    }
    case 'int8':
      return new Int8Array(bytes.slice(0, numel).buffer);
    default: // uint8, bool
      return bytes.slice(0, numel);
  }
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);
}

/**
 * `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`: gathers the strided view into a
 * contiguous row-major tensor (torch may save non-contiguous views of a shared storage).
 */
function rebuildTensor(name: string, args: unknown[], budgets: TensorBudgets): TensorValue {
  const [storage, offset, size, stride] = args as [Storage, unknown, unknown, unknown];
  if (!(storage instanceof Storage)) throw new Error(`${name}: _rebuild_tensor_v2 without a storage`);
  if (typeof offset !== 'number' || !isIntList(size) || !isIntList(stride) || size.length !== stride.length) {
    throw new Error(`${name}: _rebuild_tensor_v2 with malformed size/stride`);
  }
  const numel = size.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(numel) || size.length > 64)
    throw new Error(`${name}: tensor view of size [${size.slice(0, 8)}${size.length > 8 ? ', …' : ''}] is malformed`);
  let maxIndex = offset;
  for (let d = 0; d < size.length; d++) if (size[d] > 0) maxIndex += (size[d] - 1) * stride[d];
  if (numel > 0 && (offset < 0 || maxIndex >= storage.numel)) {
    throw new Error(
      `${name}: tensor view (offset ${offset}, size [${size}], stride [${stride}]) exceeds storage '${storage.key}' of ${storage.numel} elements`,
    );
  }
  const src = storage.values;
  const isInt = !(src instanceof Float32Array) && !(src instanceof Float64Array);
  // Bytes this tensor materialises: float32 values, plus the exact integers for int storages.
  const bytes = numel * 4 + (isInt ? numel * (src as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 0);
  // Contiguous float32 views (the usual case for parameters) are one copy.
  let expectedStride = 1;
  let contiguous = true;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expectedStride) contiguous = false;
    expectedStride *= size[d];
  }
  // A tensor spanning its whole storage takes the decoded array itself: no second copy of big weights.
  const whole = contiguous && src instanceof Float32Array && offset === 0 && numel === storage.numel && !storage.handedOut;
  if (whole) {
    storage.handedOut = true;
    return new TensorValue({ shape: size.slice(), dtype: storage.type.dtype, data: src });
  }
  // Every other tensor is a copy: counted in total across the file BEFORE allocating, so many
  // views of one small storage (stride 0, or the same bytes again and again) cannot add up.
  const detail = `tensor of size [${size}] viewing storage '${storage.key}'`;
  budgets.views.add(bytes, detail);
  budgets.total.add(bytes, detail);
  if (contiguous && src instanceof Float32Array) {
    return new TensorValue({ shape: size.slice(), dtype: storage.type.dtype, data: src.slice(offset, offset + numel) });
  }
  const data = new Float32Array(numel);
  let intData: TorchTensor['intData'];
  let bigOut: BigInt64Array | undefined;
  let smallOut: Exclude<TorchTensor['intData'], BigInt64Array | undefined> | undefined;
  if (src instanceof BigInt64Array) intData = bigOut = new BigInt64Array(numel);
  else if (!(src instanceof Float64Array) && !(src instanceof Float32Array)) {
    const Ctor = src.constructor as new (n: number) => NonNullable<typeof smallOut>;
    intData = smallOut = new Ctor(numel);
  }
  // Walk the multi-index in row-major order.
  const idx = new Array<number>(size.length).fill(0);
  let srcPos = offset;
  for (let i = 0; i < numel; i++) {
    if (bigOut) {
      bigOut[i] = (src as BigInt64Array)[srcPos];
      data[i] = Number(bigOut[i]);
    } else {
      const v = (src as Exclude<StorageValues, BigInt64Array>)[srcPos];
      data[i] = v;
      if (smallOut) smallOut[i] = v;
    }
    for (let d = size.length - 1; d >= 0; d--) {
      idx[d]++;
      srcPos += stride[d];
      if (idx[d] < size[d]) break;
      srcPos -= idx[d] * stride[d];
      idx[d] = 0;
    }
  }
  return new TensorValue({ shape: size.slice(), dtype: storage.type.dtype, data, ...(intData ? { intData } : {}) });
}

/** Keys under which training scripts commonly nest the weights in a checkpoint dict. */
const STATE_DICT_KEYS = ['model_state_dict', 'state_dict', 'model'];

/** A torch checkpoint: the weights plus whatever else the dict held (options, step, …). */
export interface TorchCheckpoint {
  stateDict: Map<string, TorchTensor>;
  /** The entry the weights came from ('model_state_dict', …), or undefined when the file is a bare state dict. */
  stateDictKey?: string;
  /** Other top-level entries as plain values: OmegaConf configs become plain objects, tensors TorchTensors. */
  extra: Record<string, unknown>;
}

export interface LoadTorchCheckpointOptions extends LoadTorchOptions {
  /** Top-level key that holds the weights (default: the first of model_state_dict, state_dict, model that holds tensors). */
  key?: string;
}

/** Flattens nested dicts of tensors into 'a.b.c' names (as `model.state_dict()` names them). */
function flattenTensors(root: unknown, name: string): Map<string, TorchTensor> {
  const out = new Map<string, TorchTensor>();
  const seen = new Set<unknown>();
  const visit = (prefix: string, v: unknown, depth: number): void => {
    if (v instanceof TensorValue) {
      out.set(prefix, v.tensor);
    } else if (isPyDict(v)) {
      // A hostile pickle can make dicts contain themselves: visit each once, bounded depth.
      if (seen.has(v)) return;
      if (depth > 64) throw new Error(`${name}: state dict nested deeper than 64 levels`);
      seen.add(v);
      for (const [k, child] of pyDictItems(v)) visit(prefix ? `${prefix}.${String(k)}` : String(k), child, depth + 1);
    }
  };
  visit('', root, 0);
  return out;
}

/** Non-weight entries → plain values (tensors unwrapped, OmegaConf configs converted). */
function plainExtra(v: unknown, seen = new Map<unknown, unknown>(), depth = 0): unknown {
  if (v instanceof TensorValue) return v.tensor;
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return seen.get(v);
  if (depth > 64) return v;
  if (isOmegaConf(v)) return omegaconfToPlain(v);
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(plainExtra(x, seen, depth + 1));
    return out;
  }
  if (isPyDict(v)) {
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, x] of pyDictItems(v)) {
      Object.defineProperty(out, String(k), {
        value: plainExtra(x, seen, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

/** Same as `loadTorchCheckpoint` on bytes already in memory; `name` labels errors. */
export function parseTorchCheckpoint(bytes: Uint8Array, name: string, opts: LoadTorchCheckpointOptions = {}): TorchCheckpoint {
  // Engine errors (stack, allocation, string length) become one line naming the file.
  return parsingFile(name, 'torch checkpoint', () => parseTorchCheckpointUnwrapped(bytes, name, opts));
}

function parseTorchCheckpointUnwrapped(bytes: Uint8Array, name: string, opts: LoadTorchCheckpointOptions): TorchCheckpoint {
  checkSha256(bytes, opts.expectedSha256, name);
  const root = readTorchArchive(bytes, name, opts);
  if (!isPyDict(root)) throw new Error(`${name}: the file does not hold a state dict (found ${root === null ? 'None' : typeof root})`);
  const holdsTensors = (v: unknown): boolean => isPyDict(v) && flattenTensors(v, name).size > 0;
  let key: string | undefined;
  if (opts.key !== undefined) {
    if (!holdsTensors(root[opts.key]))
      throw new Error(`${name}: no state dict under key '${opts.key}' (top-level keys: ${Object.keys(root).join(', ')})`);
    key = opts.key;
  } else if (!Object.values(root).some((v) => v instanceof TensorValue)) {
    key = STATE_DICT_KEYS.find((k) => holdsTensors(root[k]));
  }
  const stateDict = flattenTensors(key === undefined ? root : root[key], name);
  if (stateDict.size === 0) throw new Error(`${name}: the state dict holds no tensors`);
  const extra: Record<string, unknown> = {};
  if (key !== undefined) {
    for (const [k, v] of pyDictItems(root)) {
      if (k !== key)
        Object.defineProperty(extra, String(k), { value: plainExtra(v), enumerable: true, writable: true, configurable: true });
    }
  }
  return { stateDict, stateDictKey: key, extra };
}

/**
 * Loads a torch checkpoint: a bare `torch.save(model.state_dict())` file, or a dict holding the
 * weights under 'model_state_dict' / 'state_dict' / 'model' (or `opts.key`) next to other entries
 * — e.g. the AnomalyBERT ESS fork's `{'model_state_dict': ..., 'options': <OmegaConf config>}`.
 */
export async function loadTorchCheckpoint(file: string, opts: LoadTorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  const bytes = await fs.promises.readFile(file);
  return parseTorchCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path.basename(file), opts);
}

/**
 * Loads the weights of a torch checkpoint: tensor name → tensor, in file order. Nested dicts are
 * flattened with '.'; non-tensor entries are skipped. Checkpoint dicts ({'model_state_dict': …,
 * 'options': …}) yield their state dict (see `loadTorchCheckpoint` for the other entries).
 */
export async function loadTorchStateDict(file: string, opts: LoadTorchCheckpointOptions = {}): Promise<Map<string, TorchTensor>> {
  return (await loadTorchCheckpoint(file, opts)).stateDict;
}

/** Same as `loadTorchStateDict` on bytes already in memory; `name` labels errors. */
export function parseTorchStateDict(bytes: Uint8Array, name: string, opts: LoadTorchCheckpointOptions = {}): Map<string, TorchTensor> {
  return parseTorchCheckpoint(bytes, name, opts).stateDict;
}

/** Unzips a torch archive (with size checks) and unpickles `data.pkl`; tensors come back as opaque values. */
function readTorchArchive(bytes: Uint8Array, name: string, opts: LoadTorchOptions): unknown {
  const limits = torchLimits(opts);
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new Error(
      `${name}: unsupported legacy (non-zip) torch format; re-save it with torch >= 1.6 (torch.save with _use_new_zipfile_serialization=True)`,
    );
  }
  if (!startsWith(bytes, ZIP_LOCAL_MAGIC) && !startsWith(bytes, ZIP_EMPTY_MAGIC)) {
    throw new Error(`${name}: not a torch zip archive (bad magic bytes)`);
  }
  // The central directory is checked (entry count, declared sizes) before anything is inflated;
  // each entry is inflated only when needed and its CRC-32 verified.
  const archive = new ZipArchive(bytes, name, 'torch zip archive', limits);
  const pklName = archive.names().find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pklName) throw new Error(`${name}: torch archive has no data.pkl entry`);
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  const pkl = archive.read(pklName);
  if (startsWith(pkl, ZIP_LOCAL_MAGIC)) throw new Error(`${name}: nested archive in data.pkl is not allowed`);
  const byteorderName = `${prefix}byteorder`;
  const byteorder =
    archive.has(byteorderName) && archive.entries.get(byteorderName)!.size <= 16
      ? new TextDecoder().decode(archive.read(byteorderName)).trim()
      : archive.has(byteorderName)
        ? '?'
        : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') throw new Error(`${name}: unknown byteorder '${byteorder.slice(0, 16)}'`);
  const littleEndian = byteorder === 'little';

  const storages = new Map<string, Storage>();
  const budgets: TensorBudgets = {
    total: new Budget(name, 'TORCH_MAX_TENSOR_BYTES', limits.TORCH_MAX_TENSOR_BYTES, 'the tensors need more memory than allowed in total'),
    views: new Budget(
      name,
      'TORCH_MAX_VIEW_BYTES',
      limits.TORCH_MAX_VIEW_BYTES,
      'tensors copied out of shared storages need more memory than allowed in total',
    ),
  };
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new Error(`${name}: unsupported persistent id in data.pkl`);
    }
    const [, storageType, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
    if (!(storageType instanceof GlobalRef) || storageType.module !== 'torch' || !STORAGE_TYPES[storageType.qualname]) {
      throw new Error(`${name}: unsupported storage type in data.pkl`);
    }
    if (typeof key !== 'string' || typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) {
      throw new Error(`${name}: malformed storage reference in data.pkl`);
    }
    const cached = storages.get(key);
    if (cached) return cached;
    const type = STORAGE_TYPES[storageType.qualname];
    const entryName = `${prefix}data/${key}`;
    if (!archive.has(entryName)) throw new Error(`${name}: storage '${key}' is missing from the archive (truncated file?)`);
    const declared = archive.entries.get(entryName)!.size;
    if (declared < numel * type.itemSize) {
      throw new Error(`${name}: storage '${key}' has ${declared} bytes, ${numel * type.itemSize} expected (${numel} × ${type.dtype})`);
    }
    // Decoded values: float32 for the half/bfloat types, else the storage's own width.
    budgets.total.add(numel * Math.max(4, type.itemSize), `storage '${key}'`);
    const raw = archive.read(entryName);
    const storage = new Storage(type, key, numel, decodeStorage(raw, type, numel, littleEndian));
    storages.set(key, storage);
    return storage;
  };

  const storageMarker: PickleGlobal = {}; // referenced only as a type tag inside persistent ids
  const globals: Record<string, PickleGlobal> = {
    // Checkpoint dicts may carry an OmegaConf config (inert objects, converted by omegaconfToPlain).
    ...omegaconfGlobals(),
    'collections.OrderedDict': { call: () => ({}) },
    'torch._utils._rebuild_tensor_v2': { call: (args) => rebuildTensor(name, args, budgets) },
    'torch._utils._rebuild_tensor': { call: (args) => rebuildTensor(name, args, budgets) },
    'torch._utils._rebuild_parameter': {
      call: (args) => {
        if (!(args[0] instanceof TensorValue)) throw new Error(`${name}: _rebuild_parameter without a tensor`);
        return args[0];
      },
    },
    'torch._utils._rebuild_parameter_with_state': {
      call: (args) => {
        if (!(args[0] instanceof TensorValue)) throw new Error(`${name}: _rebuild_parameter_with_state without a tensor`);
        return args[0];
      },
    },
    // Tensor subclasses / tensors with Python state: _rebuild_from_type_v2(func, new_type, args, state).
    // Only our own rebuild functions may be `func`; the type and state are ignored (plain tensors come back).
    'torch._tensor._rebuild_from_type_v2': {
      call: (args, ctx) => {
        const [func, , inner] = args;
        if (!(func instanceof GlobalRef) || !func.impl.call || !func.fullName.startsWith('torch._utils._rebuild_')) {
          throw ctx.vm.error('_rebuild_from_type_v2 with a function other than a torch tensor rebuild');
        }
        if (!Array.isArray(inner)) throw ctx.vm.error('_rebuild_from_type_v2 arguments are not a tuple');
        return func.impl.call(inner, ctx);
      },
    },
    'torch._tensor.Tensor': {},
    'torch.Tensor': {},
    'torch.nn.parameter.Parameter': {},
  };
  for (const storageName of Object.keys(STORAGE_TYPES)) globals[`torch.${storageName}`] = storageMarker;

  const vm = new Unpickler(pkl, { name: `${name}`, globals, persistentLoad, limitOverrides: limits });
  try {
    // OrderedDict attributes (the `_metadata` versions under PY_ATTRS) are not items: flattening ignores them.
    return vm.load();
  } catch (e) {
    // A whole pickled nn.Module names its own classes: say what to save instead.
    const m = /pickle global '([\w.]+)' is not allowed/.exec((e as Error).message);
    if (m && /^[A-Z]/.test(m[1].split('.').pop() ?? '') && !m[1].startsWith('torch.')) {
      throw new Error(
        `${(e as Error).message} (is this a whole pickled model? Save and load its state dict instead: torch.save(model.state_dict(), path))`,
      );
    }
    throw e;
  }
}
