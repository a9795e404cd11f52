/**
 * Run directories that cannot be lost (issue 11), with the real `anomaly-lab train` CLI as child
 * processes: a second training into a locked `--out` is refused while the first runs (and the
 * first, stopped with Ctrl-C, ends with its own final checkpoint); a finished run is refused
 * without --resume/--overwrite and each of those does what it says; a dead owner's lock is taken
 * over, a live one is not. Refusals are one line naming --out, within 10 s and 1 GB.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquireDirLock, LOCK_FILE, LockedError, processStartTime } from 'anomaly-lab/io';
import { claimRunDirectory, readRunHistory, RunExistsError } from 'anomaly-lab/runs';
import { CLI, expectCleanFailure, runCliLimited } from '../hostile/harness';
import { deadPid, tinyTrainArgs, tmpRoot, treeDigest, writeTrainNpy } from './hardening-helpers';

const root = tmpRoot('rundir');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const trainFile = writeTrainNpy(path.join(root, 'train.npy'));
const base = tinyTrainArgs(trainFile);

function lastStep(out: string): number | undefined {
  try {
    const h = readRunHistory(out);
    return h.length ? h[h.length - 1].step : undefined;
  } catch {
    return undefined;
  }
}

describe('run directory lock', () => {
  test('a second training into a locked --out is refused; the first stops cleanly on Ctrl-C with its own checkpoint', async () => {
    const out = path.join(root, 'concurrent');
    const first = spawn(process.execPath, [CLI, ...base, '--max_steps', '100000', '--out', out, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let firstOut = '';
    let firstErr = '';
    first.stdout.setEncoding('utf8').on('data', (d: string) => (firstOut += d));
    first.stderr.setEncoding('utf8').on('data', (d: string) => (firstErr += d));
    const exited = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90000;
    while (Date.now() < deadline && !((lastStep(out) ?? -1) >= 10) && first.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(lastStep(out)).toBeGreaterThanOrEqual(10);
    const lock = JSON.parse(fs.readFileSync(path.join(out, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: first.pid, host: os.hostname() });

    // Refused in every mode while the first holds the lock, without touching its files.
    for (const flag of [[], ['--resume'], ['--overwrite']]) {
      const second = await runCliLimited([...base, '--max_steps', '20', '--out', out, ...flag]);
      const line = expectCleanFailure(second, out);
      expect(line).toMatch(new RegExp(`option --out .* is in use by pid ${first.pid} on host `));
    }
    // Still the first run's lock (the refused ones neither took nor removed it).
    expect(JSON.parse(fs.readFileSync(path.join(out, LOCK_FILE), 'utf8')).pid).toBe(first.pid);

    first.kill('SIGINT');
    const code = await exited;
    expect(firstErr).toMatch(/train: interrupted; stopping cleanly/);
    expect(code).toBe(130);
    const result = JSON.parse(firstOut);
    expect(result.stopped).toBe(true);
    // The printed final checkpoint is this run's and exists; the lock is gone.
    expect(fs.existsSync(path.join(result.final_checkpoint, 'config.json'))).toBe(true);
    // One run's history: every summary step, then the final one (no second run's steps 0…20).
    const steps = readRunHistory(out).map((e) => e.step);
    expect(steps[steps.length - 1]).toBe(result.final_step);
    expect(steps.slice(0, -1)).toEqual(Array.from({ length: steps.length - 1 }, (_, i) => i * 10));
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  test('a finished run is refused without --resume/--overwrite; --resume continues it, --overwrite replaces it', async () => {
    const out = path.join(root, 'finished');
    const made = await runCliLimited([...base, '--max_steps', '30', '--out', out], { timeoutMs: 120000 });
    expect(made.code).toBe(0);
    expect(readRunHistory(out).map((e) => e.step)).toEqual([0, 10, 20, 30]);
    const digest = treeDigest(out);

    const again = await runCliLimited([...base, '--max_steps', '10', '--out', out]);
    const line = expectCleanFailure(again, out);
    expect(line).toMatch(/already holds a run \(checkpoints up to step 30\); pass --resume to continue it or --overwrite to replace it/);
    expect(treeDigest(out)).toEqual(digest);
    const both = await runCliLimited([...base, '--out', out, '--resume', '--overwrite']);
    expect(expectCleanFailure(both, '--resume')).toMatch(/either --resume or --overwrite/);

    // --resume: continues from step 30 (weights, moments, RNG), keeps steps 0…30.
    const resumed = await runCliLimited([...base, '--max_steps', '50', '--out', out, '--resume'], { timeoutMs: 120000 });
    expect(resumed.stderr).toMatch(/resuming at step 30: restored weights, AdamW moments/);
    expect(resumed.code).toBe(0);
    expect(readRunHistory(out).map((e) => e.step)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(treeDigest(out)['state/step_10/weights.bin']).toBe(digest['state/step_10/weights.bin']);

    // --overwrite: a new run; the old later steps are gone (score-steps cannot mix two runs).
    const replaced = await runCliLimited([...base, '--max_steps', '20', '--seed', '7', '--out', out, '--overwrite'], { timeoutMs: 120000 });
    expect(replaced.code).toBe(0);
    expect(readRunHistory(out).map((e) => e.step)).toEqual([0, 10, 20]);
    expect(
      fs
        .readdirSync(path.join(out, 'state'))
        .filter((f) => /^step_\d+$/.test(f))
        .sort(),
    ).toEqual(['step_0', 'step_10', 'step_20']);
  });

  test('the library names its field (existing); the claim is exclusive within one process too', () => {
    const dir = path.join(root, 'library');
    const first = claimRunDirectory(dir);
    fs.writeFileSync(path.join(dir, 'history.json'), '[]');
    expect(() => claimRunDirectory(dir, { existing: 'overwrite' })).toThrow(LockedError);
    first.release();
    let err: unknown;
    try {
      claimRunDirectory(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunExistsError);
    expect((err as RunExistsError).field).toBe('existing');
    expect((err as Error).message).toBe(
      `out: run directory "${dir}" already holds a run; set existing: 'resume' to continue it or 'overwrite' to replace it`,
    );
    const again = claimRunDirectory(dir, { existing: 'overwrite' });
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE]);
    again.release();
    expect(() => claimRunDirectory('/dev/null')).toThrow('out "/dev/null" is a character device');
  });

  test('a non-empty directory that is not a run is refused even with --overwrite, and nothing in it is deleted', async () => {
    const out = path.join(root, 'home-like');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'thesis.tex'), 'precious');
    const r = await runCliLimited([...base, '--max_steps', '10', '--out', out, '--overwrite']);
    expect(expectCleanFailure(r, out)).toMatch(/is not empty and is not a run directory \(holds "thesis\.tex"\)/);
    expect(fs.readdirSync(out)).toEqual(['thesis.tex']);
  });

  test('the lock of a dead owner (or of a reused pid) is taken over; a live owner keeps it', async () => {
    const out = path.join(root, 'stale');
    fs.mkdirSync(out);
    const dead = deadPid();
    fs.writeFileSync(
      path.join(out, LOCK_FILE),
      JSON.stringify({ pid: dead, host: os.hostname(), start: '1', since: '2026-01-01T00:00:00.000Z', purpose: 'crashed run' }),
    );
    const r = await runCliLimited([...base, '--max_steps', '10', '--out', out], { timeoutMs: 120000 });
    expect(r.stderr).toContain(`took over the stale lock of pid ${dead} on host ${os.hostname()}`);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);

    // A running pid with another start time is a reused pid: stale too.
    const dir = path.join(root, 'reused');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.pid, host: os.hostname(), start: 'not-my-start', since: 'x' }),
    );
    const taken = acquireDirLock(dir);
    expect(taken.tookOverFrom?.start).toBe('not-my-start');
    // …while the live, matching owner (this process) keeps it.
    expect(() => acquireDirLock(dir)).toThrow(LockedError);
    expect(() => acquireDirLock(dir)).toThrow(new RegExp(`in use by pid ${process.pid} on host .* since`));
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).start).toBe(processStartTime(process.pid));
    taken.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);

    // Another host cannot be checked from here: refused, saying how to clear it.
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere.example', start: '5', since: 'y' }));
    expect(() => acquireDirLock(dir)).toThrow(/another host: if that process is gone, delete .*\.anomaly-lab\.lock/);
  });
});
