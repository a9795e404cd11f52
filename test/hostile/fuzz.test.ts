/**
 * Seeded, time-bounded fuzzing of every file parser (issue 11): valid files are mutated (bit flips,
 * interesting bytes and integers, truncation, inserted and duplicated runs, splices; JSON values
 * replaced by hostile ones) and parsed again. A parser may accept a mutant or refuse it, but a
 * refusal must be one clean line naming the input: no engine error (RangeError, TypeError …), none
 * of their messages, no multi-line text — and no input may take seconds (a hang).
 *
 * FUZZ_SEED (default 11) picks the mutations, FUZZ_MS (default 2500) the time per parser; a failure
 * prints the seed and iteration to replay.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { strToU8, zipSync } from 'fflate';
import { INTERNAL_ERROR_PATTERNS, runNodeLimited } from './harness';
import { HAS_SHARED, sharedPath } from '../helpers/shared';
import { parseViewerBundle, decodeViewerBundle } from 'anomaly-lab/core';
import { encodeNpy, parseNpy, loadSeries, writeParquet } from 'anomaly-lab/io';
import {
  joblibGlobals,
  parseJoblib,
  unpickle,
  parseTorchCheckpoint,
  encodeTorchStateDict,
  loadSklearn,
  mapSklearn,
} from 'anomaly-lab/pickle';
import { loadPowerData, parsePowerCsv } from 'anomaly-lab/power';
import { readManifest, writeManifest } from 'anomaly-lab/runs';
import { anomalyBertBundleFromFixture, powerBundleFromFixture } from '../extension/bundles';

const SEED = Number(process.env.FUZZ_SEED ?? 11);
const BUDGET_MS = Number(process.env.FUZZ_MS ?? 2500);
/** Any single input slower than this is a hang for this suite (the parsers take milliseconds). */
const HANG_MS = 5000;
const FIXTURES = path.join(__dirname, '..', 'pickle', 'fixtures');
const CORPUS = path.join(__dirname, 'corpus');

/** mulberry32: small, fast, reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x2e, 0x28, 0x0a, 0x22, 0x2c];
const INTERESTING_U32 = [0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0x10000, 0];

/** One byte-level mutation of `src` (never in place). `focus` biases positions to the first bytes (headers). */
function mutateBytes(src: Uint8Array, r: () => number, others: Uint8Array[], focus = 0): Uint8Array {
  const pos = (n = src.length): number =>
    focus > 0 && r() < 0.5 ? Math.floor(r() * Math.min(focus, n)) : Math.floor(r() * Math.max(1, n));
  const out = Uint8Array.from(src);
  switch (Math.floor(r() * 8)) {
    case 0: // bit flips
      for (let k = 1 + Math.floor(r() * 8); k > 0 && out.length; k--) out[pos()] ^= 1 << Math.floor(r() * 8);
      return out;
    case 1: // interesting bytes
      for (let k = 1 + Math.floor(r() * 4); k > 0 && out.length; k--)
        out[pos()] = INTERESTING_BYTES[Math.floor(r() * INTERESTING_BYTES.length)];
      return out;
    case 2: {
      // a 32-bit size field
      if (out.length < 4) return out;
      const p = Math.min(pos(), out.length - 4);
      new DataView(out.buffer).setUint32(p, INTERESTING_U32[Math.floor(r() * INTERESTING_U32.length)], r() < 0.5);
      return out;
    }
    case 3: // truncation
      return out.subarray(0, pos());
    case 4: {
      // inserted random run
      const p = pos();
      const run = Uint8Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256));
      return concat(out.subarray(0, p), run, out.subarray(p));
    }
    case 5: {
      // duplicated slice (repeats structure: nesting, memo, containers)
      const a = pos();
      const b = Math.min(out.length, a + 1 + Math.floor(r() * 256));
      const times = 1 + Math.floor(r() * 16);
      return concat(out.subarray(0, b), ...Array(times).fill(out.subarray(a, b)), out.subarray(b));
    }
    case 6: {
      // splice with another seed
      const o = others[Math.floor(r() * others.length)] ?? src;
      return concat(out.subarray(0, pos()), o.subarray(Math.floor(r() * o.length)));
    }
    default: {
      // removed slice
      const a = pos();
      return concat(out.subarray(0, a), out.subarray(Math.min(out.length, a + 1 + Math.floor(r() * 64))));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const HOSTILE_JSON_VALUES: unknown[] = [
  null,
  -1,
  0,
  1e308,
  -1e308,
  2 ** 53 + 2,
  1e10,
  'x\u001b[2J\ny',
  '',
  [],
  {},
  true,
  'NaN',
  [[[[[[[[[[1]]]]]]]]]],
  { a: { b: { c: {} } } },
  Array(300).fill('q'),
];

/** Replaces one random value of a parsed JSON document by a hostile one (structure-aware mutation). */
function mutateJson(text: string, r: () => number): string {
  const doc = JSON.parse(text) as unknown;
  const slots: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12 || slots.length > 5000 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v))
      v.forEach((x, i) => {
        slots.push({ parent: v, key: i });
        walk(x, depth + 1);
      });
    else
      for (const [k, x] of Object.entries(v)) {
        slots.push({ parent: v as Record<string, unknown>, key: k });
        walk(x, depth + 1);
      }
  };
  walk(doc, 0);
  if (slots.length === 0) return text;
  for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
    const s = slots[Math.floor(r() * slots.length)];
    const v = HOSTILE_JSON_VALUES[Math.floor(r() * HOSTILE_JSON_VALUES.length)];
    if (r() < 0.1 && !Array.isArray(s.parent)) delete (s.parent as Record<string, unknown>)[s.key as string];
    else (s.parent as Record<string, unknown>)[s.key as string] = v;
  }
  return JSON.stringify(doc);
}

interface FuzzStats {
  iterations: number;
  accepted: number;
  refused: number;
  slowestMs: number;
}

/**
 * Mutates `seeds` for BUDGET_MS and parses each mutant with `parse(bytes, label)`; every refusal
 * must be an Error whose single-line message names `label` and leaks no engine error.
 */
async function fuzz(
  parser: string,
  seeds: Uint8Array[],
  parse: (bytes: Uint8Array, label: string) => unknown,
  opts: { focus?: number; json?: boolean; label?: string } = {},
): Promise<FuzzStats> {
  const r = rng(SEED ^ [...parser].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  const stats: FuzzStats = { iterations: 0, accepted: 0, refused: 0, slowestMs: 0 };
  const label = opts.label ?? `fuzz-${parser}.bin`;
  const started = Date.now();
  while (Date.now() - started < BUDGET_MS || stats.iterations < 10) {
    const i = stats.iterations++;
    const seed = seeds[i % seeds.length];
    let mutant: Uint8Array;
    if (opts.json && r() < 0.6) mutant = strToU8(mutateJson(Buffer.from(seed).toString('utf8'), r));
    else mutant = mutateBytes(seed, r, seeds, opts.focus);
    // FUZZ_DUMP=<dir>: keep the input being parsed (a crash of the whole process leaves it there).
    if (process.env.FUZZ_DUMP) fs.writeFileSync(path.join(process.env.FUZZ_DUMP, `last-${parser}.bin`), mutant);
    const t0 = Date.now();
    try {
      await parse(mutant, label);
      stats.accepted++;
    } catch (e) {
      stats.refused++;
      const where = `${parser} seed ${SEED} iteration ${i}`;
      const err = e as Error;
      const msg = err instanceof Error ? err.message : String(e);
      expect({
        where,
        isError: err instanceof Error,
        engineError: ['RangeError', 'TypeError', 'ReferenceError', 'InternalError'].includes(err?.name) ? err.name : null,
      }).toEqual({ where, isError: true, engineError: null });
      expect({ where, msg, namesInput: msg.includes(path.basename(label)) }).toEqual({ where, msg, namesInput: true });
      expect({ where, msg, oneLine: !msg.includes('\n') }).toEqual({ where, msg, oneLine: true });
      for (const re of INTERNAL_ERROR_PATTERNS)
        expect({ where, msg, leaks: re.test(msg) ? String(re) : null }).toEqual({ where, msg, leaks: null });
    }
    const ms = Date.now() - t0;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    expect({ parser, iteration: i, hang: ms > HANG_MS }).toEqual({ parser, iteration: i, hang: false });
  }
  // The mutants must reach the parsers' error paths, not only succeed.
  expect(stats.refused).toBeGreaterThan(0);
  console.log(
    `fuzz ${parser}: ${stats.iterations} inputs, ${stats.refused} refused, ${stats.accepted} accepted, slowest ${stats.slowestMs} ms`,
  );
  return stats;
}

const read = (...p: string[]): Uint8Array => new Uint8Array(fs.readFileSync(path.join(...p)));

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'al-fuzz-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes the mutant to a file named `label` in the scratch directory and returns its path. */
function asFile(bytes: Uint8Array, label: string): string {
  const f = path.join(tmp, label);
  fs.writeFileSync(f, bytes);
  return f;
}

describe(`parsers refuse mutated files cleanly (seed ${SEED}, ${BUDGET_MS} ms each)`, () => {
  const timeout = BUDGET_MS + 60_000;

  test(
    'pickle VM (numpy pickles, protocols 0–5)',
    async () => {
      const seeds = fs
        .readdirSync(FIXTURES)
        .filter((f) => f.endsWith('.pkl'))
        .map((f) => read(FIXTURES, f));
      await fuzz('pickle', seeds, (b, label) => unpickle(b, { name: label, globals: joblibGlobals() }), { label: 'fuzz.pkl' });
    },
    timeout,
  );

  test(
    'torch zip checkpoints (.pt)',
    async () => {
      const small = encodeTorchStateDict(
        new Map([
          ['a.weight', { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) }],
          ['a.bias', { shape: [3], data: new Float32Array([1, 2, 3]) }],
        ]),
      );
      const seeds = [
        small,
        ...['strided.pt', 'bigendian.pt', 'torch_real_state_dict.pt', 'torch_real_ess_checkpoint.pt'].map((f) => read(FIXTURES, f)),
      ];
      await fuzz('torch', seeds, (b, label) => parseTorchCheckpoint(b, label), { label: 'fuzz.pt', focus: 512 });
    },
    timeout,
  );

  test(
    'joblib / scikit-learn (plain, zlib, gzip)',
    async () => {
      const seeds = ['sklearn12_bundle.joblib', 'sklearn12_scaler.joblib.gz', 'sklearn12_forest.joblib.z'].map((f) => read(FIXTURES, f));
      if (HAS_SHARED)
        seeds.push(
          read(sharedPath('data/power-system/seed-models/detector/scaler.save')),
          read(sharedPath('data/power-system/seed-models/classifier/classifier_scaler.joblib')),
        );
      await fuzz(
        'joblib',
        seeds,
        async (b, label) => {
          mapSklearn(parseJoblib(b, label), label);
          await loadSklearn(asFile(b, label));
        },
        { label: 'fuzz.joblib' },
      );
    },
    timeout,
  );

  test(
    '.npy',
    async () => {
      const seeds = [
        encodeNpy(
          Float32Array.from({ length: 24 }, (_, i) => i),
          [4, 6],
        ),
        encodeNpy(new BigInt64Array([1n, -2n]), [2]),
        encodeNpy(new Uint8Array([1, 0, 1]), [3], 'bool'),
      ];
      await fuzz('npy', seeds, (b, label) => parseNpy(b, label), { label: 'fuzz.npy', focus: 128 });
    },
    timeout,
  );

  test(
    'CSV series and power CSV',
    async () => {
      const lines = ['Time,Va,Vb,Vc,Ia,Ib,Ic'];
      for (let i = 0; i < 40; i++) lines.push([i / 1000, ...[0, 1, 2, 3, 4, 5].map((k) => Math.sin(i / 5 + k).toFixed(4))].join(','));
      const power = strToU8(lines.join('\n') + '\n');
      const series = strToU8('datetime,"volt, V",amp\n2024-01-01 00:00:00,1.5,2\n2024-01-01 00:00:01,1.25,"3"\n2024-01-01 00:00:02,1,4\n');
      await fuzz(
        'csv',
        [power, series],
        async (b, label) => {
          const f = asFile(b, label);
          await loadSeries(f, { nan: 'ffill' });
          parsePowerCsv(Buffer.from(b).toString('utf8'), f);
          await loadPowerData(f);
        },
        { label: 'fuzz.csv' },
      );
    },
    timeout,
  );

  test(
    'parquet series and power parquet',
    async () => {
      const seedFile = path.join(tmp, 'seed.parquet');
      const n = 30;
      await writeParquet(seedFile, {
        columns: ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'],
        values: Float64Array.from({ length: n * 6 }, (_, i) => Math.sin(i)),
        time: Float64Array.from({ length: n }, (_, i) => 1.7e12 + i * 1000),
        timeColumn: 'Time',
      });
      await fuzz(
        'parquet',
        [read(seedFile)],
        async (b, label) => {
          const f = asFile(b, label);
          await loadSeries(f, { nan: 'ffill' });
          await loadPowerData(f, { timeTolerance: 1 });
        },
        { label: 'fuzz.parquet' },
      );
    },
    timeout,
  );

  test('Keras .h5 and .keras (loaded by the built library in a child process)', async () => {
    // h5wasm's Node build cannot be loaded inside jest: mutants are written to files and loaded by
    // keras-child.js (kernel-lib/dist) under the harness limits; its per-file results are checked here.
    const seeds = [read(CORPUS, 'activation-object.h5')];
    if (HAS_SHARED) seeds.push(read(sharedPath('data/power-system/seed-models/detector/lstm_autoencoder_anomaly_detection.h5')));
    const config = JSON.stringify({
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'InputLayer', config: { name: 'in', batch_shape: [null, 4, 6] } },
          { class_name: 'Dense', config: { name: 'd', units: 2, activation: 'relu' } },
        ],
      },
    });
    const keras = zipSync({
      'config.json': strToU8(config),
      'metadata.json': strToU8('{"keras_version": "3.8.0"}'),
      'model.weights.h5': seeds[0],
    });
    const dir = fs.mkdtempSync(path.join(tmp, 'keras-'));
    // The unmutated seeds first: what a valid load leaves behind is the baseline for tensor counts.
    const files: string[] = seeds.map((b, i) => {
      const f = path.join(dir, `seed-${i}.h5`);
      fs.writeFileSync(f, b);
      return f;
    });
    const nSeeds = files.length;
    const count = Math.max(20, Math.round(BUDGET_MS / 40));
    for (const [kind, seedList, focus] of [
      ['h5', seeds, 4096],
      ['keras', [keras], 256],
    ] as const) {
      const r = rng(SEED ^ (kind === 'h5' ? 0x5f3759df : 0x1badb002));
      for (let i = 0; i < count; i++) {
        const f = path.join(dir, `fuzz-${i}.${kind}`);
        fs.writeFileSync(f, mutateBytes(seedList[i % seedList.length], r, [...seedList], focus));
        files.push(f);
      }
    }
    const specFile = path.join(dir, 'spec.json');
    fs.writeFileSync(specFile, JSON.stringify({ files }));
    // A file HDF5 loops on is cut by H5_MAX_READ_MS: 2 s here keeps it under this suite's hang bound.
    const run = await runNodeLimited([path.join(__dirname, 'keras-child.js'), specFile], {
      timeoutMs: 120_000,
      maxRssBytes: 2 * 1024 ** 3,
      env: { ANOMALY_LAB_LIMITS: 'H5_MAX_READ_MS=2000' },
    });
    // The child reports file by file: the first one without a line is the one it was stuck on.
    const done = run.stdout.split('\n').filter((l) => l.startsWith('{"file"')).length;
    const stuck = run.code === 0 ? null : (files[done] ?? null);
    if (stuck && process.env.FUZZ_DUMP) fs.copyFileSync(stuck, path.join(process.env.FUZZ_DUMP, `stuck-${path.basename(stuck)}`));
    expect({ code: run.code, killed: run.killedFor, stuck, stderr: run.stderr.slice(0, 2000) }).toEqual({
      code: 0,
      killed: undefined,
      stuck: null,
      stderr: '',
    });
    const lines = run.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            file?: string;
            ok?: boolean;
            message?: string;
            errorName?: string;
            ms?: number;
            leaked?: number;
            tensors?: number;
          },
      );
    const all = lines.filter((l) => l.file !== undefined);
    expect(all.length).toBe(files.length);
    // A valid load followed by model.dispose() leaves nothing (this caught tfjs's LSTM bias
    // initialiser leaking 32 tensors per load of the seed detector).
    const baseline = Math.max(0, ...all.slice(0, nSeeds).map((x) => x.leaked ?? 0));
    expect(baseline).toBe(0);
    const results = all.slice(nSeeds);
    let refused = 0;
    for (const res of results) {
      expect({ file: res.file, hang: (res.ms ?? 0) > HANG_MS }).toEqual({ file: res.file, hang: false });
      if (res.ok) continue;
      refused++;
      const msg = res.message ?? '';
      const where = `keras fuzz ${SEED} ${path.basename(res.file!)}`;
      expect({
        where,
        msg,
        engineError: ['RangeError', 'TypeError', 'ReferenceError'].includes(res.errorName ?? '') ? res.errorName : null,
      }).toEqual({ where, msg, engineError: null });
      expect({ where, msg, namesInput: msg.includes(path.basename(res.file!)) }).toEqual({ where, msg, namesInput: true });
      expect({ where, msg, oneLine: !msg.includes('\n') }).toEqual({ where, msg, oneLine: true });
      for (const re of INTERNAL_ERROR_PATTERNS)
        expect({ where, msg, leaks: re.test(msg) ? String(re) : null }).toEqual({ where, msg, leaks: null });
    }
    expect(refused).toBeGreaterThan(0);
    // Nor does a refused file (layers built before a failure are released).
    const leaks = results
      .filter((x) => !x.ok && (x.leaked ?? 0) > baseline)
      .map((x) => `${path.basename(x.file!)}: ${x.leaked} (${x.message})`);
    expect(leaks).toEqual([]);
    const reasons = new Set(results.filter((x) => !x.ok).map((x) => (x.message ?? '').replace(/^\S+: /, '').slice(0, 40)));
    console.log(
      `fuzz keras/h5: ${results.length} inputs, ${refused} refused (${reasons.size} distinct reasons), slowest ${Math.max(...results.map((x) => x.ms ?? 0))} ms`,
    );
  }, 180_000);

  (HAS_SHARED ? test : test.skip)(
    'viewer bundles (JSON)',
    async () => {
      const seeds = [powerBundleFromFixture(), anomalyBertBundleFromFixture()].map((b) => strToU8(JSON.stringify(b)));
      // A bundle that validates must decode: decoding problems are validation errors naming the source.
      await fuzz('bundle', seeds, (b, label) => decodeViewerBundle(parseViewerBundle(Buffer.from(b).toString('utf8'), label)), {
        label: 'fuzz.anomaly.json',
        json: true,
      });
    },
    timeout,
  );

  test(
    'manifests (JSON)',
    async () => {
      const run = path.join(tmp, 'run');
      fs.mkdirSync(run);
      await writeManifest(run, {
        kind: 'anomalybert-train',
        config: { window: 512, columns: ['a', 'b'] },
        seed: 1,
        metrics: { f1: 0.5 },
        checkpoints: [],
      });
      const seed = read(run, 'manifest.json');
      await fuzz('manifest', [seed], (b, label) => readManifest(asFile(b, label)), { label: 'fuzz-manifest.json', json: true });
    },
    timeout,
  );
});
