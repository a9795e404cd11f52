/** anomalybert: public API of this area (re-exported from the package root). */
export { AnomalyBert, parameterSpecs as anomalyBertParameterSpecs, describeConfig as describeAnomalyBertConfig } from './model';
export type { StateDict, StateTensor, ApplyOptions, CreateOptions } from './model';
export { ESS_CONFIG, WORKSHOP_CONFIG, validateConfig as validateAnomalyBertConfig, windowSize as anomalyBertWindowSize } from './config';
export type { AnomalyBertConfig, ResolvedAnomalyBertConfig } from './config';
export { fitDiffScales, withFirstDifferences } from './input-features';
export type { ParamSpec } from './layers';
export { slidingWindowSchedule, estimateScores, predictWindows } from './estimate';
export type { EstimateOptions, PredictOptions } from './estimate';
export {
  saveCheckpoint,
  loadCheckpoint,
  resolveCheckpointPath,
  readCheckpointWeights,
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
} from './checkpoint';
export type { SaveCheckpointOptions, LoadedCheckpoint, CheckpointMeta } from './checkpoint';
export { exportAnomalyBertOnnx, OnnxAnomalyBert, onnxRunnerFor } from './onnx';
