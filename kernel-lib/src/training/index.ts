/** training: AnomalyBERT training, degradations, optimiser, schedule, transfer and LoRA (public API of this area, the `training` namespace). */
export {
  makeDegradedBatch,
  ReplacingLengthTable,
  replacingLengthBounds,
  replacingWeights,
  chooseDegradedColumns,
  degradationTypeFor,
  softReplace,
  uniformReplace,
  peakNoise,
  peakLabelInterval,
  lengthenInterval,
  shortenInterval,
  whiteNoise,
  DEFAULT_DEGRADATION_PROBABILITIES,
  REPLACING_TABLE_LENGTH,
  WHITE_NOISE_STD,
  FLIP_MODES,
} from './degrade';
export type {
  DegradeSeries,
  FlipMode,
  DegradationType,
  DegradationProbabilities,
  DegradationRecord,
  DegradedBatch,
  DegradedBatchOptions,
} from './degrade';
export { TRAIN_DEFAULTS, TRAIN_OPTION_SPECS, MODEL_PARTS, resolveTrainOptions, windowLength } from './options';
export type { TrainOptions, ModelPart } from './options';
export { cosineWarmupLr, lrForStep, lrCurve } from './schedule';
export type { CosineScheduleConfig } from './schedule';
export { AdamW, encodeAdamWState, decodeAdamWState } from './optimizer';
export type { AdamWConfig, AdamWState } from './optimizer';
export { estimateTrainingBytes, checkTrainingMemory } from './budget';
export { createTerminalReporter, formatStepLine, formatSummaryLine } from './progress';
export type { StepProgress, OnProgress, OnSummary, TerminalReporter, TerminalReporterOptions } from './progress';
export { modelPartOf, trainedParts, selectTrainableVariables, prepareStartingPoint } from './transfer';
export type { StartingPoint, ModelShapeOptions } from './transfer';
export { stageVariables, layerLrScale, remapEmbedding, DROPPED_COLUMN_VALUE } from './transfer';
export type { TransferRecord } from './transfer';
export { LoraAdapters, loraTargets } from './lora';
export { resolveTransferRecipe, resolveEstimation, recordedEstimation, trainedRecipeBudget } from './recipe';
export type { ResolvedRecipe, RecipeContext } from './recipe';
export { RECOMMENDED_TRANSFER, SCRATCH_ESTIMATION, FREEZE_STAGES, parseColumnMap, parseFreezeSchedule } from './options';
export type { FreezeStage, EstimationDefaults } from './options';
export {
  chargeStatusFromSoc,
  temperatureAnomaly,
  voltageGapAnomaly,
  essContextFor,
  minChargeRun,
  ESS_COLUMNS,
  CHARGE_STATUS_HALF_SPAN,
} from './ess-anomalies';
export type { EssContext } from './ess-anomalies';
export { trainAnomalyBert, trainingStep, evaluateTestScores, bceWithLogits } from './train';
export type { TrainInput, TrainResult, ScaleMode, TrainingStepOptions } from './train';
export { ParallelTrainer, coreCount } from './parallel';
export type { ParallelStepOptions } from './parallel';
export { OnnxTrainingEngine, accuracyOfLogits } from './onnx-step';
export type { OnnxStepOptions, OnnxStepResult } from './onnx-step';
