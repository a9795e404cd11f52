/**
 * Estimation throughput (windows/s) of AnomalyBERT on the backend in use, for the seed's ESS
 * configuration (patch 90, 512 tokens, width 512, 6 layers, 8 heads, 5 columns; a few batches
 * only) and a workshop configuration (64 tokens × patch 8, width 64, 2 layers). Runs the real
 * `estimateScores` (schedule, batching, sigmoid, overlap averaging) on a synthetic series with
 * freshly initialised weights (throughput does not depend on the weight values).
 */
import { activeBackend, initBackend, tf } from '../backend';
import { createRng } from '../browser/random';
import { AnomalyBert } from '../anomalybert/model';
import { estimateScores } from '../anomalybert/estimate';
import { ESS_CONFIG, WORKSHOP_CONFIG, type AnomalyBertConfig } from '../anomalybert/config';

interface Case {
  name: string;
  config: AnomalyBertConfig;
  batchSize: number;
  windowSliding: number;
  /** Series length: sets how many windows are scored. */
  length: number;
}

async function measure(c: Case): Promise<Record<string, unknown>> {
  const model = AnomalyBert.create(c.config, { seed: 1 });
  try {
    const w = model.windowSize;
    const rng = createRng(2);
    const values = Float32Array.from({ length: c.length * c.config.inputDim }, () => rng.uniform());
    // Warm-up: wasm compiles kernels and packs weights on first use.
    await estimateScores(model, values.subarray(0, w * c.config.inputDim), w, { batchSize: 1, windowSliding: c.windowSliding });
    const tensorsBefore = tf.memory().numTensors;
    let windows = 0;
    const t0 = process.hrtime.bigint();
    await estimateScores(model, values, c.length, { batchSize: c.batchSize, windowSliding: c.windowSliding, onProgress: (done) => (windows = done) });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const windowsPerSecond = windows / seconds;
    // A day of 1 Hz data (86,400 points) at this sliding: windows ≈ (86,400 − W)/sliding + 1.
    const dayWindows = Math.floor((86400 - w) / c.windowSliding) + 1;
    return {
      config: { ...c.config, windowSize: w, parameters: model.countParameters() },
      batchSize: c.batchSize,
      windowSliding: c.windowSliding,
      seriesLength: c.length,
      windows,
      seconds: Number(seconds.toFixed(3)),
      windowsPerSecond: Number(windowsPerSecond.toFixed(3)),
      msPerWindow: Number(((1000 * seconds) / windows).toFixed(1)),
      projectedSecondsFor1HzDay: dayWindows > 0 ? Number((dayWindows / windowsPerSecond).toFixed(0)) : null,
      tensorLeak: tf.memory().numTensors - tensorsBefore,
    };
  } finally {
    model.dispose();
  }
}

export async function run(): Promise<object> {
  await initBackend({ log: false });
  const ess = ESS_CONFIG.nTokens * ESS_CONFIG.patchSize;
  const cases: Case[] = [
    // Phase 2 only: 2 steps of batch + 1 windows = 6 windows.
    { name: 'ess', config: ESS_CONFIG, batchSize: 2, windowSliding: 16, length: ess + 2 * 2 * 16 - 1 },
    { name: 'workshop', config: WORKSHOP_CONFIG, batchSize: 16, windowSliding: 16, length: 4096 },
  ];
  const results: Record<string, unknown> = {
    backend: activeBackend()?.name,
    note: 'wall-clock on a shared machine (2 cores, other jobs running): pessimistic; weights random (speed does not depend on them)',
  };
  for (const c of cases) results[c.name] = await measure(c);
  return results;
}
