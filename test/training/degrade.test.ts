/**
 * Training degradation (kernel-lib/src/training/degrade.ts) against the semantics of the original
 * train.py as described in ../shared/README.md. Each check recomputes the expected window from the
 * untouched series and the sample's record, so nothing here is a hard-coded result.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng, restoreRng } from 'anomaly-lab/core';
import { loadSeries } from 'anomaly-lab/io';
import {
  chooseDegradedColumns,
  degradationTypeFor,
  DEFAULT_DEGRADATION_PROBABILITIES,
  makeDegradedBatch,
  replacingLengthBounds,
  ReplacingLengthTable,
  replacingWeights,
  type DegradationProbabilities,
  type DegradedBatchOptions,
  type DegradeSeries,
} from 'anomaly-lab/training';
import { describeShared, sharedPath } from '../helpers/shared';

const C = 3;
const PATCH = 4;
const W = 32 * PATCH;
const RATE = 0.15;

/** A smooth 3-column series in [0.1, 0.9] with distinct phases (test input, not a fixture). */
function smoothSeries(length: number, source = 'smooth-test-series'): DegradeSeries {
  const values = new Float32Array(length * C);
  for (let t = 0; t < length; t++) {
    for (let c = 0; c < C; c++) values[t * C + c] = 0.5 + 0.4 * Math.sin(t / (17 + 5 * c) + c);
  }
  return { source, columns: ['a', 'b', 'c'], length, values };
}

const ONLY = (p: Partial<DegradationProbabilities>): DegradationProbabilities => ({
  softReplacing: 0,
  uniformReplacing: 0,
  peakNoising: 0,
  lengthAdjusting: 0,
  whiteNoising: 0,
  ...p,
});

function batch(series: DegradeSeries, seed: number, extra: Partial<DegradedBatchOptions> = {}) {
  const rng = createRng(seed);
  const lengths = ReplacingLengthTable.create(W, RATE, rng);
  return makeDegradedBatch(series, { batchSize: 64, windowSize: W, patchSize: PATCH, replacingRateMax: RATE, rng, lengths, ...extra });
}

/** Original window j of the batch, read from the series. */
function originalWindow(series: DegradeSeries, origin: number): Float32Array {
  return series.values.slice(origin * C, (origin + W) * C);
}

const at = (w: Float32Array, row: number, col: number): number => w[row * C + col];

/**
 * Element checks collect mismatches and assert once: one expect() per element made the suite take
 * tens of seconds.
 */
class Mismatches {
  readonly list: string[] = [];
  same(actual: number, expected: number, what: string): void {
    if (!Object.is(actual, expected) && this.list.length < 20) this.list.push(`${what}: ${actual} != ${expected}`);
  }
  close(actual: number, expected: number, what: string, tol = 1e-5): void {
    if (!(Math.abs(actual - expected) <= tol) && this.list.length < 20) this.list.push(`${what}: ${actual} !~ ${expected}`);
  }
  ok(cond: boolean, what: string): void {
    if (!cond && this.list.length < 20) this.list.push(what);
  }
}

describe('degradation building blocks', () => {
  test('length bounds are [floor(W*r/10), floor(W*r)) and bad rates are named', () => {
    expect(replacingLengthBounds(512 * 4, 0.15)).toEqual({ low: Math.floor(2048 * 0.015), high: Math.floor(0.15 * 2048) });
    expect(() => replacingLengthBounds(8, 0.1)).toThrow(/replacing_rate_max/);
    expect(() => replacingLengthBounds(128, 0)).toThrow(/replacing_rate_max/);
  });

  test('length table stays within bounds and is consumed cyclically; JSON round trip keeps the cursor', () => {
    const t = ReplacingLengthTable.create(W, RATE, createRng(1), 10);
    const { low, high } = replacingLengthBounds(W, RATE);
    for (const v of t.values) {
      expect(v).toBeGreaterThanOrEqual(low);
      expect(v).toBeLessThan(high);
    }
    const first = t.take(7);
    expect(Array.from(first)).toEqual(Array.from(t.values.subarray(0, 7)));
    const copy = ReplacingLengthTable.fromJSON(JSON.parse(JSON.stringify(t)));
    const wrapped = t.take(6); // 7,8,9 then 0,1,2
    expect(Array.from(wrapped)).toEqual([...Array.from(t.values.subarray(7)), ...Array.from(t.values.subarray(0, 3))]);
    expect(Array.from(copy.take(6))).toEqual(Array.from(wrapped));
    expect(t.index).toBe(3);
  });

  test('replacing weights ramp 0 -> w over floor(L/10) points (numpy linspace), w in the middle, back to 0', () => {
    const w = replacingWeights(45, 0.7);
    const ramp = 4;
    expect(w.length).toBe(45);
    expect(w[0]).toBe(0);
    expect(w[ramp - 1]).toBeCloseTo(0.7, 6);
    expect(w[1]).toBeCloseTo(0.7 / 3, 6);
    for (let i = ramp; i < 45 - ramp; i++) expect(w[i]).toBeCloseTo(0.7, 6);
    for (let i = 0; i < ramp; i++) expect(w[44 - i]).toBeCloseTo(w[i], 6);
    // Below 10 points there is no ramp at all.
    expect(Array.from(replacingWeights(9, 0.5)).every((v) => Math.abs(v - 0.5) < 1e-7)).toBe(true);
  });

  test('column rule: every v <= 0.3, and at least the smallest', () => {
    expect(chooseDegradedColumns([0.5, 0.2, 0.25, 0.9])).toEqual([1, 2]);
    expect(chooseDegradedColumns([0.6, 0.4, 0.9])).toEqual([1]);
    expect(chooseDegradedColumns([0.6, 0.4005, 0.4, 0.9])).toEqual([1, 2]); // within 0.001 of the minimum
  });

  test('type thresholds follow the cumulative order soft > uniform > peak > length, white below p_white', () => {
    const p = { softReplacing: 0.5, uniformReplacing: 0.15, peakNoising: 0.15, lengthAdjusting: 0.1, whiteNoising: 0.05 };
    expect(degradationTypeFor(0.51, p)).toBe('soft_replacing');
    expect(degradationTypeFor(0.49, p)).toBe('uniform_replacing');
    expect(degradationTypeFor(0.3, p)).toBe('peak_noising');
    expect(degradationTypeFor(0.15, p)).toBe('length_adjusting');
    expect(degradationTypeFor(0.08, p)).toBe('none');
    expect(degradationTypeFor(0.04, p)).toBe('white_noising');
  });
});

describe('makeDegradedBatch', () => {
  const series = smoothSeries(3000);

  test('is reproducible for a seed and differs across seeds; resuming from saved state continues the stream', () => {
    const a = batch(series, 7);
    const b = batch(series, 7);
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer))).toBe(true);
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(a.samples).toEqual(b.samples);
    const c = batch(series, 8);
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(c.x.buffer))).toBe(false);

    // Two steps in one go vs. step 1, save state, restore, step 2.
    const opts = { batchSize: 8, windowSize: W, patchSize: PATCH, replacingRateMax: RATE };
    const rng1 = createRng(3);
    const t1 = ReplacingLengthTable.create(W, RATE, rng1);
    makeDegradedBatch(series, { ...opts, rng: rng1, lengths: t1 });
    const saved = JSON.stringify({ rng: rng1.state(), lengths: t1 });
    const straight = makeDegradedBatch(series, { ...opts, rng: rng1, lengths: t1 });
    const s = JSON.parse(saved);
    const resumed = makeDegradedBatch(series, { ...opts, rng: restoreRng(s.rng), lengths: ReplacingLengthTable.fromJSON(s.lengths) });
    expect(Array.from(resumed.x)).toEqual(Array.from(straight.x));
    expect(Array.from(resumed.y)).toEqual(Array.from(straight.y));
  });

  test('shapes, origins in [0, len - W), labels only where recorded, default mix of types', () => {
    const { x, y, samples } = batch(series, 11, { batchSize: 200, probabilities: DEFAULT_DEGRADATION_PROBABILITIES });
    expect(x.length).toBe(200 * W * C);
    expect(y.length).toBe(200 * W);
    const seen = new Set(samples.map((s) => s.type));
    for (const t of ['soft_replacing', 'uniform_replacing', 'peak_noising', 'none']) expect(seen.has(t as never)).toBe(true);
    const m = new Mismatches();
    samples.forEach((s, j) => {
      m.ok(s.origin >= 0 && s.origin < series.length - W, `origin ${s.origin}`);
      m.ok(s.start + s.length <= W, `interval ${s.start}+${s.length}`);
      for (let r = 0; r < W; r++) m.same(y[j * W + r], r >= s.labelStart && r < s.labelEnd ? 1 : 0, `label ${j},${r}`);
      if (s.type === 'none') {
        const orig = originalWindow(series, s.origin);
        for (let i = 0; i < W * C; i++) m.same(x[j * W * C + i], orig[i], `clean ${j},${i}`);
      }
    });
    expect(m.list).toEqual([]);
  });

  test('soft replacement blends the recorded source interval with the ramped weight, only in degraded columns', () => {
    const other = smoothSeries(700, 'replacing-series');
    for (let i = 0; i < other.values.length; i++) other.values[i] = other.values[i] * 0.5; // distinct from the training data
    const { x, samples } = batch(series, 21, { probabilities: ONLY({ softReplacing: 1 }), replacingData: other, replacingWeight: 0.6 });
    let flipsH = 0;
    let flipsV = 0;
    const m = new Mismatches();
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      if (s.length === 0) continue;
      expect(s.type).toBe('soft_replacing');
      expect([s.labelStart, s.labelEnd]).toEqual([s.start, s.start + s.length]);
      const orig = originalWindow(series, s.origin);
      const win = x.subarray(j * W * C, (j + 1) * W * C);
      const w = replacingWeights(s.length, 0.6);
      for (let r = 0; r < W; r++) {
        for (let c = 0; c < C; c++) {
          const k = s.columns.indexOf(c);
          if (k < 0 || r < s.start || r >= s.start + s.length) {
            m.same(at(win, r, c), at(orig, r, c), `untouched ${j},${r},${c}`);
            continue;
          }
          const i = r - s.start;
          const srcRow = s.sourceStarts![k] + (s.horizontalFlips![k] ? s.length - 1 - i : i);
          let src = other.values[srcRow * C + s.sourceColumns![k]];
          if (s.verticalFlips![k]) src = 1 - src;
          m.close(at(win, r, c), src * w[i] + at(orig, r, c) * (1 - w[i]), `blend ${j},${r},${c}`);
        }
      }
      flipsH += s.horizontalFlips!.filter(Boolean).length;
      flipsV += s.verticalFlips!.filter(Boolean).length;
    }
    expect(m.list).toEqual([]);
    expect(flipsH).toBeGreaterThan(0);
    expect(flipsV).toBeGreaterThan(0);

    const none = batch(series, 21, { probabilities: ONLY({ softReplacing: 1 }), flip: 'none' });
    expect(none.samples.every((s) => s.length === 0 || (!s.horizontalFlips!.some(Boolean) && !s.verticalFlips!.some(Boolean)))).toBe(true);
    const vertical = batch(series, 21, { probabilities: ONLY({ softReplacing: 1 }), flip: 'vertical' });
    expect(vertical.samples.every((s) => s.length === 0 || !s.horizontalFlips!.some(Boolean))).toBe(true);
  });

  test('uniform replacement makes each degraded column one constant in [0, 1) over the interval', () => {
    const { x, samples } = batch(series, 31, { probabilities: ONLY({ uniformReplacing: 1 }) });
    const m = new Mismatches();
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      if (s.length === 0) continue;
      expect(s.type).toBe('uniform_replacing');
      const orig = originalWindow(series, s.origin);
      const win = x.subarray(j * W * C, (j + 1) * W * C);
      for (let c = 0; c < C; c++) {
        const degraded = s.columns.includes(c);
        const value = at(win, s.start, c);
        if (degraded) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(1);
        }
        for (let r = 0; r < W; r++) {
          const inside = r >= s.start && r < s.start + s.length;
          m.same(at(win, r, c), degraded && inside ? value : at(orig, r, c), `uniform ${j},${r},${c}`);
        }
      }
    }
    expect(m.list).toEqual([]);
  });

  test('peak noise moves one point per degraded column to the far side of 0.5 and labels ±patch around it', () => {
    const { x, samples } = batch(series, 41, { probabilities: ONLY({ peakNoising: 1 }) });
    const m = new Mismatches();
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      if (s.length === 0) continue;
      expect(s.type).toBe('peak_noising');
      const p = s.peakIndex!;
      expect(p).toBeGreaterThanOrEqual(s.start);
      expect(p).toBeLessThan(s.start + s.length);
      expect([s.labelStart, s.labelEnd]).toEqual([Math.max(0, p - PATCH), Math.min(W, p + PATCH + 1)]);
      const orig = originalWindow(series, s.origin);
      const win = x.subarray(j * W * C, (j + 1) * W * C);
      for (let r = 0; r < W; r++) {
        for (let c = 0; c < C; c++) {
          if (r === p && s.columns.includes(c)) {
            const v = at(win, r, c);
            m.ok(at(orig, r, c) < 0.5 ? v >= 0.9 && v <= 1 : v >= 0 && v <= 0.1, `peak ${j},${r},${c}: ${at(orig, r, c)} -> ${v}`);
          } else {
            m.same(at(win, r, c), at(orig, r, c), `untouched ${j},${r},${c}`);
          }
        }
      }
    }
    expect(m.list).toEqual([]);
  });

  test('length adjustment lengthens by repetition or shortens by striding, over every column', () => {
    const { x, samples } = batch(series, 51, { batchSize: 200, probabilities: ONLY({ lengthAdjusting: 1 }) });
    const lenMax = Math.floor(RATE * W);
    let lengthened = 0;
    let shortened = 0;
    const m = new Mismatches();
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      const win = x.subarray(j * W * C, (j + 1) * W * C);
      const row = (t: number, c: number): number => series.values[t * C + c];
      if (s.length > Math.floor(lenMax / 2)) {
        expect(s.lengthening).toBe(true);
        const scale = s.scale!;
        expect(scale).toBeGreaterThanOrEqual(2);
        expect(scale).toBeLessThanOrEqual(4);
        const adj = s.length - (s.length % scale);
        expect([s.labelStart, s.labelEnd]).toEqual([s.start, s.start + adj]);
        for (let c = 0; c < C; c++) {
          for (let r = 0; r < s.start; r++) m.same(at(win, r, c), row(s.origin + r, c), `before ${j},${r}`);
          for (let i = 0; i < adj; i++)
            m.same(at(win, s.start + i, c), row(s.origin + s.start + Math.floor(i / scale), c), `repeat ${j},${i}`);
          for (let r = s.start + adj; r < W; r++) m.same(at(win, r, c), row(s.origin + r - adj + adj / scale, c), `tail ${j},${r}`);
        }
        lengthened++;
      } else if (s.length > 0 && s.origin > lenMax * 1.5) {
        expect(s.lengthening).toBe(false);
        const scale = s.scale!;
        const base = s.origin - s.length * (scale - 1);
        expect([s.labelStart, s.labelEnd]).toEqual([s.start, s.start + s.length]);
        for (let c = 0; c < C; c++) {
          for (let r = 0; r < s.start; r++) m.same(at(win, r, c), row(base + r, c), `earlier ${j},${r}`);
          for (let i = 0; i < s.length; i++) m.same(at(win, s.start + i, c), row(base + s.start + i * scale, c), `stride ${j},${i}`);
          for (let r = s.start + s.length; r < W; r++) m.same(at(win, r, c), row(s.origin + r, c), `after ${j},${r}`);
        }
        shortened++;
      } else {
        expect(s.labelEnd - s.labelStart).toBe(0);
      }
    }
    expect(m.list).toEqual([]);
    expect(lengthened).toBeGreaterThan(0);
    expect(shortened).toBeGreaterThan(0);
  });

  test('white noise adds N(0, 0.003) to degraded columns inside the interval, clipped to [0, 1]', () => {
    const { x, samples } = batch(series, 61, { batchSize: 100, probabilities: ONLY({ whiteNoising: 1 }) });
    let sum = 0;
    let sumSq = 0;
    let n = 0;
    const m = new Mismatches();
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      if (s.length === 0) continue;
      expect(s.type).toBe('white_noising');
      const orig = originalWindow(series, s.origin);
      const win = x.subarray(j * W * C, (j + 1) * W * C);
      for (let r = 0; r < W; r++) {
        for (let c = 0; c < C; c++) {
          const inside = r >= s.start && r < s.start + s.length && s.columns.includes(c);
          if (!inside) {
            m.same(at(win, r, c), at(orig, r, c), `untouched ${j},${r},${c}`);
          } else {
            const d = at(win, r, c) - at(orig, r, c);
            sum += d;
            sumSq += d * d;
            n++;
          }
        }
      }
    }
    expect(m.list).toEqual([]);
    const std = Math.sqrt(sumSq / n - (sum / n) ** 2);
    expect(n).toBeGreaterThan(500);
    expect(std).toBeGreaterThan(0.0027);
    expect(std).toBeLessThan(0.0033);

    // A series sitting on the bounds: the noise must be clipped, never leave [0, 1].
    const edge = smoothSeries(1000);
    for (let t = 0; t < edge.length; t++) for (let c = 0; c < C; c++) edge.values[t * C + c] = c === 0 ? 0 : 1;
    const clipped = batch(edge, 62, { probabilities: ONLY({ whiteNoising: 1 }) });
    expect(clipped.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(clipped.samples.some((s) => s.labelEnd > s.labelStart)).toBe(true);
  });

  test('no synthesis leaves windows clean and unlabelled', () => {
    const { x, y, samples } = batch(series, 71, { probabilities: ONLY({}) });
    expect(y.every((v) => v === 0)).toBe(true);
    samples.forEach((s, j) =>
      expect(Array.from(x.subarray(j * W * C, (j + 1) * W * C))).toEqual(Array.from(originalWindow(series, s.origin))),
    );
  });

  test('with segments (one file per day) windows and shortening stay inside one segment', () => {
    const segments = [
      { start: 0, length: 100, file: 'day1.parquet' }, // shorter than a window: never used
      { start: 100, length: 1200, file: 'day2.parquet' },
      { start: 1300, length: 700, file: 'day3.parquet' },
    ];
    const days = { ...smoothSeries(2000, 'days/'), segments };
    const { samples } = batch(days, 81, { batchSize: 400, probabilities: ONLY({ lengthAdjusting: 1 }) });
    const m = new Mismatches();
    const used = new Set<number>();
    for (const s of samples) {
      const k = segments.findIndex((g) => s.origin >= g.start && s.origin + W < g.start + g.length + 1);
      m.ok(k > 0, `window at ${s.origin} straddles a segment boundary`);
      used.add(k);
      if (s.lengthening === false)
        m.ok(s.origin - s.length * (s.scale! - 1) >= segments[k].start, `shortening at ${s.origin} reads the previous segment`);
    }
    expect(m.list).toEqual([]);
    expect([...used].sort()).toEqual([1, 2]);
    expect(samples.some((s) => s.lengthening === false)).toBe(true);
    expect(() =>
      batch(
        {
          ...smoothSeries(300, 'short-days/'),
          segments: [
            { start: 0, length: 100 },
            { start: 100, length: 100 },
            { start: 200, length: 100 },
          ],
        },
        1,
      ),
    ).toThrow(/short-days\/.*no file \(segment\) has more rows than the window size/);
  });

  test('bad input names the series or the option', () => {
    expect(() => batch(smoothSeries(W, 'short.parquet'), 1)).toThrow(/short\.parquet.*window size/);
    const two = { source: 'two-cols.npy', columns: ['a', 'b'], length: 500, values: new Float32Array(1000) };
    expect(() => batch(series, 1, { replacingData: two })).toThrow(/two-cols\.npy.*2 columns/);
    expect(() => batch(series, 1, { flip: 'diagonal' as never })).toThrow(/flip_replacing_interval/);
    expect(() => batch(series, 1, { probabilities: { peakNoising: 1.5 } })).toThrow(/peak_noising/);
    expect(() => batch(series, 1, { replacingWeight: -0.1 })).toThrow(/replacing_weight/);
    expect(() => batch(series, 1, { batchSize: 0 })).toThrow(/batch_size/);
    const broken = { source: 'ragged.csv', columns: ['a', 'b', 'c'], length: 500, values: new Float32Array(1000) };
    expect(() => batch(broken, 1)).toThrow(/ragged\.csv/);
  });
});

describeShared('makeDegradedBatch on real ESS days (panli-clean via loadSeries)', () => {
  test('windows stay inside one day file, values stay in [0, 1], every type appears over a few batches', async () => {
    const days = ['20220412.parquet', '20220419.parquet'].map((f) => sharedPath('data/ess/panli-clean', f));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panli-two-days-'));
    for (const f of days) fs.symlinkSync(f, path.join(dir, path.basename(f)));
    const series = await loadSeries(dir, {
      columns: ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'],
    });
    expect(series.segments!.length).toBe(2);
    const Wr = 64 * 8;
    const rng = createRng(5);
    const lengths = ReplacingLengthTable.create(Wr, 0.15, rng);
    const probabilities = { softReplacing: 0.5, uniformReplacing: 0.15, peakNoising: 0.15, lengthAdjusting: 0.1, whiteNoising: 0.05 };
    const seen = new Set<string>();
    const boundary = series.segments![1].start;
    let straddling = 0;
    let outside = 0;
    for (let step = 0; step < 10; step++) {
      const { x, y, samples } = makeDegradedBatch(series, {
        batchSize: 16,
        windowSize: Wr,
        patchSize: 8,
        replacingRateMax: 0.15,
        probabilities,
        rng,
        lengths,
      });
      for (const v of x) if (!(v >= 0 && v <= 1)) outside++;
      samples.forEach((s, j) => {
        seen.add(s.type);
        if (s.origin < boundary && s.origin + Wr > boundary) straddling++;
        let labelled = 0;
        for (let r = 0; r < Wr; r++) labelled += y[j * Wr + r];
        expect(labelled).toBe(s.labelEnd - s.labelStart);
      });
    }
    expect(straddling).toBe(0);
    expect(outside).toBe(0);
    for (const t of ['soft_replacing', 'uniform_replacing', 'peak_noising', 'length_adjusting']) expect(seen.has(t)).toBe(true);
  });
});
