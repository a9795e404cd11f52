/**
 * The BUILT prebuilt extension (extension/labextension, `npm run build -w anomaly-lab-jupyterlab`)
 * loads as a module-federation remote: a host page offers the real JupyterLab packages as shared
 * singletons (test/e2e/federation-host.ts), loads remoteEntry, takes `./extension` and `./style`,
 * activates the plugin against a real RenderMimeRegistry + DocumentRegistry, and renders a bundle
 * through the registry — in headless Chromium. .ci/run builds the labextension before the tests, so
 * on CI a missing build is a failure; on a developer machine the test is skipped with a message.
 */
import * as fs from 'fs';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { VIEWER_MIME, buildViewerBundle, viewerBundleToJSON } from '../../kernel-lib/src/browser';
import { REPO_ROOT } from '../helpers/shared';
import { describeWithTools } from '../helpers/tools';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, bundleForBrowser, serveDir } from './harness';

const LABEXT = path.join(REPO_ROOT, 'extension/labextension');
const built = fs.existsSync(path.join(LABEXT, 'package.json'));
if (!built) console.warn(`SKIPPED "built labextension loads": ${LABEXT} is absent (npm run build -w anomaly-lab-jupyterlab)`);
const describeBuilt = built
  ? describeWithTools
  : process.env.CI
    ? (name: string) =>
        describe(name, () => {
          test('the labextension was built', () => {
            throw new Error(`${LABEXT} is absent on CI: .ci/run must run \`npm run build -w anomaly-lab-jupyterlab\``);
          });
        })
    : (name: string, _t: Record<string, string>, fn: () => void) => describe.skip(name, fn);

function installedVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
}

describeBuilt('built labextension loads as a federated JupyterLab extension', { chromium: 'chromium' }, () => {
  test('remoteEntry → plugin activation → MIME renderer and *.anomaly.json file type registered → viewer drawn', async () => {
    const dir = path.join(ARTIFACTS, 'federation');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    await bundleForBrowser(path.join(__dirname, 'federation-host.ts'), path.join(dir, 'host.js'));
    fs.cpSync(path.join(LABEXT, 'static'), path.join(dir, 'static'), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, 'node_modules/@lumino/widgets/style/widget.css'), path.join(dir, 'lumino-widgets.css'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="lumino-widgets.css"></head><body><div id="host" style="width:1000px"></div><script src="host.js"></script></body></html>');
    const entry = JSON.parse(fs.readFileSync(path.join(LABEXT, 'package.json'), 'utf8')).jupyterlab._build.load as string;
    const versions = Object.fromEntries(
      ['@jupyterlab/apputils', '@jupyterlab/docregistry', '@jupyterlab/rendermime', '@jupyterlab/settingregistry', '@lumino/widgets', '@lumino/messaging', '@lumino/coreutils', '@lumino/signaling'].map((n) => [n, installedVersion(n)]),
    );

    const server = await serveDir(dir);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1040, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => (window as unknown as { fedTest?: { ready: boolean } }).fedTest?.ready === true);
      const n = 600;
      const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i / 20));
      const scores = Float32Array.from({ length: n }, (_, i) => (i > 300 && i < 320 ? 0.9 + (i - 300) / 1000 : 0.1 + ((i * 37) % 10) / 100));
      const json = viewerBundleToJSON(buildViewerBundle({ title: 'federated', series: { columns: ['Va'], values }, scores: { values: scores }, threshold: { rate: 0.03 } }));
      const info = await page.evaluate(
        async ({ entry, versions, json, mime }) => {
          type Api = {
            loadBuiltExtension(e: string, v: Record<string, string>): Promise<{ plugin: { id: string }; rendermime: { mimeTypes: string[] }; docRegistry: { getFileType(n: string): { extensions: string[] } | undefined; getWidgetFactory(n: string): unknown } }>;
            renderWith(r: unknown, mime: string, data: unknown): Promise<void>;
          };
          const api = (window as unknown as { fedTest: Api }).fedTest;
          const { plugin, rendermime, docRegistry } = await api.loadBuiltExtension(entry, versions);
          await api.renderWith(rendermime, mime, json);
          await new Promise((r) => setTimeout(r, 1500)); // plotly draws after the first frame
          return {
            id: plugin.id,
            mimeRegistered: rendermime.mimeTypes.includes(mime),
            fileType: docRegistry.getFileType('anomaly-lab-viewer')?.extensions ?? null,
            factory: docRegistry.getWidgetFactory('Anomaly Viewer') !== undefined,
            title: document.querySelector('.al-viewer .al-title')?.textContent ?? null,
            rows: document.querySelectorAll('.al-interval-row').length,
            plotted: document.querySelectorAll('.al-chart-signals .main-svg').length > 0,
          };
        },
        { entry, versions, json, mime: VIEWER_MIME },
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'labextension-federated.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(info).toEqual({ id: 'anomaly-lab-jupyterlab:plugin', mimeRegistered: true, fileType: ['.anomaly.json'], factory: true, title: 'federated', rows: 1, plotted: true });
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
