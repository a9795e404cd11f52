/**
 * The onnx training engine (anomalybert/onnx-train.ts, onnx/grad.ts, training/onnx-step.ts): the
 * ONNX training graph's loss and gradients equal tfjs's (tf.variableGrads on the model, same dropout
 * masks) for the workshop configuration and one with first-difference features; one optimiser step
 * on both engines gives the same parameters; the loss falls over a few steps; the tfjs side keeps
 * its tensor count; an op without a gradient rule is refused naming the op and the layer. LoRA
 * (rank 4, workshop configuration): the adapters' gradients and one AdamW step equal tfjs's (the
 * adapted forward pass of lora.ts), and a LoRA run trains on the onnx engine with loadable merged
 * checkpoints.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  AnomalyBert,
  WORKSHOP_CONFIG,
  type AnomalyBertConfig,
  loadCheckpoint,
  exportAnomalyBertTrainingGraph,
  onnxInferenceSessionsCreated,
} from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';
import { DiffGraph, onnxSessionsCreated } from 'anomaly-lab/onnx';
import {
  makeDegradedBatch,
  ReplacingLengthTable,
  type DegradeSeries,
  AdamW,
  bceWithLogits,
  trainAnomalyBert,
  trainingStep,
  OnnxTrainingEngine,
  LoraAdapters,
  stageVariables,
} from 'anomaly-lab/training';
import { periodicSeries, labelledTestSet, TINY, tmpDir } from './train-helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 4;

function batchFor(config: AnomalyBertConfig, seed: number): { x: Float32Array; y: Uint8Array } {
  const W = config.nTokens * config.patchSize;
  const raw = periodicSeries(6 * W, config.inputDim);
  const values = raw.values.map((v) => 0.5 + 0.02 * v);
  const data: DegradeSeries = { source: raw.source, columns: raw.columns, length: raw.length, values };
  const rng = createRng(seed);
  const lengths = ReplacingLengthTable.create(W, 0.3, rng);
  return makeDegradedBatch(data, { batchSize: N, windowSize: W, patchSize: config.patchSize, replacingRateMax: 0.3, rng, lengths });
}

/** tfjs's loss and gradients (the trainer's forward: training mode, seeded dropout). */
function tfjsGradients(
  model: AnomalyBert,
  batch: { x: Float32Array; y: Uint8Array },
  seed: number,
): { loss: number; grads: Map<string, Float32Array> } {
  const W = model.windowSize;
  const C = model.config.inputDim;
  const named = model.namedVariables();
  const x = tf.tensor3d(batch.x, [N, W, C]);
  const y = tf.tensor2d(Float32Array.from(batch.y), [N, W]);
  const { value, grads } = tf.variableGrads(
    () => {
      const z = tf.squeeze(model.apply(x, { training: true, dropoutSeed: seed }), [2]) as tf.Tensor2D;
      return bceWithLogits(z, y);
    },
    named.map(([, v]) => v),
  );
  const out = new Map(named.map(([name, v]) => [name, grads[v.name].dataSync() as Float32Array]));
  const loss = value.dataSync()[0];
  tf.dispose([x, y, value, ...Object.values(grads)]);
  return { loss, grads: out };
}

/**
 * The key projection's bias has an exactly zero gradient (it adds q·b_k to every score of a query
 * row, and softmax is shift-invariant), so both engines return rounding noise there: checked to be
 * tiny, not compared. AdamW turns that noise into ±lr steps (m/√v), on any engine (torch too), so
 * the step comparison leaves these biases out as well.
 */
const KEY_BIAS = /word_fc_layers\.1\.bias$/;

/** max |a − b| / max |b| over one parameter (relative to the gradient's scale). */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

async function compareGradients(config: AnomalyBertConfig): Promise<void> {
  const model = AnomalyBert.create(config, { seed: 3, identicalLayers: false });
  const engine = new OnnxTrainingEngine(model, 1, 'tfjs');
  try {
    const batch = batchFor(config, 9);
    const seed = 1234;
    const ref = tfjsGradients(model, batch, seed);
    const varList = model.namedVariables().map(([, v]) => v);
    const ours = await engine.gradients(varList, batch, {
      nRows: N,
      windowSize: model.windowSize,
      nCols: config.inputDim,
      lr: 1e-3,
      dropoutSeed: seed,
    });
    expect(Math.abs(ours.loss - ref.loss)).toBeLessThan(1e-5 * Math.max(1, ref.loss));
    const worst: Array<[string, number]> = [];
    let keyBiasMax = 0;
    for (const [name, v] of model.namedVariables()) {
      const g = ours.grads[v.name].dataSync() as Float32Array;
      const r = ref.grads.get(name) as Float32Array;
      if (KEY_BIAS.test(name)) {
        for (let i = 0; i < g.length; i++) keyBiasMax = Math.max(keyBiasMax, Math.abs(g[i]), Math.abs(r[i]));
        continue;
      }
      worst.push([name, relativeError(g, r)]);
    }
    tf.dispose(Object.values(ours.grads));
    worst.sort((a, b) => b[1] - a[1]);
    expect(worst[0][1]).toBeLessThan(1e-4);
    expect(worst).toHaveLength(model.parameterNames().length - config.nLayer);
    expect(keyBiasMax).toBeLessThan(1e-6);
  } finally {
    await engine.dispose();
    model.dispose();
  }
}

test('the training graph gives tfjs gradients: workshop configuration, dropout with the same seeded masks', async () => {
  await compareGradients(WORKSHOP_CONFIG);
});

test('the training graph gives tfjs gradients: first-difference features', async () => {
  await compareGradients({ ...WORKSHOP_CONFIG, nTokens: 16, nLayer: 1, diffScales: [0.01, 0.02, 0.5, 1, 0.003] });
});

test('one AdamW step on the onnx engine equals the tfjs step; the loss falls; no tensor-count growth', async () => {
  const config: AnomalyBertConfig = { ...WORKSHOP_CONFIG, nTokens: 16 };
  const make = (): { model: AnomalyBert; optimizer: AdamW; varList: tf.Variable[] } => {
    const model = AnomalyBert.create(config, { seed: 5 });
    const vars = new Map(model.namedVariables());
    return { model, optimizer: new AdamW(vars, { weightDecay: 1e-4, clipNorm: 1.0 }), varList: [...vars.values()] };
  };
  const a = make();
  const b = make();
  const engine = new OnnxTrainingEngine(b.model, 1, 'tfjs');
  try {
    const batch = batchFor(config, 4);
    const o = { nRows: N, windowSize: a.model.windowSize, nCols: config.inputDim, lr: 1e-3, dropoutSeed: 77, accuracy: true };
    const ra = trainingStep(a.model, a.optimizer, a.varList, batch, o);
    const rb = await engine.step(b.optimizer, b.varList, batch, o);
    expect(Math.abs(ra.loss - rb.loss)).toBeLessThan(1e-5);
    expect(Math.abs(ra.gradNorm - rb.gradNorm)).toBeLessThan(1e-4 * ra.gradNorm);
    expect(rb.accuracy).toBeCloseTo(ra.accuracy, 6);
    for (const [name, v] of a.model.namedVariables()) {
      if (KEY_BIAS.test(name)) continue;
      const pa = v.dataSync();
      const pb = b.model.variable(name).dataSync();
      let diff = 0;
      for (let i = 0; i < pa.length; i++) diff = Math.max(diff, Math.abs(pa[i] - pb[i]));
      expect({ name, diff: diff < 1e-5 }).toEqual({ name, diff: true });
    }
    // A few more steps on one batch: the loss falls, and the tfjs side (gradient tensors, AdamW)
    // keeps its tensor count flat once the session exists.
    const before = tf.memory().numTensors;
    const losses: number[] = [rb.loss];
    for (let i = 0; i < 5; i++) losses.push((await engine.step(b.optimizer, b.varList, batch, { ...o, dropoutSeed: 100 + i })).loss);
    expect(tf.memory().numTensors).toBe(before);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  } finally {
    await engine.dispose();
    for (const t of [a, b]) {
      t.optimizer.dispose();
      t.model.dispose();
    }
  }
});

test('frozen parts: with only the head trained, its gradients equal tfjs and the frozen ones are not computed', async () => {
  const config: AnomalyBertConfig = { ...WORKSHOP_CONFIG, nTokens: 16 };
  const model = AnomalyBert.create(config, { seed: 8 });
  const engine = new OnnxTrainingEngine(model, 1, 'tfjs');
  try {
    const batch = batchFor(config, 3);
    const head = model.namedVariables().filter(([name]) => name.startsWith('mlp_layers.'));
    const x = tf.tensor3d(batch.x, [N, model.windowSize, config.inputDim]);
    const y = tf.tensor2d(Float32Array.from(batch.y), [N, model.windowSize]);
    const ref = tf.variableGrads(
      () => bceWithLogits(tf.squeeze(model.apply(x, { training: true, dropoutSeed: 5 }), [2]), y),
      head.map(([, v]) => v),
    );
    const ours = await engine.gradients(
      head.map(([, v]) => v),
      batch,
      { nRows: N, windowSize: model.windowSize, nCols: config.inputDim, lr: 1e-3, dropoutSeed: 5 },
    );
    expect(Object.keys(ours.grads).sort()).toEqual(head.map(([, v]) => v.name).sort());
    for (const [, v] of head)
      expect(relativeError(ours.grads[v.name].dataSync() as Float32Array, ref.grads[v.name].dataSync() as Float32Array)).toBeLessThan(1e-4);
    tf.dispose([x, y, ref.value, ...Object.values(ref.grads), ...Object.values(ours.grads)]);
  } finally {
    await engine.dispose();
    model.dispose();
  }
});

/**
 * The workshop model with LoRA rank 4 (alpha 8) as a LoRA transfer trains it: head, embedding and
 * adapters (stageVariables), the base encoder frozen. B starts at zero in lora.ts, which makes A's
 * gradient exactly zero; it is set to small seeded values so both adapters' gradients are exercised.
 */
function loraSetup(seed: number): { model: AnomalyBert; lora: LoraAdapters; vars: Map<string, tf.Variable> } {
  const model = AnomalyBert.create(WORKSHOP_CONFIG, { seed, identicalLayers: false });
  const lora = new LoraAdapters(model, 4, 8, seed);
  for (const [name, v] of lora.variables)
    if (name.endsWith('lora_B')) v.assign(tf.tidy(() => tf.randomUniform(v.shape, -0.05, 0.05, 'float32', 11)));
  const vars = stageVariables(model, ['embedding', 'encoder', 'head'], lora.variables);
  return { model, lora, vars };
}

describe('LoRA on the onnx engine', () => {
  test('the adapters get tfjs gradients (rank 4, workshop configuration, same dropout masks); the base encoder gets none', async () => {
    const { model, lora, vars } = loraSetup(6);
    const engine = new OnnxTrainingEngine(model, 1, 'tfjs', lora);
    try {
      const batch = batchFor(WORKSHOP_CONFIG, 12);
      const W = model.windowSize;
      const C = WORKSHOP_CONFIG.inputDim;
      const varList = [...vars.values()];
      const x = tf.tensor3d(batch.x, [N, W, C]);
      const y = tf.tensor2d(Float32Array.from(batch.y), [N, W]);
      const ref = tf.variableGrads(() => {
        const z = model.apply(x, { training: true, dropoutSeed: 42, adaptParams: lora.adaptParams });
        return bceWithLogits(tf.squeeze(z, [2]) as tf.Tensor2D, y);
      }, varList);
      const ours = await engine.gradients(varList, batch, { nRows: N, windowSize: W, nCols: C, lr: 1e-3, dropoutSeed: 42 });
      expect(Math.abs(ours.loss - ref.value.dataSync()[0])).toBeLessThan(1e-5);
      // Exactly the trained set: 6 projections × 2 layers × (A, B), plus embedding and head; no encoder weight.
      expect(Object.keys(ours.grads).sort()).toEqual(varList.map((v) => v.name).sort());
      const adapters = [...vars.keys()].filter((n) => n.includes('.lora_'));
      expect(adapters).toHaveLength(6 * WORKSHOP_CONFIG.nLayer * 2);
      expect([...vars.keys()].some((n) => n.startsWith('transformer_encoder.') && !n.includes('.lora_'))).toBe(false);
      let worst = 0;
      let smallest = Infinity;
      for (const [name, v] of vars) {
        const g = ours.grads[v.name].dataSync() as Float32Array;
        const r = ref.grads[v.name].dataSync() as Float32Array;
        const err = relativeError(g, r);
        worst = Math.max(worst, err);
        expect({ name, ok: err < 1e-4 }).toEqual({ name, ok: true });
        if (name.includes('.lora_')) smallest = Math.min(smallest, Math.max(...Array.from(r, Math.abs)));
      }
      expect(worst).toBeLessThan(1e-4);
      // Every adapter's gradient is a real signal, not a pair of zeros that would match trivially.
      expect(smallest).toBeGreaterThan(1e-6);
      tf.dispose([x, y, ref.value, ...Object.values(ref.grads), ...Object.values(ours.grads)]);
    } finally {
      await engine.dispose();
      lora.dispose();
      model.dispose();
    }
  });

  test('one AdamW step with LoRA on the onnx engine equals the tfjs step (adapters and trained parameters within 1e-5)', async () => {
    const make = (): ReturnType<typeof loraSetup> & { optimizer: AdamW } => {
      const s = loraSetup(9);
      return { ...s, optimizer: new AdamW(s.vars, { weightDecay: 1e-4, clipNorm: 1.0 }) };
    };
    const a = make();
    const b = make();
    const engine = new OnnxTrainingEngine(b.model, 1, 'tfjs', b.lora);
    try {
      const batch = batchFor(WORKSHOP_CONFIG, 5);
      const o = { nRows: N, windowSize: a.model.windowSize, nCols: WORKSHOP_CONFIG.inputDim, lr: 1e-3, dropoutSeed: 31 };
      const ra = trainingStep(a.model, a.optimizer, [...a.vars.values()], batch, { ...o, adaptParams: a.lora.adaptParams });
      const rb = await engine.step(b.optimizer, [...b.vars.values()], batch, o);
      expect(Math.abs(ra.loss - rb.loss)).toBeLessThan(1e-5);
      expect(Math.abs(ra.gradNorm - rb.gradNorm)).toBeLessThan(1e-4 * ra.gradNorm);
      let moved = 0;
      for (const [name, v] of a.vars) {
        const pa = v.dataSync();
        const pb = (b.vars.get(name) as tf.Variable).dataSync();
        let diff = 0;
        for (let i = 0; i < pa.length; i++) diff = Math.max(diff, Math.abs(pa[i] - pb[i]));
        expect({ name, diff: diff < 1e-5 }).toEqual({ name, diff: true });
        if (name.includes('.lora_')) moved += pa.length;
      }
      expect(moved).toBeGreaterThan(0);
      // The base encoder weights did not move on either engine.
      const fresh = AnomalyBert.create(WORKSHOP_CONFIG, { seed: 9, identicalLayers: false });
      for (const [name, v] of b.model.namedVariables())
        if (name.startsWith('transformer_encoder.')) expect(Array.from(v.dataSync())).toEqual(Array.from(fresh.variable(name).dataSync()));
      fresh.dispose();
    } finally {
      await engine.dispose();
      for (const t of [a, b]) {
        t.optimizer.dispose();
        t.lora.dispose();
        t.model.dispose();
      }
    }
  });
});

test('an op without a gradient rule is refused in one line naming the op and the layer', () => {
  const d = new DiffGraph();
  d.declare('w', [3], true);
  d.label = 'transformer_encoder.encoder_layers.0.feed_forward_layer';
  const y = d.op('HardSwish', ['w'], {}, [[3]])[0];
  const loss = d.op('ReduceSum', [y], { keepdims: 0 }, [[]])[0];
  expect(() => d.gradients(loss, ['w'])).toThrow(
    /^ONNX training graph: no gradient rule for op 'ReduceSum' .*in layer transformer_encoder\.encoder_layers\.0\.feed_forward_layer/,
  );
  const d2 = new DiffGraph();
  d2.declare('w', [3], true);
  d2.label = 'mlp_layers';
  const loss2 = d2.bceWithLogitsMean(d2.op('HardSwish', ['w'], {}, [[3]])[0], d2.declare('y', [3]));
  let message = '';
  try {
    d2.gradients(loss2, ['w']);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(/no gradient rule for op 'HardSwish'.*in layer mlp_layers/);
  expect(message.split('\n')).toHaveLength(1);
});

test('bad training-graph options and a foreign variable are refused in one line naming the value', () => {
  const small = { inputDim: 2, outputDim: 1, patchSize: 2, nTokens: 4, dEmbed: 8, nLayer: 1, nHead: 2, dropout: 0.1 };
  const model = AnomalyBert.create(small, { seed: 1 });
  const wide = AnomalyBert.create({ ...small, outputDim: 2 }, { seed: 1 });
  const foreign = tf.variable(tf.zeros([2]), true, 'not_a_parameter');
  const engine = new OnnxTrainingEngine(model, 1);
  try {
    const ok = { batch: 2, trained: ['mlp_layers.2.bias'], dropout: false };
    const cases: Array<[() => unknown, RegExp]> = [
      [
        () => exportAnomalyBertTrainingGraph(model.config, { ...ok, batch: 0 }),
        /^ONNX training graph: batch must be a positive integer, got 0$/,
      ],
      [
        () => exportAnomalyBertTrainingGraph(wide.config, ok),
        /^ONNX training graph: the BCE loss needs one output column, the model has 2$/,
      ],
      [
        () => exportAnomalyBertTrainingGraph(model.config, { ...ok, trained: ['nope.weight'] }),
        /^ONNX training graph: no parameter 'nope\.weight'$/,
      ],
      [
        () => exportAnomalyBertTrainingGraph(model.config, { ...ok, lora: { rank: 0, scale: 1, targets: ['mlp_layers.0'] } }),
        /^ONNX training graph: LoRA rank must be a positive integer, got 0$/,
      ],
      [
        () =>
          exportAnomalyBertTrainingGraph(model.config, {
            ...ok,
            lora: { rank: 2, scale: 1, targets: ['transformer_encoder.encoder_layers.0.norm_layers.0'] },
          }),
        /^ONNX training graph: LoRA target 'transformer_encoder\.encoder_layers\.0\.norm_layers\.0' is not a Linear layer of the model$/,
      ],
      [
        () => engine.torchNames([foreign]),
        /^onnx training engine: variable 'not_a_parameter' is neither a parameter of the model nor a LoRA adapter$/,
      ],
    ];
    for (const [call, message] of cases) expect(call).toThrow(message);
  } finally {
    foreign.dispose();
    model.dispose();
    wide.dispose();
    void engine.dispose();
  }
});

describe('the training loop on both engines', () => {
  const run = async (
    engine: 'onnx' | 'tfjs',
    extra: Record<string, unknown> = {},
  ): Promise<{
    config: Record<string, unknown>;
    losses: number[];
    lines: string[];
    weights: Float32Array;
    query: Float32Array;
    initialQuery: Float32Array;
  }> => {
    const out = path.join(tmpDir('onnx-train-'), 'run');
    const lines: string[] = [];
    const train = periodicSeries(400, 3);
    const result = await trainAnomalyBert({
      train,
      out,
      backend: 'cpu',
      options: { ...TINY, lr: 1e-3, max_steps: 4, summary_steps: 2, seed: 2, engine, workers: 1, threads: 1, ...extra },
      log: (l) => lines.push(l),
      onProgress: () => undefined,
    });
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    const q = 'transformer_encoder.encoder_layers.0.attention_layer.word_fc_layers.0.weight';
    const { model } = await loadCheckpoint(result.finalCheckpoint);
    const weights = model.variable('mlp_layers.2.weight').dataSync().slice() as Float32Array;
    const query = model.variable(q).dataSync().slice() as Float32Array;
    model.dispose();
    const first = await loadCheckpoint(path.join(out, 'state', 'step_0'));
    const initialQuery = first.model.variable(q).dataSync().slice() as Float32Array;
    first.model.dispose();
    return { config, losses: result.history.map((e) => e.loss), lines, weights, query, initialQuery };
  };

  test('engine onnx trains like tfjs (dropout off: the trainer draws the onnx masks with its own generator), says so, and records the engine', async () => {
    const onnx = await run('onnx', { dropout: 0 });
    const tfjs = await run('tfjs', { dropout: 0 });
    expect(onnx.config.engine).toBe('onnx');
    expect(tfjs.config.engine).toBe('tfjs');
    expect(onnx.lines).toContain("anomaly-lab: training engine 'onnx' (onnxruntime-node, 1 thread, whole batch per call)");
    expect(onnx.losses).toHaveLength(tfjs.losses.length);
    onnx.losses.forEach((l, i) => expect(Math.abs(l - tfjs.losses[i])).toBeLessThan(1e-4));
    let diff = 0;
    for (let i = 0; i < onnx.weights.length; i++) diff = Math.max(diff, Math.abs(onnx.weights[i] - tfjs.weights[i]));
    expect(diff).toBeLessThan(1e-4);
  });

  test('with dropout, the onnx engine is deterministic per seed (a resumed run redraws the same masks)', async () => {
    const a = await run('onnx');
    const b = await run('onnx');
    expect(b.losses).toEqual(a.losses);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
  });

  test('a LoRA run (rank 4) trains on the onnx engine like on tfjs; its merged checkpoint loads', async () => {
    const onnx = await run('onnx', { lora_rank: 4, dropout: 0 });
    const tfjs = await run('tfjs', { lora_rank: 4, dropout: 0 });
    expect(onnx.config.engine).toBe('onnx');
    expect(onnx.lines.filter((l) => l.includes('training engine'))).toEqual([
      "anomaly-lab: training engine 'onnx' (onnxruntime-node, 1 thread, whole batch per call)",
    ]);
    expect((onnx.config.fine_tuning as { lora?: unknown }).lora).toMatchObject({ rank: 4, merged_in_checkpoints: true });
    expect(onnx.losses).toHaveLength(tfjs.losses.length);
    onnx.losses.forEach((l, i) => expect(Math.abs(l - tfjs.losses[i])).toBeLessThan(1e-4));
    // The merged checkpoints (loaded in run()) agree: adapted query weights and the trained head.
    expect(onnx.query.length).toBe(16 * 16);
    let diff = 0;
    let moved = 0;
    for (let i = 0; i < onnx.query.length; i++) {
      diff = Math.max(diff, Math.abs(onnx.query[i] - tfjs.query[i]));
      moved = Math.max(moved, Math.abs(onnx.query[i] - onnx.initialQuery[i]));
    }
    expect(diff).toBeLessThan(1e-4);
    expect(moved).toBeGreaterThan(1e-6);
    for (let i = 0; i < onnx.weights.length; i++) expect(Math.abs(onnx.weights[i] - tfjs.weights[i])).toBeLessThan(1e-4);
  });

  test('a run builds one training session per configuration, not one per step (summary steps and a freeze-schedule stage change included)', async () => {
    const { series: test, labels } = labelledTestSet(200, 3);
    const lines: string[] = [];
    const steps: number[] = [];
    const before = {
      all: onnxSessionsCreated(),
      training: onnxSessionsCreated('AnomalyBERT training graph'),
      scoring: onnxInferenceSessionsCreated(),
    };
    const result = await trainAnomalyBert({
      train: periodicSeries(400, 3),
      test,
      testLabels: labels,
      out: path.join(tmpDir('onnx-sessions-'), 'run'),
      backend: 'cpu',
      // Steps 0-2 train the embedding, 3-5 everything; step 6 (final) is the forward-only summary.
      options: { ...TINY, max_steps: 6, summary_steps: 2, seed: 4, engine: 'onnx', threads: 1, freeze_schedule: 'embedding:3,all' },
      log: (l) => lines.push(l),
      onProgress: (p) => steps.push(p.step),
    });
    const training = onnxSessionsCreated('AnomalyBERT training graph') - before.training;
    const scoring = onnxInferenceSessionsCreated() - before.scoring;
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(result.history.map((e) => e.step)).toEqual([0, 2, 4, 6]);
    expect(result.history.every((e) => e.test !== undefined)).toBe(true);
    expect(lines.join('\n')).toMatch(/step 3: freeze schedule stage 'all'/);
    // Six onnx steps in two stages: two training graphs (embedding only, then all parameters).
    expect(training).toBe(2);
    // The four summaries' test scores share one live inference session (weights fed as inputs).
    expect(scoring).toBe(1);
    // Nothing else opened a session: the counter sees every InferenceSession.create of the library.
    expect(onnxSessionsCreated() - before.all).toBe(training + scoring);
  });

  test('a bad engine or thread count names the option', async () => {
    await expect(run('gpu' as 'onnx')).rejects.toThrow(/option 'engine' must be auto, onnx or tfjs, got "gpu"/);
    await expect(run('onnx', { threads: -1 })).rejects.toThrow(/option 'threads' must be a non-negative integer/);
  });
});

test('an onnx engine failure stops training with one line; the last checkpoint stays loadable', async () => {
  // Injected failure (a spy on the engine's step): onnxruntime cannot be made to fail on demand here.
  let calls = 0;
  const original = OnnxTrainingEngine.prototype.gradients;
  const spy = jest.spyOn(OnnxTrainingEngine.prototype, 'gradients').mockImplementation(function (this: OnnxTrainingEngine, ...args) {
    if (++calls === 4) return Promise.reject(new Error('onnx training engine: the training step failed in onnxruntime (injected)'));
    return original.apply(this, args);
  });
  try {
    const out = path.join(tmpDir('onnx-fail-'), 'run');
    await expect(
      trainAnomalyBert({
        train: periodicSeries(400, 3),
        out,
        backend: 'cpu',
        options: { ...TINY, max_steps: 8, summary_steps: 2, seed: 2, engine: 'onnx', threads: 1 },
        log: () => undefined,
        onProgress: () => undefined,
      }),
    ).rejects.toThrow(/^onnx training engine: the training step failed in onnxruntime \(injected\)$/);
    // Steps 0…2 ran; the failure came in step 3, after step 2's checkpoint.
    const { model } = await loadCheckpoint(path.join(out, 'state', 'step_2'));
    expect(model.parameterNames().length).toBeGreaterThan(0);
    model.dispose();
    expect(fs.existsSync(path.join(out, 'state', 'step_4'))).toBe(false);
  } finally {
    spy.mockRestore();
  }
});
