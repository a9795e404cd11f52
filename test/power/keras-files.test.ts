/**
 * A Keras 2 style HDF5 file (root `model_config`, `model_weights/<layer>` groups with
 * `weight_names`, `:0` dataset suffixes, Sequential with batch_input_shape) written with h5wasm,
 * then imported by the real CLI: the weights must land in the right layers.
 * (h5wasm is ESM with import.meta, so writing happens in a child `node` process.)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { buildKerasModel, parseKerasModelConfig } from 'anomaly-lab/power';
import { strToU8, zipSync } from 'fflate';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/shared';

const CONFIG = {
  class_name: 'Sequential',
  config: {
    name: 'sequential_1',
    layers: [
      {
        class_name: 'LSTM',
        config: {
          name: 'lstm_1',
          batch_input_shape: [null, 20, 6],
          units: 8,
          activation: 'tanh',
          recurrent_activation: 'sigmoid',
          use_bias: true,
          return_sequences: false,
        },
      },
      { class_name: 'RepeatVector', config: { name: 'repeat_vector_1', n: 20 } },
      { class_name: 'LSTM', config: { name: 'lstm_2', units: 8, return_sequences: true } },
      {
        class_name: 'TimeDistributed',
        config: { name: 'time_distributed_1', layer: { class_name: 'Dense', config: { name: 'dense_1', units: 6, activation: 'linear' } } },
      },
    ],
  },
};

const WRITER = `
import h5wasm from 'h5wasm/node';
import * as fs from 'fs';
await h5wasm.ready;
const spec = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const f = new h5wasm.File(spec.out, 'w');
f.create_attribute('keras_version', '2.4.0');
f.create_attribute('backend', 'tensorflow');
f.create_attribute('model_config', spec.config);
const mw = f.create_group('model_weights');
mw.create_attribute('layer_names', spec.layers.map((l) => l.name));
for (const l of spec.layers) {
  const g = mw.create_group(l.name);
  if (l.weights.length) g.create_attribute('weight_names', l.weights.map((w) => w.name));
  for (const w of l.weights) {
    // Keras nests weight datasets under sub-groups named by the path.
    const parts = w.name.split('/');
    let parent = g;
    for (const part of parts.slice(0, -1)) parent = parent.keys().includes(part) ? parent.get(part) : parent.create_group(part);
    parent.create_dataset({ name: parts[parts.length - 1], data: Float32Array.from(w.data), shape: w.shape, dtype: '<f' });
  }
}
f.close();
`;

/** Writes datasets at slash paths (creating groups) into a fresh HDF5 file. */
const PATH_WRITER = `
import h5wasm from 'h5wasm/node';
import * as fs from 'fs';
await h5wasm.ready;
const spec = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const f = new h5wasm.File(spec.out, 'w');
for (const d of spec.datasets) {
  const parts = d.path.split('/');
  let g = f;
  for (const part of parts.slice(0, -1)) g = g.keys().includes(part) ? g.get(part) : g.create_group(part);
  g.create_dataset({ name: parts[parts.length - 1], data: Float32Array.from(d.data), shape: d.shape, dtype: '<f' });
}
f.close();
`;

/** Keras 3 functional config as in config.json of a .keras archive (seed-like, smaller). */
const KERAS3_CONFIG = {
  module: 'keras.src.models.functional',
  class_name: 'Functional',
  config: {
    name: 'functional',
    layers: [
      {
        module: 'keras.layers',
        class_name: 'InputLayer',
        config: { batch_shape: [null, 12, 6], dtype: 'float32', name: 'input_layer' },
        name: 'input_layer',
        inbound_nodes: [],
      },
      {
        module: 'keras.layers',
        class_name: 'Bidirectional',
        name: 'bidirectional',
        config: {
          name: 'bidirectional',
          merge_mode: 'concat',
          layer: { module: 'keras.layers', class_name: 'LSTM', config: { name: 'forward_lstm', units: 4, return_sequences: false } },
          backward_layer: {
            module: 'keras.layers',
            class_name: 'LSTM',
            config: { name: 'backward_lstm', units: 4, return_sequences: false, go_backwards: true },
          },
        },
        inbound_nodes: [
          {
            args: [{ class_name: '__keras_tensor__', config: { shape: [null, 12, 6], keras_history: ['input_layer', 0, 0] } }],
            kwargs: { mask: null },
          },
        ],
      },
      {
        module: 'keras.layers',
        class_name: 'RepeatVector',
        name: 'repeat_vector',
        config: { name: 'repeat_vector', n: 12 },
        inbound_nodes: [
          { args: [{ class_name: '__keras_tensor__', config: { shape: [null, 8], keras_history: ['bidirectional', 0, 0] } }], kwargs: {} },
        ],
      },
      {
        module: 'keras.layers',
        class_name: 'LSTM',
        name: 'lstm',
        config: { name: 'lstm', units: 5, return_sequences: true },
        inbound_nodes: [
          {
            args: [{ class_name: '__keras_tensor__', config: { shape: [null, 12, 8], keras_history: ['repeat_vector', 0, 0] } }],
            kwargs: {},
          },
        ],
      },
      {
        module: 'keras.layers',
        class_name: 'TimeDistributed',
        name: 'time_distributed',
        config: { name: 'time_distributed', layer: { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', units: 6 } } },
        inbound_nodes: [
          { args: [{ class_name: '__keras_tensor__', config: { shape: [null, 12, 5], keras_history: ['lstm', 0, 0] } }], kwargs: {} },
        ],
      },
    ],
    input_layers: [['input_layer', 0, 0]],
    output_layers: [['time_distributed', 0, 0]],
  },
};

describe('Keras 3 .keras archive import (weights under layers/<name>/…/vars)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-k3-'));
    await initBackend({ backend: 'wasm', log: false });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('archive config + model.weights.h5 → weights in their layers', () => {
    const model = buildKerasModel(parseKerasModelConfig(JSON.stringify(KERAS3_CONFIG), 'k3'), 'k3', { init: 'random' });
    const varPaths: Record<string, string[]> = {
      bidirectional: [
        'forward_layer/cell/vars/0',
        'forward_layer/cell/vars/1',
        'forward_layer/cell/vars/2',
        'backward_layer/cell/vars/0',
        'backward_layer/cell/vars/1',
        'backward_layer/cell/vars/2',
      ],
      lstm: ['cell/vars/0', 'cell/vars/1', 'cell/vars/2'],
      time_distributed: ['layer/vars/0', 'layer/vars/1'],
    };
    const expected: Record<string, number[]> = {};
    const datasets: Array<{ path: string; shape: number[]; data: number[] }> = [];
    for (const l of model.layers) {
      const ws = l.getWeights();
      if (!ws.length) continue;
      expected[l.name] = ws.map((w) => tf.sum(tf.abs(w)).dataSync()[0]);
      ws.forEach((w, i) =>
        datasets.push({ path: `layers/${l.name}/${varPaths[l.name][i]}`, shape: w.shape, data: Array.from(w.dataSync()) }),
      );
    }
    model.dispose();
    const h5 = path.join(dir, 'model.weights.h5');
    const specFile = path.join(dir, 'spec.json');
    fs.writeFileSync(specFile, JSON.stringify({ out: h5, datasets }));
    const w = spawnSync(process.execPath, ['--input-type=module', '-e', PATH_WRITER, specFile], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(w.stderr).toBe('');
    const archive = path.join(dir, 'detector.keras');
    fs.writeFileSync(
      archive,
      zipSync({
        'config.json': strToU8(JSON.stringify(KERAS3_CONFIG)),
        'metadata.json': strToU8(JSON.stringify({ keras_version: '3.8.0' })),
        'model.weights.h5': new Uint8Array(fs.readFileSync(h5)),
      }),
    );
    const r = runCli(['power', 'inspect', '--detector', archive, '--backend', 'wasm']);
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout) as {
      input_shape: unknown;
      layers: Array<{ name: string; weight_abs_sum: number; weight_shapes: number[][] }>;
    };
    expect(info.input_shape).toEqual([null, 12, 6]);
    for (const [name, sums] of Object.entries(expected)) {
      const got = info.layers.find((l) => l.name === name)!;
      const total = sums.reduce((a, b) => a + b, 0);
      expect(Math.abs(got.weight_abs_sum - total)).toBeLessThan(1e-3 * Math.max(1, total));
    }
    // An archive missing the backward LSTM's vars → a clear error naming the layer.
    const partial = path.join(dir, 'partial.keras');
    const datasets2 = datasets.filter((d) => !d.path.includes('backward_layer'));
    fs.writeFileSync(specFile, JSON.stringify({ out: h5, datasets: datasets2 }));
    spawnSync(process.execPath, ['--input-type=module', '-e', PATH_WRITER, specFile], { cwd: REPO_ROOT, encoding: 'utf8' });
    fs.writeFileSync(
      partial,
      zipSync({ 'config.json': strToU8(JSON.stringify(KERAS3_CONFIG)), 'model.weights.h5': new Uint8Array(fs.readFileSync(h5)) }),
    );
    const bad = runCli(['power', 'inspect', '--detector', partial, '--backend', 'wasm']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${partial}: layer 'bidirectional' has 3 stored weights, the architecture needs 6`);
  });
});

describe('Keras 2 .h5 import (file written with h5wasm)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-k2-'));
    await initBackend({ backend: 'wasm', log: false });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('weights land in their layers', async () => {
    const model = buildKerasModel(parseKerasModelConfig(JSON.stringify(CONFIG), 'k2'), 'k2', { init: 'random' });
    const prefix: Record<string, string[]> = {
      lstm_1: ['lstm_1/lstm_cell_1/kernel:0', 'lstm_1/lstm_cell_1/recurrent_kernel:0', 'lstm_1/lstm_cell_1/bias:0'],
      lstm_2: ['lstm_2/lstm_cell_2/kernel:0', 'lstm_2/lstm_cell_2/recurrent_kernel:0', 'lstm_2/lstm_cell_2/bias:0'],
      time_distributed_1: ['time_distributed_1/kernel:0', 'time_distributed_1/bias:0'],
      repeat_vector_1: [],
    };
    const expected: Record<string, number> = {};
    const layers = model.layers
      .filter((l) => l.getClassName() !== 'InputLayer')
      .map((l) => {
        const ws = l.getWeights();
        expected[l.name] = ws.reduce((s, w) => s + tf.sum(tf.abs(w)).dataSync()[0], 0);
        return { name: l.name, weights: ws.map((w, i) => ({ name: prefix[l.name][i], shape: w.shape, data: Array.from(w.dataSync()) })) };
      });
    const out = path.join(dir, 'k2.h5');
    const specFile = path.join(dir, 'spec.json');
    fs.writeFileSync(specFile, JSON.stringify({ out, config: JSON.stringify(CONFIG), layers }));
    const w = spawnSync(process.execPath, ['--input-type=module', '-e', WRITER, specFile], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(w.stderr).toBe('');
    expect(w.status).toBe(0);
    model.dispose();

    const r = runCli(['power', 'inspect', '--detector', out, '--backend', 'wasm']);
    expect(r.stderr).toBe('');
    const info = JSON.parse(r.stdout) as {
      input_shape: unknown;
      layers: Array<{ name: string; weight_abs_sum: number; weight_shapes: number[][] }>;
    };
    expect(info.input_shape).toEqual([null, 20, 6]);
    for (const l of info.layers) {
      if (!(l.name in expected)) continue;
      expect(Math.abs(l.weight_abs_sum - expected[l.name])).toBeLessThan(1e-3 * Math.max(1, expected[l.name]));
    }
    expect(info.layers.find((l) => l.name === 'lstm_1')!.weight_shapes).toEqual([[6, 32], [8, 32], [32]]);
  });
});
