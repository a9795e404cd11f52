/**
 * `npm run demo`: the main job end to end on embedded generated data, in a few minutes on a CPU.
 *
 *   1. generate battery data for two sites (A: panli-like 5 columns, B: jecheon-like 4 columns) and
 *      labelled synthetic-anomaly test sets, written as .npy files;
 *   2. train AnomalyBERT on site A (the `anomaly-lab train` command, so the manifest records how to
 *      re-run it);
 *   3. transfer to site B from A's run directory with the default recipe (`--column_map`: voltage and
 *      current keep A's embedding weights, B's other columns start fresh) and train the same model
 *      from scratch with the same lr, steps and seed for comparison;
 *   4. detect: score B's test set with the transferred and the scratch checkpoint as a plain
 *      `anomaly-lab estimate` does (each run's recorded estimation settings: the recipe's
 *      RECOMMENDED_TRANSFER.estimation for the transfer, the scratch ones for scratch); score every saved step (the
 *      seed's point-adjusted ESS score, first step above 90%, honest F1 without PA), beside the
 *      first-difference baseline and random scores with PA; every figure that loses to either is
 *      labelled, and the steps where transfer is (or is not) ahead of scratch are printed;
 *   5. the power-system pipeline on generated three-phase data (detector + classifier trained
 *      here, detection, classification, exports);
 *   6. an offline HTML + markdown report per run; prints where everything is.
 *
 * Usage: npm run demo -- [--out demo-output] [--quick] [--backend auto|wasm|cpu]  (tools/dist/demo/index.js)
 * `--quick` shrinks every stage (CI smoke run, ~1 minute).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  BACKEND_CHOICES,
  VIEWER_FILE_SUFFIX,
  analyzePowerData,
  anomalyBertViewerBundle,
  estimateScores,
  initBackend,
  loadCheckpoint,
  powerViewerBundle,
  prepareMetrics,
  scoreSteps,
  sliceSeries,
  synthesizeTestSet,
  viewerBundleToJSON,
  writeRunReport,
  type Series,
  type StepScoreReport,
} from 'anomaly-lab';
import { defineOptions, ewmaSmooth } from 'anomaly-lab/core';
import { firstDifferenceBaseline, fitBaselineStats } from 'anomaly-lab/evaluation';
import { MinMaxScaler, writeNpy } from 'anomaly-lab/io';
import { resolveCheckpointPath } from 'anomaly-lab/anomalybert';
import { generateEssSiteA, generateEssSiteB } from 'anomaly-lab/notebook';
import {
  POWER_SIGNALS,
  WORKSHOP_AUTOENCODER,
  faultDistribution,
  generatePowerData,
  runPowerExperiment,
  writePowerResults,
} from 'anomaly-lab/power';
import { formatNumber, textTable, type Cell } from 'anomaly-lab/render';
import { writeManifest } from 'anomaly-lab/runs';
import { RECOMMENDED_TRANSFER, resolveEstimation } from 'anomaly-lab/training';
import { toolArgs } from '../common/args';

const DEMO = {
  name: 'demo',
  usage: 'npm run demo -- [--out demo-output] [--quick] [--backend auto|wasm|cpu]',
  summary: 'The main job end to end on embedded generated data: train, transfer, detect, score, the power pipeline, reports.',
  specs: defineOptions({
    out: { kind: 'string', default: 'demo-output', help: 'output directory (its data/ and runs/ are replaced)' },
    quick: { kind: 'boolean', default: false, help: 'shrink every stage (CI smoke run, ~1 minute)' },
    backend: { kind: 'string', choices: BACKEND_CHOICES, default: process.env.ANOMALY_LAB_BACKEND ?? 'auto', help: 'tfjs backend' },
  }),
};

const say = (line: string): void => {
  process.stdout.write(line + '\n');
};

/** Write one site's train/test/labels as .npy files (scaled to [0, 1] by the training part). */
function prepareSite(
  site: Series,
  dir: string,
  name: string,
  seed: number,
): {
  train: string;
  test: string;
  labels: string;
  trainValues: Float32Array;
  testSeries: Series;
  testRaw: Series;
  labelValues: Uint8Array;
  anomalies: number;
} {
  const C = site.columns.length;
  const split = Math.floor((site.length * 2) / 3);
  const trainRaw = sliceSeries(site, 0, split);
  const testRaw = sliceSeries(site, split, site.length);
  const scaler = MinMaxScaler.fit(trainRaw);
  const train = scaler.transform(trainRaw.values, C);
  const testClean = { ...testRaw, values: scaler.transform(testRaw.values, C) };
  const syn = synthesizeTestSet(testClean, { seed, anomalies: 8, maxLengthFraction: 0.03 });
  // The training data as CSV with a header: its column names travel into the checkpoint, which
  // is what --column_map maps by (an .npy has no names).
  const files = {
    train: path.join(dir, `${name}-train.csv`),
    test: path.join(dir, `${name}-test.npy`),
    labels: path.join(dir, `${name}-test_label.npy`),
  };
  const lines = [site.columns.join(',')];
  for (let t = 0; t < trainRaw.length; t++) lines.push(Array.from(train.subarray(t * C, (t + 1) * C), (v) => String(v)).join(','));
  fs.writeFileSync(files.train, lines.join('\n') + '\n');
  writeNpy(files.test, syn.values, [testRaw.length, C]);
  writeNpy(files.labels, syn.labels, [testRaw.length]);
  fs.writeFileSync(path.join(dir, `${name}-columns.json`), JSON.stringify({ columns: site.columns, scaler: scaler.toJSON() }, null, 1));
  return {
    ...files,
    trainValues: train,
    testSeries: { ...testClean, values: syn.values },
    testRaw,
    labelValues: syn.labels,
    anomalies: syn.intervals.length,
  };
}

/**
 * `anomaly-lab train …` as a user runs it: the real CLI in its own process (the demo is a tool
 * on top of the library and the CLI; nothing inside imports the CLI). Output streams through.
 */
function cli(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    // the installed package's bin, as `npx anomaly-lab` would run it
    const bin = path.join(path.dirname(require.resolve('anomaly-lab/package.json')), 'bin', 'anomaly-lab.js');
    const child = spawn(process.execPath, [bin, ...argv], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * The `train` flags every demo run shares, in this order: a prepared site's files, the run
 * directory, `between` (the source checkpoint of a transfer), `steps` steps with `summaries`
 * summaries, lr 1e-3 and `seed`.
 */
function runFlags(
  site: { train: string; test: string; labels: string },
  run: string,
  o: { steps: number; summaries: number; seed: number; between?: string[] },
): string[] {
  return [
    ...['--train', site.train, '--test', site.test, '--test_label', site.labels, '--out', run],
    ...(o.between ?? []),
    ...['--max_steps', String(o.steps), '--summary_steps', String(o.steps / o.summaries), '--lr', '1e-3', '--seed', String(o.seed)],
  ];
}

async function train(args: string[]): Promise<void> {
  const code = await cli(['train', ...args]);
  if (code !== 0) throw new Error(`demo: 'anomaly-lab train ${args.join(' ')}' failed with exit code ${code}`);
}

export async function runDemo(argv: string[] = process.argv.slice(2)): Promise<{ out: string; reports: string[] }> {
  const o = toolArgs(DEMO, argv).options;
  const t0 = Date.now();
  const out = path.resolve(o.out);
  const dataDir = path.join(out, 'data');
  const runs = path.join(out, 'runs');
  for (const d of [dataDir, runs]) fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const backend = await initBackend({ backend: o.backend });
  process.env.ANOMALY_LAB_BACKEND = backend.provider; // the train command runs on the same backend
  const steps = o.quick ? 40 : 250;
  const stepsB = o.quick ? 30 : 150;
  const days = o.quick ? 1 : 2;
  say(`Anomaly Lab demo → ${out} (backend ${backend.name}${o.quick ? ', quick mode' : ''})`);

  // 1 · data
  const siteA = generateEssSiteA({ days, sampleSeconds: 30, seed: 7 });
  const siteB = generateEssSiteB({ days, sampleSeconds: 30, seed: 11 });
  const a = prepareSite(siteA, dataDir, 'site-a', 7);
  const b = prepareSite(siteB, dataDir, 'site-b', 11);
  say(
    `1/6 data: site A ${siteA.length} rows × ${siteA.columns.length} (${siteA.columns.join(', ')}), site B ${siteB.length} rows × ${siteB.columns.length} (${siteB.columns.join(', ')}); ${a.anomalies} + ${b.anomalies} synthetic test anomalies`,
  );

  // 2 · train on site A (the CLI command: the manifest records it for `anomaly-lab reproduce`)
  // First-difference features (not in the original): what lets a small model beat simple baselines on BMS data (docs/experiments.md).
  const shape = ['--n_features', '32', '--patch_size', '4', '--d_embed', '32', '--n_layer', '2', '--n_head', '4', '--diff_features'];
  const common = ['--batch_size', '16', '--window_sliding', '16', '--scale', 'none'];
  const runA = path.join(runs, 'site-a');
  say(`2/6 training AnomalyBERT on site A (${steps} steps)…`);
  await train([...runFlags(a, runA, { steps, summaries: 5, seed: 7 }), ...shape, ...common]);
  fs.copyFileSync(a.labels, path.join(runA, 'test_label.npy'));

  // 3 · transfer to site B vs scratch: the default transfer recipe (a run directory + --column_map,
  // nothing else new), and the same model from scratch with the same lr, steps, seed and batches.
  const runB = path.join(runs, 'site-b-transfer');
  const runScratch = path.join(runs, 'site-b-scratch');
  const columnMap = 'voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT';
  say(
    `3/6 transfer to site B from run ${path.relative(out, runA)} (its final checkpoint) with --column_map ${columnMap} ` +
      `(state, dischargeAh start fresh; the default recipe: freeze schedule '${RECOMMENDED_TRANSFER.freeze_schedule || 'none'}', ` +
      `estimation stride ${RECOMMENDED_TRANSFER.estimation.window_sliding} + EWMA ${RECOMMENDED_TRANSFER.estimation.smoothing} recorded; ` +
      `--max_steps ${stepsB} instead of its ${RECOMMENDED_TRANSFER.max_steps} to keep the demo short), and from scratch; ${stepsB} steps each, lr 1e-3, seed 11…`,
  );
  await train([
    ...runFlags(b, runB, { steps: stepsB, summaries: 6, seed: 11, between: ['--checkpoint', runA, '--column_map', columnMap] }),
    ...common,
  ]);
  await train([...runFlags(b, runScratch, { steps: stepsB, summaries: 6, seed: 11 }), ...shape, ...common]);
  for (const r of [runB, runScratch]) fs.copyFileSync(b.labels, path.join(r, 'test_label.npy'));

  // 4 · detect and score, each final checkpoint as a plain `anomaly-lab estimate` scores it (the
  // estimation settings its run recorded; explicit flags would win there). A run directory
  // loads as its final checkpoint.
  const defaultScores = async (run: string): Promise<{ scores: Float32Array; what: string }> => {
    const loaded = await loadCheckpoint(run);
    try {
      const st = resolveEstimation(loaded.meta);
      const raw = await estimateScores(loaded.model, b.testSeries.values, b.testSeries.length, {
        batchSize: 16,
        windowSliding: st.window_sliding,
      });
      return {
        scores: st.smoothing > 0 ? ewmaSmooth(raw, st.smoothing) : raw,
        what: `stride ${st.window_sliding}${st.smoothing > 0 ? `, EWMA ${st.smoothing}` : ', raw'}`,
      };
    } finally {
      loaded.model.dispose();
    }
  };
  const transferB = await defaultScores(runB);
  const scratchB = await defaultScores(runScratch);
  const scoresB = transferB.scores;
  const ev = prepareMetrics(scoresB, b.labelValues);
  const bestPlain = ev.sweep({ pointAdjust: false });
  const bestPa = ev.sweep({ pointAdjust: true });
  const bundleB = anomalyBertViewerBundle({
    title: 'Demo: site B test set, AnomalyBERT transferred from site A',
    series: { ...b.testSeries, values: b.testRaw.values },
    scores: scoresB,
    labels: b.labelValues,
    rate: bestPlain.anomaly_rate,
    metrics: { best_without_pa: bestPlain, best_with_pa: bestPa },
    provenance: { source: siteB.source, checkpoint: path.relative(out, resolveCheckpointPath(runB)), tool: 'anomaly-lab demo' },
  });
  fs.writeFileSync(path.join(runB, `detection${VIEWER_FILE_SUFFIX}`), viewerBundleToJSON(bundleB));
  const scored: Array<[string, StepScoreReport]> = [
    ['site A', scoreSteps(runA, a.labels)],
    ['site B transfer', scoreSteps(runB, b.labels)],
    ['site B scratch', scoreSteps(runScratch, b.labels)],
  ];
  const rows: Cell[][] = scored.map(([name, r]) => {
    const last = r.steps[r.steps.length - 1];
    return [
      name,
      r.first_step_reaching_target ?? 'not reached',
      last.ess_score_pa,
      last.best_without_pa.f1,
      last.best_with_pa.f1,
      r.random_with_pa.f1,
    ];
  });
  // The simple baselines on site B's test set: every figure below is read against them.
  const fdOf = (site: typeof a): number => {
    const C = site.testSeries.columns.length;
    return prepareMetrics(
      firstDifferenceBaseline(site.testSeries.values, C, fitBaselineStats(site.trainValues, C)),
      site.labelValues,
    ).sweep({ pointAdjust: false }).f1;
  };
  const fdA = fdOf(a);
  const fdB = fdOf(b);
  // The baseline with the smoothing it was given in the transfer protocol (EWMA 0.5, chosen on jecheon 05-17).
  const fdBSmoothed = prepareMetrics(
    ewmaSmooth(
      firstDifferenceBaseline(
        b.testSeries.values,
        b.testSeries.columns.length,
        fitBaselineStats(b.trainValues, b.testSeries.columns.length),
      ),
      0.5,
    ),
    b.labelValues,
  ).sweep({ pointAdjust: false }).f1;
  const randomPa = scored[1][1].random_with_pa.f1;
  for (let k = 0; k < rows.length; k++) {
    const fd = k === 0 ? fdA : fdB;
    const [f1, pa] = [rows[k][3] as number, rows[k][4] as number];
    const warn = [
      f1 < fd ? `F1 below the first-difference baseline (${formatNumber(fd)})` : '',
      pa <= scored[k][1].random_with_pa.f1 ? 'PA F1 not above random with PA' : '',
    ].filter(Boolean);
    rows[k].push(warn.join('; ') || '–');
  }
  say(
    "4/6 detection and scoring (ESS score with PA at rate 0.05, the seed's measure; F1 = best over the rate sweep, without PA unless marked):",
  );
  say(
    textTable(['run', 'first step ESS(PA) > 0.9', 'last ESS (PA)', 'last F1', 'last F1 (PA)', 'random F1 (PA)', 'warning'], rows).replace(
      /^/gm,
      '    ',
    ),
  );
  // Transfer vs scratch step by step (same steps, lr, seed, batches): where the benefit holds, and where not.
  const tr = scored[1][1].steps;
  const sc = scored[2][1].steps;
  const curve: Cell[][] = tr.map((t, j) => [
    t.step,
    t.best_without_pa.f1,
    sc[j]?.best_without_pa.f1 ?? NaN,
    t.best_without_pa.f1 > (sc[j]?.best_without_pa.f1 ?? Infinity) ? 'transfer' : 'scratch',
    [t.best_without_pa.f1 < fdB ? 'transfer' : '', (sc[j]?.best_without_pa.f1 ?? Infinity) < fdB ? 'scratch' : '']
      .filter(Boolean)
      .join(', ') || '–',
  ]);
  say(
    `    site B, F1 without PA per saved step (first-difference baseline ${formatNumber(fdB)}, random scores with PA ${formatNumber(randomPa)}):`,
  );
  say(textTable(['step', 'transfer', 'scratch', 'ahead', 'below first-difference'], curve).replace(/^/gm, '      '));
  const ahead = tr.filter((t, j) => j > 0 && sc[j] && t.best_without_pa.f1 > sc[j].best_without_pa.f1).map((t) => t.step);
  say(
    ahead.length > 0
      ? `    Transfer is ahead of scratch at step(s) ${ahead.join(', ')} of ${stepsB} (settings above: --column_map with the default recipe, lr 1e-3, same seed and batches)` +
          `${ahead.length < tr.length - 1 ? '; elsewhere scratch is level or ahead' : ''}.`
      : `    Transfer is NOT ahead of scratch at any saved step in this run (settings above).`,
  );
  // The final step as a user scores it by default (each run's recorded estimation settings).
  const f1T = ev.sweep({ pointAdjust: false }).f1;
  const f1S = prepareMetrics(scratchB.scores, b.labelValues).sweep({ pointAdjust: false }).f1;
  const fdBest = Math.max(fdB, fdBSmoothed);
  const mark = (x: number): string => (x < fdBest ? ' (below the first-difference baseline)' : '');
  say(
    `    site B final step, scored as a plain \`anomaly-lab estimate\` does: transfer ${formatNumber(f1T)}${mark(f1T)} (${transferB.what}), ` +
      `scratch ${formatNumber(f1S)}${mark(f1S)} (${scratchB.what}); first-difference baseline ${formatNumber(fdB)} raw, ${formatNumber(fdBSmoothed)} with EWMA 0.5 (F1 without PA). ` +
      `${f1T > f1S ? 'Transfer is ahead of scratch here' : 'Transfer is NOT ahead of scratch here'}; it is ${f1T > fdBest ? 'above' : 'NOT above'} the first-difference baseline.`,
  );

  // 5 · power system
  say(`5/6 power-system pipeline on generated three-phase data (detector + classifier trained here)…`);
  const experiment = await runPowerExperiment({
    seed: 3,
    synth: { sampleRate: 5000 },
    normalDuration: o.quick ? 1 : 2,
    detector: { ...WORKSHOP_AUTOENCODER, epochs: o.quick ? 1 : 5, maxWindows: o.quick ? 200 : 800 },
    classifierRecordings: o.quick ? 3 : 6,
    faultsPerRecording: 5,
    testRecordings: 1,
    testDuration: 2,
    trainDuration: 2,
    nEstimators: o.quick ? 10 : 40,
  });
  const rec = generatePowerData({ seed: 5, duration: 2, sampleRate: 5000, nFaults: 5 });
  const analysis = await analyzePowerData(rec.data, experiment.models, { threshold: experiment.threshold, maxGapSamples: 250 });
  const runP = path.join(runs, 'power');
  fs.mkdirSync(runP, { recursive: true });
  const exported = writePowerResults(runP, analysis, rec.data, {
    detector: 'LSTM autoencoder trained by the demo',
    classifier: 'random forest trained by the demo',
  });
  const C = rec.data.signals.length;
  const vals = new Float32Array(rec.data.length * C);
  for (let i = 0; i < rec.data.length; i++) for (let j = 0; j < C; j++) vals[i * C + j] = rec.data.signals[j][i];
  const powerBundle = powerViewerBundle({
    title: 'Demo: generated three-phase recording',
    time: rec.data.time,
    columns: [...POWER_SIGNALS],
    values: vals,
    mse: analysis.detection.mse,
    sequenceLength: analysis.detection.sequenceLength,
    percentile: analysis.params.percentile,
    maxGapSamples: analysis.params.max_gap_samples,
    // the experiment's fixed MSE threshold: the viewer applies it as is
    threshold: analysis.detection.threshold,
    thresholdMode: 'value',
    intervals: analysis.predictions.map((p) => ({
      start: p.start_time,
      end: p.end_time,
      fault: p.predicted_fault,
      confidence: p.confidence,
    })),
    classes: analysis.classes,
    featureImportances: {
      names: experiment.featureImportance.map((f) => f.feature),
      values: experiment.featureImportance.map((f) => f.permutation),
    },
    provenance: { source: rec.data.source, tool: 'anomaly-lab demo' },
  });
  fs.writeFileSync(path.join(runP, `detection${VIEWER_FILE_SUFFIX}`), viewerBundleToJSON(powerBundle));
  // Ground truth of the recording, matched by overlap: how many injected faults were found.
  const found = rec.faults.filter((f) => analysis.mergedIntervals.some(([s, e]) => s < f.end && f.start < e)).length;
  await writeManifest(runP, {
    kind: 'power-detect',
    config: {
      ...analysis.params,
      threshold: analysis.detection.threshold,
      data: rec.data.source,
      generator: { seed: 5, duration: 2, sampleRate: 5000, nFaults: 5 },
    },
    seed: 3,
    metrics: {
      injected_faults: rec.faults.length,
      faults_found: found,
      intervals: analysis.mergedIntervals.length,
      experiment_recall: experiment.recall,
      experiment_accuracy: experiment.accuracy,
      experiment_false_alarms: experiment.falseAlarms,
    },
    outputs: exported.map((f) => path.relative(runP, f)),
  });
  const dist = faultDistribution(analysis)
    .map((f) => `${f.fault}×${f.count}`)
    .join(', ');
  say(
    `    ${found}/${rec.faults.length} injected faults found; ${analysis.mergedIntervals.length} intervals classified (${dist || 'none'}); held-out experiment: recall ${formatNumber(experiment.recall)}, fault-type accuracy ${formatNumber(experiment.accuracy)}, false alarms ${experiment.falseAlarms}`,
  );

  // 6 · reports
  const reports: string[] = [];
  for (const [dir, title] of [
    [runA, 'Demo: AnomalyBERT on site A'],
    [runB, 'Demo: transfer to site B'],
    [runScratch, 'Demo: site B from scratch'],
    [runP, 'Demo: power-system fault detection'],
  ] as Array<[string, string]>) {
    reports.push((await writeRunReport(dir, { title })).html);
  }
  say('6/6 reports (offline HTML; markdown beside each):');
  for (const r of reports) say(`    ${path.relative(process.cwd(), r)}`);
  say(
    `Viewer bundles (*${VIEWER_FILE_SUFFIX}, open in JupyterLab with the extension): ${path.relative(process.cwd(), path.join(runB, `detection${VIEWER_FILE_SUFFIX}`))}, ${path.relative(process.cwd(), path.join(runP, `detection${VIEWER_FILE_SUFFIX}`))}`,
  );
  say(`Re-run and check a training run: node kernel-lib/bin/anomaly-lab.js reproduce --manifest ${path.relative(process.cwd(), runA)}`);
  say(`Done in ${Math.round((Date.now() - t0) / 1000)} s.`);
  return { out, reports };
}

if (require.main === module) {
  runDemo().catch((e: Error) => {
    process.stderr.write(`demo failed: ${e.message}\n`);
    if (process.env.ANOMALY_LAB_DEBUG) process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
}
