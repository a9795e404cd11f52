/**
 * First-difference input features (`diff_features`): the feature definition against a direct
 * computation, the scales against the first-difference baseline's, the checkpoint round trip,
 * training from scratch, resume (scales kept) and transfer to another column count (embedding
 * re-initialised, scales refitted on the new data).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { AnomalyBert, saveCheckpoint, loadCheckpoint, fitDiffScales, withFirstDifferences } from 'anomaly-lab/anomalybert';
import { fitBaselineStats } from 'anomaly-lab/evaluation';
import { MinMaxScaler } from 'anomaly-lab/io';
import { trainAnomalyBert, resolveTrainOptions } from 'anomaly-lab/training';
import { periodicSeries, tmpDir, TINY } from './train-helpers';

const quiet = (): void => undefined;

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: false });
});

test('features are the values, then asinh(Δx / scale) per column with Δx = 0 at each window start', () => {
  const n = 2;
  const w = 5;
  const c = 3;
  const values = Float32Array.from({ length: n * w * c }, (_, i) => Math.sin(i * 1.7) * (1 + (i % c)));
  const scales = [0.5, 2, 0.01];
  const out = tf.tidy(() => withFirstDifferences(tf.tensor3d(values, [n, w, c]), scales));
  expect(out.shape).toEqual([n, w, 2 * c]);
  const got = out.dataSync();
  out.dispose();
  for (let b = 0; b < n; b++) {
    for (let t = 0; t < w; t++) {
      for (let k = 0; k < c; k++) {
        const at = (b * w + t) * 2 * c;
        const x = values[(b * w + t) * c + k];
        expect(got[at + k]).toBe(x);
        const d = t === 0 ? 0 : x - values[(b * w + t - 1) * c + k];
        expect(got[at + c + k]).toBeCloseTo(Math.asinh(d / scales[k]), 4);
      }
    }
  }
});

test("scales are the population std of each column's first differences (the baseline's diffStd), floored", () => {
  const s = periodicSeries(500, 3);
  // A constant fourth column: its scale is the floor, not 0.
  const values = new Float32Array(500 * 4);
  for (let t = 0; t < 500; t++) {
    for (let c = 0; c < 3; c++) values[t * 4 + c] = s.values[t * 3 + c];
    values[t * 4 + 3] = 0.5;
  }
  const scales = fitDiffScales(values, 500, 4);
  const stats = fitBaselineStats(values.subarray(0, 500 * 4), 4);
  for (let c = 0; c < 3; c++) expect(scales[c]).toBeCloseTo(stats.diffStd[c], 10);
  expect(scales[3]).toBe(1e-6);
  expect(() => fitDiffScales(values, 499, 4)).toThrow(/not 499 rows × 4 columns/);
});

test('config validation names diffScales; shapes, checkpoints and state dicts carry the features', async () => {
  const base = { inputDim: 2, outputDim: 1, patchSize: 4, nTokens: 6, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0 };
  expect(() => AnomalyBert.create({ ...base, diffScales: [1] })).toThrow(/diffScales must hold 2 positive numbers/);
  expect(() => AnomalyBert.create({ ...base, diffScales: [1, -1] })).toThrow(/diffScales/);
  const model = AnomalyBert.create({ ...base, diffScales: [0.1, 0.02] }, { seed: 3 });
  const plain = AnomalyBert.create(base, { seed: 3 });
  // The embedding reads 2C numbers per point: [D, P·2C] in torch layout.
  expect(model.toStateDict().get('linear_embedding.weight')?.shape).toEqual([16, 4 * 4]);
  expect(plain.toStateDict().get('linear_embedding.weight')?.shape).toEqual([16, 4 * 2]);

  const x = tf.tensor3d(
    Float32Array.from({ length: 3 * 24 * 2 }, (_, i) => 0.5 + 0.4 * Math.sin(i / 3)),
    [3, 24, 2],
  );
  const before = model.apply(x);
  const dir = path.join(tmpDir('diff-ckpt'), 'ckpt');
  await saveCheckpoint(dir, model, { columns: ['a', 'b'] });
  const loaded = await loadCheckpoint(dir);
  expect(loaded.model.config.diffScales).toEqual([0.1, 0.02]);
  const after = loaded.model.apply(x);
  expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
  // Weights alone cannot tell the features: without the scales the state dict reads as 4 columns.
  expect(AnomalyBert.inferConfig(model.toStateDict(), { patchSize: 4 }).inputDim).toBe(4);
  expect(AnomalyBert.inferConfig(model.toStateDict(), { patchSize: 4, diffScales: [1, 1] }).inputDim).toBe(2);
  tf.dispose([x, before, after]);
  model.dispose();
  plain.dispose();
  loaded.model.dispose();
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

test('the option accepts booleans and their spellings; anything else names it', () => {
  expect(resolveTrainOptions({}).diff_features).toBe(false);
  expect(resolveTrainOptions({ diff_features: true }).diff_features).toBe(true);
  expect(resolveTrainOptions({ diff_features: 'true' as unknown as boolean }).diff_features).toBe(true);
  expect(() => resolveTrainOptions({ diff_features: 'yes' as unknown as boolean })).toThrow(/'diff_features' must be true or false/);
});

describe('training with diff_features', () => {
  const root = tmpDir('diff-train');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('scratch: scales fitted on the scaled training data; resume keeps them; transfer refits them', async () => {
    const train = periodicSeries(600, 3, 0, 'three');
    const lines: string[] = [];
    const scratch = await trainAnomalyBert({
      train,
      out: path.join(root, 'scratch'),
      backend: 'cpu',
      options: { ...TINY, diff_features: true, max_steps: 4, summary_steps: 2, seed: 1 },
      log: (l) => lines.push(l),
      onProgress: quiet,
    });
    const scaled = MinMaxScaler.fit(train).transform(train.values, 3);
    const expected = fitDiffScales(scaled, 600, 3);
    const cfg = JSON.parse(fs.readFileSync(path.join(scratch.runDir, 'config.json'), 'utf8'));
    expect(cfg.diff_features).toBe(true);
    expect(cfg.diff_scales).toEqual(expected);
    expect(lines.join('\n')).toMatch(/first-difference features: scales/);
    const ckpt = await loadCheckpoint(scratch.finalCheckpoint);
    expect(ckpt.model.config.diffScales).toEqual(expected);
    ckpt.model.dispose();

    // Resume from step 2 on other data: the checkpoint's scales stay (a resume continues a run).
    const resumed = await trainAnomalyBert({
      train: periodicSeries(600, 3, 77, 'three-shifted'),
      out: path.join(root, 'scratch'),
      backend: 'cpu',
      options: {
        ...TINY,
        diff_features: true,
        max_steps: 4,
        summary_steps: 2,
        seed: 1,
        checkpoint: path.join(scratch.runDir, 'state', 'step_2'),
        initial_iter: 2,
      },
      log: quiet,
      onProgress: quiet,
    });
    const r = await loadCheckpoint(resumed.finalCheckpoint);
    expect(r.model.config.diffScales).toEqual(expected);
    r.model.dispose();

    // Transfer to two columns: embedding re-initialised for 2·2 features per point, scales of the new data.
    const two = periodicSeries(600, 2, 5, 'two');
    const tlines: string[] = [];
    const transfer = await trainAnomalyBert({
      train: two,
      out: path.join(root, 'transfer'),
      backend: 'cpu',
      options: {
        max_steps: 2,
        summary_steps: 2,
        batch_size: 4,
        window_sliding: 8,
        replacing_rate_max: 0.3,
        checkpoint: scratch.finalCheckpoint,
      },
      log: (l) => tlines.push(l),
      onProgress: quiet,
    });
    expect(tlines.join('\n')).toMatch(/re-initialised the input embedding only/);
    expect(tlines.join('\n')).toMatch(/first-difference scales will be fitted on this run's training data/);
    const t = await loadCheckpoint(transfer.finalCheckpoint);
    expect(t.model.config.diffScales).toEqual(fitDiffScales(MinMaxScaler.fit(two).transform(two.values, 2), 600, 2));
    expect(t.model.toStateDict().get('linear_embedding.weight')?.shape).toEqual([16, 4 * 4]);
    t.model.dispose();

    // Asking for the original model on top of a diff checkpoint is a contradiction, named.
    await expect(
      trainAnomalyBert({
        train: two,
        out: path.join(root, 'bad'),
        backend: 'cpu',
        options: { max_steps: 2, diff_features: false, checkpoint: scratch.finalCheckpoint },
        log: quiet,
      }),
    ).rejects.toThrow(/'diff_features' false \(checkpoint: true\)/);
  });
});
