/**
 * TEST HELPER (not library code): a tiny writer of PyTorch's `torch.save(state_dict)` zip format,
 * so tests can produce state dicts of any configuration without Python. It emits what torch ≥ 1.6
 * writes for a float32 state dict: `archive/data.pkl` (pickle protocol 2: an OrderedDict of
 * `torch._utils._rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())`),
 * `archive/data/<i>` raw little-endian storages, `archive/byteorder` and `archive/version`.
 */
import { zipSync } from 'fflate';

export interface TestTensor {
  shape: number[];
  data: Float32Array;
}

class PickleWriter {
  private chunks: number[] = [];
  byte(...b: number[]): void {
    this.chunks.push(...b);
  }
  op(c: string): void {
    this.byte(c.charCodeAt(0));
  }
  global(module: string, name: string): void {
    this.op('c');
    for (const ch of `${module}\n${name}\n`) this.byte(ch.charCodeAt(0));
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.op('X');
    this.uint32(b.length);
    this.byte(...b);
  }
  int(v: number): void {
    this.op('J');
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.byte(...b);
  }
  uint32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.byte(...b);
  }
  intTuple(vs: number[]): void {
    this.op('(');
    for (const v of vs) this.int(v);
    this.op('t');
  }
  emptyOrderedDict(): void {
    this.global('collections', 'OrderedDict');
    this.op(')');
    this.op('R');
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Bytes of a `.pt` file holding `sd` the way `torch.save(model.state_dict(), f)` stores it. */
export function encodeTorchStateDictForTest(sd: Map<string, TestTensor>, archiveName = 'archive'): Uint8Array {
  const p = new PickleWriter();
  p.byte(0x80, 2); // PROTO 2
  p.emptyOrderedDict();
  p.op('(');
  const files: Record<string, Uint8Array> = {};
  let key = 0;
  for (const [name, t] of sd) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new Error(`test writer: ${name} has ${t.data.length} values for shape ${t.shape}`);
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op('(');
    // persistent id ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
    p.op('(');
    p.str('storage');
    p.global('torch', 'FloatStorage');
    p.str(String(key));
    p.str('cpu');
    p.int(numel);
    p.op('t');
    p.op('Q'); // BINPERSID
    p.int(0); // storage offset
    p.intTuple(t.shape);
    p.intTuple(strides);
    p.byte(0x89); // NEWFALSE: requires_grad
    p.emptyOrderedDict(); // backward hooks
    p.op('t');
    p.op('R');
    files[`${archiveName}/data/${key}`] = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    key++;
  }
  p.op('u'); // SETITEMS
  p.op('.');
  files[`${archiveName}/data.pkl`] = p.bytes();
  files[`${archiveName}/byteorder`] = Buffer.from('little');
  files[`${archiveName}/version`] = Buffer.from('3\n');
  // torch stores entries uncompressed.
  return zipSync(files, { level: 0 });
}
