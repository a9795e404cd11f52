/**
 * Typed option specs: an options object is declared once (name in snake_case as in the original
 * AnomalyBERT scripts, kind, default, help) and the type of its parsed values follows from the
 * declaration, so no consumer needs a cast. The CLI parses argv against these specs
 * (cli/args.ts); the library declares them (training/options.ts) without knowing the CLI.
 */

export type OptionKind = 'string' | 'number' | 'int' | 'boolean' | 'list';

export interface OptionSpec {
  kind: OptionKind;
  help: string;
  default?: string | number | boolean | readonly string[];
  required?: boolean;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  /** Numeric options: inclusive bounds (checked at parse time, the error names the option). */
  min?: number;
  max?: number;
  /** Numeric options: the value must be strictly greater than this. */
  above?: number;
  /**
   * The option names a path this command writes: a new path or an existing regular file
   * ('file') / directory ('dir'). FIFOs, devices and sockets are refused (io/atomic.ts).
   */
  output?: 'file' | 'dir';
  /**
   * Earlier names of the option, still accepted on the command line (a renamed flag keeps old
   * scripts and recorded `reproduce` commands working); the value lands under the current name.
   */
  aliases?: readonly string[];
}

export type OptionSpecs = Record<string, OptionSpec>;

/** The value type of one kind ('int' and 'number' are both numbers; a list is strings). */
type KindValue<K extends OptionKind> = K extends 'number' | 'int'
  ? number
  : K extends 'boolean'
    ? boolean
    : K extends 'list'
      ? string[]
      : string;

/** The value of one option: a string option with choices is the union of its choices. */
export type OptionValue<S extends OptionSpec> = S extends { kind: 'string'; choices: readonly (infer C extends string)[] }
  ? C
  : KindValue<S['kind']>;

/** An option with a default or `required` always has a value after parsing. */
type AlwaysSet<S extends OptionSpec> = S extends { default: unknown } ? true : S extends { required: true } ? true : false;

/**
 * The parsed options of specs `S`: `ParsedOptions<typeof SPECS>` types every option from its
 * declaration. Without an argument it is the untyped record (any spec).
 */
export type ParsedOptions<S extends OptionSpecs = OptionSpecs> = {
  -readonly [K in keyof S]: AlwaysSet<S[K]> extends true ? OptionValue<S[K]> : OptionValue<S[K]> | undefined;
};

/**
 * Declare specs keeping their literal types (kinds, choices, which have defaults), checked
 * against `OptionSpecs`: `const SPECS = defineOptions({ out: { kind: 'string', required: true, ... } })`.
 */
export function defineOptions<const S extends OptionSpecs>(specs: S): S {
  return specs;
}
