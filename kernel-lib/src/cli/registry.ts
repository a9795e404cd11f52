/**
 * The commands of `anomaly-lab`, listed statically: a name, its one-line summary and a lazy
 * `import()` of its module. `--help` reads the summaries only, so listing the commands (or
 * printing one command's options) loads no tfjs; running a command loads just that module.
 * A new command is one module under `./commands/` exporting `run(argv)` plus one entry here.
 */

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  summary: string;
  load(): Promise<CommandModule>;
}

export const COMMANDS = {
  estimate: {
    summary: 'anomaly scores of a series by overlapping sliding windows (original estimate.py)',
    load: () => import('./commands/estimate.js'),
  },
  export: {
    summary: 'write a model (AnomalyBERT checkpoint or power detector) as an ONNX file',
    load: () => import('./commands/export.js'),
  },
  metrics: {
    summary: 'precision/recall/F1/ESS score with and without point adjustment, PA%K and a random baseline',
    load: () => import('./commands/metrics.js'),
  },
  power: {
    summary: 'power-system faults: detect (LSTM autoencoder + classifier), train, synth',
    load: () => import('./commands/power.js'),
  },
  predict: {
    summary: 'raw AnomalyBERT outputs (logits) for windows shaped (n, window, columns)',
    load: () => import('./commands/predict.js'),
  },
  report: {
    summary: 'write an offline HTML report (charts, metrics, tables) and a markdown version of a run directory',
    load: () => import('./commands/report.js'),
  },
  reproduce: {
    summary: 're-run an experiment from its manifest and check that the metrics reproduce',
    load: () => import('./commands/reproduce.js'),
  },
  'score-steps': {
    summary: 'ESS score (point-adjusted) per saved step of a run and the first step above a target, with F1 and baselines',
    load: () => import('./commands/score-steps.js'),
  },
  synth: {
    summary: 'inject labelled synthetic anomalies into normal data (test.npy, test_label.npy)',
    load: () => import('./commands/synth.js'),
  },
  train: {
    summary: 'train or fine-tune AnomalyBERT on normal data (original train.py options)',
    load: () => import('./commands/train.js'),
  },
} satisfies Record<string, CommandEntry>;

export type CommandName = keyof typeof COMMANDS;

/** `anomaly-lab power <sub>`: the same shape one level down. */
export const POWER_COMMANDS = {
  detect: {
    summary: 'detect, merge, describe and classify anomalies in a Time,Va,Vb,Vc,Ia,Ib,Ic file',
    load: () => import('./commands/power-detect.js'),
  },
  synth: { summary: 'generate three-phase data with injected LG/LL/LLG/LLL/LLLG faults', load: () => import('./commands/power-synth.js') },
  train: {
    summary: 'train a detector (LSTM autoencoder) and/or a fault classifier (random forest)',
    load: () => import('./commands/power-train.js'),
  },
  inspect: {
    summary: "print a detector's architecture (Keras .h5 or detector dir) as JSON",
    load: () => import('./commands/power-inspect.js'),
  },
} satisfies Record<string, CommandEntry>;

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}
