/**
 * Errors about a named field of an options object or a file (`batch_size`, `threshold`). The
 * library names fields as its API spells them; a front end renders the names its own way: the
 * CLI as flags (`--batch_size`, cli/main.ts), a notebook sees `'batch_size'`. So a notebook user
 * is never told about a command-line flag, and a CLI user sees the flag they typed.
 */

/** How a field name appears in a message: the library's own rendering. */
export const quoteField = (field: string): string => `'${field}'`;

export class FieldError extends Error {
  /** The fields the message is about, in the order it names them. */
  readonly fields: readonly string[];
  private readonly compose: (name: (field: string) => string) => string;

  /**
   * `compose` writes the message given how to name a field:
   * `new FieldError(['lr'], (f) => \`option ${f('lr')} must be positive, got ${lr}\`)`.
   */
  constructor(fields: string | readonly string[], compose: (name: (field: string) => string) => string) {
    super(compose(quoteField));
    this.name = 'FieldError';
    this.fields = typeof fields === 'string' ? [fields] : fields;
    this.compose = compose;
  }

  /** The message with the fields named by `name` (the CLI: `(f) => '--' + f`). */
  messageWith(name: (field: string) => string): string {
    return this.compose(name);
  }
}
