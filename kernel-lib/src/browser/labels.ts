/**
 * Ground-truth labels, validated in one place: every reader of labels (the metrics, training's
 * test labels, step scoring, the HTML report, the metrics CLI) accepts exactly 0 and 1 and refuses
 * anything else naming what was read and where.
 */
import { FieldError, quoteField } from './errors';

export interface LabelCheckOptions {
  /** what the labels are (a file name, "test labels"); starts the message. */
  what?: string;
  /** the field (option) they were given as; the error is then a FieldError naming it. */
  field?: string;
  /** how a position is named: a data row or an array index (default 'index'). */
  position?: 'row' | 'index';
}

/** Throws when a label is not 0 or 1, naming the first such value and its position. */
export function assertBinaryLabels(values: ArrayLike<number | bigint>, opts: LabelCheckOptions = {}): void {
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (v === 0 || v === 1) continue;
    const message = (name: (field: string) => string): string => {
      const subject = [opts.field !== undefined ? name(opts.field) : '', opts.what ?? ''].filter(Boolean).join(' ');
      return `${subject ? `${subject}: ` : ''}labels must be 0/1, found ${v} at ${opts.position ?? 'index'} ${i}`;
    };
    throw opts.field !== undefined ? new FieldError(opts.field, message) : new Error(message(quoteField));
  }
}

/** Labels as 0/1 bytes, after `assertBinaryLabels`. */
export function toBinaryLabels(values: ArrayLike<number | bigint>, opts: LabelCheckOptions = {}): Uint8Array {
  assertBinaryLabels(values, opts);
  return Uint8Array.from(values as ArrayLike<number>, (v) => Number(v));
}
