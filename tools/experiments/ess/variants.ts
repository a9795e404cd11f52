/**
 * Follow-ups of an ESS run, each merged into its results.json and re-rendered into the docs:
 * `--analyze` (per anomaly type), `--repeat_b` (other seeds for (b)), `--variant` (a named variant
 * of (a) with option overrides), `--measure` (training-only throughput of some overrides),
 * `--data_stats` (why white noise is easy for the first-difference baseline), `--annotate` (a
 * variant's rationale), and the summary of the earlier attempts (`--earlier`).
 */
import * as os from 'os';
import * as path from 'path';
import { initBackend, trainAnomalyBert, type TrainOptions, type TrainResult } from 'anomaly-lab';
import type { SynthTestSet } from 'anomaly-lab/evaluation';
import { writeFileAtomic, writeNpy } from 'anomaly-lab/io';
import { createTerminalReporter } from 'anomaly-lab/training';
import {
  curveOf,
  detectorScores,
  evaluate,
  JECHEON_COLUMNS,
  loadConditions,
  loadSamples,
  log,
  PANLI_COLUMNS,
  perTypeDetection,
  prepareA,
  prepareB,
  REDO,
  REPO,
  scoresOf,
  scoresOfRun,
  trainingTimer,
  TRANSFER_SETTINGS,
  WORKSHOP,
  WORKSHOP_MODEL,
  type EssArgs,
  type Prepared,
} from './protocol';
import { saveResults } from './render';
import { readResults, upsertVariant, type DataStat, type EarlierRow, type EarlierSummary, type EdgeProfile, type Variant } from './results';

/**
 * Post-hoc analysis of a finished run (cheap: no training): which anomaly types each detector finds
 * at its best no-PA rate; also saves the test labels and intervals beside the runs (for
 * `anomaly-lab score-steps`). Updates results.json and re-renders the docs.
 */
export async function analyze(resultsFile: string): Promise<void> {
  const r = readResults(resultsFile);
  const pa = await prepareA(r.a.train_days, r.a.test_day);
  const finalA = r.a.final.step;
  const scoresA = detectorScores(pa, [scoresOfRun(r.a.run_dir, finalA)], PANLI_COLUMNS);
  r.a.per_type = r.a.detectors.map((d, i) => ({
    detector: d.detector,
    ...perTypeDetection(scoresA[i], pa.synth.labels, pa.synth, d.without_pa.anomaly_rate),
  }));
  const pb = await prepareB(r.b.train_files, r.b.test_file);
  const last = (c: Array<{ step: number }>): number => c[c.length - 1].step;
  const scoresB = detectorScores(
    pb,
    [scoresOfRun(r.b.transfer_run, last(r.b.transfer_curve)), scoresOfRun(r.b.scratch_run, last(r.b.scratch_curve))],
    JECHEON_COLUMNS,
  );
  r.b.per_type = r.b.detectors.map((d, i) => ({
    detector: d.detector,
    ...perTypeDetection(scoresB[i], pb.synth.labels, pb.synth, d.without_pa.anomaly_rate),
  }));
  for (const [dir, p] of [
    [r.a.run_dir, pa],
    [r.b.transfer_run, pb],
    [r.b.scratch_run, pb],
  ] as Array<[string, Prepared]>) {
    writeNpy(path.join(REPO, dir, 'test_label.npy'), p.synth.labels, [p.synth.labels.length]);
    writeFileAtomic(path.join(REPO, dir, 'test_intervals.json'), JSON.stringify(p.synth.intervals, null, 1) + '\n');
  }
  saveResults(resultsFile, r);
  log(`analysis added to ${resultsFile}; rendered docs/experiments.md`);
}

/**
 * (b) again with other seeds (training seed of both arms; same data, test set, steps, lr and
 * parent checkpoint): is "transfer beats scratch" more than one seed's luck?
 */
export async function repeatB(resultsFile: string, args: EssArgs): Promise<void> {
  const r = readResults(resultsFile);
  const backend = await initBackend({ backend: process.env.ANOMALY_LAB_BACKEND ?? 'wasm' });
  const p = await prepareB(r.b.train_files, r.b.test_file);
  const steps = r.b.steps;
  const base = { ...TRANSFER_SETTINGS, max_steps: steps, summary_steps: Math.max(1, Math.round(steps / 6)) };
  const common = { train: p.train, test: p.test, testLabels: p.synth.labels, backend: backend.name, log };
  for (const seed of args.seedsB) {
    const dir = path.join(path.dirname(resultsFile), `b-seed-${seed}`);
    const transfer = await trainAnomalyBert({
      ...common,
      existing: REDO,
      out: path.join(dir, 'transfer'),
      options: { ...base, seed, checkpoint: path.join(REPO, r.a.run_dir, 'state', `step_${r.a.final.step}`) },
    });
    const scratch = await trainAnomalyBert({
      ...common,
      existing: REDO,
      out: path.join(dir, 'scratch'),
      options: { ...base, seed, ...WORKSHOP_MODEL },
    });
    const f1 = (run: TrainResult): number => evaluate('', scoresOf(run, run.finalStep), p.synth.labels).without_pa.f1;
    r.b_repeats = (r.b_repeats ?? []).filter((x) => x.seed !== seed);
    r.b_repeats.push({
      seed,
      transfer_f1: f1(transfer),
      scratch_f1: f1(scratch),
      transfer_curve: curveOf(transfer.history),
      scratch_curve: curveOf(scratch.history),
      dir: path.relative(REPO, dir),
    });
    saveResults(resultsFile, r, false);
    log(`(b) seed ${seed}: transfer ${f1(transfer).toFixed(4)} vs scratch ${f1(scratch).toFixed(4)}`);
  }
  saveResults(resultsFile, r);
  log('repeats merged; rendered docs/experiments.md');
}

/**
 * A short run without a test set: training-only steps/s of (a)'s workshop options with the --set
 * overrides, and the load beside it, so a variant's step budget can be checked against the
 * 15-minute target before it runs. Writes `<results dir>/measure-<name>.json`; no docs.
 */
export async function measureThroughput(resultsFile: string, args: EssArgs): Promise<void> {
  const r = readResults(resultsFile);
  const backend = await initBackend({ backend: process.env.ANOMALY_LAB_BACKEND ?? 'wasm' });
  loadSamples.push(os.loadavg()[0]);
  const p = await prepareA(r.a.train_days, r.a.test_day);
  const name = args.variantName ?? 'measure';
  const steps = args.stepsA;
  const timer = trainingTimer(steps + 1);
  const loadStart = os.loadavg()[0];
  const run = await trainAnomalyBert({
    existing: REDO,
    train: p.train,
    out: path.join(path.dirname(resultsFile), `measure-${name}`),
    options: { ...WORKSHOP, ...args.overrides, max_steps: steps, summary_steps: steps },
    backend: backend.name,
    onProgress: (e) => timer.onProgress(e.step),
    log,
  });
  const sps = timer.stepsPerS();
  const out = {
    name,
    overrides: args.overrides,
    options: run.options,
    steps,
    steps_per_s_training_only: sps,
    loadavg_1min_at_start: loadStart,
    loadavg_1min_at_end: os.loadavg()[0],
    steps_in_15_min_at_this_rate: Math.floor(900 * sps),
  };
  writeFileAtomic(path.join(path.dirname(resultsFile), `measure-${name}.json`), JSON.stringify(out, null, 2) + '\n');
  log(
    `measure ${name}: ${sps.toFixed(3)} steps/s training-only (load ${loadStart.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}); ${out.steps_in_15_min_at_this_rate} steps fit 15 min at this rate`,
  );
}

/**
 * A named variant of (a): the same data, test set (recipe and seed unchanged), baselines and
 * training seed, with training/model option overrides (--set k=v,…). Merged into results.json
 * under `a_variants` and rendered as its own section.
 */
export async function namedVariant(resultsFile: string, args: EssArgs): Promise<void> {
  if (!args.variantName) throw new Error('--variant needs --name <slug>');
  const backend = await initBackend({ backend: process.env.ANOMALY_LAB_BACKEND ?? 'wasm' });
  loadSamples.length = 0;
  loadSamples.push(os.loadavg()[0]);
  const r0 = readResults(resultsFile);
  const p = await prepareA(r0.a.train_days, r0.a.test_day);
  const summary = Math.max(1, Math.round(args.stepsA / args.summaries));
  const timer = trainingTimer(summary);
  const reporter = createTerminalReporter();
  const run = await trainAnomalyBert({
    existing: REDO,
    train: p.train,
    test: p.test,
    testLabels: p.synth.labels,
    out: path.join(path.dirname(resultsFile), `a-${args.variantName}`),
    options: { ...WORKSHOP, ...args.overrides, max_steps: args.stepsA, summary_steps: summary },
    backend: backend.name,
    onProgress: (e) => {
      timer.onProgress(e.step);
      reporter.onProgress(e);
    },
    onSummary: (e) => {
      timer.onSummary();
      reporter.onSummary(e);
    },
    log,
  });
  const scores = scoresOfRun(path.relative(REPO, run.runDir), run.finalStep);
  const row = evaluate(`AnomalyBERT ${args.variantName} (final step ${run.finalStep})`, scores, p.synth.labels);
  writeNpy(path.join(run.runDir, 'test_label.npy'), p.synth.labels, [p.synth.labels.length]);
  const sps = timer.stepsPerS();
  const entry: Variant = {
    name: args.variantName,
    why: args.why,
    overrides: args.overrides,
    options: run.options,
    run_dir: path.relative(REPO, run.runDir),
    training_wall_s: run.history[run.history.length - 1].elapsed_s,
    steps_per_s_training_only: sps,
    training_only_s_estimate: run.finalStep / sps,
    load: loadConditions(),
    detectors: [row],
    per_type: [{ detector: row.detector, ...perTypeDetection(scores, p.synth.labels, p.synth, row.without_pa.anomaly_rate) }],
    curve: curveOf(run.history),
  };
  // Re-read: another variant may have been merged while this one trained.
  const r = readResults(resultsFile);
  r.a_variants = upsertVariant(r.a_variants, entry);
  saveResults(resultsFile, r, args.docs);
  log(
    `variant ${args.variantName}: F1 (no PA) ${row.without_pa.f1.toFixed(4)}; merged into ${resultsFile}${args.docs ? '; rendered docs/experiments.md' : ''}`,
  );
}

/** `--data_stats`: first-difference statistics of (a)'s scaled training data and (a)'s scores around the uniform replacements. */
export async function dataStats(resultsFile: string): Promise<void> {
  const r = readResults(resultsFile);
  const p = await prepareA(r.a.train_days, r.a.test_day);
  r.a_data_stats = firstDifferenceStats(p.scaler.transform(p.train.values, PANLI_COLUMNS.length), PANLI_COLUMNS);
  r.a_edge_profile = edgeProfile(scoresOfRun(r.a.run_dir, r.a.final.step), p.synth);
  saveResults(resultsFile, r);
  log('first-difference statistics added; rendered docs/experiments.md');
}

/** `--annotate`: set the rationale (--why) of a merged variant, then re-render (no training). */
export function annotate(resultsFile: string, args: EssArgs): void {
  const r = readResults(resultsFile);
  const v = (r.a_variants ?? []).find((x) => x.name === args.variantName);
  if (!v) throw new Error(`--annotate: ${resultsFile} has no variant named "${args.variantName}"`);
  v.why = args.why;
  saveResults(resultsFile, r);
  log(`annotated ${args.variantName}; rendered docs/experiments.md`);
}

/**
 * How smooth the scaled training data are at 1 Hz: per column, the fraction of exactly-zero first
 * differences and quantiles of |x_t − x_(t−1)|. Explains why N(0, 0.003) white noise (mean
 * |difference| 0.0034) is obvious to the first-difference baseline.
 */
function firstDifferenceStats(scaled: Float32Array, columns: string[]): DataStat[] {
  const C = columns.length;
  const n = scaled.length / C;
  return columns.map((column, c) => {
    const d = new Float64Array(n - 1);
    let zero = 0;
    for (let t = 1; t < n; t++) {
      d[t - 1] = Math.abs(scaled[t * C + c] - scaled[(t - 1) * C + c]);
      if (d[t - 1] === 0) zero++;
    }
    d.sort();
    return { column, zero_fraction: zero / (n - 1), p99: d[Math.floor(0.99 * (n - 2))], p999: d[Math.floor(0.999 * (n - 2))] };
  });
}

/**
 * Where (a)'s final scores sit around each uniform replacement: mean score in the 256 points before
 * it, inside it and in the 256 points after it, beside the median score of normal points.
 */
function edgeProfile(scores: Float32Array, synth: SynthTestSet): EdgeProfile {
  const mean = (a: number, b: number): number => {
    let sum = 0;
    for (let t = a; t < b; t++) sum += scores[t];
    return sum / Math.max(1, b - a);
  };
  const normal = Array.from(scores)
    .filter((_, t) => synth.labels[t] === 0)
    .sort((x, y) => x - y);
  const intervals = synth.intervals
    .filter((iv) => iv.type === 'uniform_replacement')
    .map((iv) => ({
      start: iv.start,
      end: iv.end,
      columns: [...iv.columns],
      before: mean(Math.max(0, iv.start - 256), iv.start),
      inside: mean(iv.start, iv.end),
      after: mean(iv.end, Math.min(scores.length, iv.end + 256)),
    }));
  return { normal_median: normal[Math.floor(normal.length / 2)], intervals };
}

/** One line per earlier attempt of (a) (no first-difference features) and the earlier (b) seeds. */
export function summariseEarlier(file: string): EarlierSummary {
  const r = readResults(file);
  const settings = (o: TrainOptions): string =>
    `${o.n_features}×${o.patch_size}, width ${o.d_embed}, ${o.n_layer} layers, lr ${o.lr}; soft ${o.soft_replacing} / uniform ${o.uniform_replacing} / peak ${o.peak_noising} / white ${o.white_noising}, rate max ${o.replacing_rate_max}; sliding ${o.window_sliding}`;
  const row = (
    name: string,
    v: Pick<Variant, 'run_dir' | 'options' | 'detectors'> & { per_type?: Variant['per_type'] },
    trainingS: number,
  ): EarlierRow => ({
    name,
    run_dir: v.run_dir,
    settings: settings(v.options),
    steps: v.options.max_steps,
    training_min: trainingS / 60,
    f1: v.detectors[0].without_pa.f1,
    f1_pa: v.detectors[0].with_pa.f1,
    pa_k_auc: v.detectors[0].pa_k_auc,
    per_type: v.per_type?.[0]?.types,
  });
  const a: EarlierRow[] = [row('original defaults', r.a, r.a.training_only_s_estimate)];
  if (r.a_variant) a.push(row(`white_noising ${r.a_variant.white_noising}`, r.a_variant, r.a_variant.training_wall_s));
  for (const v of r.a_variants ?? []) a.push(row(v.name, v, v.training_only_s_estimate));
  const b = [
    { seed: 8, transfer_f1: r.b.detectors[0].without_pa.f1, scratch_f1: r.b.detectors[1].without_pa.f1 },
    ...(r.b_repeats ?? []).map((x) => ({
      seed: x.seed,
      transfer_f1: x.transfer_f1,
      scratch_f1: x.scratch_f1,
    })),
  ];
  return { source: path.relative(REPO, file), a, b, baselines: r.a.detectors.slice(1) };
}
