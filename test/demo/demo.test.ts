/**
 * `npm run demo` (the README's first command) in its quick mode: the real built demo (tools/dist) on generated
 * data — train, transfer, detect, score, the power pipeline — and every promised artefact on disk.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validateViewerBundle } from 'anomaly-lab/core';
import { readManifest } from 'anomaly-lab/runs';
import { RECOMMENDED_TRANSFER, SCRATCH_ESTIMATION } from 'anomaly-lab/training';
import { REPO_ROOT } from '../helpers/shared';

describe('npm run demo (quick)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'al-demo-'));
  let stdout = '';

  beforeAll(
    () => {
      const r = spawnSync(
        process.execPath,
        [path.join(REPO_ROOT, 'tools/dist/demo/index.js'), '--quick', '--out', out, '--backend', 'wasm'],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
          timeout: 15 * 60 * 1000,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      stdout = r.stdout;
      if (r.status !== 0) throw new Error(`demo exited with ${r.status}: ${r.stderr.slice(-2000)}`);
    },
    15 * 60 * 1000,
  );

  it('prints each stage and where the reports are', () => {
    for (const stage of ['1/6 data', '2/6 training', '3/6 transfer', '4/6 detection', '5/6 power', '6/6 reports'])
      expect(stdout).toContain(stage);
    const reports = stdout.split('\n').filter((l) => /report\.html$/.test(l.trim()));
    expect(reports).toHaveLength(4);
    for (const r of reports) expect(fs.existsSync(path.resolve(REPO_ROOT, r.trim()))).toBe(true);
  });

  it("scores site B as a plain estimate does (each run's recorded settings) and labels both comparisons", () => {
    // Each run's recorded settings (the recipe's for the transfer, the scratch ones otherwise).
    const setting = (e: { window_sliding: number; smoothing: number }): string =>
      `\\(stride ${e.window_sliding}, EWMA ${String(e.smoothing).replace('.', '\\.')}\\)`;
    expect(stdout).toMatch(
      new RegExp(
        `site B final step, scored as a plain \`anomaly-lab estimate\` does: transfer [0-9.]+ ${setting(RECOMMENDED_TRANSFER.estimation)}, ` +
          `scratch [0-9.]+ ${setting(SCRATCH_ESTIMATION)}`,
      ),
    );
    expect(stdout).toMatch(/Transfer is (NOT )?ahead of scratch here; it is (NOT )?above the first-difference baseline\./);
    const t = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'site-b-transfer', 'config.json'), 'utf8')) as { estimation: unknown };
    expect(t.estimation).toEqual(RECOMMENDED_TRANSFER.estimation);
  });

  it('leaves manifests that pin inputs and metrics, a transfer lineage and valid viewer bundles', () => {
    const runs = path.join(out, 'runs');
    const a = readManifest(path.join(runs, 'site-a'));
    expect(a.command?.argv[0]).toBe('train');
    expect(a.inputs.find((i) => i.role === 'train')?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const t = readManifest(path.join(runs, 'site-b-transfer'));
    expect(JSON.stringify(t.config)).toContain(path.join('site-a', 'state'));
    const p = readManifest(path.join(runs, 'power'));
    expect(p.kind).toBe('power-detect');
    expect(typeof (p.metrics as { faults_found?: number }).faults_found).toBe('number');
    for (const f of [path.join(runs, 'site-b-transfer', 'detection.anomaly.json'), path.join(runs, 'power', 'detection.anomaly.json')]) {
      expect(validateViewerBundle(JSON.parse(fs.readFileSync(f, 'utf8'))).errors).toEqual([]);
    }
    expect(fs.existsSync(path.join(runs, 'power', 'anomalies.csv'))).toBe(true);
    expect(fs.readFileSync(path.join(runs, 'site-a', 'report', 'report.md'), 'utf8')).toMatch(
      /First step whose ESS score with point adjustment exceeds 0\.9/,
    );
  });
});
