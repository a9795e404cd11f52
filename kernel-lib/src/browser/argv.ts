/**
 * Options from an argument list, for the CLI and the tools alike: argv is parsed against typed
 * specs (browser/options.ts: name in snake_case as in the original AnomalyBERT scripts, kind,
 * default, help; the parsed type follows from the declaration). `--snake_case`, `--kebab-case` and
 * `--opt=value` forms are all accepted. Errors name the option and what was wrong (UsageError), so
 * a front end can print one line and exit non-zero.
 */
import { escapeControl, quoteName } from './text';
import type { OptionSpec, OptionSpecs, ParsedOptions } from './options';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const toSnake = (name: string): string => name.replace(/-/g, '_');

/** A user-given value in a message: quoted, control characters escaped, long values cut. */
const shown = (raw: string): string => quoteName(raw, 80);

function checkRange(name: string, spec: OptionSpec, v: number): number {
  const lo = spec.min !== undefined ? `≥ ${spec.min}` : spec.above !== undefined ? `> ${spec.above}` : undefined;
  const range = [lo, spec.max !== undefined ? `≤ ${spec.max}` : undefined].filter(Boolean).join(' and ');
  if (
    (spec.min !== undefined && v < spec.min) ||
    (spec.above !== undefined && !(v > spec.above)) ||
    (spec.max !== undefined && v > spec.max)
  ) {
    throw new UsageError(`option --${name} must be ${range}, got ${v}`);
  }
  return v;
}

function convert(name: string, spec: OptionSpec, raw: string): string | number | boolean | string[] {
  switch (spec.kind) {
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`option --${name} expects a number, got ${shown(raw)}`);
      return checkRange(name, spec, v);
    }
    case 'int': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isSafeInteger(v)) throw new UsageError(`option --${name} expects an integer, got ${shown(raw)}`);
      return checkRange(name, spec, v);
    }
    case 'boolean': {
      const lower = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
      if (['0', 'false', 'no', 'off'].includes(lower)) return false;
      throw new UsageError(`option --${name} expects true/false, got ${shown(raw)}`);
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    default:
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(`option --${name} must be one of ${spec.choices.join('|')}, got ${shown(raw)}`);
      }
      return raw;
  }
}

/**
 * Parse argv against specs. Returns the options (defaults filled in) and positional arguments.
 * `--help` yields `{ help: true }`.
 */
export function parseArgs<S extends OptionSpecs>(
  argv: string[],
  specs: S,
): { options: ParsedOptions<S>; positional: string[]; help: boolean } {
  // Filled by name from the specs; the typed view is valid once defaults are in (checked below).
  const options: Record<string, string | number | boolean | readonly string[] | undefined> = {};
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    let body = arg.slice(2);
    let inline: string | undefined;
    const eq = body.indexOf('=');
    if (eq >= 0) {
      inline = body.slice(eq + 1);
      body = body.slice(0, eq);
    }
    let name = toSnake(body);
    if (!(name in specs)) name = aliasOf(specs, name) ?? name;
    let negated = false;
    if (!(name in specs) && name.startsWith('no_') && specs[name.slice(3)]?.kind === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(`unknown option --${escapeControl(body.slice(0, 80))} (known: ${known || 'none'})`);
    }
    if (spec.kind === 'boolean' && inline === undefined) {
      const next = argv[i + 1];
      if (!negated && next !== undefined && /^(true|false|1|0|yes|no|on|off)$/i.test(next)) {
        options[name] = convert(name, spec, next);
        i++;
      } else {
        options[name] = !negated;
      }
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      raw = argv[i + 1];
      if (raw === undefined || (raw.startsWith('--') && raw.length > 2)) {
        throw new UsageError(`option --${name} needs a value`);
      }
      i++;
    }
    if (spec.kind === 'list' && Array.isArray(options[name])) {
      (options[name] as string[]).push(...(convert(name, spec, raw) as string[]));
    } else {
      options[name] = convert(name, spec, raw);
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    // A list default is copied: a parsed list is the caller's to change.
    if (options[name] === undefined && spec.default !== undefined)
      options[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    if (!help && spec.required && options[name] === undefined) throw new UsageError(`missing required option --${name}`);
  }
  return { options: options as ParsedOptions<S>, positional, help };
}

/** The option an earlier name (`aliases`) stands for. */
function aliasOf(specs: OptionSpecs, name: string): string | undefined {
  return Object.keys(specs).find((k) => specs[k].aliases?.includes(name));
}

/** Help text for a command from its specs. */
export function formatHelp(usageLine: string, summary: string, specs: OptionSpecs): string {
  const lines = [`Usage: ${usageLine}`, '', summary, '', 'Options:'];
  for (const [name, spec] of Object.entries(specs)) {
    const def =
      spec.default === undefined ? '' : ` (default: ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)})`;
    const req = spec.required ? ' (required)' : '';
    const also = spec.aliases?.length ? ` (also ${spec.aliases.map((a) => `--${a}`).join(', ')})` : '';
    const choices = spec.choices ? ` [${spec.choices.join('|')}]` : '';
    lines.push(`  --${name.padEnd(24)} ${spec.help}${choices}${def}${req}${also}`);
  }
  return lines.join('\n') + '\n';
}
