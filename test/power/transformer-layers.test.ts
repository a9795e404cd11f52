/**
 * Numerical self-check of the layers the transformer classifier import adds to the Keras importer
 * (MultiHeadAttention in tf ops, LayerNormalization, GlobalAveragePooling1D, Add, Concatenate):
 * a small random model built from a Keras 3 config is compared with a direct float64 computation
 * of Keras's formulas on typed arrays. No HDF5 involved, so no child process.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import type { PowerData } from 'anomaly-lab/power';
import {
  buildKerasModel,
  parseKerasModelConfig,
  transformerFeatures,
  transformerWindowStarts,
  TRANSFORMER_FEATURE_NAMES,
  extractFeatures,
} from 'anomaly-lab/power';

const T = 5; // time steps
const E = 3; // features per step
const H = 2; // heads
const DK = 4; // key_dim (= value_dim)

const kt = (name: string, shape: Array<number | null>) => ({
  class_name: '__keras_tensor__',
  config: { shape, keras_history: [name, 0, 0] },
});
const layer = (
  class_name: string,
  name: string,
  config: Record<string, unknown>,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
) => ({
  module: 'keras.layers',
  class_name,
  name,
  config: { name, ...config },
  inbound_nodes: [{ args, kwargs }],
});

/** Same topology as the seed's classifier, smaller: two inputs, one attention block, pooled + dense. */
const CONFIG = {
  class_name: 'Functional',
  config: {
    name: 'mini',
    layers: [
      { class_name: 'InputLayer', name: 'seq', config: { name: 'seq', batch_shape: [null, T, E] }, inbound_nodes: [] },
      layer(
        'MultiHeadAttention',
        'mha',
        { num_heads: H, key_dim: DK, value_dim: DK, dropout: 0, use_bias: true, output_shape: null, attention_axes: [1] },
        [kt('seq', [null, T, E]), kt('seq', [null, T, E])],
        { query_mask: null, value_mask: null },
      ),
      layer('LayerNormalization', 'ln', { axis: [-1], epsilon: 0.001, center: true, scale: true, rms_scaling: false }, [
        kt('mha', [null, T, E]),
      ]),
      layer('Add', 'add', {}, [[kt('seq', [null, T, E]), kt('ln', [null, T, E])]]),
      layer('GlobalAveragePooling1D', 'gap', { data_format: 'channels_last', keepdims: false }, [kt('add', [null, T, E])], { mask: null }),
      { class_name: 'InputLayer', name: 'feat', config: { name: 'feat', batch_shape: [null, 2] }, inbound_nodes: [] },
      layer('Concatenate', 'cat', { axis: -1 }, [[kt('gap', [null, E]), kt('feat', [null, 2])]]),
    ],
    input_layers: [
      ['seq', 0, 0],
      ['feat', 0, 0],
    ],
    output_layers: [['cat', 0, 0]],
  },
};

/** Keras MultiHeadAttention + LayerNorm + Add + mean over time + concat, in float64 loops. */
function reference(x: Float64Array, f: Float64Array, B: number, w: Record<string, Float64Array>): Float64Array {
  const out = new Float64Array(B * (E + 2));
  for (let b = 0; b < B; b++) {
    const X = (t: number, e: number): number => x[(b * T + t) * E + e];
    // proj[p][t][h][d] = Σ_e X[t,e] W[e,h,d] + bias[h,d]
    const proj = (W: Float64Array, bias: Float64Array): number[][][] =>
      Array.from({ length: T }, (_, t) =>
        Array.from({ length: H }, (_, h) =>
          Array.from({ length: DK }, (_, d) => {
            let s = bias[h * DK + d];
            for (let e = 0; e < E; e++) s += X(t, e) * W[(e * H + h) * DK + d];
            return s;
          }),
        ),
      );
    const q = proj(w.qk, w.qb);
    const k = proj(w.kk, w.kb);
    const v = proj(w.vk, w.vb);
    const attn = new Float64Array(T * E);
    for (let t = 0; t < T; t++) {
      for (let e = 0; e < E; e++) attn[t * E + e] = w.ob[e];
      for (let h = 0; h < H; h++) {
        const scores = Array.from({ length: T }, (_, s) => {
          let z = 0;
          for (let d = 0; d < DK; d++) z += q[t][h][d] * k[s][h][d];
          return z / Math.sqrt(DK);
        });
        const m = Math.max(...scores);
        const ex = scores.map((z) => Math.exp(z - m));
        const sum = ex.reduce((a, c) => a + c, 0);
        for (let d = 0; d < DK; d++) {
          let ctx = 0;
          for (let s = 0; s < T; s++) ctx += (ex[s] / sum) * v[s][h][d];
          for (let e = 0; e < E; e++) attn[t * E + e] += ctx * w.ok[(h * DK + d) * E + e];
        }
      }
    }
    const pooled = new Float64Array(E);
    for (let t = 0; t < T; t++) {
      let mu = 0;
      for (let e = 0; e < E; e++) mu += attn[t * E + e] / E;
      let vr = 0;
      for (let e = 0; e < E; e++) vr += (attn[t * E + e] - mu) ** 2 / E;
      for (let e = 0; e < E; e++) {
        const ln = ((attn[t * E + e] - mu) / Math.sqrt(vr + 1e-3)) * w.gamma[e] + w.beta[e];
        pooled[e] += (X(t, e) + ln) / T;
      }
    }
    out.set(pooled, b * (E + 2));
    out.set(f.subarray(b * 2, b * 2 + 2), b * (E + 2) + E);
  }
  return out;
}

describe('transformer classifier layers vs a direct computation', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
  });

  test('MultiHeadAttention + LayerNormalization + Add + GlobalAveragePooling1D + Concatenate', () => {
    const model = buildKerasModel(parseKerasModelConfig(JSON.stringify(CONFIG), 'mini'), 'mini', { init: 'random' });
    // Random, non-trivial values for every weight (biases and LN included), in Keras order.
    const names = ['qk', 'qb', 'kk', 'kb', 'vk', 'vb', 'ok', 'ob', 'gamma', 'beta'];
    const mha = model.getLayer('mha');
    const ln = model.getLayer('ln');
    expect(mha.weights.map((w) => w.shape)).toEqual([[E, H, DK], [H, DK], [E, H, DK], [H, DK], [E, H, DK], [H, DK], [H, DK, E], [E]]);
    expect(ln.weights.map((w) => w.shape)).toEqual([[E], [E]]);
    const values = [...mha.weights, ...ln.weights].map((w, i) => tf.randomNormal(w.shape as number[], 0, 0.7, 'float32', 10 + i));
    mha.setWeights(values.slice(0, 8));
    ln.setWeights(values.slice(8));
    const w: Record<string, Float64Array> = {};
    values.forEach((t, i) => (w[names[i]] = Float64Array.from(t.dataSync())));
    tf.dispose(values);

    const B = 3;
    const x = tf.randomNormal([B, T, E], 0, 1, 'float32', 1);
    const f = tf.randomNormal([B, 2], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const y = model.predict([x, f]) as tf.Tensor;
    expect(y.shape).toEqual([B, E + 2]);
    const got = y.dataSync();
    const want = reference(Float64Array.from(x.dataSync()), Float64Array.from(f.dataSync()), B, w);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, f]);
    model.dispose();
  });

  test('unsupported configurations name the layer and the setting', () => {
    const variant = (edit: (layers: Array<Record<string, unknown>>) => void): string => {
      const cfg = JSON.parse(JSON.stringify(CONFIG));
      edit(cfg.config.layers);
      try {
        buildKerasModel(parseKerasModelConfig(JSON.stringify(cfg), 'm.h5'), 'm.h5').dispose();
        return 'built';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const cfgOf = (ls: Array<Record<string, unknown>>, name: string) =>
      (ls.find((l) => l.name === name) as { config: Record<string, unknown> }).config;
    expect(variant((ls) => (cfgOf(ls, 'mha').attention_axes = [1, 2]))).toBe(
      "m.h5: layer 'mha' (MultiHeadAttention): attention_axes [1,2] is not supported (only attention over the time axis, [1])",
    );
    expect(variant((ls) => (cfgOf(ls, 'mha').output_shape = 7))).toContain(
      "m.h5: layer 'mha' (MultiHeadAttention): output_shape 7 is not supported",
    );
    expect(variant((ls) => (cfgOf(ls, 'ln').rms_scaling = true))).toBe(
      "m.h5: layer 'ln' (LayerNormalization): rms_scaling=true is not supported",
    );
    expect(variant((ls) => (cfgOf(ls, 'ln').axis = [1]))).toContain("m.h5: layer 'ln' (LayerNormalization): axis [1] is not supported");
    expect(variant((ls) => (cfgOf(ls, 'gap').keepdims = true))).toBe(
      "m.h5: layer 'gap' (GlobalAveragePooling1D): keepdims=true is not supported",
    );
    expect(
      variant(
        (ls) =>
          ((
            ls.find((l) => l.name === 'mha') as { inbound_nodes: Array<{ kwargs: Record<string, unknown> }> }
          ).inbound_nodes[0].kwargs.use_causal_mask = true),
      ),
    ).toBe("m.h5: layer 'mha' (MultiHeadAttention): call argument use_causal_mask=true is not supported");
    expect(variant((ls) => ((ls.find((l) => l.name === 'cat') as { class_name: string }).class_name = 'Multiply'))).toContain(
      "m.h5: layer 'cat' has unsupported class 'Multiply'",
    );
  });
});

describe('transformer classifier inputs', () => {
  test('windows cover the interval; short intervals get one centred, clamped window', () => {
    expect(transformerWindowStarts(1000, 100, 356, 128)).toEqual([100, 228]);
    expect(transformerWindowStarts(1000, 100, 400, 128)).toEqual([100, 186, 272]);
    expect(transformerWindowStarts(1000, 500, 520, 128)).toEqual([446]);
    expect(transformerWindowStarts(1000, 0, 10, 128)).toEqual([0]);
    expect(transformerWindowStarts(1000, 990, 1000, 128)).toEqual([872]);
    expect(() => transformerWindowStarts(100, 0, 10, 128, 'x.csv')).toThrow(
      'x.csv: 100 rows; the transformer classifier needs at least 128',
    );
  });

  test('57 features: the 42 per-signal statistics equal the dashboard features, then 15 correlations', () => {
    const n = 300;
    const time = Float64Array.from({ length: n }, (_, i) => i * 5e-5);
    const signals = [0, 1, 2, 3, 4, 5].map((c) =>
      Float64Array.from(
        { length: n },
        (_, i) => Math.sin(2 * Math.PI * 50 * time[i] - (c % 3) * 2.094) * (c < 3 ? 1 : 300) + 0.01 * Math.cos(i * (c + 1)),
      ),
    );
    const data: PowerData = { source: 'synthetic', length: n, time, signals, sampleTime: 5e-5 };
    const f = transformerFeatures(data, 40, 168);
    expect(f.length).toBe(57);
    expect(TRANSFORMER_FEATURE_NAMES.length).toBe(57);
    const ref = extractFeatures(data, [time[40], time[168]]);
    TRANSFORMER_FEATURE_NAMES.forEach((name, j) => {
      if (name in ref) expect(f[j]).toBeCloseTo(ref[name], 12);
    });
    // Correlations the dashboard has too, at their combinations() positions.
    expect(TRANSFORMER_FEATURE_NAMES.slice(42, 47)).toEqual(['corr_VaVb', 'corr_VaVc', 'corr_VaIa', 'corr_VaIb', 'corr_VaIc']);
    expect(f[TRANSFORMER_FEATURE_NAMES.indexOf('corr_VbVc')]).toBeCloseTo(ref.corr_VbVc, 12);
  });
});
