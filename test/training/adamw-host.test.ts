/**
 * AdamW's elementwise update (host-side for small variables, backend ops for large ones) is bit
 * for bit the tensor-op update it replaced (kept below as the reference), on wasm and cpu, with clipping active, per-variable lr scales and a
 * few steps; the tensor count stays flat.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { createRng } from 'anomaly-lab/core';
import { AdamW } from 'anomaly-lab/training';

/** The previous applyGradients: every operation a backend op (float32). */
function tensorUpdate(
  vars: tf.Variable[],
  m: tf.Variable[],
  v: tf.Variable[],
  gs: tf.Tensor[],
  lr: number,
  t: number,
  scales: number[],
  wd: number,
  clipNorm: number,
): number {
  const norm = tf.tidy(() => {
    const total = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.mul(g, g)))));
    const coef = tf.minimum(tf.scalar(1), tf.div(tf.scalar(clipNorm), tf.add(total, tf.scalar(1e-6))));
    const b1 = tf.scalar(0.9);
    const b2 = tf.scalar(0.999);
    const nb1 = tf.scalar(1 - 0.9);
    const nb2 = tf.scalar(1 - 0.999);
    const sqrtBc2 = tf.scalar(Math.sqrt(1 - Math.pow(0.999, t)));
    const eps = tf.scalar(1e-8);
    for (let i = 0; i < vars.length; i++) {
      const k = scales[i];
      const g = tf.mul(gs[i], coef);
      const mi = tf.add(tf.mul(m[i], b1), tf.mul(g, nb1));
      const vi = tf.add(tf.mul(v[i], b2), tf.mul(tf.mul(g, g), nb2));
      m[i].assign(mi);
      v[i].assign(vi);
      const denom = tf.add(tf.div(tf.sqrt(vi), sqrtBc2), eps);
      const p = tf.sub(
        tf.mul(vars[i], tf.scalar(1 - lr * k * wd)),
        tf.mul(tf.scalar((lr * k) / (1 - Math.pow(0.9, t))), tf.div(mi, denom)),
      );
      vars[i].assign(p);
    }
    return total;
  });
  const value = norm.dataSync()[0];
  norm.dispose();
  return value;
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: host update equals the tensor-op update bit for bit over 4 steps (clipping, lr scales)`, async () => {
    await initBackend({ backend, log: false });
    const rng = createRng(3);
    const shapes = [[7, 5], [5], [3, 4, 2], [300, 250]]; // the last takes the backend path (> 65,536)
    const scales = [1, 0.5, 0.25, 2];
    const init = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniform() - 0.5));
    const ours = init.map((d, i) => tf.variable(tf.tensor(d, shapes[i])));
    const ref = init.map((d, i) => tf.variable(tf.tensor(d, shapes[i])));
    const refM = shapes.map((s) => tf.variable(tf.zeros(s)));
    const refV = shapes.map((s) => tf.variable(tf.zeros(s)));
    const opt = new AdamW(ours, { weightDecay: 0.01, clipNorm: 0.5, lrScales: scales });
    const before = tf.memory().numTensors;
    for (let t = 1; t <= 4; t++) {
      const grads = shapes.map((s) =>
        tf.tensor(
          Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => 3 * (rng.uniform() - 0.5)),
          s,
        ),
      );
      const named: tf.NamedTensorMap = {};
      ours.forEach((x, i) => (named[x.name] = grads[i]));
      const a = opt.applyGradients(named, 1e-3);
      const b = tensorUpdate(ref, refM, refV, grads, 1e-3, t, scales, 0.01, 0.5);
      expect(a).toBe(b);
      expect(a).toBeGreaterThan(0.5); // clipping is active
      tf.dispose(grads);
      ours.forEach((x, i) => expect(Array.from(x.dataSync())).toEqual(Array.from(ref[i].dataSync())));
      const state = opt.getState();
      state.slots.forEach((s, i) => {
        expect(Array.from(s.m)).toEqual(Array.from(refM[i].dataSync()));
        expect(Array.from(s.v)).toEqual(Array.from(refV[i].dataSync()));
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose([...ours, ...ref, ...refM, ...refV]);
  });
}
