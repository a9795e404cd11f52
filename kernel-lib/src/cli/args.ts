/**
 * The CLI's side of options: every command starts with `parseCommandArgs` (help, stray arguments,
 * output paths), library field errors are rendered as flags (`flagName`, `cliMessage`), Ctrl-C
 * stops long loops cleanly. Parsing itself is browser/argv.ts; specs are browser/options.ts.
 */

import * as fs from 'fs';
import { assertOutputPath, removeAtomicTemporaries } from '../io/index';
import { ENGINE_CHOICES } from '../backend-choices';
import {
  AbortedError,
  FieldError,
  UsageError,
  formatHelp,
  parseArgs,
  quoteName,
  type OptionSpecs,
  type ParsedOptions,
} from '../browser/index';

export { defineOptions, type OptionKind, type OptionSpec, type OptionSpecs, type OptionValue, type ParsedOptions } from '../browser/index';
// The argv parser is the library's (browser/argv.ts), shared with the tools; the CLI adds the rest.
export { UsageError, formatHelp, parseArgs };
import { abortPoint } from '../browser/index';
export { abortPoint };

/** The `engine` and `threads` options of the commands that run inference (onnx or tfjs), declared once. */
export const ENGINE_OPTION = {
  kind: 'string',
  default: 'auto',
  choices: ENGINE_CHOICES,
  help: 'inference engine: onnx (onnxruntime-node, native threads) or tfjs; auto takes onnx where it loads',
} as const;
export const THREADS_OPTION = { kind: 'int', min: 1, help: 'onnxruntime threads (default: every core)' } as const;

/** A user-given value in a message: quoted, control characters escaped, long values cut. */
const shown = (raw: string): string => quoteName(raw, 80);

/**
 * Library fields whose flag is spelled differently (camelCase API fields); every other field
 * (training options, power detection config) is spelled as its flag.
 */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  testLabels: 'test_label',
  windowSliding: 'window_sliding',
  batchSize: 'batch_size',
  patchSize: 'patch_size',
  sequenceLength: 'sequence_length',
  maxGapSamples: 'max_gap_samples',
  allowChangedInputs: 'allow_changed_inputs',
  runDir: 'run',
  minLengthFraction: 'min_length',
  maxLengthFraction: 'max_length',
};

/** The CLI's rendering of a library field: the flag that sets it. */
export const flagName = (field: string): string =>
  `--${Object.prototype.hasOwnProperty.call(FLAG_OF_FIELD, field) ? FLAG_OF_FIELD[field] : field}`;

/** A library error as the CLI prints it: a `FieldError` names flags, anything else as is. */
export function cliMessage(e: unknown): string {
  if (e instanceof FieldError) return e.messageWith(flagName);
  return e instanceof Error ? e.message : String(e);
}

/**
 * Run library checks of the values the user gave as flags: their `FieldError`s are usage errors
 * (exit 2) naming the flags. Returns what the check returns (checked values, defaults filled in).
 */
export function checkFlags<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof FieldError) throw new UsageError(e.messageWith(flagName));
    throw e;
  }
}

/**
 * The start of every command: parse `argv` against `specs`, print the help and return undefined
 * for `--help`, reject stray positional arguments. Commands do `if (!options) return 0;`.
 */
export function parseCommandArgs<S extends OptionSpecs>(
  argv: string[],
  specs: S,
  usageLine: string,
  summary: string,
): ParsedOptions<S> | undefined {
  const { options, positional, help } = parseArgs(argv, specs);
  if (help) {
    process.stdout.write(formatHelp(usageLine, summary, specs));
    return undefined;
  }
  if (positional.length > 0) throw new UsageError(`unexpected argument ${shown(positional[0])} (options start with --)`);
  for (const [name, spec] of Object.entries(specs)) {
    const v: unknown = options[name];
    if (spec.output && typeof v === 'string') {
      try {
        assertOutputPath(v, spec.output, `option --${name}`);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
  }
  return options;
}

/** Ctrl-C as a command sees it: `stopped()` / `signal` flip on the first one. */
export interface SigintStop {
  /** True after the first Ctrl-C. */
  stopped: () => boolean;
  /** Aborted on the first Ctrl-C: the `signal` of the library's long loops. */
  signal: AbortSignal;
  /** Restore the default SIGINT handling. */
  dispose: () => void;
}

/**
 * Ctrl-C for long loops: the first SIGINT asks the loop to stop cleanly (it checks `stopped()` or
 * `signal` and writes what it has); a second one exits at once with 130, after removing the
 * temporaries of atomic writes in progress (previous outputs stay as they were: only a rename
 * publishes). `announce` (default true, as train and metrics do) prints a notice at the first
 * Ctrl-C; commands that end with their own one line (`withSigint`) pass false. While the handler
 * is installed a Ctrl-C is only acted on between events, so synchronous writes are never torn.
 */
export function stopOnSigint(what: string, opts: { announce?: boolean } = {}): SigintStop {
  const announce = opts.announce ?? true;
  let stop = false;
  const controller = new AbortController();
  const onSigint = (): void => {
    if (stop) {
      removeAtomicTemporaries();
      if (!announce) process.stderr.write(`${what}: interrupted again; stopped at once (no partial files are left)\n`);
      process.exit(130);
    }
    stop = true;
    if (announce) process.stderr.write(`\n${what}: interrupted; stopping cleanly (Ctrl-C again to abort)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { stopped: () => stop, signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * The end of a command stopped by Ctrl-C: cli/main.ts prints its one line, `anomaly-lab <command>:
 * interrupted; <what was and was not written>`, and exits with 130.
 */
export class InterruptedError extends Error {
  constructor(written: string) {
    super(`interrupted; ${written}`);
    this.name = 'InterruptedError';
  }
}

/**
 * Run a command's work with Ctrl-C wired to an AbortSignal (`stopOnSigint`, no notice): the first
 * Ctrl-C aborts `stop.signal`, the library loop it was passed to stops at its next safe point with
 * an `AbortedError`, and the command ends with `InterruptedError(interrupted(e))`; a second Ctrl-C
 * exits at once. Before writing, the work calls `abortPoint(stop.signal, …)` so a Ctrl-C during
 * synchronous computing is seen before anything is written.
 */
export async function withSigint<T>(
  command: string,
  work: (stop: SigintStop) => Promise<T>,
  interrupted: (e: AbortedError) => string,
): Promise<T> {
  const stop = stopOnSigint(`anomaly-lab ${command}`, { announce: false });
  try {
    return await work(stop);
  } catch (e) {
    if (e instanceof AbortedError) throw new InterruptedError(interrupted(e));
    throw e;
  } finally {
    stop.dispose();
  }
}

/**
 * `withSigint` for a command that writes one `out` file in a loop over batches (estimate, predict):
 * Ctrl-C stops after the current batch and `out` is written whole or not at all, which the one line
 * says (and that a previous `out` is unchanged), with how far the loop got.
 */
export function withSigintWritingOut<T>(command: string, out: string, work: (stop: SigintStop) => Promise<T>, what: string): Promise<T> {
  const existed = fs.existsSync(out);
  return withSigint(command, work, (e) => `${notWritten(out, existed)}; stopped ${e.progressText || `before ${what}`}`);
}

/**
 * Ctrl-C for commands whose work is short or synchronous (synth, export, report, power synth):
 * held from here on (a synchronous write is never torn by it) and acted on at `beforeWriting()`,
 * where a Ctrl-C so far ends the command with `InterruptedError(said())`. The handler stays until
 * the process exits: a Ctrl-C after that point lets the writes finish.
 */
export function holdSigint(command: string): { stop: SigintStop; beforeWriting: (said: () => string) => Promise<void> } {
  const stop = stopOnSigint(`anomaly-lab ${command}`, { announce: false });
  return {
    stop,
    beforeWriting: async (said) => {
      try {
        await abortPoint(stop.signal, command);
      } catch (e) {
        throw e instanceof AbortedError ? new InterruptedError(said()) : e;
      }
    },
  };
}

/**
 * `notWritten` for an output directory published whole at the end (synth, power train, power
 * detect): call before the work, so "previous files" means the ones there when the command started.
 */
export function notWrittenDir(option: string, dir: string): () => string {
  const existed = fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
  return () => `nothing written to ${option} ${JSON.stringify(dir)}${existed ? ' (its previous files are unchanged)' : ''}`;
}

/** What an interrupted command says of an output it did not write: new, or the previous one kept. */
export function notWritten(output: string, existedBefore: boolean): string {
  return existedBefore ? `${shown(output)} not written (the previous one is unchanged)` : `${shown(output)} not written`;
}
