// %% [markdown]
// # 4 · Scoring and reporting
//
// How good is a detector, really? Starting from notebook 1's site-A test scores and labels:
// metric sweeps over the anomaly rate with and without point adjustment (PA), what random scores
// reach, PA%K (how much of an interval must be found before it counts), EWMA smoothing of the
// scores, the first training step that reaches 90%, and finally the experiment report.
//
// Needs notebook 1's run (`runs/01-site-a`).

// %%
import * as fs from 'fs';
import * as path from 'path';
import * as al from 'anomaly-lab';

const RUNS_DIR = path.resolve(process.env.ANOMALY_LAB_RUNS ?? 'runs');
const RUN_A = path.join(RUNS_DIR, '01-site-a');
if (!fs.existsSync(path.join(RUN_A, 'test_label.npy'))) throw new Error(`${RUN_A}: run notebook 01-anomalybert-ess first`);
const labels = al.evaluation.readLabels(path.join(RUN_A, 'test_label.npy'));
const stepFiles = al.evaluation.listStepScoreFiles(RUN_A);
const lastFile = stepFiles[stepFiles.length - 1];
const scores = al.evaluation.readStepScores(lastFile.file);
console.log(`${stepFiles.length} saved steps; scoring step ${lastFile.step}: ${scores.length} scores, ${labels.reduce((a, b) => a + b, 0)} labelled anomalous points`);

// %% [markdown]
// ## Sweeps with and without point adjustment
// Threshold = quantile(scores, 1 − rate), predicted = score > threshold; the sweep covers rates
// 0.001 … 0.300. The table lists every 10th rate; the chart shows all of them.

// %%
const ev = al.prepareMetrics(scores, labels);
const rates = al.sweepRates();
const sweepRows = Array.from(rates, (r) => ({ rate: r, plain: ev.atRate(r, false), pa: ev.atRate(r, true) }));
const random = Array.from(rates, (r) => al.core.randomScoresBaseline(labels, r, { seed: 0, pointAdjust: true }));
const sweepFrame = new (al.notebook.danfojs().DataFrame)({
  anomaly_rate: sweepRows.map((r) => r.rate),
  f1: sweepRows.map((r) => r.plain.f1),
  f1_pa: sweepRows.map((r) => r.pa.f1),
  ess_pa: sweepRows.map((r) => r.pa.ess_score),
  random_f1_pa: random.map((r) => r.f1),
});
al.showFrame(sweepFrame.iloc({ rows: Array.from({ length: 30 }, (_, k) => k * 10) }), { title: 'Rate sweep (every 10th rate)', maxRows: 30 });
al.showHtml(
  al.render.svgLineChart(
    [
      { name: 'F1', values: sweepRows.map((r) => r.plain.f1), color: '#1f77b4' },
      { name: 'F1 with PA', values: sweepRows.map((r) => r.pa.f1), color: '#ff7f0e' },
      { name: 'random F1 with PA', values: random.map((r) => r.f1), color: '#7f7f7f' },
    ],
    { title: 'F1 over the anomaly rate', xLabels: ['rate 0.001', 'rate 0.300'] },
  ),
  'F1 over the anomaly rate (see the table above)',
);
const best = ev.sweep({ pointAdjust: false });
const bestPa = ev.sweep({ pointAdjust: true });
al.showFrame(al.notebook.metricsFrame({ 'best without PA': best, 'best with PA': bestPa, 'random, with PA, at the PA rate': al.core.randomScoresBaseline(labels, bestPa.anomaly_rate, { seed: 0, pointAdjust: true }) }), { title: 'Best of the sweep' });

// %% [markdown]
// ## PA%K: how much of an interval must be detected?
// PA marks a labelled interval as found when ONE point is (K = 0%); requiring K% of its points
// interpolates towards no adjustment at all (K = 100%). The area under F1(K) is a fairer summary.

// %%
const paK = ev.paKCurve(bestPa.anomaly_rate);
al.showTable(['K (%)', 'precision', 'recall', 'F1'], paK.k.flatMap((k, i) => (k % 10 === 0 ? [[k, paK.precision[i], paK.recall[i], paK.f1[i]]] : [])), {
  title: `PA%K at rate ${bestPa.anomaly_rate}: area under F1(K) = ${paK.auc.toFixed(4)}`,
});

// %% [markdown]
// ## Smoothing the scores
// An exponentially weighted moving average suppresses single-point flickers before thresholding.

// %%
const weights = [0, 0.5, 0.8, 0.9, 0.95];
al.showTable(
  ['EWMA weight', 'best F1', 'rate', 'best F1 with PA', 'rate (PA)'],
  weights.map((w) => {
    const s = w > 0 ? al.core.ewmaSmooth(scores, w) : scores;
    const e = al.prepareMetrics(s, labels);
    const b = e.sweep({ pointAdjust: false });
    const bp = e.sweep({ pointAdjust: true });
    return [w, b.f1, b.anomaly_rate, bp.f1, bp.anomaly_rate];
  }),
  { title: 'Best F1 over the sweep after EWMA smoothing' },
);

// %% [markdown]
// ## Over training: the first step that reaches 90%
// The ESS seed's measure at every saved step (rate 5%, point-adjusted ESS score), with the honest
// numbers next to it.

// %%
const stepReport = al.scoreSteps(RUN_A, path.join(RUN_A, 'test_label.npy'), { anomalyRate: 0.05, target: 0.9 });
al.showTable(
  ['step', 'ESS (PA)', '> 0.9', 'F1', 'F1 (PA)', 'random F1 (PA)', 'PA%K AUC'],
  stepReport.steps.map((s) => [s.step, s.ess_score_pa, s.reaches_target ? 'yes' : '', s.without_pa.f1, s.with_pa.f1, s.random_with_pa.f1, s.pa_k.auc]),
  { title: `First step reaching 90%: ${stepReport.first_step_reaching_target ?? 'none within this run'}` },
);

// %% [markdown]
// ## The view and the report
// A viewer bundle with EWMA 0.9 pre-selected (the viewer can change it), then the run's offline
// HTML report and its markdown version.

// %%
const view = al.anomalyBertViewerBundle({
  title: `Site A, step ${lastFile.step}: scores with EWMA 0.9`,
  // (tslab 1.0 does not rewrite shorthand properties that name earlier cells' variables: spell them out)
  scores: scores,
  labels: labels,
  rate: best.anomaly_rate,
  ewma: 0.9,
  axis: { unit: 'index', label: 'test row' },
  metrics: { best_without_pa: best, best_with_pa: bestPa },
});
al.showViewer(view);
const report = await al.writeRunReport(RUN_A, { title: 'Scoring report — site A', anomalyRate: 0.05 });
const md = fs.readFileSync(report.markdown, 'utf8');
al.display({ 'text/markdown': md.split('\n## ').slice(0, 2).join('\n## '), 'text/plain': md.slice(0, 400) });
console.log(`HTML report: ${path.relative(process.cwd(), report.html)}`);
