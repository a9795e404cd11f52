/**
 * One power detection run, from files to an output directory: load the recording and the models,
 * detect, merge, describe and classify anomalies, and write results.json, mse.npy, anomalies.csv,
 * report.md, the viewer bundle (detection.anomaly.json) and the manifest that `reproduce` re-runs.
 *
 * `runPowerDetection(config)` is the whole run for a notebook, a script or the CLI
 * (`anomaly-lab power detect` only adapts its flags to this config). Field names are the
 * config's (`percentile`, `max_gap`); errors about them are `FieldError`s naming the field.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../backend';
import { ENGINE_CHOICES_TEXT, isEngineChoice, type EngineChoice } from '../backend-choices';
import { FieldError } from '../browser/errors';
import { abortPoint } from '../browser/abort';
import { formatFixed, formatSignificant } from '../browser/format';
import { checkMaxGapSamples } from '../browser/intervals';
import { powerViewerBundle, viewerBundleToJSON, VIEWER_FILE_SUFFIX } from '../browser/viewer';
import { writeFileSynced, writeFilesAtomic } from '../io/atomic';
import { MANIFEST_FILE, writeManifest, type ManifestCommand } from '../runs/manifest';
import { loadPowerData, POWER_SIGNALS, type PowerData } from './data';
import { loadDetector } from './detector-io';
import { loadClassNames, loadPowerClassifier, loadPowerScaler } from './models';
import { analyzePowerData, POWER_DEFAULTS, type PowerAnalysis } from './pipeline';
import { POWER_RESULT_FILES, writePowerResults } from './report';
import {
  classifyIntervalsTransformer,
  loadTransformerClassifier,
  transformerPredictionsJson,
  type TransformerClassifier,
  type TransformerPrediction,
} from './transformer-classifier';

export interface PowerDetectionConfig {
  /** Time,Va,Vb,Vc,Ia,Ib,Ic CSV or parquet. */
  data: string;
  /** Keras .h5 autoencoder or a detector directory saved by `power train`. */
  detector: string;
  /** Detector StandardScaler (.joblib/.save/.pkl or .json); optional when the detector directory holds one. */
  scaler?: string;
  /** Fault classifier (.joblib RandomForest/DecisionTree or forest .json). */
  classifier?: string;
  /** StandardScaler of the 46 interval features (.joblib or .json); needs `classifier`. */
  classifier_scaler?: string;
  /** Names for numeric classes: .joblib/.json list or "LG,LL,...". */
  class_names?: string;
  /** Directory of the seed's Keras transformer fault classifier; writes transformer_predictions.json. */
  classifier_transformer?: string;
  /** Window length in samples (default: the detector's input length). */
  sequence_length?: number;
  /** Threshold percentile of the reconstruction MSE (default 95). */
  percentile?: number;
  /** A fixed MSE threshold instead of the percentile: a number (or its text), or 'suggested' (from a detector trained by `power train`). */
  threshold?: number | string;
  /** Merge anomalies at most this many samples apart (default POWER_DEFAULTS.maxGapSamples, 1500). */
  max_gap_samples?: number;
  /** @deprecated the earlier name of `max_gap_samples` (still read). */
  max_gap?: number;
  /** Windows per model call (default 512). */
  batch_size?: number;
  /** Allowed relative jitter of the time step (default 0.01). */
  time_tolerance?: number;
  /** Output directory: its outputs (an earlier run's too) are replaced together; other files in it stay. */
  out: string;
  /** tfjs backend (default 'auto'). */
  backend?: string;
  /** Inference engine, one of ENGINE_CHOICES (backend-choices.ts); default 'auto'. */
  engine?: EngineChoice;
  /** onnxruntime threads (default: every core). */
  threads?: number;
  /** Progress and summary lines (default: none). */
  log?: (line: string) => void;
  /** Windows done so far, for a progress display. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops the run at its next safe point (between batches of windows, before writing) with an
   * AbortedError; nothing is written into `out` once it is aborted before the results are.
   */
  signal?: AbortSignal;
  /** How the run was started, recorded in the manifest so `reproduce` can re-run it. */
  command?: ManifestCommand;
}

export interface PowerDetectionResult {
  analysis: PowerAnalysis;
  data: PowerData;
  /** Files written into `out`. */
  files: string[];
  /** The transformer classifier's predictions, when `classifier_transformer` was given. */
  transformerPredictions?: TransformerPrediction[];
  elapsed_s: number;
}

/** The merge gap of a config: `max_gap_samples`, else its earlier name `max_gap`, else the default. */
function maxGapOf(c: Pick<PowerDetectionConfig, 'max_gap_samples' | 'max_gap'>): number {
  return c.max_gap_samples ?? c.max_gap ?? POWER_DEFAULTS.maxGapSamples;
}

/** Checks that need no file: a bad value fails before anything loads. */
export function checkPowerDetectionConfig(c: PowerDetectionConfig): void {
  const percentile = c.percentile ?? POWER_DEFAULTS.percentile;
  if (!(percentile >= 0 && percentile <= 100))
    throw new FieldError('percentile', (f) => `option ${f('percentile')} must be within [0, 100], got ${percentile}`);
  checkMaxGapSamples(maxGapOf(c), c.max_gap_samples === undefined && c.max_gap !== undefined ? 'max_gap' : 'max_gap_samples');
  if (c.batch_size !== undefined && !(c.batch_size >= 1))
    throw new FieldError('batch_size', (f) => `option ${f('batch_size')} must be ≥ 1`);
  // a config from JSON or plain JS is checked here, before any file is read (the CLI's --engine is a choice already)
  if (c.engine !== undefined && !isEngineChoice(c.engine))
    throw new FieldError('engine', (f) => `option ${f('engine')} must be ${ENGINE_CHOICES_TEXT}, got ${JSON.stringify(c.engine)}`);
  if (c.threads !== undefined && !(c.threads >= 1))
    throw new FieldError('threads', (f) => `option ${f('threads')} must be ≥ 1, got ${c.threads}`);
  if (c.classifier_scaler && !c.classifier)
    throw new FieldError(['classifier_scaler', 'classifier'], (f) => `option ${f('classifier_scaler')} needs ${f('classifier')}`);
  if (fs.existsSync(c.out) && !fs.statSync(c.out).isDirectory())
    throw new FieldError('out', (f) => `option ${f('out')}: ${c.out} exists and is not a directory`);
  if (c.threshold !== undefined && c.threshold !== 'suggested') {
    const t = Number(c.threshold);
    if (!Number.isFinite(t) || t < 0)
      throw new FieldError('threshold', (f) => `option ${f('threshold')} expects a number ≥ 0 or 'suggested', got '${c.threshold}'`);
  }
}

/**
 * The run as a viewer bundle (detection.anomaly.json, opens in JupyterLab): a fixed threshold
 * travels as threshold mode 'value', so the viewer flags exactly the windows this run flagged;
 * otherwise the viewer re-derives the threshold from the percentile.
 */
function writeDetectionBundle(outDir: string, analysis: PowerAnalysis, data: PowerData, fixedThreshold: boolean): string {
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
  writeFileSynced(file, viewerBundleToJSON(bundle)); // into the commit's stage (see runPowerDetection)
  return file;
}

const TRANSFORMER_PREDICTIONS_FILE = 'transformer_predictions.json';
/** Every output a detection run may write into `out` (a new run replaces them all, manifest.json too). */
const POWER_DETECT_OUTPUTS = [...POWER_RESULT_FILES, `detection${VIEWER_FILE_SUFFIX}`, TRANSFORMER_PREDICTIONS_FILE];

export async function runPowerDetection(config: PowerDetectionConfig): Promise<PowerDetectionResult> {
  checkPowerDetectionConfig(config);
  const percentile = config.percentile ?? POWER_DEFAULTS.percentile;
  const maxGap = maxGapOf(config);
  const batchSize = config.batch_size ?? 512;
  const outDir = config.out;
  const log = config.log ?? ((): void => undefined);

  // Cheap inputs first: a bad CSV or scaler fails before tfjs starts.
  const data = await loadPowerData(config.data, { timeTolerance: config.time_tolerance ?? 0.01 });
  log(`power detect: ${data.length} rows, sample time ${data.sampleTime} s`);
  const scalerFromFile = config.scaler ? await loadPowerScaler(config.scaler, 'detector scaler') : undefined;
  const classifier = config.classifier ? await loadPowerClassifier(config.classifier) : undefined;
  const classifierScaler = config.classifier_scaler ? await loadPowerScaler(config.classifier_scaler, 'classifier scaler') : undefined;
  const classNames = config.class_names ? await loadClassNames(config.class_names) : undefined;
  const transformerDir = config.classifier_transformer;
  if (transformerDir && !fs.existsSync(transformerDir)) {
    throw new FieldError(
      'classifier_transformer',
      (f) => `${transformerDir}: transformer classifier directory not found (${f('classifier_transformer')})`,
    );
  }

  await initBackend({ backend: config.backend ?? 'auto', log: Boolean(config.log) });
  const detector = await loadDetector(config.detector);
  // The transformer classifier loads before the detection run so a bad directory fails fast.
  let clf: TransformerClassifier | undefined;
  try {
    clf = transformerDir ? await loadTransformerClassifier(transformerDir) : undefined;
  } catch (e) {
    detector.model.dispose();
    throw e;
  }
  const scaler = scalerFromFile ?? detector.scaler;
  if (!scaler) throw new FieldError('scaler', (f) => `option ${f('scaler')} is required: ${config.detector} carries no scaler`);
  const sequenceLength = config.sequence_length ?? detector.sequenceLength;
  let threshold: number | undefined;
  if (config.threshold !== undefined) {
    const suggested = Number((detector.meta?.training as { suggested_threshold?: number } | undefined)?.suggested_threshold);
    if (config.threshold === 'suggested' && !Number.isFinite(suggested)) {
      throw new FieldError(
        'threshold',
        (f) =>
          `option ${f('threshold')} suggested: ${config.detector} has no suggested threshold (only detectors trained by \`power train\` do)`,
      );
    }
    threshold = config.threshold === 'suggested' ? suggested : Number(config.threshold);
  }
  const t0 = Date.now();
  const analysis = await analyzePowerData(
    data,
    { detector: detector.model, scaler, classifier, classifierScaler },
    {
      sequenceLength,
      percentile,
      threshold,
      maxGapSamples: maxGap,
      batchSize,
      classNames,
      engine: config.engine ?? 'auto',
      threads: config.threads,
      logEngine: Boolean(config.log),
      onProgress: config.onProgress,
      signal: config.signal,
    },
  );
  detector.model.dispose();
  // Written with the other outputs at the end (one commit), not here.
  let transformer: { json: string; predictions: TransformerPrediction[] } | undefined;
  if (clf) {
    try {
      const predictions = classifyIntervalsTransformer(clf, data, analysis.mergedIntervals);
      transformer = { json: JSON.stringify(transformerPredictionsJson(clf, predictions), null, 2) + '\n', predictions };
      log(
        `power detect: classifier transformer (${clf.modelFile}): ${predictions.map((p) => `${p.predicted_fault} ${formatFixed(p.confidence, 3)}`).join(', ') || 'no intervals'}`,
      );
    } finally {
      clf.model.dispose();
    }
  }
  const models = {
    detector: config.detector,
    scaler: config.scaler ?? `${config.detector} (embedded)`,
    classifier: config.classifier,
    classifier_scaler: config.classifier_scaler,
    class_names: config.class_names,
    classifier_transformer: transformerDir,
  };
  await abortPoint(config.signal, 'runPowerDetection');
  // The outputs are committed together (io/atomic.ts writeFilesAtomic): staged in a temporary
  // directory inside `out`, then renamed in one synchronous step, replacing every output of an
  // earlier run (an old transformer_predictions.json too). A Ctrl-C at any point, even a second
  // one while the manifest hashes the inputs, leaves the previous run's complete outputs or this
  // run's, never new results beside an old manifest.
  const faults: Record<string, number> = {};
  for (const p of analysis.predictions) faults[p.predicted_fault] = (faults[p.predicted_fault] ?? 0) + 1;
  const elapsed_s = (Date.now() - t0) / 1000;
  let names: string[] = [];
  await writeFilesAtomic(
    outDir,
    async (stage) => {
      const staged = writePowerResults(stage, analysis, data, models);
      staged.push(writeDetectionBundle(stage, analysis, data, threshold !== undefined));
      if (transformer) {
        // into the private stage: written and fsynced, the commit's rename publishes it (no temporary of its own)
        writeFileSynced(path.join(stage, TRANSFORMER_PREDICTIONS_FILE), transformer.json);
        staged.push(path.join(stage, TRANSFORMER_PREDICTIONS_FILE));
      }
      names = staged.map((f) => path.basename(f));
      // A detection run is an experiment like a training run: record what produced it, so
      // `anomaly-lab reproduce --manifest <out>` can re-run it and compare the results (the
      // outputs are hashed here, in the stage: the same bytes are published).
      await writeManifest(stage, {
        kind: 'power-detect',
        config: {
          sequence_length: sequenceLength,
          percentile,
          threshold: config.threshold ?? null,
          max_gap_samples: maxGap,
          batch_size: batchSize,
          models,
        },
        inputs: [
          { path: config.data, role: 'data' },
          ...Object.entries(models)
            .filter((e): e is [string, string] => e[1] !== undefined && !e[1].endsWith('(embedded)'))
            .map(([role, p]) => ({ path: p, role })),
        ],
        metrics: {
          threshold: analysis.detection.threshold,
          n_windows: analysis.detection.mse.length,
          n_anomalous_windows: analysis.detection.flags.reduce((a: number, f: number) => a + (f ? 1 : 0), 0),
          n_intervals: analysis.mergedIntervals.length,
          faults,
          ...(transformer ? { transformer_faults: transformer.predictions.map((p) => p.predicted_fault) } : {}),
        },
        outputs: names,
        ...(config.command ? { command: config.command } : {}),
        elapsed_s,
      });
      // The last safe point: a Ctrl-C while staging ends the run here, with nothing written.
      await abortPoint(config.signal, 'runPowerDetection');
    },
    { replaces: [...POWER_DETECT_OUTPUTS, MANIFEST_FILE] },
  );
  const files = names.map((name) => path.join(outDir, name));
  log(
    `power detect: ${analysis.detection.mse.length} windows in ${formatFixed(elapsed_s, 1)} s, threshold ${formatSignificant(analysis.detection.threshold, 6)}, ` +
      `${analysis.mergedIntervals.length} anomal${analysis.mergedIntervals.length === 1 ? 'y' : 'ies'}` +
      (analysis.predictions.length ? ` (forest classifier: ${analysis.predictions.map((p) => p.predicted_fault).join(', ')})` : ''),
  );
  log(`power detect: wrote ${files.map((f) => path.basename(f)).join(', ')} to ${outDir}`);
  return { analysis, data, files, transformerPredictions: transformer?.predictions, elapsed_s };
}
