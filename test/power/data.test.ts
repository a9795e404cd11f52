/** Reading Time,Va..Ic recordings: values, sample time, and errors that name the row/column. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  loadPowerData,
  parsePowerCsv,
  powerDataToCsv,
  powerDataToDataFrame,
  POWER_SIGNALS,
  writePowerParquet,
  FAULT_TYPES,
  generatePowerData,
} from 'anomaly-lab/power';
import { runCli } from '../helpers/cli';

const HEADER = 'Time,Va,Vb,Vc,Ia,Ib,Ic';
const row = (t: number, v = 1): string => [t, v, -v, 0.5, 10, -10, 0].join(',');
const csv = (...lines: string[]): string => [HEADER, ...lines].join('\n') + '\n';

describe('parsePowerCsv', () => {
  test('reads columns in float64 and reports the sample time', () => {
    const d = parsePowerCsv(csv(row(0), row(0.001, 0.123456789012345), row(0.002)), 'ok.csv');
    expect(d.length).toBe(3);
    expect(d.sampleTime).toBeCloseTo(0.001, 15);
    expect(d.signals[0][1]).toBe(0.123456789012345);
    expect(d.signals).toHaveLength(POWER_SIGNALS.length);
  });

  test('column order in the file does not matter; extra columns are ignored', () => {
    const d = parsePowerCsv('Ic,Ib,Ia,Vc,Vb,Va,Time,extra\n6,5,4,3,2,1,0,x\n6,5,4,3,2,1,0.5,y\n', 'reordered.csv');
    expect(Array.from(d.signals.map((s) => s[0]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.sampleTime).toBe(0.5);
  });

  test.each([
    ['missing column', 'Time,Va,Vb,Vc,Ia,Ib\n0,1,1,1,1,1\n', /bad\.csv: missing column 'Ic'/],
    ['non-numeric cell', csv(row(0), '0.001,1,abc,0,0,0,0'), /bad\.csv: row 2 \(line 3\), column 'Vb': 'abc' is not a number/],
    ['NaN cell', csv(row(0), row(0.001), '0.002,1,1,NaN,0,0,0'), /bad\.csv: row 3 \(line 4\), column 'Vc': NaN/],
    ['empty cell', csv(row(0), '0.001,1,1,1,,0,0'), /bad\.csv: row 2 \(line 3\), column 'Ia': empty cell/],
    ['short row', csv(row(0), '0.001,1,1'), /bad\.csv: row 2 \(line 3\) has 3 cells; column 'Vc' is missing/],
    [
      'non-increasing time',
      csv(row(0), row(0.001), row(0.001)),
      /bad\.csv: row 3, column 'Time': 0\.001 is not greater than the previous time 0\.001/,
    ],
    ['irregular time', csv(row(0), row(0.001), row(0.002), row(0.004)), /bad\.csv: row 4, column 'Time': step 0\.002.*irregular sampling/],
    ['infinite value', csv(row(0), '0.001,1,1,Infinity,0,0,0'), /bad\.csv: row 2, column 'Vc': value Infinity is not a finite number/],
    ['one row only', csv(row(0)), /bad\.csv: 1 data rows; at least 2 are needed/],
    ['empty file', '', /bad\.csv: empty file/],
  ])('%s → clear error', (_name, text, pattern) => {
    expect(() => parsePowerCsv(text, 'bad.csv')).toThrow(pattern);
  });

  test('time jitter within the tolerance passes, beyond it fails', () => {
    const text = csv(row(0), row(0.001), row(0.002005), row(0.003));
    expect(parsePowerCsv(text, 'jitter.csv').length).toBe(4);
    expect(() => parsePowerCsv(text, 'jitter.csv', { timeTolerance: 0.001 })).toThrow(/jitter\.csv: row 3/);
  });
});

describe('loadPowerData and the CLI on malformed files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'power-data-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('round trip through CSV keeps every float64 bit', async () => {
    const g = generatePowerData({ seed: 3, duration: 0.2, sampleRate: 2000, nFaults: 0 });
    const f = path.join(dir, 'gen.csv');
    fs.writeFileSync(f, powerDataToCsv(g.data));
    const back = await loadPowerData(f);
    expect(back.length).toBe(g.data.length);
    for (let c = 0; c < 6; c++) expect(Array.from(back.signals[c])).toEqual(Array.from(g.data.signals[c]));
  });

  test('parquet: same values as written; a missing column and a NaN are named', async () => {
    const g = generatePowerData({ seed: 6, duration: 0.1, sampleRate: 2000, nFaults: 0 });
    const f = path.join(dir, 'gen.parquet');
    await writePowerParquet(f, g.data);
    const back = await loadPowerData(f);
    expect(back.sampleTime).toBe(g.data.sampleTime);
    for (let c = 0; c < 6; c++) expect(Array.from(back.signals[c])).toEqual(Array.from(g.data.signals[c]));
    const noIc = { ...g.data, signals: g.data.signals.slice(0, 5) };
    const writer = await import('hyparquet-writer');
    const cols = [
      { name: 'Time', data: g.data.time, type: 'DOUBLE' as const, nullable: false },
      ...['Va', 'Vb', 'Vc', 'Ia', 'Ib'].map((name, c) => ({ name, data: noIc.signals[c], type: 'DOUBLE' as const, nullable: false })),
    ];
    const f2 = path.join(dir, 'noic.parquet');
    fs.writeFileSync(f2, new Uint8Array(writer.parquetWriteBuffer({ columnData: cols })));
    await expect(loadPowerData(f2)).rejects.toThrow(`${f2}: missing column 'Ic'`);
    const withNaN = {
      ...g.data,
      signals: g.data.signals.map((s, c) => (c === 2 ? Float64Array.from(s, (v, i) => (i === 9 ? NaN : v)) : s)),
    };
    const f3 = path.join(dir, 'nan.parquet');
    await writePowerParquet(f3, withNaN);
    await expect(loadPowerData(f3)).rejects.toThrow(`${f3}: row 10, column 'Vc': NaN`);
  });

  test('danfojs-node DataFrame for notebooks has Time and the six signals', () => {
    const g = generatePowerData({ seed: 4, duration: 0.05, sampleRate: 2000, nFaults: 0 });
    const df = powerDataToDataFrame(g.data) as { shape: number[]; columns: string[]; column(name: string): { values: number[] } };
    expect(df.shape).toEqual([g.data.length, 7]);
    expect(df.columns).toEqual(['Time', ...POWER_SIGNALS]);
    expect(df.column('Ib').values).toEqual(Array.from(g.data.signals[4]));
  });

  test('missing file and directory are named', async () => {
    await expect(loadPowerData(path.join(dir, 'nope.csv'))).rejects.toThrow(/nope\.csv: no such file/);
    await expect(loadPowerData(dir)).rejects.toThrow(/is a directory/);
  });

  test('power detect on a malformed CSV exits 1 naming the file, row and column', () => {
    const f = path.join(dir, 'broken.csv');
    fs.writeFileSync(f, csv(row(0), row(0.001), '0.002,1,1,1,oops,0,0'));
    const r = runCli([
      'power',
      'detect',
      '--data',
      f,
      '--detector',
      path.join(dir, 'none.h5'),
      '--scaler',
      path.join(dir, 'none.json'),
      '--out',
      path.join(dir, 'out'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}: row 3 (line 4), column 'Ia': 'oops' is not a number`);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  test('power detect usage errors exit 2', () => {
    const r = runCli(['power', 'detect', '--data', 'x.csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required option --detector/);
    const bad = runCli(['power', 'nosuch']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown subcommand 'power nosuch'/);
  });
});

describe('synthetic generator', () => {
  test('deterministic per seed, faults labelled where injected, all types present', () => {
    const a = generatePowerData({ seed: 7, duration: 2, sampleRate: 2000, nFaults: 5 });
    const b = generatePowerData({ seed: 7, duration: 2, sampleRate: 2000, nFaults: 5 });
    expect(Array.from(a.data.signals[3])).toEqual(Array.from(b.data.signals[3]));
    expect(a.faults.map((f) => f.type).sort()).toEqual([...FAULT_TYPES].sort());
    const dt = a.data.sampleTime;
    let labelled = 0;
    for (const f of a.faults) {
      const i = Math.ceil(f.start / dt) + 1;
      expect(a.labels[i]).toBe(1);
      labelled += Math.round((f.end - f.start) / dt);
    }
    const total = a.labels.reduce((s, v) => s + v, 0);
    expect(Math.abs(total - labelled)).toBeLessThanOrEqual(2 * a.faults.length);
    // Faults do not overlap and keep the separation.
    const sorted = [...a.faults].sort((x, y) => x.start - y.start);
    for (let k = 1; k < sorted.length; k++) expect(sorted[k].start - sorted[k - 1].end).toBeGreaterThanOrEqual(0.25 - 1e-9);
  });

  test('fault signatures: LG raises one phase current, LL ties two voltages, LLL stays balanced', () => {
    const rms = (x: Float64Array, a: number, b: number): number => {
      let s = 0;
      for (let i = a; i < b; i++) s += x[i] * x[i];
      return Math.sqrt(s / (b - a));
    };
    const mk = (type: 'LG' | 'LL' | 'LLL', phases: number[]) =>
      generatePowerData({
        seed: 1,
        duration: 0.6,
        sampleRate: 5000,
        noise: 0,
        loadChanges: 0,
        faults: [{ type, start: 0.3, end: 0.4, phases, depth: 0.8, gain: 5 }],
      });
    const idx = (d: { sampleTime: number }, t: number): number => Math.round(t / d.sampleTime);
    const lg = mk('LG', [1]);
    const [a0, a1, f0, f1] = [idx(lg.data, 0.1), idx(lg.data, 0.2), idx(lg.data, 0.31), idx(lg.data, 0.39)];
    expect(rms(lg.data.signals[4], f0, f1) / rms(lg.data.signals[4], a0, a1)).toBeGreaterThan(3); // Ib up
    expect(rms(lg.data.signals[1], f0, f1) / rms(lg.data.signals[1], a0, a1)).toBeLessThan(0.4); // Vb down
    expect(rms(lg.data.signals[3], f0, f1) / rms(lg.data.signals[3], a0, a1)).toBeCloseTo(1, 1); // Ia unchanged
    const ll = mk('LL', [1, 2]);
    let maxDiff = 0;
    let maxIsum = 0;
    for (let i = f0; i < f1; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(ll.data.signals[1][i] - ll.data.signals[2][i]));
      maxIsum = Math.max(maxIsum, Math.abs(ll.data.signals[4][i] + ll.data.signals[5][i]));
    }
    expect(maxDiff).toBeLessThan(0.4); // Vb ≈ Vc (depth 0.8 → 20% of the healthy difference)
    expect(maxIsum).toBeLessThan(1e-9); // Ib = −Ic
    const lll = mk('LLL', [0, 1, 2]);
    const r = [3, 4, 5].map((c) => rms(lll.data.signals[c], f0, f1));
    expect(Math.max(...r) / Math.min(...r)).toBeLessThan(1.1);
  });

  test('bad generator options are named', () => {
    expect(() => generatePowerData({ sampleRate: 100, frequency: 50 })).toThrow(/sample rate 100 Hz is too low/);
    expect(() => generatePowerData({ duration: 1, nFaults: 10 })).toThrow(/do not fit in 1 s/);
    expect(() => generatePowerData({ faultTypes: ['LX' as never] })).toThrow(/unknown fault type 'LX'/);
  });
});
