/**
 * `anomaly-lab predict`: raw AnomalyBERT outputs (logits) for a batch of windows.
 *
 *   anomaly-lab predict --checkpoint <dir|.pt> --data windows.npy --out logits.npy
 *
 * windows.npy is (n, window, columns) with window = n_tokens × patch_size of the model; the output
 * is (n, window, out) float32, no sigmoid (as the original model's forward).
 */
import { BACKEND_OPTION } from '../../backend-choices';
import { AbortedError, defineOptions } from '../../browser/index';
import {
  ENGINE_OPTION,
  THREADS_OPTION,
  abortPoint,
  parseCommandArgs,
  withSigintWritingOut,
  type ParsedOptions,
  type SigintStop,
} from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS.predict;

const SPECS = defineOptions({
  checkpoint: {
    kind: 'string',
    required: true,
    help: 'checkpoint directory of ours, a run directory (its final checkpoint) or a PyTorch state_dict.pt',
  },
  data: { kind: 'string', required: true, help: '.npy of windows shaped (n, window, columns)' },
  out: { kind: 'string', required: true, output: 'file', help: '.npy to write, shaped (n, window, out), float32' },
  batch_size: { kind: 'int', default: 16, min: 1, help: 'windows per forward pass' },
  patch_size: { kind: 'int', help: 'patch size of a .pt model when shapes leave it open (several output columns)' },
  backend: BACKEND_OPTION,
  engine: ENGINE_OPTION,
  threads: THREADS_OPTION,
});

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab predict --checkpoint <dir|.pt> --data windows.npy --out logits.npy', summary);
  if (!options) return 0;
  // Ctrl-C: stop after the current batch; --out is written whole or not at all.
  return withSigintWritingOut('predict', options.out, (stop) => predict(options, stop), 'predicting');
}

async function predict(options: ParsedOptions<typeof SPECS>, stop: SigintStop): Promise<number> {
  // Loaded here, not at the top: `--help` prints the options without loading tfjs.
  const { initBackend } = await import('../../backend.js');
  const { loadCheckpoint, predictWindows } = await import('../../anomalybert/index.js');
  const { readNpy, toFloat32, writeNpy } = await import('../../io/index.js');
  const batchSize = options.batch_size;
  const dataFile = options.data;
  const outFile = options.out;
  // Read the input before starting tfjs: a bad file fails fast.
  const windows = readNpy(dataFile);
  if (windows.shape.length !== 3) {
    throw new Error(`${dataFile}: expected windows shaped (n, window, columns), got shape (${windows.shape.join(', ')})`);
  }
  await initBackend({ backend: options.backend });
  const overrides = options.patch_size !== undefined ? { patchSize: options.patch_size } : {};
  const { model } = await loadCheckpoint(options.checkpoint, overrides);
  try {
    const [n, w, c] = windows.shape;
    const { inputDim, outputDim, nTokens, patchSize } = model.config;
    if (w !== model.windowSize) {
      throw new Error(
        `${dataFile}: windows have ${w} points, the model's window is ${model.windowSize} (${nTokens} tokens × patch ${patchSize})`,
      );
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
      logits = await predictWindows(model, values, n, { batchSize, engine: options.engine, threads: options.threads, signal: stop.signal });
    } catch (e) {
      if (e instanceof AbortedError) throw e;
      throw new Error(`${dataFile}: ${(e as Error).message}`);
    }
    await abortPoint(stop.signal, 'predict', { done: n, total: n, unit: 'windows' });
    writeNpy(outFile, logits, [n, w, outputDim]);
    process.stdout.write(`wrote ${outFile} (${n}, ${w}, ${outputDim}) float32 logits\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
