import { mergeIntervals, intervalsFromFlags } from '../../kernel-lib/src/browser/intervals';

describe('mergeIntervals (power seed semantics)', () => {
  test('joins when start ≤ previous end + gap × sample time, keeps the larger end', () => {
    const dt = 0.5;
    // gap 2 samples = 1.0 time unit
    const merged = mergeIntervals([[0, 1], [2, 3], [3.5, 3.6], [5, 6], [5.5, 5.7]], 2, dt);
    expect(merged).toEqual([[0, 3.6], [5, 6]]);
    // just outside the gap starts a new interval
    expect(mergeIntervals([[0, 1], [2.01, 3]], 2, dt)).toEqual([[0, 1], [2.01, 3]]);
    // zero gap still merges touching/overlapping windows
    expect(mergeIntervals([[0, 1], [1, 2], [0.5, 0.6]], 0, dt)).toEqual([[0, 2]]);
  });

  test('unsorted input is sorted by start; input is not mutated', () => {
    const input: Array<[number, number]> = [[5, 6], [0, 1]];
    expect(mergeIntervals(input, 1, 1)).toEqual([[0, 1], [5, 6]]);
    expect(input).toEqual([[5, 6], [0, 1]]);
    expect(mergeIntervals([], 10, 1)).toEqual([]);
  });

  test('bad arguments name the parameter', () => {
    expect(() => mergeIntervals([[0, 1]], -1, 1)).toThrow(/max_gap_samples/);
    expect(() => mergeIntervals([[0, 1]], 1, NaN)).toThrow(/sample_time/);
    expect(() => mergeIntervals([[2, 1]], 1, 1)).toThrow(/interval 0 is invalid/);
  });
});

describe('intervalsFromFlags', () => {
  test('one interval per flagged window', () => {
    expect(intervalsFromFlags([0, 1, true, false], [0, 1, 2, 3], [10, 11, 12, 13])).toEqual([[1, 11], [2, 12]]);
    expect(() => intervalsFromFlags([1], [0, 1], [1])).toThrow(/differ in length/);
  });
});
