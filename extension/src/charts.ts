/**
 * Plotly figures of the viewer, as pure functions of (decoded bundle, detection, view range,
 * theme). The widget owns the DOM and calls plotly; these only say what to draw. Long series are
 * min/max-downsampled for the visible range (kernel-lib's `minMaxDownsample`); the detection itself
 * always runs on the full-resolution scores.
 */
import {
  flaggedPoints,
  minMaxDownsample,
  searchSorted,
  type DecodedBundle,
  type DetectedInterval,
  type DetectionResult,
  type HistoryRow,
} from 'anomaly-lab-browser';
import type { PlotData, PlotLayout } from './plotly-api';
import type { ViewerSettings } from './settings';

export interface Theme {
  font: string;
  fontFamily: string;
  grid: string;
  background: string;
}

/** Theme colours from JupyterLab's CSS variables on `el` (light and dark themes alike). */
export function readTheme(el: HTMLElement): Theme {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string): string => cs.getPropertyValue(name).trim() || fallback;
  return {
    font: v('--jp-ui-font-color1', '#1a1a1a'),
    fontFamily: v('--jp-ui-font-family', 'system-ui, sans-serif'),
    grid: v('--jp-border-color2', '#e0e0e0'),
    background: v('--jp-layout-color0', '#ffffff'),
  };
}

/** Whether the theme's background is dark (#rgb, #rrggbb or rgb()/rgba(); anything else: light). */
export function isDarkTheme(theme: Theme): boolean {
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

export type XRange = [number, number] | null;

/**
 * Plotly reports date-axis ranges as UTC strings it shortens ("2022-05-12", "2022-05-12 01:30",
 * "2022-05-12 01:30:05.1234"); we plot epoch milliseconds, so read them back as UTC.
 */
export function plotlyDateToMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  const m = /^(-?\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?Z?$/.exec(v.trim());
  if (!m) return NaN;
  const frac = m[7] ? Number(m[7]) * 1000 : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) + frac;
}

export function baseLayout(theme: Theme, height: number): PlotLayout {
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

function xAxis(d: DecodedBundle, theme: Theme, range: XRange): PlotLayout {
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
): PlotData {
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

const PALETTE = ['#1f77b4', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31'];

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

export function signalsFigure(
  d: DecodedBundle,
  det: DetectionResult | null,
  channels: number[],
  range: XRange,
  s: ViewerSettings,
  theme: Theme,
  layoutMode: SignalLayout = 'auto',
): { data: PlotData[]; layout: PlotLayout } {
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
  const data: PlotData[] = [];
  const gap = n > 1 ? 0.06 : 0;
  const h = (1 - gap * (n - 1)) / n;
  const annotations: PlotLayout[] = [];
  const bands: PlotData[] = [];
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

export function scoresFigure(
  d: DecodedBundle,
  det: DetectionResult,
  range: XRange,
  s: ViewerSettings,
  theme: Theme,
): { data: PlotData[]; layout: PlotLayout } {
  const sx = d.scoreX as Float64Array;
  const [i0, i1] = visibleRows(sx, range);
  const buckets = Math.max(50, Math.floor(s.maxPointsDrawn / 2));
  const t = minMaxDownsample(sx, det.scores, 1, 0, i0, i1, buckets);
  const name = d.bundle.scores?.name ?? (d.bundle.scores?.kind === 'reconstruction_error' ? 'reconstruction error' : 'anomaly score');
  const marks = flaggedPoints(sx, det.scores, det.flags, i0, i1, s.maxPointsDrawn);
  const x0 = sx[0];
  const x1 = sx[sx.length - 1];
  const data: PlotData[] = [
    { type: 'scatter', mode: 'lines', x: t.x, y: t.y, name, line: { width: 1, color: s.colors.score } },
    {
      type: 'scatter',
      mode: 'lines',
      x: [x0, x1],
      y: [det.threshold, det.threshold],
      name: `threshold ${det.threshold.toPrecision(4)}`,
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

export function faultDistributionFigure(counts: Record<string, number>, theme: Theme): { data: PlotData[]; layout: PlotLayout } {
  const names = Object.keys(counts);
  const layout = baseLayout(theme, 240);
  layout.title = { text: 'fault distribution', font: { size: 13 } };
  layout.xaxis = { type: 'category', gridcolor: theme.grid };
  layout.yaxis = { gridcolor: theme.grid, title: { text: 'intervals' }, rangemode: 'tozero' };
  layout.showlegend = false;
  return { data: [{ type: 'bar', x: names, y: names.map((n) => counts[n]), marker: { color: PALETTE.slice(0, names.length) } }], layout };
}

export function timelineFigure(d: DecodedBundle, rows: DetectedInterval[], theme: Theme): { data: PlotData[]; layout: PlotLayout } {
  const byFault = new Map<string, DetectedInterval[]>();
  for (const r of rows) {
    const f = r.fault ?? 'unclassified';
    if (!byFault.has(f)) byFault.set(f, []);
    byFault.get(f)!.push(r);
  }
  const data: PlotData[] = Array.from(byFault.entries()).map(([fault, rs], k) => {
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

export function featureImportanceFigure(
  names: string[],
  values: number[],
  theme: Theme,
  top = 20,
): { data: PlotData[]; layout: PlotLayout } {
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

export function trainingFigure(history: HistoryRow[], theme: Theme): { data: PlotData[]; layout: PlotLayout } {
  const steps = history.map((r) => r.step);
  const pick = (f: (r: HistoryRow) => number | null | undefined): Array<number | null> =>
    history.map((r) => {
      const v = f(r);
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    });
  const data: PlotData[] = [
    { type: 'scatter', mode: 'lines+markers', x: steps, y: pick((r) => r.loss), name: 'loss', yaxis: 'y', marker: { size: 4 } },
    { type: 'scatter', mode: 'lines+markers', x: steps, y: pick((r) => r.accuracy), name: 'accuracy', yaxis: 'y2', marker: { size: 4 } },
  ];
  const tested = history.filter((r) => r.test);
  if (tested.length) {
    const ts = tested.map((r) => r.step);
    const f1 = (k: 'without_pa' | 'with_pa' | 'random_with_pa') =>
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
  layout.grid = { rows: 2, columns: 1, subplots: [['xy'], ['xy2']], roworder: 'top to bottom' };
  // one shared step axis, drawn under the lower plot
  layout.xaxis = { gridcolor: theme.grid, title: { text: 'step' }, anchor: 'y2' };
  layout.yaxis = { gridcolor: theme.grid, title: { text: 'loss' }, domain: [0.55, 1] };
  layout.yaxis2 = { gridcolor: theme.grid, title: { text: 'accuracy / F1' }, domain: [0, 0.45], range: [0, 1.02], anchor: 'x' };
  delete layout.grid;
  return { data, layout };
}
