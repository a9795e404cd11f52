/** notebook: tslab display, progress, frames and sample data (public API of this area, the `notebook` namespace). */
export { inNotebook, sendDisplayData, newDisplayId } from './kernel';
export type { MimeBundle } from './kernel';
export { viewerSummaryHtml, viewerSummaryText, initialDetection } from './summary';
export type { SummaryOptions } from './summary';
export { DisplayHandle, display, viewerMimeBundle, showViewer, showHtml, showTable } from './display';
export type { DisplayHandleOptions, ShowOptions } from './display';
export { ProgressBar, TrainingMonitor } from './progress';
export type { ProgressBarOptions, TrainingMonitorOptions } from './progress';
export { danfojs, seriesFrame, describeSeries, intervalsFrame, metricsFrame, frameCells, showFrame } from './frames';
export type { FrameSeries } from './frames';
export { generateEssSiteA, generateEssSiteB } from './sample-data';
export type { EssSiteOptions } from './sample-data';
