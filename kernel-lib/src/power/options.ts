/**
 * The power configs' choices and defaults, without the models: the CLI's `power synth` and
 * `power train` read them for their option specs, and `--help` must load no tfjs, which the
 * `power` barrel would (detector, pipeline). Both modules re-exported here are tfjs-free; the
 * barrel exports the same names.
 */
export { FAULT_TYPES, type FaultType } from './synth';
export { POWER_TRAIN_DEFAULTS, POWER_TRAIN_TARGETS } from './train-models';

/** The detection's defaults (the seed dashboard's): window length, threshold percentile and merge gap. */
export const POWER_DEFAULTS = {
  /** Window length in samples (the seed detector's input length). */
  sequenceLength: 50,
  /** Threshold percentile of the reconstruction MSE. */
  percentile: 95,
  /** Merge gap in samples: the seed's `merge_intervals(intervals, max_gap_samples, sample_time)` ("Max Merge Gap"). */
  maxGapSamples: 1500,
} as const;
