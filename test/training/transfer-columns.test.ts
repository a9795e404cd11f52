/**
 * Issue 14: a run directory works where a checkpoint is expected; column-aware transfer
 * (`column_map`); fine-tuning strategies (freeze schedule, layer-wise lr, LoRA); their errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AnomalyBert } from '../../kernel-lib/src/anomalybert/model';
import { saveCheckpoint, loadCheckpoint, resolveCheckpointPath } from '../../kernel-lib/src/anomalybert/checkpoint';
import { trainAnomalyBert } from '../../kernel-lib/src/training/train';
import { periodicSeries, tmpDir } from './train-helpers';

const quiet = (): void => undefined;
const TINY = { batch_size: 4, window_sliding: 8, replacing_rate_max: 0.3, lr: 1e-3, n_features: 8, patch_size: 4, d_embed: 16, n_layer: 1, n_head: 2 };

describe('a run directory where a checkpoint is expected', () => {
  const root = tmpDir('rundir-ckpt');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('loadCheckpoint and train --checkpoint take the run\'s final checkpoint', async () => {
    const out = path.join(root, 'src');
    const r = await trainAnomalyBert({ train: periodicSeries(300, 2), out, backend: 'cpu', options: { ...TINY, max_steps: 5, summary_steps: 2 }, log: quiet, onProgress: quiet });
    expect(r.finalStep).toBe(5);
    expect(resolveCheckpointPath(out)).toBe(path.join(out, 'state', 'step_5'));
    const viaRun = await loadCheckpoint(out);
    const viaStep = await loadCheckpoint(path.join(out, 'state', 'step_5'));
    expect(viaRun.meta.step).toBe(5);
    const a = viaRun.model.toStateDict().get('mlp_layers.2.weight')?.data as Float32Array;
    const b = viaStep.model.toStateDict().get('mlp_layers.2.weight')?.data as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    viaRun.model.dispose();
    viaStep.model.dispose();
    // An interrupted run (no manifest final_checkpoint): the highest complete step.
    fs.rmSync(path.join(out, 'manifest.json'));
    expect(resolveCheckpointPath(out)).toBe(path.join(out, 'state', 'step_5'));
    // A checkpoint directory and a .pt path are returned unchanged.
    expect(resolveCheckpointPath(path.join(out, 'state', 'step_4'))).toBe(path.join(out, 'state', 'step_4'));
    const ft = await trainAnomalyBert({
      train: periodicSeries(300, 2, 7),
      out: path.join(root, 'ft'),
      backend: 'cpu',
      options: { batch_size: 4, window_sliding: 8, lr: 1e-3, max_steps: 2, summary_steps: 2, checkpoint: out },
      log: quiet,
      onProgress: quiet,
    });
    const config = JSON.parse(fs.readFileSync(path.join(ft.runDir, 'config.json'), 'utf8'));
    expect(config.start.checkpoint).toBe(path.join(out, 'state', 'step_5'));
  });

  test('a run directory without a complete checkpoint is a one-line error', () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(path.join(empty, 'state'), { recursive: true });
    fs.writeFileSync(path.join(empty, 'config.json'), '{}');
    expect(() => resolveCheckpointPath(empty)).toThrow(/empty: a run directory without any checkpoint in state\//);
  });
});

export { AnomalyBert, saveCheckpoint };
