/**
 * The seed's Keras LSTM autoencoder exported to ONNX and run by onnxruntime-node reproduces the
 * reference reconstruction MSE (../shared/fixtures/power-system, computed with the Python seed);
 * the tfjs engine is checked on the same windows. A Bidirectional/RepeatVector chain built here
 * matches tfjs's predict, and an unsupported layer is named.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { OnnxAnomalyBert } from 'anomaly-lab/anomalybert';
import { readNpy } from 'anomaly-lab/io';
import { readOnnxFile } from 'anomaly-lab/onnx';
import { exportDetectorOnnx, OnnxDetector } from 'anomaly-lab/power';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

test('Bidirectional LSTM → RepeatVector → LSTM → TimeDistributed(Dense) chain equals tfjs predict within 1e-5', async () => {
  const model = tf.sequential();
  model.add(
    tf.layers.bidirectional({
      layer: tf.layers.lstm({ units: 5, returnSequences: true }) as tf.RNN,
      mergeMode: 'concat',
      inputShape: [7, 3],
    }),
  );
  model.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences: false }) as tf.RNN, mergeMode: 'sum' }));
  model.add(tf.layers.repeatVector({ n: 7 }));
  model.add(tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation: 'hardSigmoid' }));
  model.add(tf.layers.dropout({ rate: 0.2 }));
  model.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'tanh' }) }));
  try {
    const x = tf.randomUniform([4, 7, 3], -1, 1, 'float32', 5);
    const want = (model.predict(x) as tf.Tensor).dataSync();
    const runner = await OnnxDetector.fromModel(model, { threads: 1 });
    const got = await runner.run(x.dataSync() as Float32Array, 4);
    await runner.dispose();
    expect(got.length).toBe(want.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-5);
    x.dispose();
  } finally {
    model.dispose();
  }
});

test('exporting an unsupported layer names the layer', () => {
  const model = tf.sequential();
  model.add(tf.layers.conv1d({ filters: 2, kernelSize: 3, inputShape: [8, 2], name: 'my_conv' }));
  try {
    expect(() => exportDetectorOnnx(model)).toThrow("ONNX export: layer 'my_conv' (Conv1D) is not supported");
  } finally {
    model.dispose();
  }
});

describeShared('seed LSTM autoencoder in onnxruntime (reference MSE)', () => {
  const models = sharedPath('data/power-system/seed-models/detector');
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'power-onnx-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('power detect on both engines (CLI): reconstruction MSE of the first 2,000 windows within 1e-5 relative of the seed', () => {
    const expected = readNpy(sharedPath('fixtures/power-system/expected_default_mse.npy'));
    const n = 2000;
    // The seed's first 2,049 rows: windows 0…1999 are exactly the reference's first 2,000.
    const lines = fs.readFileSync(sharedPath('data/power-system/simData2.csv'), 'utf8').split('\n');
    const csv = path.join(tmp, 'head.csv');
    fs.writeFileSync(csv, lines.slice(0, 1 + n + 49).join('\n') + '\n');
    for (const engine of ['onnx', 'tfjs'] as const) {
      const out = path.join(tmp, `detect-${engine}`);
      const r = runCli([
        'power',
        'detect',
        '--data',
        csv,
        '--detector',
        path.join(models, 'lstm_autoencoder_anomaly_detection.h5'),
        '--scaler',
        path.join(models, 'scaler.save'),
        '--out',
        out,
        '--engine',
        engine,
        '--threads',
        '1',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`inference engine '${engine}'`);
      const mse = readNpy(path.join(out, 'mse.npy'));
      expect(mse.shape).toEqual([n]);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, rel(Number(mse.data[i]), Number(expected.data[i])));
      expect(worst).toBeLessThan(1e-5);
    }
  });

  test('CLI export of the .h5 writes an ONNX file with a dynamic batch axis; an AnomalyBERT loader refuses it by name', async () => {
    const out = path.join(tmp, 'detector.onnx');
    const r = runCli([
      'export',
      '--checkpoint',
      path.join(models, 'lstm_autoencoder_anomaly_detection.h5'),
      '--format',
      'onnx',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('power detector (window 50)');
    const { bytes, summary } = readOnnxFile(out);
    expect(summary.inputs).toEqual([{ name: 'x', shape: ['batch', 50, 6] }]);
    expect(summary.outputs[0].shape[0]).toBe('batch');
    await expect(OnnxAnomalyBert.fromBytes(bytes, out)).rejects.toThrow(`${out}: not an AnomalyBERT exported by anomaly-lab`);
    // Batch 3 of the file equals batch 3 run as 1 + 2 (the batch axis is dynamic).
    const runner = await OnnxDetector.fromBytes(bytes, out, { threads: 1 });
    const x = Float32Array.from({ length: 3 * 50 * 6 }, (_, i) => Math.sin(i / 7));
    const all = await runner.run(x, 3);
    const first = await runner.run(x.slice(0, 300), 1);
    const rest = await runner.run(x.slice(300), 2);
    await runner.dispose();
    expect(all.length).toBe(900);
    let worst = 0;
    for (let i = 0; i < 900; i++) worst = Math.max(worst, Math.abs(all[i] - (i < 300 ? first[i] : rest[i - 300])));
    expect(worst).toBeLessThan(1e-6);
  });
});
