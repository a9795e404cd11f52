/**
 * The training run directory (contract in briefs/contracts.md; read by notebooks, reports and
 * the viewer):
 *
 *   run/
 *     config.json                 all training options + data sources (+ transfer notes)
 *     history.json                HistoryEntry[] — one per summary step
 *     state/step_<i>/             model checkpoint after i updates (AnomalyBERT checkpoint format)
 *     state/step_<i>_scores.npy   test-set scores (length, 1) float32, when a test set is given
 *     state/step_<i>_optimizer.bin  AdamW moments + RNG/length-table state, for exact resume
 *     manifest.json               reproducibility manifest
 *
 * Every file is written atomically (temp + rename), so a run killed at any moment leaves only
 * complete files; `history.json` and `manifest.json` are rewritten whole each summary.
 *
 * A run directory belongs to one process at a time: `claimRunDirectory` takes its lock
 * (`.anomaly-lab.lock`, see io/lock.ts) before anything is read or written, and refuses a
 * directory that already holds a run unless the caller says `existing: 'resume'` (continue it) or
 * `'overwrite'` (delete its run files first). Without that, two trainings into one directory, or a
 * new training over a finished one, would interleave their checkpoints.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic, cleanAtomicLeftovers, assertOutputPath } from '../io/atomic';
import { acquireDirLock, LOCK_FILE, type DirLock } from '../io/lock';
import { writeNpy } from '../io/npy';
import { createManifest, readManifest, MANIFEST_FILE, type ManifestInit, type ExperimentManifest } from './manifest';
import type { MetricRow } from '../browser/metrics';
import { readJsonFile } from '../io/json';

/** Test-set evaluation at one summary step. */
export interface TestSummary {
  /** Best F1 over the rate sweep, no point adjustment. */
  without_pa: MetricRow;
  /** Best F1 over the rate sweep with point adjustment. */
  with_pa: MetricRow;
  /** Uniformly random scores on the same labels, best of the same sweep with PA (how much PA flatters). */
  random_with_pa: MetricRow;
  /** Area under the PA%K F1 curve (K = 0…100) at the with_pa rate. */
  pa_k_auc?: number;
}

export interface HistoryEntry {
  step: number;
  loss: number;
  accuracy: number;
  lr: number;
  /** Wall seconds of training up to this step, summed over resumed processes. */
  elapsed_s: number;
  grad_norm?: number;
  test?: TestSummary;
}

export interface CheckpointRecord {
  step: number;
  /** Relative to the run directory. */
  path: string;
  scores?: string;
  optimizer?: string;
}

export const stepDirName = (step: number): string => `step_${step}`;

/** What to do when the run directory already holds a run (library field `existing`). */
export type ExistingRunPolicy = 'refuse' | 'resume' | 'overwrite';
export const EXISTING_RUN_POLICIES: readonly ExistingRunPolicy[] = ['refuse', 'resume', 'overwrite'];

/** Files and directories a training run writes; the only ones `existing: 'overwrite'` deletes. */
const RUN_ENTRIES = ['state', 'history.json', 'manifest.json', 'config.json', 'report'];

/** The run directory already holds a run and the policy is 'refuse' (field `existing`). */
export class RunExistsError extends Error {
  readonly field = 'existing';
  readonly dir: string;
  /** What was found, e.g. 'already holds a run (checkpoints up to step 100)'. */
  readonly what: string;
  /** True when the directory holds other files, not a run: no policy allows it. */
  readonly notARun: boolean;
  constructor(dir: string, what: string, notARun = false) {
    super(
      `out: run directory ${JSON.stringify(dir)} ${what}${notARun ? '' : "; set existing: 'resume' to continue it or 'overwrite' to replace it"}`,
    );
    this.notARun = notARun;
    this.name = 'RunExistsError';
    this.dir = dir;
    this.what = what;
  }
}

/** A claimed (locked) run directory. Release it when the run ends (also released at process exit). */
export interface RunDirClaim {
  readonly root: string;
  readonly lock: DirLock;
  /** Steps with a complete checkpoint found when it was claimed (before any overwrite). */
  readonly previousSteps: number[];
  release(): void;
}

function visibleEntries(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f !== LOCK_FILE && !f.startsWith(`${LOCK_FILE}.stale-`));
}

/** Steps whose checkpoint directory is complete (config.json is written last), ascending. */
export function completeCheckpointSteps(runDir: string): number[] {
  return listCheckpointSteps(runDir).filter((s) => fs.existsSync(path.join(runDir, 'state', stepDirName(s), 'config.json')));
}

/**
 * Claim a run directory before a run reads or writes anything in it: checks that the path is a
 * directory or new, takes the exclusive lock, then applies `existing` when it already holds a run
 * (any of config/history/manifest/state): 'refuse' throws RunExistsError, 'resume' keeps it,
 * 'overwrite' deletes the run's own files (never other files: a non-empty directory that is not a
 * run is refused in every mode). `resumingInside` marks an explicit resume from one of its own
 * checkpoints (`checkpoint: run/state/step_<i>`, `initial_iter: i`), which needs no policy.
 */
export function claimRunDirectory(
  root: string,
  opts: { existing?: ExistingRunPolicy; resumingInside?: boolean; purpose?: string } = {},
): RunDirClaim {
  const dir = path.resolve(root);
  const existing = opts.existing ?? 'refuse';
  if (!EXISTING_RUN_POLICIES.includes(existing))
    throw new Error(`existing must be one of ${EXISTING_RUN_POLICIES.join('|')}, got ${JSON.stringify(existing)}`);
  assertOutputPath(root, 'dir', 'out');
  fs.mkdirSync(dir, { recursive: true });
  const lock = acquireDirLock(dir, opts.purpose ?? 'anomaly-lab training run');
  try {
    const entries = visibleEntries(dir);
    const isRun = entries.some((e) => RUN_ENTRIES.includes(e));
    const previousSteps = isRun ? completeCheckpointSteps(dir) : [];
    if (entries.length > 0 && !isRun) {
      throw new RunExistsError(
        dir,
        `exists, is not empty and is not a run directory (holds ${entries
          .slice(0, 3)
          .map((e) => JSON.stringify(e))
          .join(', ')}${entries.length > 3 ? ', …' : ''}); give a new or empty directory`,
        true,
      );
    }
    if (isRun && existing === 'refuse' && !opts.resumingInside) {
      const last = previousSteps[previousSteps.length - 1];
      throw new RunExistsError(dir, `already holds a run${last !== undefined ? ` (checkpoints up to step ${last})` : ''}`);
    }
    if (isRun && existing === 'overwrite') {
      for (const e of RUN_ENTRIES) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
    }
    return { root: dir, lock, previousSteps, release: () => lock.release() };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * Writer for one run directory. `open` on an existing run with `resumeFrom` keeps its history
 * before that step (resume). The manifest format is runs/manifest.ts:
 * inputs are hashed once at open; metrics and checkpoints are refreshed at every summary.
 */
export class RunDirectory {
  readonly root: string;
  readonly stateDir: string;
  private history: HistoryEntry[] = [];
  private manifest!: ExperimentManifest;
  private checkpoints: CheckpointRecord[] = [];
  private readonly startedAt = Date.now();
  private previousElapsedS = 0;
  private claim?: RunDirClaim;
  private ownsClaim = false;

  private constructor(root: string) {
    this.root = path.resolve(root);
    this.stateDir = path.join(this.root, 'state');
  }

  /**
   * Create (or reopen for resume) a run directory and write its first manifest.
   * `init.checkpoints` / `metrics` are managed here; pass kind, config, seed, inputs, command.
   * Pass the `claim` of `claimRunDirectory` when the caller took it earlier; otherwise the
   * directory is claimed here (a resume keeps an existing run, anything else must find none) and
   * released by `close()`.
   */
  static async open(root: string, init: ManifestInit, opts: { resumeFrom?: number; claim?: RunDirClaim } = {}): Promise<RunDirectory> {
    const run = new RunDirectory(root);
    run.claim = opts.claim ?? claimRunDirectory(root, { existing: opts.resumeFrom !== undefined ? 'resume' : 'refuse' });
    run.ownsClaim = opts.claim === undefined;
    try {
      await run.init(init, opts.resumeFrom);
    } catch (e) {
      run.close();
      throw e;
    }
    return run;
  }

  /** Release the directory's lock if `open` took it (idempotent). */
  close(): void {
    if (this.ownsClaim) this.claim?.release();
  }

  private async init(init: ManifestInit, resumeFrom: number | undefined): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const run = this;
    fs.mkdirSync(run.stateDir, { recursive: true });
    cleanAtomicLeftovers(run.root);
    cleanAtomicLeftovers(run.stateDir);
    const histFile = path.join(run.root, 'history.json');
    let created: string | undefined;
    if (resumeFrom !== undefined && fs.existsSync(histFile)) {
      // Entries at or after the resume step are recomputed by this process.
      run.history = readJsonFile<HistoryEntry[]>(histFile).filter((e) => e.step < resumeFrom);
      run.previousElapsedS = run.history.length > 0 ? run.history[run.history.length - 1].elapsed_s : 0;
      const manFile = path.join(run.root, 'manifest.json');
      if (fs.existsSync(manFile)) {
        const previous = readManifest(manFile);
        created = previous.created;
        // The checkpoint resumed from stays listed until its rewrite is recorded (a failed rewrite keeps it).
        run.checkpoints = (previous.checkpoints as CheckpointRecord[]).filter((c) => typeof c.step === 'number' && c.step <= resumeFrom);
      }
    }
    run.manifest = await createManifest(run.root, { ...init, created: created ?? init.created });
    run.refreshManifest('running');
    run.writeManifestNow();
  }

  /** Seconds of training by earlier processes of this run plus this one so far. */
  get elapsedS(): number {
    return this.previousElapsedS + (Date.now() - this.startedAt) / 1000;
  }

  get entries(): readonly HistoryEntry[] {
    return this.history;
  }

  writeConfig(config: Record<string, unknown>): void {
    writeFileAtomic(path.join(this.root, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  }

  checkpointPath(step: number): string {
    return path.join(this.stateDir, stepDirName(step));
  }

  scoresPath(step: number): string {
    return path.join(this.stateDir, `${stepDirName(step)}_scores.npy`);
  }

  optimizerPath(step: number): string {
    return path.join(this.stateDir, `${stepDirName(step)}_optimizer.bin`);
  }

  /** Test scores of one step, (length, 1) float32. */
  writeScores(step: number, scores: Float32Array): string {
    const file = this.scoresPath(step);
    writeNpy(file, scores, [scores.length, 1]);
    return file;
  }

  writeOptimizer(step: number, bytes: Uint8Array): string {
    const file = this.optimizerPath(step);
    writeFileAtomic(file, bytes);
    return file;
  }

  /**
   * Record a summary after its files exist: appends to history.json, lists the checkpoint in the
   * manifest and rewrites both (atomically, history first).
   */
  recordSummary(entry: HistoryEntry, files: { checkpoint?: string; scores?: string; optimizer?: string }): void {
    this.history = this.history.filter((e) => e.step !== entry.step);
    this.history.push(entry);
    writeFileAtomic(path.join(this.root, 'history.json'), JSON.stringify(this.history, null, 2) + '\n');
    if (files.checkpoint) {
      const rel = (f?: string): string | undefined => (f ? path.relative(this.root, f) : undefined);
      this.checkpoints = this.checkpoints.filter((c) => c.step !== entry.step);
      const rec: CheckpointRecord = { step: entry.step, path: rel(files.checkpoint)! };
      if (files.scores) rec.scores = rel(files.scores);
      if (files.optimizer) rec.optimizer = rel(files.optimizer);
      this.checkpoints.push(rec);
    }
    this.refreshManifest('running');
    this.writeManifestNow();
  }

  /** Mark the run finished (or record extra metrics, e.g. the final checkpoint); releases a lock `open` took. */
  finish(extraMetrics: Record<string, unknown> = {}): void {
    this.refreshManifest('finished', extraMetrics);
    this.writeManifestNow();
    this.close();
  }

  private refreshManifest(status: 'running' | 'finished', extra: Record<string, unknown> = {}): void {
    const last = this.history[this.history.length - 1];
    let best: { step: number; f1: number } | undefined;
    for (const e of this.history) {
      if (e.test && (!best || e.test.without_pa.f1 > best.f1)) best = { step: e.step, f1: e.test.without_pa.f1 };
    }
    this.manifest.metrics = { status, ...(last ? { last } : {}), ...(best ? { best_f1_without_pa: best } : {}), ...extra };
    this.manifest.checkpoints = [...this.checkpoints].sort((a, b) => a.step - b.step);
    this.manifest.elapsed_s = this.elapsedS;
  }

  private writeManifestNow(): void {
    // Synchronous, so a failed write (a full disk) throws here, naming the file, instead of
    // becoming an unhandled rejection.
    writeFileAtomic(path.join(this.root, MANIFEST_FILE), JSON.stringify(this.manifest, null, 2) + '\n');
  }

  getManifest(): ExperimentManifest {
    return JSON.parse(JSON.stringify(this.manifest)) as ExperimentManifest;
  }
}

/** Read a run directory's history (for notebooks and reports). Errors name the file. */
export function readRunHistory(runDir: string): HistoryEntry[] {
  const file = path.join(runDir, 'history.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir}: not a training run directory (no history.json)`);
  return readJsonFile<HistoryEntry[]>(file);
}

/** Steps that have a checkpoint directory in `run/state`, ascending. */
export function listCheckpointSteps(runDir: string): number[] {
  const dir = path.join(runDir, 'state');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((f) => /^step_(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && fs.statSync(path.join(dir, m[0])).isDirectory())
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
