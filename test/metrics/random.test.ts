import { createRng, restoreRng } from 'anomaly-lab/core';

describe('createRng', () => {
  test('same seed → same stream; different seeds differ', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a.uniform());
    const sb = Array.from({ length: 100 }, () => b.uniform());
    const sc = Array.from({ length: 100 }, () => c.uniform());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  test('uniform is in [0, 1) with mean ≈ 0.5 and variance ≈ 1/12', () => {
    const r = createRng(1);
    const n = 200000;
    let s = 0;
    let s2 = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      s += u;
      s2 += u * u;
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
    const mean = s / n;
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    // standard error of the mean is sqrt(1/12/n) ≈ 6.5e-4; allow 5 sigma
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - mean * mean - 1 / 12)).toBeLessThan(2e-3);
  });

  test('normal has the requested mean and std', () => {
    const r = createRng(7);
    const n = 200000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal(3, 2);
      s += z;
      s2 += z * z;
    }
    const mean = s / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    expect(Math.abs(mean - 3)).toBeLessThan(5 * (2 / Math.sqrt(n)));
    expect(Math.abs(std - 2)).toBeLessThan(0.02);
  });

  test('int covers [lo, hi) uniformly; choice and shuffle', () => {
    const r = createRng(3);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 50000; i++) counts[r.int(10, 15) - 10]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    expect(() => r.int(3, 3)).toThrow(/empty range/);
    expect(['a', 'b', 'c']).toContain(r.choice(['a', 'b', 'c']));
    expect(() => r.choice([])).toThrow(/empty/);
    const arr = Array.from({ length: 50 }, (_, i) => i);
    r.shuffle(arr);
    expect([...arr].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(arr).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test('state()/restoreRng continue the exact stream, including a cached normal', () => {
    const r = createRng(99);
    r.uniform();
    r.normal(); // leaves a cached spare variate
    const saved = JSON.parse(JSON.stringify(r.state()));
    const next = [r.normal(), r.uniform(), r.int(0, 1000), r.normal()];
    const r2 = restoreRng(saved);
    expect([r2.normal(), r2.uniform(), r2.int(0, 1000), r2.normal()]).toEqual(next);
    expect(() => restoreRng({ s: [1, 2, 3] as unknown as [number, number, number, number], spare: null })).toThrow(/restoreRng/);
  });

  test('rejects a non-finite seed', () => {
    expect(() => createRng(NaN)).toThrow(/seed/);
  });
});
