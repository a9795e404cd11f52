/**
 * Static HTML pieces for the notebook fallbacks and the reports: escaped tables and number
 * formatting (the SVG charts are in ./svg). Everything that comes from data (column names, file
 * names, fault labels, titles) goes through `escapeHtml`; nothing here builds markup from
 * unescaped input, so a CSV header like `<img onerror=…>` renders as text.
 */
import { formatNumber, type Cell } from '../browser/format';
import type { ViewerTable } from '../browser/viewer/tables';

/** Escape text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&#39;';
      default:
        return '&#96;';
    }
  });
}

// Numbers and cells are rendered by the browser-safe core, one way for HTML and markdown alike.
export { formatNumber };
export type { Cell };

/** Options of the table renderers: rows shown, and columns to right-align though their cells are text. */
export interface TableRenderOptions {
  maxRows?: number;
  /**
   * The table's full row count when `rows` holds only its first rows (those formatted for display,
   * a ViewerTable's `totalRows`, set by intervalsTable's `rows`): the '… N more rows' note counts from it. Default `rows.length`.
   */
  totalRows?: number;
  /** per column: numbers already formatted as text (right-aligned like numbers). */
  numeric?: boolean[];
}

/** Plain-text table with aligned columns (numbers right-aligned). */
export function textTable(columns: string[], rows: Cell[][], opts: TableRenderOptions = {}): string {
  const max = opts.maxRows ?? Infinity;
  const shown = rows.slice(0, max);
  const cells = shown.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c === null || c === undefined ? '' : String(c))));
  const widths = columns.map((h, j) => Math.max(h.length, ...cells.map((r) => (r[j] ?? '').length)));
  const numeric = columns.map(
    (_, j) =>
      opts.numeric?.[j] ?? (shown.length > 0 && shown.every((r) => typeof r[j] === 'number' || r[j] === null || r[j] === undefined)),
  );
  const fmtRow = (r: string[]): string =>
    r
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  const lines = [fmtRow(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmtRow)];
  const total = Math.max(opts.totalRows ?? 0, rows.length);
  if (total > shown.length) lines.push(`… ${total - shown.length} more rows`);
  return lines.join('\n');
}

/** Escaped HTML table. */
export function htmlTable(columns: string[], rows: Cell[][], opts: TableRenderOptions & { caption?: string } = {}): string {
  const max = opts.maxRows ?? Infinity;
  const shown = rows.slice(0, max);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = shown
    .map(
      (r) =>
        `<tr>${r
          .map((c, j) =>
            typeof c === 'number' || opts.numeric?.[j]
              ? `<td class="al-num">${escapeHtml(formatNumber(c))}</td>`
              : `<td>${escapeHtml(c ?? '')}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  const total = Math.max(opts.totalRows ?? 0, rows.length);
  const more =
    total > shown.length ? `<tr><td colspan="${columns.length}" class="al-more">… ${total - shown.length} more rows</td></tr>` : '';
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="al-table">${caption}<thead><tr>${head}</tr></thead><tbody>${body}${more}</tbody></table>`;
}

/** One of the viewer's tables (browser/viewer/tables.ts: formatted cells) as an escaped HTML table. */
export function viewerTableHtml(t: ViewerTable, opts: { maxRows?: number; caption?: string } = {}): string {
  return htmlTable(
    t.columns.map((c) => c.label),
    t.rows.map((r) => r.cells),
    { ...opts, totalRows: t.totalRows, numeric: t.columns.map((c) => c.numeric) },
  );
}

/** One of the viewer's tables as a plain-text table. */
export function viewerTableText(t: ViewerTable, opts: { maxRows?: number } = {}): string {
  return textTable(
    t.columns.map((c) => c.label),
    t.rows.map((r) => r.cells),
    { ...opts, totalRows: t.totalRows, numeric: t.columns.map((c) => c.numeric) },
  );
}

/**
 * Styles of the fallback summaries, scoped under `.al-summary`. JupyterLab variables with fixed
 * fallbacks so nbconvert HTML and GitHub-like viewers look sane too.
 */
export const SUMMARY_CSS = `
.al-summary{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;color:var(--jp-ui-font-color1,#222);max-width:980px}
.al-summary h3{font-size:15px;margin:4px 0 6px}
.al-summary h4{font-size:13px;margin:10px 0 4px}
.al-summary .al-meta{color:var(--jp-ui-font-color2,#555);margin:0 0 6px}
.al-summary .al-table{border-collapse:collapse;margin:4px 0 8px}
.al-summary .al-table th,.al-summary .al-table td{border:1px solid var(--jp-border-color2,#ddd);padding:2px 8px;text-align:left}
.al-summary .al-table td.al-num{text-align:right;font-variant-numeric:tabular-nums}
.al-summary .al-table caption{text-align:left;font-weight:600;padding:2px 0}
.al-summary .al-more{color:var(--jp-ui-font-color2,#777);font-style:italic}
.al-summary svg{display:block;margin:4px 0;background:var(--jp-layout-color0,#fff)}
.al-summary .al-bar{height:12px;background:var(--jp-layout-color2,#eee);border-radius:3px;overflow:hidden;width:360px;display:inline-block;vertical-align:middle}
.al-summary .al-bar>span{display:block;height:100%;background:var(--jp-brand-color1,#1976d2)}
`.trim();

export function summaryWrapper(inner: string): string {
  return `<div class="al-summary"><style>${SUMMARY_CSS}</style>${inner}</div>`;
}
