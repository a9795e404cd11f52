/**
 * Issue 3 acceptance experiment (run once, late, in the background: it takes ~30-60 min on the
 * shared 2-core machine):
 *
 *   npm run build:lib && tools/experiments/run.sh ess [--quick] [--out runs/experiments/ess]
 *
 * (a) Workshop AnomalyBERT (64 tokens × patch 8, width 64, 2 layers) trained on several
 *     panli-clean days on wasm; evaluated on a synthetic test set made from another day. Best F1
 *     WITHOUT point adjustment vs the z-score and first-difference baselines; PA figures beside
 *     random-score PA and the PA%K AUC.
 * (b) Transfer: the (a) checkpoint fine-tuned on jecheon (voltage, current; embedding
 *     re-initialised) vs the same model trained from scratch, same steps, lr and seed; both curves.
 *
 * Writes docs/experiments.md (generated section) and docs/experiments.json. Every number in them
 * comes from this run; nothing is copied by hand. Test sets are synthesised in the scaled [0, 1]
 * space of the training scaler (the synthesis assumes [0, 1]) and handed to training in raw units,
 * so the checkpoints carry a scaler that applies to raw data.
 *
 * This file: the command line and the main run; follow-ups in variants.ts, rendering in render.ts,
 * the results' types in results.ts, the shared protocol (data, settings, evaluation) in protocol.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend, LIBRARY_VERSION, trainAnomalyBert } from 'anomaly-lab';
import { defineOptions } from 'anomaly-lab/core';
import { fitBaselineStats, firstDifferenceBaseline, zScoreBaseline } from 'anomaly-lab/evaluation';
import { writeFileAtomic } from 'anomaly-lab/io';
import { createTerminalReporter } from 'anomaly-lab/training';
import { toolArgs } from '../../common/args';
import {
  curveOf,
  evaluate,
  JECHEON,
  JECHEON_COLUMNS,
  loadConditions,
  loadSamples,
  log,
  PANLI,
  PANLI_COLUMNS,
  prepareA,
  prepareB,
  randomRow,
  REDO,
  REPO,
  scoresOf,
  TRANSFER_SETTINGS,
  WORKSHOP,
  WORKSHOP_MODEL,
  type EssArgs,
} from './protocol';
import { rerender } from './render';
import type { DetectorRow, EssResults } from './results';
import { analyze, annotate, dataStats, measureThroughput, namedVariant, repeatB, summariseEarlier } from './variants';

const ESS = {
  name: 'ess',
  usage: 'tools/experiments/run.sh ess [--quick] [--out runs/experiments/ess] | --<follow-up> <results.json> ...',
  summary:
    'Issue 3 acceptance: (a) workshop AnomalyBERT on panli-clean vs baselines, (b) transfer to jecheon vs scratch; follow-ups merge into a results.json and re-render docs/experiments.md.',
  specs: defineOptions({
    quick: { kind: 'boolean', default: false, help: 'one training day, 40/20 steps, no docs (smoke run)' },
    out: { kind: 'string', default: path.join('runs', 'experiments', 'ess'), help: 'directory of the run (results.json, run directories)' },
    steps_a: { kind: 'int', default: 2500, min: 1, help: 'training steps of (a) (and of --variant/--measure)' },
    steps_b: { kind: 'int', default: 400, min: 1, help: 'training steps of each arm of (b)' },
    docs: { kind: 'boolean', default: true, help: 'write docs/experiments.{md,json} (--no_docs: results.json only)' },
    render: { kind: 'string', help: 're-render the docs from this results.json (no training)' },
    analyze: { kind: 'string', help: 'add the per-anomaly-type analysis to this results.json, then render' },
    bench: { kind: 'string', help: 'with --render: merge this `npm run -s bench -- train` output' },
    repeat_b: { kind: 'string', help: 'repeat (b) with --seeds_b and merge into this results.json' },
    seeds_b: { kind: 'list', default: ['9', '10'], help: 'training seeds of --repeat_b' },
    variant: { kind: 'string', help: 'train a named variant of (a) (--name, --set) and merge it into this results.json' },
    measure: { kind: 'string', help: 'training-only throughput of (a) with the --set overrides (data from this results.json)' },
    name: { kind: 'string', help: 'short name of the variant (run directory a-<name>)' },
    set: { kind: 'list', default: [], help: 'training option overrides of a variant: key=value,…' },
    summaries: { kind: 'int', default: 8, min: 1, help: 'test-set summaries of a variant run' },
    why: { kind: 'string', help: "a variant's rationale, rendered above its table" },
    annotate: { kind: 'string', help: 'set --why of the variant --name in this results.json and re-render' },
    data_stats: { kind: 'string', help: "add first-difference statistics of (a)'s training data to this results.json" },
    earlier: { kind: 'string', help: 'results.json of the earlier attempts, summarised in the docs' },
    merge_variants: { kind: 'list', help: 'with --render: results.json files whose variants are merged in' },
  }),
};

/** The parsed command line, resolved: paths absolute, seeds as numbers, `--set` as an object. */
function essArgs(argv: string[]): EssArgs {
  const { options: o } = toolArgs(ESS, argv);
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.resolve(p));
  const overrides: Record<string, number | string> = {};
  for (const kv of o.set) {
    const [key, value] = kv.split('=');
    if (!key || value === undefined) throw new Error(`--set: expected key=value[,key=value…], got "${kv}"`);
    overrides[key] = Number.isFinite(Number(value)) ? Number(value) : value;
  }
  const seedsB = o.seeds_b.map(Number);
  if (seedsB.some((s) => !Number.isSafeInteger(s))) throw new Error(`--seeds_b: expected integers, got "${o.seeds_b.join(',')}"`);
  return {
    quick: o.quick,
    out: path.resolve(o.out),
    stepsA: o.quick ? Math.min(o.steps_a, 40) : o.steps_a,
    stepsB: o.quick ? Math.min(o.steps_b, 20) : o.steps_b,
    docs: o.quick ? false : o.docs,
    render: abs(o.render),
    analyze: abs(o.analyze),
    bench: abs(o.bench),
    repeatB: abs(o.repeat_b),
    seedsB,
    variant: abs(o.variant),
    variantName: o.name,
    overrides,
    summaries: o.summaries,
    measure: abs(o.measure),
    why: o.why,
    annotate: abs(o.annotate),
    dataStats: abs(o.data_stats),
    earlier: abs(o.earlier),
    mergeVariants: o.merge_variants?.map((f) => path.resolve(f)),
  };
}

async function main(): Promise<void> {
  const args = essArgs(process.argv.slice(2));
  if (args.render) return rerender(args.render, args);
  if (args.analyze) return analyze(args.analyze);
  if (args.repeatB) return repeatB(args.repeatB, args);
  if (args.variant) return namedVariant(args.variant, args);
  if (args.dataStats) return dataStats(args.dataStats);
  if (args.annotate) return annotate(args.annotate, args);
  if (args.measure) return measureThroughput(args.measure, args);
  const backend = await initBackend({ backend: process.env.ANOMALY_LAB_BACKEND ?? 'wasm' });
  fs.mkdirSync(args.out, { recursive: true });
  const startedAt = new Date().toISOString();
  loadSamples.push(os.loadavg()[0]);

  // ---- (a) panli-clean -------------------------------------------------------------------------
  const days = fs
    .readdirSync(PANLI)
    .filter((f) => f.endsWith('.parquet'))
    .sort();
  if (days.length < 3) throw new Error(`${PANLI}: expected several days of parquet files, found ${days.length}`);
  const trainDays = args.quick ? days.slice(0, 1) : days.slice(0, days.length - 2);
  const testDay = days[days.length - 1];
  log(`(a) train days ${trainDays.join(', ')}; test day ${testDay}`);
  const { train: panliTrain, scaler: scalerA, synth: synthA, test: testA } = await prepareA(trainDays, testDay);
  const C = PANLI_COLUMNS.length;
  const anomalousA = synthA.labels.reduce((n, v) => n + v, 0);
  log(
    `(a) test set: ${testA.length} rows, ${synthA.intervals.length} anomalies, ${anomalousA} anomalous points (${((100 * anomalousA) / testA.length).toFixed(2)}%)`,
  );

  const workshop = WORKSHOP;
  // Pure training rate (steps/s without the summaries' test-set estimation), sampled from onProgress.
  const reporterA = createTerminalReporter();
  let stepRateA = 0;
  const trainOnlyA = { seconds: 0, last: Date.now(), steps: 0 };
  const summaryA = args.quick ? args.stepsA : Math.max(1, Math.round(args.stepsA / 8));
  const t0 = Date.now();
  const runA = await trainAnomalyBert({
    existing: REDO,
    train: panliTrain,
    test: testA,
    testLabels: synthA.labels,
    out: path.join(args.out, 'a-panli'),
    options: { ...workshop, max_steps: args.stepsA, summary_steps: summaryA },
    backend: backend.name,
    onProgress: (p) => {
      const now = Date.now();
      // Steps that follow a summary include its estimation time; count only plain steps.
      if (p.step % summaryA !== 0) {
        trainOnlyA.seconds += (now - trainOnlyA.last) / 1000;
        trainOnlyA.steps += 1;
      }
      trainOnlyA.last = now;
      stepRateA = p.stepsPerSec;
      reporterA.onProgress(p);
    },
    onSummary: (e) => {
      trainOnlyA.last = Date.now();
      reporterA.onSummary(e);
    },
    inputPaths: [
      ...trainDays.map((d) => ({ path: path.join(PANLI, d), role: 'train' })),
      { path: path.join(PANLI, testDay), role: 'test(synth source)' },
    ],
    log,
  });
  const wallA = (Date.now() - t0) / 1000;
  const trainTimeA = runA.history[runA.history.length - 1].elapsed_s;
  const finalA = runA.history[runA.history.length - 1];

  // Baselines on exactly the same (scaled) test values and labels.
  const trainScaled = scalerA.transform(panliTrain.values, C);
  const stats = fitBaselineStats(trainScaled, C, PANLI_COLUMNS);
  const rowsA: DetectorRow[] = [
    evaluate(`AnomalyBERT workshop (final step ${runA.finalStep})`, scoresOf(runA, runA.finalStep), synthA.labels),
    evaluate('z-score distance (max over columns)', zScoreBaseline(synthA.values, C, stats), synthA.labels),
    evaluate('first-difference magnitude (max over columns)', firstDifferenceBaseline(synthA.values, C, stats), synthA.labels),
    randomRow(synthA.labels, 1),
  ];

  // ---- (b) jecheon transfer vs scratch --------------------------------------------------------
  const jFiles = fs
    .readdirSync(JECHEON)
    .filter((f) => f.endsWith('.csv'))
    .sort();
  const jTestFile = jFiles[jFiles.length - 1];
  const jTrainFiles = jFiles.slice(0, jFiles.length - 1);
  log(`(b) jecheon train ${jTrainFiles.join(', ')}; test ${jTestFile}`);
  const { train: jTrain, scaler: scalerB, synth: synthB, test: testB } = await prepareB(jTrainFiles, jTestFile);
  const summaryB = args.quick ? args.stepsB : Math.max(1, Math.round(args.stepsB / 6));
  const common = {
    train: jTrain,
    test: testB,
    testLabels: synthB.labels,
    backend: backend.name,
    inputPaths: [
      ...jTrainFiles.map((f) => ({ path: path.join(JECHEON, f), role: 'train' })),
      { path: path.join(JECHEON, jTestFile), role: 'test(synth source)' },
    ],
    log,
  };
  const sharedB = { ...TRANSFER_SETTINGS, seed: 8, max_steps: args.stepsB, summary_steps: summaryB };
  const transfer = await trainAnomalyBert({
    ...common,
    existing: REDO,
    out: path.join(args.out, 'b-jecheon-transfer'),
    options: { ...sharedB, checkpoint: runA.finalCheckpoint },
  });
  const scratch = await trainAnomalyBert({
    existing: REDO,
    ...common,
    out: path.join(args.out, 'b-jecheon-scratch'),
    options: { ...sharedB, ...WORKSHOP_MODEL },
  });
  const statsB = fitBaselineStats(scalerB.transform(jTrain.values, 2), 2, JECHEON_COLUMNS);
  const rowsB: DetectorRow[] = [
    evaluate(`fine-tuned from (a) (final step ${transfer.finalStep})`, scoresOf(transfer, transfer.finalStep), synthB.labels),
    evaluate(`from scratch (final step ${scratch.finalStep})`, scoresOf(scratch, scratch.finalStep), synthB.labels),
    evaluate('z-score distance (max over columns)', zScoreBaseline(synthB.values, 2, statsB), synthB.labels),
    evaluate('first-difference magnitude (max over columns)', firstDifferenceBaseline(synthB.values, 2, statsB), synthB.labels),
    randomRow(synthB.labels, 1),
  ];

  const results: EssResults = {
    generated: new Date().toISOString(),
    started: startedAt,
    library_version: LIBRARY_VERSION,
    backend: backend.name,
    node: process.version,
    load: loadConditions(),
    a: {
      train_days: trainDays,
      test_day: testDay,
      train_rows: panliTrain.length,
      test_rows: testA.length,
      anomalies: synthA.intervals.length,
      anomalous_points: anomalousA,
      options: runA.options,
      run_dir: path.relative(REPO, runA.runDir),
      training_wall_s: trainTimeA,
      total_wall_s: wallA,
      steps_per_s_overall: args.stepsA / trainTimeA,
      steps_per_s_training_only: trainOnlyA.steps / trainOnlyA.seconds,
      training_only_s_estimate: args.stepsA / (trainOnlyA.steps / trainOnlyA.seconds),
      last_reported_steps_per_s: stepRateA,
      final: finalA,
      detectors: rowsA,
      curve: curveOf(runA.history),
    },
    b: {
      train_files: jTrainFiles,
      test_file: jTestFile,
      train_rows: jTrain.length,
      test_rows: testB.length,
      anomalies: synthB.intervals.length,
      anomalous_points: synthB.labels.reduce((n, v) => n + v, 0),
      steps: args.stepsB,
      parent: runA.finalCheckpoint,
      transfer_run: path.relative(REPO, transfer.runDir),
      scratch_run: path.relative(REPO, scratch.runDir),
      detectors: rowsB,
      transfer_curve: curveOf(transfer.history),
      scratch_curve: curveOf(scratch.history),
    },
  };
  if (args.earlier) results.earlier = summariseEarlier(args.earlier);
  const json = JSON.stringify(results, null, 2) + '\n';
  writeFileAtomic(path.join(args.out, 'results.json'), json);
  // Per-type analysis, test labels beside the runs, docs (results.json is updated in place).
  if (args.docs) await analyze(path.join(args.out, 'results.json'));
  log(`done: ${path.join(args.out, 'results.json')}${args.docs ? ' and docs/experiments.md' : ''}`);
}

main().catch((e) => {
  process.stderr.write(`experiment failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
