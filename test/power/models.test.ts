/**
 * Model files: Keras .h5 parsing (Keras 2 and 3 layouts), unsupported layers, truncated files,
 * our detector directory round trip, detector/data shape mismatch, non-allowlisted pickles.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import {
  buildKerasModel,
  loadKerasH5,
  parseKerasModelConfig,
  loadDetector,
  saveDetector,
  compileRecurrentInference,
  loadPowerScaler,
  createLstmAutoencoder,
  detectAnomalies,
  generatePowerData,
  powerDataToCsv,
} from 'anomaly-lab/power';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';

const SEED_H5 = 'data/power-system/seed-models/detector/lstm_autoencoder_anomaly_detection.h5';

/** A Keras 2.x Sequential config (batch_input_shape on the first layer, nested inbound lists absent). */
const KERAS2_SEQUENTIAL = JSON.stringify({
  class_name: 'Sequential',
  config: {
    name: 'sequential',
    layers: [
      {
        class_name: 'LSTM',
        config: {
          name: 'lstm',
          batch_input_shape: [null, 20, 6],
          units: 8,
          activation: 'tanh',
          recurrent_activation: 'hard_sigmoid',
          use_bias: true,
          return_sequences: false,
          unit_forget_bias: true,
        },
      },
      { class_name: 'RepeatVector', config: { name: 'rv', n: 20 } },
      {
        class_name: 'LSTM',
        config: { name: 'lstm_1', units: 8, activation: 'tanh', recurrent_activation: 'sigmoid', return_sequences: true },
      },
      { class_name: 'Dropout', config: { name: 'drop', rate: 0.2 } },
      {
        class_name: 'TimeDistributed',
        config: { name: 'td', layer: { class_name: 'Dense', config: { name: 'dense', units: 6, activation: 'linear' } } },
      },
    ],
  },
});

/** A Keras 2 functional config: inbound_nodes as [[[name, 0, 0, {}]]]. */
const KERAS2_FUNCTIONAL = JSON.stringify({
  class_name: 'Model',
  config: {
    name: 'm',
    layers: [
      { class_name: 'InputLayer', name: 'in', config: { batch_input_shape: [null, 10, 6], name: 'in' }, inbound_nodes: [] },
      {
        class_name: 'Bidirectional',
        name: 'bi',
        config: {
          name: 'bi',
          merge_mode: 'concat',
          layer: { class_name: 'LSTM', config: { name: 'l', units: 4, return_sequences: true } },
        },
        inbound_nodes: [[['in', 0, 0, {}]]],
      },
      {
        class_name: 'TimeDistributed',
        name: 'td',
        config: { name: 'td', layer: { class_name: 'Dense', config: { name: 'd', units: 6 } } },
        inbound_nodes: [[['bi', 0, 0, {}]]],
      },
    ],
    input_layers: [['in', 0, 0]],
    output_layers: [['td', 0, 0]],
  },
});

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

describe('Keras model_config parsing', () => {
  test('Keras 2 Sequential with batch_input_shape and hard_sigmoid builds (20, 6) → (20, 6)', () => {
    const info = parseKerasModelConfig(KERAS2_SEQUENTIAL, 'k2.h5');
    expect(info.kind).toBe('Sequential');
    const m = buildKerasModel(info, 'k2.h5');
    expect(m.inputs[0].shape).toEqual([null, 20, 6]);
    expect(m.outputs[0].shape).toEqual([null, 20, 6]);
    expect(m.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'LSTM', 'RepeatVector', 'LSTM', 'Dropout', 'TimeDistributed']);
    m.dispose();
  });

  test('Keras 2 functional (nested inbound lists) with Bidirectional concat', () => {
    const m = buildKerasModel(parseKerasModelConfig(KERAS2_FUNCTIONAL, 'k2f.h5'), 'k2f.h5');
    expect(m.layers[1].outputShape).toEqual([null, 10, 8]);
    expect(m.outputs[0].shape).toEqual([null, 10, 6]);
    m.dispose();
  });

  test('an unsupported layer is named with its class', () => {
    const cfg = JSON.parse(KERAS2_SEQUENTIAL);
    cfg.config.layers.splice(1, 0, { class_name: 'Conv1D', config: { name: 'conv_x', filters: 4, kernel_size: 3 } });
    expect(() => buildKerasModel(parseKerasModelConfig(JSON.stringify(cfg), 'conv.h5'), 'conv.h5')).toThrow(
      /conv\.h5: layer 'conv_x' has unsupported class 'Conv1D'/,
    );
  });

  test('invalid JSON and unknown model classes are reported', () => {
    expect(() => parseKerasModelConfig('{nope', 'x.h5')).toThrow(/x\.h5: model_config is not valid JSON/);
    expect(() => parseKerasModelConfig(JSON.stringify({ class_name: 'Subclassed', config: {} }), 'x.h5')).toThrow(
      /unsupported model class 'Subclassed'/,
    );
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-models-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a file that is not HDF5 is rejected by name', async () => {
    const f = path.join(dir, 'fake.h5');
    fs.writeFileSync(f, 'not an hdf5 file at all');
    await expect(loadKerasH5(f)).rejects.toThrow(`${f}: not an HDF5 file`);
  });

  test('detector directory round trip keeps predictions; a truncated weights.bin is caught', async () => {
    const model = createLstmAutoencoder({ sequenceLength: 12, units: [4, 2], bidirectional: true, seed: 3 });
    const target = path.join(dir, 'det');
    await saveDetector(target, model, { scaler: { mean: [0, 0, 0, 0, 0, 0], scale: [1, 1, 1, 1, 1, 1] }, origin: 'test' });
    const loaded = await loadDetector(target);
    expect(loaded.sequenceLength).toBe(12);
    expect(Array.from(loaded.scaler!.scale)).toEqual([1, 1, 1, 1, 1, 1]);
    const x = tf.randomNormal([3, 12, 6], 0, 1, 'float32', 5) as tf.Tensor3D;
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.model.predict(x) as tf.Tensor;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    // The time-major fast path computes the same function as tf.layers.
    const fast = compileRecurrentInference(loaded.model)!;
    const c = fast.run(x);
    const diff = tf.max(tf.abs(tf.sub(a, c)));
    expect((await diff.data())[0]).toBeLessThan(1e-5);
    fast.dispose();
    tf.dispose([x, a, b, c, diff]);
    model.dispose();
    loaded.model.dispose();
    const bin = path.join(target, 'weights.bin');
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 100));
    await expect(loadDetector(target)).rejects.toThrow(/truncated or mismatched weights\.bin/);
  });

  test('a pickle naming a non-allowlisted global is refused, not executed', async () => {
    const f = path.join(dir, 'evil.joblib');
    // PROTO 2, GLOBAL 'os system', MARK, STRING 'echo pwned', TUPLE, REDUCE, STOP
    fs.writeFileSync(f, Buffer.from("\x80\x02cos\nsystem\n(S'echo pwned'\ntR.", 'latin1'));
    await expect(loadPowerScaler(f)).rejects.toThrow(/os\.system|not allowed|allowlist/i);
    const r = runCli(['power', 'detect', '--data', 'unused.csv', '--detector', 'unused.h5', '--scaler', f, '--out', path.join(dir, 'o')]);
    expect(r.code).not.toBe(0);
  });
});

describeShared('seed detector file', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-h5-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // h5wasm is ESM with import.meta (jest's CommonJS runtime cannot load it): .h5 files are
  // exercised through the real CLI.
  test('Keras 3 functional .h5 imports with its weights (input (50, 6), 8 LSTMs)', () => {
    const r = runCli(['power', 'inspect', '--detector', sharedPath(SEED_H5), '--backend', 'wasm']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as {
      input_shape: unknown;
      output_shape: unknown;
      sequence_length: number;
      layers: Array<{ name: string; class_name: string; weight_shapes: number[][]; weight_abs_sum: number }>;
    };
    expect(info.input_shape).toEqual([null, 50, 6]);
    expect(info.output_shape).toEqual([null, 50, 6]);
    expect(info.layers.map((l) => l.class_name)).toEqual([
      'InputLayer',
      'Bidirectional',
      'Bidirectional',
      'RepeatVector',
      'Bidirectional',
      'Bidirectional',
      'TimeDistributed',
    ]);
    const bi = info.layers.find((l) => l.name === 'bidirectional_8')!;
    expect(bi.weight_shapes).toEqual([[6, 128], [32, 128], [128], [6, 128], [32, 128], [128]]);
    // Trained values arrived (import builds with zero initialisers).
    for (const l of info.layers.filter((x) => x.weight_shapes.length)) expect(l.weight_abs_sum).toBeGreaterThan(1);
  });

  test('a truncated .h5 gives a clear error naming the file', () => {
    const bytes = fs.readFileSync(sharedPath(SEED_H5));
    for (const keep of [0.5, 0.05]) {
      const f = path.join(dir, `trunc-${keep}.h5`);
      fs.writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length * keep)));
      const r = runCli(['power', 'inspect', '--detector', f, '--backend', 'wasm']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${f}: `);
      expect(r.stderr).toMatch(/truncated|corrupt/);
    }
  });

  test('detector input shape vs data: a sequence length the model was not built for is refused', async () => {
    const model = createLstmAutoencoder({ sequenceLength: 50, units: [4, 2], bidirectional: false });
    const g = generatePowerData({ seed: 2, duration: 0.05, sampleRate: 2000, nFaults: 0 });
    const scaler = { mean: new Float64Array(6), scale: new Float64Array(6).fill(1) };
    await expect(detectAnomalies(g.data, model, scaler, { sequenceLength: 40 })).rejects.toThrow(
      /expects windows of 50 samples, but the sequence length is 40/,
    );
    model.dispose();
    const r = runCli([
      'power',
      'detect',
      '--data',
      writeCsv(dir, g),
      '--detector',
      sharedPath(SEED_H5),
      '--scaler',
      sharedPath('data/power-system/seed-models/detector/scaler.save'),
      '--sequence_length',
      '40',
      '--out',
      path.join(dir, 'o'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/detector: expects windows of 50 samples, but the sequence length is 40 \(use --sequence_length 50\)/);
  });
});

function writeCsv(dir: string, g: ReturnType<typeof generatePowerData>): string {
  const f = path.join(dir, 'small.csv');
  fs.writeFileSync(f, powerDataToCsv(g.data));
  return f;
}
