/**
 * Figure builders: what the viewer, the HTML report and the notebook summary draw, as pure functions
 * of (decoded bundle, detection, view range, options, theme). The result is renderer-neutral data
 * in plotly's shape (traces + layout): the extension hands it to plotly.js, the HTML report embeds
 * it as JSON for plotly, and `render/svg.ts` draws the same description as a static SVG (markdown
 * reports, notebook fallbacks). Nothing here touches the DOM; theme colours are passed in.
 *
 * Long series are min/max-downsampled for the visible range (`minMaxDownsample`); the detection
 * itself always runs on the full-resolution scores.
 */
import { flaggedPoints, minMaxDownsample } from './downsample';
import { searchSorted, type DetectedInterval, type DetectionResult } from './detection';
import { formatNumber, roundSignificant } from '../format';
import type { DecodedBundle, HistoryRow } from './types';

/** A plotly trace (plotly.js ships no types; the builders emit the subset documented per function). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PlotTrace = Record<string, any>;
/** A plotly layout. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PlotLayout = Record<string, any>;

/** A figure: plotly's `data` and `layout`. */
export interface Figure {
  data: PlotTrace[];
  layout: PlotLayout;
}

/** Colours of the page the figure is drawn on (the extension reads JupyterLab's CSS variables). */
export interface FigureTheme {
  font: string;
  fontFamily: string;
  grid: string;
  background: string;
}

/** The light theme: JupyterLab's defaults, and what static reports use. */
export const LIGHT_THEME: FigureTheme = { font: '#1a1a1a', fontFamily: 'system-ui, sans-serif', grid: '#e0e0e0', background: '#ffffff' };

export interface FigureColors {
  predicted: string;
  labelled: string;
  threshold: string;
  score: string;
}

/** What the builders read from the viewer's settings (the extension passes its settings as they are). */
export interface FigureOptions {
  /** points drawn per trace at most (min/max per bucket above that). */
  maxPointsDrawn: number;
  colors: FigureColors;
}

export const DEFAULT_FIGURE_OPTIONS: FigureOptions = {
  maxPointsDrawn: 4000,
  colors: { predicted: '#d62728', labelled: '#2ca02c', threshold: '#ff7f0e', score: '#1f77b4' },
};

/** A visible x range in axis units (epoch ms on a date axis); null: everything. */
export type XRange = [number, number] | null;

export const PALETTE = ['#1f77b4', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31'];

/** Whether the theme's background is dark (#rgb, #rrggbb or rgb()/rgba(); anything else: light). */
export function isDarkTheme(theme: FigureTheme): boolean {
  const c = theme.background.trim();
  let rgb: number[] | null = null;
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c);
  if (hex) {
    const h = hex[1].length === 3 ? hex[1].replace(/./g, (x) => x + x) : hex[1];
    rgb = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  } else {
    const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(c);
    if (m) rgb = [Number(m[1]), Number(m[2]), Number(m[3])];
  }
  return rgb !== null && (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255 < 0.4;
}

export function baseLayout(theme: FigureTheme, height: number): PlotLayout {
  return {
    height,
    margin: { l: 60, r: 20, t: 30, b: 40 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { color: theme.font, family: theme.fontFamily, size: 12 },
    legend: { orientation: 'h', y: 1.12, x: 0 },
    hovermode: 'closest',
  };
}

function xAxis(d: DecodedBundle, theme: FigureTheme, range: XRange): PlotLayout {
  const unit = d.bundle.axis?.unit ?? 'index';
  const ax: PlotLayout = {
    type: unit === 'epoch_ms' ? 'date' : 'linear',
    gridcolor: theme.grid,
    zeroline: false,
    title: { text: d.bundle.axis?.label ?? (unit === 'seconds' ? 'time (s)' : unit === 'index' ? 'sample' : '') },
  };
  if (range) {
    ax.range = unit === 'epoch_ms' ? [new Date(range[0]).toISOString(), new Date(range[1]).toISOString()] : [range[0], range[1]];
    ax.autorange = false;
  } else {
    ax.autorange = true;
  }
  return ax;
}

/**
 * Intervals as drawn: clipped to the visible range, and those closer than one pixel bucket merged
 * (16,000 single-point intervals at a 5% rate on 1,000,000 points would otherwise be 100,000 path
 * points of sub-pixel rectangles). Each drawn band is at least half a bucket wide so a one-sample
 * anomaly stays visible when zoomed out. Input sorted by start. The table and exports keep them all.
 */
export function bandsForDrawing(
  rows: Array<{ start: number; end: number }>,
  lo: number,
  hi: number,
  buckets: number,
): Array<{ start: number; end: number }> {
  const bucket = (hi - lo) / Math.max(1, buckets);
  const out: Array<{ start: number; end: number }> = [];
  for (const r of rows) {
    if (r.end < lo || r.start > hi) continue;
    const end = Math.max(r.end, r.start + 0.5 * bucket);
    const last = out[out.length - 1];
    if (last && r.start - last.end <= bucket) last.end = Math.max(last.end, end);
    else out.push({ start: r.start, end });
  }
  return out;
}

/** Filled rectangles for intervals on a hidden [0, 1] axis: one trace, however many intervals. */
export function intervalBand(
  rows: Array<{ start: number; end: number }>,
  y0: number,
  y1: number,
  yaxis: string,
  name: string,
  color: string,
  opacity: number,
): PlotTrace {
  const x: Array<number | null> = [];
  const y: Array<number | null> = [];
  for (const r of rows) {
    x.push(r.start, r.start, r.end, r.end, r.start, null);
    y.push(y0, y1, y1, y0, y0, null);
  }
  return {
    type: 'scatter',
    mode: 'lines',
    x,
    y,
    yaxis,
    fill: 'toself',
    fillcolor: color,
    opacity,
    line: { width: 0.5, color },
    name,
    hoverinfo: 'skip',
    showlegend: rows.length > 0,
  };
}

function visibleRows(x: ArrayLike<number>, range: XRange): [number, number] {
  if (!range) return [0, x.length];
  const i0 = Math.max(0, searchSorted(x, range[0]) - 1);
  const i1 = Math.min(x.length, searchSorted(x, range[1]) + 1);
  return [i0, Math.max(i1, i0)];
}

/**
 * How the signal channels are laid out:
 * - 'auto' (default): small multiples sharing the time axis — one panel per unit, and within a unit
 *   one panel per scale (channels whose ranges differ more than 10× are split), so Va..Vc (±1 V) are
 *   not flat lines under Ia..Ic (±1875 A) and a 0.02 V voltage gap is not flat under an 800 V bank;
 * - 'channel': one panel per channel;
 * - 'overlay': one panel (a second y axis when there are exactly two units).
 */
export type SignalLayout = 'auto' | 'channel' | 'overlay';
export const SIGNAL_LAYOUTS: ReadonlyArray<[SignalLayout, string]> = [
  ['auto', 'by unit & scale'],
  ['channel', 'one per channel'],
  ['overlay', 'one axis'],
];

const spans = new WeakMap<DecodedBundle, number[]>();

/** max − min of every channel over the whole series (computed once per bundle). */
function channelSpans(d: DecodedBundle): number[] {
  let out = spans.get(d);
  if (out) return out;
  const c = d.columns.length;
  const lo = new Array<number>(c).fill(Infinity);
  const hi = new Array<number>(c).fill(-Infinity);
  const v = d.values;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    const k = i % c;
    if (x < lo[k]) lo[k] = x;
    if (x > hi[k]) hi[k] = x;
  }
  out = lo.map((l, k) => (hi[k] >= l ? hi[k] - l : 0));
  spans.set(d, out);
  return out;
}

/** The panels (lists of channel indices, top to bottom) for `channels` under `layout`. */
export function signalPanels(d: DecodedBundle, channels: number[], layout: SignalLayout): number[][] {
  if (channels.length === 0) return [];
  if (layout === 'overlay') return [channels.slice()];
  if (layout === 'channel') return channels.map((c) => [c]);
  const units = d.bundle.series?.units;
  const span = channelSpans(d);
  const byUnit = new Map<string, number[]>();
  for (const c of channels) {
    const u = units?.[c] ?? '';
    if (!byUnit.has(u)) byUnit.set(u, []);
    byUnit.get(u)!.push(c);
  }
  const panels: number[][] = [];
  for (const group of byUnit.values()) {
    // largest range first; a channel joins a panel whose largest range is at most 10× its own
    const order = [...group].sort((a, b) => span[b] - span[a]);
    const scaled: Array<{ top: number; members: number[] }> = [];
    for (const c of order) {
      const home = scaled.find((p) => span[c] * 10 >= p.top);
      if (home) home.members.push(c);
      else scaled.push({ top: span[c], members: [c] });
    }
    for (const p of scaled) panels.push(p.members.sort((a, b) => a - b));
  }
  return panels.sort((a, b) => a[0] - b[0]);
}

/** Plotly axis ids of panel k: data axis (odd) and the hidden [0, 1] axis of its interval bands. */
function panelAxes(k: number): { data: string; band: string; dataKey: string; bandKey: string } {
  const n = 2 * k + 1;
  return { data: n === 1 ? 'y' : `y${n}`, band: `y${n + 1}`, dataKey: n === 1 ? 'yaxis' : `yaxis${n}`, bandKey: `yaxis${n + 1}` };
}

/** Plotly renders a subset of HTML in annotation text: names from data go in as entities. */
function plotlyText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The signals: one line per channel in panels (`signalPanels`), predicted intervals as bands over
 * the full panel height and labelled ones as a strip at the bottom, each on a hidden [0, 1] axis.
 */
export function signalsFigure(
  d: DecodedBundle,
  det: DetectionResult | null,
  channels: number[],
  range: XRange,
  s: FigureOptions,
  theme: FigureTheme,
  layoutMode: SignalLayout = 'auto',
): Figure {
  const [i0, i1] = visibleRows(d.x, range);
  const stride = d.columns.length;
  const buckets = Math.max(50, Math.floor(s.maxPointsDrawn / 2));
  const units = d.bundle.series?.units;
  const unitOf = (c: number): string => units?.[c] ?? '';
  const panels = signalPanels(d, channels, layoutMode);
  const n = Math.max(1, panels.length);
  const layout = baseLayout(theme, n === 1 ? 300 : 90 + 110 * n);
  layout.legend = { orientation: 'h', x: 0, y: 1, yanchor: 'bottom' };
  layout.xaxis = xAxis(d, theme, range);
  const data: PlotTrace[] = [];
  const gap = n > 1 ? 0.06 : 0;
  const h = (1 - gap * (n - 1)) / n;
  const annotations: PlotLayout[] = [];
  const bands: PlotTrace[] = [];
  const [lo, hi] = range ?? [d.x[0], d.x[d.x.length - 1]];
  const predicted = det ? bandsForDrawing(det.intervals, lo, hi, buckets) : [];
  const labelled = det ? bandsForDrawing(det.labelled, lo, hi, buckets) : [];
  (panels.length ? panels : [[]]).forEach((members, k) => {
    const ax = panelAxes(k);
    const top = 1 - k * (h + gap);
    const domain = [Math.max(0, top - h), top];
    // one panel with exactly two units keeps the second unit on a right-hand axis
    const unitList = Array.from(new Set(members.map(unitOf)));
    const twoAxes = n === 1 && unitList.length === 2;
    const right = `y${2 * n + 1}`;
    for (const c of members) {
      const t = minMaxDownsample(d.x, d.values, stride, c, i0, i1, buckets);
      const yaxis = twoAxes && unitOf(c) === unitList[1] ? right : ax.data;
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: t.x,
        y: t.y,
        name: d.columns[c],
        yaxis,
        line: { width: 1, color: PALETTE[c % PALETTE.length] },
      });
    }
    if (det) {
      // one legend entry for the bands of every panel (after the channels)
      // a translucent red that reads on white turns to maroon on a dark background: more opaque there
      bands.push({
        ...intervalBand(predicted, 0, 1, ax.band, 'predicted anomaly', s.colors.predicted, isDarkTheme(theme) ? 0.45 : 0.25),
        legendgroup: 'predicted',
        showlegend: k === 0 && predicted.length > 0,
      });
      bands.push({
        ...intervalBand(labelled, 0, 0.08, ax.band, 'labelled anomaly', s.colors.labelled, 0.8),
        legendgroup: 'labelled',
        showlegend: k === 0 && labelled.length > 0,
      });
    }
    const unitTitle = twoAxes ? unitList[0] : unitList.length === 1 && unitList[0] ? unitList[0] : n === 1 ? 'signal' : '';
    layout[ax.dataKey] = { domain, anchor: 'x', gridcolor: theme.grid, zeroline: false, title: { text: unitTitle } };
    layout[ax.bandKey] = { overlaying: ax.data, range: [0, 1], visible: false, fixedrange: true };
    if (twoAxes) {
      layout[`yaxis${2 * n + 1}`] = { overlaying: ax.data, side: 'right', zeroline: false, showgrid: false, title: { text: unitList[1] } };
      layout.margin = { ...layout.margin, r: 60 };
    }
    if (n > 1) {
      annotations.push({
        xref: 'paper',
        yref: 'paper',
        x: 0.005,
        y: top,
        xanchor: 'left',
        yanchor: 'top',
        showarrow: false,
        align: 'left',
        text: plotlyText(members.map((c) => d.columns[c]).join(', ')),
        font: { size: 11, color: theme.font },
        bgcolor: theme.background,
        opacity: 0.85,
      });
    }
  });
  data.push(...bands);
  layout.xaxis.anchor = panelAxes(n - 1).data;
  if (annotations.length) layout.annotations = annotations;
  return { data, layout };
}

/** The scores (or reconstruction error) with the threshold line, the anomalous points and the labelled strip. */
export function scoresFigure(d: DecodedBundle, det: DetectionResult, range: XRange, s: FigureOptions, theme: FigureTheme): Figure {
  const sx = d.scoreX as Float64Array;
  const [i0, i1] = visibleRows(sx, range);
  const buckets = Math.max(50, Math.floor(s.maxPointsDrawn / 2));
  const t = minMaxDownsample(sx, det.scores, 1, 0, i0, i1, buckets);
  const name = d.bundle.scores?.name ?? (d.bundle.scores?.kind === 'reconstruction_error' ? 'reconstruction error' : 'anomaly score');
  const marks = flaggedPoints(sx, det.scores, det.flags, i0, i1, s.maxPointsDrawn);
  const x0 = sx[0];
  const x1 = sx[sx.length - 1];
  const data: PlotTrace[] = [
    { type: 'scatter', mode: 'lines', x: t.x, y: t.y, name, line: { width: 1, color: s.colors.score } },
    {
      type: 'scatter',
      mode: 'lines',
      x: [x0, x1],
      y: [det.threshold, det.threshold],
      name: `threshold ${formatNumber(det.threshold, 4)}`,
      line: { width: 1.5, dash: 'dash', color: s.colors.threshold },
    },
    { type: 'scatter', mode: 'markers', x: marks.x, y: marks.y, name: 'anomalous', marker: { size: 4, color: s.colors.predicted } },
    intervalBand(
      bandsForDrawing(det.labelled, range ? range[0] : x0, range ? range[1] : x1, buckets),
      0,
      0.08,
      'y2',
      'labelled anomaly',
      s.colors.labelled,
      0.8,
    ),
  ];
  const layout = baseLayout(theme, 240);
  layout.xaxis = xAxis(d, theme, range);
  layout.yaxis = {
    gridcolor: theme.grid,
    zeroline: false,
    title: { text: d.bundle.scores?.kind === 'reconstruction_error' ? 'MSE' : 'score' },
  };
  layout.yaxis2 = { overlaying: 'y', range: [0, 1], visible: false, fixedrange: true };
  return { data, layout };
}

/** Intervals per fault class as bars (category x axis). */
export function faultDistributionFigure(counts: Record<string, number>, theme: FigureTheme): Figure {
  const names = Object.keys(counts);
  const layout = baseLayout(theme, 240);
  layout.title = { text: 'fault distribution', font: { size: 13 } };
  layout.xaxis = { type: 'category', gridcolor: theme.grid };
  layout.yaxis = { gridcolor: theme.grid, title: { text: 'intervals' }, rangemode: 'tozero' };
  layout.showlegend = false;
  return { data: [{ type: 'bar', x: names, y: names.map((n) => counts[n]), marker: { color: PALETTE.slice(0, names.length) } }], layout };
}

/** Detected intervals on the time axis, one row per fault class (category y axis). */
export function timelineFigure(d: DecodedBundle, rows: DetectedInterval[], theme: FigureTheme): Figure {
  const byFault = new Map<string, DetectedInterval[]>();
  for (const r of rows) {
    const f = r.fault ?? 'unclassified';
    if (!byFault.has(f)) byFault.set(f, []);
    byFault.get(f)!.push(r);
  }
  const data: PlotTrace[] = Array.from(byFault.entries()).map(([fault, rs], k) => {
    const x: Array<number | null> = [];
    const y: Array<string | null> = [];
    for (const r of rs) {
      // a zero-length interval still gets a visible tick
      x.push(r.start, r.end > r.start ? r.end : r.start, null);
      y.push(fault, fault, null);
    }
    return {
      type: 'scatter',
      mode: 'lines+markers',
      x,
      y,
      name: fault,
      line: { width: 10, color: PALETTE[k % PALETTE.length] },
      marker: { size: 6 },
    };
  });
  const layout = baseLayout(theme, 240);
  layout.title = { text: 'anomaly timeline', font: { size: 13 } };
  layout.xaxis = xAxis(d, theme, null);
  layout.yaxis = { type: 'category', gridcolor: theme.grid, automargin: true }; // 'unclassified' fits
  layout.showlegend = false;
  return { data, layout };
}

/** The `top` largest importances as horizontal bars, largest on top (category y axis). */
export function featureImportanceFigure(names: string[], values: number[], theme: FigureTheme, top = 20): Figure {
  const order = values
    .map((_, i) => i)
    .sort((a, b) => values[b] - values[a])
    .slice(0, top)
    .reverse();
  const layout = baseLayout(theme, Math.max(200, 22 * order.length + 60));
  layout.title = { text: 'feature importance', font: { size: 13 } };
  layout.margin = { l: 140, r: 20, t: 30, b: 40 };
  layout.xaxis = { gridcolor: theme.grid, rangemode: 'tozero' };
  layout.yaxis = { type: 'category', automargin: true };
  layout.showlegend = false;
  return {
    data: [{ type: 'bar', orientation: 'h', x: order.map((i) => values[i]), y: order.map((i) => names[i]), marker: { color: PALETTE[0] } }],
    layout,
  };
}

/** The training monitor: loss above; accuracy and validation F1 (with/without PA, random baseline) below. */
export function trainingFigure(history: HistoryRow[], theme: FigureTheme): Figure {
  const steps = history.map((r) => r.step);
  const pick = (f: (r: HistoryRow) => number | null | undefined): Array<number | null> =>
    history.map((r) => {
      const v = f(r);
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    });
  const data: PlotTrace[] = [
    { type: 'scatter', mode: 'lines+markers', x: steps, y: pick((r) => r.loss), name: 'loss', yaxis: 'y', marker: { size: 4 } },
    { type: 'scatter', mode: 'lines+markers', x: steps, y: pick((r) => r.accuracy), name: 'accuracy', yaxis: 'y2', marker: { size: 4 } },
  ];
  const tested = history.filter((r) => r.test);
  if (tested.length) {
    const ts = tested.map((r) => r.step);
    const f1 = (k: 'without_pa' | 'with_pa' | 'random_with_pa'): Array<number | null> =>
      tested.map((r) => {
        const v = r.test?.[k]?.f1;
        return typeof v === 'number' ? v : null;
      });
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x: ts,
      y: f1('without_pa'),
      name: 'validation F1',
      yaxis: 'y2',
      marker: { size: 5 },
    });
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x: ts,
      y: f1('with_pa'),
      name: 'validation F1 (PA)',
      yaxis: 'y2',
      marker: { size: 5 },
    });
    data.push({
      type: 'scatter',
      mode: 'lines',
      x: ts,
      y: f1('random_with_pa'),
      name: 'random scores F1 (PA)',
      yaxis: 'y2',
      line: { dash: 'dot', width: 1 },
    });
  }
  const layout = baseLayout(theme, 320);
  // one shared step axis, drawn under the lower plot
  layout.xaxis = { gridcolor: theme.grid, title: { text: 'step' }, anchor: 'y2' };
  layout.yaxis = { gridcolor: theme.grid, title: { text: 'loss' }, domain: [0.55, 1] };
  layout.yaxis2 = { gridcolor: theme.grid, title: { text: 'accuracy / F1' }, domain: [0, 0.45], range: [0, 1.02], anchor: 'x' };
  return { data, layout };
}

/** A line chart of arbitrary series (report charts of run data: history, sweeps, step scores, MSE). */
export interface LineChartSpec {
  xTitle?: string;
  yTitle?: string;
  traces: Array<{ name: string; x: ArrayLike<number>; y: ArrayLike<number>; color?: string }>;
  /** x ranges shaded over the full height (detected or labelled intervals). */
  bands?: Array<{ start: number; end: number; color: string; name?: string }>;
  /** a dashed horizontal line, e.g. the threshold or a target. */
  hline?: { y: number; label: string; color?: string };
  /** x values are epoch milliseconds. */
  xIsDate?: boolean;
  height?: number;
}

/** Line traces, optional bands (on a hidden [0, 1] axis) and a dashed horizontal line. */
export function lineChartFigure(spec: LineChartSpec, theme: FigureTheme = LIGHT_THEME): Figure {
  const data: PlotTrace[] = spec.traces.map((t, i) => ({
    type: 'scatter',
    mode: 'lines',
    name: t.name,
    x: t.x,
    y: t.y,
    line: { width: 1, color: t.color ?? PALETTE[i % PALETTE.length] },
  }));
  let x0 = Infinity;
  let x1 = -Infinity;
  for (const t of spec.traces) {
    for (let i = 0; i < t.x.length; i++) {
      const v = t.x[i];
      if (Number.isFinite(v)) {
        if (v < x0) x0 = v;
        if (v > x1) x1 = v;
      }
    }
  }
  if (spec.hline && Number.isFinite(x0)) {
    const color = spec.hline.color ?? '#d62728';
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: spec.hline.label,
      x: [x0, x1],
      y: [spec.hline.y, spec.hline.y],
      line: { width: 1, dash: 'dash', color },
    });
  }
  const layout = baseLayout(theme, spec.height ?? 300);
  layout.xaxis = { type: spec.xIsDate ? 'date' : 'linear', gridcolor: theme.grid, zeroline: false, title: { text: spec.xTitle ?? '' } };
  layout.yaxis = { gridcolor: theme.grid, zeroline: false, title: { text: spec.yTitle ?? '' } };
  if (spec.bands?.length) {
    const byColor = new Map<string, Array<{ start: number; end: number }>>();
    for (const b of spec.bands) {
      if (!byColor.has(b.color)) byColor.set(b.color, []);
      byColor.get(b.color)!.push(b);
    }
    for (const [color, rows] of byColor) {
      const name = spec.bands.find((b) => b.color === color)?.name ?? 'intervals';
      data.unshift({ ...intervalBand(rows, 0, 1, 'y2', name, color, 1), line: { width: 0, color } });
    }
    layout.yaxis2 = { overlaying: 'y', range: [0, 1], visible: false, fixedrange: true };
  }
  return { data, layout };
}

/**
 * A figure as plain JSON for embedding (HTML reports): typed arrays become number lists, y values
 * keep 6 significant digits and x values 12 (epoch milliseconds stay exact), non-finite values null.
 */
export function figureToJSON(fig: Figure): Figure {
  const num = (digits: number) => (v: unknown) =>
    typeof v === 'number' ? (Number.isFinite(v) ? (Number.isInteger(v) ? v : roundSignificant(v, digits)) : null) : v;
  const arr = (a: unknown, digits: number): unknown =>
    a !== null && typeof a === 'object' && typeof (a as ArrayLike<unknown>).length === 'number' && !Array.isArray(a)
      ? Array.from(a as ArrayLike<unknown>, num(digits))
      : Array.isArray(a)
        ? a.map(num(digits))
        : a;
  return {
    data: fig.data.map((t) => ({ ...t, x: arr(t.x, 12), y: arr(t.y, 6) })),
    layout: JSON.parse(JSON.stringify(fig.layout)) as PlotLayout,
  };
}
