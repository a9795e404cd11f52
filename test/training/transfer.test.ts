/**
 * Transfer learning: start from our checkpoint or a PyTorch state_dict.pt, re-initialise only the
 * input embedding when the column count differs, freeze / train chosen parts, record the parent.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AnomalyBert, saveCheckpoint, loadCheckpoint } from 'anomaly-lab/anomalybert';
import { trainAnomalyBert, modelPartOf, trainedParts, resolveTrainOptions } from 'anomaly-lab/training';
import { describeShared, sharedPath } from '../helpers/shared';
import { periodicSeries, tmpDir } from './train-helpers';

const quiet = (): void => undefined;

async function stateOf(dir: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const { model } = await loadCheckpoint(dir);
  const sd = model.toStateDict();
  model.dispose();
  return sd;
}

function same(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('model parts', () => {
  test('parameters map to embedding / encoder / head; train_parts and freeze select them', () => {
    expect(modelPartOf('linear_embedding.weight')).toBe('embedding');
    expect(modelPartOf('transformer_encoder.encoder_layers.0.attention_layer.word_fc_layers.0.weight')).toBe('encoder');
    expect(modelPartOf('mlp_layers.2.bias')).toBe('head');
    expect(() => modelPartOf('something_else.weight')).toThrow(/something_else/);
    expect(trainedParts(resolveTrainOptions({ freeze: ['encoder'] }))).toEqual(['embedding', 'head']);
    expect(trainedParts(resolveTrainOptions({ train_parts: ['head'] }))).toEqual(['head']);
    expect(() => resolveTrainOptions({ train_parts: ['head'], freeze: ['encoder'] })).toThrow(/either 'train_parts' or 'freeze'/);
  });
});

describe('transfer from our checkpoint to data with another column count', () => {
  const root = tmpDir('transfer');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('re-initialises only the embedding, says so, freezes the encoder, records the parent', async () => {
    // Source: a 3-column model saved as a real checkpoint directory.
    const source = path.join(root, 'source');
    const src = AnomalyBert.create(
      { inputDim: 3, outputDim: 1, patchSize: 4, nTokens: 8, dEmbed: 16, nLayer: 1, nHead: 2, dropout: 0.1 },
      { seed: 5 },
    );
    await saveCheckpoint(source, src, { columns: ['a', 'b', 'c'], step: 100 });
    src.dispose();
    const before = await stateOf(source);

    const lines: string[] = [];
    const out = path.join(root, 'ft');
    const result = await trainAnomalyBert({
      train: periodicSeries(400, 2, 0, 'two-column-site'),
      out,
      backend: 'cpu',
      // No shape options: the model shape comes from the checkpoint.
      options: {
        batch_size: 4,
        window_sliding: 8,
        replacing_rate_max: 0.3,
        max_steps: 3,
        summary_steps: 3,
        lr: 1e-3,
        checkpoint: source,
        freeze: ['encoder'],
      },
      log: (l) => lines.push(l),
      onProgress: quiet,
    });
    const log = lines.join('\n');
    expect(log).toMatch(/re-initialised the input embedding only \(checkpoint has 3 input columns, the data has 2\)/);
    expect(log).toMatch(/embedding, head; others frozen/);

    const after = await stateOf(result.finalCheckpoint);
    expect(after.get('linear_embedding.weight')?.shape).toEqual([16, 4 * 2]);
    for (const [name, t] of before) {
      if (name.startsWith('transformer_encoder.')) expect(same(after.get(name)?.data as Float32Array, t.data)).toBe(true);
      if (name.startsWith('mlp_layers.')) expect(same(after.get(name)?.data as Float32Array, t.data)).toBe(false);
    }
    const { meta, columns, model } = await loadCheckpoint(result.finalCheckpoint);
    model.dispose();
    expect(meta.parent).toBe(path.resolve(source));
    expect(columns).toEqual(['col0', 'col1']);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config.start).toMatchObject({ mode: 'transfer', embedding_reinitialized: true, source_columns: ['a', 'b', 'c'] });
    expect(config.trained_parts).toEqual(['embedding', 'head']);
    expect(config.patch_size).toBe(4);
    expect(config.n_features).toBe(8);
  });

  test('shape options that contradict the checkpoint are an error naming them', async () => {
    const source = path.join(root, 'source');
    await expect(
      trainAnomalyBert({
        train: periodicSeries(400, 3),
        out: path.join(root, 'x'),
        backend: 'cpu',
        options: { checkpoint: source, d_embed: 32, n_head: 2 },
        log: quiet,
      }),
    ).rejects.toThrow(/'d_embed' 32 \(checkpoint: 16\)/);
    await expect(
      trainAnomalyBert({
        train: periodicSeries(400, 3),
        out: path.join(root, 'y'),
        backend: 'cpu',
        options: { checkpoint: path.join(root, 'missing') },
        log: quiet,
      }),
    ).rejects.toThrow(/checkpoint not found.*missing/);
  });
});

describeShared('transfer from a PyTorch state_dict.pt (reference fixture)', () => {
  const root = tmpDir('transfer-pt');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('same column count: every weight is loaded; train only the head', async () => {
    const pt = sharedPath('fixtures', 'anomalybert', 'state_dict.pt');
    const ref = await loadCheckpoint(pt);
    const refSd = ref.model.toStateDict();
    ref.model.dispose();
    const lines: string[] = [];
    const result = await trainAnomalyBert({
      train: periodicSeries(400, 5),
      out: path.join(root, 'ft'),
      backend: 'cpu',
      options: { batch_size: 2, window_sliding: 16, max_steps: 2, summary_steps: 2, lr: 1e-5, checkpoint: pt, train_parts: ['head'] },
      log: (l) => lines.push(l),
      onProgress: quiet,
    });
    expect(lines.join('\n')).not.toMatch(/re-initialised/);
    const after = await stateOf(result.finalCheckpoint);
    for (const [name, t] of refSd) {
      const changed = !same(after.get(name)?.data as Float32Array, t.data);
      expect([name, changed]).toEqual([name, name.startsWith('mlp_layers.')]);
    }
    expect(result.options.patch_size).toBe(4);
    expect(result.options.d_embed).toBe(64);
  });
});
