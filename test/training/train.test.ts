/**
 * The training loop on a tiny model (cpu backend, deterministic): run-directory contents,
 * history/manifest, flat tensor count, and exact resume (stop + resume == uninterrupted).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint } from 'anomaly-lab/anomalybert';
import { readNpy } from 'anomaly-lab/io';
import { readRunHistory, listCheckpointSteps, readManifest } from 'anomaly-lab/runs';
import { trainAnomalyBert, coreCount } from 'anomaly-lab/training';
import { periodicSeries, labelledTestSet, TINY, tmpDir } from './train-helpers';

const train = periodicSeries(600, 3);
const { series: testSet, labels } = labelledTestSet(200, 3);
const quiet = (): void => undefined;

function weightsOf(dir: string): Promise<Map<string, Float32Array>> {
  return loadCheckpoint(dir).then(({ model }) => {
    const sd = model.toStateDict();
    model.dispose();
    return new Map([...sd.entries()].map(([k, v]) => [k, v.data]));
  });
}

describe('trainAnomalyBert', () => {
  const root = tmpDir('train');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('writes checkpoints, scores, history and manifest at every summary step; tensor count stays flat', async () => {
    const out = path.join(root, 'run');
    const counts: number[] = [];
    const summaries: number[] = [];
    const result = await trainAnomalyBert({
      train,
      test: testSet,
      testLabels: labels,
      out,
      backend: 'cpu',
      // The tfjs engine: this run checks the recorded worker count (the onnx engine takes no workers).
      options: { ...TINY, max_steps: 8, summary_steps: 4, seed: 3, engine: 'tfjs' },
      log: quiet,
      onProgress: () => counts.push(tf.memory().numTensors),
      onSummary: (e) => summaries.push(e.step),
    });
    expect(result.finalStep).toBe(8);
    expect(result.stopped).toBe(false);
    expect(summaries).toEqual([0, 4, 8]);
    // Same number of live tensors after every step (summary steps included).
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts.length).toBe(9);

    expect(listCheckpointSteps(out)).toEqual([0, 4, 8]);
    const history = readRunHistory(out);
    expect(history.map((e) => e.step)).toEqual([0, 4, 8]);
    for (const e of history) {
      expect(Number.isFinite(e.loss) && e.loss > 0).toBe(true);
      expect(e.accuracy).toBeGreaterThanOrEqual(0);
      expect(e.accuracy).toBeLessThanOrEqual(1);
      expect(e.lr).toBeGreaterThan(0);
      expect(e.test?.without_pa.f1).toBeGreaterThanOrEqual(0);
      expect(e.test?.with_pa.f1).toBeGreaterThanOrEqual(e.test?.without_pa.f1 ?? 0);
      expect(e.test?.random_with_pa.f1).toBeGreaterThan(0);
      expect(e.test?.pa_k_auc).toBeGreaterThanOrEqual(0);
      const scores = readNpy(path.join(out, 'state', `step_${e.step}_scores.npy`));
      expect(scores.shape).toEqual([testSet.length, 1]);
      expect(Array.from(scores.data as Float32Array).every((v) => v > 0 && v < 1)).toBe(true);
    }
    // Only the newest optimiser state is kept (it is twice the model's size).
    expect(fs.existsSync(path.join(out, 'state', 'step_8_optimizer.bin'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'state', 'step_4_optimizer.bin'))).toBe(false);

    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.batch_size).toBe(4);
    // '--workers 0' (one per core) is recorded as the effective count: dropout masks follow the partition.
    expect(config.workers).toBe(Math.min(coreCount(), 4));
    expect(result.options.workers).toBe(config.workers);
    expect(config.engine).toBe('tfjs');
    expect(config.columns).toEqual(train.columns);
    expect(config.scaler).toBeDefined();
    const manifest = readManifest(out);
    expect(manifest.kind).toBe('anomalybert-train');
    expect(manifest.seed).toBe(3);
    expect(manifest.checkpoints.map((c) => c.step)).toEqual([0, 4, 8]);
    expect((manifest.metrics as { status: string }).status).toBe('finished');

    const ckpt = await loadCheckpoint(path.join(out, 'state', 'step_8'));
    expect(ckpt.meta.step).toBe(8);
    expect(ckpt.columns).toEqual(train.columns);
    expect(ckpt.scaler).toEqual(config.scaler);
    ckpt.model.dispose();
  });

  test('stop + resume from the checkpoint reproduces the uninterrupted run exactly', async () => {
    const options = { ...TINY, max_steps: 6, summary_steps: 3, seed: 11 };
    const full = await trainAnomalyBert({ train, out: path.join(root, 'full'), backend: 'cpu', options, log: quiet, onProgress: quiet });
    const partOut = path.join(root, 'part');
    let stopAt = 3;
    const part = await trainAnomalyBert({
      train,
      out: partOut,
      backend: 'cpu',
      options,
      log: quiet,
      onProgress: quiet,
      shouldStop: () => stopAt-- <= 0,
    });
    expect(part.stopped).toBe(true);
    expect(part.finalStep).toBe(3);
    const lines: string[] = [];
    const resumed = await trainAnomalyBert({
      train,
      out: partOut,
      backend: 'cpu',
      options: { ...options, checkpoint: path.join(partOut, 'state', 'step_3'), initial_iter: 3 },
      log: (l) => lines.push(l),
      onProgress: quiet,
    });
    expect(lines.join('\n')).toMatch(/restored weights, AdamW moments/);
    expect(resumed.finalStep).toBe(6);
    expect(resumed.history.map((e) => e.step)).toEqual([0, 3, 6]);
    expect(resumed.history.map((e) => e.loss)).toEqual(full.history.map((e) => e.loss));
    const a = await weightsOf(full.finalCheckpoint);
    const b = await weightsOf(resumed.finalCheckpoint);
    for (const [name, w] of a) expect(Array.from(b.get(name) as Float32Array)).toEqual(Array.from(w));
  });

  test('bad input is rejected with the option or file named', async () => {
    const out = path.join(root, 'bad');
    await expect(trainAnomalyBert({ train, test: testSet, out, backend: 'cpu', options: TINY, log: quiet })).rejects.toThrow(
      /'test' needs 'testLabels'/,
    );
    await expect(
      trainAnomalyBert({ train, test: testSet, testLabels: labels.subarray(0, 10), out, backend: 'cpu', options: TINY, log: quiet }),
    ).rejects.toThrow(/'testLabels'.*10 labels for 200 rows/);
    const twoCols = periodicSeries(200, 2, 0, 'two-columns');
    await expect(
      trainAnomalyBert({ train, test: twoCols, testLabels: labels, out, backend: 'cpu', options: TINY, log: quiet }),
    ).rejects.toThrow(/'test' two-columns: 2 columns/);
    await expect(trainAnomalyBert({ train: periodicSeries(20, 3), out, backend: 'cpu', options: TINY, log: quiet })).rejects.toThrow(
      /'train' .*20 rows/,
    );
    await expect(
      trainAnomalyBert({ train: path.join(root, 'nope.parquet'), out, backend: 'cpu', options: TINY, log: quiet }),
    ).rejects.toThrow(/nope\.parquet/);
    await expect(trainAnomalyBert({ train, out, backend: 'cpu', options: { ...TINY, batch_size: -1 }, log: quiet })).rejects.toThrow(
      /'batch_size'/,
    );
  });
});
