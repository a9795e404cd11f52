/**
 * `anomaly-lab --help` and every `<command> --help` load no tfjs: the command registry lists
 * summaries statically and imports a command's module only to run it (kernel-lib/src/cli/registry.ts).
 * The real built CLI runs with a preload that records every module the process loaded.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/shared';
// direct import (not the package): the CLI's own modules are its bin's internals, not part of the library API
import { COMMANDS, POWER_COMMANDS } from '../../kernel-lib/src/cli/registry';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-help-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Run the CLI; the modules it loaded, as paths relative to the repository. */
function loadedBy(args: string[]): { code: number; stdout: string; stderr: string; modules: string[] } {
  const file = path.join(dir, `modules-${runs++}.txt`);
  const r = runCli(args, {
    env: { NODE_OPTIONS: `--require ${path.join(REPO_ROOT, 'test/helpers/record-modules.js')}`, RECORD_MODULES_FILE: file },
  });
  const modules = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((m) => path.relative(REPO_ROOT, m));
  return { ...r, modules };
}

const tfjs = (modules: string[]): string[] => modules.filter((m) => /node_modules[\\/]@tensorflow[\\/]/.test(m));

describe('--help loads no tfjs', () => {
  test('anomaly-lab --help lists every registered command from the registry alone', () => {
    const r = loadedBy(['--help']);
    expect(r.code).toBe(0);
    for (const [name, entry] of Object.entries(COMMANDS)) expect(r.stdout).toContain(`  ${name.padEnd(14)} ${entry.summary}`);
    expect(tfjs(r.modules)).toEqual([]);
    // no command module was loaded to list the commands
    expect(r.modules.filter((m) => m.includes(`cli${path.sep}commands${path.sep}`))).toEqual([]);
  });

  const helps: string[][] = [
    ...Object.keys(COMMANDS).map((name) => [name, '--help']),
    ...Object.keys(POWER_COMMANDS).map((sub) => ['power', sub, '--help']),
  ];
  test.each(helps.map((args) => [args.join(' '), args]))('%s', (_name, args) => {
    const r = loadedBy(args as string[]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: anomaly-lab /);
    expect(tfjs(r.modules)).toEqual([]);
  });

  test('the recorder sees tfjs when a command does load it (control)', () => {
    const r = loadedBy(['power', 'inspect', '--detector', path.join(dir, 'missing.h5'), '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(tfjs(r.modules).length).toBeGreaterThan(0);
  });
});
