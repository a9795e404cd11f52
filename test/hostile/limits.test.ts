/**
 * The named budgets of limits.ts (issue 11): each refuses with a one-line error naming the limit,
 * each can be raised (per call, per process, ANOMALY_LAB_LIMITS) for a trusted big file, and the
 * parsers stay linear where a file controls the work (big integers, CSV headers, dict keys).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { strToU8, zipSync } from 'fflate';
import { encodeNpy, parseNpy, loadSeries, ZipArchive, crc32, checkSha256, sha256Hex } from 'anomaly-lab/io';
import { DEFAULT_LIMITS, LimitError, limitError, parseLimitsSpec, resolveLimits, setLimits, wrapParseError } from 'anomaly-lab/limits';
import { unpickle, parseTorchCheckpoint, encodeTorchStateDict, parseJoblib, loadSklearn, StandardScalerModel } from 'anomaly-lab/pickle';
import { loadKerasH5 } from 'anomaly-lab/power';
import { runNodeLimited } from './harness';

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const i32 = (v: number): string => String.fromCharCode(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'al-limits-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  setLimits({});
});

describe('limit settings', () => {
  test('ANOMALY_LAB_LIMITS syntax: names, units, errors naming the variable', () => {
    expect(parseLimitsSpec('TORCH_MAX_TENSOR_BYTES=16GiB, zip_max_entries=200000')).toEqual({
      TORCH_MAX_TENSOR_BYTES: 16 * 2 ** 30,
      ZIP_MAX_ENTRIES: 200_000,
    });
    expect(parseLimitsSpec('CSV_MAX_BYTES=1.5g')).toEqual({ CSV_MAX_BYTES: 1.5e9 });
    expect(() => parseLimitsSpec('NOPE=1')).toThrow("ANOMALY_LAB_LIMITS: unknown limit 'NOPE' (known: PICKLE_MAX_INT_BYTES");
    expect(() => parseLimitsSpec('CSV_MAX_BYTES=lots')).toThrow("ANOMALY_LAB_LIMITS: value 'lots' of CSV_MAX_BYTES is not a number");
    expect(() => parseLimitsSpec('CSV_MAX_BYTES')).toThrow("ANOMALY_LAB_LIMITS: 'CSV_MAX_BYTES' is not NAME=value");
  });

  test('precedence: defaults < env < setLimits < per call', () => {
    const saved = process.env.ANOMALY_LAB_LIMITS;
    try {
      process.env.ANOMALY_LAB_LIMITS = 'NPY_MAX_HEADER_BYTES=20000';
      expect(resolveLimits().NPY_MAX_HEADER_BYTES).toBe(20_000);
      setLimits({ NPY_MAX_HEADER_BYTES: 30_000 });
      expect(resolveLimits().NPY_MAX_HEADER_BYTES).toBe(30_000);
      expect(resolveLimits({ NPY_MAX_HEADER_BYTES: 40_000 }).NPY_MAX_HEADER_BYTES).toBe(40_000);
      setLimits({});
      delete process.env.ANOMALY_LAB_LIMITS;
      expect(resolveLimits().NPY_MAX_HEADER_BYTES).toBe(DEFAULT_LIMITS.NPY_MAX_HEADER_BYTES);
      expect(() => setLimits({ NPY_MAX_HEADER_BYTES: -1 })).toThrow('setLimits: NPY_MAX_HEADER_BYTES must be a positive number, got -1');
    } finally {
      if (saved === undefined) delete process.env.ANOMALY_LAB_LIMITS;
      else process.env.ANOMALY_LAB_LIMITS = saved;
      setLimits({});
    }
  });

  test('engine errors become one line naming the file', () => {
    const cases: Array<[Error, string]> = [
      [new RangeError('Maximum call stack size exceeded'), 'x.pt: cannot read the file: the data is nested too deeply to read'],
      [
        new RangeError('Invalid typed array length: 10000000000'),
        'x.pt: cannot read the file: a declared size (10000000000) is too large to allocate',
      ],
      [new RangeError('Invalid string length'), 'x.pt: cannot read the file: a text field is too long to hold in memory'],
      [new RangeError('Invalid code point 1114112'), 'x.pt: cannot read the file: invalid Unicode code point 1114112'],
      [
        new TypeError("Cannot read properties of undefined (reading 'map')"),
        'x.pt: cannot read the file: malformed or unsupported content (TypeError while parsing)',
      ],
      [new Error('x.pt: bad\nline'), 'x.pt: bad\\nline'],
    ];
    for (const [e, want] of cases) expect(wrapParseError(e, 'x.pt').message).toBe(want);
  });
});

describe('pickle', () => {
  test('LONG4 integers: refused above PICKLE_MAX_INT_BYTES, decoded exactly (and in linear time) below a raised limit', () => {
    const long4 = (payload: string): Uint8Array => bytes(`\x80\x02\x8b${i32(payload.length)}${payload}.`);
    expect(() => unpickle(long4('\x01'.repeat(5000)), { name: 'big.pkl' })).toThrow(
      'big.pkl: an integer of 5000 bytes exceeds PICKLE_MAX_INT_BYTES (4 KiB)',
    );
    // Values: small, negative, beyond 2^53, and a 1 MB integer (seconds with the old shifting loop; one parse now).
    expect(unpickle(long4('\xff\xff'), { name: 'n.pkl' })).toBe(-1);
    expect(unpickle(long4('\x00\x00\x00\x00\x00\x00\x00\x01'), { name: 'n.pkl' })).toBe(2n ** 56n);
    expect(unpickle(long4('\x01\x00\x00\x00\x00\x00\x00\x80'), { name: 'n.pkl' })).toBe(-(2n ** 63n) + 1n);
    const mb = unpickle(long4('\x5a'.repeat(1 << 20)), { name: 'mb.pkl', limitOverrides: { PICKLE_MAX_INT_BYTES: 2 << 20 } }) as bigint;
    expect(mb.toString(16)).toBe('5a'.repeat(1 << 20));
  });

  test('protocol-0 integers are bounded like Python (PICKLE_MAX_INT_DIGITS)', () => {
    expect(() => unpickle(bytes(`I${'9'.repeat(5000)}\n.`), { name: 'i.pkl' })).toThrow(
      'i.pkl: an integer literal of 5000 digits exceeds PICKLE_MAX_INT_DIGITS (4,300)',
    );
    expect(unpickle(bytes(`L${'9'.repeat(30)}L\n.`), { name: 'i.pkl' })).toBe(10n ** 30n - 1n);
  });

  test('dict keys: a list containing itself and an exponential tuple DAG are refused; ordinary tuple keys work', () => {
    const selfKey = bytes('\x80\x04}]\x94(h\x00h\x00eNs.');
    expect(() => unpickle(selfKey, { name: 'self.pkl' })).toThrow('self.pkl: a dict key contains itself (cyclic key)');
    let dag = '\x80\x04})\x94\x30';
    for (let i = 0; i < 30; i++) dag += `h${String.fromCharCode(i)}h${String.fromCharCode(i)}\x86\x94\x30`;
    dag += `h${String.fromCharCode(30)}Ns.`;
    expect(() => unpickle(bytes(dag), { name: 'dag.pkl' })).toThrow('dag.pkl: a dict key has more than 10000 parts (PICKLE_MAX_KEY_NODES)');
    const ok = unpickle(bytes('\x80\x04}K\x01K\x02\x86Ns.'), { name: 'ok.pkl' }) as Record<string, unknown>;
    expect(Object.keys(ok)).toEqual(['(1, 2)']);
  });
});

describe('torch zip archives', () => {
  const sd = new Map([['w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]]);

  test('a flipped storage byte is a CRC-32 error naming the entry; the intact file loads', () => {
    const good = encodeTorchStateDict(sd);
    expect(Array.from(parseTorchCheckpoint(good, 'good.pt').stateDict.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const bad = Uint8Array.from(good);
    const at = Buffer.from(bad).indexOf(Buffer.from(new Float32Array([4]).buffer));
    bad[at] ^= 1;
    expect(() => parseTorchCheckpoint(bad, 'bad.pt')).toThrow(
      /^bad\.pt: CRC-32 mismatch in torch zip archive entry 'archive\/data\/0' \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\): the file is corrupt$/,
    );
  });

  test('expectedSha256: the recorded digest passes, another one is refused', () => {
    const good = encodeTorchStateDict(sd);
    expect(parseTorchCheckpoint(good, 'a.pt', { expectedSha256: sha256Hex(good) }).stateDict.size).toBe(1);
    expect(() => parseTorchCheckpoint(good, 'a.pt', { expectedSha256: 'sha256:' + '0'.repeat(64) })).toThrow(
      `a.pt: sha256 mismatch (expected ${'0'.repeat(64)}, the file has ${sha256Hex(good)})`,
    );
    expect(() => checkSha256(good, 'abc', 'a.pt')).toThrow("expectedSha256: 'abc' is not a sha256 digest");
  });

  test('TORCH_MAX_TENSOR_BYTES counts storages and tensors of the whole file', () => {
    const big = encodeTorchStateDict(
      new Map([
        ['a', { shape: [1024], data: new Float32Array(1024) }],
        ['b', { shape: [1024], data: new Float32Array(1024) }],
      ]),
    );
    expect(() => parseTorchCheckpoint(big, 'big.pt', { limits: { TORCH_MAX_TENSOR_BYTES: 6000 } })).toThrow(
      "big.pt: the tensors need more memory than allowed in total (storage '1') exceeds TORCH_MAX_TENSOR_BYTES (5.86 KiB)",
    );
    expect(parseTorchCheckpoint(big, 'big.pt', { limits: { TORCH_MAX_TENSOR_BYTES: 8192 } }).stateDict.size).toBe(2);
  });
});

describe('zip reader', () => {
  test('declared sizes, ratio, duplicates and unsafe names are refused before inflating; CRC-32 is the standard one', () => {
    expect(crc32(strToU8('123456789'))).toBe(0xcbf43926);
    const zeros = new Uint8Array(8 << 20);
    const bomb = zipSync({ 'model.weights.h5': [zeros, { level: 9 }] });
    expect(() => new ZipArchive(bomb, 'b.keras', '.keras archive')).toThrow(
      /^b\.keras: \.keras archive entry 'model\.weights\.h5' \(\d+ bytes inflating to 8388608: a zip bomb\?\) exceeds ZIP_MAX_COMPRESSION_RATIO \(100\)/,
    );
    const raised = new ZipArchive(bomb, 'b.keras', '.keras archive', { ZIP_MAX_COMPRESSION_RATIO: 10_000 });
    expect(raised.read('model.weights.h5').length).toBe(8 << 20);
    expect(
      () => new ZipArchive(bomb, 'b.keras', '.keras archive', { ZIP_MAX_ENTRY_BYTES: 1 << 20, ZIP_MAX_COMPRESSION_RATIO: 10_000 }),
    ).toThrow("b.keras: .keras archive entry 'model.weights.h5' of 8388608 bytes uncompressed exceeds ZIP_MAX_ENTRY_BYTES (1 MiB)");
    const unsafe = zipSync({ '../evil': strToU8('x') });
    expect(() => new ZipArchive(unsafe, 'u.pt')).toThrow("u.pt: zip archive entry '../evil' has an unsafe path");
  });
});

describe('joblib and scikit-learn', () => {
  test('the zlib cap is JOBLIB_MAX_DECOMPRESSED_BYTES; a raised cap reads the stream', () => {
    const stream = new Uint8Array([0x80, 0x04, 0x4e, 0x2e, ...new Uint8Array(3 << 20)]); // None, then padding
    const z = zlib.deflateSync(stream);
    expect(() => parseJoblib(z, 'z.joblib', { limitOverrides: { JOBLIB_MAX_DECOMPRESSED_BYTES: 1 << 20 } })).toThrow(
      'z.joblib: zlib-compressed joblib data that inflates further exceeds JOBLIB_MAX_DECOMPRESSED_BYTES (1 MiB)',
    );
    expect(parseJoblib(z, 'z.joblib', { limitOverrides: { JOBLIB_MAX_DECOMPRESSED_BYTES: 4 << 20 } })).toBeNull();
  });

  test('n_features_in_ must match the arrays and stay under SKLEARN_MAX_FEATURES', async () => {
    const scaler = (attrs: string): Uint8Array => bytes(`\x80\x04csklearn.preprocessing._data\nStandardScaler\n)\x81}(${attrs}ub.`);
    const f = path.join(tmp, 'mismatch.joblib');
    // n_features_in_ = 3 but mean_ = [0.0, 1.0] (a list)
    fs.writeFileSync(f, scaler(`\x8c\x0en_features_in_K\x03\x8c\x05mean_]\x94(G${'\0'.repeat(8)}G?\xf0${'\0'.repeat(6)}e`));
    await expect(loadSklearn(f)).rejects.toThrow('mismatch.joblib: StandardScaler.mean_ has 2 entries, n_features_in_ says 3');
    fs.writeFileSync(f, scaler('\x8c\x0en_features_in_J\x00\xe1\xf5\x05')); // 1e8
    await expect(loadSklearn(f)).rejects.toThrow(
      'mismatch.joblib: StandardScaler.n_features_in_ = 100000000 exceeds SKLEARN_MAX_FEATURES (1,000,000)',
    );
    // Set per call, like every other limit.
    fs.writeFileSync(f, scaler('\x8c\x0en_features_in_K\x04'));
    await expect(loadSklearn(f, { limitOverrides: { SKLEARN_MAX_FEATURES: 3 } })).rejects.toThrow(
      'mismatch.joblib: StandardScaler.n_features_in_ = 4 exceeds SKLEARN_MAX_FEATURES (3)',
    );
    setLimits({ SKLEARN_MAX_FEATURES: 2e8 });
    try {
      fs.writeFileSync(f, scaler('\x8c\x0en_features_in_K\x04'));
      expect(((await loadSklearn(f)) as StandardScalerModel).nFeatures).toBe(4);
    } finally {
      setLimits({});
    }
  });
});

describe('arrays and tables', () => {
  test('.npy headers over NPY_MAX_HEADER_BYTES are refused, raisable per call', () => {
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }`.padEnd(20_000 - 1) + '\n';
    const file = new Uint8Array([
      0x93,
      ...strToU8('NUMPY'),
      2,
      0,
      ...new Uint8Array(new Uint32Array([header.length]).buffer),
      ...strToU8(header),
      0,
      0,
      0x80,
      0x3f,
    ]);
    expect(() => parseNpy(file, 'h.npy')).toThrow('h.npy: a .npy header of 20000 bytes exceeds NPY_MAX_HEADER_BYTES (9.77 KiB)');
    expect(Array.from(parseNpy(file, 'h.npy', { limits: { NPY_MAX_HEADER_BYTES: 30_000 } }).data as Float32Array)).toEqual([1]);
    expect(parseNpy(encodeNpy(new Float32Array([2])), 'ok.npy').shape).toEqual([1]);
  });

  test('a CSV header of 99,999 columns parses (hash maps, not indexOf); 100,001 are refused by CSV_MAX_COLUMNS', async () => {
    const write = (n: number): string => {
      const f = path.join(tmp, `wide-${n}.csv`);
      const names = Array.from({ length: n }, (_, i) => `c${i}`);
      fs.writeFileSync(f, `${names.join(',')}\n${names.map((_, i) => String(i)).join(',')}\n`);
      return f;
    };
    const s = await loadSeries(write(99_999), { columns: ['c99998', 'c0'] });
    expect(Array.from(s.values)).toEqual([99998, 0]);
    const big = write(100_001);
    await expect(loadSeries(big)).rejects.toThrow(`${big}: a CSV header of 100001 columns exceeds CSV_MAX_COLUMNS (100,000)`);
  });

  test('HDF5 has no checksum: expectedSha256 is the integrity check of a Keras .h5 (built library, child process)', async () => {
    const h5 = path.join(__dirname, 'corpus', 'activation-object.h5');
    const digest = sha256Hex(new Uint8Array(fs.readFileSync(h5)));
    const load = async (expectedSha256: string): Promise<string> => {
      const spec = path.join(tmp, 'keras-spec.json');
      fs.writeFileSync(spec, JSON.stringify({ files: [h5], expectedSha256 }));
      const r = await runNodeLimited([path.join(__dirname, 'keras-child.js'), spec], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout.split('\n')[0]) as { message: string }).message;
    };
    expect(await load('f'.repeat(64))).toBe(
      `${h5}: sha256 mismatch (expected ${'f'.repeat(64)}, the file has ${digest}): it changed since it was recorded`,
    );
    // With the right digest the file gets parsed (and fails later for its own reason: the corpus case).
    expect(await load(digest)).toContain("unsupported activation 'Custom object'");
  }, 120_000);

  test('a time limit reads in ms in its one-line message (H5_MAX_READ_MS)', () => {
    const err = limitError('bad.h5', 'H5_MAX_READ_MS', 5000, 'the time to read the HDF5 file');
    expect(err).toBeInstanceOf(LimitError);
    expect(err.limit).toBe('H5_MAX_READ_MS');
    expect(err.message).toBe(
      'bad.h5: the time to read the HDF5 file exceeds H5_MAX_READ_MS (5,000 ms); if the file is trusted, raise it with ANOMALY_LAB_LIMITS=H5_MAX_READ_MS=<n>',
    );
  });

  test('LimitError carries the limit name for callers', () => {
    try {
      parseNpy(new Uint8Array([0x93, ...strToU8('NUMPY'), 2, 0, 0xff, 0xff, 0xff, 0x00]), 'x.npy');
      throw new Error('not refused');
    } catch (e) {
      expect(e).toBeInstanceOf(LimitError);
      expect((e as LimitError).limit).toBe('NPY_MAX_HEADER_BYTES');
    }
  });
});

describe('Keras .h5 size', () => {
  test('a file over H5_MAX_BYTES is refused from its size, before a byte is read', async () => {
    // Sparse: 2 GiB + 1 byte of apparent size, no disk used. Read into memory, it would fail with
    // ERR_FS_FILE_TOO_LARGE (or take 2 GiB); refused from stat, it names the limit.
    const big = path.join(tmp, 'huge.h5');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, DEFAULT_LIMITS.H5_MAX_BYTES + 1);
    const err = await loadKerasH5(big).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).limit).toBe('H5_MAX_BYTES');
    expect((err as Error).message).toMatch(
      new RegExp(`^${big}: an HDF5 file of ${DEFAULT_LIMITS.H5_MAX_BYTES + 1} bytes exceeds H5_MAX_BYTES`),
    );
  });
});
