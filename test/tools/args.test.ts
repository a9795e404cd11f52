/**
 * The tools' one argument parser (tools/common/args.ts over the library's option specs), through
 * the built tools as `npm run demo`, `npm run bench` and tools/experiments/run.sh run them:
 * `--help` lists the options and exits 0; a bad option is one line naming it, exit code 2.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/shared';

const TOOLS = {
  demo: 'tools/dist/demo/index.js',
  bench: 'tools/dist/bench/index.js',
  ess: 'tools/dist/experiments/ess/run.js',
  power: 'tools/dist/experiments/power/run.js',
};

function run(tool: keyof typeof TOOLS, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, TOOLS[tool]), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tools command lines', () => {
  test.each(Object.keys(TOOLS) as Array<keyof typeof TOOLS>)('%s --help lists its options and exits 0', (tool) => {
    const r = run(tool, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: /);
    expect(r.stdout).toMatch(/\n {2}--\w+ +\S/);
  });

  test.each(Object.keys(TOOLS) as Array<keyof typeof TOOLS>)('%s refuses an unknown option in one line, exit code 2', (tool) => {
    const r = run(tool, ['--bogus_option', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${tool}: unknown option --bogus_option \\(known: --`)),
    ]);
  });

  test('values are checked against the specs and named', () => {
    const ess = run('ess', ['--steps_a', '0']);
    expect(ess.status).toBe(2);
    expect(ess.stderr.trim()).toBe('ess: option --steps_a must be ≥ 1, got 0');
    const demo = run('demo', ['--backend', 'gpu9']);
    expect(demo.status).toBe(2);
    expect(demo.stderr.trim()).toMatch(/^demo: option --backend must be one of auto\|.*, got 'gpu9'$/);
    const power = run('power', ['--epochs', 'many']);
    expect(power.stderr.trim()).toMatch(/^power: option --epochs expects an integer, got 'many'$/);
  });

  test('the demo takes no positional arguments; the bench names its modules', () => {
    expect(run('demo', ['quick']).stderr.trim()).toBe("demo: unexpected argument 'quick'");
    const bench = run('bench', ['metrics', 'nosuch']);
    expect(bench.status).toBe(2);
    expect(bench.stderr.trim()).toMatch(/^bench: no benchmark 'nosuch' \(have: estimate, metrics, parsers, power, train, viewer\)$/);
  });
});
