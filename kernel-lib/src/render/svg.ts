/**
 * Static SVG of a figure from the figure builders (`browser/viewer/figures.ts`): the one static chart
 * renderer, used by the markdown report's chart files, the notebook fallbacks and `svgLineChart`.
 * It draws the subset of plotly's description the builders emit: line and marker traces, interval
 * bands (`fill: 'toself'` on a hidden [0, 1] axis), dashed horizontal lines, stacked panels
 * (y-axis domains), right-hand axes, panel annotations and a legend. Figures with categories or
 * bars (fault distribution, timeline, feature importance) have no static form here: their tables
 * say the same. Every line is reduced to a min/max envelope per pixel column, so a 1,000,000-point
 * trace costs ~2·width path points. Text from data goes through `escapeHtml`.
 */
import { formatNumber } from '../browser/format';
import type { Figure, PlotLayout, PlotTrace } from '../browser/viewer/figures';
import { axisValueText } from '../browser/viewer/export';
import { escapeHtml } from './html';

export interface FigureSvgOptions {
  /** px (default 720). */
  width?: number;
  /** px (default: 70% of the figure's height, at least 120). */
  height?: number;
  title?: string;
  /** labels at the two ends of the x axis (default: the range, as dates on a date axis). */
  xLabels?: [string, string];
}

/** Whether `figureSvg` can draw the figure (no category axes, no bars). */
export function hasStaticForm(fig: Figure): boolean {
  if (fig.data.some((t) => t.type === 'bar')) return false;
  return !Object.entries(fig.layout).some(([k, v]) => /^[xy]axis\d*$/.test(k) && (v as PlotLayout)?.type === 'category');
}

interface Axis {
  id: string;
  domain: [number, number];
  overlaying?: string;
  range?: [number, number];
  side: 'left' | 'right';
  title: string;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN);

function axesOf(layout: PlotLayout): Map<string, Axis> {
  const axes = new Map<string, Axis>();
  for (const [key, v] of Object.entries(layout)) {
    const m = /^yaxis(\d*)$/.exec(key);
    if (!m || !v || typeof v !== 'object') continue;
    const a = v as PlotLayout;
    const range = Array.isArray(a.range) && a.range.length === 2 ? ([num(a.range[0]), num(a.range[1])] as [number, number]) : undefined;
    axes.set(`y${m[1]}`, {
      id: `y${m[1]}`,
      domain: Array.isArray(a.domain) ? [num(a.domain[0]), num(a.domain[1])] : [0, 1],
      overlaying: typeof a.overlaying === 'string' ? a.overlaying : undefined,
      range,
      side: a.side === 'right' ? 'right' : 'left',
      title: typeof a.title?.text === 'string' ? a.title.text : '',
    });
  }
  if (!axes.has('y')) axes.set('y', { id: 'y', domain: [0, 1], side: 'left', title: '' });
  return axes;
}

/** The panel an axis draws in: the axis it overlays, followed to the end. */
function rootOf(axes: Map<string, Axis>, id: string): Axis {
  let a = axes.get(id) ?? axes.get('y')!;
  for (let hops = 0; a.overlaying && axes.has(a.overlaying) && hops < 8; hops++) a = axes.get(a.overlaying)!;
  return a;
}

/** Runs of finite (x, y) points, split where a value is null or not finite (plotly's gaps). */
function segments(t: PlotTrace): Array<{ x: number[]; y: number[] }> {
  const xs = t.x as ArrayLike<unknown> | undefined;
  const ys = t.y as ArrayLike<unknown> | undefined;
  const out: Array<{ x: number[]; y: number[] }> = [];
  if (!xs || !ys) return out;
  let cur: { x: number[]; y: number[] } = { x: [], y: [] };
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i] === null ? NaN : num(xs[i]);
    const y = ys[i] === null ? NaN : num(ys[i]);
    if (Number.isFinite(x) && Number.isFinite(y)) {
      cur.x.push(x);
      cur.y.push(y);
    } else if (cur.x.length) {
      out.push(cur);
      cur = { x: [], y: [] };
    }
  }
  if (cur.x.length) out.push(cur);
  return out;
}

/** [min, max] of the traces' finite x or y values ([Infinity, -Infinity] when there are none). */
function extent(traces: PlotTrace[], key: 'x' | 'y'): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of traces)
    for (const s of segments(t))
      for (const v of s[key]) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
  return [lo, hi];
}

const decodePlotlyText = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** plotly's default colours, by trace index, for traces that name none. */
const COLORWAY = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const DASH: Record<string, string> = { dash: '4 3', dot: '1 2', dashdot: '4 2 1 2' };
// SVG coordinates, not numbers for reading: one decimal, never an exponent (not a display format)
const f1 = (v: number): string => v.toFixed(1);

/** A figure as inline SVG; null when it has no static form (`hasStaticForm`). */
export function figureSvg(fig: Figure, opts: FigureSvgOptions = {}): string | null {
  if (!hasStaticForm(fig)) return null;
  const { data, layout } = fig;
  const axes = axesOf(layout);
  const xaxis = (layout.xaxis ?? {}) as PlotLayout;
  const isDate = xaxis.type === 'date';
  const lineTraces = data.filter((t) => t.fill !== 'toself');
  const colorOf = (t: PlotTrace): string =>
    escapeHtml(
      t.fill === 'toself'
        ? (t.fillcolor ?? t.line?.color ?? '#999')
        : (t.line?.color ?? t.marker?.color ?? COLORWAY[data.indexOf(t) % COLORWAY.length]),
    );
  const legend = data.filter((t) => typeof t.name === 'string' && t.name !== '' && t.showlegend !== false && t.fill !== 'toself');
  const bandLegend = data.filter((t) => t.fill === 'toself' && t.showlegend === true);
  const legendItems = [...legend, ...bandLegend];
  const showLegend = legendItems.length > 1 || bandLegend.length > 0;
  const hasRight = [...axes.values()].some((a) => a.side === 'right');

  const W = opts.width ?? 720;
  const H = opts.height ?? Math.max(120, Math.round(0.7 * (typeof layout.height === 'number' ? layout.height : 240)));
  const xTitle = typeof xaxis.title?.text === 'string' ? xaxis.title.text : '';
  const padL = 48;
  const padR = hasRight ? 48 : 8;
  const padT = (opts.title ? 18 : 6) + (showLegend ? 14 : 0);
  const padB = 18;
  const plotW = W - padL - padR;
  const plotH = H - padT - padB;

  // x range: the layout's (a zoomed view), else every trace's extent
  let xlo = Infinity;
  let xhi = -Infinity;
  if (Array.isArray(xaxis.range) && xaxis.autorange === false) {
    const parse = (v: unknown): number => (isDate && typeof v === 'string' ? Date.parse(v.endsWith('Z') ? v : `${v}Z`) : num(v));
    xlo = parse(xaxis.range[0]);
    xhi = parse(xaxis.range[1]);
  } else {
    // the lines' extent (bands are clipped to it)
    [xlo, xhi] = extent(lineTraces.length ? lineTraces : data, 'x');
  }
  if (!Number.isFinite(xlo) || !Number.isFinite(xhi)) [xlo, xhi] = [0, 1];
  if (xhi === xlo) xhi = xlo + 1;
  const xOf = (v: number): number => padL + ((v - xlo) / (xhi - xlo)) * plotW;

  // y range per axis: its fixed range (band axes), else the extent of its lines
  const yRange = new Map<string, [number, number]>();
  for (const a of axes.values()) {
    if (a.range && Number.isFinite(a.range[0]) && Number.isFinite(a.range[1])) {
      yRange.set(a.id, a.range);
      continue;
    }
    let [lo, hi] = extent(
      lineTraces.filter((t) => (t.yaxis ?? 'y') === a.id),
      'y',
    );
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    if (hi === lo) hi = lo + 1;
    yRange.set(a.id, [lo, hi]);
  }
  const panelBox = (a: Axis): { top: number; bottom: number } => {
    const root = rootOf(axes, a.id);
    return { top: padT + (1 - root.domain[1]) * plotH, bottom: padT + (1 - root.domain[0]) * plotH };
  };
  const yOf = (axisId: string, v: number): number => {
    const a = axes.get(axisId) ?? axes.get('y')!;
    const [lo, hi] = yRange.get(a.id)!;
    const box = panelBox(a);
    return box.bottom - ((v - lo) / (hi - lo)) * (box.bottom - box.top);
  };

  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`];
  if (opts.title) parts.push(`<text x="${padL}" y="12" font-size="11" fill="#444">${escapeHtml(opts.title)}</text>`);
  const clamp = (x: number): number => Math.min(padL + plotW, Math.max(padL, x));

  // bands first, under everything
  for (const t of data) {
    if (t.fill !== 'toself') continue;
    const color = colorOf(t);
    const opacity = typeof t.opacity === 'number' ? t.opacity : 1;
    for (const s of segments(t)) {
      const x0 = clamp(xOf(Math.min(...s.x)));
      const x1 = Math.max(x0 + 1, clamp(xOf(Math.max(...s.x))));
      const axis = t.yaxis ?? 'y';
      const yTop = yOf(axis, Math.max(...s.y));
      const yBottom = yOf(axis, Math.min(...s.y));
      parts.push(
        `<rect x="${f1(x0)}" y="${f1(yTop)}" width="${f1(x1 - x0)}" height="${f1(Math.max(1, yBottom - yTop))}" fill="${color}" fill-opacity="${opacity}"/>`,
      );
    }
  }
  const roots = [...new Set([...axes.values()].map((a) => rootOf(axes, a.id)))].filter((a) => yRange.has(a.id));
  for (const r of roots) {
    const box = panelBox(r);
    parts.push(`<rect x="${padL}" y="${f1(box.top)}" width="${plotW}" height="${f1(box.bottom - box.top)}" fill="none" stroke="#ccc"/>`);
  }

  lineTraces.forEach((t) => {
    const color = colorOf(t);
    const axis = t.yaxis ?? 'y';
    const mode = typeof t.mode === 'string' ? t.mode : 'lines';
    const segs = segments(t);
    if (mode.includes('lines')) {
      const dash = DASH[t.line?.dash as string] ? ` stroke-dasharray="${DASH[t.line.dash as string]}"` : '';
      const width = Math.min(2, typeof t.line?.width === 'number' ? t.line.width : 1);
      for (const s of segs) {
        // min/max per pixel column, in x order
        const cols = new Map<number, { lo: number; hi: number }>();
        for (let k = 0; k < s.x.length; k++) {
          const px = Math.round(xOf(s.x[k]));
          const c = cols.get(px);
          if (c) {
            if (s.y[k] < c.lo) c.lo = s.y[k];
            if (s.y[k] > c.hi) c.hi = s.y[k];
          } else cols.set(px, { lo: s.y[k], hi: s.y[k] });
        }
        const pts: string[] = [];
        for (const [px, c] of cols) {
          pts.push(`${px},${f1(yOf(axis, c.hi))}`);
          if (c.lo !== c.hi) pts.push(`${px},${f1(yOf(axis, c.lo))}`);
        }
        parts.push(
          `<polyline fill="none" stroke="${color}" stroke-width="${width}"${dash} points="${pts.join(' ')}"><title>${escapeHtml(t.name ?? '')}</title></polyline>`,
        );
      }
      // a dashed horizontal line (threshold, target) carries its name at the right end
      const only = segs.length === 1 && segs[0].y.length === 2 ? segs[0] : null;
      if (dash && only && only.y[0] === only.y[1] && t.name) {
        const y = yOf(axis, only.y[0]);
        parts.push(
          `<text x="${padL + plotW - 4}" y="${f1(y - 3)}" font-size="10" text-anchor="end" fill="${color}">${escapeHtml(t.name)}</text>`,
        );
      }
    } else if (mode.includes('markers')) {
      const seen = new Set<string>();
      for (const s of segs)
        for (let k = 0; k < s.x.length; k++) {
          const key = `${Math.round(xOf(s.x[k]))},${Math.round(yOf(axis, s.y[k]))}`;
          if (!seen.has(key)) seen.add(key);
        }
      const dots = [...seen].map((p) => `M${p}h0`).join('');
      if (dots)
        parts.push(
          `<path d="${dots}" stroke="${color}" stroke-width="3" stroke-linecap="round"><title>${escapeHtml(t.name ?? '')}</title></path>`,
        );
    }
  });

  // axis labels: each panel's range at the left (right-hand axes at the right), its title beside it
  for (const a of axes.values()) {
    const used = lineTraces.some((t) => (t.yaxis ?? 'y') === a.id);
    if (!used) continue;
    const [lo, hi] = yRange.get(a.id)!;
    const box = panelBox(a);
    const right = a.side === 'right';
    const x = right ? padL + plotW + 4 : padL - 4;
    const anchor = right ? 'start' : 'end';
    parts.push(
      `<text x="${x}" y="${f1(box.top + 9)}" font-size="10" text-anchor="${anchor}" fill="#666">${escapeHtml(formatNumber(hi, 3))}</text>`,
    );
    parts.push(
      `<text x="${x}" y="${f1(box.bottom)}" font-size="10" text-anchor="${anchor}" fill="#666">${escapeHtml(formatNumber(lo, 3))}</text>`,
    );
    if (a.title) {
      const tx = right ? W - 4 : 10;
      const ty = (box.top + box.bottom) / 2;
      parts.push(
        `<text x="${tx}" y="${f1(ty)}" font-size="10" text-anchor="middle" fill="#666" transform="rotate(-90 ${tx} ${f1(ty)})">${escapeHtml(a.title)}</text>`,
      );
    }
  }
  for (const ann of (layout.annotations ?? []) as PlotLayout[]) {
    if (typeof ann.text !== 'string' || ann.yref !== 'paper') continue;
    const y = padT + (1 - num(ann.y)) * plotH + 11;
    parts.push(`<text x="${padL + 4}" y="${f1(y)}" font-size="10" fill="#444">${escapeHtml(decodePlotlyText(ann.text))}</text>`);
  }
  const unit = isDate ? 'epoch_ms' : 'index';
  const xl = opts.xLabels ?? [axisValueText(xlo, unit), axisValueText(xhi, unit)];
  parts.push(`<text x="${padL}" y="${H - 4}" font-size="10" fill="#666">${escapeHtml(xl[0])}</text>`);
  parts.push(`<text x="${padL + plotW}" y="${H - 4}" font-size="10" text-anchor="end" fill="#666">${escapeHtml(xl[1])}</text>`);
  if (xTitle)
    parts.push(`<text x="${padL + plotW / 2}" y="${H - 4}" font-size="10" text-anchor="middle" fill="#666">${escapeHtml(xTitle)}</text>`);
  if (showLegend) {
    let x = padL + 6;
    const y = (opts.title ? 18 : 6) + 10;
    for (const t of legendItems) {
      const name = String(t.name);
      const w = 14 + 6.5 * name.length;
      if (x + w > W) {
        parts.push(`<text x="${x}" y="${y}" font-size="10" fill="#666">…</text>`);
        break;
      }
      const color = colorOf(t);
      parts.push(`<rect x="${x}" y="${y - 7}" width="8" height="8" fill="${color}"/>`);
      parts.push(`<text x="${x + 11}" y="${y}" font-size="10" fill="#444">${escapeHtml(name)}</text>`);
      x += w + 8;
    }
  }
  parts.push('</svg>');
  return parts.join('');
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
 * Lines of values over their index as a static SVG (notebooks): a figure drawn by `figureSvg`.
 * Lines share the x range of the longest.
 */
export function svgLineChart(lines: SvgLine[], opts: SvgChartOptions = {}): string {
  const n = Math.max(1, ...lines.map((l) => l.values.length));
  const data: PlotTrace[] = lines.map((l) => {
    const m = l.values.length;
    const scale = m > 1 ? (n - 1) / (m - 1) : 1;
    return {
      type: 'scatter',
      mode: 'lines',
      name: l.name,
      x: Float64Array.from({ length: m }, (_, i) => i * scale),
      y: l.values,
      line: { width: 1, color: l.color },
      showlegend: lines.length > 1,
    };
  });
  for (const h of opts.hlines ?? [])
    if (Number.isFinite(h.y))
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: h.label ?? '',
        x: [0, n - 1],
        y: [h.y, h.y],
        line: { dash: 'dash', color: h.color },
        showlegend: false,
      });
  const layout: PlotLayout = { height: (opts.height ?? 160) / 0.7, xaxis: {}, yaxis: {} };
  for (const b of opts.bands ?? []) {
    data.unshift({
      type: 'scatter',
      mode: 'lines',
      fill: 'toself',
      fillcolor: b.color,
      x: [b.start, b.end],
      y: [0, 1],
      yaxis: 'y2',
      showlegend: false,
    });
    layout.yaxis2 = { overlaying: 'y', range: [0, 1] };
  }
  return figureSvg({ data, layout }, { width: opts.width, height: opts.height ?? 160, title: opts.title, xLabels: opts.xLabels }) ?? '';
}
