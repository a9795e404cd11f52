/**
 * Ctrl-C in the long-running commands, through the real CLI as child processes: SIGINT once the
 * command has started (its stderr says so), then exit 130, exactly one `anomaly-lab <command>:
 * interrupted; …` line saying what was (not) written, no `.tmp-*` left in the output directory and
 * the previous output byte-identical. estimate (stops after the current batch), power train
 * (after the current batch of an epoch; writes only at the end) and score-steps (prints the steps
 * scored so far). train and metrics keep their own tests (train.test.ts, cli-errors.test.ts).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { AnomalyBert, saveCheckpoint } from 'anomaly-lab/anomalybert';
import { writeNpy } from 'anomaly-lab/io';
import { CLI } from '../hostile/harness';
import { tmpRoot } from './hardening-helpers';

jest.setTimeout(180000);

const root = tmpRoot('ctrl-c');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from the SIGINT to the exit */
  afterSigint: number;
}

/** Start the CLI, send SIGINT `delayMs` after stderr first matches `started`, collect the rest. */
function interruptCli(args: string[], started: RegExp, delayMs = 300): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    let stdout = '';
    let stderr = '';
    let sent = 0;
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`never saw ${started} on stderr:\n${stderr}`));
    }, 120000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && started.test(stderr)) {
        sent = Date.now();
        setTimeout(() => child.kill('SIGINT'), delayMs);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(giveUp);
      resolve({ code, signal, stdout, stderr, afterSigint: Date.now() - sent - delayMs });
    });
  });
}

/** The lines of stderr about the interruption (backend/engine notices and progress aside). */
const interruptLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /interrupt/.test(l));

const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((f) => /\.tmp-/.test(f));

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    out[f] = fs.statSync(p).isDirectory() ? `dir:${Object.keys(snapshot(p)).join(',')}` : fs.readFileSync(p).toString('base64');
  }
  return out;
}

test('estimate: stops after the current batch, --out keeps its previous bytes', async () => {
  await initBackend({ backend: 'cpu', log: false });
  const config = { inputDim: 5, outputDim: 1, patchSize: 8, nTokens: 32, dEmbed: 64, nLayer: 2, nHead: 4, dropout: 0.1 };
  const model = AnomalyBert.create(config, { seed: 1 });
  const ckpt = path.join(root, 'ckpt');
  try {
    await saveCheckpoint(ckpt, model, {});
  } finally {
    model.dispose();
  }
  // 40,000 rows at stride 1: ~40,000 windows, a minute of work on tfjs (stopped within a batch).
  const n = 40000;
  const values = new Float32Array(n * 5);
  for (let i = 0; i < values.length; i++) values[i] = 0.5 + 0.5 * Math.sin(i / 13);
  const data = path.join(root, 'series.npy');
  writeNpy(data, values, [n, 5]);
  const outDir = path.join(root, 'estimate-out');
  fs.mkdirSync(outDir);
  const out = path.join(outDir, 'scores.npy');
  fs.writeFileSync(out, 'previous scores');
  const before = snapshot(outDir);

  const r = await interruptCli(
    ['estimate', '--checkpoint', ckpt, '--data', data, '--out', out, '--window_sliding', '1', '--engine', 'tfjs', '--backend', 'wasm'],
    /inference engine 'tfjs'/,
  );
  expect(r.signal).toBeNull();
  expect(r.code).toBe(130);
  expect(r.afterSigint).toBeLessThan(10000);
  expect(interruptLines(r.stderr)).toEqual([
    expect.stringMatching(
      /^anomaly-lab estimate: interrupted; '.*scores\.npy' not written \(the previous one is unchanged\); stopped after \d+ of \d+ windows$/,
    ),
  ]);
  expect(r.stdout).toBe('');
  expect(leftovers(outDir)).toEqual([]);
  expect(snapshot(outDir)).toEqual(before);
});

test('power train: stops within the epoch; nothing is written, the previous files stay', async () => {
  const out = path.join(root, 'power-models');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'training.json'), '{"previous": true}\n');
  fs.writeFileSync(path.join(out, 'classifier.json'), '{"previous": true}\n');
  const before = snapshot(out);
  const r = await interruptCli(
    ['power', 'train', '--out', out, '--what', 'both', '--epochs', '50', '--patience', '50', '--max_windows', '300', '--backend', 'wasm'],
    /power train: epoch 1 /,
  );
  expect(r.signal).toBeNull();
  expect(r.code).toBe(130);
  expect(r.afterSigint).toBeLessThan(10000);
  expect(interruptLines(r.stderr)).toEqual([
    expect.stringMatching(
      /^anomaly-lab power: interrupted; power train stopped after [1-9]\d* of 50 epochs; nothing written to --out ".*power-models" \(its previous files are unchanged\)$/,
    ),
  ]);
  expect(leftovers(out)).toEqual([]);
  expect(snapshot(out)).toEqual(before);
});

test('score-steps: prints the steps scored so far, then one line; the run directory is untouched', async () => {
  const run = path.join(root, 'run');
  const state = path.join(run, 'state');
  fs.mkdirSync(state, { recursive: true });
  // 30 saved steps of 300,000 scores: each step is a few sweeps over the labels (~0.1–0.5 s here).
  const n = 300000;
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 5000 < 100 ? 1 : 0;
  const labelFile = path.join(root, 'labels.npy');
  writeNpy(labelFile, labels, [n]);
  const steps = 30;
  for (let s = 0; s < steps; s++) {
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) scores[i] = (labels[i] ? 0.3 + s / 60 : 0) + 0.5 * Math.abs(Math.sin(i * 0.37 + s));
    writeNpy(path.join(state, `step_${s * 10}_scores.npy`), scores, [n, 1]);
  }
  const before = snapshot(state);
  const r = await interruptCli(['score-steps', '--run', run, '--labels', labelFile, '--json'], /score-steps: \d+\/30 steps scored/, 200);
  expect(r.signal).toBeNull();
  expect(r.code).toBe(130);
  const lines = interruptLines(r.stderr);
  expect(lines).toEqual([
    expect.stringMatching(/^anomaly-lab score-steps: interrupted; printed the \d+ of 30 steps scored so far \(complete for those steps;/),
  ]);
  const scored = Number(/printed the (\d+) of 30/.exec(lines[0])?.[1]);
  expect(scored).toBeGreaterThanOrEqual(1);
  expect(scored).toBeLessThan(30);
  const report = JSON.parse(r.stdout) as { steps: Array<{ step: number }>; interrupted: { steps_scored: number; steps_saved: number } };
  expect(report.interrupted).toEqual({ steps_scored: scored, steps_saved: 30 });
  expect(report.steps.map((s) => s.step)).toEqual(Array.from({ length: scored }, (_, i) => i * 10));
  expect(snapshot(state)).toEqual(before);
  expect(leftovers(state)).toEqual([]);
});
