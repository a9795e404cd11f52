#!/usr/bin/env node
/**
 * Writes the hostile-input corpus of issue 11 into test/hostile/corpus/ (or the directory given as
 * the first argument). Every file is built here byte by byte, deterministically, so the committed
 * corpus can be checked against this script (corpus.test.ts does) and regenerated with
 *   node test/hostile/generate-corpus.js
 * The valid-model case (crc-mismatch.pt) needs the built library (npm run build:lib) for the
 * AnomalyBERT parameter names and the torch writer; everything else uses Node alone.
 *
 * `CASES` says how each file is fed to the real CLI (corpus.test.ts runs each as a child process
 * under a 10 s / 1 GiB limit and expects one line naming the file).
 */
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const REPO = path.resolve(__dirname, '..', '..');

// ------------------------------------------------------------------ bytes

const u8 = (...b) => Buffer.from(b);
const u16 = (v) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const i32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};
const u64 = (v) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};

let CRC_TABLE;
function crc32(buf, crc = 0) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf, crc);
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive. entries: { name, data?, method (0|8), raw? (already-deflated bytes), size?, crc? }.
 * `size`/`crc` override the declared values (for lying archives); times are fixed (1980-01-01).
 */
function zip(entries) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const method = e.method ?? 0;
    const body = e.raw ?? (method === 8 ? zlib.deflateRawSync(e.data, { level: 9 }) : e.data);
    const size = e.size ?? e.data.length;
    const crc = e.crc ?? crc32(e.data);
    const time = [u16(0), u16(0x21)]; // 00:00, 1980-01-01
    const local = Buffer.concat([
      u32(0x04034b50),
      u16(20),
      u16(0),
      u16(method),
      ...time,
      u32(crc),
      u32(body.length),
      u32(size),
      u16(name.length),
      u16(0),
      name,
    ]);
    central.push(
      Buffer.concat([
        u32(0x02014b50),
        u16(20),
        u16(20),
        u16(0),
        u16(method),
        ...time,
        u32(crc),
        u32(body.length),
        u32(size),
        u16(name.length),
        u16(0),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(offset),
        name,
      ]),
    );
    locals.push(local, body);
    offset += local.length + body.length;
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(entries.length),
    u16(entries.length),
    u32(cd.length),
    u32(offset),
    u16(0),
  ]);
  return Buffer.concat([...locals, cd, eocd]);
}

/**
 * Raw DEFLATE of `total` zero bytes without ever holding them: one full-flushed block of 16 MiB of
 * zeros (independent of what precedes it) repeated, then an empty final block.
 */
function deflatedZeros(total) {
  const chunk = 16 * 1024 * 1024;
  if (total % chunk !== 0) throw new Error('deflatedZeros: total must be a multiple of 16 MiB');
  const block = zlib.deflateRawSync(Buffer.alloc(chunk), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  const parts = [];
  for (let i = 0; i < total / chunk; i++) parts.push(block);
  parts.push(u8(0x03, 0x00)); // final fixed-Huffman block holding only end-of-block
  return Buffer.concat(parts);
}

function crc32OfZeros(total) {
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  let c = 0;
  for (let done = 0; done < total; done += chunk.length) c = crc32(chunk.subarray(0, Math.min(chunk.length, total - done)), c);
  return c;
}

// ------------------------------------------------------------------ pickles

const P = {
  proto: (v) => u8(0x80, v),
  stop: u8(0x2e),
  mark: u8(0x28),
  none: u8(0x4e),
  false: u8(0x89),
  true: u8(0x88),
  emptyDict: u8(0x7d),
  emptyList: u8(0x5d),
  emptyTuple: u8(0x29),
  tuple: u8(0x74),
  tuple1: u8(0x85),
  tuple2: u8(0x86),
  tuple3: u8(0x87),
  appends: u8(0x65),
  setitem: u8(0x73),
  setitems: u8(0x75),
  memoize: u8(0x94),
  binget: (i) => u8(0x68, i),
  reduce: u8(0x52),
  newobj: u8(0x81),
  build: u8(0x62),
  binpersid: u8(0x51),
  int: (v) => Buffer.concat([u8(0x4a), i32(v)]),
  str: (s) => {
    const b = Buffer.from(s, 'utf8');
    return b.length < 256 ? Buffer.concat([u8(0x8c, b.length), b]) : Buffer.concat([u8(0x58), u32(b.length), b]);
  },
  bytes: (b) => Buffer.concat([u8(0x42), u32(b.length), b]),
  global: (mod, name) => Buffer.from(`c${mod}\n${name}\n`, 'latin1'),
  float: (v) => {
    const b = Buffer.alloc(9);
    b[0] = 0x47;
    b.writeDoubleBE(v, 1);
    return b;
  },
  long4: (payload) => Buffer.concat([u8(0x8b), i32(payload.length), payload]),
};

/** A torch archive holding only `data.pkl` (hostile pickles fail before any storage is needed). */
function torchZip(pickle, storages = {}, method = 8) {
  return zip([
    { name: 'archive/data.pkl', data: pickle, method },
    { name: 'archive/byteorder', data: Buffer.from('little') },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
function rebuildTensor(storageKey, numel, size, stride) {
  const tup = (xs) => Buffer.concat([P.mark, ...xs.map(P.int), P.tuple]);
  return Buffer.concat([
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark,
    P.mark,
    P.str('storage'),
    P.global('torch', 'FloatStorage'),
    P.str(storageKey),
    P.str('cpu'),
    P.int(numel),
    P.tuple,
    P.binpersid,
    P.int(0),
    tup(size),
    tup(stride),
    P.false,
    P.global('collections', 'OrderedDict'),
    P.emptyTuple,
    P.reduce,
    P.tuple,
    P.reduce,
  ]);
}

// joblib: NumpyArrayWrapper(…) BUILD {shape, order, dtype, allow_mmap} followed inline by the data.
function joblibWrapperHeader(shape, dtypeSpec) {
  return Buffer.concat([
    P.global('joblib.numpy_pickle', 'NumpyArrayWrapper'),
    P.emptyTuple,
    P.newobj,
    P.emptyDict,
    P.mark,
    P.str('subclass'),
    P.global('numpy', 'ndarray'),
    P.str('shape'),
    P.mark,
    ...shape.map(P.int),
    P.tuple,
    P.str('order'),
    P.str('C'),
    P.str('dtype'),
    P.global('numpy', 'dtype'),
    P.str(dtypeSpec),
    P.tuple1,
    P.reduce,
    P.str('allow_mmap'),
    P.false,
    P.setitems,
    P.build,
  ]);
}

/** A StandardScaler with the given attributes (values already pickled). */
function scalerPickle(attrs) {
  return Buffer.concat([
    P.proto(4),
    P.global('sklearn.preprocessing._data', 'StandardScaler'),
    P.emptyTuple,
    P.newobj,
    P.emptyDict,
    P.mark,
    ...Object.entries(attrs).flatMap(([k, v]) => [P.str(k), v]),
    P.setitems,
    P.build,
    P.stop,
  ]);
}

// ------------------------------------------------------------------ npy / csv / parquet / h5

function npyV1(descr, shape, data) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  return Buffer.concat([u8(0x93), Buffer.from('NUMPY'), u8(1, 0), u16(header.length), Buffer.from(header, 'latin1'), data]);
}

function powerCsv(rows = 200) {
  const lines = ['Time,Va,Vb,Vc,Ia,Ib,Ic'];
  for (let i = 0; i < rows; i++) {
    const t = i / 5000;
    const ph = (k) => Math.sin(2 * Math.PI * 50 * t - (2 * Math.PI * k) / 3);
    lines.push([t, ph(0), ph(1), ph(2), 0.1 * ph(0), 0.1 * ph(1), 0.1 * ph(2)].map((v) => v.toFixed(6)).join(','));
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** Rewrites the footer's num_rows (thrift compact field 3, i64) of a parquet file. */
function patchParquetNumRows(buf, rows, newRows) {
  const footerLen = buf.readUInt32LE(buf.length - 8);
  const footerStart = buf.length - 8 - footerLen;
  const footer = buf.subarray(footerStart, buf.length - 8);
  const varint = (v) => {
    const out = [];
    let z = BigInt(v) << 1n;
    do {
      let b = Number(z & 0x7fn);
      z >>= 7n;
      if (z) b |= 0x80;
      out.push(b);
    } while (z);
    return Buffer.from(out);
  };
  // field header 0x16 (delta 1, i64) followed by the zigzag varint, then the row_groups list (0x19)
  const needle = Buffer.concat([u8(0x16), varint(rows), u8(0x19)]);
  const at = footer.indexOf(needle);
  if (at < 0 || footer.indexOf(needle, at + 1) >= 0) throw new Error('patchParquetNumRows: num_rows field not found exactly once');
  const patched = Buffer.concat([footer.subarray(0, at), u8(0x16), varint(newRows), footer.subarray(at + needle.length - 1)]);
  return Buffer.concat([buf.subarray(0, footerStart), patched, u32(patched.length), Buffer.from('PAR1')]);
}

async function powerParquet(rows, codec) {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const cols = ['Time', 'Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'].map((name, k) => ({
    name,
    type: 'DOUBLE',
    nullable: false,
    data: Float64Array.from({ length: rows }, (_, i) => (k === 0 ? i / 5000 : Math.sin(i / 10 + k))),
  }));
  return Buffer.from(parquetWriteBuffer({ columnData: cols, ...(codec ? { codec } : {}) }));
}

/**
 * An uncompressed parquet file whose first data page (the Time column) says RLE_DICTIONARY and
 * starts with one RLE run of 2^28 values: hyparquet writes every run value into a plain array,
 * which V8 cannot grow that far — it aborts the whole process (no catchable error).
 */
async function rleBombParquet() {
  const rows = 20;
  const buf = await powerParquet(rows, 'UNCOMPRESSED');
  // DataPageHeaderV2 (field 8): num_values, num_nulls 0, num_rows, encoding PLAIN (0) …
  const zz = rows * 2;
  const needle = Buffer.from([0x5c, 0x15, zz, 0x15, 0x00, 0x15, zz, 0x15, 0x00]);
  const at = buf.indexOf(needle);
  if (at < 0) throw new Error('rleBombParquet: page header not found');
  buf[at + needle.length - 1] = 8 * 2; // encoding RLE_DICTIONARY (zigzag 8)
  // … definition and repetition level lengths 0, then the two struct ends; the page data follows
  const tail = Buffer.from([0x15, 0x00, 0x15, 0x00, 0x00, 0x00]);
  if (buf.indexOf(tail, at + needle.length) !== at + needle.length) throw new Error('rleBombParquet: unexpected page header layout');
  const end = at + needle.length + tail.length;
  // bit width 8, RLE run header (count << 1) as a varint, the repeated value
  const count = 2 ** 28;
  const varint = [];
  for (let v = count * 2; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      varint.push(v);
      break;
    }
    varint.push((v % 128) | 0x80);
  }
  Buffer.from([8, ...varint, 1]).copy(buf, end);
  return buf;
}

/** An HDF5 file with only root attributes (h5wasm writes it; no datasets, so no time stamps). */
async function h5WithAttrs(file, attrs) {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  for (const [k, v] of Object.entries(attrs)) f.create_attribute(k, v);
  f.close();
  return fs.readFileSync(file);
}

// ------------------------------------------------------------------ the cases

/** A tiny AnomalyBERT state dict (deterministic weights) from the built library, as torch.save writes it. */
function tinyAnomalyBertPt() {
  const { parameterSpecs } = require(path.join(REPO, 'kernel-lib/dist/anomalybert/model.js'));
  const { encodeTorchStateDict } = require(path.join(REPO, 'kernel-lib/dist/pickle/torch-writer.js'));
  const config = { inputDim: 2, outputDim: 1, patchSize: 2, nTokens: 4, dEmbed: 8, nLayer: 1, nHead: 2, dropout: 0 };
  const sd = new Map();
  let k = 0;
  for (const spec of parameterSpecs(config)) {
    const n = spec.torchShape.reduce((a, b) => a * b, 1);
    sd.set(spec.name, { shape: spec.torchShape, data: Float32Array.from({ length: n }, () => Math.sin(++k) * 0.1) });
  }
  return Buffer.from(encodeTorchStateDict(sd));
}

/** Flips one byte in the middle of the largest weight storage, leaving its recorded CRC-32 as it was. */
function flipStoredByte(zipBytes) {
  const buf = Buffer.from(zipBytes);
  let best;
  for (let p = 0; p + 30 < buf.length && buf.readUInt32LE(p) === 0x04034b50;) {
    const size = buf.readUInt32LE(p + 18);
    const nameLen = buf.readUInt16LE(p + 26);
    const name = buf.subarray(p + 30, p + 30 + nameLen).toString('utf8');
    const start = p + 30 + nameLen + buf.readUInt16LE(p + 28);
    if (name.includes('/data/') && (!best || size > best.size)) best = { start, size };
    p = start + size;
  }
  buf[best.start + (best.size >> 1)] ^= 0x40;
  return buf;
}

/** `predict` of the hostile checkpoint `f` on valid windows. */
const predictArgs = (f, out) => [
  'predict',
  '--checkpoint',
  f,
  '--data',
  path.join(out, 'windows.npy'),
  '--out',
  path.join(out, 'logits.npy'),
  '--backend',
  'cpu',
];

/** `power detect` of `data` with a missing detector, plus `extra` flags. */
const powerDetectArgs = (data, out, extra = []) => [
  'power',
  'detect',
  '--data',
  data,
  '--detector',
  path.join(out, 'no-detector.h5'),
  ...extra,
  '--out',
  path.join(out, 'run'),
  '--quiet',
];

/** `power detect` with the hostile scaler `f` (valid data, a missing detector). */
const scalerArgs = (f, out) => powerDetectArgs(path.join(out, 'normal.csv'), out, ['--scaler', f]);

/** `power detect` of the hostile data file `f` (a missing detector). */
const powerDataArgs = (f, out) => powerDetectArgs(f, out);

/** `estimate` of the hostile data file `f` (a missing checkpoint). */
const estimateDataArgs = (f, out) => [
  'estimate',
  '--checkpoint',
  path.join(out, 'no-checkpoint.pt'),
  '--data',
  f,
  '--out',
  path.join(out, 'scores.npy'),
  '--backend',
  'cpu',
];

/**
 * name → { build(dir) → bytes, args(file, out) → CLI argv, what: the issue item }.
 * `out` is a fresh scratch directory per case.
 */
const CASES = {
  'long4-1mb.pt': {
    what: 'LONG4 integer of 1 MB in a .pt (quadratic big-int decoding: killed at 150 s)',
    // 1,000,000 bytes: just under the 1 MiB below which a zip entry may compress arbitrarily well.
    build: () => torchZip(Buffer.concat([P.proto(2), P.long4(Buffer.alloc(1_000_000, 0x5a)), P.stop])),
    args: predictArgs,
  },
  'stride0-views.pt': {
    what: '120 tensors sharing one 4-byte storage with stride 0 (per-tensor cap only: 7.6 GB)',
    build: () => {
      const items = [];
      for (let i = 0; i < 120; i++) items.push(P.str(`w${i}`), rebuildTensor('0', 1, [4096, 4096], [0, 0]));
      return torchZip(Buffer.concat([P.proto(2), P.emptyDict, P.mark, ...items, P.setitems, P.stop]), { 0: Buffer.alloc(4) });
    },
    args: predictArgs,
  },
  'self-list-key.pt': {
    what: 'a list containing itself (twice) used as a dict key (2.8 GB over 27 s)',
    // {}; L = []; L += [L, L]; d[L] = None
    build: () =>
      torchZip(
        Buffer.concat([
          P.proto(4),
          P.emptyDict,
          P.emptyList,
          P.memoize,
          P.mark,
          P.binget(0),
          P.binget(0),
          P.appends,
          P.none,
          P.setitem,
          P.stop,
        ]),
      ),
    args: predictArgs,
  },
  'shared-tuple-key.pt': {
    what: 'a dict key of 40 nested tuples each holding the next twice (exponential key text: Invalid string length)',
    build: () => {
      // t0 = (); t(i+1) = (t_i, t_i) — memoised, so the file stays small while the tree doubles per level.
      const pop = u8(0x30);
      const parts = [P.proto(4), P.emptyDict, P.emptyTuple, P.memoize, pop];
      for (let i = 0; i < 40; i++) parts.push(P.binget(i), P.binget(i), P.tuple2, P.memoize, pop);
      parts.push(P.binget(40), P.none, P.setitem, P.stop);
      return torchZip(Buffer.concat(parts));
    },
    args: predictArgs,
  },
  'crc-mismatch.pt': {
    what: 'a valid checkpoint with one flipped storage byte and the old CRC-32 (loaded with exit 0)',
    build: () => flipStoredByte(tinyAnomalyBertPt()),
    args: predictArgs,
  },
  'scaler-nfeatures-2e8.joblib': {
    what: 'StandardScaler declaring n_features_in_ = 2e8 without arrays (1.6 GB)',
    build: () => scalerPickle({ n_features_in_: P.int(200_000_000), with_mean: P.true, with_std: P.true, mean_: P.none, scale_: P.none }),
    args: scalerArgs,
  },
  'scaler-nfeatures-1e10.joblib': {
    what: 'StandardScaler declaring n_features_in_ = 1e10 (Invalid typed array length: 10000000000)',
    build: () => scalerPickle({ n_features_in_: P.float(1e10), mean_: P.none, scale_: P.none }),
    args: scalerArgs,
  },
  'nested-20000.joblib': {
    what: '20,000 nested joblib object arrays (Maximum call stack size exceeded)',
    build: () => {
      const level = Buffer.concat([P.proto(4), joblibWrapperHeader([1], 'O8')]);
      const inner = Buffer.concat([P.proto(4), joblibWrapperHeader([1], '<f8'), Buffer.alloc(8), P.stop]);
      const n = 20_000;
      // zlib-compressed as joblib.dump(compress=...) writes it: the repetition shrinks 2.7 MB to a few KB.
      return zlib.deflateSync(Buffer.concat([...Array(n).fill(level), inner, Buffer.alloc(n, 0x2e)]), { level: 9 });
    },
    args: scalerArgs,
  },
  'code-point.joblib': {
    what: 'a numpy str array holding code point 0x110000 (Invalid code point 1114112)',
    build: () => Buffer.concat([P.proto(4), joblibWrapperHeader([1], '<U1'), u32(0x110000), P.stop]),
    args: scalerArgs,
  },
  'zlib-bomb.joblib': {
    what: 'a zlib-compressed joblib stream inflating to 1.1 GB (capped only after 3.1 GB)',
    build: () => {
      const total = 70 * 16 * 1024 * 1024;
      // zlib header, the deflated zeros, Adler-32 of `total` zeros (a = 1, b = total mod 65521)
      const adler = Buffer.alloc(4);
      adler.writeUInt32BE((((total % 65521) << 16) | 1) >>> 0);
      return Buffer.concat([u8(0x78, 0xda), deflatedZeros(total), adler]);
    },
    args: scalerArgs,
  },
  'num-rows-1e8.parquet': {
    what: 'a parquet file whose footer says num_rows = 1e8 (1.6 GB)',
    build: async () => patchParquetNumRows(await powerParquet(20), 20, 100_000_000),
    args: powerDataArgs,
  },
  'rle-run.parquet': {
    what: 'a parquet page with one RLE run of 2^28 values (found by the fuzzer: V8 aborts the process)',
    build: rleBombParquet,
    args: powerDataArgs,
  },
  'rle-run-series.parquet': {
    what: 'the same page read as an AnomalyBERT series (estimate)',
    build: rleBombParquet,
    args: estimateDataArgs,
  },
  'num-rows-1e8-series.parquet': {
    what: 'the same footer read as an AnomalyBERT series (estimate)',
    build: async () => patchParquetNumRows(await powerParquet(20), 20, 100_000_000),
    args: estimateDataArgs,
  },
  'wide-header-150k.csv': {
    what: 'a CSV header of 150,000 columns (quadratic: 18 s before the error)',
    build: () => {
      const names = Array.from({ length: 150_000 }, (_, i) => `c${i}`);
      return Buffer.from(`${names.join(',')}\n${names.map(() => '1').join(',')}\n`);
    },
    args: estimateDataArgs,
  },
  'wide-header-power.csv': {
    what: 'a power CSV header of 150,000 columns without Time (the whole header was printed in the error)',
    build: () => Buffer.from(`${Array.from({ length: 150_000 }, (_, i) => `c${i}`).join(',')}\n`),
    args: powerDataArgs,
  },
  'escape-header.csv': {
    what: 'column names with a terminal escape (clear screen) and a quoted newline',
    build: () => Buffer.from('Time,"V\x1b[2J\x1b[Ha","Vb\nx",Vc,Ia,Ib,Ic\n0,1,2,3,4,5,6\n'),
    args: powerDataArgs,
  },
  'escape-header-series.csv': {
    what: 'the same names in a series CSV missing a requested column',
    build: () => Buffer.from('t,"V\x1b[2J\x1b[Ha","Vb\nx"\n0,1,2\n'),
    args: (f, out) => [
      'estimate',
      '--checkpoint',
      path.join(out, 'no-checkpoint.pt'),
      '--data',
      f,
      '--columns',
      'volt',
      '--out',
      path.join(out, 'scores.npy'),
      '--backend',
      'cpu',
    ],
  },
  'header-2mb.npy': {
    what: 'a 2 MB .npy header (Maximum call stack size exceeded)',
    build: () => {
      const text = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
      const len = 2 * 1024 * 1024;
      return Buffer.concat([
        u8(0x93),
        Buffer.from('NUMPY'),
        u8(2, 0),
        u32(len),
        Buffer.from(text.padEnd(len - 1) + '\n', 'latin1'),
        Buffer.alloc(8),
      ]);
    },
    args: (f) => ['metrics', '--scores', f, '--labels', f],
  },
  'keras-bomb.keras': {
    what: 'a .keras archive whose model.weights.h5 inflates to 1.1 GB (1.6 GB used)',
    build: () => {
      const total = 70 * 16 * 1024 * 1024;
      const config = Buffer.from(JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers: [] } }));
      return zip([
        { name: 'metadata.json', data: Buffer.from('{"keras_version": "3.0.0"}') },
        { name: 'config.json', data: config },
        { name: 'model.weights.h5', raw: deflatedZeros(total), method: 8, size: total, crc: crc32OfZeros(total), data: Buffer.alloc(0) },
      ]);
    },
    args: (f) => ['power', 'inspect', '--detector', f, '--backend', 'cpu'],
  },
  'truncated.h5': {
    what: 'a truncated HDF5 file (42–57 lines of HDF5-DIAG before the message)',
    build: async (dir) => {
      const full = await h5WithAttrs(path.join(dir, '.tmp-full.h5'), {
        model_config: JSON.stringify({ class_name: 'Sequential', config: { layers: [] } }),
        keras_version: '2.15.0',
      });
      fs.unlinkSync(path.join(dir, '.tmp-full.h5'));
      return full.subarray(0, Math.floor(full.length * 0.6));
    },
    args: (f) => ['power', 'inspect', '--detector', f, '--backend', 'cpu'],
  },
  'hdf5-loop.h5': {
    what: 'an HDF5 file on which HDF5 loops forever (found by the fuzzer: a splice of a valid 6 KB file)',
    build: async (dir) => {
      const base = await activationObjectH5(dir);
      return Buffer.concat([base.subarray(0, 2340), base.subarray(969)]);
    },
    args: (f) => ['power', 'inspect', '--detector', f, '--backend', 'cpu'],
  },
  'activation-object.h5': {
    what: "an activation serialised as a nested object (unsupported activation '[object Object]')",
    build: activationObjectH5,
    args: (f) => ['power', 'inspect', '--detector', f, '--backend', 'cpu'],
  },
};

/** A Keras .h5 whose Dense activation is serialised as a nested object. */
async function activationObjectH5(dir) {
  const config = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4, 6] } },
        { class_name: 'Dense', config: { name: 'd', units: 2, activation: { class_name: 'Custom', config: { inner: { x: 1 } } } } },
      ],
    },
  };
  const bytes = await h5WithAttrs(path.join(dir, '.tmp-act.h5'), { model_config: JSON.stringify(config), keras_version: '3.0.0' });
  fs.unlinkSync(path.join(dir, '.tmp-act.h5'));
  return bytes;
}

/** Valid companion inputs each case may refer to (written into the case's scratch directory). */
function companions(out) {
  fs.writeFileSync(path.join(out, 'windows.npy'), npyV1('<f4', [1, 8, 2], Buffer.alloc(64)));
  fs.writeFileSync(path.join(out, 'normal.csv'), powerCsv());
}

async function generate(dir = path.join(__dirname, 'corpus'), only) {
  fs.mkdirSync(dir, { recursive: true });
  const written = {};
  for (const [name, c] of Object.entries(CASES)) {
    if (only && !only.includes(name)) continue;
    const bytes = await c.build(dir);
    fs.writeFileSync(path.join(dir, name), bytes);
    written[name] = bytes.length;
  }
  return written;
}

module.exports = { CASES, companions, generate, zip, crc32 };

if (require.main === module) {
  generate(process.argv[2], process.argv.slice(3).length ? process.argv.slice(3) : undefined).then(
    (w) => {
      for (const [n, size] of Object.entries(w)) console.log(`${String(size).padStart(9)}  ${n}`);
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
