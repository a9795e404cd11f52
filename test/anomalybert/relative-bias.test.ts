/**
 * The relative position bias's host-side gather and its scatter-add gradient: the gradient of
 * Σ R ⊙ bias with respect to the table is Σ of R over each diagonal, and training through it gives
 * the same result as through the broadcast/reshape/slice skew it replaced (computed here as the
 * reference, with tensor ops only).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from 'anomaly-lab';
import { relativePositionBias } from 'anomaly-lab/anomalybert';
import { createRng } from 'anomaly-lab/core';

/** The previous implementation: a Toeplitz skew by broadcasting, reshaping and slicing. */
function skewReference(table: tf.Tensor, n: number): tf.Tensor3D {
  return tf.tidy(() => {
    const h = table.shape[1] as number;
    const padded = tf.concat([table, tf.zeros([1, h])], 0);
    const repeated = tf.add(tf.zeros([n, 1, 1]), tf.expandDims(padded, 0));
    const flat = tf.slice(tf.reshape(repeated, [n * 2 * n, h]), [0, 0], [n * (2 * n - 1), h]);
    const ji = tf.slice(tf.reshape(flat, [n, 2 * n - 1, h]), [0, n - 1, 0], [n, n, h]);
    return tf.transpose(ji, [2, 1, 0]) as tf.Tensor3D;
  });
}

/** A seeded table (2N − 1, H) as a variable, and seeded weights R (H, N, N) for Σ R ⊙ bias. */
function tableAndWeights(n: number, h: number, seed: number): { table: tf.Variable; r: tf.Tensor3D } {
  const rng = createRng(seed);
  const table = tf.variable(
    tf.tensor2d(
      Float32Array.from({ length: (2 * n - 1) * h }, () => rng.uniform() - 0.5),
      [2 * n - 1, h],
    ),
  );
  const r = tf.tensor3d(
    Float32Array.from({ length: h * n * n }, () => rng.uniform() - 0.5),
    [h, n, n],
  );
  return { table, r };
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: values and table gradient equal the tensor-op skew (N 1, 7, 64)`, async () => {
    await initBackend({ backend, log: false });
    for (const [n, h] of [
      [1, 2],
      [7, 3],
      [64, 8],
    ]) {
      const { table, r } = tableAndWeights(n, h, n);
      const before = tf.memory().numTensors;
      const ours = tf.variableGrads(() => tf.sum(tf.mul(relativePositionBias(table, n), r)) as tf.Scalar, [table]);
      const ref = tf.variableGrads(() => tf.sum(tf.mul(skewReference(table, n), r)) as tf.Scalar, [table]);
      const a = relativePositionBias(table, n);
      const b = skewReference(table, n);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      const ga = ours.grads[table.name].dataSync();
      const gb = ref.grads[table.name].dataSync();
      let worst = 0;
      for (let i = 0; i < ga.length; i++) worst = Math.max(worst, Math.abs(ga[i] - gb[i]));
      expect(worst).toBeLessThan(1e-5);
      // Diagonal sums, directly.
      const rv = r.dataSync();
      const k = h - 1;
      const row = n - 1; // i − j = 0: the main diagonal
      let direct = 0;
      for (let i = 0; i < n; i++) direct += rv[(k * n + i) * n + i];
      expect(Math.abs(ga[row * h + k] - direct)).toBeLessThan(1e-5);
      tf.dispose([ours.value, ref.value, ...Object.values(ours.grads), ...Object.values(ref.grads), a, b]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([table, r]);
    }
    expect(() => relativePositionBias(tf.zeros([4, 2]), 3)).toThrow(/4 rows, 5 expected for 3 tokens/);
  });
}

// The on-device form (webgl, webgpu, tensorflow backends: no host read-back each pass), checked on
// cpu, which also has gather's gradient: the same values bit for bit, the same table gradient.
test('cpu: the on-device gather form equals the host form, values and gradient; tensors stay flat after the first pass', async () => {
  await initBackend({ backend: 'cpu', log: false });
  for (const [n, h] of [
    [1, 2],
    [7, 3],
    [64, 8],
  ]) {
    const { table, r } = tableAndWeights(n, h, 100 + n);
    const loss = (onHost: boolean) => () => tf.sum(tf.mul(relativePositionBias(table, n, { onHost }), r)) as tf.Scalar;
    tf.dispose(relativePositionBias(table, n, { onHost: false })); // first pass: the kept index tensor
    const before = tf.memory().numTensors;
    const device = tf.variableGrads(loss(false), [table]);
    const host = tf.variableGrads(loss(true), [table]);
    const a = relativePositionBias(table, n, { onHost: false });
    const b = relativePositionBias(table, n, { onHost: true });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const ga = device.grads[table.name].dataSync();
    const gb = host.grads[table.name].dataSync();
    let worst = 0;
    for (let i = 0; i < ga.length; i++) worst = Math.max(worst, Math.abs(ga[i] - gb[i]));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([device.value, host.value, ...Object.values(device.grads), ...Object.values(host.grads), a, b]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([table, r]);
  }
});
