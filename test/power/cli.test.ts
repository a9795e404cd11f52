/** `power synth` → `power train` → `power detect` through the real CLI, tiny sizes. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { BundleDetector, decodeViewerBundle, initialDetectionSettings, parseViewerBundle } from 'anomaly-lab/core';

describe('power synth / train / detect CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('generated faults are found by models trained with the CLI', () => {
    const data = path.join(dir, 'test.csv');
    const synth = runCli(['power', 'synth', '--out', data, '--duration', '2', '--sample_rate', '2000', '--n_faults', '4', '--seed', '9']);
    expect(synth.code).toBe(0);
    const truth = JSON.parse(fs.readFileSync(path.join(dir, 'test.faults.json'), 'utf8')) as {
      faults: Array<{ type: string; start: number; end: number }>;
    };
    expect(truth.faults).toHaveLength(4);

    const models = path.join(dir, 'models');
    const train = runCli([
      'power',
      'train',
      '--out',
      models,
      '--epochs',
      '2',
      '--max_windows',
      '150',
      '--units',
      '4,2',
      '--sequence_length',
      '20',
      '--classifier_recordings',
      '4',
      '--sample_rate',
      '2000',
      '--n_estimators',
      '30',
      '--backend',
      'wasm',
    ]);
    expect(train.code).toBe(0);
    for (const f of [
      'detector/model.json',
      'detector/weights.bin',
      'detector/detector.json',
      'classifier.json',
      'classifier_scaler.json',
      'training.json',
    ]) {
      expect(fs.existsSync(path.join(models, f))).toBe(true);
    }
    const meta = JSON.parse(fs.readFileSync(path.join(models, 'detector/detector.json'), 'utf8'));
    expect(meta.scaler.mean).toHaveLength(6);
    expect(meta.training.suggested_threshold).toBeGreaterThan(0);

    const out = path.join(dir, 'out');
    const detect = runCli([
      'power',
      'detect',
      '--data',
      data,
      '--detector',
      path.join(models, 'detector'),
      '--classifier',
      path.join(models, 'classifier.json'),
      '--classifier_scaler',
      path.join(models, 'classifier_scaler.json'),
      '--threshold',
      'suggested',
      '--max_gap',
      '100',
      '--out',
      out,
      '--backend',
      'wasm',
    ]);
    expect(detect.code).toBe(0);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      merged_intervals: Array<[number, number]>;
      predictions: Array<{ predicted_fault: string }>;
      threshold: number;
    };
    expect(res.threshold).toBeCloseTo(meta.training.suggested_threshold, 12);
    // Every injected fault overlaps a detected interval.
    for (const f of truth.faults) expect(res.merged_intervals.some(([s, e]) => Math.min(e, f.end) > Math.max(s, f.start))).toBe(true);
    expect(res.predictions).toHaveLength(res.merged_intervals.length);
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('## Fault distribution');
    // The viewer bundle carries the fixed threshold as mode 'value': re-thresholded by the viewer's
    // browser code it flags the windows and merges the intervals this run found.
    const bundle = parseViewerBundle(fs.readFileSync(path.join(out, 'detection.anomaly.json'), 'utf8'));
    expect(bundle.threshold).toEqual({ mode: 'value', value: res.threshold, pointAdjust: false, maxGapSamples: 100 });
    const decoded = decodeViewerBundle(bundle);
    const viewed = new BundleDetector(decoded).run(initialDetectionSettings(decoded));
    expect(viewed.threshold).toBe(res.threshold);
    expect(viewed.intervals.map((iv) => [iv.start, iv.end])).toEqual(res.merged_intervals);
    expect(viewed.intervals.map((iv) => iv.fault)).toEqual(res.predictions.map((p) => p.predicted_fault));

    // The detection run records a manifest; re-running it from the manifest reproduces the results.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.kind).toBe('power-detect');
    expect(manifest.metrics.threshold).toBe(res.threshold);
    expect(manifest.metrics.n_intervals).toBe(res.merged_intervals.length);
    expect(viewed.anomalousCount).toBe(manifest.metrics.n_anomalous_windows);
    expect(manifest.inputs.map((i: { role: string }) => i.role)).toEqual(
      expect.arrayContaining(['data', 'detector', 'classifier', 'classifier_scaler']),
    );
    const again = path.join(dir, 'out-again');
    const rep = runCli(['reproduce', '--manifest', out, '--out', again]);
    expect(rep.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(again, 'results.json'), 'utf8')).merged_intervals).toEqual(res.merged_intervals);
  });

  test('bad options are named', () => {
    const r = runCli(['power', 'train', '--out', path.join(dir, 'x'), '--units', '4,zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option --units expects positive integers/);
    const s = runCli(['power', 'synth', '--out', path.join(dir, 'y.csv'), '--fault_types', 'LG,XX']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/unknown fault type 'XX'/);
    const d = runCli(['power', 'detect', '--data', 'a.csv', '--detector', 'b', '--out', 'o', '--percentile', '120']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--percentile must be within \[0, 100\]/);
  });
});
