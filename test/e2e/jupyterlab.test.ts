/**
 * The viewer inside REAL JupyterLab 4.6 and Notebook 7.6, installed offline from the local wheel
 * store with the extension from its Python package (test/e2e/jupyter-server.ts), driven in headless
 * Chromium at 1366×768:
 *   (a) no console errors or warnings from the extension (and no shared-module version warnings);
 *       plotly.js is not fetched at start-up, only with the first viewer;
 *   (b) a `*.anomaly.json` (with its file-type icon) opens in the viewer, re-thresholds to
 *       kernel-lib's result, and scrolls to its last section with the wheel and the keyboard;
 *   (c) notebook 01, run inside JupyterLab with the tslab kernel, shows the viewer itself (not the
 *       text/html fallback) and the training monitor updates in place;
 *   (d) the same in Notebook 7;
 *   (e) the dark theme is readable (text and chart labels light on dark).
 * Screenshots go to test/artifacts/jupyterlab/. Without the wheel store the suite is skipped with a
 * message; under CI=true it fails.
 */
import * as fs from 'fs';
import * as path from 'path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  BundleDetector,
  decodeViewerBundle,
  initialDetectionSettings,
  powerViewerBundle,
  viewerBundleToJSON,
  type ViewerBundle,
} from 'anomaly-lab/core';
import { DEFAULT_SETTINGS } from '../../extension/src/settings';
import { manyIntervals } from '../helpers/many-intervals';
import { REPO_ROOT } from '../helpers/shared';
import { hasCommand } from '../helpers/tools';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS } from './harness';
import { findWheelStore, prepareVenv, startJupyter, type JupyterServer } from './jupyter-server';

const OUT = path.join(ARTIFACTS, 'jupyterlab');
const WORK = path.join(OUT, 'work');
const NOTEBOOK = '01-anomalybert-ess.ipynb';
const VIEWPORT = { width: 1366, height: 768 };
/** Intervals of the large bundle of test (f), and the viewer's default page of table rows (settings maxTableRows). */
const MANY = 2000;
const PAGE = DEFAULT_SETTINGS.maxTableRows;

const wheels = findWheelStore();
const missing = [
  wheels ? null : 'the wheel store with jupyterlab-4.x and notebook-7.x wheels (/opt/pypi/files or $ANOMALY_LAB_WHEELS)',
  hasCommand('chromium') || fs.existsSync(CHROMIUM) ? null : 'chromium (apt-get install -y chromium)',
].filter((m): m is string => m !== null);

const describeLab =
  missing.length === 0
    ? describe
    : process.env.CI
      ? (name: string) =>
          describe(name, () => {
            test('JupyterLab, Notebook 7 and Chromium are available', () => {
              throw new Error(`missing on CI: ${missing.join('; ')}`);
            });
          })
      : (name: string, fn: () => void) => {
          console.warn(`SKIPPED "${name}": missing ${missing.join('; ')}`);
          describe.skip(name, fn);
        };

/** A power-system result with every section (signals in V and A, MSE, classified faults, feature importances). */
function powerBundle(): ViewerBundle {
  const n = 6000;
  const seq = 50;
  const time = Float64Array.from({ length: n }, (_, i) => i / 1000);
  const columns = ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'];
  const faults: Array<[number, number, string]> = [
    [1500, 1700, 'LG'],
    [3000, 3120, 'LLG'],
    [4500, 4800, 'LLL'],
  ];
  const values = new Float32Array(n * 6);
  const mse = new Float32Array(n - seq + 1);
  for (let i = 0; i < n; i++) {
    const f = faults.find(([a, b]) => i >= a && i < b);
    for (let p = 0; p < 3; p++) {
      const w = 2 * Math.PI * 50 * time[i] - (2 * Math.PI * p) / 3;
      values[i * 6 + p] = (f ? 0.6 : 1) * Math.sin(w);
      values[i * 6 + 3 + p] = (f ? 3 : 1) * 1875 * Math.sin(w - 0.3);
    }
  }
  for (let w = 0; w < mse.length; w++) {
    const hit = faults.some(([a, b]) => w + seq > a && w < b);
    mse[w] = (hit ? 0.05 : 0.002) * (1 + 0.3 * Math.sin(w / (hit ? 3 : 29)));
  }
  return powerViewerBundle({
    title: 'generated three-phase faults',
    time,
    columns,
    values,
    mse,
    sequenceLength: seq,
    percentile: 95,
    maxGapSamples: 100,
    intervals: faults.map(([a, b, fault]) => ({ start: time[a], end: time[b - 1], fault, confidence: 0.9 })),
    classes: ['LG', 'LL', 'LLG', 'LLL', 'LLLG'],
    featureImportances: {
      names: ['Va_rms', 'Vb_rms', 'Vc_rms', 'Ia_rms', 'Ib_rms', 'Ic_rms', 'I0', 'V0'],
      values: [0.05, 0.04, 0.05, 0.2, 0.18, 0.22, 0.16, 0.1],
    },
  });
}

/** Intervals kernel-lib's browser detection finds for `bundle` at `patch` (what the viewer must show). */
function expectedIntervals(bundle: ViewerBundle, patch: Record<string, unknown> = {}): number {
  const d = decodeViewerBundle(bundle);
  return new BundleDetector(d).run({ ...initialDetectionSettings(d, 0.01), ...patch }).intervals.length;
}

type AppWindow = {
  jupyterapp?: {
    started: Promise<void>;
    commands: { execute(id: string, args?: unknown): Promise<unknown> };
    hasPlugin?(id: string): boolean;
    docRegistry: { getFileType(n: string): unknown; defaultWidgetFactory(p: string): { name: string } };
  };
};

interface Console {
  /** errors and warnings that come from the extension, or are shared-module version warnings */
  ours: string[];
  all: string[];
}

function watchConsole(page: Page, log: Console): void {
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const where = m.location()?.url ?? '';
    const line = `${m.type()}: ${m.text()}${where ? ` (${where})` : ''}`;
    log.all.push(line);
    if (/anomaly|Unsatisfied version|shared singleton/i.test(m.text()) || where.includes('anomaly-lab-jupyterlab')) log.ours.push(line);
  });
  page.on('pageerror', (e) => {
    log.all.push(`pageerror: ${e.message}`);
    if (/anomaly[-_]lab|\bal-[a-z]/i.test(`${e.message}\n${e.stack ?? ''}`)) log.ours.push(`pageerror: ${e.message}`);
  });
}

async function waitForApp(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as AppWindow).jupyterapp !== undefined, null, { timeout: 120_000 });
  await page.evaluate(() => (window as unknown as AppWindow).jupyterapp!.started);
}

/**
 * Run every cell of the open notebook with the tslab kernel and follow the training monitor: a
 * MutationObserver records every status line and every monitor element; the run passes when ONE
 * element goes from live to finished through several steps (update_display_data in place).
 */
async function runNotebookAndWatchMonitor(
  page: Page,
  shot: string,
): Promise<{ statuses: string[]; monitors: number; viewers: number; fallbacks: number; sameNode: boolean; errors: string[] }> {
  await page.waitForSelector('.jp-Notebook .jp-Cell', { timeout: 60_000 }).catch(async (err: Error) => {
    await page.screenshot({ path: path.join(OUT, `failed-${shot}`) });
    throw err;
  });
  // the notebook's session and its tslab kernel must be up before "run all"
  const kernel = await page.evaluate(async () => {
    type Panel = {
      context: { ready: Promise<void> };
      sessionContext: { ready: Promise<void>; session?: { kernel?: { name: string; info: Promise<unknown> } | null } | null };
    };
    const app = (window as unknown as AppWindow).jupyterapp as unknown as { shell: { currentWidget: Panel | null } };
    const w = app.shell.currentWidget!;
    await w.context.ready;
    await w.sessionContext.ready;
    const k = w.sessionContext.session?.kernel;
    if (k) await k.info;
    return k?.name ?? null;
  });
  expect(kernel).toBe('tslab');
  // every text the monitors' status line shows, as it happens (a poll could miss short states)
  // and every distinct monitor element (a replaced output would be a second one)
  await page.evaluate(() => {
    const w = window as unknown as { alStates: Array<{ text: string; at: number }>; alMonitors: Element[] };
    w.alStates = [];
    w.alMonitors = [];
    const record = (): void => {
      for (const el of Array.from(document.querySelectorAll('.jp-OutputArea-output .al-training-status'))) {
        const text = el.textContent ?? '';
        if (text && !w.alStates.some((s) => s.text === text)) w.alStates.push({ text, at: Date.now() });
        const viewer = el.closest('.al-viewer');
        const monitor = viewer && viewer.querySelector('.al-chart-signals:not([hidden])') === null ? viewer : null;
        if (monitor && !w.alMonitors.includes(monitor)) w.alMonitors.push(monitor);
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.evaluate(() => (window as unknown as AppWindow).jupyterapp!.commands.execute('notebook:run-all-cells').then(() => undefined));
  const deadline = Date.now() + 8 * 60_000;
  const states = (): Promise<Array<{ text: string; at: number }>> =>
    page.evaluate(() => (window as unknown as { alStates: Array<{ text: string; at: number }> }).alStates);
  for (;;) {
    const s = await page.evaluate(() => {
      const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')).map((p) => p.textContent ?? '');
      return {
        done: prompts.length > 0 && prompts.every((p) => /\[\d+\]/.test(p)),
        failed: document.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]') !== null,
      };
    });
    if (s.done || s.failed) break;
    if (Date.now() > deadline) {
      await page.screenshot({ path: path.join(OUT, `timeout-${shot}`) });
      throw new Error(`notebook did not finish in 8 min; monitor states: ${(await states()).map((o) => o.text).join(' | ')}`);
    }
    await page.waitForTimeout(500);
  }
  await page.waitForTimeout(2500); // plotly draws after the last output arrives
  const observed = await states();
  const t0 = observed.length ? observed[0].at : 0;
  fs.writeFileSync(
    path.join(OUT, `${shot}.states.txt`),
    observed.map((o) => `+${((o.at - t0) / 1000).toFixed(1)} s  ${o.text}`).join('\n') + '\n',
  );
  const statuses = observed.map((o) => o.text);
  const result = await page.evaluate(() => {
    const all = Array.from(document.querySelectorAll('.jp-OutputArea-output .al-viewer'));
    const monitors = all.filter(
      (v) => v.querySelector('.al-training:not([hidden])') && v.querySelector('.al-chart-signals:not([hidden])') === null,
    );
    const fallbacks = Array.from(document.querySelectorAll('.jp-OutputArea-output .al-meta')).filter((e) =>
      /viewer bundle/.test(e.textContent ?? ''),
    ).length;
    const errors = Array.from(
      document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"], .jp-OutputArea-output .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]',
      ),
    ).map((e) => (e.textContent ?? '').slice(0, 500));
    const seen = (window as unknown as { alMonitors: Element[] }).alMonitors;
    return {
      viewers: all.length,
      monitors: monitors.length,
      fallbacks,
      sameNode: monitors.length === 1 && seen.length === 1 && seen[0] === monitors[0],
      errors,
    };
  });
  // the result viewer (signals + scores) in view for the screenshot
  await page.evaluate(() => {
    const v = Array.from(document.querySelectorAll('.jp-OutputArea-output .al-viewer')).find((e) =>
      e.querySelector('.al-chart-signals:not([hidden]) .main-svg'),
    );
    v?.scrollIntoView({ block: 'start' });
  });
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(OUT, shot) });
  return { statuses, ...result };
}

/**
 * The monitor's status line went through several live steps before it said finished (the result
 * viewer below it, which also shows the training history, may add a last line of its own).
 */
function expectLiveThenFinished(statuses: string[]): void {
  const live = statuses.filter((s) => /^live · step \d+ of 300/.test(s));
  const finished = statuses.findIndex((s) => /^finished · step 300 of 300/.test(s));
  expect(live.length).toBeGreaterThanOrEqual(3);
  expect(finished).toBeGreaterThan(statuses.indexOf(live[live.length - 1]));
}

describeLab('the viewer in real JupyterLab 4.6 and Notebook 7.6 (tslab kernel, headless Chromium)', () => {
  let server: JupyterServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const con: Console = { ours: [], all: [] };
  const requests: string[] = [];
  const bundle = powerBundle();
  let info: { jupyterlab: string; notebook: string; labextensions: string };

  beforeAll(async () => {
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(WORK, { recursive: true });
    info = prepareVenv(wheels!);
    fs.writeFileSync(path.join(OUT, 'labextension-list.txt'), info.labextensions);
    fs.writeFileSync(path.join(WORK, 'power.anomaly.json'), viewerBundleToJSON(bundle));
    fs.writeFileSync(path.join(WORK, 'many.anomaly.json'), viewerBundleToJSON(manyIntervals(2 * MANY)));
    // the notebook runs from a copy (autosave and checkpoints stay in test/artifacts); tslab resolves
    // `anomaly-lab` from there up to the repository's node_modules
    fs.copyFileSync(path.join(REPO_ROOT, 'notebooks', NOTEBOOK), path.join(WORK, NOTEBOOK));
    fs.copyFileSync(path.join(REPO_ROOT, 'notebooks', NOTEBOOK), path.join(WORK, `nb7-${NOTEBOOK}`));
    server = await startJupyter(WORK, { ANOMALY_LAB_RUNS: path.join(OUT, 'runs') });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: VIEWPORT });
    page = await context.newPage();
    watchConsole(page, con);
    page.on('request', (r) => requests.push(r.url()));
  }, 10 * 60_000);

  afterAll(async () => {
    fs.writeFileSync(path.join(OUT, 'console.txt'), con.all.join('\n') + '\n');
    await browser?.close();
    if (server) {
      fs.writeFileSync(path.join(OUT, 'server.log'), server.log());
      await server.stop();
    }
  });

  test('installed from the Python package: labextension list says enabled OK (python, anomaly_lab_jupyterlab)', () => {
    expect(info.jupyterlab).toMatch(/^4\.6\./);
    expect(info.notebook).toMatch(/^7\.6\./);
    const plain = info.labextensions.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/anomaly-lab-jupyterlab v0\.1\.0 enabled OK \(python, anomaly_lab_jupyterlab\)/);
  });

  test('(a) JupyterLab starts with the extension: no warnings, the file icon, plotly not fetched yet', async () => {
    await page.goto(server.url('lab?reset'));
    await waitForApp(page);
    await page.waitForSelector('.jp-DirListing-item[title*="power.anomaly.json"], .jp-DirListing-item:has-text("power.anomaly.json")', {
      timeout: 60_000,
    });
    await page.waitForTimeout(2000);
    const state = await page.evaluate(() => {
      const app = (window as unknown as AppWindow).jupyterapp!;
      const item = Array.from(document.querySelectorAll('.jp-DirListing-item')).find((e) =>
        /power\.anomaly\.json/.test(e.textContent ?? ''),
      );
      return {
        fileType: app.docRegistry.getFileType('anomaly-lab-viewer') !== undefined,
        factory: app.docRegistry.defaultWidgetFactory('x.anomaly.json').name,
        icon: item?.querySelector('[data-icon]')?.getAttribute('data-icon') ?? null,
      };
    });
    await page.screenshot({ path: path.join(OUT, 'lab-file-browser.png') });
    await page.locator('.jp-DirListing-content').screenshot({ path: path.join(OUT, 'lab-file-icons.png') });
    expect(state).toEqual({ fileType: true, factory: 'Anomaly Viewer', icon: 'anomaly-lab-jupyterlab:file' });
    expect(requests.some((u) => /extensions\/anomaly-lab-jupyterlab\/static\/remoteEntry\./.test(u))).toBe(true);
    expect(requests.filter((u) => /anomaly-lab-jupyterlab\/static\/plotly\./.test(u))).toEqual([]);
    expect(con.ours).toEqual([]);
  }, 180_000);

  test('(b) a *.anomaly.json opens in the viewer, re-thresholds like kernel-lib, and scrolls to its last section at 1366×768', async () => {
    await page.evaluate(() =>
      (window as unknown as AppWindow)
        .jupyterapp!.commands.execute('docmanager:open', { path: 'power.anomaly.json' })
        .then(() => undefined),
    );
    await page.waitForSelector('.jp-MimeDocument .al-viewer .al-title', { timeout: 60_000 });
    await page.waitForSelector('.jp-MimeDocument .al-chart-importance .main-svg', { timeout: 90_000 });
    expect(requests.filter((u) => /anomaly-lab-jupyterlab\/static\/plotly\./.test(u)).length).toBe(1); // fetched now, once
    const rows = (): Promise<number> => page.locator('.jp-MimeDocument .al-interval-row').count();
    expect(await rows()).toBe(expectedIntervals(bundle));
    // re-threshold: the 80th percentile also flags the peaks of the normal MSE between the faults;
    // then merge gap 0 splits what the 100-sample gap joined
    const before = await rows();
    await page.fill('.jp-MimeDocument .al-threshold', '80');
    await page.dispatchEvent('.jp-MimeDocument .al-threshold', 'change');
    await page.waitForTimeout(500);
    const at80 = expectedIntervals(bundle, { mode: 'percentile', percentile: 80 });
    expect(at80).not.toBe(before);
    expect(await rows()).toBe(at80);
    await page.fill('.jp-MimeDocument .al-gap', '0');
    await page.dispatchEvent('.jp-MimeDocument .al-gap', 'change');
    await page.waitForTimeout(800);
    const gap0 = expectedIntervals(bundle, { mode: 'percentile', percentile: 80, maxGapSamples: 0 });
    expect(gap0).toBeGreaterThan(at80);
    expect(await rows()).toBe(gap0);
    expect(await page.textContent('.jp-MimeDocument .al-card-threshold .al-card-value')).not.toBe('');

    const scroller = '.jp-MimeDocument .al-renderer.al-document';
    const geometry = (): Promise<{ top: number; max: number; lastTop: number; lastBottom: number; viewBottom: number }> =>
      page.$eval(scroller, (el) => {
        const last = el.querySelector('.al-section.al-importance') as HTMLElement;
        const view = el.getBoundingClientRect();
        const r = last.getBoundingClientRect();
        return { top: el.scrollTop, max: el.scrollHeight - el.clientHeight, lastTop: r.top, lastBottom: r.bottom, viewBottom: view.bottom };
      });
    const g0 = await geometry();
    await page.screenshot({ path: path.join(OUT, 'lab-document-top.png') });
    expect(g0.max).toBeGreaterThan(300); // taller than the tab: it must scroll
    expect(g0.lastTop).toBeGreaterThan(VIEWPORT.height); // the last section starts below the window
    // the mouse wheel, over the header (not over a chart)
    const box = (await page.locator('.jp-MimeDocument .al-header').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 40 && (await geometry()).top < g0.max; i++) await page.mouse.wheel(0, 400);
    await page.waitForTimeout(300);
    const g1 = await geometry();
    expect(g1.top).toBe(g1.max);
    expect(g1.lastBottom).toBeLessThanOrEqual(g1.viewBottom + 1); // the last section is fully visible
    await page.screenshot({ path: path.join(OUT, 'lab-document-bottom.png') });
    // the keyboard: Home and End on the focused document
    await page.click('.jp-MimeDocument .al-title');
    await page.keyboard.press('Home');
    await page.waitForTimeout(400);
    expect((await geometry()).top).toBe(0);
    await page.keyboard.press('End');
    await page.waitForTimeout(400);
    expect((await geometry()).top).toBe(g1.max);
    await page.keyboard.press('Home');
    expect(con.ours).toEqual([]);
  }, 240_000);

  test('(e) dark theme: the viewer and its charts are readable', async () => {
    await page.evaluate(() =>
      (window as unknown as AppWindow)
        .jupyterapp!.commands.execute('apputils:change-theme', { theme: 'JupyterLab Dark' })
        .then(() => undefined),
    );
    await page.waitForFunction(() => document.body.dataset.jpThemeLight === 'false', null, { timeout: 30_000 });
    await page.$eval('.jp-MimeDocument .al-renderer', (el) => el.scrollTo(0, 0));
    await page.waitForTimeout(2500); // charts redraw on the theme change
    await page.screenshot({ path: path.join(OUT, 'lab-document-dark.png') });
    await page.$eval('.jp-MimeDocument .al-renderer', (el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(OUT, 'lab-document-dark-bottom.png') });
    await page.$eval('.jp-MimeDocument .al-renderer', (el) => el.scrollTo(0, 0));
    const lum = await page.evaluate(() => {
      const parse = (c: string): number => {
        const m = /rgba?\(([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/.exec(c);
        if (!m) return NaN;
        return (0.2126 * Number(m[1]) + 0.7152 * Number(m[2]) + 0.0722 * Number(m[3])) / 255;
      };
      const viewer = document.querySelector('.jp-MimeDocument .al-viewer') as HTMLElement;
      const tick = document.querySelector('.jp-MimeDocument .al-chart-signals .xtick text') as SVGElement;
      const title = document.querySelector('.jp-MimeDocument .al-title') as HTMLElement;
      return {
        text: parse(getComputedStyle(title).color),
        background: parse(getComputedStyle(viewer).backgroundColor),
        tick: parse(getComputedStyle(tick).fill),
      };
    });
    expect(lum.background).toBeLessThan(0.3);
    expect(lum.text).toBeGreaterThan(0.6);
    expect(lum.tick).toBeGreaterThan(0.5);
    await page.evaluate(() =>
      (window as unknown as AppWindow)
        .jupyterapp!.commands.execute('apputils:change-theme', { theme: 'JupyterLab Light' })
        .then(() => undefined),
    );
    await page.waitForFunction(() => document.body.dataset.jpThemeLight === 'true', null, { timeout: 30_000 });
    expect(con.ours).toEqual([]);
  }, 120_000);

  test("settings from JupyterLab's settings registry reach the viewer (signalLayout: one panel per channel)", async () => {
    const put = async (raw: string): Promise<void> => {
      const res = await fetch(`${server.base}lab/api/settings/anomaly-lab-jupyterlab:plugin`, {
        method: 'PUT',
        headers: { Authorization: `token ${server.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ raw }),
      });
      expect(res.status).toBe(204);
    };
    const panelLabels = (): Promise<string[]> =>
      page.$$eval('.jp-MimeDocument .al-chart-signals .annotation-text', (els) => els.map((e) => e.textContent ?? ''));
    expect(await panelLabels()).toEqual(['Va, Vb, Vc', 'Ia, Ib, Ic']); // the default: by unit
    await put('{ "signalLayout": "channel" }');
    try {
      await page.reload();
      await waitForApp(page);
      await page.waitForSelector('.jp-MimeDocument .al-chart-signals .main-svg', { timeout: 90_000 }); // the workspace reopens the document
      await page.waitForTimeout(1000);
      expect(await page.$eval('.jp-MimeDocument .al-layout', (e) => (e as HTMLSelectElement).value)).toBe('channel');
      expect(await panelLabels()).toEqual(['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic']);
      await page.screenshot({ path: path.join(OUT, 'lab-document-setting-channel.png') });
    } finally {
      await put('{}'); // the next page load (test c) starts from the defaults again
    }
    expect(con.ours).toEqual([]);
  }, 180_000);

  test(
    '(c) notebook 01 run in JupyterLab with tslab shows the viewer itself and a live monitor updated in place',
    async () => {
      // a fresh JupyterLab page with just the notebook (the URL opens it)
      await page.goto(server.url(`lab/tree/${NOTEBOOK}?reset`));
      await waitForApp(page);
      const r = await runNotebookAndWatchMonitor(page, 'lab-notebook-01.png');
      fs.writeFileSync(path.join(OUT, 'lab-monitor-states.txt'), r.statuses.join('\n') + '\n');
      expect(r.errors).toEqual([]);
      expect(r.fallbacks).toBe(0); // no text/html fallback rendered
      expect(r.viewers).toBeGreaterThanOrEqual(2); // the monitor and the result viewer
      expect(r.monitors).toBe(1);
      expect(r.sameNode).toBe(true);
      expectLiveThenFinished(r.statuses);
      expect(con.ours).toEqual([]);
    },
    10 * 60_000,
  );

  test(
    '(d) notebook 01 run in Notebook 7 shows the viewer itself and a live monitor updated in place',
    async () => {
      const nb7 = await context.newPage();
      const con7: Console = { ours: [], all: [] };
      watchConsole(nb7, con7);
      try {
        await nb7.goto(server.url(`notebooks/nb7-${NOTEBOOK}`));
        await waitForApp(nb7);
        const r = await runNotebookAndWatchMonitor(nb7, 'notebook7-01.png');
        fs.writeFileSync(path.join(OUT, 'notebook7-monitor-states.txt'), r.statuses.join('\n') + '\n');
        expect(r.errors).toEqual([]);
        expect(r.fallbacks).toBe(0);
        expect(r.viewers).toBeGreaterThanOrEqual(2);
        expect(r.monitors).toBe(1);
        expect(r.sameNode).toBe(true);
        expectLiveThenFinished(r.statuses);
        expect(con7.ours).toEqual([]);
      } finally {
        fs.writeFileSync(path.join(OUT, 'notebook7-console.txt'), con7.all.join('\n') + '\n');
        await nb7.close();
      }
    },
    10 * 60_000,
  );

  test('(f) a bundle with 2,000 intervals: the table shows one page of rows, "show more" appends the next', async () => {
    await page.goto(server.url('lab/tree/many.anomaly.json?reset'));
    await waitForApp(page);
    const doc = '.jp-MimeDocument:not(.lm-mod-hidden)';
    await page.waitForSelector(`${doc} .al-interval-row`, { timeout: 90_000 });
    const rows = (): Promise<number> => page.locator(`${doc} .al-interval-row`).count();
    expect(await rows()).toBe(PAGE); // the default maxTableRows
    expect(await page.textContent(`${doc} .al-table-footer .al-note`)).toContain(`showing ${PAGE} of ${MANY} intervals`);
    await page.click(`${doc} .al-show-more`);
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [`${doc} .al-interval-row`, 2 * PAGE] as const, {
      timeout: 30_000,
    });
    expect(await rows()).toBe(2 * PAGE);
    await page.locator(`${doc} .al-show-more`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'lab-document-show-more.png') });
    expect(await page.locator(`${doc} .al-show-more`).textContent()).toBe(`show ${PAGE} more`);
    expect(con.ours).toEqual([]);
  }, 240_000);
});
