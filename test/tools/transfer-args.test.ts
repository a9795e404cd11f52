/**
 * The transfer experiment's round-3 options (tools/experiments/transfer/run.ts), through the built
 * tool as tools/experiments/run.sh runs it: a bad fold, arm or import directory is one line naming
 * the option, exit code 2, before any data is read or any run is trained.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/shared';

function transfer(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'tools/dist/experiments/transfer/run.js'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('transfer --round3 / --round3_import refuse bad input in one line', () => {
  test.each([
    [['--round3', '--folds', '0,3'], "transfer: --folds: '3' is not a fold (0, 1 or 2)"],
    [['--round3', '--arms', 'transfer,both'], "transfer: --arms: unknown 'both' (known: transfer, scratch)"],
    [['--round3_import', 'no/such/dir'], "transfer: --round3_import: 'no/such/dir' is not a directory (of round 3's per-run JSON files)"],
    [['--round3', '--round3_import', 'x'], 'transfer: give one of --round3, --round3_import'],
  ])('%j', (args, line) => {
    const r = transfer(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([line]);
  });
});
