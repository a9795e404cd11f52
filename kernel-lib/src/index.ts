/**
 * anomaly-lab: the kernel library (Node / tslab).
 *
 * The public API is namespaced, one namespace per area, each also a package subpath
 * (`import * as al from 'anomaly-lab'; al.power.loadKerasH5(...)` or
 * `import { loadKerasH5 } from 'anomaly-lab/power'`). The root adds, by name, the few dozen
 * names a notebook reaches for first (the README's quick start, `notebooks/src/*.ts`); anything
 * else is under its namespace. A name belongs to one area, so no area renames to avoid another.
 */
export * as core from './browser/index';
export * as limits from './limits';
export * as io from './io/index';
export * as render from './render/index';
export * as pickle from './pickle/index';
export * as onnx from './onnx/index';
export * as runs from './runs/index';
export * as anomalybert from './anomalybert/index';
export * as power from './power/index';
export * as training from './training/index';
export * as evaluation from './evaluation/index';
export * as report from './report/index';
export * as notebook from './notebook/index';

// ---- the notebook's first names ----
export { LIBRARY_VERSION } from './version';
export { initBackend, activeBackend, BACKEND_CHOICES } from './backend';
export type { BackendInfo } from './backend';
// data
export { loadSeries, sliceSeries } from './io/index';
export type { Series } from './io/index';
export { loadPowerData, analyzePowerData } from './power/index';
export type { PowerData, PowerAnalysis } from './power/index';
// model, training, evaluation
export { loadCheckpoint, estimateScores } from './anomalybert/index';
export { trainAnomalyBert } from './training/index';
export type { TrainOptions, TrainResult } from './training/index';
export { prepareMetrics, sweepRates, sweepBestF1 } from './browser/index';
export type { MetricRow } from './browser/index';
export { synthesizeTestSet, scoreSteps } from './evaluation/index';
export type { StepScoreReport } from './evaluation/index';
// viewing and reporting
export { anomalyBertViewerBundle, powerViewerBundle, viewerBundleToJSON, VIEWER_FILE_SUFFIX } from './browser/index';
export type { ViewerBundle } from './browser/index';
export { display, showViewer, showTable, showFrame, showHtml, ProgressBar, TrainingMonitor } from './notebook/index';
export { writeRunReport } from './report/index';
