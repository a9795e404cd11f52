/**
 * AdamW (decoupled weight decay, global-norm clipping), its saved state, and the learning-rate
 * schedule. The optimiser is checked against an independent float64 re-implementation of
 * torch.optim.AdamW + clip_grad_norm_ written out below on plain arrays.
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'anomaly-lab/core';
import {
  AdamW,
  encodeAdamWState,
  decodeAdamWState,
  cosineWarmupLr,
  lrForStep,
  lrCurve,
  resolveTrainOptions,
  TRAIN_OPTION_SPECS,
  TRAIN_DEFAULTS,
} from 'anomaly-lab/training';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** torch.optim.AdamW + clip_grad_norm_ on float64 arrays (reference for the tfjs version). */
function referenceAdamW(params: number[][], gradsPerStep: number[][][], lrs: number[], wd: number, clip: number): number[][] {
  const p = params.map((a) => [...a]);
  const m = params.map((a) => a.map(() => 0));
  const v = params.map((a) => a.map(() => 0));
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  gradsPerStep.forEach((grads, s) => {
    const t = s + 1;
    const lr = lrs[s];
    const total = Math.sqrt(grads.flat().reduce((acc, g) => acc + g * g, 0));
    const coef = Math.min(1, clip / (total + 1e-6));
    for (let i = 0; i < p.length; i++) {
      for (let k = 0; k < p[i].length; k++) {
        const g = grads[i][k] * coef;
        p[i][k] *= 1 - lr * wd;
        m[i][k] = b1 * m[i][k] + (1 - b1) * g;
        v[i][k] = b2 * v[i][k] + (1 - b2) * g * g;
        const denom = Math.sqrt(v[i][k]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
        p[i][k] -= (lr / (1 - Math.pow(b1, t))) * (m[i][k] / denom);
      }
    }
  });
  return p;
}

function makeGrads(step: number, shapes: number[]): number[][] {
  // Deterministic, varied magnitudes so clipping is active on some steps and not on others.
  return shapes.map((n, i) => Array.from({ length: n }, (_, k) => Math.sin(1.3 * step + 0.7 * k + i) * (step % 3 === 0 ? 3 : 0.05)));
}

describe('AdamW', () => {
  test('matches torch AdamW + clip_grad_norm_ semantics over several steps', () => {
    const init = [
      [0.5, -0.25, 1.5, 2.0],
      [0.1, 0.2, -0.3],
    ];
    const a = tf.variable(tf.tensor2d(init[0], [2, 2]), true, 'optim_test_a');
    const b = tf.variable(tf.tensor1d(init[1]), true, 'optim_test_b');
    const opt = new AdamW(
      new Map<string, tf.Variable>([
        ['a', a],
        ['b', b],
      ]),
      { weightDecay: 0.01, clipNorm: 1.0 },
    );
    const steps = 7;
    const lrs = Array.from({ length: steps }, (_, s) => 0.01 * (1 + s));
    const allGrads: number[][][] = [];
    const norms: number[] = [];
    for (let s = 0; s < steps; s++) {
      const g = makeGrads(s, [4, 3]);
      allGrads.push(g);
      const gt = { [a.name]: tf.tensor2d(g[0], [2, 2]), [b.name]: tf.tensor1d(g[1]) };
      norms.push(opt.applyGradients(gt, lrs[s]));
      tf.dispose(Object.values(gt));
    }
    const expected = referenceAdamW(init, allGrads, lrs, 0.01, 1.0);
    const gotA = Array.from(a.dataSync());
    const gotB = Array.from(b.dataSync());
    gotA.forEach((x, k) => expect(x).toBeCloseTo(expected[0][k], 5));
    gotB.forEach((x, k) => expect(x).toBeCloseTo(expected[1][k], 5));
    // The reported norm is the pre-clipping global norm.
    const g0 = allGrads[0].flat();
    expect(norms[0]).toBeCloseTo(Math.sqrt(g0.reduce((acc, x) => acc + x * x, 0)), 4);
    expect(Math.max(...norms)).toBeGreaterThan(1); // clipping was exercised
    expect(opt.step).toBe(steps);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  test('weight decay is decoupled: a zero gradient only shrinks the weights by lr·wd', () => {
    const w = tf.variable(tf.tensor1d([2, -4]), true, 'optim_test_decay');
    const opt = new AdamW([w], { weightDecay: 0.1 });
    const g = { [w.name]: tf.zeros([2]) };
    opt.applyGradients(g, 0.5);
    const got = Array.from(w.dataSync());
    expect(got[0]).toBeCloseTo(2 * (1 - 0.5 * 0.1), 6);
    expect(got[1]).toBeCloseTo(-4 * (1 - 0.5 * 0.1), 6);
    tf.dispose(g[w.name]);
    opt.dispose();
    w.dispose();
  });

  test('tensor count stays flat across steps', () => {
    const w = tf.variable(tf.randomNormal([8, 8], 0, 1, 'float32', 1), true, 'optim_test_flat');
    const opt = new AdamW([w]);
    const g = { [w.name]: tf.randomNormal([8, 8], 0, 1, 'float32', 2) };
    opt.applyGradients(g, 1e-3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.applyGradients(g, 1e-3);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(g[w.name]);
    opt.dispose();
    w.dispose();
  });

  test('state round-trips through bytes; a restored optimiser continues identically', () => {
    const mk = (name: string) => tf.variable(tf.tensor1d([0.3, -0.7, 1.1]), true, name);
    const w1 = mk('optim_test_rt1');
    const opt1 = new AdamW(new Map([['w', w1]]));
    const grad = (s: number) => ({ [w1.name]: tf.tensor1d(makeGrads(s, [3])[0]) });
    for (let s = 0; s < 3; s++) {
      const g = grad(s);
      opt1.applyGradients(g, 1e-2);
      tf.dispose(Object.values(g));
    }
    const bytes = encodeAdamWState(opt1.getState(), { note: 'x' });
    const { state, extra } = decodeAdamWState(bytes, 'mem.bin');
    expect(extra).toEqual({ note: 'x' });
    expect(state.step).toBe(3);

    const w2 = tf.variable(w1.clone(), true, 'optim_test_rt2');
    const opt2 = new AdamW(new Map([['w', w2]]));
    opt2.setState(state);
    for (let s = 3; s < 6; s++) {
      const g1 = grad(s);
      opt1.applyGradients(g1, 1e-2);
      tf.dispose(Object.values(g1));
      const g2 = { [w2.name]: tf.tensor1d(makeGrads(s, [3])[0]) };
      opt2.applyGradients(g2, 1e-2);
      tf.dispose(Object.values(g2));
    }
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    opt1.dispose();
    opt2.dispose();
    w1.dispose();
    w2.dispose();
  });

  test('bad state input names the file or the variable', () => {
    expect(() => decodeAdamWState(new Uint8Array([1, 2]), 'run/state/step_5_optimizer.bin')).toThrow(/step_5_optimizer\.bin/);
    const w = tf.variable(tf.zeros([2]), true, 'optim_test_bad');
    const opt = new AdamW(new Map([['linear_embedding.weight', w]]));
    expect(() =>
      opt.setState({ step: 1, slots: [{ name: 'linear_embedding.weight', shape: [3], m: new Float32Array(3), v: new Float32Array(3) }] }),
    ).toThrow(/linear_embedding\.weight.*shape/);
    expect(() => new AdamW([])).toThrow(/no trainable variables/);
    opt.dispose();
    w.dispose();
  });
});

describe('cosine schedule with linear warm-up (timm CosineLRScheduler as the original uses it)', () => {
  const cfg = { lr: 1e-4, totalSteps: 1000 };

  test('warm-up from lr·0.001 to lr over the first 10%, then cosine decay to lr·0.01', () => {
    expect(lrForStep(0, cfg)).toBeCloseTo(1e-7, 15);
    // step i uses the value set after update i−1
    expect(lrForStep(1, cfg)).toBe(cosineWarmupLr(0, cfg));
    expect(lrForStep(51, cfg)).toBeCloseTo(1e-7 + (50 * (1e-4 - 1e-7)) / 100, 15);
    const curve = lrCurve(1000, cfg);
    for (let i = 1; i <= 100; i++) expect(curve[i]).toBeGreaterThanOrEqual(curve[i - 1]);
    for (let i = 102; i < 1000; i++) expect(curve[i]).toBeLessThanOrEqual(curve[i - 1]);
    // timm evaluates the cosine at the absolute step: at t = warmup it is cos(π·0.1)-decayed.
    const atWarm = cosineWarmupLr(100, cfg);
    expect(atWarm).toBeCloseTo(1e-6 + 0.5 * (1e-4 - 1e-6) * (1 + Math.cos(Math.PI * 0.1)), 15);
    expect(cosineWarmupLr(1000, cfg)).toBeCloseTo(1e-6, 15);
    expect(Math.min(...curve)).toBeGreaterThanOrEqual(1e-7 - 1e-20);
    expect(curve[999]).toBeGreaterThan(1e-6);
    expect(curve[999]).toBeLessThan(1.01e-6);
  });
});

describe('training options', () => {
  test('defaults equal the original script', () => {
    const { options } = parseArgs([], TRAIN_OPTION_SPECS);
    const o = resolveTrainOptions(options as never);
    expect(o).toEqual(TRAIN_DEFAULTS);
    expect([o.lr, o.summary_steps, o.batch_size, o.n_features, o.patch_size, o.d_embed, o.n_layer, o.n_head]).toEqual([
      1e-4, 500, 16, 512, 4, 512, 6, 8,
    ]);
    expect([o.dropout, o.replacing_rate_max, o.soft_replacing, o.uniform_replacing, o.peak_noising]).toEqual([0.1, 0.15, 0.5, 0.15, 0.15]);
    expect([
      o.length_adjusting,
      o.white_noising,
      o.flip_replacing_interval,
      o.replacing_weight,
      o.window_sliding,
      o.grad_clip_norm,
    ]).toEqual([0, 0, 'all', 0.7, 16, 1.0]);
  });

  test('kebab-case and snake_case both parse; bad values name the option', () => {
    const { options } = parseArgs(['--batch-size', '4', '--replacing_rate_max=0.2', '--freeze', 'encoder'], TRAIN_OPTION_SPECS);
    const o = resolveTrainOptions(options as never);
    expect(o.batch_size).toBe(4);
    expect(o.replacing_rate_max).toBe(0.2);
    expect(o.freeze).toEqual(['encoder']);
    expect(() => resolveTrainOptions({ batch_size: 0 })).toThrow(/'batch_size'/);
    expect(() => resolveTrainOptions({ soft_replacing: 1.5 })).toThrow(/'soft_replacing'/);
    expect(() => resolveTrainOptions({ d_embed: 60, n_head: 8 })).toThrow(/'d_embed'.*'n_head'/);
    expect(() => resolveTrainOptions({ window_sliding: 7 })).toThrow(/'window_sliding'/);
    expect(() => resolveTrainOptions({ train_parts: ['decoder' as never] })).toThrow(/'train_parts'.*decoder/);
    expect(() => resolveTrainOptions({ initial_iter: 10, max_steps: 5 })).toThrow(/'initial_iter'/);
    expect(() => resolveTrainOptions({ batchSize: 3 } as never)).toThrow(/batchSize/);
    expect(() => parseArgs(['--flip_replacing_interval', 'diagonal'], TRAIN_OPTION_SPECS)).toThrow(/flip_replacing_interval/);
  });
});
