/**
 * The one place that escapes text written into messages, markdown and CSV. Data (column names,
 * class names, file names) can hold anything: terminal escape codes that would clear a screen,
 * newlines that would split a one-line error or a table row, markdown or spreadsheet formulas.
 * Browser-safe (no Node imports): the viewer's exports, the reports, the power exports and the
 * CLI's error boundary all use these.
 */

/**
 * Escape C0/C1 control characters (and DEL, line/paragraph separators) as visible `\n`, `\t`,
 * `\x1b`, `\u2028` …, so the text stays on one line and cannot drive a terminal.
 */
export function escapeControl(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default: {
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      }
    }
  });
}

/**
 * A name from data quoted for a message: `'name'` with control characters escaped and quotes
 * and backslashes backslash-escaped; long names are cut (with their length) so one hostile
 * header cannot flood the terminal.
 */
export function quoteName(name: unknown, maxChars = 200): string {
  let s = String(name);
  const cut = s.length > maxChars ? `… (${s.length} chars)` : '';
  if (cut) s = s.slice(0, maxChars);
  return `'${escapeControl(s.replace(/\\/g, '\\\\').replace(/'/g, "\\'"))}'${cut}`;
}

/**
 * Markdown text (a paragraph, list item or table cell): escape the characters that would change
 * the table or inject markup, and control characters; newlines become spaces.
 */
export function mdText(s: unknown): string {
  return escapeControl(
    String(s)
      .replace(/[\\`*_{}[\]()#+!|<>]/g, (c) => `\\${c}`)
      .replace(/\r?\n/g, ' '),
  );
}

/**
 * Markdown inline code (`like this`) for file paths: the path stays readable; backticks,
 * pipes (table cells) and control characters cannot break out.
 */
export function mdCode(s: unknown): string {
  const text = escapeControl(String(s).replace(/\r?\n/g, ' ')).replace(/\|/g, '\\|');
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${fence.length > 1 ? ' ' : ''}${text}${fence.length > 1 ? ' ' : ''}${fence}`;
}

/**
 * Quote a CSV cell when needed; neutralise spreadsheet formulas (=, +, -, @) in text cells;
 * escape control characters other than tab and line breaks (which the quotes keep in the cell),
 * so `cat anomalies.csv` cannot drive the terminal.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let s = value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => escapeControl(c));
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
