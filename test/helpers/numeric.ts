/** Numeric comparisons shared by the fixture tests. */

/** Largest |a[i] − b[i]|; the lengths must match (asserted, so a shape slip cannot pass as 0). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
