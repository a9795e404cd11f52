/**
 * `anomaly-lab export`: a trained model as an ONNX file (opset 20, dynamic batch axis), to run in
 * onnxruntime (Python, Node, the browser) without this toolkit.
 *
 *   anomaly-lab export --checkpoint <dir|.pt> --format onnx --out model.onnx
 *   anomaly-lab export --checkpoint detector.h5|detector-dir --format onnx --out detector.onnx
 *
 * --model auto takes a Keras .h5/.keras file or a directory with model.json as a power detector,
 * anything else as an AnomalyBERT checkpoint. See docs/onnx.md for loading the file elsewhere.
 */
import * as fs from 'fs';
import * as path from 'path';
import { defineOptions, formatFixed } from '../../browser/index';
import { holdSigint, notWritten, parseCommandArgs } from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS.export;

const SPECS = defineOptions({
  checkpoint: {
    kind: 'string',
    required: true,
    help: 'AnomalyBERT checkpoint directory / run directory / state_dict.pt, or a power detector (.h5, .keras, directory)',
  },
  format: { kind: 'string', default: 'onnx', choices: ['onnx'], help: 'output format' },
  out: { kind: 'string', required: true, output: 'file', help: '.onnx file to write' },
  model: {
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'anomalybert', 'power-detector'],
    help: 'what the checkpoint holds (auto: by its files)',
  },
  patch_size: { kind: 'int', help: 'patch size of a .pt AnomalyBERT when shapes leave it open' },
});

function isDetector(p: string): boolean {
  if (/\.(h5|hdf5|keras)$/i.test(p)) return true;
  return fs.existsSync(p) && fs.statSync(p).isDirectory() && fs.existsSync(path.join(p, 'model.json'));
}

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, SPECS, 'anomaly-lab export --checkpoint <dir|.pt|.h5> --format onnx --out model.onnx', summary);
  if (!options) return 0;
  // Loaded here, not at the top: `--help` prints the options without loading tfjs.
  const { initBackend } = await import('../../backend.js');
  const { exportAnomalyBertOnnx, loadCheckpoint } = await import('../../anomalybert/index.js');
  const { exportDetectorOnnx, loadDetector } = await import('../../power/index.js');
  const { writeFileAtomic } = await import('../../io/index.js');
  const { describeOnnxModel } = await import('../../onnx/index.js');
  const source = options.checkpoint;
  const out = options.out;
  const kind = options.model === 'auto' ? (isDetector(source) ? 'power-detector' : 'anomalybert') : options.model;
  // Ctrl-C: acted on before the file is written (loading and exporting take seconds at most).
  const existed = fs.existsSync(out);
  const sigint = holdSigint('export');
  // Exporting reads weights only: the plain cpu backend avoids starting wasm threads.
  await initBackend({ backend: 'cpu', log: false });
  let bytes: Uint8Array;
  let what: string;
  if (kind === 'power-detector') {
    const d = await loadDetector(source);
    try {
      bytes = exportDetectorOnnx(d.model);
      what = `power detector (window ${d.sequenceLength})`;
    } finally {
      d.model.dispose();
    }
  } else {
    const overrides = options.patch_size !== undefined ? { patchSize: options.patch_size } : {};
    const { model } = await loadCheckpoint(source, overrides);
    try {
      bytes = exportAnomalyBertOnnx(model);
      what = `AnomalyBERT (window ${model.windowSize}, ${model.config.inputDim} columns${model.config.diffScales ? ' + first differences' : ''})`;
    } finally {
      model.dispose();
    }
  }
  const s = describeOnnxModel(bytes, out);
  await sigint.beforeWriting(() => notWritten(out, existed));
  writeFileAtomic(out, bytes);
  process.stdout.write(
    `wrote ${out}: ${what}, opset ${s.opset}, ${s.nodes} nodes, ${formatFixed(bytes.length / 1e6, 2)} MB; input ${s.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ')}\n`,
  );
  return 0;
}
