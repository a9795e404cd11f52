/**
 * Ctrl-C twice during `anomaly-lab power detect`'s final writes, through the real CLI: a second
 * run into the `--out` of a first one gets two SIGINTs as soon as anything appears in `--out` (the
 * staging of its outputs). Whenever they land, `--out` then holds one run complete: the first
 * run's files byte for byte, or the second run's with a manifest whose hashes match every output.
 * No temporary is left. (test/power/detect-commit.test.ts checks every point of the commit in
 * process; this is the same through the SIGINT handler and `process.exit`.)
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI } from '../hostile/harness';
import { runCli } from '../helpers/cli';
import { writePowerDetectFiles } from '../helpers/power-detector';

jest.setTimeout(180000);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'al-detect-ctrl-c-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const data = path.join(root, 'data.csv');
const detector = path.join(root, 'detector');

// 10 s at 2 kHz (2.4 MB): the manifest's hashing of it is part of what the Ctrl-C can interrupt.
beforeAll(() => writePowerDetectFiles(root, { seed: 4, duration: 10, nFaults: 3 }));

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const state = (dir: string): Record<string, string> =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, sha(path.join(dir, f))]),
  );
const args = (out: string, percentile: number): string[] =>
  ['power', 'detect', '--data', data, '--detector', detector, '--out', out, '--percentile', String(percentile), '--max_gap', '20'].concat([
    '--backend',
    'cpu',
    '--engine',
    'tfjs',
  ]);

/** Run the CLI; two SIGINTs as soon as `out` changes. */
function interruptWhileWriting(out: string, argv: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let fired = false;
    const watcher = fs.watch(out, () => {
      if (fired) return;
      fired = true;
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGINT'), 2);
    });
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`power detect did not end:\n${stderr}`));
    }, 150000);
    child.on('exit', (code, signal) => {
      clearTimeout(giveUp);
      watcher.close();
      resolve({ code, signal, stderr });
    });
  });
}

test('two Ctrl-Cs while power detect writes leave one run complete in --out, never a mix', async () => {
  const outcomes: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const out = path.join(root, `out-${attempt}`);
    const first = runCli(args(out, 95));
    expect(first.code).toBe(0);
    const before = state(out);
    const r = await interruptWhileWriting(out, args(out, 80));
    expect(fs.readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const after = state(out);
    if (JSON.stringify(after) === JSON.stringify(before)) {
      // Stopped before the commit: exit 130 and one line (the second Ctrl-C's, or the first's at the last safe point).
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/interrupted( again; stopped at once \(no partial files are left\)|; power detect stopped before writing)/);
      outcomes.push('previous');
    } else {
      // Committed: the second run's outputs, each as its manifest hashed it, and the manifest's threshold is the results'.
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
        config: { percentile: number };
        metrics: { threshold: number };
        outputs: Array<{ path: string; sha256: string }>;
      };
      expect(manifest.config.percentile).toBe(80);
      expect(Object.keys(after).sort()).toEqual([...manifest.outputs.map((o) => o.path), 'manifest.json'].sort());
      for (const o of manifest.outputs) expect({ file: o.path, sha256: after[o.path] }).toEqual({ file: o.path, sha256: o.sha256 });
      expect(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).threshold).toBe(manifest.metrics.threshold);
      outcomes.push('new');
    }
  }
  console.log(`power detect, two Ctrl-Cs while writing: ${outcomes.join(', ')}`);
});
