/**
 * `anomaly-lab power <detect|train|synth>`: the power-system fault dashboard from the command line.
 *
 *   anomaly-lab power detect --data simData2.csv --detector lstm.h5 --scaler scaler.save \
 *       [--classifier fault_classifier.joblib --classifier_scaler classifier_scaler.joblib \
 *        --class_names class_names.joblib] [--classifier_transformer classifier_transformer/] \
 *       --sequence_length 50 --percentile 95 --max_gap 1500 --out out/
 *   anomaly-lab power synth --out data.csv [--n_faults 10 --seed 1 ...]
 *   anomaly-lab power train --out models/ [--data normal.csv | generated data] ...
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as Backend from '../../backend';
import { UsageError, parseCommandArgs, type OptionSpecs } from '../args';

export const summary = 'power-system faults: detect (LSTM autoencoder + classifier), train, synth';

const SUBCOMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  detect: { summary: 'detect, merge, describe and classify anomalies in a Time,Va,Vb,Vc,Ia,Ib,Ic file', run: runDetect },
  synth: { summary: 'generate three-phase data with injected LG/LL/LLG/LLL/LLLG faults', run: (argv) => lazy('synth', argv) },
  train: { summary: 'train a detector (LSTM autoencoder) and/or a fault classifier (random forest)', run: (argv) => lazy('train', argv) },
  inspect: { summary: 'print a detector\'s architecture (Keras .h5 or detector dir) as JSON', run: runInspect },
};

const INSPECT_SPECS: OptionSpecs = {
  detector: { kind: 'string', required: true, help: 'Keras .h5 file or detector directory' },
  backend: { kind: 'string', default: 'auto', choices: ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], help: 'tfjs backend' },
};

async function runInspect(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, INSPECT_SPECS, 'anomaly-lab power inspect --detector <.h5|dir>', SUBCOMMANDS.inspect.summary);
  if (!options) return 0;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { initBackend, tf } = require('../../backend') as typeof Backend;
  const { loadDetector } = require('../../power/detector-io') as typeof import('../../power/detector-io');
  /* eslint-enable @typescript-eslint/no-require-imports */
  await initBackend({ backend: options.backend as string, log: false });
  const d = await loadDetector(options.detector as string);
  const layers = d.model.layers.map((l) => {
    const weights = l.getWeights();
    const summary = {
      name: l.name,
      class_name: l.getClassName(),
      output_shape: l.outputShape,
      weight_shapes: weights.map((w) => w.shape),
      // Sum of |w| shows trained values arrived (a zero-initialised import would print 0).
      weight_abs_sum: weights.reduce((s, w) => s + tf.tidy(() => tf.sum(tf.abs(w)).dataSync()[0]), 0),
    };
    return summary;
  });
  const report = {
    source: d.source,
    sequence_length: d.sequenceLength,
    input_shape: d.model.inputs[0].shape,
    output_shape: d.model.outputs[0].shape,
    parameters: d.model.countParams(),
    has_scaler: Boolean(d.scaler),
    layers,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  d.model.dispose();
  return 0;
}

async function lazy(name: 'synth' | 'train', argv: string[]): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('../../power/cli-' + name) as { run(argv: string[]): Promise<number> };
  return mod.run(argv);
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    const lines = ['Usage: anomaly-lab power <subcommand> [options]', '', summary, '', 'Subcommands:'];
    for (const [name, s] of Object.entries(SUBCOMMANDS)) lines.push(`  ${name.padEnd(8)} ${s.summary}`);
    lines.push('', 'Run `anomaly-lab power <subcommand> --help` for its options.');
    process.stdout.write(lines.join('\n') + '\n');
    return sub ? 0 : 2;
  }
  const cmd = SUBCOMMANDS[sub];
  if (!cmd) throw new UsageError(`unknown subcommand 'power ${sub}' (choose one of ${Object.keys(SUBCOMMANDS).join(', ')})`);
  return cmd.run(rest);
}

const DETECT_SPECS: OptionSpecs = {
  data: { kind: 'string', required: true, help: 'Time,Va,Vb,Vc,Ia,Ib,Ic CSV or parquet' },
  detector: { kind: 'string', required: true, help: 'Keras .h5 autoencoder or a detector directory saved by `power train`' },
  scaler: { kind: 'string', help: 'detector StandardScaler (.joblib/.save/.pkl or .json); optional when the detector directory holds one' },
  classifier: { kind: 'string', help: 'fault classifier (.joblib RandomForest/DecisionTree or forest .json)' },
  classifier_scaler: { kind: 'string', help: 'StandardScaler of the 46 interval features (.joblib or .json)' },
  class_names: { kind: 'string', help: 'names for numeric classes: .joblib/.json list or "LG,LL,..."' },
  classifier_transformer: { kind: 'string', help: 'directory of the seed\'s Keras transformer fault classifier (best_fault_classifier.h5 + scalers + label encoder); writes transformer_predictions.json' },
  sequence_length: { kind: 'int', help: 'window length in samples (default: the detector\'s input length, 50 for the seed)' },
  percentile: { kind: 'number', default: 95, help: 'anomaly threshold percentile of the reconstruction MSE' },
  threshold: { kind: 'string', help: "fixed MSE threshold instead of the percentile: a number, or 'suggested' (from a detector trained by `power train`)" },
  max_gap: { kind: 'number', default: 1500, help: 'merge anomalies at most this many samples apart' },
  batch_size: { kind: 'int', default: 512, help: 'windows per model call' },
  time_tolerance: { kind: 'number', default: 0.01, min: 0, max: 1, help: 'allowed relative jitter of the time step' },
  out: { kind: 'string', required: true, output: 'dir', help: 'output directory (results.json, mse.npy, anomalies.csv, report.md, detection.anomaly.json)' },
  backend: { kind: 'string', default: 'auto', choices: ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'], help: 'tfjs backend' },
  engine: { kind: 'string', default: 'auto', choices: ['auto', 'onnx', 'tfjs'], help: 'inference engine: onnx (onnxruntime-node, native threads) or tfjs; auto takes onnx where it loads' },
  threads: { kind: 'int', help: 'onnxruntime threads (default: every core)' },
  quiet: { kind: 'boolean', default: false, help: 'no progress on stderr' },
};

/**
 * The run as a viewer bundle (detection.anomaly.json, opens in JupyterLab): a fixed --threshold
 * travels as threshold mode 'value', so the viewer flags exactly the windows this run flagged;
 * otherwise the viewer re-derives the threshold from the percentile.
 */
function writeDetectionBundle(outDir: string, analysis: import('../../power/pipeline').PowerAnalysis, data: import('../../power/data').PowerData, fixedThreshold: boolean): string {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { powerViewerBundle, viewerBundleToJSON, VIEWER_FILE_SUFFIX } = require('../../browser/viewer') as typeof import('../../browser/viewer');
  const { POWER_SIGNALS } = require('../../power/data') as typeof import('../../power/data');
  const { writeFileAtomic } = require('../../io/atomic') as typeof import('../../io/atomic');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const C = data.signals.length;
  const values = new Float32Array(data.length * C); // (rows, Va..Ic) row-major
  for (let i = 0; i < data.length; i++) for (let j = 0; j < C; j++) values[i * C + j] = data.signals[j][i];
  const bundle = powerViewerBundle({
    title: `${path.basename(data.source)} — power detect`,
    time: data.time,
    columns: [...POWER_SIGNALS],
    values,
    mse: analysis.detection.mse,
    sequenceLength: analysis.detection.sequenceLength,
    percentile: analysis.params.percentile,
    maxGapSamples: analysis.params.max_gap_samples,
    threshold: analysis.detection.threshold,
    thresholdMode: fixedThreshold ? 'value' : 'percentile',
    intervals: analysis.predictions.length
      ? analysis.predictions.map((p) => ({ start: p.start_time, end: p.end_time, fault: p.predicted_fault, confidence: p.confidence }))
      : analysis.mergedIntervals,
    classes: analysis.classes,
    provenance: { source: data.source, tool: 'anomaly-lab power detect' },
  });
  const file = path.join(outDir, `detection${VIEWER_FILE_SUFFIX}`);
  writeFileAtomic(file, viewerBundleToJSON(bundle));
  return file;
}

async function runDetect(argv: string[]): Promise<number> {
  const options = parseCommandArgs(argv, DETECT_SPECS, 'anomaly-lab power detect --data <csv> --detector <.h5|dir> --scaler <file> [--classifier ...] --out <dir>', SUBCOMMANDS.detect.summary);
  if (!options) return 0;
  const percentile = options.percentile as number;
  if (percentile < 0 || percentile > 100) throw new UsageError(`option --percentile must be within [0, 100], got ${percentile}`);
  const maxGap = options.max_gap as number;
  if (maxGap < 0) throw new UsageError(`option --max_gap must be ≥ 0, got ${maxGap}`);
  if ((options.batch_size as number) < 1) throw new UsageError(`option --batch_size must be ≥ 1`);
  if (options.threads !== undefined && (options.threads as number) < 1) throw new UsageError(`option --threads must be ≥ 1, got ${options.threads}`);
  if (options.classifier_scaler && !options.classifier) throw new UsageError('option --classifier_scaler needs --classifier');
  const outDir = options.out as string;
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new UsageError(`option --out: ${outDir} exists and is not a directory`);
  const quiet = options.quiet as boolean;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(s + '\n');
  };

  // Loaded here, not at the top: `anomaly-lab --help` lists this command without paying for tfjs.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { loadPowerData } = require('../../power/data') as typeof import('../../power/data');
  const { loadDetector } = require('../../power/detector-io') as typeof import('../../power/detector-io');
  const { loadPowerScaler, loadPowerClassifier, loadClassNames } = require('../../power/models') as typeof import('../../power/models');
  const { analyzePowerData } = require('../../power/pipeline') as typeof import('../../power/pipeline');
  const { writePowerResults } = require('../../power/report') as typeof import('../../power/report');
  const { writeManifest } = require('../../report/manifest') as typeof import('../../report/manifest');
  /* eslint-enable @typescript-eslint/no-require-imports */

  // Cheap inputs first: a bad CSV or scaler fails before tfjs starts.
  const data = await loadPowerData(options.data as string, { timeTolerance: options.time_tolerance as number });
  log(`power detect: ${data.length} rows, sample time ${data.sampleTime} s`);
  const scalerFromFile = options.scaler ? await loadPowerScaler(options.scaler as string, 'detector scaler') : undefined;
  const classifier = options.classifier ? await loadPowerClassifier(options.classifier as string) : undefined;
  const classifierScaler = options.classifier_scaler ? await loadPowerScaler(options.classifier_scaler as string, 'classifier scaler') : undefined;
  const classNames = options.class_names ? await loadClassNames(options.class_names as string) : undefined;
  const transformerDir = options.classifier_transformer as string | undefined;
  if (transformerDir && !fs.existsSync(transformerDir)) throw new Error(`${transformerDir}: transformer classifier directory not found (--classifier_transformer)`);

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { initBackend } = require('../../backend') as typeof Backend;
  await initBackend({ backend: options.backend as string, log: !quiet });
  const detector = await loadDetector(options.detector as string);
  // The transformer classifier loads before the detection run so a bad directory fails fast.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tc = transformerDir ? (require('../../power/transformer-classifier') as typeof import('../../power/transformer-classifier')) : undefined;
  let clf: import('../../power/transformer-classifier').TransformerClassifier | undefined;
  try {
    clf = tc && transformerDir ? await tc.loadTransformerClassifier(transformerDir) : undefined;
  } catch (e) {
    detector.model.dispose();
    throw e;
  }
  const scaler = scalerFromFile ?? detector.scaler;
  if (!scaler) throw new UsageError(`option --scaler is required: ${options.detector} carries no scaler`);
  const sequenceLength = (options.sequence_length as number | undefined) ?? detector.sequenceLength;
  let threshold: number | undefined;
  if (options.threshold !== undefined) {
    const raw = options.threshold as string;
    const suggested = Number((detector.meta?.training as { suggested_threshold?: number } | undefined)?.suggested_threshold);
    threshold = raw === 'suggested' ? suggested : Number(raw);
    if (raw === 'suggested' && !Number.isFinite(suggested)) throw new UsageError(`option --threshold suggested: ${options.detector} has no suggested threshold (only detectors trained by \`power train\` do)`);
    if (!Number.isFinite(threshold) || threshold < 0) throw new UsageError(`option --threshold expects a number ≥ 0 or 'suggested', got '${raw}'`);
  }
  const t0 = Date.now();
  const analysis = await analyzePowerData(
    data,
    { detector: detector.model, scaler, classifier, classifierScaler },
    {
      sequenceLength,
      percentile,
      threshold,
      maxGap,
      batchSize: options.batch_size as number,
      classNames,
      engine: options.engine as string,
      threads: options.threads as number | undefined,
      logEngine: !quiet,
      // A carriage-return progress line only makes sense on a terminal.
      onProgress: quiet || !process.stderr.isTTY ? undefined : (done, total) => process.stderr.write(`\rpower detect: ${done}/${total} windows` + (done === total ? '\n' : '')),
    },
  );
  detector.model.dispose();
  let transformer: { file: string; predictions: import('../../power/transformer-classifier').TransformerPrediction[] } | undefined;
  if (tc && clf) {
    const { writeFileAtomic } = require('../../io/atomic') as typeof import('../../io/atomic'); // eslint-disable-line @typescript-eslint/no-require-imports
    try {
      const predictions = tc.classifyIntervalsTransformer(clf, data, analysis.mergedIntervals);
      fs.mkdirSync(outDir, { recursive: true });
      const file = path.join(outDir, 'transformer_predictions.json');
      writeFileAtomic(file, JSON.stringify(tc.transformerPredictionsJson(clf, predictions), null, 2) + '\n');
      transformer = { file, predictions };
      log(`power detect: classifier transformer (${clf.modelFile}): ${predictions.map((p) => `${p.predicted_fault} ${p.confidence.toFixed(3)}`).join(', ') || 'no intervals'}`);
    } finally {
      clf.model.dispose();
    }
  }
  const models = {
    detector: options.detector as string,
    scaler: (options.scaler as string | undefined) ?? `${options.detector} (embedded)`,
    classifier: options.classifier as string | undefined,
    classifier_scaler: options.classifier_scaler as string | undefined,
    class_names: options.class_names as string | undefined,
    classifier_transformer: transformerDir,
  };
  const files = writePowerResults(outDir, analysis, data, models);
  files.push(writeDetectionBundle(outDir, analysis, data, threshold !== undefined));
  if (transformer) files.push(transformer.file);
  // A detection run is an experiment like a training run: record what produced it, so
  // `anomaly-lab reproduce --manifest <out>` can re-run it and compare the results.
  const faults: Record<string, number> = {};
  for (const p of analysis.predictions) faults[p.predicted_fault] = (faults[p.predicted_fault] ?? 0) + 1;
  await writeManifest(outDir, {
    kind: 'power-detect',
    config: { sequence_length: sequenceLength, percentile, threshold: options.threshold ?? null, max_gap: maxGap, batch_size: options.batch_size, models },
    inputs: [
      { path: options.data as string, role: 'data' },
      ...Object.entries(models)
        .filter(([, p]) => p !== undefined && !p.endsWith('(embedded)'))
        .map(([role, p]) => ({ path: p as string, role })),
    ],
    metrics: {
      threshold: analysis.detection.threshold,
      n_windows: analysis.detection.mse.length,
      n_anomalous_windows: analysis.detection.flags.reduce((a: number, f: number) => a + (f ? 1 : 0), 0),
      n_intervals: analysis.mergedIntervals.length,
      faults,
      ...(transformer ? { transformer_faults: transformer.predictions.map((p) => p.predicted_fault) } : {}),
    },
    outputs: files.map((f) => path.basename(f)),
    command: { argv: ['power', 'detect', ...argv], outputOption: 'out', cwd: process.cwd() },
    elapsed_s: (Date.now() - t0) / 1000,
  });
  log(
    `power detect: ${analysis.detection.mse.length} windows in ${((Date.now() - t0) / 1000).toFixed(1)} s, threshold ${analysis.detection.threshold.toPrecision(6)}, ` +
      `${analysis.mergedIntervals.length} anomal${analysis.mergedIntervals.length === 1 ? 'y' : 'ies'}` +
      (analysis.predictions.length ? ` (forest classifier: ${analysis.predictions.map((p) => p.predicted_fault).join(', ')})` : ''),
  );
  log(`power detect: wrote ${files.map((f) => path.basename(f)).join(', ')} to ${outDir}`);
  return 0;
}
