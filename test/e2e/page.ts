// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- plotly.js-dist-min ships no types; the extension declares the slice it uses
/// <reference path="../../extension/src/plotly.d.ts" />
/**
 * Test page (bundled with esbuild for headless Chromium): hosts the REAL renderer — the extension's
 * AnomalyViewerRenderer (lumino widget + plotly.js) fed through JupyterLab's real MimeModel, exactly
 * as an output area does. Exposes a small API on `window.alTest` for the e2e tests and the bench.
 */
import { MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import Plotly from 'plotly.js-dist-min';
import { VIEWER_MIME } from 'anomaly-lab-browser';
import { AnomalyViewerRenderer } from '../../extension/src/renderer';
import { viewerSettings, normalizeSettings } from '../../extension/src/settings';

const renderers: AnomalyViewerRenderer[] = [];

async function render(data: unknown, opts: { reuse?: boolean; path?: string } = {}): Promise<{ ms: number; index: number }> {
  const t0 = performance.now();
  let r = opts.reuse ? renderers[renderers.length - 1] : undefined;
  if (!r) {
    r = new AnomalyViewerRenderer({ plotly: Plotly, settings: viewerSettings });
    r.addClass('al-test-host');
    Widget.attach(r, document.getElementById('host')!);
    renderers.push(r);
  }
  const model = new MimeModel({ data: { [VIEWER_MIME]: data as never }, metadata: opts.path ? { path: opts.path } : {} });
  await r.renderModel(model);
  return { ms: performance.now() - t0, index: renderers.indexOf(r) };
}

function viewer(i = renderers.length - 1) {
  return renderers[i].anomalyViewer;
}

function clearAll(): void {
  for (const r of renderers.splice(0)) {
    Widget.detach(r);
    r.dispose();
  }
}

/**
 * Plotly's own state of a chart: trace names/point counts/y axis, the x range, and the visible
 * y axes (id, title, vertical domain, drawn range) — the signal panels.
 */
function chartState(selector: string, i = renderers.length - 1) {
  type Axis = { title?: { text?: string }; domain?: number[]; range?: number[]; visible?: boolean; overlaying?: string };
  const el = renderers[i].node.querySelector(selector) as HTMLElement & {
    data?: Array<{ name?: string; x?: ArrayLike<unknown>; yaxis?: string }>;
    layout?: Record<string, Axis> & { xaxis?: { range?: unknown[] } };
  };
  if (!el || !el.data) return null;
  const layout = el.layout ?? {};
  const yaxes = Object.keys(layout)
    .filter((k) => /^yaxis\d*$/.test(k) && layout[k].visible !== false)
    .map((k) => ({
      id: k.replace('axis', ''),
      title: layout[k].title?.text ?? '',
      domain: layout[k].domain ?? [0, 1],
      range: layout[k].range ?? null,
      overlaying: layout[k].overlaying ?? null,
    }));
  return {
    traces: el.data.map((t) => ({ name: t.name, points: t.x ? t.x.length : 0, yaxis: t.yaxis ?? 'y' })),
    xrange: layout.xaxis?.range ?? null,
    yaxes,
  };
}

/** Zoom a chart the way a user's drag does (plotly emits plotly_relayout). */
async function relayout(selector: string, update: Record<string, unknown>, i = renderers.length - 1): Promise<void> {
  await Plotly.relayout(renderers[i].node.querySelector(selector) as HTMLElement, update);
  await viewer(i).whenDrawn();
}

function setTheme(dark: boolean): void {
  document.body.classList.toggle('al-test-dark', dark);
  viewer().refresh();
}

(window as unknown as { alTest: unknown }).alTest = {
  render,
  viewer,
  clearAll,
  chartState,
  setTheme,
  relayout,
  setSettings: (s: unknown) => viewerSettings.set(normalizeSettings(s as never)),
  ready: true,
};
