/**
 * Functional Keras graphs to ONNX (exportKerasGraphOnnx): a two-input model with the seed
 * transformer fault classifier's layer kinds (MultiHeadAttention, LayerNormalization, Add,
 * GlobalAveragePooling1D, Concatenate, Dense relu/softmax, Dropout) equals tfjs's predict within
 * 1e-5 in onnxruntime-node at batch 1 and 4; the seed's own classifier (../shared, loaded in a
 * child process: h5wasm cannot load inside jest) too; an unsupported layer is named.
 */
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { createOnnxSession, loadOnnxRuntime, describeOnnxModel } from 'anomaly-lab/onnx';
import { KerasMultiHeadAttention, exportKerasGraphOnnx } from 'anomaly-lab/power';
import { REPO_ROOT, describeShared, sharedPath } from '../helpers/shared';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

function classifierLike(): tf.LayersModel {
  const seq = tf.input({ shape: [12, 6], name: 'sequence_input' });
  const feat = tf.input({ shape: [9], name: 'feature_input' });
  const att = new KerasMultiHeadAttention({ name: 'mha', numHeads: 4, keyDim: 8, valueDim: 8, useBias: true }).apply([
    seq,
    seq,
  ]) as tf.SymbolicTensor;
  const x1 = tf.layers
    .layerNormalization({ epsilon: 1e-6, name: 'ln1' })
    .apply(tf.layers.add({ name: 'add1' }).apply([seq, att])) as tf.SymbolicTensor;
  const ff = tf.layers
    .dense({ units: 6, name: 'ff2' })
    .apply(tf.layers.dense({ units: 16, activation: 'relu', name: 'ff1' }).apply(x1)) as tf.SymbolicTensor;
  const x2 = tf.layers
    .layerNormalization({ epsilon: 1e-6, name: 'ln2' })
    .apply(tf.layers.add({ name: 'add2' }).apply([x1, ff])) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(x2) as tf.SymbolicTensor;
  const f = tf.layers.dense({ units: 8, activation: 'relu', name: 'feat_dense' }).apply(feat) as tf.SymbolicTensor;
  const c = tf.layers.concatenate({ name: 'concat' }).apply([pooled, f]) as tf.SymbolicTensor;
  const h = tf.layers
    .dropout({ rate: 0.3, name: 'drop' })
    .apply(tf.layers.dense({ units: 10, activation: 'relu', name: 'h' }).apply(c)) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', name: 'probs' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: [seq, feat], outputs: out });
}

test('two-input transformer classifier graph: onnxruntime equals predict within 1e-5 (batch 1 and 4)', async () => {
  const model = classifierLike();
  try {
    const bytes = exportKerasGraphOnnx(model);
    const s = describeOnnxModel(bytes, 'mem');
    expect(s.inputs).toEqual([
      { name: 'sequence_input', shape: ['batch', 12, 6] },
      { name: 'feature_input', shape: ['batch', 9] },
    ]);
    expect(s.outputs).toEqual([{ name: 'output_0', shape: ['batch', 5] }]);
    const ort = loadOnnxRuntime();
    if (!ort) throw new Error('onnxruntime-node must load here');
    const session = await createOnnxSession(bytes, 'mem', 1);
    for (const b of [1, 4]) {
      const seq = tf.randomNormal([b, 12, 6], 0, 1, 'float32', b);
      const feat = tf.randomNormal([b, 9], 0, 1, 'float32', 10 + b);
      const want = (model.predict([seq, feat]) as tf.Tensor).dataSync();
      const r = await session.run({
        sequence_input: new ort.Tensor('float32', seq.dataSync() as Float32Array, [b, 12, 6]),
        feature_input: new ort.Tensor('float32', feat.dataSync() as Float32Array, [b, 9]),
      });
      const got = r.output_0.data as Float32Array;
      expect(got.length).toBe(b * 5);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThan(1e-5);
      tf.dispose([seq, feat]);
    }
    await session.release();
  } finally {
    model.dispose();
  }
});

test('an unsupported layer in a graph is named', () => {
  const x = tf.input({ shape: [8, 2], name: 'x' });
  const y = tf.layers.conv1d({ filters: 2, kernelSize: 3, name: 'odd_conv' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: y });
  try {
    expect(() => exportKerasGraphOnnx(model)).toThrow("ONNX export: layer 'odd_conv' (Conv1D) is not supported");
  } finally {
    model.dispose();
  }
});

describeShared('the seed transformer fault classifier in onnxruntime', () => {
  test('exported, it equals tfjs predict within 1e-5 on standard-normal inputs (child process: h5wasm)', () => {
    const dir = sharedPath('data/power-system/seed-models/classifier_transformer');
    const script = `
      const lib = require('anomaly-lab');
      const ort = require('onnxruntime-node');
      const tf = require('@tensorflow/tfjs');
      (async () => {
        await lib.initBackend({ backend: 'wasm', log: false });
        const clf = await lib.power.loadTransformerClassifier(${JSON.stringify(dir)});
        const bytes = lib.power.exportKerasGraphOnnx(clf.model);
        const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
        const B = 3, L = clf.sequenceLength, F = clf.nFeatures;
        const seq = tf.randomNormal([B, L, 6], 0, 1, 'float32', 1), feat = tf.randomNormal([B, F], 0, 1, 'float32', 2);
        const want = clf.model.predict([seq, feat]).dataSync();
        const names = s.inputNames;
        const r = await s.run({ [names[0]]: new ort.Tensor('float32', seq.dataSync(), [B, L, 6]), [names[1]]: new ort.Tensor('float32', feat.dataSync(), [B, F]) });
        const got = r[s.outputNames[0]].data;
        let worst = 0; for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        console.log(JSON.stringify({ worst, n: got.length, inputs: names, L, F }));
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
      worst: number;
      n: number;
      inputs: string[];
      L: number;
      F: number;
    };
    expect(out.n).toBe(3 * 5);
    expect(out.L).toBe(128);
    expect(out.F).toBe(57);
    expect(out.worst).toBeLessThan(1e-5);
  });
});
