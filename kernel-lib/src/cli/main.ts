/**
 * CLI entry: `anomaly-lab <command> ...`. The commands are listed statically in `./registry.ts`
 * (name, summary, lazy `import()` of `./commands/<name>.js` exporting `run(argv)`), so `--help`
 * reads summaries only and loads no tfjs; running a command loads just that command's module.
 */
import * as fs from 'fs';
import { LIBRARY_VERSION } from '../version';
import { InterruptedError, UsageError, cliMessage } from './args';
import { COMMANDS, isCommandName } from './registry';
import { escapeControl, quoteName } from '../browser/index';

export type { CommandModule } from './registry';

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
    for (const [name, entry] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(14)} ${entry.summary}`);
    lines.push('', 'Run `anomaly-lab <command> --help` for the options of one command.');
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(LIBRARY_VERSION + '\n');
    return 0;
  }
  if (!isCommandName(cmd)) {
    process.stderr.write(`anomaly-lab: unknown command ${quoteName(cmd)}. Run 'anomaly-lab --help'.\n`);
    return 2;
  }
  try {
    const command = await COMMANDS[cmd].load();
    return await command.run(rest);
  } catch (e) {
    // The one error boundary: one line, naming the problem; stack traces only on request.
    process.stderr.write(`anomaly-lab ${cmd}: ${errorLine(e, rest)}\n`);
    if (process.env.ANOMALY_LAB_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return e instanceof UsageError ? 2 : e instanceof InterruptedError ? 130 : 1;
  }
}

/**
 * JavaScript's own errors (a RangeError "Invalid typed array length", "Maximum call stack size
 * exceeded", a TypeError) name no input: wrap them with the inputs of the command line, so the
 * user knows which file or option led there.
 */
function isInternal(e: unknown): boolean {
  return (
    e instanceof RangeError || e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError || !(e instanceof Error)
  );
}

/** `--opt value` pairs of argv whose value is an existing path (the inputs the command read). */
function inputsOf(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
    if (value === undefined || value.startsWith('--') || name === '--out') continue;
    let exists = false;
    try {
      exists = fs.existsSync(value);
    } catch {
      exists = false;
    }
    if (exists) out.push(`${name} ${quoteName(value)}`);
  }
  return out;
}

/** The one-line message of an error: control characters escaped, internal errors wrapped. */
export function errorLine(e: unknown, argv: string[] = []): string {
  // Library errors name fields; here they name the flags that set them.
  const raw = cliMessage(e);
  let msg = escapeControl(raw.length > 2000 ? `${raw.slice(0, 2000)}… (${raw.length} chars)` : raw);
  if (isInternal(e)) {
    const inputs = inputsOf(argv);
    const kind = e instanceof Error ? e.name : 'error';
    msg = `internal error (${kind}: ${msg}) while processing ${inputs.length ? inputs.join(', ') : 'the options given'}; please report it with that input`;
  }
  return msg;
}
