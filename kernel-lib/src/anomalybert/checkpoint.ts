/**
 * Checkpoints. Ours is a directory, written atomically (a crash never leaves a half-written one):
 *   config.json   { format: 'anomaly-lab.anomalybert', formatVersion: 1, libraryVersion, model,
 *                   columns?, scaler?, parent?, step?, created, extra? }
 *   weights.json  { byteOrder: 'little', totalBytes, tensors: [{ name, shape, dtype, offset, byteLength }] }
 *   weights.bin   the tensors back to back, float32 little-endian, torch layout (Linear [out, in])
 * Tensor names and shapes are exactly the torch state-dict's, so a checkpoint converts to and from
 * `state_dict.pt` without renaming. `loadCheckpoint` also reads a PyTorch `.pt` state dict.
 *
 * The scaler is kept as its JSON (`MinMaxScaler.toJSON()`), so this module does not depend on it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeDirAtomic, writeFileSynced } from '../io/atomic';
import { loadTorchStateDict } from '../pickle/torch';
import { LIBRARY_VERSION } from '../version';
import type { AnomalyBertConfig } from './config';
import { AnomalyBert, type StateDict } from './model';
import { readJsonFile } from '../io/json';

export const CHECKPOINT_FORMAT = 'anomaly-lab.anomalybert';
export const CHECKPOINT_FORMAT_VERSION = 1;

export interface CheckpointMeta {
  /** 'anomaly-lab.anomalybert' for ours, 'torch.state_dict' for a .pt file. */
  format: string;
  formatVersion?: number;
  libraryVersion?: string;
  /** Absolute path the model was loaded from. */
  source: string;
  /** Checkpoint this one was fine-tuned from. */
  parent?: string;
  /** Training step at which it was saved. */
  step?: number;
  /** ISO time of writing. */
  created?: string;
  extra?: Record<string, unknown>;
}

export interface SaveCheckpointOptions {
  /** Names of the input columns, in model order. */
  columns?: string[];
  /** The min-max scaler (its JSON, or an object with toJSON()). */
  scaler?: unknown;
  /** Where the model was fine-tuned from. */
  parent?: string;
  step?: number;
  /** Anything else JSON-serialisable (run directory, metrics, …). */
  extra?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  model: AnomalyBert;
  columns?: string[];
  /** Scaler JSON as saved (feed to `MinMaxScaler.fromJSON`). */
  scaler?: unknown;
  meta: CheckpointMeta;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  offset: number;
  byteLength: number;
}

function assertLittleEndianHost(): void {
  // Float32Array bytes are host order; every platform tfjs runs on is little-endian.
  if (os.endianness() !== 'LE') throw new Error('checkpoints are little-endian; this big-endian host is not supported');
}

/** Save a model (and its data context) as a checkpoint directory, atomically. */
export async function saveCheckpoint(dir: string, model: AnomalyBert, opts: SaveCheckpointOptions = {}): Promise<void> {
  assertLittleEndianHost();
  if (opts.columns && opts.columns.length !== model.config.inputDim) {
    throw new Error(
      `saveCheckpoint ${dir}: ${opts.columns.length} column names given for a model with ${model.config.inputDim} input columns`,
    );
  }
  const sd = model.toStateDict();
  const scaler =
    opts.scaler && typeof (opts.scaler as { toJSON?: unknown }).toJSON === 'function'
      ? (opts.scaler as { toJSON(): unknown }).toJSON()
      : opts.scaler;
  await writeDirAtomic(dir, (tmp) => {
    const tensors: WeightEntry[] = [];
    let offset = 0;
    for (const [name, t] of sd) {
      tensors.push({ name, shape: t.shape, dtype: 'float32', offset, byteLength: t.data.byteLength });
      offset += t.data.byteLength;
    }
    const bin = new Uint8Array(offset);
    for (const e of tensors) {
      const t = sd.get(e.name) as { data: Float32Array };
      bin.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), e.offset);
    }
    writeFileSynced(path.join(tmp, 'weights.bin'), bin);
    writeFileSynced(path.join(tmp, 'weights.json'), JSON.stringify({ byteOrder: 'little', totalBytes: offset, tensors }, null, 1));
    const config = {
      format: CHECKPOINT_FORMAT,
      formatVersion: CHECKPOINT_FORMAT_VERSION,
      libraryVersion: LIBRARY_VERSION,
      model: model.config,
      columns: opts.columns,
      scaler,
      parent: opts.parent,
      step: opts.step,
      created: new Date().toISOString(),
      extra: opts.extra,
    };
    // Written last: a directory with config.json is complete (the swap in is atomic anyway).
    writeFileSynced(path.join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read our checkpoint directory's weights into a torch-layout state dict. */
export function readCheckpointWeights(dir: string): StateDict {
  assertLittleEndianHost();
  const indexFile = path.join(dir, 'weights.json');
  const binFile = path.join(dir, 'weights.bin');
  const index = readJsonFile(indexFile);
  if (!isPlainObject(index) || !Array.isArray(index.tensors)) throw new Error(`${indexFile}: expected { tensors: [...] }`);
  if (index.byteOrder !== undefined && index.byteOrder !== 'little')
    throw new Error(`${indexFile}: unsupported byteOrder '${String(index.byteOrder)}'`);
  if (!fs.existsSync(binFile)) throw new Error(`${binFile}: missing (checkpoint incomplete)`);
  const bin = fs.readFileSync(binFile);
  if (typeof index.totalBytes === 'number' && index.totalBytes !== bin.byteLength) {
    throw new Error(`${binFile}: ${bin.byteLength} bytes, weights.json says ${index.totalBytes} (truncated or corrupt)`);
  }
  const sd: StateDict = new Map();
  for (const raw of index.tensors as unknown[]) {
    const e = raw as WeightEntry;
    if (
      !isPlainObject(raw) ||
      typeof e.name !== 'string' ||
      !Array.isArray(e.shape) ||
      !Number.isInteger(e.offset) ||
      !Number.isInteger(e.byteLength)
    ) {
      throw new Error(`${indexFile}: malformed tensor entry ${JSON.stringify(raw).slice(0, 120)}`);
    }
    if (e.dtype !== 'float32') throw new Error(`${indexFile}: tensor '${e.name}' has dtype '${e.dtype}', only float32 is supported`);
    const count = e.shape.reduce((a: number, b: number) => a * b, 1);
    if (e.byteLength !== count * 4)
      throw new Error(`${indexFile}: tensor '${e.name}' byteLength ${e.byteLength} does not fit shape [${e.shape.join(', ')}]`);
    if (e.offset < 0 || e.offset + e.byteLength > bin.byteLength) {
      throw new Error(
        `${binFile}: tensor '${e.name}' lies outside the file (offset ${e.offset} + ${e.byteLength} > ${bin.byteLength} bytes)`,
      );
    }
    if (sd.has(e.name)) throw new Error(`${indexFile}: tensor '${e.name}' listed twice`);
    // Copy: the Buffer's offset may not be 4-byte aligned.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bin.subarray(e.offset, e.offset + e.byteLength));
    sd.set(e.name, { shape: e.shape.slice(), dtype: 'float32', data });
  }
  return sd;
}

function isZip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = fs.readSync(fd, head, 0, 4, 0);
    return n === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Where a checkpoint is expected, a training run directory means its final checkpoint: the one its
 * manifest records as `final_checkpoint` when it finished, else its highest `state/step_<i>` (a
 * run that was interrupted). Anything else is returned unchanged. A run directory is recognised by
 * its `state/` folder and a `config.json` that is not a checkpoint's (the run's own configuration).
 */
export function resolveCheckpointPath(dirOrPt: string): string {
  const dir = path.resolve(dirOrPt);
  const stateDir = path.join(dir, 'state');
  if (!fs.existsSync(stateDir) || !fs.statSync(stateDir).isDirectory()) return dirOrPt;
  const configFile = path.join(dir, 'config.json');
  if (fs.existsSync(configFile)) {
    const cfg = readJsonFile(configFile);
    if (isPlainObject(cfg) && cfg.format === CHECKPOINT_FORMAT) return dirOrPt;
  }
  const isCheckpoint = (p: string): boolean => fs.existsSync(path.join(p, 'config.json')) && fs.existsSync(path.join(p, 'weights.bin'));
  const manifestFile = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifestFile)) {
    const man = readJsonFile(manifestFile);
    const metrics = isPlainObject(man) && isPlainObject(man.metrics) ? man.metrics : undefined;
    const final = metrics && typeof metrics.final_checkpoint === 'string' ? path.resolve(dir, metrics.final_checkpoint) : undefined;
    if (final && isCheckpoint(final)) return final;
  }
  const steps = fs
    .readdirSync(stateDir)
    .map((f) => /^step_(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && isCheckpoint(path.join(stateDir, m[0])))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (steps.length === 0) throw new Error(`${dirOrPt}: a run directory without any checkpoint in state/ (no complete step_<i>)`);
  return path.join(stateDir, `step_${steps[steps.length - 1]}`);
}

/**
 * Load a model from our checkpoint directory, a training run directory (its final checkpoint, see
 * resolveCheckpointPath), or a PyTorch `state_dict.pt` (zip format written by `torch.save`).
 * `overrides` fix what shapes cannot tell (patch size when the output has several columns) and
 * must agree with the weights; `dropout` applies to later training.
 */
export async function loadCheckpoint(dirOrPtOrRun: string, overrides: Partial<AnomalyBertConfig> = {}): Promise<LoadedCheckpoint> {
  if (!fs.existsSync(path.resolve(dirOrPtOrRun))) throw new Error(`checkpoint not found: ${dirOrPtOrRun}`);
  const dirOrPt = resolveCheckpointPath(dirOrPtOrRun);
  const source = path.resolve(dirOrPt);
  const stat = fs.statSync(source);
  if (stat.isFile()) {
    if (!isZip(source)) {
      throw new Error(`${dirOrPt}: not a checkpoint directory nor a PyTorch zip state dict (torch.save format, torch ≥ 1.6)`);
    }
    const sd = (await loadTorchStateDict(source)) as StateDict;
    const model = AnomalyBert.fromStateDict(sd, overrides, dirOrPt);
    return { model, meta: { format: 'torch.state_dict', source } };
  }
  const configFile = path.join(source, 'config.json');
  if (!fs.existsSync(configFile)) throw new Error(`${dirOrPt}: not an anomaly-lab checkpoint (no config.json)`);
  const cfg = readJsonFile(configFile);
  if (!isPlainObject(cfg) || cfg.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${configFile}: format is '${String(isPlainObject(cfg) ? cfg.format : undefined)}', expected '${CHECKPOINT_FORMAT}'`);
  }
  if (typeof cfg.formatVersion !== 'number' || cfg.formatVersion > CHECKPOINT_FORMAT_VERSION) {
    throw new Error(
      `${configFile}: formatVersion ${String(cfg.formatVersion)} is newer than this library reads (${CHECKPOINT_FORMAT_VERSION}); upgrade anomaly-lab`,
    );
  }
  if (!isPlainObject(cfg.model)) throw new Error(`${configFile}: missing 'model' configuration`);
  const saved = cfg.model as unknown as AnomalyBertConfig;
  const sd = readCheckpointWeights(source);
  // Shapes decide; the saved config settles the patch size and must agree with the caller's overrides.
  for (const k of ['inputDim', 'outputDim', 'patchSize', 'nTokens', 'dEmbed', 'nLayer', 'nHead'] as const) {
    if (overrides[k] !== undefined && overrides[k] !== saved[k]) {
      const what = k === 'inputDim' ? 'input columns' : k;
      throw new Error(`${dirOrPt}: the model has ${what} ${String(saved[k])}, ${String(overrides[k])} requested`);
    }
  }
  const model = AnomalyBert.fromStateDict(
    sd,
    {
      patchSize: saved.patchSize,
      outputDim: saved.outputDim,
      dropout: overrides.dropout ?? saved.dropout,
      diffScales: saved.diffScales ?? undefined,
    },
    dirOrPt,
  );
  const columns = Array.isArray(cfg.columns) ? (cfg.columns as unknown[]).map(String) : undefined;
  if (columns && columns.length !== model.config.inputDim) {
    model.dispose();
    throw new Error(`${configFile}: ${columns.length} column names for a model with ${model.config.inputDim} input columns`);
  }
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    formatVersion: cfg.formatVersion,
    libraryVersion: typeof cfg.libraryVersion === 'string' ? cfg.libraryVersion : undefined,
    source,
    parent: typeof cfg.parent === 'string' ? cfg.parent : undefined,
    step: typeof cfg.step === 'number' ? cfg.step : undefined,
    created: typeof cfg.created === 'string' ? cfg.created : undefined,
    extra: isPlainObject(cfg.extra) ? cfg.extra : undefined,
  };
  return { model, columns, scaler: cfg.scaler ?? undefined, meta };
}
