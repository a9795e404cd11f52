/**
 * Viewer bench: time to first view of a 1,000,000-point bundle in headless Chromium, plus a
 * re-threshold and a zoom on it. The page is the e2e test page (test/e2e/page.ts: the extension's
 * real renderer, lumino, plotly.js), bundled with esbuild at run time. Timings are measured inside
 * the page (performance.now) from handing the JSON string to the renderer until plotly has drawn.
 * The machine is shared (2 cores, several engineers): numbers are pessimistic.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { viewerBundleToJSON } from 'anomaly-lab';
import { buildViewerBundle, createRng } from 'anomaly-lab/core';

const REPO = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** 1,000,000 rows of 3 channels at 1 Hz with 40 labelled anomalies and scores that see them. */
function millionPointBundle(n: number): { json: string; buildMs: number } {
  const rng = createRng(2024);
  const values = new Float32Array(n * 3);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let k = 0; k < 40; k++) {
    const start = rng.int(0, n - 2000);
    labels.fill(1, start, start + rng.int(50, 2000));
  }
  for (let i = 0; i < n; i++) {
    values[3 * i] = Math.sin(i / 500) + 0.05 * rng.normal();
    values[3 * i + 1] = Math.cos(i / 1300) + (labels[i] ? 0.5 : 0) + 0.05 * rng.normal();
    values[3 * i + 2] = 0.5 + 0.1 * Math.sin(i / 86400);
    scores[i] = labels[i] ? 0.4 + 0.6 * rng.uniform() : 0.5 * rng.uniform();
  }
  const t0 = performance.now();
  const bundle = buildViewerBundle({
    kind: 'anomalybert',
    title: `generated ${n.toLocaleString('en')}-point series`,
    series: { columns: ['voltage', 'current', 'soc'], values },
    axis: { unit: 'epoch_ms', start: Date.UTC(2022, 4, 10), step: 1000 },
    scores: { values: scores },
    labels,
    threshold: { rate: 0.01, pointAdjust: true },
  });
  const json = viewerBundleToJSON(bundle);
  return { json, buildMs: performance.now() - t0 };
}

async function buildPage(dir: string): Promise<void> {
  // Loaded only when this bench runs (the other benches need neither esbuild nor Chromium).
  const esbuild = await import('esbuild');
  fs.mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(REPO, 'test/e2e/page.ts')],
    bundle: true,
    outfile: path.join(dir, 'page.js'),
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    // the page's browser-safe core from the built public package, as a user of the library gets it
    alias: { 'anomaly-lab-browser': 'anomaly-lab/browser' },
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.css': 'empty', '.svg': 'text' },
    logLevel: 'error',
  });
  fs.copyFileSync(path.join(REPO, 'test/e2e/page.html'), path.join(dir, 'index.html'));
  fs.copyFileSync(path.join(REPO, 'extension/style/index.css'), path.join(dir, 'index.css'));
  fs.copyFileSync(path.join(REPO, 'node_modules/@lumino/widgets/style/widget.css'), path.join(dir, 'lumino-widgets.css'));
}

function serve(dir: string): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer((req, res) => {
    const rel = (req.url ?? '/').split('?')[0];
    const file = path.join(dir, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(dir) || !fs.existsSync(file)) {
      res.writeHead(rel === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server })),
  );
}

export async function run(): Promise<object> {
  if (!fs.existsSync(CHROMIUM)) return { skipped: `${CHROMIUM} is missing (apt-get install -y chromium)` };
  const n = Number(process.env.VIEWER_BENCH_POINTS ?? 1_000_000);
  const { json, buildMs } = millionPointBundle(n);
  const dir = path.join(REPO, '.bench', 'viewer-page');
  await buildPage(dir);
  const { url, server } = await serve(dir);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { alTest?: { ready: boolean } }).alTest?.ready === true);
    type Api = {
      render(d: unknown): Promise<{ ms: number }>;
      viewer(): {
        applySettings(p: object): void;
        zoomTo(a: number, b: number): void;
        whenDrawn(): Promise<void>;
        detection: { intervals: unknown[] } | null;
      };
      chartState(s: string): { traces: Array<{ points: number }> } | null;
    };
    const first = await page.evaluate(async (j) => {
      const api = (window as unknown as { alTest: Api }).alTest;
      const r = await api.render(j);
      const st = api.chartState('.al-chart-signals');
      return {
        ms: r.ms,
        drawnPoints: st ? st.traces.reduce((a, t) => a + t.points, 0) : 0,
        intervals: api.viewer().detection?.intervals.length ?? 0,
      };
    }, json);
    const interact = await page.evaluate(async () => {
      const v = (window as unknown as { alTest: Api }).alTest.viewer();
      let t = performance.now();
      v.applySettings({ rate: 0.05 });
      await v.whenDrawn();
      const rethresholdMs = performance.now() - t;
      t = performance.now();
      v.applySettings({ ewma: 0.9 });
      await v.whenDrawn();
      const ewmaMs = performance.now() - t;
      t = performance.now();
      const start = Date.UTC(2022, 4, 12);
      v.zoomTo(start, start + 3_600_000);
      await v.whenDrawn();
      return { rethresholdMs, ewmaMs, zoomMs: performance.now() - t };
    });
    let chromiumVersion = '';
    try {
      chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      chromiumVersion = 'unknown';
    }
    return {
      points: n,
      channels: 3,
      bundle_json_mb: Number((json.length / 1e6).toFixed(2)),
      build_bundle_ms: Math.round(buildMs),
      first_view_ms: Math.round(first.ms),
      drawn_points_signals: first.drawnPoints,
      intervals_at_rate_0_01: first.intervals,
      rethreshold_rate_ms: Math.round(interact.rethresholdMs),
      ewma_change_ms: Math.round(interact.ewmaMs),
      zoom_1h_ms: Math.round(interact.zoomMs),
      chromium: chromiumVersion,
      note: 'in-page times: JSON string → parse, validate, decode, detect, draw (plotly). Shared 2-core machine: pessimistic.',
    };
  } finally {
    await browser.close();
    server.close();
  }
}
