/**
 * Re-run an experiment from its manifest and check that it reproduces.
 *
 * The manifest's `command` holds the CLI arguments that produced the run and the option naming its
 * output directory. We (1) check the inputs still have the recorded sha256, (2) create a fresh
 * directory and run the same command into it on the recorded backend, through the `runner` the
 * caller injects (the CLI spawns `anomaly-lab`; this module never loads the CLI and never touches
 * process.env or the working directory), and (3) compare every numeric metric of the new manifest
 * with the recorded one (wall-clock fields ignored). tfjs kernels are deterministic for a given
 * backend and seed, so the same backend must give the same numbers; a different backend (e.g.
 * wasm vs cpu) may differ in the last float bits, hence the tolerance.
 *
 * A manifest is data from anywhere, so the replay is bounded: only the commands in `REPLAYABLE`
 * run, and every option through which such a command writes is pointed into the fresh directory;
 * a manifest whose output option is anything else is refused.
 */
import * as fs from 'fs';
import * as path from 'path';
import { escapeControl, quoteName } from '../browser/text';
import {
  compareMetrics,
  readManifest,
  verifyInputs,
  type ExperimentManifest,
  type InputDrift,
  type MetricDifference,
} from '../runs/manifest';
import { FieldError } from '../browser/errors';
import { isEngineName } from '../backend-choices';

/** How a command is run: argv for `anomaly-lab`, its working directory and extra environment. Returns the exit code. */
export type CommandRunner = (argv: string[], ctx: { cwd: string; env: Record<string, string> }) => Promise<number>;

/**
 * The commands reproduce replays (those that write a manifest into their output directory), with
 * every option through which each writes. Anything else in a manifest is refused.
 */
export const REPLAYABLE: Readonly<Record<string, { outputs: readonly string[] }>> = {
  train: { outputs: ['out'] },
  'power detect': { outputs: ['out'] },
};

export interface ReproduceOptions {
  /** runs the recorded command (the CLI passes one that spawns `anomaly-lab`). */
  runner: CommandRunner;
  /** output directory of the re-run (default `<run dir>.reproduced`); must not exist yet; created here. */
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

const optionName = (arg: string): string | undefined => {
  if (!arg.startsWith('--')) return undefined;
  const eq = arg.indexOf('=');
  return (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-/g, '_');
};

/**
 * The argv of a bounded replay: the command must be in REPLAYABLE, its output option must be
 * one it writes through, and every such option is set to `outDir`. Throws one line naming the
 * manifest field otherwise.
 */
export function boundedReplayArgv(argv: unknown, outputOption: unknown, outDir: string, where = 'manifest'): string[] {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new Error(`${where}: field command.argv must be a non-empty list of strings`);
  }
  const key = argv[0] === 'power' ? `power ${String(argv[1])}` : String(argv[0]);
  const spec = REPLAYABLE[key];
  if (!spec) {
    throw new Error(
      `${where}: field command.argv runs ${quoteName(key)}, which reproduce does not replay (only ${Object.keys(REPLAYABLE).join(', ')})`,
    );
  }
  if (typeof outputOption !== 'string' || !spec.outputs.includes(outputOption.replace(/-/g, '_'))) {
    throw new Error(
      `${where}: field command.outputOption is ${quoteName(String(outputOption))}; '${key}' writes through ${spec.outputs.map((o) => `--${o}`).join(', ')} only`,
    );
  }
  let out = argv as string[];
  for (const o of spec.outputs) out = replaceOption(out, o, outDir);
  // After the redirection no argument may still name an output option with another value.
  for (let i = 0; i < out.length; i++) {
    const name = optionName(out[i]);
    if (name && spec.outputs.includes(name) && (out[i].includes('=') || out[i + 1] !== outDir)) {
      throw new Error(`${where}: field command.argv writes through ${quoteName(out[i])} outside the re-run directory`);
    }
  }
  return out;
}

/** Re-run the command recorded in a manifest and compare the metrics. */
export async function reproduceRun(manifestPath: string, opts: ReproduceOptions): Promise<ReproduceResult> {
  const manifestFile = path.resolve(manifestFileOf(manifestPath));
  const original = readManifest(manifestFile);
  const cmd = original.command;
  if (!cmd || !Array.isArray(cmd.argv) || cmd.argv.length === 0) {
    throw new FieldError(
      'manifest',
      (f) =>
        `${f('manifest')} ${manifestPath}: no command recorded (field command.argv), so the run cannot be re-run; runs made by the CLI and by trainAnomalyBert with a command record one`,
    );
  }
  if (!cmd.outputOption)
    throw new FieldError(
      'manifest',
      (f) => `${f('manifest')} ${manifestPath}: field command.outputOption is missing (which option names the output directory?)`,
    );
  // Checked before anything is hashed or created.
  boundedReplayArgv(cmd.argv, cmd.outputOption, '/', `--manifest ${manifestPath}`);
  const baseDir = cmd.cwd ?? path.dirname(manifestFile);
  const inputDrift = await verifyInputs(original, baseDir);
  if (inputDrift.length > 0 && !opts.allowChangedInputs) {
    const state = (d: InputDrift): string => {
      if (d.actual !== null) return 'changed';
      const abs = path.isAbsolute(d.path) ? d.path : path.join(baseDir, d.path);
      return fs.existsSync(abs) ? 'not a regular file' : 'missing';
    };
    const list = inputDrift.map((d) => `${escapeControl(d.path)} (${state(d)})`).join(', ');
    throw new FieldError(
      ['manifest', 'allowChangedInputs'],
      (f) =>
        `${f('manifest')} ${manifestPath}: inputs differ from the recorded sha256: ${list} (pass ${f('allowChangedInputs')} to run anyway)`,
    );
  }
  const outDir = path.resolve(opts.out ?? `${path.dirname(manifestFile)}.reproduced`);
  let argv = boundedReplayArgv(cmd.argv, cmd.outputOption, outDir, `--manifest ${manifestPath}`);
  // Training's dropout masks depend on the worker partition: replay the recorded worker count,
  // not this machine's core count.
  const workers = original.config.workers;
  if (argv[0] === 'train' && typeof workers === 'number' && Number.isInteger(workers) && workers > 0)
    argv = replaceOption(argv, 'workers', String(workers));
  // The training engine too (onnx and tfjs round differently): the one the run used, not this machine's default.
  const engine = original.config.engine;
  if (argv[0] === 'train' && isEngineName(engine)) argv = replaceOption(argv, 'engine', engine);
  if (fs.existsSync(outDir))
    throw new FieldError('out', (f) => `${f('out')} ${outDir} already exists; give a new directory for the re-run`);
  const backend = opts.backend ?? original.backend.provider ?? original.backend.name;
  // The fresh directory: created here (exclusively), so the re-run cannot write into anything older.
  fs.mkdirSync(path.dirname(outDir), { recursive: true });
  fs.mkdirSync(outDir);
  const env: Record<string, string> = {};
  if (backend && backend !== 'none' && backend !== 'unknown') env.ANOMALY_LAB_BACKEND = backend;
  const cwd = fs.existsSync(baseDir) && fs.statSync(baseDir).isDirectory() ? baseDir : path.dirname(manifestFile);
  opts.log?.(
    `reproduce: anomaly-lab ${escapeControl(argv.join(' '))}  (cwd ${escapeControl(cwd)}, backend ${escapeControl(String(backend))})`,
  );
  const code = await opts.runner(argv, { cwd, env });
  if (code !== 0)
    throw new Error(`reproduce: the re-run 'anomaly-lab ${escapeControl(argv.join(' '))}' (in ${outDir}) exited with code ${code}`);
  const rerun = readManifest(outDir);
  const differences = compareMetrics(original.metrics, rerun.metrics, { rtol: opts.rtol, atol: opts.atol });
  return { manifestFile, original, rerun, outDir, argv, inputDrift, differences, reproduced: differences.length === 0 };
}
