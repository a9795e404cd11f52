/**
 * A small, fast version of scripts/power-experiment.js: generated normal data trains a tiny
 * LSTM autoencoder, generated labelled faults train the random forest, and the whole pipeline
 * runs on an unseen recording with 10 injected faults. Real training, real detection; the full
 * run (docs/power-experiment.md) uses the workshop-size detector and more data.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { runPowerExperiment, type PowerExperimentResult, trainDetector, generateNormalPowerData } from 'anomaly-lab/power';

describe('power pipeline trained here on generated data (small)', () => {
  let res: PowerExperimentResult;
  let tensorsBefore: number;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
    tensorsBefore = tf.memory().numTensors;
    res = await runPowerExperiment({
      seed: 2,
      synth: { sampleRate: 2000 },
      normalDuration: 1,
      detector: { sequenceLength: 20, units: [8, 4], epochs: 3, maxWindows: 300, stride: 3, learningRate: 1e-2, batchSize: 32 },
      classifierRecordings: 10,
      faultsPerRecording: 10,
      testRecordings: 1,
      nEstimators: 50,
    });
  });
  afterAll(() => res?.models.detector.dispose());

  test('every injected fault interval is found (interval recall 1.0)', () => {
    expect(res.matches).toHaveLength(10);
    expect(res.recall).toBe(1);
  });

  test('fault types classified at least 80% right here (≥ 90% in the full experiment)', () => {
    expect(res.accuracy).toBeGreaterThanOrEqual(0.8);
    const total = res.confusion.matrix.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(res.matches.length);
    const diagonal = res.confusion.matrix.reduce((s, row, i) => s + row[i], 0);
    expect(diagonal / total).toBe(res.accuracy);
  });

  test('the threshold comes from held-out normal windows, and normal stretches raise no alarm', () => {
    expect(res.threshold).toBeGreaterThan(res.detector.validationMse.max);
    expect(res.falseAlarms).toBe(0);
  });

  test('only the returned model stays allocated', () => {
    const weights = res.models.detector.weights.length;
    expect(tf.memory().numTensors - tensorsBefore).toBe(weights);
  });
});

describe('detector training tensor hygiene', () => {
  test('tensor count does not grow across epochs; nothing but the model remains', async () => {
    await initBackend({ backend: 'wasm', log: false });
    const normal = generateNormalPowerData({ seed: 5, duration: 0.5, sampleRate: 2000 });
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const t = await trainDetector(normal, {
      sequenceLength: 16,
      units: [4, 2],
      bidirectional: false,
      epochs: 3,
      patience: 10,
      maxWindows: 100,
      stride: 4,
      onEpoch: (e) => counts.push(e.tensors),
    });
    expect(counts).toHaveLength(3);
    // Epoch 1 creates the optimizer slots and the best-weights copy; later epochs reuse them.
    expect(counts[2]).toBe(counts[1]);
    expect(tf.memory().numTensors - before).toBe(t.model.weights.length);
    expect(t.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    t.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
