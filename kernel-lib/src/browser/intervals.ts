/**
 * Time intervals of the power-system dashboard (the seed's `merge_intervals` semantics):
 * intervals are (start_time, end_time) pairs in the signal's time unit; an interval is joined to the
 * previous merged one when its start ≤ previous end + maxGapSamples × sampleTime, and the merged end
 * is the larger of the two ends (a contained interval never shortens the event).
 */

import { FieldError } from './errors';

/**
 * The one check of a merge gap: a number of samples ≥ 0. The error names `field`: `max_gap_samples`
 * (CLI, config and JSON) or `maxGapSamples` (library options); the CLI maps both to --max_gap_samples.
 */
export function checkMaxGapSamples(value: number, field = 'max_gap_samples'): void {
  if (!(value >= 0)) throw new FieldError(field, (f) => `${f(field)} must be ≥ 0 samples, got ${value}`);
}

/** Merge nearby intervals. Input need not be sorted (it is sorted by start, stably). */
export function mergeIntervals(intervals: Array<[number, number]>, maxGapSamples: number, sampleTime: number): Array<[number, number]> {
  checkMaxGapSamples(maxGapSamples);
  if (!(sampleTime >= 0) || !Number.isFinite(sampleTime)) throw new Error(`sample_time must be a finite number ≥ 0, got ${sampleTime}`);
  if (intervals.length === 0) return [];
  intervals.forEach(([s, e], i) => {
    if (!Number.isFinite(s) || !Number.isFinite(e) || e < s) throw new Error(`interval ${i} is invalid: [${s}, ${e}]`);
  });
  const sorted = intervals
    .map((iv, i) => ({ iv, i }))
    .sort((a, b) => a.iv[0] - b.iv[0] || a.i - b.i)
    .map((x) => x.iv);
  const gap = maxGapSamples * sampleTime;
  const out: Array<[number, number]> = [[sorted[0][0], sorted[0][1]]];
  for (let i = 1; i < sorted.length; i++) {
    const prev = out[out.length - 1];
    const [s, e] = sorted[i];
    if (s <= prev[1] + gap) prev[1] = Math.max(prev[1], e);
    else out.push([s, e]);
  }
  return out;
}

/**
 * The intervals of flagged windows: window i spans [starts[i], ends[i]] (e.g. Time[i] and
 * Time[i + sequenceLength − 1]); one pair per flagged window, in window order.
 */
export function intervalsFromFlags(
  flags: ArrayLike<number | boolean>,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
): Array<[number, number]> {
  if (starts.length !== flags.length || ends.length !== flags.length) {
    throw new Error(`intervalsFromFlags: flags (${flags.length}), starts (${starts.length}) and ends (${ends.length}) differ in length`);
  }
  const out: Array<[number, number]> = [];
  for (let i = 0; i < flags.length; i++) if (flags[i]) out.push([starts[i], ends[i]]);
  return out;
}
