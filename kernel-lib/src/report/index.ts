/** report: public API of this area (re-exported from the package root). */
export {
  sha256File,
  hashInputs,
  libraryVersions,
  createManifest,
  writeManifest,
  readManifest,
  verifyInputs,
  compareMetrics,
} from '../runs/manifest';
export type {
  ExperimentManifest,
  ManifestInit,
  ManifestInput,
  ManifestCheckpoint,
  ManifestOutput,
  ManifestCommand,
  ManifestBackend,
  InputDrift,
  MetricDifference,
} from '../runs/manifest';
export { writeRunReport, readRunData, reportSections, plotlyInlineSource } from './run-report';
export type { RunReportOptions, RunReportFiles, RunData } from './run-report';
export { reproduceRun, replaceOption, boundedReplayArgv, REPLAYABLE } from './reproduce';
export type { ReproduceOptions, ReproduceResult, CommandRunner } from './reproduce';
