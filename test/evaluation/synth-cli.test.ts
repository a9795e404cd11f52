/**
 * `anomaly-lab synth` through the real built CLI: on a real ESS day from ../shared (parquet), and on
 * a CSV written here for the error cases.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readNpy, toFloat32, loadSeries } from 'anomaly-lab/io';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';

const ESS_COLUMNS = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'synth-cli-'));

interface IntervalsJson {
  columns: string[];
  length: number;
  label_rate: number;
  scaler: { min: number[]; max: number[] };
  intervals: Array<{ type: string; start: number; end: number; columns: number[]; points?: number[] }>;
}

describeShared('anomaly-lab synth on a real panli-clean day', () => {
  const day = sharedPath('data/ess/panli-clean/20220826.parquet');

  test('writes test.npy in the input units, labels that match the recorded intervals, and is reproducible', async () => {
    const out = tmp();
    const args = ['synth', '--data', day, '--columns', ESS_COLUMNS.join(','), '--out', out, '--seed', '3', '--anomalies', '6'];
    const r = runCli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*test\.npy \(86400, 5\) float32/);
    const test = readNpy(path.join(out, 'test.npy'));
    const labels = readNpy(path.join(out, 'test_label.npy'));
    expect(test.shape).toEqual([86400, 5]);
    expect(test.dtype).toBe('float32');
    expect(labels.shape).toEqual([86400]);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'test_intervals.json'), 'utf8')) as IntervalsJson;
    expect(meta.columns).toEqual(ESS_COLUMNS);
    expect(meta.intervals.length).toBe(6);

    const expected = new Uint8Array(86400);
    for (const iv of meta.intervals) {
      if (iv.type === 'peak_noise') for (const p of iv.points!) expected[p] = 1;
      else expected.fill(1, iv.start, iv.end);
    }
    expect(Buffer.from(labels.data.buffer, labels.data.byteOffset, labels.data.byteLength).equals(Buffer.from(expected))).toBe(true);
    expect(meta.label_rate).toBeCloseTo(expected.reduce((s, v) => s + v, 0) / 86400, 12);

    // Outside the degraded (row, column) cells the data are the original, back in their own units.
    const original = await loadSeries(day, { columns: ESS_COLUMNS });
    const values = toFloat32(test);
    const degraded = new Uint8Array(86400 * 5);
    for (const iv of meta.intervals) for (const c of iv.columns) for (let t = iv.start; t < iv.end; t++) degraded[t * 5 + c] = 1;
    let worst = 0;
    let changed = 0;
    for (let i = 0; i < values.length; i++) {
      const range = meta.scaler.max[i % 5] - meta.scaler.min[i % 5] || 1;
      const d = Math.abs(values[i] - original.values[i]) / range;
      if (!degraded[i]) worst = Math.max(worst, d);
      else if (d > 1e-6) changed++;
    }
    expect(worst).toBeLessThan(1e-6); // float32 round trip through the [0, 1] scaling
    expect(changed).toBeGreaterThan(0);

    const again = tmp();
    expect(
      runCli(['synth', '--data', day, '--columns', ESS_COLUMNS.join(','), '--out', again, '--seed', '3', '--anomalies', '6']).code,
    ).toBe(0);
    for (const f of ['test.npy', 'test_label.npy']) {
      expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(out, f)))).toBe(true);
    }
  });

  test('an unknown column names the file and the column', () => {
    const r = runCli(['synth', '--data', day, '--columns', 'BANK_DC_VOLT,NOPE', '--out', tmp()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/20220826\.parquet/);
    expect(r.stderr).toMatch(/NOPE/);
  });
});

describe('anomaly-lab synth options and errors', () => {
  function csv(rows: number): string {
    const dir = tmp();
    const file = path.join(dir, 'normal.csv');
    const lines = ['time,voltage,current'];
    for (let t = 0; t < rows; t++) lines.push(`${t},${(3.6 + 0.2 * Math.sin(t / 30)).toFixed(5)},${(10 * Math.cos(t / 50)).toFixed(5)}`);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  test('--output_scale unit keeps [0, 1] values; --json prints the summary; --types restricts the anomalies', () => {
    const out = tmp();
    const r = runCli([
      'synth',
      '--data',
      csv(3000),
      '--out',
      out,
      '--output-scale',
      'unit',
      '--types',
      'uniform_replacement',
      '--anomalies',
      '3',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { length: number; columns: string[]; anomalies: number };
    expect(summary).toMatchObject({ length: 3000, columns: ['voltage', 'current'], anomalies: 3 });
    const values = toFloat32(readNpy(path.join(out, 'test.npy')));
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'test_intervals.json'), 'utf8')) as IntervalsJson;
    expect(meta.intervals.every((iv) => iv.type === 'uniform_replacement')).toBe(true);
  });

  test('bad input ends in a one-line error naming the option or file', () => {
    const data = csv(500);
    const cases: Array<{ args: string[]; code: number; msg: RegExp }> = [
      { args: ['synth', '--data', data], code: 2, msg: /missing required option --out/ },
      // the option checks are the library's (checkSynthOptions), run on the flags before any data is read
      { args: ['synth', '--data', data, '--out', tmp(), '--types', 'spike'], code: 2, msg: /option --types: unknown anomaly type 'spike'/ },
      {
        args: ['synth', '--data', data, '--out', tmp(), '--types', ','],
        code: 2,
        msg: /option --types must name at least one anomaly type/,
      },
      { args: ['synth', '--data', data, '--out', tmp(), '--anomalies', '0'], code: 2, msg: /option --anomalies must be ≥ 1, got 0/ },
      {
        args: ['synth', '--data', data, '--out', tmp(), '--max_length', '2'],
        code: 2,
        msg: /options --min_length \(0\.0005\) and --max_length \(2\) must satisfy 0 < min ≤ max ≤ 1/,
      },
      {
        args: ['synth', '--data', path.join(tmp(), 'missing.csv'), '--out', tmp(), '--min_length', '0.2', '--max_length', '0.1'],
        code: 2,
        msg: /options --min_length \(0\.2\) and --max_length \(0\.1\)/,
      },
      { args: ['synth', '--data', path.join(tmp(), 'missing.csv'), '--out', tmp()], code: 1, msg: /missing\.csv/ },
      { args: ['synth', '--data', data, '--out', tmp(), '--anomalies', '400'], code: 1, msg: /normal\.csv.*--anomalies/ },
    ];
    for (const c of cases) {
      const r = runCli(c.args);
      expect({ code: r.code, stderr: r.stderr.trim().split('\n').length }).toEqual({ code: c.code, stderr: 1 });
      expect(r.stderr).toMatch(c.msg);
    }
  });
});
