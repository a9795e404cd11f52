/**
 * Writes that cannot lose saved work (issue 11):
 * - a full disk (ENOSPC, on a small tmpfs where root may mount one) while a resumed run rewrites
 *   its checkpoint leaves every previous checkpoint and optimiser file byte-identical, names the
 *   file in one error line, and the run resumes once space is back;
 * - `--out` onto a FIFO, a character device or a socket is refused for every writing command, and
 *   the special file is still there afterwards;
 * - the atomic writers themselves: short writes are detected, special files are never replaced,
 *   a crash between the two renames of a directory swap restores the last good copy.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { loadCheckpoint } from 'anomaly-lab/anomalybert';
import { cleanAtomicLeftovers, writeDirAtomic, writeFileAtomic, writeFileSynced } from 'anomaly-lab/io';
import { readRunHistory } from 'anomaly-lab/runs';
import { expectCleanFailure, runCliLimited } from '../hostile/harness';
import { freeKb, mountTmpfs, tinyTrainArgs, tmpRoot, treeDigest, writeTrainNpy } from './hardening-helpers';

const root = tmpRoot('disk');
const mnt = path.join(root, 'mnt');
// Mounted when the file loads, so a machine that cannot mount shows the test as skipped (not passed).
const mounted = mountTmpfs(mnt, 4096);
const ciAsRoot = process.env.CI === 'true' && typeof process.getuid === 'function' && process.getuid() === 0;
// CI on this machine runs as root, where the mount works: there a failed mount fails the test.
const enospcTest = 'skip' in mounted && !ciAsRoot ? test.skip : test;
if ('skip' in mounted && !ciAsRoot) console.warn(`disk full (ENOSPC) test skipped: ${mounted.skip}`);
const devFullTest = fs.existsSync('/dev/full') ? test : test.skip;
afterAll(() => {
  if ('unmount' in mounted) mounted.unmount();
  fs.rmSync(root, { recursive: true, force: true });
});
const trainFile = writeTrainNpy(path.join(root, 'train.npy'));

describe('disk full (ENOSPC)', () => {
  enospcTest('a failed checkpoint rewrite keeps the previous checkpoint and names the file; the run resumes after', async () => {
    if ('skip' in mounted) throw new Error(`ENOSPC test cannot run under CI as root: ${mounted.skip}`);
    // Width 64: each checkpoint is ~270 KB, the optimiser file ~560 KB.
    const args = tinyTrainArgs(trainFile, { dEmbed: 64 });
    const out = path.join(mnt, 'run');
    const made = await runCliLimited([...args, '--max_steps', '20', '--out', out], { timeoutMs: 120000 });
    expect(made.code).toBe(0);
    const isState = (rel: string): boolean => rel.startsWith('state') || rel === 'history.json';
    const before = treeDigest(out, isState);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining(['state/step_20/weights.bin', 'state/step_20_optimizer.bin', 'history.json']),
    );

    // Leave 100 KB: the resumed run's first write (the step-20 checkpoint again) cannot fit; leave
    // 400 KB: the checkpoint fits, the optimiser file (~560 KB) does not.
    const filler = path.join(mnt, 'filler');
    const failed: string[] = [];
    for (const leaveKb of [100, 400]) {
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, freeKb(mnt) - leaveKb) * 1024));
      const full = await runCliLimited([...args, '--max_steps', '40', '--out', out, '--resume'], { timeoutMs: 60000 });
      const errors = full.stderr.split('\n').filter((l) => l.startsWith('anomaly-lab train:'));
      expect({ code: full.code, errors }).toEqual({
        code: 1,
        errors: [
          expect.stringMatching(
            new RegExp(
              `^anomaly-lab train: cannot write ${out}/(state/step_\\d+[^ ]*|[a-z]+\\.json): no space left on device \\(ENOSPC\\)$`,
            ),
          ),
        ],
      });
      failed.push(errors[0].replace(/^anomaly-lab train: cannot write /, '').replace(/: no space.*$/, ''));
      expect(full.stderr).not.toMatch(/\.tmp-\d+/); // the published name, not the temporary
      // Byte-identical, except a checkpoint's config.json when its rewrite completed (its creation time).
      const now = treeDigest(out, isState);
      for (const [rel, sha] of Object.entries(before))
        if (!rel.endsWith('/config.json')) expect({ rel, sha: now[rel] }).toEqual({ rel, sha });
      expect(Object.keys(now).sort()).toEqual(Object.keys(before).sort());
      expect(fs.readdirSync(path.join(out, 'state')).filter((f) => f.includes('.tmp-'))).toEqual([]);
      fs.rmSync(filler);
    }
    expect(failed).toEqual([path.join(out, 'state/step_20/weights.bin'), path.join(out, 'state/step_20_optimizer.bin')]);
    const ckpt = await loadCheckpoint(path.join(out, 'state', 'step_20'));
    expect(ckpt.meta.step).toBe(20);
    ckpt.model.dispose();

    const resumed = await runCliLimited([...args, '--max_steps', '40', '--out', out, '--resume'], { timeoutMs: 120000 });
    expect(resumed.stderr).toMatch(/resuming at step 20: restored weights, AdamW moments/);
    expect(resumed.code).toBe(0);
    expect(readRunHistory(out).map((e) => e.step)).toEqual([0, 10, 20, 30, 40]);
  });
});

describe('--out onto special files', () => {
  const fifo = path.join(root, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const sockPath = path.join(root, 'sock');
  let server: net.Server;
  beforeAll(() => new Promise<void>((resolve) => (server = net.createServer().listen(sockPath, resolve))));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const scores = path.join(root, 'scores.npy');
  fs.writeFileSync(scores, ''); // never read: the --out check comes first

  const cases: Array<[string, (out: string) => string[]]> = [
    ['train', (out) => [...tinyTrainArgs(trainFile), '--out', out]],
    ['power synth', (out) => ['power', 'synth', '--out', out]],
    ['power detect', (out) => ['power', 'detect', '--data', scores, '--detector', scores, '--out', out]],
    ['synth', (out) => ['synth', '--data', scores, '--out', out]],
    ['metrics', (out) => ['metrics', '--scores', scores, '--labels', scores, '--out', out]],
    ['report', (out) => ['report', '--run', root, '--out', out]],
    ['estimate', (out) => ['estimate', '--checkpoint', scores, '--data', scores, '--out', out]],
  ];
  for (const [name, argsFor] of cases) {
    test(`${name} refuses a FIFO, /dev/null and a socket as --out`, async () => {
      for (const [target, kind] of [
        [fifo, 'fifo'],
        ['/dev/null', 'character device'],
        [sockPath, 'socket'],
      ] as const) {
        const r = await runCliLimited(argsFor(target));
        const line = expectCleanFailure(r, target);
        expect(line).toContain(`option --out "${target}" is a ${kind}`);
      }
      expect(fs.statSync(fifo).isFIFO()).toBe(true);
      expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);
    });
  }
});

describe('atomic writers', () => {
  test('never replace a special file, and name the file they could not write', () => {
    const fifo = path.join(root, 'pipe2');
    execFileSync('mkfifo', [fifo]);
    expect(() => writeFileAtomic(fifo, 'x')).toThrow(`output "${fifo}" is a fifo, not a regular file`);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(() => writeFileAtomic('/dev/null', 'x')).toThrow('is a character device');
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);
    // A failing write names the target, never the temporary sibling.
    const target = path.join(root, 'full.bin');
    fs.writeFileSync(target, 'previous');
    // A stand-in for a disk that accepts no more bytes (a real full disk is the tmpfs test above):
    // every write returns 0 bytes written. Spied on the module object itself (the namespace import
    // above is a read-only view of it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fsModule = require('fs') as typeof fs;
    const realWrite = fsModule.writeSync;
    const spy = jest.spyOn(fsModule, 'writeSync').mockImplementation((() => 0) as unknown as typeof fs.writeSync);
    try {
      expect(() => writeFileAtomic(target, 'new contents')).toThrow(`cannot write ${target}: no space left on device (ENOSPC)`);
    } finally {
      spy.mockRestore();
    }
    expect(fsModule.writeSync).toBe(realWrite);
    expect(fs.readFileSync(target, 'utf8')).toBe('previous');
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.full.bin.tmp-'))).toEqual([]);
    const ro = path.join(root, 'no-such-dir', 'x.json');
    fs.writeFileSync(path.join(root, 'no-such-dir'), 'a file where a directory is expected');
    expect(() => writeFileAtomic(ro, 'x')).toThrow(new RegExp(`^cannot write ${ro}: `));
  });

  // /dev/full answers every write with ENOSPC (Linux).
  devFullTest('a write error (ENOSPC from /dev/full) names the file', () => {
    expect(() => writeFileSynced('/dev/full', Buffer.alloc(8192))).toThrow('cannot write /dev/full: no space left on device (ENOSPC)');
  });

  test('a crash between the two renames of a directory swap restores the last good copy', async () => {
    const dir = path.join(root, 'swap');
    const target = path.join(dir, 'step_10');
    await writeDirAtomic(target, (tmp) => writeFileSynced(path.join(tmp, 'weights.bin'), 'good'));
    // What a kill -9 between renameSync(target, old) and renameSync(tmp, target) leaves behind:
    const old = path.join(dir, '.step_10.tmp-123-456-abcdef-old');
    const half = path.join(dir, '.step_10.tmp-123-457-ghijkl');
    fs.renameSync(target, old);
    fs.mkdirSync(half);
    fs.writeFileSync(path.join(half, 'weights.bin'), 'partial');
    cleanAtomicLeftovers(dir);
    expect(fs.readdirSync(dir)).toEqual(['step_10']);
    expect(fs.readFileSync(path.join(target, 'weights.bin'), 'utf8')).toBe('good');
    // A failing fill leaves the target untouched and no temporary behind.
    await expect(
      writeDirAtomic(target, () => {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      }),
    ).rejects.toThrow(`cannot write ${target}: no space left on device (ENOSPC)`);
    expect(fs.readdirSync(dir)).toEqual(['step_10']);
    expect(fs.readFileSync(path.join(target, 'weights.bin'), 'utf8')).toBe('good');
  });

  test('an error (not a crash) in the second rename of a directory swap puts the previous copy back at once', async () => {
    const dir = path.join(root, 'swap-error');
    const target = path.join(dir, 'step_20');
    await writeDirAtomic(target, (tmp) => writeFileSynced(path.join(tmp, 'weights.bin'), 'good'));
    // Fault injection (no real file system fails exactly there on demand): the rename that would
    // publish the new directory fails with EIO; the first rename (target aside) really happens.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fsModule = require('fs') as typeof fs;
    const realRename = fsModule.renameSync;
    const spy = jest.spyOn(fsModule, 'renameSync').mockImplementation((from: fs.PathLike, to: fs.PathLike) => {
      // only the publishing rename (from the temporary), not the restoring one (from `-old`)
      if (String(to) === target && !String(from).endsWith('-old')) throw Object.assign(new Error('i/o error'), { code: 'EIO' });
      realRename(from, to);
    });
    try {
      await expect(writeDirAtomic(target, (tmp) => writeFileSynced(path.join(tmp, 'weights.bin'), 'new'))).rejects.toThrow(
        new RegExp(`^cannot write ${target}: `),
      );
      // The injected failure was hit: the previous copy had been moved aside first.
      expect(spy.mock.calls.some(([from, to]) => String(from) === target && String(to).endsWith('-old'))).toBe(true);
    } finally {
      spy.mockRestore();
    }
    // No cleanup run needed: the target is there, with the last good contents, and nothing else.
    expect(fs.readdirSync(dir)).toEqual(['step_20']);
    expect(fs.readFileSync(path.join(target, 'weights.bin'), 'utf8')).toBe('good');
  });
});
