/**
 * Reproducibility manifest of one run (training, transfer, detection, power pipeline).
 *
 * Every run directory gets a `manifest.json` that says exactly what produced it: the full config,
 * the seed, the compute backend, library versions, sha256 of every input file, the metrics it
 * reached and the checkpoints/files it wrote. `anomaly-lab reproduce --manifest <file>` re-runs
 * the recorded command into a fresh directory and compares the metrics (same backend → same
 * numbers; tfjs kernels are deterministic for a fixed backend and seed).
 *
 * Use from any area:
 *   await writeManifest(runDir, {
 *     kind: 'anomalybert-train', config: opts, seed: opts.seed,
 *     inputs: [{ path: trainFile, role: 'train' }], metrics: { test: last.test },
 *     checkpoints: [{ path: 'state/step_1000', step: 1000 }],
 *     command: { argv: ['train', '--train', trainFile, ...], outputOption: 'save_path' },
 *   });
 * Paths inside the manifest are stored as given; relative checkpoint/output paths are relative to
 * the run directory. Inputs are hashed when the manifest is written.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { activeBackend } from '../backend';
import { writeFileAtomic } from '../io/atomic';
import { sha256File as sha256Regular } from '../io/hash';
import { readJsonFile } from '../io/json';
import { LIBRARY_VERSION } from '../version';

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

/** One input file (a directory input is expanded to its files, sorted by name). */
export interface ManifestInput {
  path: string;
  /** what the file was used for: 'train', 'test', 'test_label', 'checkpoint', 'scaler', ... */
  role?: string;
  bytes: number;
  sha256: string;
}

export interface ManifestCheckpoint {
  /** checkpoint directory or file, relative to the run directory when inside it. */
  path: string;
  step?: number;
}

export interface ManifestOutput {
  path: string;
  role?: string;
  bytes?: number;
  sha256?: string;
}

/** How to re-run: CLI arguments for `anomaly-lab` and the option that names the output directory. */
export interface ManifestCommand {
  /** e.g. ['train', '--train', 'data/a.parquet', '--max_steps', '200', '--save_path', 'runs/a'] */
  argv: string[];
  /** option (snake_case, without dashes) whose value is the run directory; replaced on re-run. */
  outputOption?: string;
  /** working directory the relative paths in argv refer to. */
  cwd?: string;
}

export interface ManifestBackend {
  name: string;
  provider?: string;
  native?: boolean;
}

export interface ExperimentManifest {
  manifest_version: 1;
  /** 'anomalybert-train' | 'anomalybert-transfer' | 'anomalybert-detect' | 'power-detect' | 'power-train' | ... */
  kind: string;
  created: string;
  tool: { name: 'anomaly-lab'; version: string };
  command?: ManifestCommand;
  config: Record<string, unknown>;
  seed?: number;
  backend: ManifestBackend;
  versions: Record<string, string>;
  platform: { os: string; arch: string; cpus: number; node: string };
  inputs: ManifestInput[];
  metrics: Record<string, unknown>;
  checkpoints: ManifestCheckpoint[];
  outputs: ManifestOutput[];
  elapsed_s?: number;
  notes?: string;
}

/** What a producer gives; the rest (versions, hashes, backend, time) is filled in. */
export interface ManifestInit {
  kind: string;
  config: Record<string, unknown>;
  seed?: number;
  /** file or directory paths (strings) or {path, role}; hashed now. */
  inputs?: Array<string | { path: string; role?: string }>;
  metrics?: Record<string, unknown>;
  checkpoints?: ManifestCheckpoint[];
  /** produced files; relative paths are resolved against the run directory and hashed when present. */
  outputs?: Array<string | { path: string; role?: string }>;
  command?: ManifestCommand;
  /** overrides the active tfjs backend (e.g. for runs without tfjs). */
  backend?: ManifestBackend;
  elapsed_s?: number;
  notes?: string;
  /** fixed creation time (tests); default now. */
  created?: string;
}

/** sha256 of a regular file, hex (io/hash.ts; errors name the file). */
export async function sha256File(file: string): Promise<string> {
  try {
    return await sha256Regular(file);
  } catch (e) {
    throw new Error(`manifest: input ${(e as Error).message}`);
  }
}

function listFilesSorted(dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    if (st.isDirectory()) out.push(...listFilesSorted(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Hash inputs; directories expand to their files (sorted), so a data folder is pinned file by file. */
export async function hashInputs(inputs: Array<string | { path: string; role?: string }>): Promise<ManifestInput[]> {
  const out: ManifestInput[] = [];
  for (const item of inputs) {
    const { path: p, role } = typeof item === 'string' ? { path: item, role: undefined } : item;
    if (!fs.existsSync(p)) throw new Error(`manifest: input '${p}'${role ? ` (${role})` : ''} does not exist`);
    const files = fs.statSync(p).isDirectory() ? listFilesSorted(p) : [p];
    for (const f of files) {
      const entry: ManifestInput = { path: f, bytes: fs.statSync(f).size, sha256: await sha256File(f) };
      if (role) entry.role = role;
      out.push(entry);
    }
  }
  return out;
}

/** Find `<name>/package.json` along Node's module search path (works for ESM-only packages too). */
function packageVersion(name: string): string | undefined {
  const searchPaths = require.resolve.paths(name) ?? [];
  for (const base of searchPaths) {
    const pj = path.join(base, name, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string; version?: string };
        // npm aliases (danfojs-node's tfjs-node → @tensorflow/tfjs override) are not the package named.
        return pkg.name === name ? pkg.version : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Versions of the runtime and of the libraries that can change numbers or file formats. */
export function libraryVersions(): Record<string, string> {
  const names = [
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    'hyparquet',
    'hyparquet-compressors',
    'hyparquet-writer',
    'h5wasm',
    'danfojs-node',
    'plotly.js-dist-min',
  ];
  const out: Record<string, string> = { 'anomaly-lab': LIBRARY_VERSION, node: process.version };
  for (const n of names) {
    const v = packageVersion(n);
    if (v) out[n] = v;
  }
  return out;
}

function currentBackend(): ManifestBackend {
  const b = activeBackend();
  return b ? { name: b.name, provider: b.provider, native: b.native } : { name: 'none' };
}

/** Make relative output paths relative to the run dir, hash the ones that exist. */
async function describeOutputs(runDir: string, outputs: Array<string | { path: string; role?: string }>): Promise<ManifestOutput[]> {
  const out: ManifestOutput[] = [];
  for (const item of outputs) {
    const { path: p, role } = typeof item === 'string' ? { path: item, role: undefined } : item;
    const abs = path.isAbsolute(p) ? p : path.join(runDir, p);
    const entry: ManifestOutput = { path: p };
    if (role) entry.role = role;
    if (fs.existsSync(abs) && fs.statSync(abs).isFile()) {
      entry.bytes = fs.statSync(abs).size;
      entry.sha256 = await sha256File(abs);
    }
    out.push(entry);
  }
  return out;
}

/** Build a complete manifest from what a producer knows (hashes inputs and outputs now). */
export async function createManifest(runDir: string, init: ManifestInit): Promise<ExperimentManifest> {
  if (!init.kind || typeof init.kind !== 'string') throw new Error('manifest: kind must be a non-empty string');
  if (init.config === null || typeof init.config !== 'object') throw new Error('manifest: config must be an object');
  const m: ExperimentManifest = {
    manifest_version: MANIFEST_VERSION,
    kind: init.kind,
    created: init.created ?? new Date().toISOString(),
    tool: { name: 'anomaly-lab', version: LIBRARY_VERSION },
    config: toJsonSafe(init.config) as Record<string, unknown>,
    backend: init.backend ?? currentBackend(),
    versions: libraryVersions(),
    platform: { os: `${os.platform()} ${os.release()}`, arch: os.arch(), cpus: os.cpus().length, node: process.version },
    inputs: await hashInputs(init.inputs ?? []),
    metrics: toJsonSafe(init.metrics ?? {}) as Record<string, unknown>,
    checkpoints: init.checkpoints ?? [],
    outputs: await describeOutputs(runDir, init.outputs ?? []),
  };
  if (init.seed !== undefined) m.seed = init.seed;
  if (init.command) m.command = init.command;
  if (init.elapsed_s !== undefined) m.elapsed_s = init.elapsed_s;
  if (init.notes) m.notes = init.notes;
  return m;
}

/**
 * Write `<runDir>/manifest.json` atomically. Accepts a finished manifest or a `ManifestInit`
 * (then versions, backend and hashes are filled in). Returns what was written.
 */
export async function writeManifest(runDir: string, manifestOrInit: ExperimentManifest | ManifestInit): Promise<ExperimentManifest> {
  const m = isExperimentManifest(manifestOrInit) ? manifestOrInit : await createManifest(runDir, manifestOrInit);
  writeFileAtomic(path.join(runDir, MANIFEST_FILE), JSON.stringify(m, null, 2) + '\n');
  return m;
}

function isExperimentManifest(x: ExperimentManifest | ManifestInit): x is ExperimentManifest {
  return (
    (x as ExperimentManifest).manifest_version === MANIFEST_VERSION &&
    Array.isArray((x as ExperimentManifest).inputs) &&
    typeof (x as ExperimentManifest).versions === 'object'
  );
}

/** Typed arrays, NaN and Infinity do not survive JSON; convert them to plain values (NaN → null). */
export function toJsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return v ?? null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => (Number.isFinite(x) ? x : null));
  if (Array.isArray(v)) return v.map(toJsonSafe);
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val !== undefined && typeof val !== 'function') out[k] = toJsonSafe(val);
  }
  return out;
}

/** Read and check a manifest (a manifest.json file or a run directory holding one). */
export function readManifest(fileOrDir: string): ExperimentManifest {
  const file = fs.existsSync(fileOrDir) && fs.statSync(fileOrDir).isDirectory() ? path.join(fileOrDir, MANIFEST_FILE) : fileOrDir;
  if (!fs.existsSync(file)) throw new Error(`manifest: '${file}' does not exist`);
  let raw: unknown;
  try {
    raw = readJsonFile(file, 'manifest');
  } catch (e) {
    // the manifest's own wording for a parse error; a read error or a limit as readJsonFile says it
    const parse = /: invalid JSON \((.*)\)$/.exec((e as Error).message);
    if (!parse) throw e;
    throw new Error(`manifest: '${file}' is not valid JSON (${parse[1]})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`manifest: '${file}' must hold a JSON object`);
  const m = raw as Partial<ExperimentManifest>;
  if (m.manifest_version !== MANIFEST_VERSION) {
    throw new Error(`manifest: '${file}' field manifest_version is ${JSON.stringify(m.manifest_version)}, expected ${MANIFEST_VERSION}`);
  }
  const need: Array<[keyof ExperimentManifest, string]> = [
    ['kind', 'string'],
    ['created', 'string'],
    ['config', 'object'],
    ['backend', 'object'],
    ['versions', 'object'],
    ['inputs', 'object'],
    ['metrics', 'object'],
    ['checkpoints', 'object'],
  ];
  for (const [key, type] of need) {
    if (typeof m[key] !== type || m[key] === null) throw new Error(`manifest: '${file}' field ${key} is missing or not a ${type}`);
  }
  if (!Array.isArray(m.inputs)) throw new Error(`manifest: '${file}' field inputs must be a list`);
  if (!Array.isArray(m.checkpoints)) throw new Error(`manifest: '${file}' field checkpoints must be a list`);
  if (!Array.isArray(m.outputs)) m.outputs = [];
  return m as ExperimentManifest;
}

/** One input whose file changed (or vanished) since the manifest was written. */
export interface InputDrift {
  path: string;
  expected: string;
  actual: string | null;
}

/** Compare recorded input hashes with the files on disk now. Empty = inputs unchanged. */
export async function verifyInputs(m: ExperimentManifest, baseDir = process.cwd()): Promise<InputDrift[]> {
  const drift: InputDrift[] = [];
  for (const inp of m.inputs) {
    const abs = path.isAbsolute(inp.path) ? inp.path : path.join(baseDir, inp.path);
    // Only regular files are read: a crafted manifest naming a FIFO or /dev/zero must not hang.
    let isFile = false;
    try {
      isFile = fs.statSync(abs).isFile();
    } catch {
      isFile = false;
    }
    const actual = isFile ? await sha256File(abs) : null;
    if (actual !== inp.sha256) drift.push({ path: inp.path, expected: inp.sha256, actual });
  }
  return drift;
}

/** A numeric leaf of two metric objects that differs beyond tolerance (or exists on one side only). */
export interface MetricDifference {
  key: string;
  expected: number | null;
  actual: number | null;
}

function flattenNumbers(v: unknown, prefix: string, out: Map<string, number | null>): void {
  if (typeof v === 'number') out.set(prefix, v);
  else if (v === null) out.set(prefix, null);
  else if (Array.isArray(v)) v.forEach((x, i) => flattenNumbers(x, `${prefix}[${i}]`, out));
  else if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flattenNumbers(x, prefix ? `${prefix}.${k}` : k, out);
  }
}

/**
 * Compare every numeric leaf of two metric objects: |a − b| ≤ atol + rtol·|a|. Keys present on one
 * side only are reported too. Empty result = metrics reproduced.
 */
export function compareMetrics(
  expected: unknown,
  actual: unknown,
  tol: { rtol?: number; atol?: number; ignore?: RegExp } = {},
): MetricDifference[] {
  const rtol = tol.rtol ?? 1e-6;
  const atol = tol.atol ?? 1e-9;
  // Wall-clock fields never reproduce; callers may add their own.
  const ignore = tol.ignore ?? /(^|\.)(elapsed_s|elapsed|seconds|created|updated)$/;
  const a = new Map<string, number | null>();
  const b = new Map<string, number | null>();
  flattenNumbers(expected, '', a);
  flattenNumbers(actual, '', b);
  const diffs: MetricDifference[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (ignore.test(key)) continue;
    const x = a.has(key) ? (a.get(key) as number | null) : null;
    const y = b.has(key) ? (b.get(key) as number | null) : null;
    if (x === null || y === null) {
      if (x !== y || !a.has(key) || !b.has(key)) diffs.push({ key, expected: x, actual: y });
      continue;
    }
    if (Math.abs(x - y) > atol + rtol * Math.abs(x)) diffs.push({ key, expected: x, actual: y });
  }
  return diffs;
}
