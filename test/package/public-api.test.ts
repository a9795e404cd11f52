/**
 * The published package as its users load it: the built `kernel-lib/dist`, reached through a
 * `node_modules/anomaly-lab` link in a scratch directory (no jest moduleNameMapper, no tsconfig paths).
 * - tslab compiles notebook cells with its own TypeScript (5.0, `@tslab/typescript-for-tslab`) and
 *   node10 module resolution, which ignores package `exports`: the root `.d.ts` and every namespace
 *   subpath (through `typesVersions`) must type-check there, both as `al.<ns>.x` and as
 *   `import { x } from 'anomaly-lab/<ns>'`, and internals must not be at the root.
 * - Node resolves the same subpaths through `exports`, and `al.<ns>` is the subpath's module.
 * global-setup.js builds kernel-lib/dist before the suite.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/shared';

const LIB = path.join(REPO_ROOT, 'kernel-lib');
const PKG = JSON.parse(fs.readFileSync(path.join(LIB, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
};
/** The namespace subpaths the package declares (`./browser` is the older name of `./core`). */
const NAMESPACES = Object.keys(PKG.exports)
  .filter((k) => k.startsWith('./') && k !== './package.json' && k !== './browser')
  .map((k) => k.slice(2));

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-public-api-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(LIB, path.join(dir, 'node_modules', 'anomaly-lab'), 'dir');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Type-check `source` as a tslab cell file with tslab's TypeScript and compiler options; the diagnostics as text. */
function tslabDiagnostics(source: string): string[] {
  const file = path.join(dir, 'cell.ts');
  fs.writeFileSync(file, source);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');
  expect(ts.version).toMatch(/^5\.0\./);
  // the options tslab's converter passes (node_modules/tslab/dist/converter.js), minus emit
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2021,
    lib: ['lib.es2021.d.ts'],
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [path.join(REPO_ROOT, 'node_modules', '@types')],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.relative(dir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

describe('the published package', () => {
  test('every namespace subpath has its build output, its exports entry and a typesVersions entry', () => {
    expect(NAMESPACES).toEqual(
      expect.arrayContaining(['core', 'io', 'pickle', 'onnx', 'runs', 'anomalybert', 'power', 'training', 'evaluation', 'report']),
    );
    for (const ns of NAMESPACES) {
      const entry = PKG.exports[`./${ns}`] as { types: string; default: string };
      expect(fs.existsSync(path.join(LIB, entry.types))).toBe(true);
      expect(fs.existsSync(path.join(LIB, entry.default))).toBe(true);
      expect(PKG.typesVersions['*'][ns]).toEqual([entry.types.replace(/^\.\//, '')]);
    }
  });

  test("tslab's TypeScript 5.0 type-checks the root and every namespace, both as al.<ns>.x and as a subpath import", () => {
    const subpathImports = NAMESPACES.map((ns) => `import * as sub_${ns} from 'anomaly-lab/${ns}';`).join('\n');
    const sameModule = NAMESPACES.map((ns) => `const same_${ns}: typeof al.${ns} = sub_${ns};`).join('\n');
    const cell = `
import * as al from 'anomaly-lab';
import { loadKerasH5, POWER_SIGNALS, type PowerData } from 'anomaly-lab/power';
import { synthesizeTestSet, type SynthTestSet } from 'anomaly-lab/evaluation';
import { quantileLinear } from 'anomaly-lab/core';
${subpathImports}
${sameModule}
const version: string = al.LIBRARY_VERSION;
const load: typeof al.power.loadKerasH5 = loadKerasH5;
const signals: readonly string[] = al.power.POWER_SIGNALS.concat(POWER_SIGNALS);
const data: al.PowerData | PowerData | undefined = undefined;
const synth: typeof al.evaluation.synthesizeTestSet = al.synthesizeTestSet ?? synthesizeTestSet;
const set: al.evaluation.SynthTestSet | SynthTestSet | undefined = undefined;
const q: number = quantileLinear(new Float64Array([1, 2, 3]), 0.5) + al.core.quantileLinear(new Float64Array([1]), 0.5);
const run: Promise<al.TrainResult> | undefined = undefined;
const show: (columns: string[], rows: al.core.Cell[][]) => void = (c, r) => al.showTable(c, r);
export { version, load, signals, data, synth, set, q, run, show };
`;
    expect(tslabDiagnostics(cell)).toEqual([]);
  });

  test('internals are not at the root (control: the same cell checker reports them)', () => {
    const diagnostics = tslabDiagnostics(`
import * as al from 'anomaly-lab';
export const a = al.softReplace;
export const b = al.pearson;
export const c = al.joblibPickleBytes;
export const d = al.training.softReplace;
`);
    expect(diagnostics).toEqual([
      expect.stringMatching(/cell\.ts:3: Property 'softReplace' does not exist/),
      expect.stringMatching(/cell\.ts:4: Property 'pearson' does not exist/),
      expect.stringMatching(/cell\.ts:5: Property 'joblibPickleBytes' does not exist/),
    ]);
  });

  test('Node resolves every subpath through exports, and al.<ns> is that module', () => {
    const script = `
      const al = require('anomaly-lab');
      const out = { root: Object.keys(al).filter((k) => !${JSON.stringify(NAMESPACES)}.includes(k)), same: {} };
      for (const ns of ${JSON.stringify(NAMESPACES)}) out.same[ns] = al[ns] !== undefined && Object.keys(require('anomaly-lab/' + ns)).join() === Object.keys(al[ns]).join();
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/Error/);
    const out = JSON.parse(r.stdout) as { root: string[]; same: Record<string, boolean> };
    for (const ns of NAMESPACES) expect([ns, out.same[ns]]).toEqual([ns, true]);
    // the notebook's names at the root, and only a few dozen of them
    expect(out.root).toEqual(
      expect.arrayContaining(['initBackend', 'loadSeries', 'trainAnomalyBert', 'showViewer', 'scoreSteps', 'LIBRARY_VERSION']),
    );
    expect(out.root.length).toBeLessThanOrEqual(40);
    for (const internal of ['softReplace', 'pearson', 'joblibPickleBytes', 'runPowerExperiment']) expect(out.root).not.toContain(internal);
  });
});
