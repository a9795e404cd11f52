/**
 * Gradient accumulation (option micro_batch): a batch processed in chunks gives the same update,
 * loss and accuracy as the whole batch at once (dropout 0, so masks cannot differ), tensors do not
 * leak, the training loop passes the option through, and bad values name the option.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { AnomalyBertConfig } from 'anomaly-lab/anomalybert';
import { AnomalyBert, loadCheckpoint } from 'anomaly-lab/anomalybert';
import { createRng, parseArgs } from 'anomaly-lab/core';
import {
  makeDegradedBatch,
  ReplacingLengthTable,
  type DegradeSeries,
  AdamW,
  resolveTrainOptions,
  TRAIN_OPTION_SPECS,
  trainAnomalyBert,
  trainingStep,
} from 'anomaly-lab/training';
import { periodicSeries, TINY, tmpDir } from './train-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// The TINY training shape (8 tokens × patch 4, width 16, 1 layer) without dropout.
const CONFIG: AnomalyBertConfig = { inputDim: 3, outputDim: 1, patchSize: 4, nTokens: 8, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0 };
const W = CONFIG.nTokens * CONFIG.patchSize;
const N = 4;

/** Degraded batches of 4 windows from a [0, 1] series (the real batch maker, fixed seed). */
function batches(count: number): Array<{ x: Float32Array; y: Uint8Array }> {
  const raw = periodicSeries(400, CONFIG.inputDim);
  const values = raw.values.map((v) => 0.5 + 0.02 * v); // roughly [0, 1]; degradation assumes it
  const data: DegradeSeries = { source: raw.source, columns: raw.columns, length: raw.length, values };
  const rng = createRng(5);
  const lengths = ReplacingLengthTable.create(W, 0.3, rng);
  return Array.from({ length: count }, () =>
    makeDegradedBatch(data, { batchSize: N, windowSize: W, patchSize: CONFIG.patchSize, replacingRateMax: 0.3, rng, lengths }),
  );
}

interface Trainer {
  model: AnomalyBert;
  optimizer: AdamW;
  varList: tf.Variable[];
  dispose(): void;
}

function trainer(): Trainer {
  const model = AnomalyBert.create(CONFIG, { seed: 11 });
  const vars = new Map(model.namedVariables());
  const optimizer = new AdamW(vars, { weightDecay: 1e-4, clipNorm: 1.0 });
  return {
    model,
    optimizer,
    varList: [...vars.values()],
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}

function maxAbsDiff(a: AnomalyBert, b: AnomalyBert): number {
  let worst = 0;
  const wb = new Map(b.namedVariables());
  for (const [name, v] of a.namedVariables()) {
    const x = v.dataSync();
    const y = (wb.get(name) as tf.Variable).dataSync();
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  }
  return worst;
}

describe('trainingStep with micro-batches', () => {
  test('micro_batch 2 on batch 4 gives the full-batch loss, accuracy, gradient norm and update', () => {
    const whole = trainer();
    const chunked = trainer();
    expect(maxAbsDiff(whole.model, chunked.model)).toBe(0);
    // Adam's first update is ≈ lr·sign(g): where a gradient is ~0 its rounding decides the sign,
    // so weight differences scale with lr. The first moments (0.1·clipped g) are checked tightly.
    const lr = 1e-4;
    for (const [s, batch] of batches(3).entries()) {
      const shape = { nRows: N, windowSize: W, nCols: CONFIG.inputDim, lr, dropoutSeed: s, accuracy: true };
      const a = trainingStep(whole.model, whole.optimizer, whole.varList, batch, shape);
      const b = trainingStep(chunked.model, chunked.optimizer, chunked.varList, batch, { ...shape, microBatch: 2 });
      expect(Number.isFinite(a.loss) && a.loss > 0).toBe(true);
      expect(b.loss).toBeCloseTo(a.loss, 6);
      expect(b.accuracy).toBeCloseTo(a.accuracy, 6);
      expect(b.gradNorm).toBeCloseTo(a.gradNorm, 5);
      // The weights moved (the comparison below is not trivially true) and moved the same way.
      expect(maxAbsDiff(whole.model, chunked.model)).toBeLessThan(1e-5);
      if (s === 0) {
        const ma = whole.optimizer.getState().slots;
        const mb = chunked.optimizer.getState().slots;
        let scale = 0;
        let worst = 0;
        ma.forEach((slot, i) =>
          slot.m.forEach((v, k) => {
            scale = Math.max(scale, Math.abs(v));
            worst = Math.max(worst, Math.abs(v - mb[i].m[k]));
          }),
        );
        expect(scale).toBeGreaterThan(0);
        expect(worst).toBeLessThan(1e-5 * scale);
      }
    }
    const fresh = AnomalyBert.create(CONFIG, { seed: 11 });
    expect(maxAbsDiff(fresh, whole.model)).toBeGreaterThan(1e-4); // 3 steps of ≈ lr each
    fresh.dispose();
    whole.dispose();
    chunked.dispose();
  });

  test('forward-only step (update false) reports the full-batch loss and accuracy and leaves the weights', () => {
    const t = trainer();
    const [batch] = batches(1);
    const shape = { nRows: N, windowSize: W, nCols: CONFIG.inputDim, lr: 1e-3, update: false };
    const before = t.varList.map((v) => Float32Array.from(v.dataSync()));
    const a = trainingStep(t.model, t.optimizer, t.varList, batch, shape);
    const b = trainingStep(t.model, t.optimizer, t.varList, batch, { ...shape, microBatch: 1 });
    expect(b.loss).toBeCloseTo(a.loss, 6);
    expect(b.accuracy).toBeCloseTo(a.accuracy, 6);
    expect(Number.isNaN(b.gradNorm)).toBe(true);
    t.varList.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(before[i])));
    t.dispose();
  });

  test('tensor count stays flat across micro-batched steps (with and without accuracy)', () => {
    const t = trainer();
    const all = batches(5);
    const shape = { nRows: N, windowSize: W, nCols: CONFIG.inputDim, lr: 1e-3, microBatch: 1 };
    trainingStep(t.model, t.optimizer, t.varList, all[0], shape);
    const counts: number[] = [];
    for (const [s, batch] of all.slice(1).entries()) {
      trainingStep(t.model, t.optimizer, t.varList, batch, { ...shape, dropoutSeed: s, accuracy: s % 2 === 0 });
      counts.push(tf.memory().numTensors);
    }
    trainingStep(t.model, t.optimizer, t.varList, all[0], { ...shape, update: false });
    counts.push(tf.memory().numTensors);
    expect(new Set(counts).size).toBe(1);
    t.dispose();
  });

  test('a micro batch that does not divide the batch is refused', () => {
    const t = trainer();
    const [batch] = batches(1);
    expect(() =>
      trainingStep(t.model, t.optimizer, t.varList, batch, { nRows: N, windowSize: W, nCols: CONFIG.inputDim, lr: 1e-3, microBatch: 3 }),
    ).toThrow(/microBatch 3 must divide the batch size 4/);
    t.dispose();
  });
});

describe('AdamW memory', () => {
  test('dispose frees both moments: no tensor or byte is left behind', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3, 4]), true, 'micro_batch_adamw_leak');
    const before = tf.memory();
    const opt = new AdamW([w]);
    const g = { [w.name]: tf.tensor1d([0.1, -0.2, 0.3, -0.4]) };
    opt.applyGradients(g, 1e-3);
    tf.dispose(g[w.name]);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    w.dispose();
  });
});

describe('option micro_batch', () => {
  test('defaults to 0, parses from the command line, and bad values name the option', () => {
    expect(resolveTrainOptions({}).micro_batch).toBe(0);
    const parsed = parseArgs(['--micro-batch', '2', '--batch_size', '4'], TRAIN_OPTION_SPECS).options;
    expect(resolveTrainOptions(parsed).micro_batch).toBe(2);
    expect(() => resolveTrainOptions({ batch_size: 4, micro_batch: 3 })).toThrow(
      /option 'micro_batch' \(3\) must divide 'batch_size' \(4\)/,
    );
    expect(() => resolveTrainOptions({ batch_size: 4, micro_batch: 8 })).toThrow(/'micro_batch' \(8\) must divide 'batch_size'/);
    expect(() => resolveTrainOptions({ micro_batch: -1 })).toThrow(/option 'micro_batch' must be a non-negative integer, got -1/);
    expect(() => resolveTrainOptions({ micro_batch: 1.5 })).toThrow(/option 'micro_batch' must be a non-negative integer/);
  });

  test('trainAnomalyBert with micro_batch 2 trains like the whole batch (dropout 0)', async () => {
    const root = tmpDir('micro-batch');
    try {
      const train = periodicSeries(600, 3);
      const runOnce = async (micro: number): Promise<{ losses: number[]; model: AnomalyBert }> => {
        const out = path.join(root, `run-${micro}`);
        const result = await trainAnomalyBert({
          train,
          out,
          backend: 'cpu',
          // The tfjs engine: the onnx engine runs the whole batch in one call (micro_batch unused).
          options: { ...TINY, lr: 1e-4, dropout: 0, max_steps: 3, summary_steps: 3, seed: 2, micro_batch: micro, engine: 'tfjs' },
          log: () => undefined,
          onProgress: () => undefined,
        });
        const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
        expect(config.micro_batch).toBe(micro);
        const { model } = await loadCheckpoint(result.finalCheckpoint);
        return { losses: result.history.map((e) => e.loss), model };
      };
      const whole = await runOnce(0);
      const chunked = await runOnce(2);
      expect(chunked.losses.length).toBe(whole.losses.length);
      chunked.losses.forEach((l, i) => expect(l).toBeCloseTo(whole.losses[i], 5));
      expect(maxAbsDiff(whole.model, chunked.model)).toBeLessThan(1e-5);
      whole.model.dispose();
      chunked.model.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
