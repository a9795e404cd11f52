/**
 * `runPowerDetection` commits its outputs together (io/atomic.ts `writeFilesAtomic`): a second run
 * into the same `out` replaces the first run's results, viewer bundle and manifest all at once.
 *
 * An interrupt is acted on only between events (the CLI's SIGINT handler, cli/args.ts, is a JS
 * callback; a second Ctrl-C calls removeAtomicTemporaries and exits). So what a Ctrl-C can leave
 * is the directory as it stands whenever the run's synchronous code yields. The test observes
 * exactly those states: after every file-system change under `out`, a microtask reads the
 * directory (microtasks run at every await, a superset of the points where a signal callback can
 * run) without the atomic temporaries, which the exit removes. Every state must be the first
 * run's complete outputs or the second's. (Before the commit, results.json & co. were written one
 * by one and the manifest after an await that hashes the inputs: a state with new results beside
 * the old manifest.) A first Ctrl-C (the AbortSignal) during the commit writes nothing. Then the
 * commit helper alone: a failing fill, a directory in a file's place, an earlier output replaced.
 */
import * as path from 'path';
import * as os from 'os';
import { WriteError, writeFileAtomic, writeFilesAtomic } from 'anomaly-lab/io';
import { runPowerDetection } from 'anomaly-lab/power';
import { expectAbortWhileStagingWritesNothing, expectOneRunComplete, observeStates, outputState } from '../helpers/commit-states';
import { writePowerDetectFiles } from '../helpers/power-detector';

// The real module object (not the import helper's copy), so the spies see the library's calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require('fs') as typeof import('fs');

jest.setTimeout(120000);

const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'al-detect-commit-'));
afterAll(() => nodeFs.rmSync(root, { recursive: true, force: true }));
const data = path.join(root, 'data.csv');
const detector = path.join(root, 'detector');

beforeAll(() => writePowerDetectFiles(root, { seed: 3, duration: 1, nFaults: 2 }));

const detect = (out: string, percentile: number, signal?: AbortSignal): ReturnType<typeof runPowerDetection> =>
  runPowerDetection({ data, detector, out, percentile, max_gap: 20, backend: 'cpu', engine: 'tfjs', signal });

test('every state a Ctrl-C can leave is one run complete: the first run, or the second (never a mix)', async () => {
  const out = path.join(root, 'out');
  // A file of the user's beside the outputs stays through both runs.
  nodeFs.mkdirSync(out);
  nodeFs.writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
  await detect(out, 95);
  const first = outputState(out);
  expect(Object.keys(first)).toEqual(
    ['anomalies.csv', 'detection.anomaly.json', 'manifest.json', 'mse.npy', 'notes.txt', 'report.md', 'results.json'].sort(),
  );

  const observed = await observeStates(out, () => detect(out, 80));
  const result = observed.result;
  const second = outputState(out);
  // The second run differs from the first in every output but the MSE (another threshold, another time).
  for (const f of Object.keys(first))
    if (f !== 'notes.txt' && f !== 'mse.npy') expect({ f, changed: second[f] !== first[f] }).toEqual({ f, changed: true });
  expect(second['notes.txt']).toBe(first['notes.txt']);
  expect(result.files.map((f) => path.basename(f))).toEqual([
    'results.json',
    'anomalies.csv',
    'report.md',
    'mse.npy',
    'detection.anomaly.json',
  ]);
  expectOneRunComplete(out, observed, first, second);
});

test('a first Ctrl-C (the AbortSignal) while the outputs are staged writes nothing; a new --out is not left behind', () =>
  expectAbortWhileStagingWritesNothing(
    root,
    (out) => detect(out, 95),
    (out, signal) => detect(out, 80, signal),
  ));

test('writeFilesAtomic: a failing fill changes nothing and names the file as it would be published', async () => {
  const out = path.join(root, 'fill-fails');
  nodeFs.mkdirSync(out);
  nodeFs.writeFileSync(path.join(out, 'a.txt'), 'old a\n');
  const before = outputState(out);
  await expect(
    writeFilesAtomic(out, (stage) => {
      writeFileAtomic(path.join(stage, 'a.txt'), 'new a\n');
      throw new WriteError(path.join(stage, 'b.txt'), Object.assign(new Error('short write'), { code: 'ENOSPC' }));
    }),
  ).rejects.toThrow(`cannot write ${path.join(out, 'b.txt')}: no space left on device (ENOSPC)`);
  expect(outputState(out)).toEqual(before);
  expect(nodeFs.readdirSync(out)).toEqual(['a.txt']);
  // A directory where a file is to go is refused before anything is renamed.
  nodeFs.mkdirSync(path.join(out, 'b.txt'));
  await expect(
    writeFilesAtomic(out, (stage) => {
      writeFileAtomic(path.join(stage, 'a.txt'), 'new a\n');
      writeFileAtomic(path.join(stage, 'b.txt'), 'new b\n');
    }),
  ).rejects.toThrow(/is an existing directory; expected a regular file/);
  expect(nodeFs.readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('old a\n');
  // replaces: an earlier output this run does not write goes with the commit.
  nodeFs.rmdirSync(path.join(out, 'b.txt'));
  nodeFs.writeFileSync(path.join(out, 'stale.json'), '{}\n');
  const published = await writeFilesAtomic(out, (stage) => writeFileAtomic(path.join(stage, 'a.txt'), 'new a\n'), {
    replaces: ['a.txt', 'stale.json'],
  });
  expect(published).toEqual([path.join(out, 'a.txt')]);
  expect(nodeFs.readdirSync(out).sort()).toEqual(['a.txt']);
  expect(nodeFs.readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('new a\n');
});
