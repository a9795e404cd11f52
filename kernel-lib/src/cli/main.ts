/**
 * CLI entry: dispatches `anomaly-lab <command> ...` to one module per command.
 * Each command module exports `run(argv: string[]): Promise<number>` and a one-line `summary`.
 */
import { LIBRARY_VERSION } from '../version';

interface CommandModule {
  summary: string;
  run(argv: string[]): Promise<number>;
}

/** Lazy so that `--help` does not pay for loading tfjs. Keys are command names. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
};

function usage(): string {
  const lines = [
    `anomaly-lab ${LIBRARY_VERSION} — time-series anomaly detection toolkit`,
    '',
    'Usage: anomaly-lab <command> [options]   (options: --snake_case or --kebab-case)',
    '',
    'Commands:',
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const lines = [usage()];
    for (const [name, load] of Object.entries(COMMANDS)) {
      const mod = await load();
      lines.push(`  ${name.padEnd(14)} ${mod.summary}`);
    }
    lines.push('', 'Run `anomaly-lab <command> --help` for the options of one command.');
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(LIBRARY_VERSION + '\n');
    return 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`anomaly-lab: unknown command '${cmd}'. Run 'anomaly-lab --help'.\n`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}
