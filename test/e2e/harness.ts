/**
 * Headless-Chromium harness for the viewer: bundles test/e2e/page.ts with esbuild (the real
 * renderer, lumino and plotly.js), serves it over a local HTTP server and opens it in Debian's
 * chromium through playwright-core. Used by the e2e tests; the bench has its own copy of the few
 * lines it needs (it is compiled inside kernel-lib).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/shared';

export const ARTIFACTS = path.join(REPO_ROOT, 'test/artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's chromium, headless, through playwright-core (the e2e tests and the report test). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Bundle a TypeScript entry for the browser (one IIFE script; the browser-safe kernel-lib from source). */
export async function bundleForBrowser(entry: string, outfile: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    outfile,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    alias: { 'anomaly-lab-browser': path.join(REPO_ROOT, 'kernel-lib/src/browser/index.ts') },
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.css': 'empty', '.svg': 'text' },
    logLevel: 'error',
    sourcemap: false,
  });
}

/** Bundle the test page into `outDir` (page.js + html + css). */
export async function buildTestPage(outDir = path.join(ARTIFACTS, 'e2e-page')): Promise<string> {
  await bundleForBrowser(path.join(__dirname, 'page.ts'), path.join(outDir, 'page.js'));
  fs.copyFileSync(path.join(__dirname, 'page.html'), path.join(outDir, 'index.html'));
  fs.copyFileSync(path.join(REPO_ROOT, 'extension/style/index.css'), path.join(outDir, 'index.css'));
  fs.copyFileSync(path.join(REPO_ROOT, 'node_modules/@lumino/widgets/style/widget.css'), path.join(outDir, 'lumino-widgets.css'));
  return outDir;
}

/** Static file server for `dir` on an ephemeral port. */
export function serveDir(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (rel === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = path.join(dir, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(dir) || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

export interface ViewerPage {
  browser: Browser;
  page: Page;
  /** messages of uncaught page errors and console errors */
  errors: string[];
  close(): Promise<void>;
}

export async function openViewerPage(): Promise<ViewerPage> {
  const dir = await buildTestPage();
  const server = await serveDir(dir);
  const browser = await launchChromium();
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1140, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(server.url);
  await page.waitForFunction(() => (window as unknown as { alTest?: { ready: boolean } }).alTest?.ready === true);
  return {
    browser,
    page,
    errors,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
