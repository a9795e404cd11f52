/**
 * `anomaly-lab power train`: the flags of a training run, adapted to `trainPowerModels`
 * (power/train-models.ts). It trains the detector (LSTM autoencoder + StandardScaler) on normal
 * recordings and/or the fault classifier (random forest + feature scaler) on labelled fault
 * recordings. Without data files it trains on generated data (the workshop default).
 *
 * Writes into --out: detector/ (tfjs model dir with detector.json incl. scaler and a suggested
 * threshold), classifier.json, classifier_scaler.json (our JSON formats) and training.json,
 * committed together (an earlier run's outputs are replaced with them; other files stay).
 */
import { BACKEND_OPTION } from '../../backend-choices';
import { defineOptions } from '../../browser/index';
import { POWER_TRAIN_DEFAULTS as D, POWER_TRAIN_TARGETS } from '../../power/options';
import { checkFlags, notWrittenDir, parseCommandArgs, withSigint } from '../args';
import { POWER_COMMANDS } from '../registry';

const SPECS = defineOptions({
  out: { kind: 'string', required: true, output: 'dir', help: 'output directory' },
  what: { kind: 'string', default: D.what, choices: POWER_TRAIN_TARGETS, help: 'what to train' },
  data: { kind: 'list', help: 'normal (fault-free) CSV/parquet recordings for the detector (default: generated)' },
  fault_data: { kind: 'list', help: 'recordings with faults for the classifier (default: generated)' },
  fault_labels: { kind: 'list', help: 'fault JSON per --fault_data file ({faults: [{type, start, end}]}, as `power synth` writes)' },
  seed: { kind: 'int', default: D.seed, help: 'random seed' },
  sample_rate: { kind: 'number', default: D.sample_rate, help: 'generated data: samples per second' },
  frequency: { kind: 'number', default: D.frequency, help: 'generated data: nominal frequency, Hz' },
  normal_duration: { kind: 'number', default: D.normal_duration, help: 'generated normal data, seconds' },
  classifier_recordings: { kind: 'int', default: D.classifier_recordings, help: 'generated fault recordings (10 faults each)' },
  sequence_length: { kind: 'int', default: D.sequence_length, help: 'window length in samples' },
  units: { kind: 'list', default: D.units.map(String), help: 'encoder LSTM widths (the seed uses 32,16 with --bidirectional)' },
  bidirectional: { kind: 'boolean', default: D.bidirectional, help: 'bidirectional LSTMs (the seed architecture)' },
  epochs: { kind: 'int', default: D.epochs, help: 'maximum epochs' },
  batch_size: { kind: 'int', default: D.batch_size, help: 'training batch size' },
  learning_rate: { kind: 'number', default: D.learning_rate, help: 'Adam learning rate' },
  patience: { kind: 'int', default: D.patience, help: 'early stopping: epochs without validation improvement' },
  validation_split: { kind: 'number', default: D.validation_split, help: 'held-out share of training windows' },
  stride: { kind: 'int', default: D.stride, help: 'step between training windows, samples' },
  max_windows: { kind: 'int', default: D.max_windows, help: 'cap on training windows' },
  n_estimators: { kind: 'int', default: D.n_estimators, help: 'trees in the random forest' },
  backend: BACKEND_OPTION,
});

export async function run(argv: string[]): Promise<number> {
  const o = parseCommandArgs(
    argv,
    SPECS,
    'anomaly-lab power train --out models/ [--what both|detector|classifier] [--data normal.csv ...]',
    POWER_COMMANDS.train.summary,
  );
  if (!o) return 0;
  const { checkPowerTrainConfig, trainPowerModels } = await import('../../power/index.js');
  const units = o.units.map((u) => Number(u));
  const config = {
    ...o,
    units,
    // training.json records the options as given on the command line
    record: o,
    log: (line: string): void => void process.stderr.write(line + '\n'),
  };
  checkFlags(() => checkPowerTrainConfig(config));
  // Ctrl-C: stop after the current batch (detector) or before the next phase; everything is written at the end, so nothing is
  // (and a second Ctrl-C while the outputs are written leaves the previous run's or this run's, never a mix).
  const nothingWritten = notWrittenDir('--out', o.out);
  await withSigint(
    'power train',
    (stop) => trainPowerModels({ ...config, signal: stop.signal }),
    (e) => `power train stopped${e.progressText ? ` ${e.progressText}` : ''}; ${nothingWritten()}`,
  );
  return 0;
}
