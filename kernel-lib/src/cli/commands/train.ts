/**
 * `anomaly-lab train`: the original `python3 train.py` with data given as paths.
 *
 *   anomaly-lab train --train <file|dir> [--test <file> --test_label <file>] [--columns a,b,...]
 *                     [original options] --out <run dir>
 *
 * A directory of parquet/CSV/npy files is one concatenated series (sorted by name). The min-max
 * scaler is fitted on the training data, stored in each checkpoint and applied to the test data.
 * Progress goes to stderr (a bar on a terminal, plain lines otherwise); the result summary to
 * stdout (JSON with --json).
 */
import { BACKEND_CHOICES } from '../../backend-choices';
import { defineOptions, formatFixed } from '../../browser/index';
import { UsageError, type OptionSpec, parseCommandArgs, stopOnSigint } from '../args';
import { COMMANDS } from '../registry';
import { TRAIN_OPTION_SPECS, TRAIN_DEFAULTS, RECOMMENDED_TRANSFER, type TrainOptions } from '../../training/options';

const { summary } = COMMANDS.train;

/** The model's shape: with --checkpoint it comes from the checkpoint unless given. */
type ShapeKey = 'n_features' | 'patch_size' | 'd_embed' | 'n_layer' | 'n_head' | 'diff_features';

/** This command's own options, typed; the training options (TRAIN_OPTION_SPECS) join them. */
const OWN_SPECS = defineOptions({
  train: { kind: 'string', required: true, help: 'training series: .parquet/.csv/.npy file or a directory of them' },
  test: { kind: 'string', help: 'test series evaluated at every summary step' },
  test_label: { kind: 'string', help: '.npy of 0/1 labels, one per test row' },
  columns: { kind: 'list', help: 'columns to use (default: all numeric columns)' },
  out: {
    kind: 'string',
    required: true,
    output: 'dir',
    help: 'run directory (config, history, state/step_<i>, manifest); locked while training',
  },
  resume: { kind: 'boolean', default: false, help: 'continue the run in --out from its newest checkpoint (or --checkpoint)' },
  overwrite: { kind: 'boolean', default: false, help: 'delete the run files in --out and start over' },
  scale: {
    kind: 'string',
    default: 'fit',
    choices: ['fit', 'none', 'checkpoint'],
    help: "min-max scaling: fit on train, none, or the checkpoint's scaler",
  },
  // No parse-time default, so ANOMALY_LAB_BACKEND (e.g. set by `anomaly-lab reproduce`) applies.
  backend: { kind: 'string', choices: BACKEND_CHOICES, help: 'tfjs backend (default: $ANOMALY_LAB_BACKEND or auto)' },
  json: { kind: 'boolean', default: false, help: 'print the result as JSON' },
});

/** No parse-time default for a shape option: with --checkpoint the shape comes from the checkpoint unless given. */
function shapeSpec(name: ShapeKey): OptionSpec {
  const spec = TRAIN_OPTION_SPECS[name];
  return {
    ...spec,
    default: undefined,
    help: `${spec.help} (default ${String(TRAIN_DEFAULTS[name])}; from the checkpoint with --checkpoint)`,
  };
}

/** No parse-time default for --max_steps: a transfer on the recommended recipe trains the recipe's budget. */
const MAX_STEPS_SPEC: OptionSpec = {
  ...TRAIN_OPTION_SPECS.max_steps,
  default: undefined,
  help: `${TRAIN_OPTION_SPECS.max_steps.help} (default ${TRAIN_DEFAULTS.max_steps}; ${RECOMMENDED_TRANSFER.max_steps} for a transfer on the recommended recipe)`,
};

function specs(): typeof OWN_SPECS & Omit<typeof TRAIN_OPTION_SPECS, ShapeKey | 'max_steps'> & Record<ShapeKey | 'max_steps', OptionSpec> {
  const shape: Record<ShapeKey, OptionSpec> = {
    n_features: shapeSpec('n_features'),
    patch_size: shapeSpec('patch_size'),
    d_embed: shapeSpec('d_embed'),
    n_layer: shapeSpec('n_layer'),
    n_head: shapeSpec('n_head'),
    diff_features: shapeSpec('diff_features'),
  };
  return { ...OWN_SPECS, ...TRAIN_OPTION_SPECS, ...shape, max_steps: MAX_STEPS_SPEC };
}

export async function run(argv: string[]): Promise<number> {
  const sp = specs();
  const options = parseCommandArgs(
    argv,
    sp,
    'anomaly-lab train --train <file|dir> [--test <file> --test_label <file>] --out <run dir> [options]',
    summary,
  );
  if (!options) return 0;
  if (options.test !== undefined && options.test_label === undefined) throw new UsageError('--test needs --test_label');
  if (options.test_label !== undefined && options.test === undefined) throw new UsageError('--test_label needs --test');
  if (options.resume && options.overwrite) throw new UsageError('give either --resume or --overwrite, not both');

  const trainOptions: Partial<TrainOptions> = {};
  for (const [name, value] of Object.entries(options)) {
    if (name in TRAIN_OPTION_SPECS && value !== undefined) (trainOptions as Record<string, unknown>)[name] = value;
  }
  // Loaded only now, so --help and option errors do not pay for starting tfjs.
  const { trainAnomalyBert } = await import('../../training/index.js');
  const { RunExistsError } = await import('../../runs/index.js');
  const { LockedError } = await import('../../io/index.js');
  // Ctrl-C: finish the current step, write a final checkpoint, release the run's lock; twice: abort.
  const interrupt = stopOnSigint('train');
  const result = await trainAnomalyBert({
    train: options.train,
    test: options.test,
    testLabels: options.test_label,
    replacingData: options.replacing_data,
    columns: options.columns,
    out: options.out,
    existing: options.resume ? 'resume' : options.overwrite ? 'overwrite' : 'refuse',
    shouldStop: interrupt.stopped,
    options: trainOptions,
    scale: options.scale,
    backend: options.backend,
    command: { argv: ['train', ...argv], outputOption: 'out', cwd: process.cwd() },
  })
    .catch((e: unknown) => {
      // The library names its field (existing); here it is the flag.
      if (e instanceof LockedError) throw new Error(`option --out ${e.message}`);
      if (e instanceof RunExistsError)
        throw new UsageError(
          `option --out ${JSON.stringify(e.dir)} ${e.what}${e.notARun ? '' : '; pass --resume to continue it or --overwrite to replace it'}`,
        );
      throw e;
    })
    .finally(() => interrupt.dispose());
  const last = result.history[result.history.length - 1];
  if (options.json) {
    process.stdout.write(
      JSON.stringify(
        {
          run_dir: result.runDir,
          final_step: result.finalStep,
          final_checkpoint: result.finalCheckpoint,
          stopped: result.stopped,
          backend: result.backend,
          last,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const lines = [`run: ${result.runDir}`, `final checkpoint: ${result.finalCheckpoint} (step ${result.finalStep})`];
    if (last?.test) {
      const t = last.test;
      lines.push(
        `test: best F1 ${formatFixed(t.without_pa.f1, 4)} without point adjustment; ${formatFixed(t.with_pa.f1, 4)} with PA ` +
          `(random scores with PA: ${formatFixed(t.random_with_pa.f1, 4)}; PA%K AUC ${t.pa_k_auc === undefined ? '–' : formatFixed(t.pa_k_auc, 4)})`,
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  return interrupt.stopped() ? 130 : 0;
}
