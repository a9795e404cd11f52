/**
 * Issue 14: a run directory works where a checkpoint is expected; column-aware transfer
 * (`column_map`); fine-tuning strategies (freeze schedule, layer-wise lr, LoRA); their errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AnomalyBert, saveCheckpoint, loadCheckpoint, resolveCheckpointPath } from 'anomaly-lab/anomalybert';
import { trainAnomalyBert, resolveTrainOptions, LoraAdapters, RECOMMENDED_TRANSFER } from 'anomaly-lab/training';
import * as tf from '@tensorflow/tfjs';
import { periodicSeries, tmpDir, TINY } from './train-helpers';
import { runCli } from '../helpers/cli';

const quiet = (): void => undefined;

/** The 2-column tiny model (seed 4) the strategy and CLI tests start from. */
const tinyModel = (dropout: number): AnomalyBert =>
  AnomalyBert.create({ inputDim: 2, outputDim: 1, patchSize: 4, nTokens: 8, dEmbed: 16, nLayer: 1, nHead: 2, dropout }, { seed: 4 });

/** Save tinyModel(dropout) as a step-1 checkpoint with these column names; returns its state dict. */
async function saveTinyCheckpoint(dir: string, columns: string[], dropout: number): Promise<ReturnType<AnomalyBert['toStateDict']>> {
  const m = tinyModel(dropout);
  await saveCheckpoint(dir, m, { columns, step: 1 });
  const base = m.toStateDict();
  m.dispose();
  return base;
}

describe('a run directory where a checkpoint is expected', () => {
  const root = tmpDir('rundir-ckpt');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("loadCheckpoint and train --checkpoint take the run's final checkpoint", async () => {
    const out = path.join(root, 'src');
    const r = await trainAnomalyBert({
      train: periodicSeries(300, 2),
      out,
      backend: 'cpu',
      options: { ...TINY, max_steps: 5, summary_steps: 2 },
      log: quiet,
      onProgress: quiet,
    });
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

describe('column-aware transfer (column_map)', () => {
  const root = tmpDir('colmap');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const P = 4;
  const D = 16;

  async function source(diff: boolean): Promise<string> {
    const dir = path.join(root, `src-${diff}`);
    if (fs.existsSync(dir)) return dir;
    const m = AnomalyBert.create(
      {
        inputDim: 3,
        outputDim: 1,
        patchSize: P,
        nTokens: 8,
        dEmbed: D,
        nLayer: 1,
        nHead: 2,
        dropout: 0.1,
        diffScales: diff ? [1, 1, 1] : undefined,
      },
      { seed: 3 },
    );
    await saveCheckpoint(dir, m, { columns: ['VOLT', 'CURR', 'SOC'], step: 10 });
    m.dispose();
    return dir;
  }

  test.each([true, false])(
    'mapped columns keep their embedding rows (first differences: %s), the rest is fresh or folded; recorded',
    async (diff) => {
      const src = await source(diff);
      const { model: s } = await loadCheckpoint(src);
      const sw = s.variable('linear_embedding.weight').dataSync() as Float32Array; // (P·Fs, D), [in, out]
      const sb = s.variable('linear_embedding.bias').dataSync() as Float32Array;
      const before = s.toStateDict();
      s.dispose();
      const out = path.join(root, `ft-${diff}`);
      const series = periodicSeries(300, 2);
      series.columns = ['current', 'temp'];
      const r = await trainAnomalyBert({
        train: series,
        out,
        backend: 'cpu',
        // max_steps 1 with lr tiny: step 0's checkpoint is the starting point.
        options: { batch_size: 4, window_sliding: 8, max_steps: 1, summary_steps: 1, checkpoint: src, column_map: { current: 'CURR' } },
        log: quiet,
        onProgress: quiet,
      });
      const { model: t, meta } = await loadCheckpoint(path.join(r.runDir, 'state', 'step_0'));
      const tw = t.variable('linear_embedding.weight').dataSync() as Float32Array;
      const tb = t.variable('linear_embedding.bias').dataSync() as Float32Array;
      const Fs = diff ? 6 : 3;
      const Ft = diff ? 4 : 2;
      for (let p = 0; p < P; p++) {
        for (let d = 0; d < D; d++) {
          // target column 0 (current) ← source column 1 (CURR); its difference row likewise
          expect(tw[(p * Ft + 0) * D + d]).toBe(sw[(p * Fs + 1) * D + d]);
          if (diff) expect(tw[(p * Ft + 2 + 0) * D + d]).toBe(sw[(p * Fs + 3 + 1) * D + d]);
        }
      }
      // bias: source bias + 0.5 · Σ_p rows of the dropped value columns VOLT (0) and SOC (2)
      for (let d = 0; d < D; d++) {
        let want = sb[d];
        for (let p = 0; p < P; p++) want += 0.5 * (sw[(p * Fs + 0) * D + d] + sw[(p * Fs + 2) * D + d]);
        expect(tb[d]).toBeCloseTo(want, 5);
      }
      // the encoder and head are the source's
      const after = t.toStateDict();
      for (const [name, v] of before)
        if (!name.startsWith('linear_embedding.')) expect(Array.from(after.get(name)?.data as Float32Array)).toEqual(Array.from(v.data));
      t.dispose();
      const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
      expect(config.start.transfer).toMatchObject({
        column_map: { current: 'CURR' },
        mapped_columns: [{ target: 'current', source: 'CURR' }],
        reinitialized_columns: ['temp'],
        dropped_source_columns: ['VOLT', 'SOC'],
        embedding: 'remapped',
      });
      // No strategy option given: the recommended recipe (embedding first, then all) applies and is recorded.
      expect(config.fine_tuning.freeze_schedule).toEqual([
        { stage: 'embedding', parts: ['embedding'], until_step: 50 },
        { stage: 'all', parts: ['embedding', 'encoder', 'head'], until_step: null },
      ]);
      expect(config.fine_tuning.from_recommended_recipe).toEqual(['freeze_schedule', 'estimation']);
      expect(config.estimation).toEqual(RECOMMENDED_TRANSFER.estimation);
      expect((meta.extra as { transfer: { mapped_columns: unknown[] } }).transfer.mapped_columns).toHaveLength(1);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
      expect(JSON.stringify(manifest)).toContain('"mapped_columns"');
    },
  );

  test('a column_map naming a missing column is a one-line error listing the available names', async () => {
    const src = await source(true);
    const series = periodicSeries(300, 2);
    series.columns = ['current', 'temp'];
    const run = (column_map: Record<string, string>, out: string): Promise<unknown> =>
      trainAnomalyBert({
        train: series,
        out: path.join(root, out),
        backend: 'cpu',
        options: { batch_size: 4, window_sliding: 8, max_steps: 1, checkpoint: src, column_map },
        log: quiet,
        onProgress: quiet,
      });
    await expect(run({ voltage: 'VOLT' }, 'e1')).rejects.toThrow(
      /^option 'column_map': 'voltage' is not a column of the training data \(available: current, temp\)$/,
    );
    await expect(run({ current: 'BANK_X' }, 'e2')).rejects.toThrow(
      /^option 'column_map': 'BANK_X' is not a column of checkpoint .* \(available: VOLT, CURR, SOC\)$/,
    );
    expect(() => resolveTrainOptions({ column_map: 'voltage:VOLT' as never })).toThrow(
      /option 'column_map': 'voltage:VOLT' is not target=source/,
    );
    expect(resolveTrainOptions({ column_map: 'voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT' as never }).column_map).toEqual({
      voltage: 'BANK_DC_VOLT',
      current: 'BANK_DC_CURRENT',
    });
  });
});

describe('fine-tuning strategies', () => {
  const root = tmpDir('strategies');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('LoRA: base encoder weights stay, checkpoints hold merged weights that equal the adapted forward pass', async () => {
    const src = path.join(root, 'src');
    const base = await saveTinyCheckpoint(src, ['a', 'b'], 0);
    const r = await trainAnomalyBert({
      train: periodicSeries(300, 2),
      out: path.join(root, 'lora'),
      backend: 'cpu',
      options: {
        batch_size: 4,
        window_sliding: 8,
        max_steps: 4,
        summary_steps: 4,
        lr: 1e-2,
        checkpoint: src,
        lora_rank: 2,
        lora_alpha: 4,
        dropout: 0,
      },
      log: quiet,
      onProgress: quiet,
    });
    const { model } = await loadCheckpoint(r.finalCheckpoint);
    const after = model.toStateDict();
    model.dispose();
    const q = 'transformer_encoder.encoder_layers.0.attention_layer.word_fc_layers.0.weight';
    const ln = 'transformer_encoder.encoder_layers.0.norm_layers.0.weight';
    // adapted projections changed (merged A·B), encoder non-adapted parameters frozen
    expect(Array.from(after.get(q)?.data as Float32Array)).not.toEqual(Array.from(base.get(q)?.data as Float32Array));
    expect(Array.from(after.get(ln)?.data as Float32Array)).toEqual(Array.from(base.get(ln)?.data as Float32Array));
    const config = JSON.parse(fs.readFileSync(path.join(root, 'lora', 'config.json'), 'utf8'));
    expect(config.fine_tuning.lora).toMatchObject({ rank: 2, alpha: 4, merged_in_checkpoints: true });
  });

  test('LoRA merge equals the adapter forward pass', async () => {
    const m = tinyModel(0);
    const lora = new LoraAdapters(m, 3, 6, 1);
    for (const [name, v] of lora.variables) if (name.endsWith('lora_B')) v.assign(tf.randomUniform(v.shape, -0.2, 0.2, 'float32', 5));
    const x = tf.randomUniform([2, 32, 2], 0, 1, 'float32', 9) as never;
    const adapted = (m.apply(x, { adaptParams: lora.adaptParams }).dataSync() as Float32Array).slice();
    const plain = (m.apply(x).dataSync() as Float32Array).slice();
    const merged = await lora.merged(m, async () => (m.apply(x).dataSync() as Float32Array).slice());
    const restored = (m.apply(x).dataSync() as Float32Array).slice();
    for (let i = 0; i < adapted.length; i++) expect(merged[i]).toBeCloseTo(adapted[i], 4);
    expect(Array.from(restored)).toEqual(Array.from(plain));
    expect(Math.max(...adapted.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(1e-3);
    expect(() => new LoraAdapters(m, 17, 1, 0)).toThrow(/^option 'lora_rank' must be an integer in 1…16 \(the model width\), got 17$/);
    lora.dispose();
    m.dispose();
  });

  test('freeze schedule: only the embedding moves before the boundary; bad stages and ranks are one-line errors', async () => {
    const src = path.join(root, 'src2');
    const base = await saveTinyCheckpoint(src, ['a', 'b'], 0.1);
    const out = path.join(root, 'sched');
    const lines: string[] = [];
    await trainAnomalyBert({
      train: periodicSeries(300, 2),
      out,
      backend: 'cpu',
      options: {
        batch_size: 4,
        window_sliding: 8,
        max_steps: 5,
        summary_steps: 3,
        lr: 1e-2,
        checkpoint: src,
        freeze_schedule: 'embedding:3,all',
      },
      log: (l) => lines.push(l),
      onProgress: quiet,
    });
    const { model: at3 } = await loadCheckpoint(path.join(out, 'state', 'step_3'));
    const s3 = at3.toStateDict();
    at3.dispose();
    const { model: at5 } = await loadCheckpoint(path.join(out, 'state', 'step_5'));
    const s5 = at5.toStateDict();
    at5.dispose();
    const h = 'mlp_layers.2.weight';
    const e = 'linear_embedding.weight';
    expect(Array.from(s3.get(e)?.data as Float32Array)).not.toEqual(Array.from(base.get(e)?.data as Float32Array));
    expect(Array.from(s3.get(h)?.data as Float32Array)).toEqual(Array.from(base.get(h)?.data as Float32Array));
    expect(Array.from(s5.get(h)?.data as Float32Array)).not.toEqual(Array.from(base.get(h)?.data as Float32Array));
    expect(lines.join('\n')).toMatch(/step 3: freeze schedule stage 'all'/);
    expect(() => resolveTrainOptions({ freeze_schedule: 'bogus:10,all' })).toThrow(
      /^option 'freeze_schedule': unknown stage 'bogus:10' \(stages: embedding, head, encoder, embedding\+head, all; e\.g\. embedding:100,all\)$/,
    );
    expect(() => resolveTrainOptions({ lora_rank: 0 })).toThrow(/^option 'lora_rank' must be a positive integer/);
    expect(() => resolveTrainOptions({ layer_lr_decay: 0 })).toThrow(/option 'layer_lr_decay' must be in \(0, 1\]/);
  });
});

describe('train CLI: transfer options', () => {
  const root = tmpDir('cli-transfer');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('bad --column_map, --freeze_schedule and --lora_rank are one-line errors naming the option', async () => {
    const src = path.join(root, 'src');
    await saveTinyCheckpoint(src, ['BANK_DC_VOLT', 'BANK_DC_CURRENT'], 0.1);
    const csv = path.join(root, 'site.csv');
    const rows = ['voltage,current'];
    for (let t = 0; t < 200; t++) rows.push(`${Math.sin(t / 9)},${Math.cos(t / 7)}`);
    fs.writeFileSync(csv, rows.join('\n') + '\n');
    const base = [
      'train',
      '--train',
      csv,
      '--checkpoint',
      src,
      '--max_steps',
      '1',
      '--batch_size',
      '2',
      '--window_sliding',
      '8',
      '--backend',
      'cpu',
    ];
    const cases: Array<[string[], RegExp]> = [
      [
        ['--column_map', 'voltage=BANK_DC_VOLT,soc=BANK_SOC'],
        /option --column_map: 'soc' is not a column of the training data \(available: voltage, current\)/,
      ],
      [
        ['--column_map', 'voltage=BANK_SOC'],
        /option --column_map: 'BANK_SOC' is not a column of checkpoint .* \(available: BANK_DC_VOLT, BANK_DC_CURRENT\)/,
      ],
      [['--freeze_schedule', 'decoder:5,all'], /option --freeze_schedule: unknown stage 'decoder:5'/],
      [['--lora_rank', '0'], /option --lora_rank must be a positive integer/],
      [['--lora_rank', '17'], /option --lora_rank must be an integer in 1…16 \(the model width\), got 17/],
    ];
    for (const [extra, re] of cases) {
      const r = runCli([...base, ...extra, '--out', path.join(root, `o${extra.join('')}`.replace(/[^a-z0-9]/gi, '_'))]);
      expect(r.code).not.toBe(0);
      // Progress lines (backend, loaded checkpoint) may precede it; the error is one line.
      const errors = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('anomaly-lab train: '));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(re);
    }
  });
});
