/**
 * Static HTML/SVG pieces for the notebook fallbacks and the reports: escaped tables, number
 * formatting and small inline SVG charts. Everything that comes from data (column names, file
 * names, fault labels, titles) goes through `escapeHtml`; nothing here builds markup from
 * unescaped input, so a CSV header like `<img onerror=…>` renders as text.
 */
import { formatNumber, type Cell } from '../browser/format';

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

/** Plain-text table with aligned columns (numbers right-aligned). */
export function textTable(columns: string[], rows: Cell[][], opts: { maxRows?: number } = {}): string {
  const max = opts.maxRows ?? Infinity;
  const shown = rows.slice(0, max);
  const cells = shown.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c === null || c === undefined ? '' : String(c))));
  const widths = columns.map((h, j) => Math.max(h.length, ...cells.map((r) => (r[j] ?? '').length)));
  const numeric = columns.map(
    (_, j) => shown.length > 0 && shown.every((r) => typeof r[j] === 'number' || r[j] === null || r[j] === undefined),
  );
  const fmtRow = (r: string[]): string =>
    r
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  const lines = [fmtRow(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmtRow)];
  if (rows.length > shown.length) lines.push(`… ${rows.length - shown.length} more rows`);
  return lines.join('\n');
}

/** Escaped HTML table. */
export function htmlTable(columns: string[], rows: Cell[][], opts: { maxRows?: number; caption?: string } = {}): string {
  const max = opts.maxRows ?? Infinity;
  const shown = rows.slice(0, max);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = shown
    .map(
      (r) =>
        `<tr>${r.map((c) => (typeof c === 'number' ? `<td class="al-num">${escapeHtml(formatNumber(c))}</td>` : `<td>${escapeHtml(c ?? '')}</td>`)).join('')}</tr>`,
    )
    .join('');
  const more =
    rows.length > shown.length
      ? `<tr><td colspan="${columns.length}" class="al-more">… ${rows.length - shown.length} more rows</td></tr>`
      : '';
  const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="al-table">${caption}<thead><tr>${head}</tr></thead><tbody>${body}${more}</tbody></table>`;
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

/** Min/max envelope of `values` in `buckets` equal slices (what a pixel column shows). */
export function minMaxEnvelope(values: ArrayLike<number>, buckets: number): { min: Float64Array; max: Float64Array } {
  const n = values.length;
  const b = Math.max(1, Math.min(buckets, n));
  const min = new Float64Array(b).fill(Infinity);
  const max = new Float64Array(b).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const k = Math.min(b - 1, Math.floor((i * b) / n));
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min[k]) min[k] = v;
    if (v > max[k]) max[k] = v;
  }
  return { min, max };
}

export interface SvgLine {
  name: string;
  values: ArrayLike<number>;
  color: string;
}

export interface SvgChartOptions {
  width?: number;
  height?: number;
  /** horizontal lines, e.g. the threshold. */
  hlines?: Array<{ y: number; color: string; label?: string }>;
  /** shaded index ranges [start, end) in units of the first line's index. */
  bands?: Array<{ start: number; end: number; color: string }>;
  title?: string;
  /** x labels at the two ends. */
  xLabels?: [string, string];
}

/**
 * A static line chart as inline SVG: every line is reduced to a min/max envelope per pixel column,
 * so a 1,000,000-point series costs ~2·width path points. Lines share the x range of the longest.
 */
export function svgLineChart(lines: SvgLine[], opts: SvgChartOptions = {}): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 160;
  const padL = 48;
  const padR = 8;
  const padT = opts.title ? 18 : 6;
  const padB = 18;
  const plotW = W - padL - padR;
  const plotH = H - padT - padB;
  const n = Math.max(1, ...lines.map((l) => l.values.length));
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lines) {
    for (let i = 0; i < l.values.length; i++) {
      const v = l.values[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  for (const h of opts.hlines ?? []) {
    if (Number.isFinite(h.y)) {
      lo = Math.min(lo, h.y);
      hi = Math.max(hi, h.y);
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) {
    hi = lo + 1;
  }
  const yOf = (v: number): number => padT + plotH - ((v - lo) / (hi - lo)) * plotH;
  const xOf = (i: number): number => padL + (i / Math.max(1, n - 1)) * plotW;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`);
  if (opts.title) parts.push(`<text x="${padL}" y="12" font-size="11" fill="#444">${escapeHtml(opts.title)}</text>`);
  for (const band of opts.bands ?? []) {
    const x0 = xOf(band.start);
    const x1 = Math.max(x0 + 1, xOf(band.end));
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${padT}" width="${(x1 - x0).toFixed(1)}" height="${plotH}" fill="${escapeHtml(band.color)}"/>`,
    );
  }
  parts.push(`<rect x="${padL}" y="${padT}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`);
  for (const l of lines) {
    const m = l.values.length;
    if (m === 0) continue;
    const buckets = Math.min(m, plotW);
    const env = minMaxEnvelope(l.values, buckets);
    const pts: string[] = [];
    for (let k = 0; k < env.min.length; k++) {
      if (!Number.isFinite(env.min[k])) continue;
      const i = ((k + 0.5) * m) / env.min.length;
      const x = xOf((i * (n - 1)) / Math.max(1, m - 1)).toFixed(1);
      pts.push(`${x},${yOf(env.max[k]).toFixed(1)}`);
      if (env.max[k] !== env.min[k]) pts.push(`${x},${yOf(env.min[k]).toFixed(1)}`);
    }
    parts.push(
      `<polyline fill="none" stroke="${escapeHtml(l.color)}" stroke-width="1" points="${pts.join(' ')}"><title>${escapeHtml(l.name)}</title></polyline>`,
    );
  }
  for (const h of opts.hlines ?? []) {
    if (!Number.isFinite(h.y)) continue;
    const y = yOf(h.y).toFixed(1);
    parts.push(`<line x1="${padL}" x2="${padL + plotW}" y1="${y}" y2="${y}" stroke="${escapeHtml(h.color)}" stroke-dasharray="4 3"/>`);
    if (h.label)
      parts.push(
        `<text x="${padL + plotW - 4}" y="${Number(y) - 3}" font-size="10" text-anchor="end" fill="${escapeHtml(h.color)}">${escapeHtml(h.label)}</text>`,
      );
  }
  parts.push(
    `<text x="${padL - 4}" y="${padT + 9}" font-size="10" text-anchor="end" fill="#666">${escapeHtml(formatNumber(hi, 3))}</text>`,
  );
  parts.push(
    `<text x="${padL - 4}" y="${padT + plotH}" font-size="10" text-anchor="end" fill="#666">${escapeHtml(formatNumber(lo, 3))}</text>`,
  );
  if (opts.xLabels) {
    parts.push(`<text x="${padL}" y="${H - 4}" font-size="10" fill="#666">${escapeHtml(opts.xLabels[0])}</text>`);
    parts.push(`<text x="${padL + plotW}" y="${H - 4}" font-size="10" text-anchor="end" fill="#666">${escapeHtml(opts.xLabels[1])}</text>`);
  }
  const legend = lines.map(
    (l, i) => `<text x="${padL + 6 + i * 130}" y="${padT + 11}" font-size="10" fill="${escapeHtml(l.color)}">${escapeHtml(l.name)}</text>`,
  );
  if (lines.length > 1) parts.push(...legend);
  parts.push('</svg>');
  return parts.join('');
}
