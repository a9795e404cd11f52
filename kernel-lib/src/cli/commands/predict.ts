/**
 * `anomaly-lab predict`: raw AnomalyBERT outputs (logits) for a batch of windows.
 *
 *   anomaly-lab predict --checkpoint <dir|.pt> --data windows.npy --out logits.npy
 *
 * windows.npy is (n, window, columns) with window = n_tokens × patch_size of the model; the output
 * is (n, window, out) float32, no sigmoid (as the original model's forward).
 */
import { BACKEND_CHOICES, initBackend } from '../../backend';
import { loadCheckpoint } from '../../anomalybert/checkpoint';
import { predictWindows } from '../../anomalybert/estimate';
import { readNpy, toFloat32, writeNpy } from '../../io/npy';
import { UsageError, type OptionSpecs, parseCommandArgs } from '../args';

export const summary = 'raw AnomalyBERT outputs (logits) for windows shaped (n, window, columns)';

const SPECS: OptionSpecs = {
  checkpoint: { kind: 'string', required: true, help: 'checkpoint directory of ours, a run directory (its final checkpoint) or a PyTorch state_dict.pt' },
  data: { kind: 'string', required: true, help: '.npy of windows shaped (n, window, columns)' },
  out: { kind: 'string', required: true, output: 'file', help: '.npy to write, shaped (n, window, out), float32' },
  batch_size: { kind: 'int', default: 16, help: 'windows per forward pass' },
  patch_size: { kind: 'int', help: 'patch size of a .pt model when shapes leave it open (several output columns)' },
  backend: { kind: 'string', default: 'auto', choices: BACKEND_CHOICES, help: 'tfjs backend' },
  engine: { kind: 'string', default: 'auto', choices: ['auto', 'onnx', 'tfjs'], help: 'inference engine: onnx (onnxruntime-node, native threads) or tfjs; auto takes onnx where it loads' },
  threads: { kind: 'int', help: 'onnxruntime threads (default: every core)' },
};

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab predict --checkpoint <dir|.pt> --data windows.npy --out logits.npy', summary);
  if (!options) return 0;
  const batchSize = options.batch_size as number;
  if (batchSize < 1) throw new UsageError(`option --batch_size must be ≥ 1, got ${batchSize}`);
  if (options.threads !== undefined && (options.threads as number) < 1) throw new UsageError(`option --threads must be ≥ 1, got ${options.threads}`);
  const dataFile = options.data as string;
  const outFile = options.out as string;
  // Read the input before starting tfjs: a bad file fails fast.
  const windows = readNpy(dataFile);
  if (windows.shape.length !== 3) {
    throw new Error(`${dataFile}: expected windows shaped (n, window, columns), got shape (${windows.shape.join(', ')})`);
  }
  await initBackend({ backend: options.backend as string });
  const overrides = options.patch_size !== undefined ? { patchSize: options.patch_size as number } : {};
  const { model } = await loadCheckpoint(options.checkpoint as string, overrides);
  try {
    const [n, w, c] = windows.shape;
    const { inputDim, outputDim, nTokens, patchSize } = model.config;
    if (w !== model.windowSize) {
      throw new Error(`${dataFile}: windows have ${w} points, the model's window is ${model.windowSize} (${nTokens} tokens × patch ${patchSize})`);
    }
    if (c !== inputDim) throw new Error(`${dataFile}: the model expects ${inputDim} input columns, got ${c}`);
    let values: Float32Array;
    try {
      values = toFloat32(windows);
    } catch (e) {
      throw new Error(`${dataFile}: ${(e as Error).message}`);
    }
    let logits: Float32Array;
    try {
      logits = await predictWindows(model, values, n, { batchSize, engine: options.engine as string, threads: options.threads as number | undefined });
    } catch (e) {
      throw new Error(`${dataFile}: ${(e as Error).message}`);
    }
    writeNpy(outFile, logits, [n, w, outputDim]);
    process.stdout.write(`wrote ${outFile} (${n}, ${w}, ${outputDim}) float32 logits\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
