/**
 * One onnxruntime session per live model (anomalybert/onnx.ts `onnxRunnerFor`): its graph takes
 * the weights as inputs, so when the weights change (training) only the fed weights are refreshed.
 * Checked: the reused session's scores equal a freshly built session's (weights folded in) within
 * 1e-6 after the weights change; a training run with 3 summary steps scoring a test set opens
 * exactly one AnomalyBERT inference session (the library's own counter of
 * `InferenceSession.create` calls, no mock), and the scores it wrote at each summary are those of
 * that step's checkpoint scored afresh.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import {
  AnomalyBert,
  OnnxAnomalyBert,
  estimateScores,
  exportAnomalyBertOnnx,
  loadCheckpoint,
  onnxInferenceSessionsCreated,
  onnxRunnerFor,
} from 'anomaly-lab/anomalybert';
import { MinMaxScaler, readNpy, toFloat32 } from 'anomaly-lab/io';
import { describeOnnxModel } from 'anomaly-lab/onnx';
import { trainAnomalyBert } from 'anomaly-lab/training';
import { maxAbsDiff, randomValues } from '../helpers/numeric';
import { TINY, labelledTestSet, periodicSeries, tmpDir } from '../training/train-helpers';

jest.setTimeout(120000);

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

test('weights-as-inputs export: every parameter is an input under its torch name, nothing else changes', () => {
  const model = AnomalyBert.create(
    { inputDim: 2, outputDim: 1, patchSize: 4, nTokens: 6, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0.1 },
    { seed: 1 },
  );
  try {
    const folded = describeOnnxModel(exportAnomalyBertOnnx(model), 'folded');
    const live = describeOnnxModel(exportAnomalyBertOnnx(model, { weights: 'inputs' }), 'live');
    expect(folded.inputs.map((i) => i.name)).toEqual(['x']);
    expect(live.inputs[0].name).toBe('x');
    expect(live.inputs.map((i) => i.name).sort()).toEqual(['x', ...model.parameterNames()].sort());
    for (const [name, v] of model.namedVariables()) expect(live.inputs.find((i) => i.name === name)?.shape).toEqual(v.shape);
    expect(live.nodes).toBe(folded.nodes);
    expect(live.outputs).toEqual(folded.outputs);
  } finally {
    model.dispose();
  }
});

test('the reused session follows changed weights: equal to a freshly built session within 1e-6', async () => {
  const config = {
    inputDim: 3,
    outputDim: 2,
    patchSize: 4,
    nTokens: 8,
    dEmbed: 32,
    nLayer: 2,
    nHead: 4,
    dropout: 0.1,
    diffScales: [0.05, 0.5, 2],
  };
  const model = AnomalyBert.create(config, { seed: 5 });
  const other = AnomalyBert.create(config, { seed: 6 });
  const W = model.windowSize;
  const k = 3;
  const x = randomValues(k * W * 3, 7);
  const before = onnxInferenceSessionsCreated();
  try {
    const first = await onnxRunnerFor(model, 1);
    const scores0 = await first.run(x, k, 'scores');
    expect(await onnxRunnerFor(model, 1)).toBe(first); // same weights: same runner
    // New weights (as an optimiser step does: assign changes every variable's data id).
    for (const [name, v] of model.namedVariables()) v.assign(other.variable(name));
    const reused = await onnxRunnerFor(model, 1);
    expect(reused).toBe(first);
    expect(onnxInferenceSessionsCreated() - before).toBe(1);
    const got = await reused.run(x, k, 'scores');
    const fresh = await OnnxAnomalyBert.fromModel(model, { threads: 1 });
    try {
      const want = await fresh.run(x, k, 'scores');
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      expect(maxAbsDiff(await reused.run(x, k, 'logits'), await fresh.run(x, k, 'logits'))).toBeLessThan(1e-6);
      // The weights did change the scores (a stale feed would pass the comparison above only by luck).
      expect(maxAbsDiff(scores0, want)).toBeGreaterThan(1e-3);
      // And both are the tfjs forward pass.
      const tfjs = tf.tidy(() => tf.sigmoid(model.apply(tf.tensor3d(x, [k, W, 3]))).dataSync());
      expect(maxAbsDiff(got, tfjs)).toBeLessThan(1e-5);
    } finally {
      await fresh.dispose();
    }
  } finally {
    model.dispose();
    other.dispose();
  }
});

test('a training run with 3 summaries scores its test set through one inference session', async () => {
  const root = tmpDir('session-reuse-');
  const train = periodicSeries(600, 3);
  const { series: testSet, labels } = labelledTestSet(200, 3);
  const out = path.join(root, 'run');
  const before = onnxInferenceSessionsCreated();
  const result = await trainAnomalyBert({
    train,
    test: testSet,
    testLabels: labels,
    out,
    backend: 'cpu',
    // The tfjs training engine: the only onnxruntime sessions are the summary scoring's.
    options: { ...TINY, max_steps: 2, summary_steps: 1, seed: 4, engine: 'tfjs', workers: 1 },
    log: () => undefined,
    onProgress: () => undefined,
  });
  const created = onnxInferenceSessionsCreated() - before;
  expect(result.history.map((e) => e.step)).toEqual([0, 1, 2]);
  expect(result.history.every((e) => e.test !== undefined)).toBe(true);
  expect(created).toBe(1);

  // Each summary's written scores are that step's checkpoint scored on its own (a new model, so a
  // new session): the reused session saw each step's weights.
  const written: Float32Array[] = [];
  for (const step of [0, 1, 2]) {
    const { model, scaler } = await loadCheckpoint(path.join(out, 'state', `step_${step}`));
    try {
      const values = MinMaxScaler.fromJSON(scaler!).transform(testSet.values, 3);
      const fresh = await estimateScores(model, values, testSet.length, {
        batchSize: TINY.batch_size,
        windowSliding: TINY.window_sliding,
        engine: 'onnx',
        threads: 1,
        logEngine: false,
      });
      const file = toFloat32(readNpy(path.join(out, 'state', `step_${step}_scores.npy`)));
      expect(file.length).toBe(testSet.length);
      const first = new Float32Array(testSet.length);
      for (let t = 0; t < testSet.length; t++) first[t] = fresh[t * model.config.outputDim];
      expect(maxAbsDiff(file, first)).toBeLessThan(1e-6);
      written.push(file);
    } finally {
      model.dispose();
    }
  }
  expect(maxAbsDiff(written[0], written[2])).toBeGreaterThan(0);
});
