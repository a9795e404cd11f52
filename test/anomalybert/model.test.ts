/**
 * Model mechanics on the wasm backend (the fast one here): the gather-free relative position bias
 * against its definition, dropout only in training, the original's initialisation, gradients for
 * every parameter on wasm, tensor hygiene, variable selection, embedding re-initialisation, and the
 * estimation edge case the original leaves NaN.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import {
  AnomalyBert,
  estimateScores,
  predictWindows,
  slidingWindowSchedule,
  type AnomalyBertConfig,
  relativePositionBias,
} from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';
// direct import (not the package): the attention module's wasm fast-path switch is an internal detail this test pins down
import { usesPerHeadAttention } from '../../kernel-lib/src/anomalybert/attention';
import { randomValues } from '../helpers/numeric';

const SMALL: AnomalyBertConfig = { inputDim: 3, outputDim: 1, patchSize: 4, nTokens: 5, dEmbed: 16, nLayer: 2, nHead: 4, dropout: 0.3 };

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

test('relative position bias equals table[i − j + N − 1, h] for every i, j, h', () => {
  for (const [n, h] of [
    [1, 2],
    [5, 3],
    [16, 8],
  ]) {
    const tableValues = randomValues((2 * n - 1) * h, n);
    const bias = tf.tidy(() => relativePositionBias(tf.tensor2d(tableValues, [2 * n - 1, h]), n));
    expect(bias.shape).toEqual([h, n, n]);
    const got = bias.dataSync();
    bias.dispose();
    for (let k = 0; k < h; k++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) expect(got[(k * n + i) * n + j]).toBe(tableValues[(i - j + n - 1) * h + k]);
      }
    }
  }
});

test('dropout acts only in training; a dropout seed makes it reproducible', () => {
  const model = AnomalyBert.create(SMALL, { seed: 1 });
  try {
    const x = tf.tensor3d(randomValues(2 * 20 * 3, 2), [2, 20, 3]);
    const run = (opts?: Parameters<AnomalyBert['apply']>[1]): Float32Array => {
      const y = model.apply(x, opts);
      const v = y.dataSync() as Float32Array;
      y.dispose();
      return v;
    };
    const evalA = run();
    const evalB = run({ training: false });
    expect(Array.from(evalB)).toEqual(Array.from(evalA));
    const trainA = run({ training: true, dropoutSeed: 7 });
    const trainB = run({ training: true, dropoutSeed: 7 });
    const trainC = run({ training: true, dropoutSeed: 8 });
    expect(Array.from(trainB)).toEqual(Array.from(trainA));
    expect(trainA.some((v, i) => Math.abs(v - evalA[i]) > 1e-4)).toBe(true);
    expect(trainC.some((v, i) => Math.abs(v - trainA[i]) > 1e-4)).toBe(true);
    x.dispose();
  } finally {
    model.dispose();
  }
});

test('initialisation follows the original: xavier-uniform matrices, zero biases, LayerNorm ones, deep-copied layers', () => {
  const model = AnomalyBert.create({ ...SMALL, dEmbed: 32, nLayer: 3 }, { seed: 5 });
  const independent = AnomalyBert.create({ ...SMALL, dEmbed: 32, nLayer: 3 }, { seed: 5, identicalLayers: false });
  try {
    const sd = model.toStateDict();
    for (const [name, t] of sd) {
      if (name.endsWith('.bias')) expect(t.data.every((v) => v === 0)).toBe(true);
      else if (name.includes('norm_layers')) expect(t.data.every((v) => v === 1)).toBe(true);
      else {
        // torch xavier_uniform_: U(−a, a), a = √(6 / (fan_in + fan_out)), fan_in = shape[1]
        const a = Math.sqrt(6 / (t.shape[0] + t.shape[1]));
        let sq = 0;
        let maxAbs = 0;
        for (const v of t.data) {
          maxAbs = Math.max(maxAbs, Math.abs(v));
          sq += v * v;
        }
        expect(maxAbs).toBeLessThanOrEqual(a);
        if (t.data.length >= 500) expect(Math.sqrt(sq / t.data.length) / (a / Math.sqrt(3))).toBeGreaterThan(0.9);
      }
    }
    const l0 = sd.get('transformer_encoder.encoder_layers.0.attention_layer.word_fc_layers.1.weight')!.data;
    const l2 = sd.get('transformer_encoder.encoder_layers.2.attention_layer.word_fc_layers.1.weight')!.data;
    expect(Array.from(l2)).toEqual(Array.from(l0));
    const other = independent.toStateDict().get('transformer_encoder.encoder_layers.2.attention_layer.word_fc_layers.1.weight')!.data;
    expect(Array.from(other)).not.toEqual(Array.from(l0));
  } finally {
    model.dispose();
    independent.dispose();
  }
});

test('every parameter gets a finite non-zero gradient on wasm and the tensor count stays flat over training steps', () => {
  const model = AnomalyBert.create(SMALL, { seed: 2, identicalLayers: false });
  try {
    const x = tf.tensor3d(randomValues(4 * 20 * 3, 3), [4, 20, 3]);
    const labels = tf.tensor3d(
      Float32Array.from(randomValues(4 * 20, 4), (v) => (v > 0.8 ? 1 : 0)),
      [4, 20, 1],
    );
    const vars = model.trainableVariables();
    const { grads, value } = tf.variableGrads(
      () => tf.losses.sigmoidCrossEntropy(labels, model.apply(x, { training: true, dropoutSeed: 1 })) as tf.Scalar,
      vars,
    );
    expect(Object.keys(grads).length).toBe(vars.length);
    for (const v of vars) {
      const g = grads[v.name].dataSync();
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.some((e) => e !== 0)).toBe(true);
    }
    tf.dispose([value, ...Object.values(grads)]);
    const opt = tf.train.sgd(0.01);
    const counts: number[] = [];
    for (let step = 0; step < 4; step++) {
      const loss = opt.minimize(() => tf.losses.sigmoidCrossEntropy(labels, model.apply(x, { training: true })) as tf.Scalar, true, vars);
      loss?.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    opt.dispose();
    tf.dispose([x, labels]);
  } finally {
    model.dispose();
  }
});

test('trainableVariables filters by torch name; reinitializeEmbedding swaps only the input embedding', () => {
  const model = AnomalyBert.create(SMALL, { seed: 3 });
  try {
    const names = model.parameterNames();
    expect(names[0]).toBe('linear_embedding.weight');
    const head = model.trainableVariables((n) => n.startsWith('mlp_layers.'));
    expect(head.length).toBe(4);
    expect(model.trainableVariables().length).toBe(names.length);
    const encoderBefore = model.variable('transformer_encoder.encoder_layers.1.feed_forward_layer.first_fc_layer.weight');
    const encoderValues = Array.from(encoderBefore.dataSync());
    const tensorsBefore = tf.memory().numTensors;

    model.reinitializeEmbedding(7, 11);
    expect(model.config.inputDim).toBe(7);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // old embedding freed
    expect(model.variable('linear_embedding.weight').shape).toEqual([SMALL.patchSize * 7, SMALL.dEmbed]); // [in, out]
    expect(model.parameterNames()).toEqual(names);
    const encoderAfter = model.variable('transformer_encoder.encoder_layers.1.feed_forward_layer.first_fc_layer.weight');
    expect(encoderAfter).toBe(encoderBefore);
    expect(Array.from(encoderAfter.dataSync())).toEqual(encoderValues);
    const sd = model.toStateDict();
    expect(sd.get('linear_embedding.weight')!.shape).toEqual([SMALL.dEmbed, SMALL.patchSize * 7]); // torch layout
    expect(sd.get('linear_embedding.bias')!.data.every((v) => v === 0)).toBe(true);

    const y = model.apply(tf.zeros([1, 20, 7]) as tf.Tensor3D);
    expect(y.shape).toEqual([1, 20, 1]);
    y.dispose();
    expect(() => model.apply(tf.zeros([1, 20, 3]) as tf.Tensor3D)).toThrow('model expects 7 input columns, got 3');
    expect(() => model.apply(tf.zeros([1, 16, 7]) as tf.Tensor3D)).toThrow("window length 16 does not match the model's 20");
    expect(() => model.apply(tf.zeros([20, 7]) as unknown as tf.Tensor3D)).toThrow('input must be (n, window, columns)');
  } finally {
    model.dispose();
  }
  expect(() => model.apply(tf.zeros([1, 20, 7]) as tf.Tensor3D)).toThrow('disposed');
});

test('estimateScores fills only the tail the original leaves unscored (phase 1 ending at the last window)', async () => {
  const model = AnomalyBert.create({ ...SMALL, dropout: 0.1 }, { seed: 4, identicalLayers: false });
  try {
    const w = model.windowSize; // 20
    const n = 2;
    const s = 5;
    const length = 2 * n * w + w - 1; // last = length − W + 1 = 2·n·W: phase 2 is empty
    const values = randomValues(length * 3, 5);
    const scores = await estimateScores(model, values, length, { batchSize: n, windowSliding: s });
    expect(scores.every(Number.isFinite)).toBe(true);

    // Oracle: the original's averaging over its own schedule, from independent window predictions.
    const sums = new Float64Array(length);
    const counts = new Int32Array(length);
    for (const batch of slidingWindowSchedule(length, w, n, s)) {
      for (const start of batch) {
        const logits = await predictWindows(model, values.subarray(start * 3, (start + w) * 3), 1);
        for (let j = 0; j < w; j++) {
          sums[start + j] += 1 / (1 + Math.exp(-logits[j]));
          counts[start + j]++;
        }
      }
    }
    const lastLogits = await predictWindows(model, values.subarray((length - w) * 3), 1);
    let uncovered = 0;
    for (let t = 0; t < length; t++) {
      const expected = counts[t] > 0 ? sums[t] / counts[t] : 1 / (1 + Math.exp(-lastLogits[t - (length - w)]));
      if (counts[t] === 0) uncovered++;
      expect(Math.abs(scores[t] - expected)).toBeLessThan(1e-6);
    }
    expect(uncovered).toBe(s - 1);
  } finally {
    model.dispose();
  }
});

test('estimateScores and predictWindows reject bad series with the problem named', async () => {
  const model = AnomalyBert.create(SMALL, { seed: 6 });
  try {
    await expect(estimateScores(model, new Float32Array(100 * 4), 100)).rejects.toThrow(
      'the model expects 3 input columns, the series has 4',
    );
    const withNaN = randomValues(100 * 3, 1);
    withNaN[42 * 3 + 2] = NaN;
    await expect(estimateScores(model, withNaN, 100, { windowSliding: 5 })).rejects.toThrow('non-finite value (NaN) at row 42, column 2');
    await expect(estimateScores(model, new Float32Array(10 * 3), 10, { windowSliding: 5 })).rejects.toThrow(
      '10 points, fewer than one window (20 points)',
    );
    await expect(estimateScores(model, new Float32Array(100 * 3), 100, { windowSliding: 3 })).rejects.toThrow(
      "'windowSliding' 3 must divide the window size 20",
    );
    await expect(predictWindows(model, new Float32Array(2 * 20 * 4), 2)).rejects.toThrow('2 windows of 20 points × 3 columns need 120');
  } finally {
    model.dispose();
  }
});

test('long windows on wasm (per-head attention path) agree with the cpu backend, in inference and training', async () => {
  // 256 tokens × d_k 32 takes the per-(window, head) path on wasm; cpu always runs batched products.
  const config: AnomalyBertConfig = { inputDim: 2, outputDim: 1, patchSize: 1, nTokens: 256, dEmbed: 64, nLayer: 1, nHead: 2, dropout: 0 };
  const model = AnomalyBert.create(config, { seed: 8, identicalLayers: false });
  try {
    const sd = model.toStateDict();
    const rng = createRng(9);
    for (const t of sd.values()) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.05 * rng.normal();
    model.loadStateDict(sd);
    const values = randomValues(2 * 256 * 2, 10);
    expect(usesPerHeadAttention(256, 32)).toBe(true);
    const wasmEval = await predictWindows(model, values, 2);
    const x = tf.tensor3d(values, [2, 256, 2]);
    const trainOut = model.apply(x, { training: true }); // dropout 0: the differentiable slice path
    const wasmTrain = trainOut.dataSync();
    trainOut.dispose();
    const grads = tf.variableGrads(() => tf.sum(model.apply(x, { training: true })) as tf.Scalar, model.trainableVariables());
    for (const g of Object.values(grads.grads)) expect(g.dataSync().every(Number.isFinite)).toBe(true);
    tf.dispose([grads.value, ...Object.values(grads.grads)]);

    await initBackend({ backend: 'cpu', log: false });
    expect(usesPerHeadAttention(256, 32)).toBe(false);
    const cpuEval = await predictWindows(model, values, 2);
    await initBackend({ backend: 'wasm', log: false });
    x.dispose();
    let maxEval = 0;
    let maxTrain = 0;
    for (let i = 0; i < cpuEval.length; i++) {
      maxEval = Math.max(maxEval, Math.abs(wasmEval[i] - cpuEval[i]));
      maxTrain = Math.max(maxTrain, Math.abs(wasmTrain[i] - cpuEval[i]));
    }
    expect(maxEval).toBeLessThan(1e-5);
    expect(maxTrain).toBeLessThan(1e-5);
  } finally {
    model.dispose();
  }
});

test('divisions are estimated independently, like the original data divisions', async () => {
  const model = AnomalyBert.create(SMALL, { seed: 13, identicalLayers: false });
  try {
    const length = 130;
    const values = randomValues(length * 3, 14);
    const divisions: Array<[number, number]> = [
      [0, 47],
      [50, 130],
    ];
    const scores = await estimateScores(model, values, length, { batchSize: 2, windowSliding: 4, divisions });
    for (const [a, b] of divisions) {
      const alone = await estimateScores(model, values.slice(a * 3, b * 3), b - a, { batchSize: 2, windowSliding: 4 });
      expect(Array.from(scores.subarray(a, b))).toEqual(Array.from(alone));
    }
    expect(Array.from(scores.subarray(47, 50))).toEqual([0, 0, 0]); // outside every division: 0, as the original
    await expect(
      estimateScores(model, values, length, {
        divisions: [
          [0, 60],
          [50, 130],
        ],
      }),
    ).rejects.toThrow('sorted, non-overlapping');
    await expect(
      estimateScores(model, values, length, {
        windowSliding: 4,
        divisions: [
          [0, 10],
          [10, 130],
        ],
      }),
    ).rejects.toThrow('division [0, 10): the series has 10 points, fewer than one window (20 points)');
  } finally {
    model.dispose();
  }
});

test("wasm Slice (backend.ts's heap-view kernel, used by the per-head attention) matches cpu, gradient included", async () => {
  const rng = createRng(15);
  const cases = Array.from({ length: 60 }, () => {
    const rank = rng.int(1, 5);
    const shape = Array.from({ length: rank }, () => rng.int(1, 6));
    const begin = shape.map((d) => rng.int(0, d));
    const size = shape.map((d, i) => (rng.uniform() < 0.2 ? -1 : rng.int(1, d - begin[i] + 1)));
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, begin, size, values: randomValues(n, rng.int(0, 1000)) };
  });
  const run = (): string[] =>
    cases.map((c) => JSON.stringify(tf.tidy(() => tf.slice(tf.tensor(c.values, c.shape), c.begin, c.size).arraySync())));
  const grad = (): number[] =>
    tf.tidy(() =>
      Array.from(
        tf
          .grad((v: tf.Tensor) => tf.sum(tf.mul(tf.slice(v, [1, 2, 0], [2, 3, 3]), tf.range(1, 10).reshape([1, 3, 3]))))(tf.ones([4, 6, 3]))
          .dataSync(),
      ),
    );
  const onWasm = run();
  const gradWasm = grad();
  await initBackend({ backend: 'cpu', log: false });
  const onCpu = run();
  const gradCpu = grad();
  await initBackend({ backend: 'wasm', log: false });
  expect(onWasm).toEqual(onCpu);
  expect(gradWasm).toEqual(gradCpu);
});
