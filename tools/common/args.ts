/**
 * The one argument parser of the tools (demo, bench, experiments): the library's typed option specs
 * (`defineOptions`) and argv parser (`parseArgs`), which the CLI uses too, taken from the public
 * API. `--help` prints the specs' help and exits 0; a bad option prints one line naming it and
 * exits 2, as the CLI does.
 */
import { formatHelp, parseArgs, quoteName, UsageError, type OptionSpecs, type ParsedOptions } from 'anomaly-lab/core';

export interface ToolCommand<S extends OptionSpecs> {
  /** Name in messages ("demo", "bench", "ess"). */
  name: string;
  /** The usage line after "Usage: ". */
  usage: string;
  summary: string;
  specs: S;
  /** Whether positional arguments are accepted (else one is an error naming it). */
  positional?: boolean;
}

export interface ToolArgs<S extends OptionSpecs> {
  options: ParsedOptions<S>;
  positional: string[];
}

/** Parse `argv` for a tool, or exit (0 after `--help`, 2 on a usage error). */
export function toolArgs<S extends OptionSpecs>(cmd: ToolCommand<S>, argv: string[] = process.argv.slice(2)): ToolArgs<S> {
  try {
    const { options, positional, help } = parseArgs(argv, cmd.specs);
    if (help) {
      process.stdout.write(formatHelp(cmd.usage, cmd.summary, cmd.specs));
      process.exit(0);
    }
    if (!cmd.positional && positional.length > 0) throw new UsageError(`unexpected argument ${quoteName(positional[0], 80)}`);
    return { options, positional };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${cmd.name}: ${e.message}\n`);
    process.exit(2);
  }
}
