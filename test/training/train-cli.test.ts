/**
 * The real `anomaly-lab train` CLI: a run killed (SIGKILL) after its first checkpoint resumes
 * with --checkpoint run/state/step_<i> --initial_iter i and finishes with a valid, loadable final
 * checkpoint; bad input exits non-zero with a one-line message naming the file or option.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/shared';
import { tinyModelFlags } from '../helpers/tiny-model';
import { loadCheckpoint } from 'anomaly-lab/anomalybert';
import { writeNpy } from 'anomaly-lab/io';
import { readRunHistory } from 'anomaly-lab/runs';
import { periodicSeries, labelledTestSet, tmpDir, writeSeriesNpy } from './train-helpers';

const root = tmpDir('train-cli');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const trainFile = writeSeriesNpy(path.join(root, 'train.npy'), periodicSeries(600, 3));
const { series: testSeries, labels } = labelledTestSet(200, 3);
const testFile = writeSeriesNpy(path.join(root, 'test.npy'), testSeries);
const labelFile = path.join(root, 'test_label.npy');
writeNpy(labelFile, labels, [labels.length]);

const MAX_STEPS = 60;
const common = [
  '--train',
  trainFile,
  '--test',
  testFile,
  '--test_label',
  labelFile,
  ...tinyModelFlags(),
  '--batch_size',
  '4',
  '--window_sliding',
  '8',
  '--replacing_rate_max',
  '0.3',
  '--lr',
  '1e-3',
  '--max_steps',
  String(MAX_STEPS),
  '--summary-steps',
  '10',
  '--backend',
  'cpu',
  '--seed',
  '2',
];

function lastRecordedStep(out: string): number | undefined {
  try {
    const h = readRunHistory(out);
    return h.length > 0 ? h[h.length - 1].step : undefined;
  } catch {
    return undefined;
  }
}

describe('anomaly-lab train (real CLI)', () => {
  test('killed after the first checkpoint, resumes and finishes with a loadable final checkpoint', async () => {
    const out = path.join(root, 'run');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'kernel-lib/bin/anomaly-lab.js'), 'train', ...common, '--out', out], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until a checkpoint after step 0 is fully recorded, then kill without warning.
    const deadline = Date.now() + 90000;
    let killed = false;
    while (Date.now() < deadline) {
      const step = lastRecordedStep(out);
      if (step !== undefined && step > 0) {
        child.kill('SIGKILL');
        killed = true;
        break;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await exited;
    expect(killed).toBe(true);
    const k = lastRecordedStep(out) as number;
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThan(MAX_STEPS);

    const r = runCli([
      'train',
      ...common,
      '--out',
      out,
      '--checkpoint',
      path.join(out, 'state', `step_${k}`),
      '--initial_iter',
      String(k),
      '--json',
    ]);
    expect(r.stderr).toMatch(new RegExp(`resuming at step ${k}: restored weights, AdamW moments`));
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.final_step).toBe(MAX_STEPS);
    expect(result.last.test.without_pa.f1).toBeGreaterThanOrEqual(0);

    const history = readRunHistory(out);
    const steps = history.map((e) => e.step);
    expect(steps).toEqual(Array.from({ length: MAX_STEPS / 10 + 1 }, (_, i) => i * 10));
    for (let i = 1; i < history.length; i++) expect(history[i].elapsed_s).toBeGreaterThanOrEqual(history[i - 1].elapsed_s);

    const ckpt = await loadCheckpoint(path.join(out, 'state', `step_${MAX_STEPS}`));
    expect(ckpt.meta.step).toBe(MAX_STEPS);
    expect(ckpt.model.config.inputDim).toBe(3);
    ckpt.model.dispose();
    // No half-written leftovers from the killed process.
    expect(fs.readdirSync(path.join(out, 'state')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  test('bad input: one line naming the file or option, non-zero exit', () => {
    const out = path.join(root, 'bad');
    const missing = runCli(['train', '--train', path.join(root, 'missing.parquet'), '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.parquet/);

    const noLabels = runCli(['train', '--train', trainFile, '--test', testFile, '--out', out]);
    expect(noLabels.code).toBe(2);
    expect(noLabels.stderr).toMatch(/--test needs --test_label/);

    const shortLabels = path.join(root, 'short_label.npy');
    writeNpy(shortLabels, new Uint8Array(7), [7]);
    const wrongLen = runCli([
      'train',
      ...common.slice(0, 4),
      '--test_label',
      shortLabels,
      '--out',
      out,
      '--backend',
      'cpu',
      '--max_steps',
      '1',
    ]);
    expect(wrongLen.code).toBe(1);
    expect(wrongLen.stderr).toMatch(/short_label\.npy: 7 labels for 200 rows/);

    const badOpt = runCli(['train', '--train', trainFile, '--out', out, '--flip_replacing_interval', 'sideways']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toMatch(/--flip_replacing_interval/);

    const csv = path.join(root, 'small.csv');
    fs.writeFileSync(csv, 'time,a,b\n1,0.1,0.2\n2,0.2,0.3\n');
    const missingColumn = runCli(['train', '--train', csv, '--columns', 'a,nope', '--out', out]);
    expect(missingColumn.code).toBe(1);
    expect(missingColumn.stderr).toMatch(/small\.csv: column 'nope' not found/);
    const tooShort = runCli(['train', '--train', csv, '--out', out, '--backend', 'cpu']);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/--train .*small\.csv: 2 rows; the window needs more than 2048/);

    const help = runCli(['train', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--replacing_rate_max/);
    expect(help.stdout).toMatch(/--soft_replacing/);
  });
});

test('--diff_features: the CLI trains a first-difference model whose checkpoint carries the scales', async () => {
  const out = path.join(root, 'diff-run');
  const r = runCli([
    'train',
    ...common.slice(0, 6),
    ...common.slice(6, 24),
    '--max_steps',
    '4',
    '--summary_steps',
    '2',
    '--backend',
    'cpu',
    '--diff_features',
    '--out',
    out,
    '--json',
  ]);
  expect(r.stderr).toMatch(/first-difference features: scales/);
  expect(r.code).toBe(0);
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  expect(config.diff_features).toBe(true);
  const { model } = await loadCheckpoint(path.join(out, 'state', 'step_4'));
  expect(model.config.diffScales).toEqual(config.diff_scales);
  expect(model.config.diffScales).toHaveLength(3);
  model.dispose();
  expect(runCli(['train', '--help']).stdout).toMatch(/--diff_features/);

  // Fine-tuning that checkpoint without repeating --diff_features: the model kind comes from the checkpoint.
  const ft = path.join(root, 'diff-ft');
  const two = writeSeriesNpy(path.join(root, 'two.npy'), periodicSeries(600, 2, 3));
  const fromStep4 = ['train', '--train', two, '--checkpoint', path.join(out, 'state', 'step_4')];
  const t = runCli([
    ...fromStep4,
    '--max_steps',
    '2',
    '--summary_steps',
    '2',
    '--batch_size',
    '4',
    '--window_sliding',
    '8',
    '--backend',
    'cpu',
    '--out',
    ft,
  ]);
  expect(t.stderr).toMatch(/re-initialised the input embedding only/);
  expect(t.code).toBe(0);
  expect(JSON.parse(fs.readFileSync(path.join(ft, 'config.json'), 'utf8')).diff_features).toBe(true);
  // Contradicting the checkpoint is named.
  const bad = runCli([...fromStep4, '--no_diff_features', '--max_steps', '2', '--backend', 'cpu', '--out', path.join(root, 'diff-bad')]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/--diff_features false \(checkpoint: true\)/);
});
