/** The anomaly viewer's data contract (v1): types, schema, compact arrays, validation, builders. */
export * from './types';
export { viewerSchemaV1 } from './schema';
export {
  encodeArray as encodeViewerArray,
  decodeArray as decodeViewerArray,
  decodeFloat32 as decodeViewerFloat32,
  decodeFloat64 as decodeViewerFloat64,
  bytesToBase64,
  base64ToBytes,
  type ViewerTypedArray,
} from './encoding';
export { validateViewerBundle, parseViewerBundle, decodeViewerBundle, type BundleValidation } from './validate';
export {
  buildViewerBundle,
  anomalyBertViewerBundle,
  powerViewerBundle,
  trainingViewerBundle,
  viewerBundleToJSON,
  type ViewerBundleInput,
  type ViewerSeriesInput,
  type ViewerScoresInput,
  type AnomalyBertViewerInput,
  type PowerViewerInput,
} from './builders';
export {
  BundleDetector,
  initialDetectionSettings,
  checkDetectionSettings,
  summarizeDetection,
  searchSorted,
  type DetectionSettings,
  type DetectionResult,
  type DetectedInterval,
  type DetectionSummary,
} from './detection';
export {
  THRESHOLD_MODES,
  THRESHOLD_MODE_INFO,
  THRESHOLD_PARAM_SCHEMA,
  isThresholdMode,
  ruleRate,
  describeThreshold,
  thresholdPhrase,
  switchThresholdMode,
  completeThresholdRule,
  rateFromPercentile,
  percentileFromRate,
  type ThresholdRule,
  type ThresholdModeInfo,
  type ControlReading,
  type DescribeFormat,
} from './threshold';
export { inferUnit, inferUnits } from './units';
export { minMaxDownsample, flaggedPoints, type DownsampledTrace } from './downsample';
export { anomaliesCsv, markdownReport, csvCell, mdText, formatX, axisValueText, durationOf, durationUnit } from './export';
export {
  metricsTable,
  intervalsTable,
  tableMarkdown,
  shareText,
  rateText,
  METRIC_ROWS,
  type ViewerTable,
  type TableColumn,
  type TableInterval,
} from './tables';
export {
  signalsFigure,
  scoresFigure,
  faultDistributionFigure,
  timelineFigure,
  featureImportanceFigure,
  trainingFigure,
  lineChartFigure,
  figureToJSON,
  signalPanels,
  bandsForDrawing,
  intervalBand,
  baseLayout,
  isDarkTheme,
  SIGNAL_LAYOUTS,
  PALETTE,
  LIGHT_THEME,
  DEFAULT_FIGURE_OPTIONS,
  type Figure,
  type PlotTrace,
  type PlotLayout,
  type FigureTheme,
  type FigureColors,
  type FigureOptions,
  type SignalLayout,
  type XRange,
  type LineChartSpec,
} from './figures';
