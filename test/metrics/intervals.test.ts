import { mergeIntervals, intervalsFromFlags, quantileLinear } from 'anomaly-lab/core';
import { loadSeries, readNpy, toFloat64 } from 'anomaly-lab/io';
import * as fs from 'fs';
import { describeShared, sharedPath } from '../helpers/shared';

describe('mergeIntervals (power seed semantics)', () => {
  test('joins when start ≤ previous end + gap × sample time, keeps the larger end', () => {
    const dt = 0.5;
    // gap 2 samples = 1.0 time unit
    const merged = mergeIntervals(
      [
        [0, 1],
        [2, 3],
        [3.5, 3.6],
        [5, 6],
        [5.5, 5.7],
      ],
      2,
      dt,
    );
    expect(merged).toEqual([
      [0, 3.6],
      [5, 6],
    ]);
    // just outside the gap starts a new interval
    expect(
      mergeIntervals(
        [
          [0, 1],
          [2.01, 3],
        ],
        2,
        dt,
      ),
    ).toEqual([
      [0, 1],
      [2.01, 3],
    ]);
    // zero gap still merges touching/overlapping windows
    expect(
      mergeIntervals(
        [
          [0, 1],
          [1, 2],
          [0.5, 0.6],
        ],
        0,
        dt,
      ),
    ).toEqual([[0, 2]]);
  });

  test('unsorted input is sorted by start; input is not mutated', () => {
    const input: Array<[number, number]> = [
      [5, 6],
      [0, 1],
    ];
    expect(mergeIntervals(input, 1, 1)).toEqual([
      [0, 1],
      [5, 6],
    ]);
    expect(input).toEqual([
      [5, 6],
      [0, 1],
    ]);
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
    expect(intervalsFromFlags([0, 1, true, false], [0, 1, 2, 3], [10, 11, 12, 13])).toEqual([
      [1, 11],
      [2, 12],
    ]);
    expect(() => intervalsFromFlags([1], [0, 1], [1])).toThrow(/differ in length/);
  });
});

// End to end on the power seed's reference: CSV time column → percentile threshold → flags →
// window intervals → merged events, compared with fixtures/power-system/expected_default.json.

describeShared('power-system reference: threshold, flags and merged intervals', () => {
  test('simData2.csv + expected_default_mse.npy reproduce the merged intervals', async () => {
    const expected = JSON.parse(fs.readFileSync(sharedPath('fixtures/power-system/expected_default.json'), 'utf8')) as {
      params: { sequence_length: number; percentile: number; max_gap_samples: number };
      threshold: number;
      n_windows: number;
      n_anomalous_windows: number;
      sample_time: number;
      merged_intervals: Array<[number, number]>;
    };
    const data = await loadSeries(sharedPath('data/power-system/simData2.csv'), {
      columns: ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'],
      timeColumn: 'Time',
    });
    expect(data.length).toBe(12001);
    const time = data.time as Float64Array;
    const mse = toFloat64(readNpy(sharedPath('fixtures/power-system/expected_default_mse.npy')));
    const L = expected.params.sequence_length;
    expect(mse.length).toBe(expected.n_windows);
    expect(mse.length).toBe(data.length - L + 1);
    const threshold = quantileLinear(mse, expected.params.percentile / 100);
    expect(Math.abs(threshold - expected.threshold)).toBeLessThanOrEqual(1e-12 * Math.abs(expected.threshold));
    const flags = Uint8Array.from(mse, (e) => (e > threshold ? 1 : 0));
    expect(flags.reduce((s, f) => s + f, 0)).toBe(expected.n_anomalous_windows);
    const starts = time.subarray(0, mse.length);
    const ends = time.subarray(L - 1, L - 1 + mse.length);
    const sampleTime = time[1] - time[0];
    expect(sampleTime).toBeCloseTo(expected.sample_time, 15);
    const merged = mergeIntervals(intervalsFromFlags(flags, starts, ends), expected.params.max_gap_samples, sampleTime);
    expect(merged).toHaveLength(expected.merged_intervals.length);
    merged.forEach(([s, e], i) => {
      expect(s).toBeCloseTo(expected.merged_intervals[i][0], 12);
      expect(e).toBeCloseTo(expected.merged_intervals[i][1], 12);
    });
  });
});
