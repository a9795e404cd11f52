/**
 * What `npm publish` would ship for the library (`npm pack --dry-run` of the anomaly-lab
 * workspace): the library and the CLI only. The demo, the benches and the experiments are the
 * private tools/ workspace and must not be in the package.
 */
import { spawnSync } from 'child_process';
import { REPO_ROOT } from '../helpers/shared';

interface PackEntry {
  name: string;
  files: Array<{ path: string }>;
}

let files: string[] = [];
beforeAll(() => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--workspace', 'anomaly-lab'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const [pack] = JSON.parse(r.stdout) as PackEntry[];
  expect(pack.name).toBe('anomaly-lab');
  files = pack.files.map((f) => f.path);
}, 120_000);

test('the package holds the library and the CLI', () => {
  for (const f of ['package.json', 'bin/anomaly-lab.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/power/index.js'])
    expect(files).toContain(f);
});

test('and no tools: no demo, bench or experiment scripts, no sources', () => {
  expect(files.filter((f) => /(^|\/)(bench|demo|experiments|tools)(\/|\.|$)|\.py$|^src\//.test(f))).toEqual([]);
});
