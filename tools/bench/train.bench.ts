/**
 * Training throughput: steps/s and points/s (windows × window length per second) of the real
 * training step (degraded batch → forward → BCE → gradients → clipped AdamW) at batch 16 on the
 * default engine, onnx (training/onnx-step.ts: forward + backward as one onnxruntime-node call on
 * every core, the whole batch at once), under the existing keys (`workshop`, `ess`), and on the tfjs
 * engine beside it (`<config>_tfjs`, data-parallel workers; `workshop_tfjs_1worker`) for
 *  - the workshop configuration (64 tokens × patch 8, width 64, 2 layers), whole batch at once, and
 *  - the seed's ESS configuration (512 tokens × patch 90, width 512, 6 layers) with gradient
 *    accumulation (`micro_batch`, default 2 windows per forward/backward pass: the update is the
 *    batch-16 one), spread over the data-parallel workers (one per core, each its own wasm heap),
 * plus peak memory: process RSS (sampled after every step), the wasm heap size (it only grows, so
 * it is the high-water mark) and tf.memory() bytes / tensors.
 *
 * Why micro-batches for ESS: tfjs keeps every intermediate gradient of a backward pass alive until
 * the pass ends (its tape frees nothing earlier). Measured per wasm heap: 2 ESS windows per pass
 * peak at 4,086 MB (just under wasm's 4 GB; before the relative position bias became a host-side
 * gather they aborted), 4 windows abort, and so does the whole batch of 16.
 *
 * A few steps only: the first step is a warm-up and not timed; one ESS step at batch 16 is minutes
 * on wasm. Environment: BENCH_TRAIN_STEPS (timed steps, default 3 workshop / 1 ESS),
 * BENCH_TRAIN_ESS_WARMUP=0 (time the first ESS step, no warm-up), BENCH_TRAIN_ESS_BATCH (default
 * 16), BENCH_TRAIN_ESS_MICRO_BATCH (default 2; 0 = whole batch), BENCH_TRAIN_CONFIGS (comma list
 * of workshop,workshop_diff,ess; BENCH_ESS=0 drops ess). Input: a smooth generated 5-column series in [0, 1]
 * (the data values do not change the cost of a step).
 *
 * PyTorch anchor (torch_anchor.py, same architecture and batch, 1 thread, forward + BCE + backward +
 * clip + AdamW, random inputs) in the same invocation: `torch.<config>`, and `ratios.<config>`
 * = our seconds per step / torch's (≤ 2 is the target) and our peak RSS / torch's.
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { activeBackend } from 'anomaly-lab';
import { AnomalyBert, ESS_CONFIG, WORKSHOP_CONFIG, type AnomalyBertConfig } from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';
import type { EngineName } from 'anomaly-lab/onnx';
import {
  AdamW,
  OnnxTrainingEngine,
  ParallelTrainer,
  ReplacingLengthTable,
  coreCount,
  makeDegradedBatch,
  trainingStep,
  type DegradeSeries,
} from 'anomaly-lab/training';
import { essEnabled, ratio, runTorchAnchor } from './torch-anchor';

function series(length: number, nCols: number): DegradeSeries {
  const values = new Float32Array(length * nCols);
  for (let t = 0; t < length; t++) for (let c = 0; c < nCols; c++) values[t * nCols + c] = 0.5 + 0.4 * Math.sin(t / (300 + 70 * c) + c);
  return { source: 'bench-generated', columns: Array.from({ length: nCols }, (_, c) => `c${c}`), length, values };
}

interface BenchResult {
  config: AnomalyBertConfig;
  parameters: number;
  batch_size: number;
  /** Windows per forward/backward pass (0 = the whole batch at once). */
  micro_batch: number;
  /** Training engine: onnx (one onnxruntime call per step) or tfjs. */
  engine: EngineName;
  /** onnx: onnxruntime intra-op threads. */
  threads?: number;
  /** Data-parallel worker threads (1: this thread, as before workers existed). */
  workers: number;
  window_points: number;
  timed_steps: number;
  warmup_s: number;
  steps_per_s: number;
  /** CPU seconds per timed step, every thread of the process (workers included). */
  cpu_s_per_step: number;
  points_per_s: number;
  /**
   * Peak resident set: the process's high-water mark (getrusage maxRSS, what the anchor reports
   * as ru_maxrss), so peaks inside a step count; in one invocation it also covers earlier configs.
   */
  peak_rss_mb: number;
  /** Largest RSS sampled between steps (the measure before maxRSS; misses peaks inside a step). */
  rss_between_steps_max_mb: number;
  /** wasm backend only: heap size after the run (never shrinks, so its high-water mark). */
  wasm_heap_mb?: number;
  tf_bytes_mb_after_step: number;
  tf_tensors_after_step: number;
  tf_tensors_growth_over_timed_steps: number;
  error?: string;
}

/** Size of the wasm backend's heap in bytes (undefined on other backends). */
function wasmHeapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength;
}

async function benchConfig(
  config: AnomalyBertConfig,
  steps: number,
  batchSize = 16,
  warmup = true,
  microBatch = 0,
  workers = 1,
  engine: EngineName = 'tfjs',
): Promise<BenchResult> {
  const W = config.nTokens * config.patchSize;
  const data = series(Math.max(4 * W, 20000), config.inputDim);
  const rng = createRng(1);
  const lengths = ReplacingLengthTable.create(W, 0.15, rng);
  let peakRss = process.memoryUsage().rss;
  const result: BenchResult = {
    config,
    parameters: NaN,
    batch_size: batchSize,
    micro_batch: engine === 'onnx' ? 0 : microBatch,
    engine,
    threads: engine === 'onnx' ? coreCount() : undefined,
    workers: engine === 'onnx' ? 1 : workers,
    window_points: W,
    timed_steps: steps,
    warmup_s: NaN,
    steps_per_s: NaN,
    cpu_s_per_step: NaN,
    points_per_s: NaN,
    peak_rss_mb: NaN,
    rss_between_steps_max_mb: NaN,
    tf_bytes_mb_after_step: NaN,
    tf_tensors_after_step: NaN,
    tf_tensors_growth_over_timed_steps: NaN,
  };
  let model: AnomalyBert | undefined;
  let optimizer: AdamW | undefined;
  let parallel: ParallelTrainer | undefined;
  let onnx: OnnxTrainingEngine | undefined;
  try {
    model = AnomalyBert.create(config, { seed: 1 });
    result.parameters = model.countParameters();
    const vars = new Map(model.namedVariables());
    optimizer = new AdamW(vars);
    const varList = [...vars.values()];
    const m = model;
    const opt = optimizer;
    if (engine === 'onnx') onnx = new OnnxTrainingEngine(m, coreCount());
    else if (workers > 1) parallel = await ParallelTrainer.start(m, workers, activeBackend()?.name ?? 'wasm');
    const par = parallel;
    const ort = onnx;
    const step = async (i: number): Promise<void> => {
      const batch = makeDegradedBatch(data, {
        batchSize,
        windowSize: W,
        patchSize: config.patchSize,
        replacingRateMax: 0.15,
        rng,
        lengths,
      });
      const o = { nRows: batchSize, windowSize: W, nCols: config.inputDim, lr: 1e-4, dropoutSeed: i, microBatch };
      if (ort) await ort.step(opt, varList, batch, o);
      else if (par) await par.step(opt, varList, batch, o);
      else trainingStep(m, opt, varList, batch, o);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    let t = Date.now();
    if (warmup) {
      await step(0);
      result.warmup_s = (Date.now() - t) / 1000;
    }
    const tensorsBefore = tf.memory().numTensors;
    t = Date.now();
    const cpu0 = process.cpuUsage();
    for (let i = 1; i <= steps; i++) await step(i);
    const seconds = (Date.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    result.steps_per_s = steps / seconds;
    result.cpu_s_per_step = (cpu.user + cpu.system) / 1e6 / steps;
    result.points_per_s = (steps * batchSize * W) / seconds;
    result.tf_tensors_after_step = tf.memory().numTensors;
    result.tf_tensors_growth_over_timed_steps = result.tf_tensors_after_step - tensorsBefore;
    result.tf_bytes_mb_after_step = tf.memory().numBytes / 2 ** 20;
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    result.rss_between_steps_max_mb = peakRss / 2 ** 20;
    // resourceUsage().maxRSS is in KiB.
    result.peak_rss_mb = Math.max(peakRss / 2 ** 20, process.resourceUsage().maxRSS / 1024);
    const heap = wasmHeapBytes();
    if (heap !== undefined) result.wasm_heap_mb = heap / 2 ** 20;
    try {
      await parallel?.close();
      await onnx?.dispose();
      optimizer?.dispose();
      model?.dispose();
    } catch {
      // after a wasm abort the backend is unusable; nothing left to free
    }
  }
  return result;
}

export async function run(): Promise<object> {
  const which = (process.env.BENCH_TRAIN_CONFIGS ?? 'workshop,workshop_diff,ess').split(',').map((s) => s.trim());
  const envSteps = process.env.BENCH_TRAIN_STEPS ? Number(process.env.BENCH_TRAIN_STEPS) : undefined;
  // BENCH_TRAIN_ESS_WARMUP=0 times the first ESS step itself (one step is minutes on a loaded CPU).
  const essWarmup = process.env.BENCH_TRAIN_ESS_WARMUP !== '0';
  const out: Record<string, unknown> = {
    backend: activeBackend()?.name,
    cpus: os.cpus().length,
    loadavg_1min_at_start: os.loadavg()[0],
    note: 'timings on a shared machine are pessimistic; see loadavg',
  };
  const torch: Record<string, unknown> = {};
  const ratios: Record<string, unknown> = {};
  const anchor = (name: string, config: AnomalyBertConfig, steps: number, batch: number, warmup: boolean): void => {
    const t = runTorchAnchor({ config, batch, infer: false, train_steps: steps, train_warmup: warmup });
    torch[name] = t;
    const ours = out[name] as BenchResult | undefined;
    const tr = t.train as { steps_per_s?: number; cpu_s_per_step?: number } | undefined;
    ratios[name] = {
      step_time_vs_torch: ours && tr?.steps_per_s ? ratio(tr.steps_per_s, ours.steps_per_s) : undefined,
      step_cpu_vs_torch: ratio(ours?.cpu_s_per_step, tr?.cpu_s_per_step),
      peak_rss_vs_torch: ratio(ours?.peak_rss_mb, t.peak_rss_mb),
      step_time_tfjs_vs_torch:
        out[`${name}_tfjs`] && tr?.steps_per_s ? ratio(tr.steps_per_s, (out[`${name}_tfjs`] as BenchResult).steps_per_s) : undefined,
      step_cpu_tfjs_vs_torch: ratio((out[`${name}_tfjs`] as BenchResult | undefined)?.cpu_s_per_step, tr?.cpu_s_per_step),
      peak_rss_tfjs_vs_torch: ratio((out[`${name}_tfjs`] as BenchResult | undefined)?.peak_rss_mb, t.peak_rss_mb),
      step_time_tfjs_1worker_vs_torch:
        out[`${name}_tfjs_1worker`] && tr?.steps_per_s
          ? ratio(tr.steps_per_s, (out[`${name}_tfjs_1worker`] as BenchResult).steps_per_s)
          : undefined,
    };
  };
  const workers = Number(process.env.BENCH_TRAIN_WORKERS ?? coreCount());
  // BENCH_TRAIN_TFJS=0 skips the tfjs engine (minutes per ESS step).
  const tfjsToo = process.env.BENCH_TRAIN_TFJS !== '0';
  out.workers = workers;
  if (which.includes('workshop')) {
    // The default training path (engine onnx), then tfjs (--workers = cores) and tfjs on this thread alone.
    out.workshop = await benchConfig(WORKSHOP_CONFIG, envSteps ?? 5, 16, true, 0, 1, 'onnx');
    if (tfjsToo) out.workshop_tfjs = await benchConfig(WORKSHOP_CONFIG, envSteps ?? 3, 16, true, 0, workers);
    if (tfjsToo && workers > 1) out.workshop_tfjs_1worker = await benchConfig(WORKSHOP_CONFIG, envSteps ?? 3);
    anchor('workshop', WORKSHOP_CONFIG, Math.max(envSteps ?? 3, 5), 16, true);
  }
  // The workshop model of docs/experiments.md reads first differences too (2C numbers per point).
  if (which.includes('workshop_diff')) {
    const diffConfig = { ...WORKSHOP_CONFIG, diffScales: new Array<number>(WORKSHOP_CONFIG.inputDim).fill(0.01) };
    out.workshop_diff = await benchConfig(diffConfig, envSteps ?? 5, 16, true, 0, 1, 'onnx');
    if (tfjsToo) out.workshop_diff_tfjs = await benchConfig(diffConfig, envSteps ?? 3, 16, true, 0, workers);
    anchor('workshop_diff', diffConfig, Math.max(envSteps ?? 3, 5), 16, true);
  }
  if (which.includes('ess') && essEnabled()) {
    // Batch 16 through micro-batches of 2 windows: 4 windows per pass exceed wasm's 4 GB heap
    // (the module aborts and the backend is unusable afterwards in that worker).
    const essBatch = Number(process.env.BENCH_TRAIN_ESS_BATCH ?? 16);
    const essMicro = Number(process.env.BENCH_TRAIN_ESS_MICRO_BATCH ?? 2);
    // onnx first: the process RSS peak of the tfjs run (its wasm heaps) would otherwise count here.
    out.ess = await benchConfig(ESS_CONFIG, envSteps ?? 1, essBatch, essWarmup, 0, 1, 'onnx');
    if (tfjsToo)
      out.ess_tfjs = await benchConfig(
        ESS_CONFIG,
        envSteps ?? 1,
        essBatch,
        essWarmup,
        essMicro,
        Math.min(workers, essMicro > 0 ? essBatch / essMicro : essBatch),
      );
    anchor('ess', ESS_CONFIG, envSteps ?? 1, essBatch, essWarmup);
  }
  out.torch = torch;
  out.ratios = ratios;
  out.loadavg_1min_at_end = os.loadavg()[0];
  return out;
}
