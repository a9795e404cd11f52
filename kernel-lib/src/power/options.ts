/**
 * The power configs' choices and defaults, without the models: the CLI's `power synth` and
 * `power train` read them for their option specs, and `--help` must load no tfjs, which the
 * `power` barrel would (detector, pipeline). Both modules re-exported here are tfjs-free; the
 * barrel exports the same names.
 */
export { FAULT_TYPES, type FaultType } from './synth';
export { POWER_TRAIN_DEFAULTS, POWER_TRAIN_TARGETS } from './train-models';
