/**
 * Acceptance: `anomaly-lab power detect` with the seed's Keras detector, joblib scalers and
 * random forest on simData2.csv reproduces the reference pipeline's results
 * (../shared/fixtures/power-system/expected_default.json, computed with the Python seed).
 * One real CLI run (≈15 s on a free core) feeds every assertion.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpy } from 'anomaly-lab/io';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';

interface Expected {
  n_windows: number;
  threshold: number;
  n_anomalous_windows: number;
  sample_time: number;
  merged_intervals: Array<[number, number]>;
  features: Array<Record<string, number>>;
  feature_order: string[];
  rf_classes: string[];
  predictions: Array<{ predicted_fault: string; confidence: number; proba: number[] }>;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describeShared('power detect reproduces the seed pipeline (50, 95, 1500)', () => {
  const models = sharedPath('data/power-system/seed-models');
  const expected = JSON.parse(fs.readFileSync(sharedPath('fixtures/power-system/expected_default.json'), 'utf8')) as Expected;
  const expectedMse = readNpy(sharedPath('fixtures/power-system/expected_default_mse.npy'));
  let out: string;
  let results: Record<string, unknown> & {
    predictions: Array<{ predicted_fault: string; confidence: number; proba: number[]; start_time: number; end_time: number }>;
  };

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'power-fixture-'));
    const r = runCli([
      'power',
      'detect',
      '--data',
      sharedPath('data/power-system/simData2.csv'),
      '--detector',
      path.join(models, 'detector/lstm_autoencoder_anomaly_detection.h5'),
      '--scaler',
      path.join(models, 'detector/scaler.save'),
      '--classifier',
      path.join(models, 'classifier/fault_classifier.joblib'),
      '--classifier_scaler',
      path.join(models, 'classifier/classifier_scaler.joblib'),
      '--class_names',
      path.join(models, 'classifier/class_names.joblib'),
      '--sequence_length',
      '50',
      '--percentile',
      '95',
      '--max_gap',
      '1500',
      '--out',
      out,
      '--quiet',
    ]);
    if (r.code !== 0) throw new Error(`power detect failed (${r.code}): ${r.stderr}`);
    results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test('reconstruction MSE per window within 1e-5 relative (Keras float32 LSTM vs tfjs)', () => {
    const mse = readNpy(path.join(out, 'mse.npy'));
    expect(mse.shape).toEqual(expectedMse.shape);
    expect(mse.shape[0]).toBe(expected.n_windows);
    let worst = 0;
    for (let i = 0; i < mse.shape[0]; i++) worst = Math.max(worst, rel(Number(mse.data[i]), Number(expectedMse.data[i])));
    expect(worst).toBeLessThan(1e-5);
  });

  test('threshold within 1e-6 relative, same anomalous window count and sample time', () => {
    expect(rel(results.threshold as number, expected.threshold)).toBeLessThan(1e-6);
    expect(results.n_windows).toBe(expected.n_windows);
    expect(results.n_anomalous_windows).toBe(expected.n_anomalous_windows);
    expect(rel(results.sample_time as number, expected.sample_time)).toBeLessThan(1e-12);
  });

  test('same merged intervals', () => {
    const got = results.merged_intervals as Array<[number, number]>;
    expect(got.length).toBe(expected.merged_intervals.length);
    got.forEach(([s, e], i) => {
      // Interval ends are Time values read from the CSV: equal up to the parser's last bit.
      expect(Math.abs(s - expected.merged_intervals[i][0])).toBeLessThan(1e-12);
      expect(Math.abs(e - expected.merged_intervals[i][1])).toBeLessThan(1e-12);
    });
  });

  test('46 named features within 1e-6 relative, in the seed order', () => {
    expect(results.feature_order).toEqual(expected.feature_order);
    const feats = results.features as Array<Record<string, number>>;
    expect(feats.length).toBe(expected.features.length);
    feats.forEach((f, i) => {
      for (const name of expected.feature_order) expect(rel(f[name], expected.features[i][name])).toBeLessThan(1e-6);
    });
  });

  test('same fault labels, confidences within 1e-9, classes from the forest', () => {
    expect(results.classes).toEqual(expected.rf_classes);
    expect(results.predictions.length).toBe(expected.predictions.length);
    results.predictions.forEach((p, i) => {
      expect(p.predicted_fault).toBe(expected.predictions[i].predicted_fault);
      expect(Math.abs(p.confidence - expected.predictions[i].confidence)).toBeLessThan(1e-9);
      p.proba.forEach((v, k) => expect(Math.abs(v - expected.predictions[i].proba[k])).toBeLessThan(1e-9));
      expect(p.start_time).toBe((results.merged_intervals as number[][])[i][0]);
    });
  });

  test('anomalies.csv and report.md describe the same intervals', () => {
    const csv = fs.readFileSync(path.join(out, 'anomalies.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('start_time,end_time,duration,predicted_fault,confidence');
    expect(csv.length - 1).toBe(expected.merged_intervals.length);
    csv.slice(1).forEach((line, i) => {
      const [s, e, , fault, conf] = line.split(',');
      expect(Number(s)).toBe((results.merged_intervals as number[][])[i][0]);
      expect(Number(e)).toBe((results.merged_intervals as number[][])[i][1]);
      expect(fault).toBe(expected.predictions[i].predicted_fault);
      expect(Number(conf)).toBe(results.predictions[i].confidence);
    });
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain(`total anomalies (merged intervals): ${expected.merged_intervals.length}`);
    for (const p of expected.predictions) expect(md).toContain(`| ${p.predicted_fault} |`);
  });
});
