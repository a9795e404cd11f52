/**
 * Estimation throughput (windows/s) of AnomalyBERT for the seed's ESS configuration (patch 90,
 * 512 tokens, width 512, 6 layers, 8 heads, 5 columns; a few batches only) and a workshop
 * configuration (64 tokens × patch 8, width 64, 2 layers). Runs the real `estimateScores`
 * (schedule, batching, sigmoid, overlap averaging) on a synthetic series with freshly initialised
 * weights (throughput does not depend on the weight values), on
 *  - the default engine (onnx where onnxruntime-node loads: `<case>`, the key kept over time),
 *    all cores, and onnx on 1 thread (`<case>_onnx_1thread`, like for like with the anchor);
 *  - the tfjs engine on the active backend (`<case>_tfjs`);
 *  - the PyTorch anchor (torch_anchor.py, 1 thread, same configuration, batch and window count:
 *    `torch.<case>`), with ratios ours / torch in `ratios` (> 1: we are faster).
 * `sessionShare` is the part of the estimate spent inside onnxruntime (the rest: batch assembly
 * and overlap averaging in JS); `cli_workshop` times the whole `anomaly-lab estimate` command
 * (process start, reading the .npy, export, session, writing) on the workshop series.
 * BENCH_ESS=0 skips the ESS case.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, estimateScores, initBackend } from 'anomaly-lab';
import { AnomalyBert, ESS_CONFIG, WORKSHOP_CONFIG, onnxRunnerFor, saveCheckpoint, type AnomalyBertConfig } from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';
import { writeNpy } from 'anomaly-lab/io';
import { defaultThreads, resolveEngine, type EngineName } from 'anomaly-lab/onnx';
import { essEnabled, ratio, runTorchAnchor } from './torch-anchor';

interface Case {
  name: string;
  config: AnomalyBertConfig;
  batchSize: number;
  windowSliding: number;
  /** Series length: sets how many windows are scored. */
  length: number;
}

async function measure(c: Case, engine: EngineName, threads?: number): Promise<Record<string, unknown>> {
  const model = AnomalyBert.create(c.config, { seed: 1 });
  try {
    const w = model.windowSize;
    const rng = createRng(2);
    const values = Float32Array.from({ length: c.length * c.config.inputDim }, () => rng.uniform());
    const opts = { engine, threads, logEngine: false };
    // Warm-up: wasm compiles kernels and packs weights; onnx exports and opens the session.
    await estimateScores(model, values.subarray(0, w * c.config.inputDim), w, { batchSize: 1, windowSliding: c.windowSliding, ...opts });
    let sessionSeconds = 0;
    if (engine === 'onnx') {
      const runner = await onnxRunnerFor(model, threads ?? defaultThreads());
      const run = runner.run.bind(runner);
      runner.run = async (...args) => {
        const t = process.hrtime.bigint();
        try {
          return await run(...args);
        } finally {
          sessionSeconds += Number(process.hrtime.bigint() - t) / 1e9;
        }
      };
    }
    const tensorsBefore = tf.memory().numTensors;
    let windows = 0;
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    await estimateScores(model, values, c.length, {
      batchSize: c.batchSize,
      windowSliding: c.windowSliding,
      onProgress: (done) => (windows = done),
      ...opts,
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const windowsPerSecond = windows / seconds;
    // A day of 1 Hz data (86,400 points) at this sliding: windows ≈ (86,400 − W)/sliding + 1.
    const dayWindows = Math.floor((86400 - w) / c.windowSliding) + 1;
    return {
      engine,
      threads: engine === 'onnx' ? (threads ?? defaultThreads()) : undefined,
      config: { ...c.config, windowSize: w, parameters: model.countParameters() },
      batchSize: c.batchSize,
      windowSliding: c.windowSliding,
      seriesLength: c.length,
      windows,
      seconds: Number(seconds.toFixed(3)),
      windowsPerSecond: Number(windowsPerSecond.toFixed(3)),
      msPerWindow: Number(((1000 * seconds) / windows).toFixed(2)),
      // CPU time of every thread (onnxruntime's pool included): steadier than wall time when shared.
      cpuMsPerWindow: Number(((cpu.user + cpu.system) / 1000 / windows).toFixed(3)),
      sessionShare: engine === 'onnx' ? Number((sessionSeconds / seconds).toFixed(3)) : undefined,
      projectedSecondsFor1HzDay: dayWindows > 0 ? Number((dayWindows / windowsPerSecond).toFixed(0)) : null,
      tensorLeak: tf.memory().numTensors - tensorsBefore,
    };
  } finally {
    model.dispose();
  }
}

/** The whole `anomaly-lab estimate` command on the workshop series (default engine). */
async function measureCli(c: Case): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-estimate-'));
  const model = AnomalyBert.create(c.config, { seed: 1 });
  try {
    await saveCheckpoint(path.join(dir, 'ckpt'), model);
    const rng = createRng(2);
    writeNpy(
      path.join(dir, 'series.npy'),
      Float32Array.from({ length: c.length * c.config.inputDim }, () => rng.uniform()),
      [c.length, c.config.inputDim],
    );
    const bin = path.resolve(__dirname, '..', '..', 'bin', 'anomaly-lab.js');
    const args = [
      'estimate',
      '--checkpoint',
      path.join(dir, 'ckpt'),
      '--data',
      path.join(dir, 'series.npy'),
      '--out',
      path.join(dir, 'scores.npy'),
      '--batch_size',
      String(c.batchSize),
      '--window_sliding',
      String(c.windowSliding),
    ];
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) return { error: r.stderr.trim().split('\n').slice(-1)[0] };
    const m = /from (\d+) windows in ([\d.]+) s/.exec(r.stdout);
    const windows = m ? Number(m[1]) : NaN;
    return {
      engineLine: r.stderr.split('\n').find((l) => l.includes('inference engine')),
      windows,
      wallSeconds: Number(wall.toFixed(3)),
      estimateSeconds: m ? Number(m[2]) : undefined,
      windowsPerSecondWall: Number((windows / wall).toFixed(1)),
    };
  } finally {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<object> {
  await initBackend({ log: false });
  const ess = ESS_CONFIG.nTokens * ESS_CONFIG.patchSize;
  const cases: Case[] = [
    // Phase 2 only: 2 steps of batch + 1 windows = 6 windows.
    ...(essEnabled() ? [{ name: 'ess', config: ESS_CONFIG, batchSize: 2, windowSliding: 16, length: ess + 2 * 2 * 16 - 1 }] : []),
    { name: 'workshop', config: WORKSHOP_CONFIG, batchSize: 16, windowSliding: 16, length: 4096 },
  ];
  const engine = resolveEngine({ log: false }).name;
  const onnx = engine === 'onnx';
  const results: Record<string, unknown> = {
    backend: activeBackend()?.name,
    engine,
    cpus: os.cpus().length,
    loadavg_1min_at_start: os.loadavg()[0],
    note: 'wall-clock on a shared machine (2 cores, other jobs running): compare within one run (ratios); weights random (speed does not depend on them)',
  };
  const torch: Record<string, unknown> = {};
  const ratios: Record<string, unknown> = {};
  for (const c of cases) {
    const main = await measure(c, engine);
    results[c.name] = main;
    if (onnx) results[`${c.name}_onnx_1thread`] = await measure(c, 'onnx', 1);
    results[`${c.name}_tfjs`] = onnx ? await measure(c, 'tfjs') : main;
    const anchor = runTorchAnchor({
      config: c.config,
      batch: c.batchSize,
      infer: true,
      infer_windows: main.windows as number,
      train_steps: 0,
    });
    torch[c.name] = anchor;
    const ti = anchor.infer as { windowsPerSecond?: number; cpu_s_per_window?: number } | undefined;
    const tw = ti?.windowsPerSecond;
    const cpuOf = (k: string): number | undefined => (results[k] as { cpuMsPerWindow?: number } | undefined)?.cpuMsPerWindow;
    ratios[c.name] = {
      // CPU per window, ours / torch (≤ 1: we do the work with less CPU).
      cpu_default_vs_torch: ti?.cpu_s_per_window ? ratio(cpuOf(c.name), ti.cpu_s_per_window * 1000) : undefined,
      cpu_onnx_1thread_vs_torch: ti?.cpu_s_per_window ? ratio(cpuOf(`${c.name}_onnx_1thread`), ti.cpu_s_per_window * 1000) : undefined,
      default_vs_torch: ratio(main.windowsPerSecond, tw),
      onnx_1thread_vs_torch: ratio((results[`${c.name}_onnx_1thread`] as { windowsPerSecond?: number } | undefined)?.windowsPerSecond, tw),
      tfjs_vs_torch: ratio((results[`${c.name}_tfjs`] as { windowsPerSecond: number }).windowsPerSecond, tw),
    };
  }
  results.cli_workshop = await measureCli(cases[cases.length - 1]);
  results.torch = torch;
  results.ratios = ratios;
  results.loadavg_1min_at_end = os.loadavg()[0];
  return results;
}
