/**
 * One power training run: the detector (LSTM autoencoder + StandardScaler) on normal recordings
 * and/or the fault classifier (random forest + feature scaler) on labelled fault recordings;
 * without data files it trains on generated data (the workshop default).
 *
 * Writes into `out`: detector/ (tfjs model dir with detector.json incl. scaler and a suggested
 * threshold), classifier.json, classifier_scaler.json (our JSON formats) and training.json,
 * committed together (io/atomic.ts writeFilesAtomic), replacing every output of an earlier run.
 *
 * `trainPowerModels(config)` is the whole run for a notebook, a script or the CLI (`anomaly-lab
 * power train` only adapts its flags). This module loads tfjs only when it trains, so importing it
 * (for POWER_TRAIN_DEFAULTS) is cheap.
 */
import * as path from 'path';
import { FieldError } from '../browser/errors';
import { abortPoint } from '../browser/abort';
import { formatFixed, formatPercent } from '../browser/format';
import { writeFileSynced, writeFilesAtomic } from '../io/atomic';
import { readJsonFile } from '../io/json';
import type { PowerData } from './data';

export const POWER_TRAIN_TARGETS = ['both', 'detector', 'classifier'] as const;

/** Defaults of every training field; the CLI's option defaults are these. */
export const POWER_TRAIN_DEFAULTS = {
  what: 'both' as (typeof POWER_TRAIN_TARGETS)[number],
  seed: 1,
  sample_rate: 5000,
  frequency: 50,
  normal_duration: 2,
  classifier_recordings: 20,
  sequence_length: 50,
  units: [16, 8],
  bidirectional: false,
  epochs: 10,
  batch_size: 64,
  learning_rate: 0.005,
  patience: 3,
  validation_split: 0.1,
  stride: 4,
  max_windows: 1000,
  n_estimators: 100,
  backend: 'auto',
};

/** Every output a training run may write into `out` (a new run replaces them all; 'x/' is a directory). */
export const POWER_TRAIN_OUTPUTS = ['detector/', 'classifier.json', 'classifier_scaler.json', 'training.json'] as const;

export type PowerTrainConfig = Partial<typeof POWER_TRAIN_DEFAULTS> & {
  /** Output directory: its outputs (an earlier run's too) are replaced together; other files in it stay. */
  out: string;
  /** normal (fault-free) CSV/parquet recordings for the detector (default: generated). */
  data?: string[];
  /** recordings with faults for the classifier (default: generated). */
  fault_data?: string[];
  /** fault JSON per `fault_data` file ({faults: [{type, start, end}]}, as `power synth` writes). */
  fault_labels?: string[];
  /** what training.json records as the options (default: the resolved config). */
  record?: Record<string, unknown>;
  /** progress and summary lines (default: none). */
  log?: (line: string) => void;
  /** Stops training at its next safe point (a detector batch, before the classifier, before writing) with an AbortedError; nothing is written then. */
  signal?: AbortSignal;
};

/** Checks that need no file: a bad value fails before anything loads. */
export function checkPowerTrainConfig(c: PowerTrainConfig): void {
  const units = c.units ?? POWER_TRAIN_DEFAULTS.units;
  if (units.length === 0 || units.some((u) => !Number.isInteger(u) || u < 1))
    throw new FieldError('units', (f) => `option ${f('units')} expects positive integers, got ${units.join(',')}`);
  const nData = c.fault_data?.length ?? 0;
  const nLabels = c.fault_labels?.length ?? 0;
  if (nData !== nLabels)
    throw new FieldError(
      ['fault_data', 'fault_labels'],
      (f) => `options ${f('fault_data')} (${nData} files) and ${f('fault_labels')} (${nLabels}) must pair up`,
    );
}

export async function trainPowerModels(config: PowerTrainConfig): Promise<Record<string, unknown>> {
  checkPowerTrainConfig(config);
  const o = {
    ...POWER_TRAIN_DEFAULTS,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
  } as typeof POWER_TRAIN_DEFAULTS & PowerTrainConfig;
  const log = config.log ?? ((): void => undefined);
  const out = o.out;
  const faultData = o.fault_data ?? [];
  const faultLabels = o.fault_labels ?? [];
  // Loaded here: importing this module (for its defaults) must not start tfjs.
  const { loadPowerData } = await import('./data.js');
  const { generateNormalPowerData, generatePowerData } = await import('./synth.js');
  const { initBackend } = await import('../backend.js');
  const seed = o.seed;
  const synth = { sampleRate: o.sample_rate, frequency: o.frequency };
  const { log: _log, record, signal: _signal, ...recorded } = config;
  const summary: Record<string, unknown> = { options: record ?? recorded };
  const L = o.sequence_length;
  // Everything is written at the end, after the last safe point: a stopped run (config.signal)
  // leaves `out` as it was, not a new detector beside the previous classifier.
  let writeDetector: ((dir: string) => Promise<void>) | undefined;
  let disposeDetector: (() => void) | undefined;
  let writeClassifier: ((dir: string) => void) | undefined;
  const safePoint = async (): Promise<void> => {
    try {
      await abortPoint(config.signal, 'trainPowerModels');
    } catch (e) {
      disposeDetector?.();
      throw e;
    }
  };

  if (o.what !== 'classifier') {
    const normal = o.data
      ? await Promise.all(o.data.map((f) => loadPowerData(f)))
      : [generateNormalPowerData({ ...synth, seed: seed * 1000, duration: o.normal_duration })];
    await initBackend({ backend: o.backend });
    const { trainDetector } = await import('./train-detector.js');
    const { saveDetector } = await import('./detector-io.js');
    const trained = await trainDetector(normal, {
      sequenceLength: L,
      units: o.units,
      bidirectional: o.bidirectional,
      epochs: o.epochs,
      batchSize: o.batch_size,
      learningRate: o.learning_rate,
      patience: o.patience,
      validationSplit: o.validation_split,
      stride: o.stride,
      maxWindows: o.max_windows,
      seed,
      signal: config.signal,
      onEpoch: (e) =>
        log(
          `power train: epoch ${e.epoch} loss ${e.loss.toExponential(3)} val_loss ${e.val_loss.toExponential(3)} (${formatFixed(e.elapsed_s, 0)} s)`,
        ),
    });
    const training = {
      history: trained.history,
      best_epoch: trained.bestEpoch,
      stopped_early: trained.stoppedEarly,
      validation_mse: trained.validationMse,
      suggested_threshold: 2 * trained.validationMse.max,
      data: normal.map((d) => d.source),
    };
    const meta = {
      sequence_length: L,
      scaler: {
        mean: Array.from(trained.scaler.mean),
        scale: Array.from(trained.scaler.scale),
        feature_names: trained.scaler.featureNames,
      },
      origin: 'trained' as const,
      training,
    };
    writeDetector = (dir) => saveDetector(path.join(dir, 'detector'), trained.model, meta);
    disposeDetector = () => trained.model.dispose();
    summary.detector = training;
    log(
      `power train: detector → ${path.join(out, 'detector')} (best epoch ${trained.bestEpoch}, suggested threshold ${training.suggested_threshold.toExponential(4)})`,
    );
  }

  if (o.what !== 'detector') {
    await safePoint();
    const { trainFaultClassifier } = await import('./train-classifier.js');
    const recordings: Array<{ data: PowerData; faults: Array<{ type: string; start: number; end: number }> }> = [];
    for (let i = 0; i < faultData.length; i++) {
      const labels = readJsonFile<{ faults?: Array<{ type: string; start: number; end: number }> }>(faultLabels[i], 'fault labels');
      if (!Array.isArray(labels.faults)) throw new Error(`${faultLabels[i]}: no 'faults' list`);
      recordings.push({ data: await loadPowerData(faultData[i]), faults: labels.faults });
    }
    if (recordings.length === 0) {
      for (let r = 0; r < o.classifier_recordings; r++) {
        const g = generatePowerData({ ...synth, seed: seed * 1000 + 100 + r, duration: 4, nFaults: 10 });
        recordings.push({ data: g.data, faults: g.faults });
      }
    }
    const t = trainFaultClassifier(recordings, { sequenceLength: L, nEstimators: o.n_estimators, seed });
    // `dir` is the commit's private stage: each file is written and fsynced, the commit's rename publishes it
    writeClassifier = (dir) => {
      writeFileSynced(path.join(dir, 'classifier.json'), JSON.stringify(t.classifier.toJSON()) + '\n');
      writeFileSynced(path.join(dir, 'classifier_scaler.json'), JSON.stringify(t.classifierScaler.toJSON(), null, 2) + '\n');
    };
    summary.classifier = {
      intervals: t.rows.length,
      classes: t.classifier.classes,
      train_accuracy: t.trainAccuracy,
      n_estimators: t.classifier.trees.length,
    };
    log(
      `power train: classifier on ${t.rows.length} intervals (training accuracy ${formatPercent(t.trainAccuracy, 1)}) → ${path.join(out, 'classifier.json')}`,
    );
  }
  await safePoint();
  // The outputs are committed together (io/atomic.ts writeFilesAtomic): staged in a temporary
  // directory inside `out`, then renamed in one synchronous step that also removes an earlier
  // run's outputs this run does not write (a `--what detector` run leaves no older classifier
  // beside its training.json). A Ctrl-C at any point, even a second one while the detector is
  // saved (an await), leaves the previous run's complete outputs or this run's, never a mix.
  try {
    await writeFilesAtomic(
      out,
      async (stage) => {
        await writeDetector?.(stage);
        writeClassifier?.(stage);
        writeFileSynced(path.join(stage, 'training.json'), JSON.stringify(summary, null, 2) + '\n');
        // The last safe point: a Ctrl-C while staging ends the run here, with nothing written.
        await abortPoint(config.signal, 'trainPowerModels');
      },
      { replaces: POWER_TRAIN_OUTPUTS },
    );
  } finally {
    disposeDetector?.();
  }
  return summary;
}
