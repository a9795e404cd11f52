/**
 * The research notebooks, executed headless by the real tslab kernel (scripts/run-notebooks.sh:
 * Debian Jupyter + nbconvert), carry the viewer bundle WITH its fallbacks in the same output, the
 * live monitor as ONE updated output, no errors, and an HTML export that shows the summaries.
 *
 * The notebooks are executed here (several minutes: they train small models) unless executed
 * copies newer than the notebooks already exist in test/artifacts/notebooks (e.g. .ci/run ran
 * scripts/run-notebooks.sh just before); ANOMALY_LAB_RUN_NOTEBOOKS=1 forces a re-run. A clean
 * clone (CI) has no artifacts, so it always executes them.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { VIEWER_MIME, validateViewerBundle, type ViewerBundle } from 'anomaly-lab/core';
import { REPO_ROOT } from '../helpers/shared';
import { describeWithTools } from '../helpers/tools';

const NB_DIR = path.join(REPO_ROOT, 'notebooks');
const OUT = path.join(REPO_ROOT, 'test', 'artifacts', 'notebooks');

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}
interface Notebook {
  cells: Array<{ cell_type: string; outputs?: Output[] }>;
}

const names = fs
  .readdirSync(NB_DIR)
  .filter((f) => f.endsWith('.ipynb'))
  .sort()
  .map((f) => f.replace(/\.ipynb$/, ''));

function fresh(): boolean {
  return names.every((n) => {
    const exec = path.join(OUT, `${n}.ipynb`);
    return (
      fs.existsSync(exec) &&
      fs.existsSync(path.join(OUT, `${n}.html`)) &&
      fs.statSync(exec).mtimeMs > fs.statSync(path.join(NB_DIR, `${n}.ipynb`)).mtimeMs
    );
  });
}

function outputs(name: string): Output[] {
  const nb = JSON.parse(fs.readFileSync(path.join(OUT, `${name}.ipynb`), 'utf8')) as Notebook;
  return nb.cells.flatMap((c) => c.outputs ?? []);
}

const text = (v: unknown): string => (Array.isArray(v) ? v.join('') : String(v ?? ''));

describeWithTools(
  'executed research notebooks (tslab kernel)',
  { 'jupyter-nbconvert': 'jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel' },
  () => {
    beforeAll(
      () => {
        if (process.env.ANOMALY_LAB_RUN_NOTEBOOKS || !fresh()) {
          execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'run-notebooks.sh')], { stdio: 'inherit', timeout: 40 * 60 * 1000 });
        }
      },
      40 * 60 * 1000,
    );

    it('has the four research notebooks', () => {
      expect(names).toEqual(['01-anomalybert-ess', '02-transfer-learning', '03-power-system-dashboard', '04-scoring-and-reports']);
    });

    it.each(names)('%s ran without errors and shows viewer bundles with HTML and text fallbacks in the same output', (name) => {
      const outs = outputs(name);
      expect(outs.filter((o) => o.output_type === 'error')).toEqual([]);
      expect(outs.filter((o) => o.output_type === 'stream' && /Error:|Traceback/.test(text(o.text)))).toEqual([]);
      // a tslab type error is a stderr line `<line>:<col> - <message>` (the cell then runs nothing)
      expect(outs.filter((o) => o.output_type === 'stream' && /^\d+:\d+ - /m.test(text(o.text)))).toEqual([]);
      const viewers = outs.filter((o) => o.data && VIEWER_MIME in o.data);
      expect(viewers.length).toBeGreaterThan(0);
      for (const o of viewers) {
        const bundle = o.data![VIEWER_MIME] as ViewerBundle;
        const check = validateViewerBundle(bundle);
        expect(check.errors).toEqual([]);
        const html = text(o.data!['text/html']);
        const plain = text(o.data!['text/plain']);
        expect(html).toContain('class="al-summary"');
        expect(html).toContain(bundle.title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
        expect(html).not.toMatch(/<script/i);
        expect(plain.split('\n').some((l) => l.includes(bundle.title))).toBe(true);
        if (bundle.scores) {
          expect(html).toContain('<svg');
          expect(plain).toMatch(/threshold: /);
        }
      }
    });

    it('keeps one live monitor output per training run, finished, with its whole history', () => {
      const monitors = (name: string): ViewerBundle[] =>
        outputs(name)
          .filter((o) => o.data && VIEWER_MIME in o.data && (o.data[VIEWER_MIME] as ViewerBundle).kind === 'training')
          .map((o) => o.data![VIEWER_MIME] as ViewerBundle);
      const nb1 = monitors('01-anomalybert-ess');
      expect(nb1).toHaveLength(1); // updated in place, not one output per step
      expect(nb1[0].training?.finished).toBe(true);
      expect(nb1[0].training?.history.length).toBeGreaterThanOrEqual(3);
      expect(nb1[0].training?.history[nb1[0].training.history.length - 1].step).toBe(nb1[0].training?.maxSteps);
      expect(monitors('02-transfer-learning')).toHaveLength(2); // transfer and scratch
    });

    it('shows tables as HTML + text (danfojs describe, metrics) and power results with fault classes', () => {
      const nb1 = outputs('01-anomalybert-ess');
      const describe = nb1.find(
        (o) => text(o.data?.['text/plain']).includes('describe') || text(o.data?.['text/plain']).startsWith('Site A'),
      );
      expect(describe).toBeDefined();
      expect(text(describe!.data!['text/html'])).toMatch(/<th>mean<\/th>|<td>mean<\/td>/);
      const power = outputs('03-power-system-dashboard')
        .filter((o) => o.data && VIEWER_MIME in o.data)
        .map((o) => o.data![VIEWER_MIME] as ViewerBundle);
      expect(power.length).toBeGreaterThanOrEqual(1);
      expect(power.every((b) => b.kind === 'power')).toBe(true);
      expect(power[0].intervals?.some((iv) => typeof iv.fault === 'string' && (iv.confidence ?? -1) >= 0)).toBe(true);
    });

    it.each(names)('%s has an HTML export that shows the fallback summaries', (name) => {
      const html = fs.readFileSync(path.join(OUT, `${name}.html`), 'utf8');
      expect(html).toContain('al-summary');
      expect(html).toMatch(/<table class="al-table">/);
    });
  },
);
