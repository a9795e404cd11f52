/** runs: run directories (claim, checkpoints, history) and experiment manifests (public API of this area, the `runs` namespace). */
export {
  RunDirectory,
  readRunHistory,
  listCheckpointSteps,
  stepDirName,
  claimRunDirectory,
  completeCheckpointSteps,
  RunExistsError,
  EXISTING_RUN_POLICIES,
} from './run-dir';
export type { HistoryEntry, TestSummary, CheckpointRecord, ExistingRunPolicy, RunDirClaim } from './run-dir';
export {
  MANIFEST_VERSION,
  MANIFEST_FILE,
  sha256File,
  hashInputs,
  libraryVersions,
  createManifest,
  writeManifest,
  readManifest,
  verifyInputs,
  compareMetrics,
} from './manifest';
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
} from './manifest';
