/**
 * ONNX export of AnomalyBERT run by onnxruntime-node: the reference fixtures (computed with the
 * original PyTorch code) within 1e-4 for logits and 1e-5 for sliding-window scores, a model with
 * first-difference features against our tfjs forward pass, the dynamic batch axis, the CLI
 * `export` command, and one-line errors for corrupt or foreign .onnx files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import {
  AnomalyBert,
  estimateScores,
  loadCheckpoint,
  predictWindows,
  saveCheckpoint,
  exportAnomalyBertOnnx,
  OnnxAnomalyBert,
} from 'anomaly-lab/anomalybert';
import { readNpy, toFloat32 } from 'anomaly-lab/io';
import { describeOnnxModel, ONNX_OPSET, readOnnxFile, resolveEngine } from 'anomaly-lab/onnx';
import { describeShared, sharedPath } from '../helpers/shared';
import { runCli } from '../helpers/cli';
import { maxAbsDiff, randomValues } from '../helpers/numeric';

const fx = (name: string): string => sharedPath('fixtures', 'anomalybert', name);

let tmp: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-onnx-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('onnxruntime-node loads here (auto picks onnx)', () => {
  expect(resolveEngine({ engine: 'auto', log: false }).name).toBe('onnx');
  expect(resolveEngine({ engine: 'tfjs', log: false }).name).toBe('tfjs');
  expect(() => resolveEngine({ engine: 'torch', log: false })).toThrow(/unknown engine 'torch'/);
  expect(() => resolveEngine({ threads: 0, log: false })).toThrow(/threads must be a positive integer/);
});

test('first-difference model: ONNX graph equals the tfjs forward pass within 1e-4 at batch 1 and 3 (dynamic axis)', async () => {
  const config = {
    inputDim: 3,
    outputDim: 2,
    patchSize: 4,
    nTokens: 12,
    dEmbed: 32,
    nLayer: 2,
    nHead: 4,
    dropout: 0.1,
    diffScales: [0.01, 0.2, 3],
  };
  const model = AnomalyBert.create(config, { seed: 3 });
  try {
    const bytes = exportAnomalyBertOnnx(model);
    const summary = describeOnnxModel(bytes, 'mem');
    expect(summary.opset).toBe(ONNX_OPSET);
    expect(summary.inputs).toEqual([{ name: 'x', shape: ['batch', 48, 3] }]);
    expect(summary.outputs.map((o) => o.shape)).toEqual([
      ['batch', 48, 2],
      ['batch', 48, 2],
    ]);
    const runner = await OnnxAnomalyBert.fromBytes(bytes, 'mem', { threads: 1 });
    for (const k of [1, 3]) {
      const x = randomValues(k * 48 * 3, k);
      const want = tf.tidy(() => model.apply(tf.tensor3d(x, [k, 48, 3]))).dataSync();
      const got = await runner.run(x, k);
      expect(got.length).toBe(k * 48 * 2);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
      const scores = await runner.run(x, k, 'scores');
      expect(
        maxAbsDiff(
          scores,
          Array.from(want, (v) => 1 / (1 + Math.exp(-v))),
        ),
      ).toBeLessThan(1e-5);
    }
    await runner.dispose();
  } finally {
    model.dispose();
  }
});

test('a checkpoint round trip: the exported file opens with the configuration it was saved with', async () => {
  const model = AnomalyBert.create(
    { inputDim: 2, outputDim: 1, patchSize: 2, nTokens: 8, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0.1 },
    { seed: 1 },
  );
  try {
    const dir = path.join(tmp, 'ckpt');
    await saveCheckpoint(dir, model);
    const out = path.join(tmp, 'small.onnx');
    const r = runCli(['export', '--checkpoint', dir, '--format', 'onnx', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(out);
    const { bytes, summary } = readOnnxFile(out);
    expect(JSON.parse(summary.metadata['anomaly-lab.config'])).toMatchObject({ patchSize: 2, nTokens: 8, dEmbed: 16 });
    const runner = await OnnxAnomalyBert.fromBytes(bytes, out, { threads: 1 });
    const x = randomValues(2 * 16 * 2, 9);
    const want = tf.tidy(() => model.apply(tf.tensor3d(x, [2, 16, 2]))).dataSync();
    expect(maxAbsDiff(await runner.run(x, 2), want)).toBeLessThan(1e-4);
    await runner.dispose();
  } finally {
    model.dispose();
  }
});

test('a corrupt or foreign .onnx file gets one line naming it', async () => {
  const corrupt = path.join(tmp, 'corrupt.onnx');
  fs.writeFileSync(corrupt, Buffer.from('\x08\x07\x12\xff\xff\xff\x7fnot really protobuf'));
  expect(() => readOnnxFile(corrupt)).toThrow(new RegExp(`^${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an ONNX model`));
  const foreign = path.join(tmp, 'foreign.onnx');
  fs.writeFileSync(foreign, '{"this": "is json"}');
  let message = '';
  try {
    readOnnxFile(foreign);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(/foreign\.onnx: not an ONNX model/);
  expect(message).not.toContain('\n');
  await expect(OnnxAnomalyBert.fromBytes(new Uint8Array(fs.readFileSync(foreign)), foreign)).rejects.toThrow(
    /foreign\.onnx: not an ONNX model/,
  );
  const r = runCli(['export', '--checkpoint', path.join(tmp, 'nowhere'), '--format', 'onnx', '--out', path.join(tmp, 'x.onnx')]);
  expect(r.code).not.toBe(0);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});

describeShared('AnomalyBERT ONNX export on the reference fixtures (onnxruntime-node)', () => {
  test('exported file reproduces expected_logits.npy within 1e-4 and expected_scores.npy within 1e-5', async () => {
    const { model } = await loadCheckpoint(fx('state_dict.pt'));
    try {
      const out = path.join(tmp, 'fixture.onnx');
      fs.writeFileSync(out, exportAnomalyBertOnnx(model));
      const runner = await OnnxAnomalyBert.fromBytes(new Uint8Array(fs.readFileSync(out)), out, { threads: 2 });
      const windows = readNpy(fx('windows.npy'));
      const logits = await runner.run(toFloat32(windows), windows.shape[0]);
      expect(maxAbsDiff(logits, toFloat32(readNpy(fx('expected_logits.npy'))))).toBeLessThan(1e-4);
      await runner.dispose();
      // The library path with the onnx engine (export in memory, one session per weights).
      expect(maxAbsDiff(await predictWindows(model, toFloat32(windows), windows.shape[0], { batchSize: 2, engine: 'onnx' }), logits)).toBe(
        0,
      );
      const series = readNpy(fx('series.npy'));
      const before = tf.memory().numTensors;
      const scores = await estimateScores(model, toFloat32(series), series.shape[0], {
        batchSize: 4,
        windowSliding: 16,
        engine: 'onnx',
        threads: 1,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(maxAbsDiff(scores, toFloat32(readNpy(fx('expected_scores.npy'))))).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });

  test('CLI estimate --engine onnx says which engine runs and matches the fixture', () => {
    const out = path.join(tmp, 'scores-onnx.npy');
    const r = runCli([
      'estimate',
      '--checkpoint',
      fx('state_dict.pt'),
      '--data',
      fx('series.npy'),
      '--batch_size',
      '4',
      '--window_sliding',
      '16',
      '--out',
      out,
      '--engine',
      'onnx',
      '--threads',
      '1',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("inference engine 'onnx' (onnxruntime-node, 1 thread)");
    expect(maxAbsDiff(toFloat32(readNpy(out)), toFloat32(readNpy(fx('expected_scores.npy'))))).toBeLessThan(1e-5);
  });
});
