/**
 * Re-run an experiment from its manifest and check that it reproduces.
 *
 * The manifest's `command` holds the CLI arguments that produced the run and the option naming its
 * output directory. We (1) check the inputs still have the recorded sha256, (2) run the same
 * command in-process into a fresh directory on the recorded backend, and (3) compare every numeric
 * metric of the new manifest with the recorded one (wall-clock fields ignored). tfjs kernels are
 * deterministic for a given backend and seed, so the same backend must give the same numbers;
 * a different backend (e.g. wasm vs cpu) may differ in the last float bits, hence the tolerance.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compareMetrics, readManifest, verifyInputs, type ExperimentManifest, type InputDrift, type MetricDifference } from './manifest';

export interface ReproduceOptions {
  /** output directory of the re-run (default `<run dir>.reproduced`); must not exist yet. */
  out?: string;
  rtol?: number;
  atol?: number;
  /** run even when an input file's hash changed (the comparison then means little). */
  allowChangedInputs?: boolean;
  /** backend to use instead of the recorded one. */
  backend?: string;
  /** where CLI output goes (default: inherited). */
  log?: (line: string) => void;
}

export interface ReproduceResult {
  manifestFile: string;
  original: ExperimentManifest;
  rerun: ExperimentManifest;
  outDir: string;
  argv: string[];
  inputDrift: InputDrift[];
  differences: MetricDifference[];
  reproduced: boolean;
}

/** Replace (or add) `--<option> <value>` in CLI arguments; accepts snake/kebab and `=` forms. */
export function replaceOption(argv: string[], option: string, value: string): string[] {
  const names = new Set([`--${option}`, `--${option.replace(/_/g, '-')}`]);
  const out: string[] = [];
  let replaced = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (names.has(name)) {
      out.push(`--${option}`, value);
      if (eq < 0) i++; // skip the old value
      replaced = true;
    } else out.push(a);
  }
  if (!replaced) out.push(`--${option}`, value);
  return out;
}

function manifestFileOf(p: string): string {
  return fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, 'manifest.json') : p;
}

/** Re-run the command recorded in a manifest and compare the metrics. */
export async function reproduceRun(manifestPath: string, opts: ReproduceOptions = {}): Promise<ReproduceResult> {
  const manifestFile = path.resolve(manifestFileOf(manifestPath));
  const original = readManifest(manifestFile);
  const cmd = original.command;
  if (!cmd || !Array.isArray(cmd.argv) || cmd.argv.length === 0) {
    throw new Error(`--manifest ${manifestPath}: no command recorded (field command.argv), so the run cannot be re-run; runs made by the CLI and by trainAnomalyBert with a command record one`);
  }
  if (!cmd.outputOption) throw new Error(`--manifest ${manifestPath}: field command.outputOption is missing (which option names the output directory?)`);
  const baseDir = cmd.cwd ?? path.dirname(manifestFile);
  const inputDrift = await verifyInputs(original, baseDir);
  if (inputDrift.length > 0 && !opts.allowChangedInputs) {
    const list = inputDrift.map((d) => `${d.path} (${d.actual === null ? 'missing' : 'changed'})`).join(', ');
    throw new Error(`--manifest ${manifestPath}: inputs differ from the recorded sha256: ${list} (pass --allow_changed_inputs to run anyway)`);
  }
  const outDir = path.resolve(opts.out ?? `${path.dirname(manifestFile)}.reproduced`);
  if (fs.existsSync(outDir)) throw new Error(`--out ${outDir} already exists; give a new directory for the re-run`);
  const argv = replaceOption(cmd.argv, cmd.outputOption, outDir);
  const backend = opts.backend ?? original.backend.provider ?? original.backend.name;

  // Run in-process with the recorded working directory and backend; restore both afterwards.
  const prevCwd = process.cwd();
  const prevBackend = process.env.ANOMALY_LAB_BACKEND;
  let code: number;
  try {
    if (backend && backend !== 'none' && backend !== 'unknown') process.env.ANOMALY_LAB_BACKEND = backend;
    if (fs.existsSync(baseDir)) process.chdir(baseDir);
    opts.log?.(`reproduce: anomaly-lab ${argv.join(' ')}  (cwd ${baseDir}, backend ${backend})`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { main } = require('../cli/main') as { main(argv: string[]): Promise<number> };
    code = await main(argv);
  } finally {
    process.chdir(prevCwd);
    if (prevBackend === undefined) delete process.env.ANOMALY_LAB_BACKEND;
    else process.env.ANOMALY_LAB_BACKEND = prevBackend;
  }
  if (code !== 0) throw new Error(`reproduce: the re-run 'anomaly-lab ${argv.join(' ')}' exited with code ${code}`);
  const rerun = readManifest(outDir);
  const differences = compareMetrics(original.metrics, rerun.metrics, { rtol: opts.rtol, atol: opts.atol });
  return { manifestFile, original, rerun, outDir, argv, inputDrift, differences, reproduced: differences.length === 0 };
}
