/**
 * Re-running from a manifest reproduces the metrics (same backend). A real (tiny) training run is
 * made with the real CLI on generated site-A data, then `anomaly-lab reproduce` re-runs it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizeTestSet } from 'anomaly-lab/evaluation';
import { writeNpy, MinMaxScaler } from 'anomaly-lab/io';
import { generateEssSiteA } from 'anomaly-lab/notebook';
import { replaceOption } from 'anomaly-lab/report';
import { readManifest, writeManifest } from 'anomaly-lab/runs';
import { runCli } from '../helpers/cli';
import { tinyModelFlags } from '../helpers/tiny-model';

describe('reproduce from a manifest', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-repro-'));
  const run = path.join(dir, 'run');

  beforeAll(() => {
    const site = generateEssSiteA({ days: 1, sampleSeconds: 60, seed: 4 });
    const C = site.columns.length;
    const scaled = MinMaxScaler.fit(site).transform(site.values, C);
    const split = 1000;
    writeNpy(path.join(dir, 'train.npy'), scaled.slice(0, split * C), [split, C]);
    const test = { columns: site.columns, length: site.length - split, values: scaled.slice(split * C) };
    const syn = synthesizeTestSet(test, { seed: 2, anomalies: 3, maxLengthFraction: 0.05 });
    writeNpy(path.join(dir, 'test.npy'), syn.values, [test.length, C]);
    writeNpy(path.join(dir, 'test_label.npy'), syn.labels, [test.length]);
    const args = [
      'train',
      '--train',
      'train.npy',
      '--test',
      'test.npy',
      '--test_label',
      'test_label.npy',
      '--out',
      'run',
      '--scale',
      'none',
      '--backend',
      'cpu',
    ];
    args.push(
      '--max_steps',
      '12',
      '--summary_steps',
      '6',
      '--batch_size',
      '4',
      ...tinyModelFlags({ patchSize: 2 }),
      '--window_sliding',
      '8',
      '--lr',
      '0.001',
      '--seed',
      '3',
    );
    const r = runCli(args, { cwd: dir });
    if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
  });

  it('re-runs the recorded command on the recorded backend and matches every metric', () => {
    const m = readManifest(run);
    expect(m.command?.argv[0]).toBe('train');
    expect(m.backend.name).toBe('cpu');
    expect(m.inputs.map((i) => i.role).sort()).toEqual(['test', 'test_label', 'train']);
    const r = runCli(['reproduce', '--manifest', run, '--json'], { cwd: os.tmpdir() });
    expect(r.stderr).toContain('reproduce: anomaly-lab train');
    // the recorded (effective) worker count is replayed, not this machine's core count
    expect(typeof m.config.workers).toBe('number');
    expect(r.stderr).toContain(`--workers ${String(m.config.workers)}`);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(out.reproduced).toBe(true);
    expect(out.differences).toEqual([]);
    const again = readManifest(out.out);
    expect(again.config.workers).toBe(m.config.workers);
    // the comparison covered real numbers (loss and test metrics), not an empty object
    type Last = { loss?: number; elapsed_s?: number; test?: { with_pa?: { f1?: number } } };
    const last = { ...(again.metrics as { last: Last }).last };
    const recorded = { ...(m.metrics as { last: Last }).last };
    expect(typeof last.loss).toBe('number');
    expect(typeof last.test?.with_pa?.f1).toBe('number');
    delete last.elapsed_s;
    delete recorded.elapsed_s;
    expect(last).toEqual(recorded); // bit-identical on the same backend
  });

  it('refuses changed inputs and manifests without a command, naming them', async () => {
    const copy = path.join(dir, 'changed');
    fs.cpSync(run, copy, { recursive: true });
    const m = readManifest(copy);
    const trainInput = m.inputs.find((i) => i.role === 'train')!;
    const altered = path.join(dir, 'train-altered.npy');
    fs.copyFileSync(path.join(dir, 'train.npy'), altered);
    fs.appendFileSync(altered, Buffer.from([0]));
    m.inputs = m.inputs.map((i) => (i === trainInput ? { ...i, path: altered } : i));
    await writeManifest(copy, m);
    const r = runCli(['reproduce', '--manifest', copy, '--out', path.join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inputs differ from the recorded sha256: .*train-altered\.npy \(changed\)/);
    delete m.command;
    await writeManifest(copy, m);
    const r2 = runCli(['reproduce', '--manifest', path.join(copy, 'manifest.json')]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/no command recorded \(field command\.argv\)/);
  });

  it('replaces the output option in every spelling', () => {
    expect(replaceOption(['train', '--out', 'a', '--x', '1'], 'out', 'b')).toEqual(['train', '--out', 'b', '--x', '1']);
    expect(replaceOption(['train', '--save-path=a'], 'save_path', 'b')).toEqual(['train', '--save_path', 'b']);
    expect(replaceOption(['train'], 'out', 'b')).toEqual(['train', '--out', 'b']);
  });
});
