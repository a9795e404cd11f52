/**
 * Data-parallel training (training/parallel.ts, real worker threads with their own wasm backend):
 * two steps over 2 workers give the same weights as the single-thread micro-batched step within
 * 1e-5 (dropout on: the workers draw the single-thread chunks' masks); a worker that dies stops
 * the step with an error naming it; the real CLI with --workers 2 stops at a dying worker with
 * one line and leaves its last checkpoint loadable.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { AnomalyBert, loadCheckpoint } from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';
import { readRunHistory } from 'anomaly-lab/runs';
import { AdamW, trainingStep, ParallelTrainer, modelPartOf } from 'anomaly-lab/training';
import { runCli } from '../helpers/cli';
import { tinyModelFlags } from '../helpers/tiny-model';
import { periodicSeries, tmpDir, writeSeriesNpy } from './train-helpers';

const config = {
  inputDim: 3,
  outputDim: 1,
  patchSize: 4,
  nTokens: 8,
  dEmbed: 16,
  nLayer: 2,
  nHead: 2,
  dropout: 0.1,
  diffScales: [0.1, 0.2, 0.3],
};
const W = 32;
const n = 8;

function batchFor(seed: number): { x: Float32Array; y: Uint8Array } {
  const rng = createRng(seed);
  return {
    x: Float32Array.from({ length: n * W * 3 }, () => rng.uniform()),
    y: Uint8Array.from({ length: n * W }, () => (rng.uniform() < 0.2 ? 1 : 0)),
  };
}

const root = tmpDir('parallel');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

test('2 workers: two updates equal the single-thread micro-batched ones within 1e-5 (loss within 1e-6)', async () => {
  const single = AnomalyBert.create(config, { seed: 4 });
  const multi = AnomalyBert.create(config, { seed: 4 });
  const optSingle = new AdamW(new Map(single.namedVariables()));
  const optMulti = new AdamW(new Map(multi.namedVariables()));
  const trainer = await ParallelTrainer.start(multi, 2, 'wasm');
  try {
    for (const [step, mb] of [
      [1, 2],
      [2, 4],
    ] as const) {
      const batch = batchFor(step);
      // lr 1e-4 (the original's): Adam's first steps scale a gradient by 1/|g|, so near-zero gradients
      // turn float32 rounding of the sums into update differences proportional to lr.
      const o = { nRows: n, windowSize: W, nCols: 3, lr: 1e-4, dropoutSeed: 100 + step, microBatch: mb, accuracy: true };
      const a = trainingStep(single, optSingle, single.trainableVariables(), batch, o);
      const before = tf.memory().numTensors;
      const b = await trainer.step(optMulti, multi.trainableVariables(), batch, o);
      expect(tf.memory().numTensors).toBe(before); // no tensor growth per step on the main thread
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6);
      expect(Math.abs(a.gradNorm - b.gradNorm)).toBeLessThan(1e-5 * Math.max(1, a.gradNorm));
      expect(Math.abs(a.accuracy - b.accuracy)).toBeLessThan(1e-6);
      let worst = 0;
      let moved = 0;
      const init = AnomalyBert.create(config, { seed: 4 });
      for (const [name, v] of single.namedVariables()) {
        const x = v.dataSync();
        const y = multi.variable(name).dataSync();
        const x0 = init.variable(name).dataSync();
        for (let i = 0; i < x.length; i++) {
          worst = Math.max(worst, Math.abs(x[i] - y[i]));
          moved = Math.max(moved, Math.abs(x[i] - x0[i]));
        }
      }
      init.dispose();
      expect(moved).toBeGreaterThan(5e-5); // the update did something
      expect(worst).toBeLessThan(1e-5);
    }
  } finally {
    await trainer.close();
    optSingle.dispose();
    optMulti.dispose();
    single.dispose();
    multi.dispose();
  }
});

test('2 workers with the encoder frozen (its weights sent once): three updates equal the single-thread ones within 1e-5', async () => {
  const single = AnomalyBert.create(config, { seed: 4 });
  const multi = AnomalyBert.create(config, { seed: 4 });
  const trained = (m: AnomalyBert): Map<string, tf.Variable> =>
    new Map(m.namedVariables().filter(([name]) => modelPartOf(name) !== 'encoder'));
  const optSingle = new AdamW(trained(single));
  const optMulti = new AdamW(trained(multi));
  const trainer = await ParallelTrainer.start(multi, 2, 'wasm');
  try {
    for (const step of [1, 2, 3]) {
      const batch = batchFor(10 + step);
      const o = { nRows: n, windowSize: W, nCols: 3, lr: 1e-4, dropoutSeed: 200 + step, microBatch: 2 };
      const a = trainingStep(single, optSingle, [...trained(single).values()], batch, o);
      const b = await trainer.step(optMulti, [...trained(multi).values()], batch, o);
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-6);
      let worst = 0;
      for (const [name, v] of single.namedVariables()) {
        const x = v.dataSync();
        const y = multi.variable(name).dataSync();
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
      }
      expect(worst).toBeLessThan(1e-5);
    }
  } finally {
    await trainer.close();
    optSingle.dispose();
    optMulti.dispose();
    single.dispose();
    multi.dispose();
  }
});

test('a worker that dies stops the step with an error naming it', async () => {
  process.env.ANOMALY_LAB_WORKER_EXIT_AT_STEP = '2';
  const model = AnomalyBert.create(config, { seed: 1 });
  const opt = new AdamW(new Map(model.namedVariables()));
  let trainer: ParallelTrainer | undefined;
  try {
    trainer = await ParallelTrainer.start(model, 2, 'wasm');
    const o = { nRows: n, windowSize: W, nCols: 3, lr: 1e-3, dropoutSeed: 1 };
    await trainer.step(opt, model.trainableVariables(), batchFor(1), o);
    await expect(trainer.step(opt, model.trainableVariables(), batchFor(2), o)).rejects.toThrow(
      /^training worker 0 died \(exit code 3\); training stopped/,
    );
    await expect(trainer.step(opt, model.trainableVariables(), batchFor(3), o)).rejects.toThrow(/training worker 0 died/);
  } finally {
    delete process.env.ANOMALY_LAB_WORKER_EXIT_AT_STEP;
    await trainer?.close();
    opt.dispose();
    model.dispose();
  }
});

test('CLI --workers 2: a worker dying at step 7 stops training in one line; the step-5 checkpoint stays loadable', async () => {
  const trainFile = writeSeriesNpy(path.join(root, 'train.npy'), periodicSeries(600, 3));
  const out = path.join(root, 'run');
  const r = runCli(
    [
      'train',
      '--train',
      trainFile,
      ...tinyModelFlags(),
      '--batch_size',
      '4',
      '--max_steps',
      '20',
      '--summary_steps',
      '5',
      '--backend',
      'wasm',
      '--workers',
      '2',
      '--engine',
      'tfjs',
      '--out',
      out,
    ],
    { env: { ANOMALY_LAB_WORKER_EXIT_AT_STEP: '7' } },
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('data-parallel training: 2 worker threads');
  const last = r.stderr.trim().split('\n').slice(-1)[0];
  expect(last).toMatch(
    /^anomaly-lab train: training worker 0 died \(exit code 3\); training stopped, the last checkpoint written is intact$/,
  );
  const steps = readRunHistory(out).map((h) => h.step);
  expect(steps[steps.length - 1]).toBe(5);
  const { model } = await loadCheckpoint(
    path.join(out, 'state', fs.readdirSync(path.join(out, 'state')).filter((d) => /^step_0*5$/.test(d))[0]),
  );
  expect(model.config.dEmbed).toBe(16);
  model.dispose();
});
