/**
 * `anomaly-lab power train`: train the detector (LSTM autoencoder + StandardScaler) on normal
 * recordings and/or the fault classifier (random forest + feature scaler) on labelled fault
 * recordings. Without data files it trains on generated data (the workshop default).
 *
 * Writes into --out: detector/ (tfjs model dir with detector.json incl. scaler and a suggested
 * threshold), classifier.json, classifier_scaler.json (our JSON formats) and training.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BACKEND_OPTION } from '../../backend-choices';
import { defineOptions } from '../../browser/options';
import { writeFileAtomic } from '../../io/atomic';
import type { PowerData } from '../../power/data';
import { UsageError, parseCommandArgs } from '../args';
import { POWER_COMMANDS } from '../registry';

const SPECS = defineOptions({
  out: { kind: 'string', required: true, output: 'dir', help: 'output directory' },
  what: { kind: 'string', default: 'both', choices: ['both', 'detector', 'classifier'], help: 'what to train' },
  data: { kind: 'list', help: 'normal (fault-free) CSV/parquet recordings for the detector (default: generated)' },
  fault_data: { kind: 'list', help: 'recordings with faults for the classifier (default: generated)' },
  fault_labels: { kind: 'list', help: 'fault JSON per --fault_data file ({faults: [{type, start, end}]}, as `power synth` writes)' },
  seed: { kind: 'int', default: 1, help: 'random seed' },
  sample_rate: { kind: 'number', default: 5000, help: 'generated data: samples per second' },
  frequency: { kind: 'number', default: 50, help: 'generated data: nominal frequency, Hz' },
  normal_duration: { kind: 'number', default: 2, help: 'generated normal data, seconds' },
  classifier_recordings: { kind: 'int', default: 20, help: 'generated fault recordings (10 faults each)' },
  sequence_length: { kind: 'int', default: 50, help: 'window length in samples' },
  units: { kind: 'list', default: ['16', '8'], help: 'encoder LSTM widths (the seed uses 32,16 with --bidirectional)' },
  bidirectional: { kind: 'boolean', default: false, help: 'bidirectional LSTMs (the seed architecture)' },
  epochs: { kind: 'int', default: 10, help: 'maximum epochs' },
  batch_size: { kind: 'int', default: 64, help: 'training batch size' },
  learning_rate: { kind: 'number', default: 0.005, help: 'Adam learning rate' },
  patience: { kind: 'int', default: 3, help: 'early stopping: epochs without validation improvement' },
  validation_split: { kind: 'number', default: 0.1, help: 'held-out share of training windows' },
  stride: { kind: 'int', default: 4, help: 'step between training windows, samples' },
  max_windows: { kind: 'int', default: 1000, help: 'cap on training windows' },
  n_estimators: { kind: 'int', default: 100, help: 'trees in the random forest' },
  backend: BACKEND_OPTION,
});

export async function run(argv: string[]): Promise<number> {
  const o = parseCommandArgs(argv, SPECS, 'anomaly-lab power train --out models/ [--what both|detector|classifier] [--data normal.csv ...]', POWER_COMMANDS.train.summary);
  if (!o) return 0;
  const units = o.units.map((u) => Number(u));
  if (units.some((u) => !Number.isInteger(u) || u < 1)) throw new UsageError(`option --units expects positive integers, got ${o.units.join(',')}`);
  const faultData = o.fault_data ?? [];
  const faultLabels = o.fault_labels ?? [];
  if (faultData.length !== faultLabels.length) throw new UsageError(`options --fault_data (${faultData.length} files) and --fault_labels (${faultLabels.length}) must pair up`);
  const out = o.out;
  const what = o.what;
  // Loaded here, not at the top: `--help` prints the options without loading tfjs.
  const { loadPowerData } = await import('../../power/data.js');
  const { generateNormalPowerData, generatePowerData } = await import('../../power/synth.js');
  const { initBackend } = await import('../../backend.js');
  const seed = o.seed;
  const synth = { sampleRate: o.sample_rate, frequency: o.frequency };
  const summary: Record<string, unknown> = { options: o };
  const L = o.sequence_length;

  if (what !== 'classifier') {
    const normal = o.data ? await Promise.all(o.data.map((f) => loadPowerData(f))) : [generateNormalPowerData({ ...synth, seed: seed * 1000, duration: o.normal_duration })];
    await initBackend({ backend: o.backend });
    const { trainDetector } = await import('../../power/train-detector.js');
    const { saveDetector } = await import('../../power/detector-io.js');
    const trained = await trainDetector(normal, {
      sequenceLength: L,
      units,
      bidirectional: o.bidirectional,
      epochs: o.epochs,
      batchSize: o.batch_size,
      learningRate: o.learning_rate,
      patience: o.patience,
      validationSplit: o.validation_split,
      stride: o.stride,
      maxWindows: o.max_windows,
      seed,
      onEpoch: (e) => process.stderr.write(`power train: epoch ${e.epoch} loss ${e.loss.toExponential(3)} val_loss ${e.val_loss.toExponential(3)} (${e.elapsed_s.toFixed(0)} s)\n`),
    });
    const training = { history: trained.history, best_epoch: trained.bestEpoch, stopped_early: trained.stoppedEarly, validation_mse: trained.validationMse, suggested_threshold: 2 * trained.validationMse.max, data: normal.map((d) => d.source) };
    await saveDetector(path.join(out, 'detector'), trained.model, {
      sequence_length: L,
      scaler: { mean: Array.from(trained.scaler.mean), scale: Array.from(trained.scaler.scale), feature_names: trained.scaler.featureNames },
      origin: 'trained',
      training,
    });
    trained.model.dispose();
    summary.detector = training;
    process.stderr.write(`power train: detector → ${path.join(out, 'detector')} (best epoch ${trained.bestEpoch}, suggested --threshold ${training.suggested_threshold.toExponential(4)})\n`);
  }

  if (what !== 'detector') {
    const { trainFaultClassifier } = await import('../../power/train-classifier.js');
    const recordings: Array<{ data: PowerData; faults: Array<{ type: string; start: number; end: number }> }> = [];
    for (let i = 0; i < faultData.length; i++) {
      let labels: { faults?: Array<{ type: string; start: number; end: number }> };
      try {
        labels = JSON.parse(fs.readFileSync(faultLabels[i], 'utf8'));
      } catch (e) {
        throw new Error(`${faultLabels[i]}: cannot read fault labels (${(e as Error).message})`);
      }
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
    writeFileAtomic(path.join(out, 'classifier.json'), JSON.stringify(t.classifier.toJSON()) + '\n');
    writeFileAtomic(path.join(out, 'classifier_scaler.json'), JSON.stringify(t.classifierScaler.toJSON(), null, 2) + '\n');
    summary.classifier = { intervals: t.rows.length, classes: t.classifier.classes, train_accuracy: t.trainAccuracy, n_estimators: t.classifier.trees.length };
    process.stderr.write(`power train: classifier on ${t.rows.length} intervals (training accuracy ${(100 * t.trainAccuracy).toFixed(1)}%) → ${path.join(out, 'classifier.json')}\n`);
  }
  writeFileAtomic(path.join(out, 'training.json'), JSON.stringify(summary, null, 2) + '\n');
  return 0;
}
