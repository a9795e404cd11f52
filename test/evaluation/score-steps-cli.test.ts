/**
 * `anomaly-lab score-steps` through the real built CLI on a run directory written here with real
 * .npy files; the JSON must equal the library's report and the text output must name the first step.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng } from 'anomaly-lab/core';
import { scoreSteps } from 'anomaly-lab/evaluation';
import { writeNpy } from 'anomaly-lab/io';
import { runCli } from '../helpers/cli';

describe('anomaly-lab score-steps', () => {
  const n = 3000;
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'score-steps-cli-'));
  const labelsFile = path.join(run, 'test_label.npy');
  const labels = new Uint8Array(n);
  labels.fill(1, 400, 520);
  labels.fill(1, 2000, 2010);
  labels.fill(1, 2500, 2700);

  beforeAll(() => {
    fs.mkdirSync(path.join(run, 'state'));
    writeNpy(labelsFile, labels, [n]);
    const rng = createRng(42);
    [0, 0.5, 0.95].forEach((quality, i) => {
      const scores = Float32Array.from(labels, (l) => rng.uniform() * (1 - quality) + l * quality);
      writeNpy(path.join(run, 'state', `step_${i * 500}_scores.npy`), scores, [n, 1]);
    });
  });

  test('--json equals the library report; text output names the first step above the target', () => {
    const r = runCli(['score-steps', '--run', run, '--labels', labelsFile, '--anomaly-rate', '0.1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const fromCli = JSON.parse(r.stdout);
    const lib = scoreSteps(run, labelsFile, { anomalyRate: 0.1, target: 0.9 });
    expect(fromCli).toEqual(JSON.parse(JSON.stringify(lib)));
    expect(fromCli.steps.map((s: { step: number }) => s.step)).toEqual([0, 500, 1000]);
    expect(fromCli.first_step_reaching_target).not.toBeNull();

    const text = runCli(['score-steps', '--run', run, '--labels', labelsFile, '--anomaly_rate', '0.1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`first step with ESS(PA) > 0.9: ${lib.first_step_reaching_target}`);
    expect(text.stdout).toMatch(/random scores with PA on the same labels/);
    // the rate reads as a percentage, as in the viewer (rateText), not as the fraction 0.1
    expect(text.stdout.split('\n')[0]).toMatch(/, anomaly rate 10\.00%$/);

    const never = runCli(['score-steps', '--run', run, '--labels', labelsFile, '--target', '1']);
    expect(never.stdout).toContain('no step exceeds ESS(PA) 1');
  });

  test('errors: usage problems exit 2, data problems exit 1, both naming the option or file', () => {
    const other = path.join(run, 'short_labels.npy');
    writeNpy(other, new Uint8Array(100).fill(1, 10, 20), [100]);
    const cases: Array<{ args: string[]; code: number; msg: RegExp }> = [
      { args: ['score-steps', '--run', run], code: 2, msg: /missing required option --labels/ },
      { args: ['score-steps', '--run', run, '--labels', labelsFile, '--anomaly_rate', '0'], code: 2, msg: /--anomaly_rate/ },
      { args: ['score-steps', '--run', run, '--labels', labelsFile, '--target', '1.5'], code: 2, msg: /--target/ },
      {
        args: ['score-steps', '--run', run, '--labels', other],
        code: 1,
        msg: /step_0_scores\.npy: 3000 scores but .*short_labels\.npy has 100 rows/,
      },
      { args: ['score-steps', '--run', path.join(run, 'missing'), '--labels', labelsFile], code: 1, msg: /missing does not exist/ },
      { args: ['score-steps', '--run', run, '--labels', path.join(run, 'nope.npy')], code: 1, msg: /nope\.npy/ },
    ];
    for (const c of cases) {
      const r = runCli(c.args);
      expect({ code: r.code, lines: r.stderr.trim().split('\n').length }).toEqual({ code: c.code, lines: 1 });
      expect(r.stderr).toMatch(c.msg);
    }
  });
});
