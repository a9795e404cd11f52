/**
 * Numbers and markdown tables, rendered one way for every report: the HTML report and notebook
 * tables (render/html.ts), the viewer's markdown export, widget and figures, the power report, the
 * CLI's tables and progress lines and the experiments write through these. One family:
 * `formatNumber` (table cells: 4 significant digits, exponent at the extremes), `formatSignificant`
 * (text: significant digits, no exponent), `formatFixed` (fixed places for aligned lines) and
 * `formatPercent`; one markdown table emitter, `markdownTable`.
 */
import { mdText } from './text';

/** Compact number for tables: 4 significant digits, exponent for very small/large magnitudes. */
export function formatNumber(x: unknown, digits = 4): string {
  if (x === null || x === undefined) return '';
  if (typeof x !== 'number') return String(x);
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** `x` rounded to `digits` significant digits (float noise off a computed rate, compact JSON); non-finite as is. */
export function roundSignificant(x: number, digits = 6): number {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : x;
}

/** `digits` significant digits without trailing zeros or exponent ("0.0005", "1234.57"); non-finite as String. */
export function formatSignificant(x: number, digits = 6): string {
  return Number.isFinite(x) ? roundSignificant(x, digits).toString() : String(x);
}

/**
 * `decimals` fixed places for lines that keep their width (progress output); an exponent with 2
 * places for magnitudes below 1e-3 or from 1e5; non-finite as String.
 */
export function formatFixed(x: number, decimals = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
  return x.toFixed(decimals);
}

/** A share as a percentage with `decimals` places ("12.5%"); `missing` for no finite value. */
export function formatPercent(v: number | null | undefined, decimals = 1, missing = '–'): string {
  return typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(decimals)}%` : missing;
}

/**
 * An anomaly rate (a fraction of scores) as users read it, wherever it is shown (tables, the
 * threshold's description, CLI and training lines): a percentage like the rate control, "5.00%";
 * '–' for none. Machine-readable outputs (CSV, JSON) keep the fraction.
 */
export function rateText(v: number | null | undefined): string {
  return formatPercent(v, 2);
}

/** A table cell: numbers are formatted, text is escaped; `{ md }` is markdown already safe as is. */
export type Cell = string | number | boolean | null | undefined;
export type MdCell = Cell | { md: string };

function mdCell(c: MdCell): string {
  if (c !== null && typeof c === 'object') return c.md;
  return typeof c === 'number' ? formatNumber(c) : mdText(c ?? '');
}

/** A markdown table (GitHub style): header, `| --- |` separator, one line per row. */
export function markdownTable(columns: MdCell[], rows: MdCell[][]): string {
  const line = (cells: MdCell[]): string => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(columns), `| ${columns.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}
