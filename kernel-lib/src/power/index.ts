/** power: public API of this area (re-exported from the package root). */
export {
  POWER_SIGNALS,
  POWER_TIME_COLUMN,
  loadPowerData,
  parsePowerCsv,
  powerDataFromColumns,
  validatePowerColumns,
  signalMatrix,
  powerDataToCsv,
  powerDataToDataFrame,
  writePowerParquet,
} from './data';
export type { PowerData, PowerSignal, PowerDataOptions } from './data';
export { loadKerasH5, loadKerasArchive, parseKerasModelConfig, buildKerasModel, KerasMultiHeadAttention } from './keras-h5';
export type { KerasModelInfo, LoadedKerasModel, LoadKerasOptions } from './keras-h5';
export { compileRecurrentInference } from './fast-inference';
export type { CompiledInference } from './fast-inference';
export { exportDetectorOnnx, exportKerasGraphOnnx, OnnxDetector } from './onnx';
export { saveDetector, loadDetector, DETECTOR_FORMAT } from './detector-io';
export type { DetectorMeta, LoadedDetector } from './detector-io';
export { loadPowerScaler, loadPowerClassifier, loadClassNames } from './models';
export {
  POWER_FEATURE_NAMES,
  FEATURE_STATS,
  CORRELATION_FEATURES,
  extractFeatures,
  featureMatrix,
  intervalRows,
  segmentMoments,
  pearson,
} from './features';
export type { FeatureRow } from './features';
export {
  POWER_DEFAULTS,
  standardize,
  scaleSignals,
  windowCount,
  preprocessData,
  checkDetectorShape,
  reconstructionErrors,
  detectAnomalies,
  thresholdWindows,
  mergeAnomalyIntervals,
  predictAnomalyIntervals,
  analyzePowerData,
} from './pipeline';
export { runPowerDetection, checkPowerDetectionConfig } from './detection';
export { trainPowerModels, checkPowerTrainConfig, POWER_TRAIN_DEFAULTS, POWER_TRAIN_TARGETS } from './train-models';
export type { PowerTrainConfig } from './train-models';
export type { PowerDetectionConfig, PowerDetectionResult } from './detection';
export type {
  PowerScaler,
  PowerClassifier,
  DetectOptions,
  PowerDetection,
  IntervalPrediction,
  PowerPredictOptions,
  PowerAnalysisOptions,
  PowerAnalysis,
} from './pipeline';
export { powerResultsJson, powerAnomaliesCsv, faultDistribution, powerReportMarkdown, writePowerResults } from './report';
export type { PowerResultsJSON } from './report';
export { FAULT_TYPES, generatePowerData, generateNormalPowerData } from './synth';
export type { FaultType, InjectedFault, PowerSynthOptions, PowerSynthResult } from './synth';
export { trainRandomForest, classifierAccuracy, permutationImportance } from './forest';
export type { ForestOptions, PermutationImportance } from './forest';
export { createLstmAutoencoder, trainDetector, SEED_AUTOENCODER, WORKSHOP_AUTOENCODER } from './train-detector';
export type { AutoencoderConfig, TrainDetectorOptions, TrainedDetector } from './train-detector';
export { trainFaultClassifier } from './train-classifier';
export type { LabelledRecording, TrainClassifierOptions, TrainedClassifier } from './train-classifier';
export { runPowerExperiment, matchFaults } from './experiment';
export type { PowerExperimentOptions, PowerExperimentResult, FaultMatch } from './experiment';
export {
  TRANSFORMER_CLASSIFIER_FILES,
  TRANSFORMER_FEATURE_NAMES,
  loadTransformerClassifier,
  transformerWindowStarts,
  transformerFeatures,
  classifyIntervalsTransformer,
  transformerPredictionsJson,
} from './transformer-classifier';
export type {
  TransformerClassifier,
  TransformerClassifierMetadata,
  TransformerPrediction,
  TransformerClassifyOptions,
} from './transformer-classifier';
