/** Numeric comparisons and inputs shared by the fixture tests. */
import { createRng } from 'anomaly-lab/core';

/** `n` seeded uniform values in [0, 1): the same inputs for a given seed in every test. */
export function randomValues(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform());
}

/** Largest |a[i] − b[i]|; the lengths must match (asserted, so a shape slip cannot pass as 0). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
