/**
 * The real `predict` / `estimate` CLI on generated checkpoints (no ../shared needed): named
 * columns and the checkpoint's scaler are applied, and bad input ends in one line naming the
 * file, column or option with a non-zero exit code.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { AnomalyBert, estimateScores, saveCheckpoint, type AnomalyBertConfig } from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';
import { readNpy, toFloat32, writeNpy, writeCsv } from 'anomaly-lab/io';
import { runCli, type CliResult } from '../helpers/cli';
import { zipSync } from 'fflate';
import { encodeTorchStateDict } from 'anomaly-lab/pickle';

const CONFIG: AnomalyBertConfig = { inputDim: 3, outputDim: 1, patchSize: 4, nTokens: 4, dEmbed: 16, nLayer: 1, nHead: 4, dropout: 0.1 };
const W = 16;
const COLUMNS = ['volt', 'current', 'soc'];
// Raw engineering units; the scaler maps them to [0, 1] as in training.
const SCALER = { kind: 'minmax', columns: COLUMNS, min: [700, -200, 0], max: [900, 200, 100] };

let tmp: string;
let ckpt: string;
let model: AnomalyBert;

function raw(rows: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(rows * 3);
  for (let i = 0; i < rows; i++) {
    out[i * 3] = 700 + 200 * rng.uniform();
    out[i * 3 + 1] = -200 + 400 * rng.uniform();
    out[i * 3 + 2] = 100 * rng.uniform();
  }
  return out;
}

/** The command's own error line (the backend banner may precede it); no stack traces. */
function errorLine(r: CliResult, cmd: string): string {
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith(`anomaly-lab ${cmd}:`));
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-cli-'));
  model = AnomalyBert.create(CONFIG, { seed: 12, identicalLayers: false });
  ckpt = path.join(tmp, 'ckpt');
  await saveCheckpoint(ckpt, model, { columns: COLUMNS, scaler: SCALER });
});
afterAll(() => {
  model.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('estimate on a CSV picks the checkpoint columns by name and applies its scaler', async () => {
  const rows = 150;
  const values = raw(rows, 1);
  // Columns in another order plus an extra one: selection must go by name.
  const csvValues = new Float32Array(rows * 4);
  for (let i = 0; i < rows; i++) {
    csvValues[i * 4] = values[i * 3 + 2];
    csvValues[i * 4 + 1] = 42;
    csvValues[i * 4 + 2] = values[i * 3];
    csvValues[i * 4 + 3] = values[i * 3 + 1];
  }
  const csv = path.join(tmp, 'site.csv');
  writeCsv(csv, { columns: ['soc', 'temperature', 'volt', 'current'], values: csvValues });
  const out = path.join(tmp, 'scores.npy');
  const r = runCli([
    'estimate',
    '--checkpoint',
    ckpt,
    '--data',
    csv,
    '--batch_size',
    '2',
    '--window-sliding',
    '4',
    '--out',
    out,
    '--backend',
    'wasm',
  ]);
  expect(r.stderr).not.toMatch(/anomaly-lab estimate:/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/min-max scaled with the checkpoint scaler/);

  const scaled = Float32Array.from(values, (v, k) => (v - SCALER.min[k % 3]) / (SCALER.max[k % 3] - SCALER.min[k % 3]));
  const expected = await estimateScores(model, scaled, rows, { batchSize: 2, windowSliding: 4 });
  const got = readNpy(out);
  expect(got.shape).toEqual([rows, 1]);
  const g = toFloat32(got);
  let maxDiff = 0;
  for (let i = 0; i < rows; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i] - expected[i]));
  expect(maxDiff).toBeLessThan(1e-6);
});

test('estimate --data_division file scores each file of a directory on its own', async () => {
  const dir = path.join(tmp, 'days');
  fs.mkdirSync(dir);
  const day1 = raw(40, 3);
  const day2 = raw(35, 4);
  writeCsv(path.join(dir, 'day1.csv'), { columns: COLUMNS, values: day1 });
  writeCsv(path.join(dir, 'day2.csv'), { columns: COLUMNS, values: day2 });
  const out = path.join(tmp, 'days.npy');
  const r = runCli([
    'estimate',
    '--checkpoint',
    ckpt,
    '--data',
    dir,
    '--data_division',
    'file',
    '--batch_size',
    '2',
    '--window_sliding',
    '4',
    '--out',
    out,
    '--backend',
    'wasm',
  ]);
  expect(r.stderr).not.toMatch(/anomaly-lab estimate:/);
  expect(r.code).toBe(0);
  const got = toFloat32(readNpy(out));
  expect(got.length).toBe(75);
  const scale = (v: Float32Array): Float32Array =>
    Float32Array.from(v, (x, k) => (x - SCALER.min[k % 3]) / (SCALER.max[k % 3] - SCALER.min[k % 3]));
  const e1 = await estimateScores(model, scale(day1), 40, { batchSize: 2, windowSliding: 4 });
  const e2 = await estimateScores(model, scale(day2), 35, { batchSize: 2, windowSliding: 4 });
  let maxDiff = 0;
  for (let i = 0; i < 40; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - e1[i]));
  for (let i = 0; i < 35; i++) maxDiff = Math.max(maxDiff, Math.abs(got[40 + i] - e2[i]));
  expect(maxDiff).toBeLessThan(1e-6);
});

test('predict: wrong rank, wrong column count, missing files', () => {
  const series = path.join(tmp, 'series2d.npy');
  writeNpy(series, raw(40, 2), [40, 3]);
  let r = runCli(['predict', '--checkpoint', ckpt, '--data', series, '--out', path.join(tmp, 'o.npy')]);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'predict')).toContain(`${series}: expected windows shaped (n, window, columns), got shape (40, 3)`);

  const fourCols = path.join(tmp, 'windows4.npy');
  writeNpy(fourCols, new Float32Array(2 * W * 4), [2, W, 4]);
  r = runCli(['predict', '--checkpoint', ckpt, '--data', fourCols, '--out', path.join(tmp, 'o.npy'), '--backend', 'wasm']);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'predict')).toContain(`${fourCols}: the model expects 3 input columns, got 4`);

  const missing = path.join(tmp, 'missing.npy');
  r = runCli(['predict', '--checkpoint', ckpt, '--data', missing, '--out', path.join(tmp, 'o.npy')]);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'predict')).toContain(missing);

  const windows = path.join(tmp, 'windows3.npy');
  writeNpy(windows, new Float32Array(2 * W * 3), [2, W, 3]);
  r = runCli([
    'predict',
    '--checkpoint',
    path.join(tmp, 'no-ckpt'),
    '--data',
    windows,
    '--out',
    path.join(tmp, 'o.npy'),
    '--backend',
    'wasm',
  ]);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'predict')).toContain(`checkpoint not found: ${path.join(tmp, 'no-ckpt')}`);
  expect(fs.existsSync(path.join(tmp, 'o.npy'))).toBe(false);
});

test('estimate: wrong column count, bad sliding, truncated .pt, missing option', () => {
  const fourCols = path.join(tmp, 'series4.npy');
  writeNpy(fourCols, new Float32Array(40 * 4), [40, 4]);
  let r = runCli(['estimate', '--checkpoint', ckpt, '--data', fourCols, '--out', path.join(tmp, 's.npy'), '--backend', 'wasm']);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'estimate')).toContain(
    `${fourCols}: the model expects 3 input columns (volt, current, soc), the data have 4 (col0, col1, col2, col3)`,
  );

  const ok = path.join(tmp, 'series3.npy');
  writeNpy(ok, new Float32Array(40 * 3).fill(0.5), [40, 3]);
  r = runCli([
    'estimate',
    '--checkpoint',
    ckpt,
    '--data',
    ok,
    '--window_sliding',
    '5',
    '--out',
    path.join(tmp, 's.npy'),
    '--backend',
    'wasm',
  ]);
  expect(r.code).toBe(2);
  expect(errorLine(r, 'estimate')).toContain('--window_sliding 5 must divide the window size 16');

  const pt = path.join(tmp, 'truncated.pt');
  const sd = model.toStateDict();
  const bytes = encodeTorchStateDict(new Map([...sd].map(([k, t]) => [k, { shape: t.shape, data: t.data }])));
  fs.writeFileSync(pt, bytes.subarray(0, bytes.length - 100));
  r = runCli(['estimate', '--checkpoint', pt, '--data', ok, '--out', path.join(tmp, 's.npy'), '--backend', 'wasm']);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'estimate')).toMatch(/truncated\.pt: corrupt or truncated/);

  r = runCli(['estimate', '--checkpoint', ckpt, '--data', ok]);
  expect(r.code).toBe(2);
  expect(errorLine(r, 'estimate')).toContain('missing required option --out');
  expect(fs.existsSync(path.join(tmp, 's.npy'))).toBe(false);
});

test('a .pt whose pickle calls os.system is refused without running anything', () => {
  const marker = path.join(tmp, 'pwned');
  const cmd = Buffer.from(`touch ${marker}`);
  // PROTO 2; GLOBAL os.system; BINUNICODE cmd; TUPLE1; REDUCE; STOP
  const pickle = Buffer.concat([
    Buffer.from([0x80, 2]),
    Buffer.from('cos\nsystem\n', 'latin1'),
    Buffer.from('X'),
    Buffer.from(Uint32Array.of(cmd.length).buffer),
    cmd,
    Buffer.from([0x85]),
    Buffer.from('R.'),
  ]);
  const pt = path.join(tmp, 'hostile.pt');
  fs.writeFileSync(pt, zipSync({ 'archive/data.pkl': pickle, 'archive/version': Buffer.from('3\n') }, { level: 0 }));
  const windows = path.join(tmp, 'hostile-windows.npy');
  writeNpy(windows, new Float32Array(W * 3), [1, W, 3]);
  const r = runCli(['predict', '--checkpoint', pt, '--data', windows, '--out', path.join(tmp, 'h.npy'), '--backend', 'wasm']);
  expect(r.code).toBe(1);
  expect(errorLine(r, 'predict')).toMatch(/os\.system/);
  expect(fs.existsSync(marker)).toBe(false);
});
