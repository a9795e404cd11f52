/**
 * saveTorchStateDict / encodeTorchStateDict. The committed `fixtures/ts_written_state_dict.pt` was
 * written by this encoder (`UPDATE_FIXTURES=1 npx jest test/pickle/torch-writer`) and then read
 * back by real torch 1.13 (`/usr/bin/python3 test/pickle/fixtures/verify_ts_written.py`), which
 * recorded what torch.load saw in `ts_written_torch_load.json`. The test checks the encoder still
 * produces those exact bytes, and that torch read our values.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TorchTensorInput, encodeTorchStateDict, loadTorchStateDict, parseTorchStateDict, saveTorchStateDict } from 'anomaly-lab/pickle';
import { describeShared, sharedPath } from '../helpers/shared';

const FIX = path.join(__dirname, 'fixtures');

/** Deterministic tensors covering every dtype the writer supports. */
function writerInput(): Map<string, TorchTensorInput> {
  return new Map<string, TorchTensorInput>([
    ['layer.weight', { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 3) }],
    ['layer.bias', { shape: [3], data: Float64Array.from([1e-300, -2.5, Math.PI]) }],
    ['steps', { shape: [], data: BigInt64Array.from([2n ** 40n + 3n]) }],
    ['ids', { shape: [2, 2], data: Int32Array.from([1, -2, 3, 2 ** 31 - 1]) }],
    ['mask', { shape: [3], data: Int32Array.from([1, 0, 1]), dtype: 'bool' }],
    ['empty', { shape: [0, 5], data: new Float32Array(0) }],
    ['table', { shape: [31, 8], data: Float32Array.from({ length: 248 }, (_, i) => Math.cos(i / 3) / 7) }],
  ]);
}

describe('encodeTorchStateDict', () => {
  const fixture = path.join(FIX, 'ts_written_state_dict.pt');
  if (process.env.UPDATE_FIXTURES === '1') fs.writeFileSync(fixture, encodeTorchStateDict(writerInput()));

  it('writes the bytes that real torch.load read back as our values', () => {
    expect(Buffer.from(encodeTorchStateDict(writerInput())).equals(fs.readFileSync(fixture))).toBe(true);
    const seen = JSON.parse(fs.readFileSync(path.join(FIX, 'ts_written_torch_load.json'), 'utf8')) as Record<
      string,
      { dtype: string; shape: number[]; values: Array<number | string | boolean>; contiguous: boolean }
    >;
    const input = writerInput();
    expect(Object.keys(seen)).toEqual([...input.keys()]);
    const dtypes: Record<string, string> = {
      'layer.weight': 'float32',
      'layer.bias': 'float64',
      steps: 'int64',
      ids: 'int32',
      mask: 'bool',
      empty: 'float32',
      table: 'float32',
    };
    for (const [name, t] of input) {
      const s = seen[name];
      expect({ name, dtype: s.dtype, shape: s.shape, contiguous: s.contiguous }).toEqual({
        name,
        dtype: dtypes[name],
        shape: t.shape,
        contiguous: true,
      });
      const want = Array.from(t.data as ArrayLike<number | bigint>, (v) =>
        t.dtype === 'bool' ? Boolean(v) : typeof v === 'bigint' ? v.toString() : v,
      );
      expect(s.values).toEqual(want);
    }
  });

  it('round-trips through loadTorchStateDict, atomically written', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-writer-'));
    const file = path.join(dir, 'out.pt');
    saveTorchStateDict(file, writerInput());
    expect(fs.readdirSync(dir)).toEqual(['out.pt']); // no temporary leftovers
    const back = await loadTorchStateDict(file);
    for (const [name, t] of writerInput()) {
      const b = back.get(name)!;
      expect(b.shape).toEqual(t.shape);
      if (t.data instanceof Float32Array) expect(b.data).toEqual(t.data);
      else if (t.data instanceof BigInt64Array) expect(b.intData).toEqual(t.data);
      else if (t.data instanceof Float64Array) expect(Array.from(b.data)).toEqual(Array.from(t.data, Math.fround));
      else expect(Array.from(b.intData as Int32Array)).toEqual(Array.from(t.data));
    }
  });

  it('rejects empty state dicts and mismatched shapes, naming the tensor', () => {
    expect(() => encodeTorchStateDict(new Map())).toThrow('encodeTorchStateDict: the state dict is empty');
    expect(() => encodeTorchStateDict({ w: { shape: [2, 3], data: new Float32Array(5) } })).toThrow("tensor 'w': 5 values for shape [2,3]");
  });
});

describeShared('encodeTorchStateDict on the AnomalyBERT fixture', () => {
  it('re-encodes the reference state dict without changing a value', async () => {
    const sd = await loadTorchStateDict(sharedPath('fixtures', 'anomalybert', 'state_dict.pt'));
    const again = parseTorchStateDict(encodeTorchStateDict(sd), 're-encoded.pt');
    expect([...again.keys()]).toEqual([...sd.keys()]);
    for (const [k, t] of sd) {
      expect(again.get(k)!.shape).toEqual(t.shape);
      expect(again.get(k)!.data).toEqual(t.data);
    }
  });
});
