/** anomalybert: the AnomalyBERT model, one module per concept of the original (public API of this area, the `anomalybert` namespace). */
export { AnomalyBert, parameterSpecs, describeConfig } from './model';
export { relativePositionBias } from './attention';
export type { StateDict, StateTensor, ApplyOptions, CreateOptions } from './model';
export { ESS_CONFIG, WORKSHOP_CONFIG, validateConfig, windowSize, checkWindowSliding, DEFAULT_WINDOW_SLIDING } from './config';
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
export { exportAnomalyBertOnnx, OnnxAnomalyBert, onnxRunnerFor, onnxInferenceSessionsCreated } from './onnx';
export type { AnomalyBertOnnxExportOptions } from './onnx';
export { exportAnomalyBertTrainingGraph, gradOutputName, dropoutInputName } from './onnx-train';
export type { TrainingGraph, TrainingGraphOptions } from './onnx-train';
