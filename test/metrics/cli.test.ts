/** The real built CLI (`anomaly-lab metrics`) against the reference fixture and on bad input. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';
import { ewmaSmooth, prepareMetrics, MetricRow } from 'anomaly-lab/core';
import { readNpy, toFloat64, writeNpy } from 'anomaly-lab/io';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Report {
  without_pa: MetricRow;
  with_pa: MetricRow;
  random_with_pa: MetricRow;
  pa_k: { k: number[]; f1: number[]; auc: number };
  unsmoothed?: { without_pa: MetricRow; with_pa: MetricRow };
}

function metricsJson(args: string[]): Report {
  const r = runCli(['metrics', ...args, '--json']);
  if (r.code !== 0) throw new Error(`CLI failed (${r.code}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // exactly one JSON object
  return JSON.parse(lines[0]) as Report;
}

function expectClose(actual: MetricRow, expected: Partial<MetricRow>): void {
  for (const key of ['precision', 'recall', 'f1', 'ess_score', 'anomaly_rate'] as const) {
    if (expected[key] !== undefined) expect(Math.abs(actual[key] - (expected[key] as number))).toBeLessThanOrEqual(1e-9);
  }
}

describeShared('anomaly-lab metrics on the reference fixture', () => {
  const scoresFile = sharedPath('fixtures/anomalybert/metric_scores.npy');
  const labelsFile = sharedPath('fixtures/anomalybert/metric_labels.npy');
  const expected = JSON.parse(fs.readFileSync(sharedPath('fixtures/anomalybert/expected.json'), 'utf8')) as {
    metrics: Array<MetricRow & { point_adjust: boolean }>;
    best: { without_pa: Partial<MetricRow>; with_pa: Partial<MetricRow> };
  };

  test('sweep (no --anomaly_rate): best rows equal expected.best; PA%K ends equal them', () => {
    const r = metricsJson(['--scores', scoresFile, '--labels', labelsFile]);
    expectClose(r.without_pa, expected.best.without_pa);
    expectClose(r.with_pa, expected.best.with_pa);
    expect(r.pa_k.k).toHaveLength(101);
    expect(r.pa_k.f1[0]).toBeCloseTo(r.with_pa.f1, 12);
    expect(r.pa_k.f1[100]).toBeCloseTo(r.without_pa.f1, 12);
    expect(r.pa_k.auc).toBeGreaterThan(0);
    expect(r.random_with_pa.f1).toBeGreaterThan(0);
    expect(r.random_with_pa.f1).toBeLessThan(r.with_pa.f1);
  });

  const rates = [...new Set(expected.metrics.map((m) => m.anomaly_rate))];
  test.each(rates)('--anomaly_rate %s: both rows of expected.json', (rate) => {
    const r = metricsJson(['--scores', scoresFile, '--labels', labelsFile, '--anomaly_rate', String(rate), '--point_adjust_k', '0,50,100']);
    expectClose(r.without_pa, expected.metrics.find((m) => m.anomaly_rate === rate && !m.point_adjust) as MetricRow);
    expectClose(r.with_pa, expected.metrics.find((m) => m.anomaly_rate === rate && m.point_adjust) as MetricRow);
    expect(r.pa_k.k).toEqual([0, 50, 100]);
    expect(r.random_with_pa.anomaly_rate).toBe(rate);
  });

  test('labels as bool, float64 and int64 and scores as (length, 1) float32 give the same numbers', () => {
    const labels = readNpy(labelsFile).data as Int32Array;
    const scores = toFloat64(readNpy(scoresFile));
    const lb = path.join(tmp, 'labels_bool.npy');
    const lf = path.join(tmp, 'labels_f8.npy');
    const li = path.join(tmp, 'labels_i8.npy');
    writeNpy(lb, Uint8Array.from(labels), [labels.length, 1], 'bool');
    writeNpy(lf, Float64Array.from(labels), [labels.length]);
    writeNpy(
      li,
      BigInt64Array.from(labels, (v) => BigInt(v)),
      [labels.length],
    );
    const s32 = path.join(tmp, 'scores_f4.npy');
    writeNpy(s32, Float32Array.from(scores), [scores.length, 1]);
    const base = metricsJson(['--scores', scoresFile, '--labels', labelsFile, '--point_adjust_k', '0,100']);
    for (const l of [lb, lf, li]) {
      const r = metricsJson(['--scores', scoresFile, '--labels', l, '--point_adjust_k', '0,100']);
      expect(r.without_pa).toEqual(base.without_pa);
      expect(r.with_pa).toEqual(base.with_pa);
    }
    // float32 scores: the library on the same float32 values is the reference
    const r32 = metricsJson(['--scores', s32, '--labels', lb, '--point_adjust_k', '0,100']);
    const ev = prepareMetrics(Float32Array.from(scores), labels);
    expect(r32.with_pa).toEqual(ev.sweep({ pointAdjust: true }));
  });

  test('--smooth_scores uses the EWMA and also reports the unsmoothed rows; --out writes the same JSON', () => {
    const out = path.join(tmp, 'm.json');
    const r = metricsJson([
      '--scores',
      scoresFile,
      '--labels',
      labelsFile,
      '--smooth-scores',
      '--smoothing-weight',
      '0.8',
      '--out',
      out,
      '--point_adjust_k',
      '0',
    ]);
    const scores = toFloat64(readNpy(scoresFile));
    const labels = readNpy(labelsFile).data as Int32Array;
    expect(r.without_pa).toEqual(prepareMetrics(ewmaSmooth(scores, 0.8), labels).sweep({ pointAdjust: false }));
    expectClose(r.unsmoothed!.without_pa, expected.best.without_pa);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(r);
  });

  test('the table output (no --json) shows all three rows', () => {
    const r = runCli(['metrics', '--scores', scoresFile, '--labels', labelsFile, '--point_adjust_k', '0,100']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/without PA\s+2\.20%\s+98\.18%\s+38\.16%\s+54\.96%/);
    expect(r.stdout).toMatch(/with PA\s+0\.60%\s+100\.00%\s+98\.94%\s+99\.47%/);
    expect(r.stdout).toMatch(/random scores, PA/);
    expect(r.stdout).toMatch(/PA%K F1 AUC/);
  });
});

describe('anomaly-lab metrics: bad input', () => {
  const s = path.join(tmp, 's.npy');
  const l = path.join(tmp, 'l.npy');
  beforeAll(() => {
    writeNpy(s, new Float32Array([0.1, 0.9, 0.2, 0.8]));
    writeNpy(l, new Int32Array([0, 1, 0, 1]));
  });

  test('length mismatch names both files', () => {
    const short = path.join(tmp, 'short.npy');
    writeNpy(short, new Int32Array([0, 1, 0]));
    const r = runCli(['metrics', '--scores', s, '--labels', short, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`length mismatch: --scores ${s} has 4 points, --labels ${short} has 3`);
  });

  test('labels that are not 0/1, 2-column scores, NaN scores, a missing file', () => {
    const bad = path.join(tmp, 'bad_labels.npy');
    writeNpy(bad, new Float32Array([0, 1, 0.5, 1]));
    let r = runCli(['metrics', '--scores', s, '--labels', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--labels ${bad}: labels must be 0/1, found 0.5 at index 2`);
    const wide = path.join(tmp, 'wide.npy');
    writeNpy(wide, new Float32Array(8), [4, 2]);
    r = runCli(['metrics', '--scores', wide, '--labels', l]);
    expect(r.stderr).toContain(`--scores ${wide}: expected shape (length,) or (length, 1), got (4, 2)`);
    const nan = path.join(tmp, 'nan.npy');
    writeNpy(nan, new Float64Array([0.1, NaN, 0.2, 0.3]));
    r = runCli(['metrics', '--scores', nan, '--labels', l]);
    expect(r.stderr).toContain(`--scores ${nan}: non-finite score NaN at index 1`);
    r = runCli(['metrics', '--scores', path.join(tmp, 'missing.npy'), '--labels', l]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.npy: cannot read/);
  });

  test('a .npy with a bad header or truncated data: one-line error naming the file, exit 1', () => {
    const good = fs.readFileSync(s);
    const badHeader = path.join(tmp, 'bad_header.npy');
    fs.writeFileSync(
      badHeader,
      Buffer.concat([
        good.subarray(0, 10),
        Buffer.from("{'descr': '<f4', 'shape': (4,), }".padEnd(good.readUInt16LE(8) - 1) + '\n'),
        good.subarray(10 + good.readUInt16LE(8)),
      ]),
    );
    let r = runCli(['metrics', '--scores', badHeader, '--labels', l]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${badHeader}: not a supported .npy file: header has no 'fortran_order'`);
    const truncated = path.join(tmp, 'truncated.npy');
    fs.writeFileSync(truncated, good.subarray(0, good.length - 3));
    r = runCli(['metrics', '--scores', truncated, '--labels', l]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${truncated}: not a supported .npy file: truncated data`);
  });

  test('usage errors exit 2 and name the option', () => {
    let r = runCli(['metrics', '--labels', l]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing required option --scores');
    r = runCli(['metrics', '--scores', s, '--labels', l, '--anomaly_rate', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--anomaly_rate must be in [0, 1], got 2');
    r = runCli(['metrics', '--scores', s, '--labels', l, '--point_adjust_k', '10,abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--point_adjust_k: 'abc' is not a percentage");
  });
});
