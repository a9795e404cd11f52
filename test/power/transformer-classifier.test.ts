/**
 * The seed's transformer fault classifier (../shared/data/power-system/seed-models/classifier_transformer)
 * imported by the real built library in a child `node` process (h5wasm is ESM with import.meta,
 * which jest cannot load): every weight equals its HDF5 dataset, the model classifies the
 * intervals the reference pipeline found in simData2.csv (fixture), bad directories give one-line
 * errors naming the file. There is no reference output for this model (see docs/power.md).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { REPO_ROOT, describeShared, sharedPath } from '../helpers/shared';

const CHILD = `
import h5wasm from 'h5wasm/node';
import { createRequire } from 'module';
import * as fs from 'fs';
import * as path from 'path';
const require = createRequire(path.join(process.cwd(), 'x.js'));
const { initBackend } = require('anomaly-lab');
const tf = require('@tensorflow/tfjs');
const tc = require('anomaly-lab/power');
const { loadPowerData } = tc;
const [dir, csv, fixture, tmp, badScaler] = process.argv.slice(1);
await initBackend({ backend: 'wasm', log: false });
const clf = await tc.loadTransformerClassifier(dir);
await h5wasm.ready;
const f = new h5wasm.File(path.join(dir, 'best_fault_classifier.h5'), 'r');
const weights = [];
for (const layer of clf.model.layers) {
  for (const w of layer.weights) {
    const ds = f.get('model_weights/' + layer.name + '/' + w.name);
    const mine = w.read().dataSync();
    let maxAbsDiff = ds ? 0 : Infinity;
    if (ds) {
      const ref = ds.value;
      if (ref.length !== mine.length) maxAbsDiff = Infinity;
      else for (let i = 0; i < ref.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ref[i] - mine[i]));
    }
    weights.push({ name: w.name, shape: w.shape, h5Shape: ds ? ds.shape : null, maxAbsDiff });
  }
}
f.close();
const data = await loadPowerData(csv);
const expected = JSON.parse(fs.readFileSync(fixture, 'utf8'));
const before = tf.memory().numTensors;
const predictions = tc.classifyIntervalsTransformer(clf, data, expected.merged_intervals);
const again = tc.classifyIntervalsTransformer(clf, data, expected.merged_intervals, { batchSize: 3 });
const after = tf.memory().numTensors;
const errors = {};
const copy = (name, edit) => {
  const d = path.join(tmp, name);
  fs.mkdirSync(d);
  for (const file of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, file), path.join(d, file));
  edit(d);
  return d;
};
const tryLoad = async (d) => { try { (await tc.loadTransformerClassifier(d)).model.dispose(); return 'loaded'; } catch (e) { return e.message; } };
errors.missing = await tryLoad(copy('missing', (d) => fs.unlinkSync(path.join(d, 'label_encoder.joblib'))));
errors.shape = await tryLoad(copy('shape', (d) => fs.copyFileSync(badScaler, path.join(d, 'feature_scaler.joblib'))));
errors.notH5 = await tryLoad(copy('noth5', (d) => fs.writeFileSync(path.join(d, 'best_fault_classifier.h5'), 'not a model')));
process.stdout.write(JSON.stringify({
  inputShapes: clf.model.inputs.map((t) => t.shape), outputShape: clf.model.outputs[0].shape, params: clf.model.countParams(),
  classes: clf.classes, metadata: clf.metadata, weights, predictions, again, tensorGrowth: after - before, errors,
}));
clf.model.dispose();
`;

interface ChildResult {
  inputShapes: unknown;
  outputShape: unknown;
  params: number;
  classes: string[];
  metadata: { sequence_length: number; n_features: number; performance: { test_accuracy: number } };
  weights: Array<{ name: string; shape: number[]; h5Shape: number[] | null; maxAbsDiff: number }>;
  predictions: Array<{ predicted_fault: string; confidence: number; proba: number[]; window_starts: number[] }>;
  again: Array<{ proba: number[] }>;
  tensorGrowth: number;
  errors: Record<string, string>;
}

describeShared('seed transformer fault classifier (real files)', () => {
  const dir = sharedPath('data/power-system/seed-models/classifier_transformer');
  const fixture = sharedPath('fixtures/power-system/expected_default.json');
  const expected = JSON.parse(fs.readFileSync(fixture, 'utf8')) as {
    merged_intervals: Array<[number, number]>;
    predictions: Array<{ predicted_fault: string }>;
  };
  let tmp: string;
  let r: ChildResult;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'power-tc-'));
    const c = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        CHILD,
        dir,
        sharedPath('data/power-system/simData2.csv'),
        fixture,
        tmp,
        sharedPath('data/power-system/seed-models/detector/scaler.save'),
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (c.status !== 0) throw new Error(`child failed (${c.status}): ${c.stderr}`);
    r = JSON.parse(c.stdout) as ChildResult;
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('graph: inputs [128, 6] and [57], 5 softmax classes from the label encoder, 13,301 parameters', () => {
    expect(r.inputShapes).toEqual([
      [null, 128, 6],
      [null, 57],
    ]);
    expect(r.outputShape).toEqual([null, 5]);
    // Keras: MHA 3·(6·256 + 256) + 256·6 + 6, 3 LN·12, Dense 896 + 774 + 1856 + 2496 + 325.
    expect(r.params).toBe(13301);
    expect(r.classes).toEqual(['LG', 'LL', 'LLG', 'LLL', 'LLLG']);
    expect(r.metadata.sequence_length).toBe(128);
    expect(r.metadata.n_features).toBe(57);
  });

  test('every weight equals its HDF5 dataset (shape and values, exactly)', () => {
    expect(r.weights.length).toBe(24);
    for (const w of r.weights) {
      expect(w.h5Shape).toEqual(w.shape);
      expect(w.maxAbsDiff).toBe(0);
    }
  });

  test("classifies the reference pipeline's simData2 intervals: valid distributions, deterministic, no tensor leak", () => {
    expect(r.predictions.length).toBe(expected.merged_intervals.length);
    r.predictions.forEach((p, i) => {
      expect(r.classes).toContain(p.predicted_fault);
      expect(p.proba.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.confidence).toBe(Math.max(...p.proba));
      // ~1230-row intervals → 10 windows of 128 rows.
      expect(p.window_starts.length).toBeGreaterThanOrEqual(1);
      r.again[i].proba.forEach((q, c) => expect(Math.abs(q - p.proba[c])).toBeLessThan(1e-6));
    });
    expect(r.tensorGrowth).toBe(0);
    // Observed, not a reference: the two classifiers agree on the first two intervals (LL, LG);
    // on the third the forest says LLL (0.43) and the transformer LLLG over LLL. Guards regressions.
    expect(r.predictions.slice(0, 2).map((p) => p.predicted_fault)).toEqual(expected.predictions.slice(0, 2).map((p) => p.predicted_fault));
  });

  test('bad directories: one-line errors naming the file', () => {
    expect(r.errors.missing).toMatch(/label_encoder\.joblib: transformer classifier file not found/);
    expect(r.errors.shape).toMatch(/feature_scaler\.joblib: feature scaler has 6 features, the model's feature input has 57$/);
    expect(r.errors.notH5).toMatch(/best_fault_classifier\.h5: not an HDF5 file/);
    for (const m of Object.values(r.errors)) expect(m).not.toContain('\n');
  });

  test('CLI: a wrong --classifier_transformer directory fails before any model runs', () => {
    const missing = path.join(tmp, 'nope');
    const c = runCli([
      'power',
      'detect',
      '--data',
      sharedPath('data/power-system/simData2.csv'),
      '--detector',
      sharedPath('data/power-system/seed-models/detector/lstm_autoencoder_anomaly_detection.h5'),
      '--scaler',
      sharedPath('data/power-system/seed-models/detector/scaler.save'),
      '--classifier_transformer',
      missing,
      '--out',
      path.join(tmp, 'out'),
      '--quiet',
    ]);
    expect(c.code).toBe(1);
    expect(c.stderr.trim()).toBe(`anomaly-lab power: ${missing}: transformer classifier directory not found (--classifier_transformer)`);
  });
});
