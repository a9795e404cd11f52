/**
 * CLI entry: `anomaly-lab <command> ...`. Each command is one module in `./commands/<name>.js`
 * exporting `summary` (one line) and `run(argv): Promise<number>`; they are discovered from that
 * directory and loaded lazily so `--help` does not pay for tfjs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LIBRARY_VERSION } from '../version';
import { UsageError } from './args';

export interface CommandModule {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMAND_DIR = path.join(__dirname, 'commands');

function commandNames(): string[] {
  if (!fs.existsSync(COMMAND_DIR)) return [];
  return fs
    .readdirSync(COMMAND_DIR)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function loadCommand(name: string): CommandModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(COMMAND_DIR, `${name}.js`)) as CommandModule;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    const lines = [
      `anomaly-lab ${LIBRARY_VERSION} — train, transfer, run and judge time-series anomaly detectors`,
      '',
      'Usage: anomaly-lab <command> [options]   (options as --snake_case or --kebab-case)',
      '',
      'Commands:',
    ];
    for (const name of commandNames()) lines.push(`  ${name.padEnd(14)} ${loadCommand(name).summary}`);
    lines.push('', 'Run `anomaly-lab <command> --help` for the options of one command.');
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(LIBRARY_VERSION + '\n');
    return 0;
  }
  if (!commandNames().includes(cmd)) {
    process.stderr.write(`anomaly-lab: unknown command '${cmd}'. Run 'anomaly-lab --help'.\n`);
    return 2;
  }
  try {
    return await loadCommand(cmd).run(rest);
  } catch (e) {
    const err = e as Error;
    // One line, naming the problem; stack traces only on request.
    process.stderr.write(`anomaly-lab ${cmd}: ${err.message}\n`);
    if (process.env.ANOMALY_LAB_DEBUG) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
