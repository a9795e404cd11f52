/**
 * `trainPowerModels` (`anomaly-lab power train`) commits its outputs together (io/atomic.ts
 * `writeFilesAtomic`): a second run into the same `out` replaces the first run's detector/,
 * classifier.json, classifier_scaler.json and training.json all at once.
 *
 * As in detect-commit.test.ts: an interrupt is acted on only between events, so what a Ctrl-C can
 * leave is `out` as it stands whenever the run yields. After every file-system change under `out`
 * a microtask reads the tree (detector/ included; atomic temporaries aside, which the exit
 * removes). Every state must be the first run's complete outputs or the second's. (Before the
 * commit, the detector directory was swapped in, then the classifier and training.json written:
 * a state with the new detector beside the old classifier and training.json.) A first Ctrl-C (the
 * AbortSignal) while the outputs are staged writes nothing. Then the helper's directory outputs:
 * a staged directory replaces the old one whole, a stale one ('x/' in `replaces`) goes.
 */
import * as path from 'path';
import * as os from 'os';
import { writeFileAtomic, writeFilesAtomic } from 'anomaly-lab/io';
import { trainPowerModels } from 'anomaly-lab/power';
import { expectAbortWhileStagingWritesNothing, expectOneRunComplete, observeStates, outputState } from '../helpers/commit-states';

// trainPowerModels loads its heavy parts with `await import('./data.js')` & co. (real import() in
// the shipped library); jest's CommonJS resolver does not map '.js' to the TypeScript source, so
// each such path is registered (virtual: it exists only in the build) as the source module itself.
const SRC = '../../kernel-lib/src';
jest.mock('../../kernel-lib/src/power/data.js', () => jest.requireActual(`${SRC}/power/data`), { virtual: true });
jest.mock('../../kernel-lib/src/power/synth.js', () => jest.requireActual(`${SRC}/power/synth`), { virtual: true });
jest.mock('../../kernel-lib/src/backend.js', () => jest.requireActual(`${SRC}/backend`), { virtual: true });
jest.mock('../../kernel-lib/src/power/train-detector.js', () => jest.requireActual(`${SRC}/power/train-detector`), { virtual: true });
jest.mock('../../kernel-lib/src/power/detector-io.js', () => jest.requireActual(`${SRC}/power/detector-io`), { virtual: true });
jest.mock('../../kernel-lib/src/power/train-classifier.js', () => jest.requireActual(`${SRC}/power/train-classifier`), { virtual: true });

// The real module object (not the import helper's copy), so the spies see the library's calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeFs = require('fs') as typeof import('fs');

jest.setTimeout(120000);

const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'al-train-commit-'));
afterAll(() => nodeFs.rmSync(root, { recursive: true, force: true }));

/** A small run on generated data: one epoch of a tiny detector and a 5-tree forest. */
const train = (out: string, seed: number, signal?: AbortSignal): ReturnType<typeof trainPowerModels> =>
  trainPowerModels({
    out,
    seed,
    sample_rate: 1000,
    normal_duration: 1,
    classifier_recordings: 2,
    sequence_length: 20,
    units: [4, 2],
    epochs: 1,
    max_windows: 64,
    n_estimators: 5,
    backend: 'cpu',
    signal,
  });

const OUTPUTS = [
  'classifier.json',
  'classifier_scaler.json',
  'detector/detector.json',
  'detector/model.json',
  'detector/weights.bin',
  'notes.txt',
  'training.json',
];

test('every state a Ctrl-C can leave is one run complete: the first run, or the second (never a mix)', async () => {
  const out = path.join(root, 'out');
  // A file of the user's beside the outputs stays through both runs.
  nodeFs.mkdirSync(out);
  nodeFs.writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
  await train(out, 1);
  const first = outputState(out);
  expect(Object.keys(first)).toEqual(OUTPUTS);

  const observed = await observeStates(out, () => train(out, 2));
  const second = outputState(out);
  // Another seed: other weights, another forest, another record (model.json is the same topology).
  for (const f of OUTPUTS)
    if (f !== 'notes.txt' && f !== 'detector/model.json') expect({ f, changed: second[f] !== first[f] }).toEqual({ f, changed: true });
  expect(second['notes.txt']).toBe(first['notes.txt']);
  expectOneRunComplete(out, observed, first, second);

  // A detector-only run replaces the earlier classifier too: its training.json describes all that is there.
  await trainPowerModels({
    out,
    what: 'detector',
    seed: 3,
    sample_rate: 1000,
    normal_duration: 1,
    sequence_length: 20,
    units: [4, 2],
    epochs: 1,
    max_windows: 64,
    backend: 'cpu',
  });
  expect(Object.keys(outputState(out))).toEqual([
    'detector/detector.json',
    'detector/model.json',
    'detector/weights.bin',
    'notes.txt',
    'training.json',
  ]);
});

test('a first Ctrl-C (the AbortSignal) while the outputs are staged writes nothing; a new --out is not left behind', () =>
  expectAbortWhileStagingWritesNothing(
    root,
    (out) => train(out, 1),
    (out, signal) => train(out, 2, signal),
  ));

test('writeFilesAtomic: a staged directory replaces the old one whole; a stale one named with "/" goes', async () => {
  const out = path.join(root, 'dirs');
  nodeFs.mkdirSync(path.join(out, 'model'), { recursive: true });
  nodeFs.writeFileSync(path.join(out, 'model', 'old-only.bin'), 'old\n');
  nodeFs.mkdirSync(path.join(out, 'extra'));
  nodeFs.writeFileSync(path.join(out, 'extra', 'x'), 'x\n');
  await writeFilesAtomic(
    out,
    (stage) => {
      nodeFs.mkdirSync(path.join(stage, 'model'));
      writeFileAtomic(path.join(stage, 'model', 'new.bin'), 'new\n');
    },
    { replaces: ['model/', 'extra/'] },
  );
  expect(outputState(out)).toEqual({ 'model/new.bin': expect.any(String) });
  expect(nodeFs.readdirSync(out)).toEqual(['model']);
  // A file where a directory is to go is refused before anything is renamed.
  nodeFs.writeFileSync(path.join(out, 'extra'), 'a file\n');
  await expect(
    writeFilesAtomic(out, (stage) => nodeFs.mkdirSync(path.join(stage, 'extra')), { replaces: ['model/', 'extra/'] }),
  ).rejects.toThrow(/is an existing file; expected a directory/);
  expect(nodeFs.readdirSync(out).sort()).toEqual(['extra', 'model']);
});
