/**
 * evaluation: judging a detector (public API of this area, the `evaluation` namespace of the package):
 * labelled synthetic test sets, the baselines a model must beat, and ESS scoring of a run's saved steps.
 * Sits above training (a synthetic set reuses the degradations) and loads no tfjs, so the CLI's
 * `synth` and `score-steps` commands can import it for their `--help`.
 */
export {
  synthesizeTestSet,
  checkSynthOptions,
  synthLengthBounds,
  triangleWeights,
  peakValue,
  SYNTH_ANOMALY_TYPES,
  SYNTH_ESS_ANOMALY_TYPES,
  SYNTH_SOFT_WEIGHT,
  SYNTH_UNIFORM_BAND,
  SYNTH_PEAK_MIN_SHIFT,
} from './synth-anomalies';
export type { SynthAnomalyType, SynthInterval, SynthOptions, SynthOptionValues, SynthTestSet } from './synth-anomalies';
// the ESS context the opt-in ESS anomaly types need (defined beside the degradations that share it)
export { ESS_COLUMNS, essContextFor } from '../training/ess-anomalies';
export type { EssContext } from '../training/ess-anomalies';
export { fitBaselineStats, zScoreBaseline, firstDifferenceBaseline, evaluateBaselines } from './baselines';
export type { BaselineStats, BaselineCombine, BaselineEvaluation, BaselineReport } from './baselines';
export {
  scoreSteps,
  scoreStepsAsync,
  checkScoreStepsOptions,
  scoreStepSeries,
  scoreOneStep,
  listStepScoreFiles,
  readStepScores,
  readLabels,
} from './score-steps';
export type { StepScoreRow, StepScoreReport, ScoreStepsOptions, ScoreStepsAsyncOptions, StepScoresFile } from './score-steps';
