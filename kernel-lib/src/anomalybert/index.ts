/** anomalybert: public API of this area (re-exported from the package root). */
export { AnomalyBert, parameterSpecs, describeConfig } from './model';
export type { StateDict, StateTensor, ApplyOptions, CreateOptions } from './model';
export { ESS_CONFIG, WORKSHOP_CONFIG, validateConfig, windowSize } from './config';
export type { AnomalyBertConfig } from './config';
export type { ParamSpec } from './layers';
