/**
 * The sliding-window schedule against a line-by-line transliteration of the loops in the original
 * estimate.py (written here with Python `range` semantics as an independent oracle), plus the
 * properties the averaging relies on: every point covered and the last window scored, except in
 * the original's one gap (phase 1 ending exactly at the last window start).
 */
import { slidingWindowSchedule } from 'anomaly-lab/anomalybert';

/** Python's range(start, stop, step) for positive step. */
function range(start: number, stop: number, step: number): number[] {
  const out: number[] = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

/** The original's batching loops (estimate.py, `estimate()`), returning window starts per batch. */
function originalSchedule(dataLen: number, windowSize: number, nBatch: number, windowSliding: number): number[][] {
  const lastWindow = dataLen - windowSize + 1;
  const batchSliding = nBatch * windowSize;
  const _batchSliding = nBatch * windowSliding;
  const batches: number[][] = [];
  let _first = -batchSliding;
  for (const first of range(0, lastWindow - batchSliding + 1, batchSliding)) {
    for (const i of range(first, first + windowSize, windowSliding)) {
      // x = data[i:i+batch_sliding].reshape(n_batch, window_size, -1)
      batches.push(range(0, nBatch, 1).map((k) => i + k * windowSize));
    }
    _first = first;
  }
  _first += batchSliding;
  const firsts = range(_first, lastWindow, _batchSliding);
  const lasts = [...range(_first + _batchSliding, lastWindow, _batchSliding), lastWindow];
  for (let z = 0; z < Math.min(firsts.length, lasts.length); z++) {
    batches.push([...range(firsts[z], lasts[z] - 1, windowSliding), lasts[z] - 1]);
  }
  return batches;
}

describe('slidingWindowSchedule', () => {
  const cases: Array<[number, number, number, number]> = [];
  for (const length of [64, 65, 100, 257, 1000, 1023]) {
    for (const [w, s] of [
      [64, 16],
      [64, 64],
      [64, 1],
      [16, 8],
      [12, 4],
    ]) {
      for (const n of [1, 3, 4, 16]) if (length >= w) cases.push([length, w, n, s]);
    }
  }
  // Phase 1 ending exactly at the last window start (length − W + 1 = k·n·W).
  cases.push([64 * 4 * 2 + 63, 64, 4, 16], [16 * 3 + 15, 16, 3, 8]);

  test.each(cases)('length %i, window %i, batch %i, sliding %i: same batches as the original', (length, w, n, s) => {
    const got = slidingWindowSchedule(length, w, n, s).map((b) => Array.from(b));
    expect(got).toEqual(originalSchedule(length, w, n, s));
  });

  test.each(cases)('length %i, window %i, batch %i, sliding %i: every point covered, last window scored', (length, w, n, s) => {
    const counts = new Int32Array(length);
    const batches = slidingWindowSchedule(length, w, n, s);
    let maxStart = -1;
    for (const b of batches) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(n + 1);
      for (const start of b) {
        expect(start).toBeGreaterThanOrEqual(0);
        expect(start + w).toBeLessThanOrEqual(length);
        for (let t = start; t < start + w; t++) counts[t]++;
        maxStart = Math.max(maxStart, start);
      }
    }
    const last = length - w + 1;
    if (last % (n * w) === 0) {
      // The original's gap: phase 1 ends exactly at `last`, phase 2 is empty and the final s − 1
      // points stay unscored (estimateScores fills them, see its test).
      const uncovered = Array.from(counts.keys()).filter((t) => counts[t] === 0);
      expect(uncovered).toEqual(Array.from({ length: s - 1 }, (_, i) => length - s + 1 + i));
    } else {
      expect(maxStart).toBe(length - w);
      expect(Math.min(...counts)).toBeGreaterThan(0);
    }
  });

  test('bad arguments are named', () => {
    expect(() => slidingWindowSchedule(1000, 64, 4, 24)).toThrow(/'windowSliding' 24 must divide the window size 64/);
    expect(() => slidingWindowSchedule(50, 64, 4, 16)).toThrow(/50 points, fewer than one window \(64 points\)/);
    expect(() => slidingWindowSchedule(1000, 64, 0, 16)).toThrow(/batch_size must be a positive integer/);
    expect(() => slidingWindowSchedule(1000, 64, 4, 1.5)).toThrow(/window_sliding must be a positive integer/);
  });
});
