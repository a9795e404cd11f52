/**
 * `anomaly-lab score-steps`: the ESS seed's step scoring over a run directory.
 *
 *   anomaly-lab score-steps --run <run dir> --labels <test_label.npy> [--anomaly_rate 0.05]
 *                           [--target 0.9] [--json]
 *
 * For every `state/step_<i>_scores.npy`: ESS score with point adjustment at the anomaly rate (the
 * seed's number), F1 with and without PA, best F1 of the rate sweep, the random-score baseline with
 * PA on the same labels and the PA%K area — and the first step whose PA ESS score exceeds the target.
 */
import { checkScoreStepsOptions, scoreStepsAsync, type StepScoreReport } from '../../evaluation/index';
import { defineOptions, formatPercent, rateText } from '../../browser/index';
import { checkFlags, parseCommandArgs, withSigint } from '../args';
import { COMMANDS } from '../registry';

const { summary } = COMMANDS['score-steps'];

const SPECS = defineOptions({
  run: { kind: 'string', required: true, help: 'run directory (holds state/step_<i>_scores.npy)' },
  labels: { kind: 'string', required: true, help: 'test labels .npy, shape (length,) of 0/1' },
  anomaly_rate: { kind: 'number', default: 0.05, help: 'fraction of points flagged (threshold = quantile 1 − rate)' },
  target: { kind: 'number', default: 0.9, help: 'ESS score with point adjustment to exceed' },
  seed: { kind: 'int', default: 0, help: 'seed of the random-score baseline' },
  json: { kind: 'boolean', default: false, help: 'print the full report as JSON' },
});

export async function run(argv: string[]): Promise<number> {
  const options = parseCommandArgs(
    argv,
    SPECS,
    'anomaly-lab score-steps --run <run dir> --labels <npy> [--anomaly_rate 0.05] [--target 0.9] [--json]',
    summary,
  );
  if (!options) return 0;
  const anomalyRate = options.anomaly_rate;
  const target = options.target;
  checkFlags(() => checkScoreStepsOptions({ anomalyRate, target }));
  // Progress on stderr; Ctrl-C stops after the current step and prints the steps scored so far
  // (a complete report for those steps), then one line saying so; exit 130.
  const tty = process.stderr.isTTY;
  const t0 = Date.now();
  let lastProgress = 0;
  const report = await withSigint(
    'score-steps',
    (stop) =>
      scoreStepsAsync(options.run, options.labels, {
        anomalyRate,
        target,
        seed: options.seed,
        signal: stop.signal,
        onProgress: (done, total) => {
          // Quiet for short runs (the first second); then a line every 2 s (every 0.5 s on a terminal).
          const now = Date.now();
          if (now - t0 < 1000 || (lastProgress > 0 && done < total && now - lastProgress < (tty ? 500 : 2000))) return;
          lastProgress = now;
          process.stderr.write(`${tty ? '\r' : ''}score-steps: ${done}/${total} steps scored${tty && done < total ? '' : '\n'}`);
        },
      }),
    (e) => {
      const partial = e.partial as StepScoreReport | undefined;
      if (tty && lastProgress > 0) process.stderr.write('\n');
      if (!partial || partial.steps.length === 0) return `no step scored (${e.total ?? 0} saved); nothing printed`;
      printReport(partial, options.json, anomalyRate, target, { done: partial.steps.length, total: e.total ?? partial.steps.length });
      return `printed the ${partial.steps.length} of ${e.total} steps scored so far (complete for those steps; the first step reaching the target is among them only)`;
    },
  );
  printReport(report, options.json, anomalyRate, target);
  return 0;
}

function printReport(
  report: StepScoreReport,
  json: boolean,
  anomalyRate: number,
  target: number,
  interrupted?: { done: number; total: number },
): void {
  if (json) {
    const out = interrupted ? { ...report, interrupted: { steps_scored: interrupted.done, steps_saved: interrupted.total } } : report;
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const lines = [
    `run ${report.run}: ${report.steps.length} steps, labels ${report.labels} (${formatPercent(report.label_rate, 2)} anomalous), anomaly rate ${rateText(anomalyRate)}`,
    ['step', 'ESS(PA)', 'F1(PA)', 'F1', 'bestF1', 'PA%K-AUC'].map((h, i) => h.padStart(i === 0 ? 6 : 10)).join(''),
  ];
  for (const s of report.steps) {
    lines.push(
      String(s.step).padStart(6) +
        [s.ess_score_pa, s.with_pa.f1, s.without_pa.f1, s.best_without_pa.f1, s.pa_k.auc]
          .map((v) => formatPercent(v, 2).padStart(10))
          .join('') +
        (s.reaches_target ? '  *' : ''),
    );
  }
  const r = report.random_with_pa;
  lines.push(
    `random scores with PA on the same labels: ESS ${formatPercent(r.ess_score, 2)}, F1 ${formatPercent(r.f1, 2)} (point adjustment alone earns this much)`,
  );
  lines.push(
    report.first_step_reaching_target === null
      ? `no step exceeds ESS(PA) ${target}`
      : `first step with ESS(PA) > ${target}: ${report.first_step_reaching_target}`,
  );
  if (interrupted) lines.push(`interrupted: ${interrupted.done} of ${interrupted.total} saved steps scored`);
  process.stdout.write(lines.join('\n') + '\n');
}
