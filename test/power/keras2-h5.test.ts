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
import { initBackend, tf } from '../../kernel-lib/src/backend';
import { buildKerasModel, parseKerasModelConfig } from '../../kernel-lib/src/power/keras-h5';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/shared';

const CONFIG = {
  class_name: 'Sequential',
  config: {
    name: 'sequential_1',
    layers: [
      { class_name: 'LSTM', config: { name: 'lstm_1', batch_input_shape: [null, 20, 6], units: 8, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, return_sequences: false } },
      { class_name: 'RepeatVector', config: { name: 'repeat_vector_1', n: 20 } },
      { class_name: 'LSTM', config: { name: 'lstm_2', units: 8, return_sequences: true } },
      { class_name: 'TimeDistributed', config: { name: 'time_distributed_1', layer: { class_name: 'Dense', config: { name: 'dense_1', units: 6, activation: 'linear' } } } },
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
    const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => {
      const ws = l.getWeights();
      expected[l.name] = ws.reduce((s, w) => s + (tf.sum(tf.abs(w)).dataSync()[0]), 0);
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
    const info = JSON.parse(r.stdout) as { input_shape: unknown; layers: Array<{ name: string; weight_abs_sum: number; weight_shapes: number[][] }> };
    expect(info.input_shape).toEqual([null, 20, 6]);
    for (const l of info.layers) {
      if (!(l.name in expected)) continue;
      expect(Math.abs(l.weight_abs_sum - expected[l.name])).toBeLessThan(1e-3 * Math.max(1, expected[l.name]));
    }
    expect(info.layers.find((l) => l.name === 'lstm_1')!.weight_shapes).toEqual([[6, 32], [8, 32], [32]]);
  });
});
