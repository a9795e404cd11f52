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
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic, cleanAtomicLeftovers } from '../io/atomic';
import { writeNpy } from '../io/npy';
// TEMP until browser/metrics.ts lands: same shape as its MetricRow (contracts.md).
interface MetricRow { anomaly_rate: number; precision: number; recall: number; f1: number; ess_score: number }

/** Test-set evaluation at one summary step. */
export interface TestSummary {
  /** Best F1 over the rate sweep, no point adjustment. */
  without_pa: MetricRow;
  /** Best F1 over the rate sweep with point adjustment. */
  with_pa: MetricRow;
  /** Random scores on the same labels, with PA, at the with_pa rate (how much PA flatters). */
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

export interface InputRecord {
  role: 'train' | 'test' | 'test_label' | 'replacing_data' | 'checkpoint' | string;
  path: string;
  bytes: number;
  sha256: string;
}

export interface CheckpointRecord {
  step: number;
  /** Relative to the run directory. */
  path: string;
  scores?: string;
  optimizer?: string;
}

export interface RunManifest {
  format: 'anomaly-lab-run-v1';
  created: string;
  updated: string;
  status: 'running' | 'finished';
  library: Record<string, string>;
  backend: string;
  seed: number;
  config: Record<string, unknown>;
  inputs: InputRecord[];
  /** Last summary and the best test F1 (without PA) so far. */
  metrics: { last?: HistoryEntry; best_f1_without_pa?: { step: number; f1: number } };
  checkpoints: CheckpointRecord[];
  /** Checkpoint the run started from (transfer or resume), if any. */
  parent?: string;
}

export const stepDirName = (step: number): string => `step_${step}`;

/** sha256 of a file or of every file in a directory (sorted names), streamed in chunks. */
export function sha256OfPath(p: string): { bytes: number; sha256: string } {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const files = fs.statSync(p).isDirectory()
    ? fs.readdirSync(p).sort().map((f) => path.join(p, f)).filter((f) => fs.statSync(f).isFile())
    : [p];
  const buf = Buffer.alloc(1 << 20);
  for (const f of files) {
    if (files.length > 1) hash.update(path.basename(f) + '\0');
    const fd = fs.openSync(f, 'r');
    try {
      let n: number;
      while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
        hash.update(buf.subarray(0, n));
        bytes += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function describeInput(role: string, p: string): InputRecord {
  return { role, path: path.resolve(p), ...sha256OfPath(p) };
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: cannot read JSON (${(e as Error).message})`);
  }
}

/** Writer for one run directory. Creating it on an existing run keeps its history (resume). */
export class RunDirectory {
  readonly root: string;
  readonly stateDir: string;
  private history: HistoryEntry[] = [];
  private manifest: RunManifest;

  constructor(root: string, init: Omit<RunManifest, 'format' | 'created' | 'updated' | 'status' | 'metrics' | 'checkpoints'>, opts: { resumeFrom?: number } = {}) {
    this.root = path.resolve(root);
    this.stateDir = path.join(this.root, 'state');
    fs.mkdirSync(this.stateDir, { recursive: true });
    cleanAtomicLeftovers(this.root);
    cleanAtomicLeftovers(this.stateDir);
    const now = new Date().toISOString();
    const histFile = path.join(this.root, 'history.json');
    const manFile = path.join(this.root, 'manifest.json');
    const resumeFrom = opts.resumeFrom;
    let previous: RunManifest | undefined;
    if (resumeFrom !== undefined && fs.existsSync(histFile)) {
      // Entries at or after the resume step are recomputed by this process.
      this.history = readJson<HistoryEntry[]>(histFile).filter((e) => e.step < resumeFrom);
    }
    if (resumeFrom !== undefined && fs.existsSync(manFile)) previous = readJson<RunManifest>(manFile);
    this.manifest = {
      format: 'anomaly-lab-run-v1',
      created: previous?.created ?? now,
      updated: now,
      status: 'running',
      ...init,
      metrics: {},
      checkpoints: (previous?.checkpoints ?? []).filter((c) => resumeFrom !== undefined && c.step <= resumeFrom),
    };
    this.refreshMetrics();
  }

  /** Seconds already spent by earlier processes of this run (from the last kept history entry). */
  get previousElapsed(): number {
    return this.history.length > 0 ? this.history[this.history.length - 1].elapsed_s : 0;
  }

  get entries(): readonly HistoryEntry[] {
    return this.history;
  }

  writeConfig(config: Record<string, unknown>): void {
    writeFileAtomic(path.join(this.root, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    this.manifest.config = config;
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
      this.manifest.checkpoints = this.manifest.checkpoints.filter((c) => c.step !== entry.step);
      this.manifest.checkpoints.push({ step: entry.step, path: rel(files.checkpoint)!, scores: rel(files.scores), optimizer: rel(files.optimizer) });
    }
    this.refreshMetrics();
    this.writeManifest();
  }

  private refreshMetrics(): void {
    const last = this.history[this.history.length - 1];
    let best: { step: number; f1: number } | undefined;
    for (const e of this.history) {
      if (e.test && (!best || e.test.without_pa.f1 > best.f1)) best = { step: e.step, f1: e.test.without_pa.f1 };
    }
    this.manifest.metrics = { last, best_f1_without_pa: best };
  }

  writeManifest(status?: RunManifest['status']): void {
    if (status) this.manifest.status = status;
    this.manifest.updated = new Date().toISOString();
    writeFileAtomic(path.join(this.root, 'manifest.json'), JSON.stringify(this.manifest, null, 2) + '\n');
  }

  getManifest(): RunManifest {
    return JSON.parse(JSON.stringify(this.manifest)) as RunManifest;
  }
}

/** Read a run directory's history (for notebooks and reports). Errors name the file. */
export function readRunHistory(runDir: string): HistoryEntry[] {
  const file = path.join(runDir, 'history.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir}: not a training run directory (no history.json)`);
  return readJson<HistoryEntry[]>(file);
}

/** Read a run directory's manifest. */
export function readRunManifest(runDir: string): RunManifest {
  const file = path.join(runDir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir}: not a training run directory (no manifest.json)`);
  return readJson<RunManifest>(file);
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
