/**
 * Plotly figures of the viewer, as pure functions of (decoded bundle, detection, view range,
 * theme). The widget owns the DOM and calls plotly; these only say what to draw. Long series are
 * min/max-downsampled for the visible range (kernel-lib's `minMaxDownsample`); the detection itself
 * always runs on the full-resolution scores.
 */
import { flaggedPoints, minMaxDownsample, searchSorted, type DecodedBundle, type DetectedInterval, type DetectionResult, type HistoryRow } from 'anomaly-lab-browser';
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
export function bandsForDrawing(rows: Array<{ start: number; end: number }>, lo: number, hi: number, buckets: number): Array<{ start: number; end: number }> {
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
export function intervalBand(rows: Array<{ start: number; end: number }>, y0: number, y1: number, yaxis: string, name: string, color: string, opacity: number): PlotData {
  const x: Array<number | null> = [];
  const y: Array<number | null> = [];
  for (const r of rows) {
    x.push(r.start, r.start, r.end, r.end, r.start, null);
    y.push(y0, y1, y1, y0, y0, null);
  }
  return { type: 'scatter', mode: 'lines', x, y, yaxis, fill: 'toself', fillcolor: color, opacity, line: { width: 0.5, color }, name, hoverinfo: 'skip', showlegend: rows.length > 0 };
}

function visibleRows(x: ArrayLike<number>, range: XRange): [number, number] {
  if (!range) return [0, x.length];
  const i0 = Math.max(0, searchSorted(x, range[0]) - 1);
  const i1 = Math.min(x.length, searchSorted(x, range[1]) + 1);
  return [i0, Math.max(i1, i0)];
}

const PALETTE = ['#1f77b4', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31'];

export function signalsFigure(d: DecodedBundle, det: DetectionResult | null, channels: number[], range: XRange, s: ViewerSettings, theme: Theme): { data: PlotData[]; layout: PlotLayout } {
  const [i0, i1] = visibleRows(d.x, range);
  const stride = d.columns.length;
  const buckets = Math.max(50, Math.floor(s.maxPointsDrawn / 2));
  // Two physical units (power: V and A, three orders of magnitude apart) get two y axes,
  // otherwise the small one draws as a flat line.
  const units = d.bundle.series?.units;
  const unitList = units ? Array.from(new Set(channels.map((c) => units[c]))) : [];
  const twoAxes = unitList.length === 2;
  const data: PlotData[] = channels.map((c) => {
    const t = minMaxDownsample(d.x, d.values, stride, c, i0, i1, buckets);
    const yaxis = twoAxes && units![c] === unitList[1] ? 'y3' : 'y';
    return { type: 'scatter', mode: 'lines', x: t.x, y: t.y, name: d.columns[c], yaxis, line: { width: 1, color: PALETTE[c % PALETTE.length] } };
  });
  if (det) {
    const [lo, hi] = range ?? [d.x[0], d.x[d.x.length - 1]];
    data.push(intervalBand(bandsForDrawing(det.intervals, lo, hi, buckets), 0, 1, 'y2', 'predicted anomaly', s.colors.predicted, 0.25));
    data.push(intervalBand(bandsForDrawing(det.labelled, lo, hi, buckets), 0, 0.08, 'y2', 'labelled anomaly', s.colors.labelled, 0.8));
  }
  const layout = baseLayout(theme, 300);
  layout.xaxis = xAxis(d, theme, range);
  layout.yaxis = { gridcolor: theme.grid, zeroline: false, title: { text: twoAxes ? unitList[0] : units && unitList.length === 1 ? unitList[0] : 'signal' } };
  layout.yaxis2 = { overlaying: 'y', range: [0, 1], visible: false, fixedrange: true };
  if (twoAxes) {
    layout.yaxis3 = { overlaying: 'y', side: 'right', zeroline: false, showgrid: false, title: { text: unitList[1] } };
    layout.margin = { ...layout.margin, r: 60 };
  }
  return { data, layout };
}

export function scoresFigure(d: DecodedBundle, det: DetectionResult, range: XRange, s: ViewerSettings, theme: Theme): { data: PlotData[]; layout: PlotLayout } {
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
    { type: 'scatter', mode: 'lines', x: [x0, x1], y: [det.threshold, det.threshold], name: `threshold ${det.threshold.toPrecision(4)}`, line: { width: 1.5, dash: 'dash', color: s.colors.threshold } },
    { type: 'scatter', mode: 'markers', x: marks.x, y: marks.y, name: 'anomalous', marker: { size: 4, color: s.colors.predicted } },
    intervalBand(bandsForDrawing(det.labelled, range ? range[0] : x0, range ? range[1] : x1, buckets), 0, 0.08, 'y2', 'labelled anomaly', s.colors.labelled, 0.8),
  ];
  const layout = baseLayout(theme, 240);
  layout.xaxis = xAxis(d, theme, range);
  layout.yaxis = { gridcolor: theme.grid, zeroline: false, title: { text: d.bundle.scores?.kind === 'reconstruction_error' ? 'MSE' : 'score' } };
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
    return { type: 'scatter', mode: 'lines+markers', x, y, name: fault, line: { width: 10, color: PALETTE[k % PALETTE.length] }, marker: { size: 6 } };
  });
  const layout = baseLayout(theme, 240);
  layout.title = { text: 'anomaly timeline', font: { size: 13 } };
  layout.xaxis = xAxis(d, theme, null);
  layout.yaxis = { type: 'category', gridcolor: theme.grid };
  layout.showlegend = false;
  return { data, layout };
}

export function featureImportanceFigure(names: string[], values: number[], theme: Theme, top = 20): { data: PlotData[]; layout: PlotLayout } {
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]).slice(0, top).reverse();
  const layout = baseLayout(theme, Math.max(200, 22 * order.length + 60));
  layout.title = { text: 'feature importance', font: { size: 13 } };
  layout.margin = { l: 140, r: 20, t: 30, b: 40 };
  layout.xaxis = { gridcolor: theme.grid, rangemode: 'tozero' };
  layout.yaxis = { type: 'category', automargin: true };
  layout.showlegend = false;
  return { data: [{ type: 'bar', orientation: 'h', x: order.map((i) => values[i]), y: order.map((i) => names[i]), marker: { color: PALETTE[0] } }], layout };
}

export function trainingFigure(history: HistoryRow[], theme: Theme): { data: PlotData[]; layout: PlotLayout } {
  const steps = history.map((r) => r.step);
  const pick = (f: (r: HistoryRow) => number | null | undefined): Array<number | null> => history.map((r) => { const v = f(r); return typeof v === 'number' && Number.isFinite(v) ? v : null; });
  const data: PlotData[] = [
    { type: 'scatter', mode: 'lines+markers', x: steps, y: pick((r) => r.loss), name: 'loss', yaxis: 'y', marker: { size: 4 } },
    { type: 'scatter', mode: 'lines+markers', x: steps, y: pick((r) => r.accuracy), name: 'accuracy', yaxis: 'y2', marker: { size: 4 } },
  ];
  const tested = history.filter((r) => r.test);
  if (tested.length) {
    const ts = tested.map((r) => r.step);
    const f1 = (k: 'without_pa' | 'with_pa' | 'random_with_pa') => tested.map((r) => { const v = r.test?.[k]?.f1; return typeof v === 'number' ? v : null; });
    data.push({ type: 'scatter', mode: 'lines+markers', x: ts, y: f1('without_pa'), name: 'validation F1', yaxis: 'y2', marker: { size: 5 } });
    data.push({ type: 'scatter', mode: 'lines+markers', x: ts, y: f1('with_pa'), name: 'validation F1 (PA)', yaxis: 'y2', marker: { size: 5 } });
    data.push({ type: 'scatter', mode: 'lines', x: ts, y: f1('random_with_pa'), name: 'random scores F1 (PA)', yaxis: 'y2', line: { dash: 'dot', width: 1 } });
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
