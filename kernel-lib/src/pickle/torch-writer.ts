/**
 * Writes state dicts in the torch.save zip format, so weights trained here load in PyTorch with
 * `model.load_state_dict(torch.load(path))`.
 *
 * Layout (as torch.save writes it): `archive/data.pkl` (pickle protocol 2: an OrderedDict of
 * `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())` with storages as
 * persistent ids `('storage', torch.<X>Storage, key, 'cpu', numel)`), `archive/byteorder` ("little"),
 * `archive/data/<key>` (raw little-endian storages, 64-byte aligned like torch's writer) and
 * `archive/version`. The output is deterministic (fixed zip timestamps).
 */
import { zipSync, Zippable } from 'fflate';
import { writeFileAtomic } from '../io/atomic';
import { TorchTensor } from './torch';

/** A tensor to write: row-major values of `shape`. Typed-array type picks the torch dtype. */
export interface TorchTensorInput {
  shape: number[];
  /** Float32Array → float32, Float64Array → float64, Int32Array → int32, BigInt64Array → int64. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  /** 'bool' writes a BoolStorage from `data` (0/1). */
  dtype?: string;
}

const DATA_ALIGNMENT = 64;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class PickleBuilder {
  private buf = new Uint8Array(1024);
  private len = 0;
  private readonly enc = new TextEncoder();

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(...bs: number[]): this {
    this.ensure(bs.length);
    for (const b of bs) this.buf[this.len++] = b;
    return this;
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  global(module: string, name: string): this {
    return this.byte(0x63).raw(this.enc.encode(`${module}\n${name}\n`));
  }

  str(s: string): this {
    const b = this.enc.encode(s);
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, b.length, true);
    return this.byte(0x58).raw(n).raw(b); // BINUNICODE
  }

  int(v: number): this {
    if (!Number.isSafeInteger(v)) throw new Error(`cannot pickle ${v} as an int`);
    if (v >= 0 && v < 256) return this.byte(0x4b, v); // BININT1
    if (v >= 0 && v < 65536) return this.byte(0x4d, v & 0xff, v >> 8); // BININT2
    if (v >= -(2 ** 31) && v < 2 ** 31) {
      const n = new Uint8Array(4);
      new DataView(n.buffer).setInt32(0, v, true);
      return this.byte(0x4a).raw(n); // BININT
    }
    // LONG1: little-endian two's complement, 8 bytes is plenty for tensor sizes.
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigInt64(0, BigInt(v), true);
    return this.byte(0x8a, 8).raw(n);
  }

  tuple(items: number[]): this {
    this.byte(0x28); // MARK
    for (const it of items) this.int(it);
    return this.byte(0x74); // TUPLE
  }

  emptyOrderedDict(): this {
    return this.global('collections', 'OrderedDict').byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

interface StorageOut {
  storageType: string;
  dtype: string;
  bytes: Uint8Array;
  numel: number;
}

function storageOf(name: string, t: TorchTensorInput | TorchTensor): StorageOut {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`tensor '${name}': invalid shape [${t.shape}]`);
  const tt = t as TorchTensor;
  // TorchTensors read by loadTorchStateDict keep integer/bool values exactly in intData.
  const src: ArrayLike<number | bigint> & ArrayBufferView = tt.intData ?? t.data;
  if (src.length !== numel) throw new Error(`tensor '${name}': ${src.length} values for shape [${t.shape}]`);
  const out = (itemSize: number): DataView => new DataView(new ArrayBuffer(numel * itemSize));
  if (t.dtype === 'bool') {
    const v = new Uint8Array(numel);
    for (let i = 0; i < numel; i++) v[i] = Number(src[i]) ? 1 : 0;
    return { storageType: 'BoolStorage', dtype: 'bool', bytes: v, numel };
  }
  if (src instanceof BigInt64Array) {
    const v = out(8);
    for (let i = 0; i < numel; i++) v.setBigInt64(i * 8, src[i], true);
    return { storageType: 'LongStorage', dtype: 'int64', bytes: new Uint8Array(v.buffer), numel };
  }
  if (src instanceof Int32Array || (tt.intData && t.dtype === 'int32')) {
    const v = out(4);
    for (let i = 0; i < numel; i++) v.setInt32(i * 4, Number(src[i]), true);
    return { storageType: 'IntStorage', dtype: 'int32', bytes: new Uint8Array(v.buffer), numel };
  }
  if (src instanceof Float64Array) {
    const v = out(8);
    for (let i = 0; i < numel; i++) v.setFloat64(i * 8, src[i], true);
    return { storageType: 'DoubleStorage', dtype: 'float64', bytes: new Uint8Array(v.buffer), numel };
  }
  if (src instanceof Float32Array) {
    // Little-endian hosts (all that run Node in practice) can copy the bytes as they are.
    if (LITTLE_ENDIAN_HOST) return { storageType: 'FloatStorage', dtype: 'float32', bytes: new Uint8Array(src.slice().buffer), numel };
    const v = out(4);
    for (let i = 0; i < numel; i++) v.setFloat32(i * 4, src[i], true);
    return { storageType: 'FloatStorage', dtype: 'float32', bytes: new Uint8Array(v.buffer), numel };
  }
  throw new Error(`tensor '${name}': unsupported data type ${(src as object).constructor.name}`);
}

/**
 * Encodes a state dict (name → tensor, in order) as the bytes of a torch.save zip archive.
 * float16/bfloat16 TorchTensors are written as float32 (their `data`).
 */
export function encodeTorchStateDict(
  stateDict: Map<string, TorchTensorInput | TorchTensor> | Record<string, TorchTensorInput | TorchTensor>,
): Uint8Array {
  const entries = stateDict instanceof Map ? [...stateDict.entries()] : Object.entries(stateDict);
  if (entries.length === 0) throw new Error('encodeTorchStateDict: the state dict is empty');
  const p = new PickleBuilder().byte(0x80, 2).emptyOrderedDict().byte(0x28); // PROTO 2, OrderedDict(), MARK
  const storages: StorageOut[] = [];
  for (const [name, tensor] of entries) {
    const st = storageOf(name, tensor);
    const key = String(storages.length);
    storages.push(st);
    // Row-major strides.
    const stride = tensor.shape.map((_, d) => tensor.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').byte(0x28); // MARK (args)
    p.byte(0x28).str('storage').global('torch', st.storageType).str(key).str('cpu').int(st.numel).byte(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0).tuple(tensor.shape).tuple(stride).byte(0x89).emptyOrderedDict(); // offset, size, stride, False, hooks
    p.byte(0x74, 0x52); // TUPLE, REDUCE
  }
  p.byte(0x75, 0x2e); // SETITEMS, STOP

  // Stored (uncompressed) entries; storages padded to 64-byte offsets with an extra field, as torch does.
  const mtime = new Date(1980, 0, 1, 0, 0, 0);
  const files: Zippable = {};
  let offset = 0;
  const add = (name: string, data: Uint8Array, align: boolean): void => {
    const nameLen = new TextEncoder().encode(name).length;
    let extra: Record<number, Uint8Array> | undefined;
    let header = 30 + nameLen;
    if (align) {
      // An extra field costs 4 header bytes plus its payload.
      const pad = (DATA_ALIGNMENT - ((offset + header + 4) % DATA_ALIGNMENT)) % DATA_ALIGNMENT;
      extra = { 0x4246: new Uint8Array(pad) }; // "FB", the id torch uses for its padding
      header += 4 + pad;
    }
    files[name] = [data, { level: 0, mtime, ...(extra ? { extra } : {}) }];
    offset += header + data.length;
  };
  add('archive/data.pkl', p.bytes(), false);
  add('archive/byteorder', new TextEncoder().encode('little'), false);
  storages.forEach((st, i) => add(`archive/data/${i}`, st.bytes, true));
  add('archive/version', new TextEncoder().encode('3\n'), false);
  return zipSync(files);
}

/** Writes a state dict as a torch.save zip file (atomically). */
export function saveTorchStateDict(
  file: string,
  stateDict: Map<string, TorchTensorInput | TorchTensor> | Record<string, TorchTensorInput | TorchTensor>,
): void {
  writeFileAtomic(file, encodeTorchStateDict(stateDict));
}
