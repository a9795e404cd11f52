/**
 * metrics/random/intervals are imported by the JupyterLab extension: they must bundle for the
 * browser with no Node built-ins and no tfjs. esbuild (platform 'browser') fails on either.
 */
import * as path from 'path';
import { buildSync } from 'esbuild';
import { REPO_ROOT } from '../helpers/shared';

describe('browser-safe modules', () => {
  test.each(['metrics', 'random', 'intervals'])('%s.ts bundles for the browser without Node built-ins or tfjs', (name) => {
    const result = buildSync({
      entryPoints: [path.join(REPO_ROOT, 'kernel-lib/src/browser', `${name}.ts`)],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.filter((f) => /node_modules|tfjs/.test(f))).toEqual([]);
    expect(result.outputFiles[0].text).not.toMatch(/require\(["'](fs|path|os|child_process)["']\)/);
  });
});
