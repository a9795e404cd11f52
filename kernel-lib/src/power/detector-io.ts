/**
 * Detector persistence: our own format is a tfjs layers-model directory written atomically
 *   <dir>/model.json      tfjs model topology + weights manifest (tf.loadLayersModel reads it)
 *   <dir>/weights.bin     float32 weights
 *   <dir>/detector.json   { format, sequence_length, signals, scaler?: {mean, scale}, ... }
 * so a detector trained here, or imported from Keras .h5 once, reloads without h5wasm.
 * `loadDetector` accepts such a directory, its model.json, a Keras .h5 file or a Keras 3 .keras archive.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../backend';
import { writeDirAtomic } from '../io/atomic';
import { POWER_SIGNALS } from './data';
import { loadKerasArchive, loadKerasH5, type LoadKerasOptions } from './keras-h5';
import { readJsonFile } from '../io/json';
import { wrapParseError } from '../limits';
import type { PowerScaler } from './pipeline';

export const DETECTOR_FORMAT = 'anomaly-lab.power-detector.v1';

export interface DetectorMeta {
  format: typeof DETECTOR_FORMAT;
  sequence_length: number;
  signals: string[];
  /** The StandardScaler the detector was trained with, when known. */
  scaler?: { mean: number[]; scale: number[]; feature_names?: string[] };
  /** Where it came from: 'keras-h5:<file>' or 'trained'. */
  origin?: string;
  /** Training summary (epochs, losses, threshold suggestions), free form. */
  training?: Record<string, unknown>;
}

export interface LoadedDetector {
  model: tf.LayersModel;
  /** Window length the model expects (its input's time dimension). */
  sequenceLength: number;
  scaler?: PowerScaler;
  meta?: DetectorMeta;
  source: string;
}

/** Save a detector directory atomically (a crash never leaves a half-written model). */
export async function saveDetector(
  dir: string,
  model: tf.LayersModel,
  meta: Omit<DetectorMeta, 'format' | 'signals' | 'sequence_length'> & { sequence_length?: number } = {},
): Promise<void> {
  const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve, reject) => {
    model
      .save(
        tf.io.withSaveHandler(async (a) => {
          resolve(a);
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      )
      .catch(reject);
  });
  const weightData = artifacts.weightData;
  const bytes =
    weightData instanceof ArrayBuffer
      ? new Uint8Array(weightData)
      : new Uint8Array(tf.io.concatenateArrayBuffers(weightData as ArrayBuffer[]));
  const sequenceLength = meta.sequence_length ?? Number(model.inputs[0].shape[1]);
  const full: DetectorMeta = { format: DETECTOR_FORMAT, sequence_length: sequenceLength, signals: [...POWER_SIGNALS], ...meta };
  await writeDirAtomic(dir, (tmp) => {
    fs.writeFileSync(path.join(tmp, 'weights.bin'), bytes);
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: 'anomaly-lab',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(modelJson));
    fs.writeFileSync(path.join(tmp, 'detector.json'), JSON.stringify(full, null, 2) + '\n');
  });
}

async function loadTfjsDir(dir: string): Promise<tf.LayersModel> {
  const modelPath = path.join(dir, 'model.json');
  const json = readJsonFile(modelPath, "the detector's model.json") as {
    modelTopology?: object;
    weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  } | null;
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new Error(`${modelPath}: not a tfjs layers model (modelTopology/weightsManifest missing)`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    if (!group || !Array.isArray(group.weights) || !Array.isArray(group.paths))
      throw new Error(`${modelPath}: malformed weightsManifest group`);
    for (const w of group.weights) {
      const shapeOk = w && Array.isArray(w.shape) && w.shape.length <= 16 && w.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
      if (!shapeOk || typeof w.name !== 'string') throw new Error(`${modelPath}: malformed weight spec in weightsManifest`);
      specs.push(w);
    }
    for (const p of group.paths) {
      // Weights live beside model.json: a path leaving the directory is refused.
      if (typeof p !== 'string' || p.includes('..') || path.isAbsolute(p))
        throw new Error(`${modelPath}: weights path ${JSON.stringify(String(p)).slice(0, 80)} is not a file beside model.json`);
      const f = path.join(dir, p);
      if (!fs.existsSync(f)) throw new Error(`${f}: weights file listed in model.json is missing`);
      buffers.push(fs.readFileSync(f));
    }
  }
  const total = buffers.reduce((s, b) => s + b.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    weightData.set(b, off);
    off += b.length;
  }
  const need = specs.reduce((s, w) => s + w.shape.reduce((a, d) => a * d, 1) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : 1), 0);
  if (need !== total)
    throw new Error(`${dir}: weights hold ${total} bytes, model.json describes ${need} (truncated or mismatched weights.bin)`);
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }),
    );
  } catch (e) {
    throw new Error(`${modelPath}: cannot build the model (${(e as Error).message})`);
  }
}

/**
 * Load a detector: our directory (or its model.json) or a Keras .h5 / .keras file. `opts` passes
 * limits and an expected sha256 to the Keras readers (HDF5 has no checksum of its own).
 */
export async function loadDetector(file: string, opts: LoadKerasOptions = {}): Promise<LoadedDetector> {
  try {
    return await loadDetectorUnwrapped(file, opts);
  } catch (e) {
    throw wrapParseError(e, file, 'detector');
  }
}

async function loadDetectorUnwrapped(file: string, opts: LoadKerasOptions): Promise<LoadedDetector> {
  if (!fs.existsSync(file)) throw new Error(`${file}: detector not found`);
  const stat = fs.statSync(file);
  if (stat.isFile() && /\.(h5|hdf5|keras)$/i.test(file)) {
    const k = /\.keras$/i.test(file) ? await loadKerasArchive(file, opts) : await loadKerasH5(file, opts);
    return { model: k.model, sequenceLength: k.inputShape[0], source: file, meta: undefined };
  }
  const dir = stat.isDirectory() ? file : path.dirname(file);
  if (!fs.existsSync(path.join(dir, 'model.json')))
    throw new Error(`${file}: not a detector (expected a Keras .h5 file or a directory with model.json)`);
  const model = await loadTfjsDir(dir);
  let meta: DetectorMeta | undefined;
  const metaPath = path.join(dir, 'detector.json');
  if (fs.existsSync(metaPath)) {
    const raw = readJsonFile(metaPath, 'detector.json') as DetectorMeta | null;
    if (!raw || typeof raw !== 'object' || raw.format !== DETECTOR_FORMAT) {
      throw new Error(
        `${metaPath}: unknown format ${JSON.stringify(String((raw as { format?: unknown } | null)?.format)).slice(0, 80)} (expected ${DETECTOR_FORMAT})`,
      );
    }
    meta = raw;
  }
  const sc = meta?.scaler;
  if (
    sc !== undefined &&
    (!sc ||
      !Array.isArray(sc.mean) ||
      !Array.isArray(sc.scale) ||
      sc.mean.length !== sc.scale.length ||
      ![...sc.mean, ...sc.scale].every((v) => typeof v === 'number'))
  ) {
    throw new Error(`${metaPath}: scaler needs numeric 'mean' and 'scale' arrays of equal length`);
  }
  const scaler = sc ? { mean: Float64Array.from(sc.mean), scale: Float64Array.from(sc.scale), featureNames: sc.feature_names } : undefined;
  const sequenceLength = Number(model.inputs[0].shape[1] ?? meta?.sequence_length);
  return { model, sequenceLength, scaler, meta, source: dir };
}
