/**
 * backend.ts's replacement wasm kernels against the cpu backend: Transpose (every permutation of
 * ranks 2–4, the tiled matrix path and the strided one) equal bit for bit; Sum over leading or
 * mixed axes (transposed by the replacement, reduced by the stock kernel) within float32
 * rounding, keepDims included; SplitV and Unpack equal bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { createRng } from 'anomaly-lab/core';

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** f's plain-array result on `backend`; its tensors are freed. */
async function on<T>(backend: 'wasm' | 'cpu', f: () => T): Promise<T> {
  await initBackend({ backend, log: false });
  let out: T | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as T;
}

test('wasm Transpose, Sum, SplitV and Unpack match cpu', async () => {
  const rng = createRng(11);
  const shapes = [
    [37, 45],
    [3, 33, 70],
    [2, 3, 4, 5],
    [5, 8, 6, 16],
  ];
  for (const shape of shapes) {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() - 0.5);
    const perms = permutations(shape.length);
    const axesSets = [[0], [shape.length - 1], [0, shape.length - 1], ...(shape.length > 2 ? [[1], [0, 1]] : [])];
    const run = (): { t: number[][]; s: number[][]; sShapes: number[][]; split: number[][]; unpack: number[][] } => {
      const x = tf.tensor(data, shape);
      const t = perms.map((p) => Array.from(tf.transpose(x, p).dataSync()));
      const sums = axesSets.flatMap((axes) => [tf.sum(x, axes), tf.sum(x, axes, true)]);
      const split = (tf.split(x, [1, shape[shape.length - 1] - 1], -1) as tf.Tensor[]).map((y) => Array.from(y.dataSync()));
      const unpack = tf.unstack(x, 1).map((y) => Array.from(y.dataSync()));
      return { t, s: sums.map((y) => Array.from(y.dataSync())), sShapes: sums.map((y) => y.shape), split, unpack };
    };
    const w = await on('wasm', run);
    const c = await on('cpu', run);
    expect(w.t).toEqual(c.t);
    expect(w.split).toEqual(c.split);
    expect(w.unpack).toEqual(c.unpack);
    expect(w.sShapes).toEqual(c.sShapes);
    w.s.forEach((vals, i) => vals.forEach((v, j) => expect(Math.abs(v - c.s[i][j])).toBeLessThan(1e-4)));
  }
});
