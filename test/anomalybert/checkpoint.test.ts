/**
 * Checkpoints: a configuration unlike the fixture's (patch, depth, width, columns, heads, outputs)
 * round-trips through a torch.save-format state dict (the library's writer, itself checked against
 * PyTorch in test/pickle) and through our checkpoint directory, in the library and the real CLI; bad state dicts and damaged checkpoints
 * end in errors naming the problem; a failing save leaves the previous checkpoint intact.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import {
  AnomalyBert,
  loadCheckpoint,
  predictWindows,
  saveCheckpoint,
  type AnomalyBertConfig,
  type StateDict,
} from 'anomaly-lab/anomalybert';
import { createRng, FieldError } from 'anomaly-lab/core';
// CLI internal (not library API): how the command line renders a library field error.
import { cliMessage } from '../../kernel-lib/src/cli/args';
import { readNpy, toFloat32, writeNpy } from 'anomaly-lab/io';
import { runCli } from '../helpers/cli';
import { randomValues } from '../helpers/numeric';
import { encodeTorchStateDict } from 'anomaly-lab/pickle';

const OTHER: AnomalyBertConfig = { inputDim: 3, outputDim: 1, patchSize: 5, nTokens: 6, dEmbed: 24, nLayer: 3, nHead: 4, dropout: 0.1 };

/** Every parameter perturbed (as the fixture's), so each one matters for the comparison. */
function perturbedModel(config: AnomalyBertConfig, seed: number): AnomalyBert {
  const model = AnomalyBert.create(config, { seed, identicalLayers: false });
  const sd = model.toStateDict();
  const rng = createRng(seed + 100);
  for (const t of sd.values()) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.05 * rng.normal();
  model.loadStateDict(sd);
  return model;
}

function writePt(file: string, sd: StateDict): void {
  fs.writeFileSync(file, encodeTorchStateDict(new Map([...sd].map(([k, t]) => [k, { shape: t.shape, data: t.data }]))));
}

let tmp: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-ckpt-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a different configuration round-trips', () => {
  let original: AnomalyBert;
  let windows: Float32Array;
  let expected: Float32Array;
  const n = 3;
  const w = OTHER.nTokens * OTHER.patchSize;
  beforeAll(async () => {
    original = perturbedModel(OTHER, 1);
    windows = randomValues(n * w * OTHER.inputDim, 2);
    expected = await predictWindows(original, windows, n);
  });
  afterAll(() => original.dispose());

  test('through a torch.save zip state dict: configuration inferred from shapes, identical outputs', async () => {
    const pt = path.join(tmp, 'other.pt');
    writePt(pt, original.toStateDict());
    const { model, meta } = await loadCheckpoint(pt);
    try {
      expect(meta.format).toBe('torch.state_dict');
      expect(model.config).toEqual({ ...OTHER, hiddenDim: 4 * OTHER.dEmbed });
      expect(Array.from(await predictWindows(model, windows, n))).toEqual(Array.from(expected));
    } finally {
      model.dispose();
    }
  });

  test('through our checkpoint directory with columns, scaler, lineage and step', async () => {
    const dir = path.join(tmp, 'ckpt-other');
    const scaler = { kind: 'minmax', columns: ['v', 'i', 'soc'], min: [0, -1, 0], max: [1, 1, 100] };
    await saveCheckpoint(dir, original, {
      columns: ['v', 'i', 'soc'],
      scaler,
      parent: '/runs/site-a/state/step_10',
      step: 20,
      extra: { note: 'test' },
    });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'weights.bin', 'weights.json']);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ format: 'anomaly-lab.anomalybert', formatVersion: 1, model: { ...OTHER }, step: 20 });
    expect(typeof cfg.libraryVersion).toBe('string');
    const loaded = await loadCheckpoint(dir);
    try {
      expect(loaded.columns).toEqual(['v', 'i', 'soc']);
      expect(loaded.scaler).toEqual(scaler);
      expect(loaded.meta).toMatchObject({ parent: '/runs/site-a/state/step_10', step: 20, extra: { note: 'test' } });
      expect(Array.from(await predictWindows(loaded.model, windows, n))).toEqual(Array.from(expected));
    } finally {
      loaded.model.dispose();
    }
  });

  test('the real CLI predicts from both forms', () => {
    const data = path.join(tmp, 'other-windows.npy');
    writeNpy(data, windows, [n, w, OTHER.inputDim]);
    for (const ckpt of [path.join(tmp, 'other.pt'), path.join(tmp, 'ckpt-other')]) {
      const out = path.join(tmp, 'other-logits.npy');
      const r = runCli(['predict', '--checkpoint', ckpt, '--data', data, '--out', out, '--backend', 'wasm']);
      expect(r.stderr).not.toMatch(/anomaly-lab predict:/);
      expect(r.code).toBe(0);
      const got = readNpy(out);
      expect(got.shape).toEqual([n, w, 1]);
      const g = toFloat32(got);
      let maxDiff = 0;
      for (let i = 0; i < g.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i] - expected[i]));
      expect(maxDiff).toBeLessThan(1e-6);
    }
  });
});

test('several output columns: the patch size must be given, then it loads', async () => {
  const config: AnomalyBertConfig = { inputDim: 2, outputDim: 2, patchSize: 3, nTokens: 4, dEmbed: 16, nLayer: 1, nHead: 8, dropout: 0 };
  const model = perturbedModel(config, 3);
  const pt = path.join(tmp, 'two-out.pt');
  writePt(pt, model.toStateDict());
  const windows = randomValues(2 * 12 * 2, 4);
  const expected = await predictWindows(model, windows, 2);
  model.dispose();
  // Shapes alone say P·C = 6 and P·out = 6: without help we assume one output column (P = 6).
  const guessed = await loadCheckpoint(pt);
  expect(guessed.model.config).toMatchObject({ patchSize: 6, inputDim: 1, outputDim: 1 });
  guessed.model.dispose();
  const { model: loaded } = await loadCheckpoint(pt, { patchSize: 3 });
  try {
    expect(loaded.config).toMatchObject({ ...config, dropout: 0.1 }); // dropout is not in a state dict
    expect(Array.from(await predictWindows(loaded, windows, 2))).toEqual(Array.from(expected));
  } finally {
    loaded.dispose();
  }
  // A library error names the option as its field; the CLI prints the flag (cli/args flagName).
  const err = await loadCheckpoint(pt, { patchSize: 4 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FieldError);
  expect((err as FieldError).message).toContain("pass the patch size ('patchSize') explicitly");
  expect(cliMessage(err)).toContain('pass the patch size (--patch_size) explicitly');
});

describe('bad state dicts name the problem', () => {
  let sd: StateDict;
  beforeAll(() => {
    const m = AnomalyBert.create(OTHER, { seed: 9 });
    sd = m.toStateDict();
    m.dispose();
  });
  const copy = (): StateDict => new Map([...sd].map(([k, t]) => [k, { ...t, shape: [...t.shape] }]));

  test('missing key', () => {
    const bad = copy();
    bad.delete('transformer_encoder.encoder_layers.1.norm_layers.0.weight');
    expect(() => AnomalyBert.fromStateDict(bad, {}, 'x.pt')).toThrow(
      'x.pt: missing keys: transformer_encoder.encoder_layers.1.norm_layers.0.weight',
    );
  });
  test('unexpected key', () => {
    const bad = copy();
    bad.set('discriminator.weight', { shape: [1], dtype: 'float32', data: new Float32Array(1) });
    expect(() => AnomalyBert.fromStateDict(bad, {}, 'x.pt')).toThrow('x.pt: unexpected keys: discriminator.weight');
  });
  test('shape mismatch', () => {
    const bad = copy();
    const name = 'transformer_encoder.encoder_layers.0.feed_forward_layer.second_fc_layer.bias';
    bad.set(name, { shape: [23], dtype: 'float32', data: new Float32Array(23) });
    expect(() => AnomalyBert.fromStateDict(bad, {}, 'x.pt')).toThrow(`x.pt: '${name}' has shape [23], expected [24]`);
  });
  test('not an AnomalyBERT state dict, wrong head count, integer tensor', () => {
    expect(() =>
      AnomalyBert.fromStateDict(new Map([['fc.weight', { shape: [2, 2], dtype: 'float32', data: new Float32Array(4) }]]), {}, 'y.pt'),
    ).toThrow("y.pt: missing key 'linear_embedding.weight' (not an AnomalyBERT state dict?)");
    expect(() => AnomalyBert.fromStateDict(copy(), { nHead: 8 }, 'x.pt')).toThrow(
      'n_head 8 was requested but the relative position table has 4 heads',
    );
    const bad = copy();
    bad.set('mlp_layers.0.bias', { ...bad.get('mlp_layers.0.bias')!, dtype: 'int64' });
    expect(() => AnomalyBert.fromStateDict(bad, {}, 'x.pt')).toThrow("'mlp_layers.0.bias' has dtype int64");
  });
});

describe('checkpoint files', () => {
  test('a failing save leaves the previous checkpoint intact and no temporary files', async () => {
    const parent = path.join(tmp, 'atomic');
    const dir = path.join(parent, 'ckpt');
    const first = perturbedModel(OTHER, 20);
    const second = perturbedModel(OTHER, 21);
    try {
      await saveCheckpoint(dir, first, { step: 1 });
      const before = fs.readFileSync(path.join(dir, 'weights.bin'));
      // BigInt is not JSON-serialisable: the save fails after weights.bin was written to the temp dir.
      await expect(saveCheckpoint(dir, second, { step: 2, extra: { bad: BigInt(1) } })).rejects.toThrow(/BigInt/);
      expect(fs.readdirSync(parent)).toEqual(['ckpt']);
      expect(fs.readFileSync(path.join(dir, 'weights.bin')).equals(before)).toBe(true);
      const loaded = await loadCheckpoint(dir);
      expect(loaded.meta.step).toBe(1);
      loaded.model.dispose();
      await saveCheckpoint(dir, second, { step: 2 });
      const again = await loadCheckpoint(dir);
      expect(again.meta.step).toBe(2);
      again.model.dispose();
      expect(fs.readdirSync(parent)).toEqual(['ckpt']);
    } finally {
      first.dispose();
      second.dispose();
    }
  });

  test('damaged or foreign checkpoints are refused with the file named', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const model = AnomalyBert.create(OTHER, { seed: 30 });
    const dir = path.join(tmp, 'damaged');
    await saveCheckpoint(dir, model, { columns: ['a', 'b', 'c'] });
    await expect(saveCheckpoint(path.join(tmp, 'x'), model, { columns: ['a'] })).rejects.toThrow(
      '1 column names given for a model with 3 input columns',
    );
    model.dispose();
    const bin = path.join(dir, 'weights.bin');
    const full = fs.readFileSync(bin);
    fs.writeFileSync(bin, full.subarray(0, full.length - 8));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `${bin}: ${full.length - 8} bytes, weights.json says ${full.length} (truncated or corrupt)`,
    );
    fs.writeFileSync(bin, full);
    const cfgFile = path.join(dir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, formatVersion: 99 }));
    await expect(loadCheckpoint(dir)).rejects.toThrow('formatVersion 99 is newer than this library reads');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, format: 'keras' }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`${cfgFile}: format is 'keras', expected 'anomaly-lab.anomalybert'`);
    fs.writeFileSync(cfgFile, '{ not json');
    await expect(loadCheckpoint(dir)).rejects.toThrow(`${cfgFile}: invalid JSON`);
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    await expect(loadCheckpoint(dir, { inputDim: 5 })).rejects.toThrow('the model has input columns 3, 5 requested');
    const loaded = await loadCheckpoint(dir);
    expect(loaded.columns).toEqual(['a', 'b', 'c']);
    loaded.model.dispose();

    await expect(loadCheckpoint(path.join(tmp, 'nope'))).rejects.toThrow(`checkpoint not found: ${path.join(tmp, 'nope')}`);
    await expect(loadCheckpoint(tmp)).rejects.toThrow('not an anomaly-lab checkpoint (no config.json)');
    const txt = path.join(tmp, 'model.pt');
    fs.writeFileSync(txt, 'not a zip');
    await expect(loadCheckpoint(txt)).rejects.toThrow('not a checkpoint directory nor a PyTorch zip state dict');
    const truncated = path.join(tmp, 'truncated.pt');
    const m2 = AnomalyBert.create(OTHER, { seed: 31 });
    writePt(truncated, m2.toStateDict());
    m2.dispose();
    const bytes = fs.readFileSync(truncated);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(loadCheckpoint(truncated)).rejects.toThrow(/truncated\.pt/);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // failed loads free what they allocated
  });
});
