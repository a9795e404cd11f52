/**
 * `anomaly-lab power detect`: the flags of a detection run, adapted to `runPowerDetection`
 * (power/detection.ts), which does the run.
 */
import { BACKEND_OPTION } from '../../backend-choices';
import { defineOptions } from '../../browser/index';
import { ENGINE_OPTION, THREADS_OPTION, checkFlags, notWrittenDir, parseCommandArgs, withSigint } from '../args';
import { POWER_DEFAULTS } from '../../power/options';
import { POWER_COMMANDS } from '../registry';

const SPECS = defineOptions({
  data: { kind: 'string', required: true, help: 'Time,Va,Vb,Vc,Ia,Ib,Ic CSV or parquet' },
  detector: { kind: 'string', required: true, help: 'Keras .h5 autoencoder or a detector directory saved by `power train`' },
  scaler: { kind: 'string', help: 'detector StandardScaler (.joblib/.save/.pkl or .json); optional when the detector directory holds one' },
  classifier: { kind: 'string', help: 'fault classifier (.joblib RandomForest/DecisionTree or forest .json)' },
  classifier_scaler: { kind: 'string', help: 'StandardScaler of the 46 interval features (.joblib or .json)' },
  class_names: { kind: 'string', help: 'names for numeric classes: .joblib/.json list or "LG,LL,..."' },
  classifier_transformer: {
    kind: 'string',
    help: "directory of the seed's Keras transformer fault classifier (best_fault_classifier.h5 + scalers + label encoder); writes transformer_predictions.json",
  },
  sequence_length: { kind: 'int', help: "window length in samples (default: the detector's input length, 50 for the seed)" },
  percentile: { kind: 'number', default: POWER_DEFAULTS.percentile, help: 'anomaly threshold percentile of the reconstruction MSE' },
  threshold: {
    kind: 'string',
    help: "fixed MSE threshold instead of the percentile: a number, or 'suggested' (from a detector trained by `power train`)",
  },
  max_gap_samples: {
    kind: 'number',
    default: POWER_DEFAULTS.maxGapSamples,
    aliases: ['max_gap'],
    help: 'merge anomalies at most this many samples apart',
  },
  batch_size: { kind: 'int', default: 512, help: 'windows per model call' },
  time_tolerance: { kind: 'number', default: 0.01, min: 0, max: 1, help: 'allowed relative jitter of the time step' },
  out: {
    kind: 'string',
    required: true,
    output: 'dir',
    help: 'output directory (results.json, mse.npy, anomalies.csv, report.md, detection.anomaly.json)',
  },
  backend: BACKEND_OPTION,
  engine: ENGINE_OPTION,
  threads: THREADS_OPTION,
  quiet: { kind: 'boolean', default: false, help: 'no progress on stderr' },
});

export async function run(argv: string[]): Promise<number> {
  const usage = 'anomaly-lab power detect --data <csv> --detector <.h5|dir> --scaler <file> [--classifier ...] --out <dir>';
  const o = parseCommandArgs(argv, SPECS, usage, POWER_COMMANDS.detect.summary);
  if (!o) return 0;
  const { quiet, ...fields } = o;
  // Loaded here, not at the top: `--help` prints the options without loading tfjs.
  const { checkPowerDetectionConfig, runPowerDetection } = await import('../../power/index.js');
  const config = {
    ...fields,
    log: quiet ? undefined : (line: string): void => void process.stderr.write(line + '\n'),
    // A carriage-return progress line only makes sense on a terminal.
    onProgress:
      quiet || !process.stderr.isTTY
        ? undefined
        : (done: number, total: number): void =>
            void process.stderr.write(`\rpower detect: ${done}/${total} windows` + (done === total ? '\n' : '')),
    command: { argv: ['power', 'detect', ...argv], outputOption: 'out', cwd: process.cwd() },
  };
  checkFlags(() => checkPowerDetectionConfig(config));
  // Ctrl-C: stop after the current batch of windows (or before writing); nothing is written into --out.
  const nothingWritten = notWrittenDir('--out', o.out);
  await withSigint(
    'power detect',
    (stop) => runPowerDetection({ ...config, signal: stop.signal }),
    (e) => `power detect stopped ${e.progressText || 'before writing its results'}; ${nothingWritten()}`,
  );
  return 0;
}
