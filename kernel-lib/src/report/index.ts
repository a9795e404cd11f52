/** report: offline run reports and reproducing a run from its manifest (public API of this area, the `report` namespace). */
export { writeRunReport, readRunData, reportSections, plotlyInlineSource } from './run-report';
export type { RunReportOptions, RunReportFiles, RunData } from './run-report';
export { reproduceRun, replaceOption, boundedReplayArgv, REPLAYABLE } from './reproduce';
export type { ReproduceOptions, ReproduceResult, CommandRunner } from './reproduce';
