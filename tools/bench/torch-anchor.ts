/**
 * The PyTorch anchor of the benchmarks: runs `torch_anchor.py` (a PyTorch AnomalyBERT of the
 * same architecture, timing only) on a configuration in a child process, 1 thread, and returns
 * its JSON — or `{ skipped }` when no python3 with torch is here. Python: BENCH_PYTHON, else
 * Debian's /usr/bin/python3 (python3-torch), else python3 on PATH.
 *
 * Torch's matrix products go through the system BLAS (Debian's torch build says BLAS_INFO=generic):
 * with only libblas3 (netlib's reference BLAS) it is several times slower than with OpenBLAS
 * (libopenblas0-pthread), so the JSON records which one libblas.so.3 resolves to; anchor numbers
 * are only a fair yardstick with an optimised BLAS.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { AnomalyBertConfig } from 'anomaly-lab/anomalybert';

export interface TorchAnchorSpec {
  config: AnomalyBertConfig;
  batch?: number;
  threads?: number;
  infer?: boolean;
  infer_windows?: number;
  train_steps?: number;
  train_warmup?: boolean;
}

/** The script stays in tools/bench/ (tsc does not copy .py files to tools/dist/bench/). */
function scriptPath(): string {
  const candidates = [path.join(__dirname, 'torch_anchor.py'), path.resolve(__dirname, '..', '..', 'bench', 'torch_anchor.py')];
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[1];
}

function python(): string | undefined {
  const candidates = [process.env.BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => Boolean(p));
  for (const p of candidates) {
    const r = spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return undefined;
}

let cachedPython: string | null | undefined;

/** Which BLAS library libblas.so.3 resolves to (Debian alternatives), for the record. */
export function systemBlas(): string {
  try {
    return fs.realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    return 'unknown';
  }
}

export function runTorchAnchor(spec: TorchAnchorSpec): Record<string, unknown> {
  if (cachedPython === undefined) cachedPython = python() ?? null;
  if (!cachedPython) return { skipped: 'no python3 with torch here (Debian: apt-get install python3-torch)' };
  const threads = String(spec.threads ?? 1);
  const r = spawnSync(cachedPython, [scriptPath(), JSON.stringify({ threads: 1, ...spec })], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) return { error: `torch anchor failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}` };
  try {
    return { ...(JSON.parse(r.stdout.trim().split('\n').slice(-1)[0]) as Record<string, unknown>), blas: systemBlas() };
  } catch {
    return { error: `torch anchor printed no JSON: ${r.stdout.slice(0, 200)}` };
  }
}

/** ours / torch, rounded (undefined when either side is missing). */
export function ratio(ours: unknown, torch: unknown): number | undefined {
  if (typeof ours !== 'number' || typeof torch !== 'number' || !Number.isFinite(ours) || !Number.isFinite(torch) || torch === 0)
    return undefined;
  return Number((ours / torch).toFixed(3));
}

/** BENCH_ESS=0 (or `npm run bench -- --no-ess`) skips the slow ESS-configuration parts. */
export function essEnabled(): boolean {
  return process.env.BENCH_ESS !== '0';
}
