/**
 * Browser-safe part of anomaly-lab: pure numeric code on typed arrays and the viewer's data
 * contract. Nothing here may import Node built-ins or tfjs; the JupyterLab extension imports it.
 */
export { createRng, restoreRng } from './random';
export type { Rng, RngState } from './random';
export {
  quantileLinear,
  quantileSorted,
  thresholdAtRate,
  labelIntervals,
  pointAdjust,
  metricRow,
  scoreAtRate,
  sweepBestF1,
  sweepRates,
  arangeLike,
  ewmaSmooth,
  paKCurve,
  randomScoresBaseline,
  randomScoresBaselineAsync,
  prepareMetrics,
  MetricEvaluator,
} from './metrics';
export type { MetricRow, Confusion, PaKCurve, SweepOptions, RandomBaselineOptions, RandomBaselineProgressOptions } from './metrics';
export { mergeIntervals, intervalsFromFlags } from './intervals';
export { escapeControl, quoteName, mdCode } from './text';
export { formatNumber, formatSignificant, formatFixed, formatPercent, markdownTable, type Cell, type MdCell } from './format';
export { FieldError, quoteField } from './errors';
export { AbortedError, abortPoint, loopAbortPoint, throwIfAborted, type AbortProgress } from './abort';
export { assertBinaryLabels, toBinaryLabels, type LabelCheckOptions } from './labels';
export { defineOptions } from './options';
export { parseArgs, formatHelp, UsageError } from './argv';
export type { OptionKind, OptionSpec, OptionSpecs, OptionValue, ParsedOptions } from './options';
export * from './viewer/index';
