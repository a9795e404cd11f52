/**
 * The layer rule of eslint.config.mjs (layers/layered-imports): a module imports its own folder
 * and lower layers only, and nothing imports the CLI. `npm run lint` (CI) runs it over
 * kernel-lib/src; here it is checked on sample sources placed in the tree. The tools (tools/**)
 * import the public API only (no-restricted-imports refuses paths into kernel-lib).
 */
import { spawnSync } from 'child_process';
import { REPO_ROOT } from '../helpers/shared';

/**
 * The layer-rule messages eslint gives each (file, source) pair, linted in a child process: eslint
 * loads eslint.config.mjs with import(), which jest's CommonJS runtime cannot do.
 */
function layerErrorsOf(samples: Array<[string, string]>): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const path = require('path');
    const samples = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = [];
      for (const [file, source] of samples) {
        const [r] = await eslint.lintText(source, { filePath: path.join(process.cwd(), file) });
        out.push(r.messages.filter((m) => ['layers/layered-imports', 'no-restricted-imports'].includes(m.ruleId)).map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(samples)], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`eslint failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[][];
}

const SAMPLES: Record<string, [string, string]> = {
  upward: ['kernel-lib/src/io/probe.ts', "import { trainAnomalyBert } from '../training/train';\nexport const x = trainAnomalyBert;\n"],
  dynamicImport: ['kernel-lib/src/runs/probe.ts', "export const f = () => import('../report/run-report.js');\n"],
  typeImport: ['kernel-lib/src/browser/probe.ts', "export type T = import('../io/npy').NdArray;\n"],
  reportImportsCli: ['kernel-lib/src/report/probe.ts', "import { main } from '../cli/main';\nexport const m = main;\n"],
  toolImportsSources: [
    'tools/demo/probe.ts',
    "import { main } from '../../kernel-lib/src/cli/main';\nimport { readNpy } from 'anomaly-lab/dist/io/npy';\nexport const m = [main, readNpy];\n",
  ],
  toolImportsPackage: [
    'tools/bench/probe.ts',
    "import { readNpy } from 'anomaly-lab';\nimport { formatHelp } from 'anomaly-lab/browser';\nimport { toolArgs } from '../common/args';\nexport const m = [readNpy, formatHelp, toolArgs];\n",
  ],
  libraryImportsCli: [
    'kernel-lib/src/training/probe.ts',
    "import type { OptionSpecs } from '../cli/args';\nexport type S = OptionSpecs;\n",
  ],
  cliDeepModules: [
    'kernel-lib/src/cli/commands/probe.ts',
    "import { readNpy } from '../../io/npy';\nexport const f = () => import('../../power/detection.js');\nexport const g = readNpy;\n",
  ],
  cliPublicEntries: [
    'kernel-lib/src/cli/commands/probe.ts',
    "import { readNpy } from '../../io/index';\nimport { TRAIN_OPTION_SPECS } from '../../training/options';\n" +
      "import { BACKEND_OPTION } from '../../backend-choices';\nimport { parseCommandArgs } from '../args';\n" +
      "export const f = () => import('../../power/index.js');\nexport const g = [readNpy, TRAIN_OPTION_SPECS, BACKEND_OPTION, parseCommandArgs];\n",
  ],
  sibling: ['kernel-lib/src/power/probe.ts', "import { AnomalyBert } from '../anomalybert/model';\nexport const m = AnomalyBert;\n"],
  downward: [
    'kernel-lib/src/training/probe.ts',
    "import { RunDirectory } from '../runs/run-dir';\nimport { quantileLinear } from '../browser/metrics';\nimport { x } from './train';\nexport const a = [RunDirectory, quantileLinear, x];\n",
  ],
};
let found: Record<string, string[]> = {};
beforeAll(() => {
  const names = Object.keys(SAMPLES);
  const results = layerErrorsOf(names.map((n) => SAMPLES[n]));
  found = Object.fromEntries(names.map((n, i) => [n, results[i]]));
});

describe('layered imports', () => {
  test('a lower layer importing a higher one is an error naming both', () => {
    expect(found.upward).toEqual([expect.stringMatching(/^io \(layer \d+\) must not import training \(layer \d+\)/)]);
    // dynamic import() and type imports count too
    expect(found.dynamicImport).toHaveLength(1);
    expect(found.typeImport).toHaveLength(1);
  });

  test('nothing imports the CLI', () => {
    expect(found.reportImportsCli).toHaveLength(1);
    expect(found.libraryImportsCli).toHaveLength(1);
  });

  test('the tools import the package, never the library by path', () => {
    expect(found.toolImportsSources).toEqual([
      expect.stringMatching(/'\.\.\/\.\.\/kernel-lib\/src\/cli\/main' import is restricted.*public API only/),
      expect.stringMatching(/'anomaly-lab\/dist\/io\/npy' import is restricted/),
    ]);
    expect(found.toolImportsPackage).toEqual([]);
  });

  test('the CLI reaches other areas through their barrels (or option-spec modules) only', () => {
    expect(found.cliDeepModules).toEqual([
      expect.stringMatching(/^cli uses the public API only: import the io barrel \(io\/index\), not io\/npy/),
      expect.stringMatching(/^cli uses the public API only: import the power barrel \(power\/index\), not power\/detection\.js/),
    ]);
    expect(found.cliPublicEntries).toEqual([]);
  });

  test('siblings of one layer stay independent; downward and same-folder imports pass', () => {
    expect(found.sibling).toHaveLength(1);
    expect(found.downward).toEqual([]);
  });
});
