/**
 * A bounded `reproduce` (issue 11): it replays only the recorded anomaly-lab commands, redirects
 * every output into a fresh directory it creates, refuses a manifest whose argv writes elsewhere,
 * checks the inputs' sha256 (never reading a FIFO named as an input), and runs the command through
 * an injected runner without touching process.env or the working directory.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { boundedReplayArgv, reproduceRun, type CommandRunner } from 'anomaly-lab/report';
import { writeManifest } from 'anomaly-lab/runs';
import { expectCleanFailure, runCliLimited } from '../hostile/harness';
import { tmpRoot } from './hardening-helpers';

const root = tmpRoot('repro');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const input = path.join(root, 'train.npy');
fs.writeFileSync(input, 'recorded input bytes');

async function craftedRun(
  name: string,
  argv: string[],
  outputOption: string,
  inputs: Array<{ path: string; role: string }> = [{ path: input, role: 'train' }],
): Promise<string> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  await writeManifest(dir, {
    kind: 'anomalybert-train',
    config: {},
    inputs,
    metrics: { f1: 0.5 },
    command: { argv, outputOption, cwd: root },
    backend: { name: 'cpu' },
  });
  return dir;
}

describe('reproduce is bounded', () => {
  test('every output option of the replayed command points into the fresh directory it created', async () => {
    const run = await craftedRun(
      'redirect',
      ['train', '--train', 'train.npy', '--out', 'elsewhere', '--out=/tmp/evil-a', '--max_steps', '5'],
      'out',
    );
    const envBefore = { ...process.env };
    const cwdBefore = process.cwd();
    const calls: Array<{ argv: string[]; cwd: string; env: Record<string, string>; outExisted: boolean }> = [];
    // The injected runner stands in for `anomaly-lab`: it records its call and writes the
    // manifest the command would write into its --out.
    const runner: CommandRunner = async (argv, ctx) => {
      const out = argv[argv.indexOf('--out') + 1];
      calls.push({ argv, cwd: ctx.cwd, env: ctx.env, outExisted: fs.existsSync(out) && fs.readdirSync(out).length === 0 });
      await writeManifest(out, { kind: 'anomalybert-train', config: {}, metrics: { f1: 0.5 }, backend: { name: 'cpu' } });
      return 0;
    };
    const outDir = path.join(root, 'fresh');
    const r = await reproduceRun(run, { runner, out: outDir });
    expect(r.reproduced).toBe(true);
    expect(calls).toEqual([
      {
        argv: ['train', '--train', 'train.npy', '--out', outDir, '--out', outDir, '--max_steps', '5'],
        cwd: root,
        env: { ANOMALY_LAB_BACKEND: 'cpu' },
        outExisted: true,
      },
    ]);
    expect(fs.existsSync('/tmp/evil-a')).toBe(false);
    expect(fs.existsSync(path.join(root, 'elsewhere'))).toBe(false);
    expect(process.cwd()).toBe(cwdBefore);
    expect(process.env).toEqual(envBefore);
    // The fresh directory must be new.
    await expect(reproduceRun(run, { runner, out: outDir })).rejects.toThrow(`'out' ${outDir} already exists`);
  });

  test('only replayable commands, and only through their output options', () => {
    expect(() => boundedReplayArgv(['report', '--run', '.', '--out', '/x'], 'out', '/fresh')).toThrow(
      "field command.argv runs 'report', which reproduce does not replay (only train, power detect)",
    );
    expect(() => boundedReplayArgv(['power', 'synth', '--out', '/x'], 'out', '/fresh')).toThrow("runs 'power synth'");
    expect(() => boundedReplayArgv(['train', '--train', 'a', '--out', '/x'], 'train', '/fresh')).toThrow(
      "field command.outputOption is 'train'; 'train' writes through --out only",
    );
    expect(() => boundedReplayArgv([1, 2], 'out', '/fresh')).toThrow('field command.argv must be a non-empty list of strings');
    expect(boundedReplayArgv(['power', 'detect', '--data', 'd.csv', '--out=/x'], 'out', '/fresh')).toEqual([
      'power',
      'detect',
      '--data',
      'd.csv',
      '--out',
      '/fresh',
    ]);
    expect(boundedReplayArgv(['train', '--train', 'a'], 'out', '/fresh')).toEqual(['train', '--train', 'a', '--out', '/fresh']);
  });

  test('the CLI refuses crafted manifests in one line naming the manifest, and creates nothing', async () => {
    const evil = path.join(root, 'evil-dir');
    const cases: Array<[string, string[], string, RegExp]> = [
      [
        'report-elsewhere',
        ['report', '--run', '.', '--out', evil],
        'run',
        /field command\.argv runs 'report', which reproduce does not replay/,
      ],
      ['input-as-output', ['train', '--train', 'train.npy', '--out', evil], 'train', /field command\.outputOption is 'train'/],
      ['synth', ['power', 'synth', '--out', evil], 'out', /runs 'power synth'/],
    ];
    for (const [name, argv, outputOption, message] of cases) {
      const run = await craftedRun(name, argv, outputOption);
      const fresh = path.join(root, `${name}.fresh`);
      const r = await runCliLimited(['reproduce', '--manifest', run, '--out', fresh]);
      expect(expectCleanFailure(r, run)).toMatch(message);
      expect(fs.existsSync(evil)).toBe(false);
      expect(fs.existsSync(fresh)).toBe(false);
    }
  });

  test('inputs are checked by sha256 without reading special files', async () => {
    const fifo = path.join(root, 'input.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = await craftedRun('fifo-input', ['train', '--train', 'input.fifo', '--out', 'x'], 'out', [{ path: input, role: 'train' }]);
    // Point the recorded input at the FIFO: a read would block forever.
    const m = JSON.parse(fs.readFileSync(path.join(run, 'manifest.json'), 'utf8'));
    m.inputs[0].path = fifo;
    fs.writeFileSync(path.join(run, 'manifest.json'), JSON.stringify(m));
    const r = await runCliLimited(['reproduce', '--manifest', run, '--out', path.join(root, 'fifo.fresh')]);
    expect(expectCleanFailure(r, fifo)).toMatch(/inputs differ from the recorded sha256: .*input\.fifo \(not a regular file\)/);
    // A changed input is named too.
    const changed = await craftedRun('changed-input', ['train', '--train', 'train.npy', '--out', 'x'], 'out');
    fs.appendFileSync(input, '!');
    const r2 = await runCliLimited(['reproduce', '--manifest', changed, '--out', path.join(root, 'changed.fresh')]);
    expect(expectCleanFailure(r2, changed)).toMatch(/train\.npy \(changed\) \(pass --allow_changed_inputs to run anyway\)/);
  });
});
