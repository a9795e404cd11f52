/**
 * Synthetic test-set anomalies (kernel-lib/src/evaluation/synth-anomalies.ts). Expected values are
 * recomputed from the untouched series and each interval's record.
 */
import { FieldError } from 'anomaly-lab/core';
import {
  checkSynthOptions,
  synthesizeTestSet,
  synthLengthBounds,
  triangleWeights,
  peakValue,
  SYNTH_ANOMALY_TYPES,
  type SynthAnomalyType,
} from 'anomaly-lab/evaluation';
import type { DegradeSeries } from 'anomaly-lab/training';

const C = 4;

/** A smooth 4-column series in [0.05, 0.95] (test input, not a fixture). */
function smoothSeries(length: number): DegradeSeries {
  const values = new Float32Array(length * C);
  for (let t = 0; t < length; t++) for (let c = 0; c < C; c++) values[t * C + c] = 0.5 + 0.45 * Math.sin(t / (50 + 13 * c) + c);
  return { source: 'smooth-test-series', columns: ['v', 'i', 'soc', 'temp'], length, values };
}

const N = 20000;
const series = smoothSeries(N);
const { lo, hi } = synthLengthBounds(N);

function mismatches(): { list: string[]; ok(cond: boolean, what: string): void } {
  const list: string[] = [];
  return { list, ok: (cond, what) => void (!cond && list.length < 20 && list.push(what)) };
}

function only(type: SynthAnomalyType, seed: number, anomalies = 12) {
  return synthesizeTestSet(series, { seed, anomalies, types: [type] });
}

describe('synthesizeTestSet', () => {
  test('length bounds are 0.05%..10% of the series', () => {
    expect(lo).toBe(Math.ceil(N * 0.0005));
    expect(hi).toBe(Math.floor(N * 0.1));
    expect(synthLengthBounds(100).lo).toBe(1);
  });

  test('is deterministic for a seed and differs across seeds', () => {
    const a = synthesizeTestSet(series, { seed: 5, anomalies: 8 });
    const b = synthesizeTestSet(series, { seed: 5, anomalies: 8 });
    expect(Buffer.from(a.values.buffer).equals(Buffer.from(b.values.buffer))).toBe(true);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.intervals).toEqual(b.intervals);
    const c = synthesizeTestSet(series, { seed: 6, anomalies: 8 });
    expect(Array.from(a.labels)).not.toEqual(Array.from(c.labels));
  });

  test('intervals have lengths within bounds, do not touch each other, and labels are exactly their union', () => {
    const { labels, intervals } = synthesizeTestSet(series, { seed: 9, anomalies: 10 });
    expect(intervals.length).toBe(10);
    expect(new Set(intervals.map((i) => i.type)).size).toBeGreaterThan(1);
    const expected = new Uint8Array(N);
    intervals.forEach((iv, k) => {
      expect(iv.end - iv.start).toBeGreaterThanOrEqual(lo);
      expect(iv.end - iv.start).toBeLessThanOrEqual(hi);
      expect(iv.columns.length).toBeGreaterThan(0);
      if (k > 0) expect(iv.start).toBeGreaterThan(intervals[k - 1].end);
      if (iv.type === 'peak_noise') for (const p of iv.points!) expected[p] = 1;
      else expected.fill(1, iv.start, iv.end);
    });
    expect(Array.from(labels)).toEqual(Array.from(expected));
  });

  test('soft replacement blends an external stretch of the same column with a 0 -> 0.7 -> 0 triangle', () => {
    const w = triangleWeights(11);
    expect(w[0]).toBe(0);
    expect(w[10]).toBe(0);
    expect(w[5]).toBeCloseTo(0.7, 6);
    expect(w[2]).toBeCloseTo(0.7 * 0.4, 6);
    const { values, intervals } = only('soft_replacement', 11);
    const m = mismatches();
    for (const iv of intervals) {
      const len = iv.end - iv.start;
      const wt = triangleWeights(len);
      iv.columns.forEach((col, k) => {
        const from = iv.sourceStarts![k];
        m.ok(from + len <= iv.start || from >= iv.end, `source overlaps target at ${iv.start}`);
        for (let i = 0; i < len; i++) {
          const o = series.values[(iv.start + i) * C + col];
          const src = series.values[(from + i) * C + col];
          m.ok(Math.abs(values[(iv.start + i) * C + col] - (src * wt[i] + o * (1 - wt[i]))) < 1e-6, `blend ${iv.start + i},${col}`);
        }
      });
    }
    // Everything outside the degraded (row, column) cells is untouched.
    const touched = new Uint8Array(N * C);
    for (const iv of intervals) for (const col of iv.columns) for (let t = iv.start; t < iv.end; t++) touched[t * C + col] = 1;
    for (let i = 0; i < N * C; i++) if (!touched[i]) m.ok(values[i] === series.values[i], `untouched ${i}`);
    expect(m.list).toEqual([]);
  });

  test('uniform replacement is one constant within ±0.1 of the interval mean, inside [0, 1]', () => {
    const { values, intervals } = only('uniform_replacement', 12);
    const m = mismatches();
    for (const iv of intervals) {
      for (const col of iv.columns) {
        let mean = 0;
        for (let t = iv.start; t < iv.end; t++) mean += series.values[t * C + col];
        mean /= iv.end - iv.start;
        const v = values[iv.start * C + col];
        m.ok(Math.abs(v - mean) <= 0.1 + 1e-6 && v >= 0 && v <= 1, `constant ${v} vs mean ${mean}`);
        for (let t = iv.start; t < iv.end; t++) m.ok(values[t * C + col] === v, `not constant at ${t},${col}`);
      }
    }
    expect(m.list).toEqual([]);
  });

  test('peak noise moves one point per degraded column by >= 0.1 within [0, 1] and labels only those points', () => {
    const { values, labels, intervals } = only('peak_noise', 13);
    const m = mismatches();
    let changed = 0;
    for (let i = 0; i < N * C; i++) if (values[i] !== series.values[i]) changed++;
    let expectedChanges = 0;
    for (const iv of intervals) {
      expect(iv.points!.length).toBe(iv.columns.length);
      iv.columns.forEach((col, k) => {
        const p = iv.points![k];
        m.ok(p >= iv.start && p < iv.end, `point ${p} outside [${iv.start}, ${iv.end})`);
        const before = series.values[p * C + col];
        const after = values[p * C + col];
        m.ok(Math.abs(after - before) >= 0.1 - 1e-6 && after >= 0 && after <= 1, `peak ${before} -> ${after}`);
        expectedChanges++;
      });
    }
    expect(m.list).toEqual([]);
    expect(changed).toBe(expectedChanges);
    const labelled = labels.reduce((s, v) => s + v, 0);
    expect(labelled).toBe(new Set(intervals.flatMap((iv) => iv.points!)).size);
    // peakValue covers both sides and the edges.
    expect(peakValue(0, 0.3, 0.5)).toBeGreaterThanOrEqual(0.1);
    expect(peakValue(1, 0.3, 0.5)).toBeLessThanOrEqual(0.9);
    expect(peakValue(0.5, 0, 1)).toBeCloseTo(1, 6);
    expect(peakValue(0.5, 0.99, 0)).toBe(0);
  });

  test('white noise is N(0, 0.003) on the degraded columns, clipped to [0, 1]', () => {
    const { values, intervals } = only('white_noise', 14);
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (const iv of intervals) {
      for (const col of iv.columns) {
        for (let t = iv.start; t < iv.end; t++) {
          const d = values[t * C + col] - series.values[t * C + col];
          s += d;
          s2 += d * d;
          n++;
        }
      }
    }
    const std = Math.sqrt(s2 / n - (s / n) ** 2);
    expect(n).toBeGreaterThan(1000);
    expect(std).toBeGreaterThan(0.0027);
    expect(std).toBeLessThan(0.0033);
    const edge: DegradeSeries = { source: 'edge', columns: ['a', 'b', 'c', 'd'], length: 5000, values: new Float32Array(5000 * C).fill(1) };
    const out = synthesizeTestSet(edge, { seed: 1, anomalies: 5, types: ['white_noise'] });
    expect(out.values.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(out.values.some((v) => v < 1)).toBe(true);
  });

  test('all four types exist and bad options are named', () => {
    expect([...SYNTH_ANOMALY_TYPES].sort()).toEqual(['peak_noise', 'soft_replacement', 'uniform_replacement', 'white_noise']);
    expect(() => synthesizeTestSet(series, { seed: 1, anomalies: -1 })).toThrow("option 'anomalies' must be ≥ 1, got -1");
    expect(() => synthesizeTestSet(series, { seed: 1, anomalies: 0 })).toThrow("option 'anomalies' must be ≥ 1, got 0");
    expect(() => synthesizeTestSet(series, { seed: 1, types: ['spike' as SynthAnomalyType] })).toThrow(
      /^option 'types': unknown anomaly type 'spike' \(known: soft_replacement, /,
    );
    expect(() => synthesizeTestSet(series, { seed: 1, maxLengthFraction: 2 })).toThrow(
      "options 'minLengthFraction' (0.0005) and 'maxLengthFraction' (2) must satisfy 0 < min ≤ max ≤ 1",
    );
    // the check alone (what the CLI runs on its flags before reading data): one FieldError per bad
    // value, naming the option; a front end renders the names its way (the CLI as flags)
    const fieldError = (o: Parameters<typeof checkSynthOptions>[0]): FieldError => {
      try {
        checkSynthOptions(o);
      } catch (e) {
        if (e instanceof FieldError) return e;
        throw e;
      }
      throw new Error(`no error for ${JSON.stringify(o)}`);
    };
    const asFlags = (f: string): string => `--${{ minLengthFraction: 'min_length', maxLengthFraction: 'max_length' }[f] ?? f}`;
    const cases: Array<[Parameters<typeof checkSynthOptions>[0], string[], string]> = [
      [{ anomalies: 2.5 }, ['anomalies'], 'option --anomalies must be an integer, got 2.5'],
      [{ types: [] }, ['types'], 'option --types must name at least one anomaly type'],
      [{ types: ['white_noise', 'spike'] }, ['types'], "option --types: unknown anomaly type 'spike'"],
      [
        { minLengthFraction: 0.2, maxLengthFraction: 0.1 },
        ['minLengthFraction', 'maxLengthFraction'],
        'options --min_length (0.2) and --max_length (0.1) must satisfy 0 < min ≤ max ≤ 1',
      ],
    ];
    for (const [o, fields, text] of cases) {
      const e = fieldError(o);
      expect(e.fields).toEqual(fields);
      expect(e.messageWith(asFlags).startsWith(text)).toBe(true);
      expect(e.message.split('\n')).toHaveLength(1);
    }
    expect(checkSynthOptions({ types: ['voltage_gap'] })).toEqual({
      anomalies: 5,
      types: ['voltage_gap'],
      minLengthFraction: 0.0005,
      maxLengthFraction: 0.1,
    });
    const small = smoothSeries(200);
    expect(() => synthesizeTestSet(small, { seed: 1, anomalies: 500 })).toThrow(/smooth-test-series.*'anomalies'/);
    const ragged: DegradeSeries = { source: 'ragged.csv', columns: ['a', 'b'], length: 10, values: new Float32Array(7) };
    expect(() => synthesizeTestSet(ragged, { seed: 1 })).toThrow(/ragged\.csv/);
  });
});
