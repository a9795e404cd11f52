/**
 * First-difference input features (an option of this toolkit; the original model reads values only).
 *
 * Why: battery BMS series are quantised and mostly flat — in panli 94–99% of the first differences
 * of the min-max scaled columns are exactly 0 — so white noise and single-point peaks show up far
 * more clearly in x_t − x_(t−1) than in x_t, whose [0, 1] range is dominated by slow drifts. A
 * linear patch embedding can in principle learn a differencing filter, but at 1e-3 amplitudes it
 * does not in a workshop-length run. Giving the model the difference explicitly, scaled per column
 * by its training spread and compressed by asinh (peaks of 0.1 are hundreds of spreads), keeps the
 * values (context: level, other columns) and adds the local change.
 *
 *   x (n, W, C) → [x, asinh(Δx / s)] (n, W, 2C),  Δx_0 = 0 in every window (no look-behind, so a
 *   window's features depend on the window only, as estimation with overlapping windows needs)
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Per-column scale of the first differences: their population standard deviation over the series
 * (values (length, C) row-major, already scaled), floored so a column that never moves in training
 * (std 0) gets a tiny positive scale — any change there is then large, as it should be.
 */
export function fitDiffScales(values: ArrayLike<number>, length: number, nCols: number): number[] {
  if (length < 2) throw new Error(`fitDiffScales: need at least 2 rows, got ${length}`);
  if (values.length !== length * nCols) throw new Error(`fitDiffScales: ${values.length} values are not ${length} rows × ${nCols} columns`);
  const mean = new Float64Array(nCols);
  for (let t = 1; t < length; t++) for (let c = 0; c < nCols; c++) mean[c] += values[t * nCols + c] - values[(t - 1) * nCols + c];
  for (let c = 0; c < nCols; c++) mean[c] /= length - 1;
  const sq = new Float64Array(nCols);
  for (let t = 1; t < length; t++) {
    for (let c = 0; c < nCols; c++) {
      const e = values[t * nCols + c] - values[(t - 1) * nCols + c] - mean[c];
      sq[c] += e * e;
    }
  }
  return Array.from(sq, (s) => Math.max(Math.sqrt(s / (length - 1)), DIFF_SCALE_FLOOR));
}

/** Smallest scale (min-max scaled data: 1e-6 of the training range). */
export const DIFF_SCALE_FLOOR = 1e-6;

/** x (n, W, C) → (n, W, 2C): values, then asinh(first difference / scale) per column. */
export function withFirstDifferences(x: tf.Tensor3D, scales: readonly number[]): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, w, c] = x.shape;
    if (scales.length !== c) throw new Error(`first-difference features: ${scales.length} scales for ${c} columns`);
    if (w < 2) return tf.concat([x, tf.zerosLike(x)], 2) as tf.Tensor3D;
    // Explicit slices (not tf.diff-like padding ops): Slice and Concat are fast on every backend.
    const later = tf.slice(x, [0, 1, 0], [n, w - 1, c]);
    const earlier = tf.slice(x, [0, 0, 0], [n, w - 1, c]);
    const inv = tf.tensor1d(scales.map((s) => 1 / s));
    const d = tf.asinh(tf.mul(tf.sub(later, earlier), inv)); // (n, W−1, C)
    const diffs = tf.concat([tf.zeros([n, 1, c]), d], 1); // (n, W, C)
    return tf.concat([x, diffs], 2) as tf.Tensor3D;
  });
}
