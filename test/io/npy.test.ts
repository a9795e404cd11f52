import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseNpy, readNpy, encodeNpy, writeNpy, toFloat32, NdArrayData } from 'anomaly-lab/io';
import { describeShared, sharedPath } from '../helpers/shared';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npy-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Build a .npy by hand (independent of encodeNpy) so the reader is tested against the format itself. */
function rawNpy(header: string, payload: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(payload, pre + h.length);
  return out;
}

describe('npy round-trip for every dtype', () => {
  const cases: Array<[string, NdArrayData, string?]> = [
    ['float32', new Float32Array([0, -1.5, 3.25, Number.MAX_VALUE === 0 ? 0 : 1e30, -0, 7])],
    ['float64', new Float64Array([Math.PI, -1e-300, 1e300, 0, 2, -2])],
    ['int8', new Int8Array([-128, 127, 0, 1, -1, 5])],
    ['int16', new Int16Array([-32768, 32767, 0, 1, -1, 5])],
    ['int32', new Int32Array([-2147483648, 2147483647, 0, 1, -1, 5])],
    ['int64', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, 1n, -1n, 5n])],
    ['uint8', new Uint8Array([0, 255, 1, 2, 3, 4])],
    ['uint16', new Uint16Array([0, 65535, 1, 2, 3, 4])],
    ['uint32', new Uint32Array([0, 4294967295, 1, 2, 3, 4])],
    ['uint64', new BigUint64Array([0n, 2n ** 64n - 1n, 1n, 2n, 3n, 4n])],
    ['bool', new Uint8Array([1, 0, 0, 1, 1, 0]), 'bool'],
  ];
  for (const [dtype, data, flag] of cases) {
    test(dtype, () => {
      const file = path.join(tmp, `${dtype}.npy`);
      writeNpy(file, data, [2, 3], flag);
      const back = readNpy(file);
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 3]);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(data as ArrayLike<number | bigint>));
      // numpy requires the data offset to be a multiple of 64 (format 1.0 alignment)
      const bytes = fs.readFileSync(file);
      expect((10 + bytes.readUInt16LE(8)) % 64).toBe(0);
    });
  }

  test('1-D and 0-D shapes', () => {
    expect(parseNpy(encodeNpy(new Float64Array([1, 2, 3])), 'x').shape).toEqual([3]);
    const scalar = parseNpy(encodeNpy(new Float64Array([4.5]), []), 'x');
    expect(scalar.shape).toEqual([]);
    expect(scalar.data[0]).toBe(4.5);
  });

  test('toFloat32 converts ints, bigints and bool', () => {
    expect(Array.from(toFloat32({ dtype: 'int64', shape: [2], data: new BigInt64Array([3n, -4n]) }))).toEqual([3, -4]);
    expect(Array.from(toFloat32({ dtype: 'bool', shape: [2], data: new Uint8Array([1, 0]) }))).toEqual([1, 0]);
  });
});

describe('npy format variants', () => {
  test('big-endian float64 and int32 are byte-swapped', () => {
    const payload = new Uint8Array(16);
    const dv = new DataView(payload.buffer);
    dv.setFloat64(0, 1.25, false);
    dv.setFloat64(8, -3.5, false);
    const a = parseNpy(rawNpy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", payload), 'be.npy');
    expect(Array.from(a.data as Float64Array)).toEqual([1.25, -3.5]);
    const p2 = new Uint8Array(8);
    new DataView(p2.buffer).setInt32(0, -7, false);
    new DataView(p2.buffer).setInt32(4, 123456, false);
    const b = parseNpy(rawNpy("{'descr': '>i4', 'fortran_order': False, 'shape': (1, 2), }", p2), 'be.npy');
    expect(b.dtype).toBe('int32');
    expect(Array.from(b.data as Int32Array)).toEqual([-7, 123456]);
  });

  test('format version 2.0 header', () => {
    const payload = new Uint8Array(new Float32Array([1, 2]).buffer);
    const a = parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", payload, 2), 'v2.npy');
    expect(Array.from(a.data as Float32Array)).toEqual([1, 2]);
  });

  test('Fortran order of a 1-D array is the same as C order and accepted', () => {
    const payload = new Uint8Array(new Float32Array([1, 2]).buffer);
    const a = parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", payload), 'f1.npy');
    expect(Array.from(a.data as Float32Array)).toEqual([1, 2]);
  });
});

describe('npy errors name the file', () => {
  const f4 = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  test.each([
    ['bad magic', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /bad\.npy: .*bad magic/],
    [
      'truncated header',
      rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f4).subarray(0, 30),
      /bad\.npy: .*truncated header/,
    ],
    [
      'truncated data',
      rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f4.subarray(0, 10)),
      /bad\.npy: .*truncated data/,
    ],
    ['size mismatch', rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4), /bad\.npy: .*size mismatch/],
    ['fortran order', rawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f4), /bad\.npy: .*Fortran/],
    ['object dtype', rawNpy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", f4), /bad\.npy: .*object dtype/],
    [
      'unsupported dtype',
      rawNpy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)),
      /bad\.npy: .*unsupported dtype '<c16'/,
    ],
    [
      'structured dtype',
      rawNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
      /bad\.npy: .*structured/,
    ],
    ['missing shape', rawNpy("{'descr': '<f4', 'fortran_order': False, }", f4), /bad\.npy: .*no 'shape'/],
  ])('%s', (_label, bytes, re) => {
    expect(() => parseNpy(bytes, 'bad.npy')).toThrow(re);
  });

  test('missing file', () => {
    expect(() => readNpy(path.join(tmp, 'nope.npy'))).toThrow(/nope\.npy: cannot read/);
  });

  test('encodeNpy rejects a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values but data has 5/);
  });
});

describeShared('npy reads the reference fixtures written by numpy', () => {
  test('windows.npy (3, 64, 5) float32, metric_labels.npy', () => {
    const w = readNpy(sharedPath('fixtures/anomalybert/windows.npy'));
    expect(w.dtype).toBe('float32');
    expect(w.shape).toEqual([3, 64, 5]);
    expect(w.data.length).toBe(3 * 64 * 5);
    expect(Array.from(w.data as Float32Array).every(Number.isFinite)).toBe(true);
    const s = readNpy(sharedPath('fixtures/anomalybert/series.npy'));
    expect(s.shape).toEqual([1000, 5]);
  });
});
