/**
 * `anomaly-lab report`: a run directory (written here with the real writers: manifest, npy files,
 * a viewer bundle) → offline HTML + markdown; the HTML renders every chart in real headless
 * Chromium with all network requests blocked (screenshot saved to test/artifacts/report/).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { anomalyBertViewerBundle, viewerBundleToJSON, createRng } from 'anomaly-lab/core';
import { writeNpy } from 'anomaly-lab/io';
import {
  generatePowerData,
  mergeAnomalyIntervals,
  thresholdWindows,
  windowCount,
  extractFeatures,
  writePowerResults,
} from 'anomaly-lab/power';
import { writeManifest } from 'anomaly-lab/runs';
import { launchChromium } from '../e2e/harness';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/shared';
import { describeWithTools } from '../helpers/tools';

const EVIL = '<script>window.__pwned=1</script>';

/** A run directory as training writes it, with scores that improve over steps (generated here). */
async function makeRun(): Promise<{ dir: string; labels: Uint8Array }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-report-'));
  const n = 3000;
  const labels = new Uint8Array(n);
  for (const [s, e] of [
    [400, 460],
    [1500, 1530],
    [2500, 2620],
  ])
    labels.fill(1, s, e);
  const rng = createRng(5);
  const history = [];
  for (const step of [0, 50, 100]) {
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) scores[i] = rng.uniform() * 0.5 + (labels[i] ? step / 200 : 0);
    writeNpy(path.join(dir, 'state', `step_${step}_scores.npy`), scores, [n, 1]);
    history.push({ step, loss: 1 / (step + 1), accuracy: 0.5 + step / 250, lr: 1e-4, elapsed_s: step / 10 });
  }
  fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(history));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ options: { max_steps: 100, note: EVIL }, data: { train: `train${EVIL}.csv` } }),
  );
  writeNpy(path.join(dir, 'test_label.npy'), labels, [n]);
  const values = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    values[2 * i] = Math.sin(i / 40);
    values[2 * i + 1] = labels[i] ? 0.9 : 0.2;
  }
  const scores = new Float32Array(n).map((_, i) => (labels[i] ? 0.9 : 0.1) + 0.01 * Math.sin(i));
  const bundle = anomalyBertViewerBundle({
    title: `detection ${EVIL}`,
    series: { columns: ['v', EVIL], values },
    scores,
    labels,
    rate: 0.07,
  });
  fs.writeFileSync(path.join(dir, 'detection.anomaly.json'), viewerBundleToJSON(bundle));
  await writeManifest(dir, {
    kind: 'anomalybert-train',
    config: { max_steps: 100 },
    seed: 5,
    inputs: [{ path: path.join(dir, 'test_label.npy'), role: 'test_label' }],
    metrics: { f1: 0.5 },
    checkpoints: [{ path: 'state/step_100', step: 100 }],
  });
  return { dir, labels };
}

describe('anomaly-lab report', () => {
  let run: { dir: string; labels: Uint8Array };
  beforeAll(async () => {
    run = await makeRun();
  });

  it('writes a self-contained HTML (plotly once, no external URLs, data escaped) and markdown with SVG charts', () => {
    const out = path.join(run.dir, 'rep');
    const r = runCli(['report', '--run', run.dir, '--out', out, '--title', 'Unit run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(path.join(out, 'report.html'));
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    // plotly inlined exactly once (its bundle mentions map-tile URLs in inert strings: look outside it)
    expect(html.split('exports.Plotly=e()').length - 1).toBe(1);
    const plotlyStart = html.indexOf('<script id="al-plotly">');
    const plotlyEnd = html.indexOf('</script>', plotlyStart);
    expect(plotlyStart).toBeGreaterThan(0);
    const page = html.slice(0, plotlyStart) + html.slice(plotlyEnd);
    expect(page.match(/<script>/g)?.length).toBe(1);
    expect(/<script[^>]+src=/.test(html)).toBe(false);
    expect(/(src|href)="https?:/.test(page)).toBe(false);
    expect(/<link[^>]+href/.test(page)).toBe(false);
    // data never becomes markup
    expect(html.includes('<script>window.__pwned')).toBe(false);
    expect(page).toContain('First step whose ESS score with point adjustment exceeds 0.9');
    // rates read as percentages, as in the viewer (rateText), not as fractions
    expect(page).toMatch(/the last step&#39;s best F1 with PA is [0-9.]+ at rate \d+\.\d{2}%\./);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# Unit run/);
    expect(md).toContain('![Training loss and accuracy per summary step](report-assets/history-loss.svg)');
    expect(fs.existsSync(path.join(out, 'report-assets', 'sweep.svg'))).toBe(true);
    // the step table: with labels shifted by step/200, step 100 separates best
    expect(md).toMatch(/\| 100 \| [0-9.]+ \|/);
  });

  it('reports a power detect output directory (results.json + mse.npy written by the power area)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-report-power-'));
    const { data, faults } = generatePowerData({ seed: 2, duration: 1, sampleRate: 2000, nFaults: 2 });
    const L = 20;
    // Stand-in for the autoencoder's error (the model is not the subject here): high inside faults.
    const mse = new Float64Array(windowCount(data.length, L)).map(
      (_, i) => (faults.some((f) => data.time[i] < f.end && f.start < data.time[i + L - 1]) ? 5 : 0.1) + 0.001 * (i % 7),
    );
    const detection = thresholdWindows(data, mse, L, 95);
    const merged = mergeAnomalyIntervals(detection.intervals, 50, data.sampleTime);
    const analysis = {
      source: data.source,
      params: { sequence_length: L, percentile: 95, max_gap_samples: 50 },
      sampleTime: data.sampleTime,
      detection,
      mergedIntervals: merged,
      features: merged.map((iv) => extractFeatures(data, iv)),
      predictions: [],
    };
    writePowerResults(dir, analysis, data);
    const r = runCli(['report', '--run', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(dir, 'report', 'report.md'), 'utf8');
    expect(md).toContain('## Power-system detection');
    expect(md).toContain(`| anomalous windows | ${detection.flags.reduce((a, b) => a + b, 0)} of ${mse.length} |`);
    expect(md.match(/^\| \d+ \| /gm)?.length).toBe(merged.length);
    expect(fs.existsSync(path.join(dir, 'report', 'report-assets', 'power-mse.svg'))).toBe(true);
  });

  it('names the broken input', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'al-report-empty-'));
    const r = runCli(['report', '--run', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--run .*: not a run directory \(no manifest.json, history.json, results.json or \*\.anomaly\.json\)/);
    const bad = runCli(['report', '--run', run.dir, '--labels', path.join(empty, 'nope.npy')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/labels: .*nope\.npy does not exist/);
    expect(runCli(['report']).code).toBe(2);
  });

  describeWithTools('in headless Chromium, network off', { chromium: 'chromium' }, () => {
    it('renders every chart offline (screenshot)', async () => {
      const out = path.join(run.dir, 'rep-shot');
      expect(runCli(['report', '--run', run.dir, '--out', out]).code).toBe(0);
      const browser = await launchChromium();
      try {
        const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, offline: true });
        const blocked: string[] = [];
        await context.route('**/*', (route) => {
          const url = route.request().url();
          if (url.startsWith('file://')) return route.continue();
          blocked.push(url);
          return route.abort();
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto('file://' + path.join(out, 'report.html'));
        await page.waitForSelector('body[data-charts-ready], body[data-charts-error]', { timeout: 60000 });
        expect(await page.getAttribute('body', 'data-charts-error')).toBeNull();
        const charts = await page.$$eval('.al-chart', (els) => els.length);
        const drawn = await page.$$eval('.al-chart .main-svg', (els) => els.length);
        expect(charts).toBeGreaterThanOrEqual(6);
        expect(drawn).toBeGreaterThanOrEqual(charts); // plotly draws ≥ 1 svg per chart
        const traces = await page.$$eval('.al-chart .scatterlayer .trace', (els) => els.length);
        expect(traces).toBeGreaterThanOrEqual(8);
        expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        expect(errors).toEqual([]);
        expect(blocked).toEqual([]);
        const shotDir = path.join(REPO_ROOT, 'test', 'artifacts', 'report');
        fs.mkdirSync(shotDir, { recursive: true });
        const png = await page.screenshot({ path: path.join(shotDir, 'report.png'), fullPage: true });
        expect(png.length).toBeGreaterThan(50000);
      } finally {
        await browser.close();
      }
    });
  });
});
