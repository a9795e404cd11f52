/**
 * The OpenESS (2025) degradations: temperature anomaly at the end of a charge, voltage-gap anomaly
 * over the window; their thresholds come first and leave the original draws unchanged at 0.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createRng, FieldError } from 'anomaly-lab/core';
import { synthesizeTestSet } from 'anomaly-lab/evaluation';
import {
  degradationTypeFor,
  makeDegradedBatch,
  ReplacingLengthTable,
  chargeStatusFromSoc,
  minChargeRun,
  temperatureAnomaly,
  voltageGapAnomaly,
  essContextFor,
} from 'anomaly-lab/training';
import { runCli } from '../helpers/cli';
import { describeShared, sharedPath } from '../helpers/shared';
import { tmpDir } from './train-helpers';

describe('OpenESS degradation thresholds', () => {
  test('voltage gap, then temperature, then the original types; zero probabilities change nothing', () => {
    const base = { softReplacing: 0.5, uniformReplacing: 0.15, peakNoising: 0.15, lengthAdjusting: 0, whiteNoising: 0.1 };
    for (const u of [0.01, 0.05, 0.2, 0.45, 0.6, 0.9, 0.99])
      expect(degradationTypeFor(u, { ...base, temperatureAnomaly: 0, voltageGap: 0 })).toBe(degradationTypeFor(u, base));
    const p = { ...base, softReplacing: 0.4, voltageGap: 0.2, temperatureAnomaly: 0.2 };
    expect(degradationTypeFor(0.85, p)).toBe('voltage_gap');
    expect(degradationTypeFor(0.7, p)).toBe('temperature_anomaly');
    expect(degradationTypeFor(0.5, p)).toBe('soft_replacing');
  });
});

describe('temperature and voltage-gap anomalies', () => {
  test('the temperature ramps ×1 → k → ×1 around the end of one contiguous charge; too short a charge stays clean', () => {
    const W = 512;
    const charge = new Uint8Array(W);
    charge.fill(1, 100, 300); // run of 200 > minChargeRun(512) = 12
    const C = 2;
    const window = new Float32Array(W * C).fill(0.5);
    const span = temperatureAnomaly(window, C, 1, charge, createRng(3)) as [number, number];
    expect(minChargeRun(W)).toBe(12);
    const [a, b] = span;
    expect(b).toBeGreaterThan(299);
    expect(299 - a).toBeGreaterThanOrEqual(Math.trunc(200 * 0.2) - 1);
    expect(299 - a).toBeLessThanOrEqual(Math.ceil(200 * 0.5));
    const peak = window[299 * C + 1] / 0.5;
    expect(peak).toBeGreaterThanOrEqual(1.1);
    expect(peak).toBeLessThanOrEqual(1.2);
    expect(window[a * C + 1]).toBeCloseTo(0.5, 6);
    for (let t = 0; t < W; t++) expect(window[t * C]).toBe(0.5); // other column untouched
    const split = new Uint8Array(W);
    split.fill(1, 10, 100);
    split.fill(1, 200, 300);
    expect(temperatureAnomaly(new Float32Array(W * C), C, 1, split, createRng(3))).toBeNull();
  });

  test('the voltage gap adds |curve|; charge status follows a rising SOC; training labels the whole window', () => {
    const C = 3;
    const n = 2000;
    const values = new Float32Array(n * C);
    const curve = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      values[t * C] = 0.5;
      values[t * C + 1] = t < 1000 ? t / 1000 : 1; // SOC rises, then holds
      values[t * C + 2] = 0.1;
      curve[t] = Math.sin(t / 50) * 0.2;
    }
    const status = chargeStatusFromSoc(values, n, C, 1);
    expect(status[500]).toBe(1);
    expect(status[1800]).toBe(0);
    const w = values.slice(0, 10 * C);
    voltageGapAnomaly(w, C, 2, curve.subarray(0, 10));
    for (let t = 0; t < 10; t++) expect(w[t * C + 2]).toBeCloseTo(0.1 + Math.abs(curve[t]), 6);
    const columns = ['BANK_DC_VOLT', 'BANK_SOC', 'VOLTAGE_GAP'];
    const ess = essContextFor(columns, values, n, { temperature: false, voltageGap: true }, curve);
    const rng = createRng(1);
    const batch = makeDegradedBatch(
      { columns, length: n, values },
      {
        batchSize: 4,
        windowSize: 64,
        patchSize: 8,
        replacingRateMax: 0.5,
        probabilities: { softReplacing: 0, uniformReplacing: 0, peakNoising: 0, whiteNoising: 0, voltageGap: 1 },
        rng,
        lengths: ReplacingLengthTable.create(64, 0.5, rng),
        ess,
      },
    );
    for (const s of batch.samples) if (s.length > 0) expect([s.type, s.labelStart, s.labelEnd]).toEqual(['voltage_gap', 0, 64]);
    // A library error names the field; the CLI renders the same error with its flag.
    let err: unknown;
    try {
      essContextFor(['voltage', 'current'], values, n, { temperature: true, voltageGap: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FieldError);
    expect((err as FieldError).fields).toEqual(['temperature_anomaly']);
    expect((err as FieldError).message).not.toContain('--');
    expect((err as FieldError).messageWith((f) => `--${f}`)).toBe(
      'option --temperature_anomaly needs a MAX_CELL_TEMPERATURE_OF_BANK column in the data (columns: voltage, current)',
    );
  });

  test('synthesizeTestSet: the opt-in types need their columns and label their interval', () => {
    const n = 4000;
    const values = new Float32Array(n * 2).fill(0.5);
    const curve = new Float32Array(n).fill(-0.2);
    const s = synthesizeTestSet(
      { columns: ['T', 'G'], length: n, values },
      {
        seed: 1,
        anomalies: 4,
        types: ['temperature_anomaly', 'voltage_gap'],
        ess: { temperatureColumn: 0, voltageGapColumn: 1, voltageGapCurve: curve },
      },
    );
    for (const iv of s.intervals) {
      for (let t = iv.start; t < iv.end; t++) expect(s.labels[t]).toBe(1);
      if (iv.type === 'voltage_gap') expect(s.values[iv.start * 2 + 1]).toBeCloseTo(0.7, 6);
    }
    expect(() => synthesizeTestSet({ columns: ['T', 'G'], length: n, values }, { seed: 1, types: ['voltage_gap'] })).toThrow(
      /'voltage_gap' needs the voltage-gap column and curve/,
    );
  });
});

describeShared('synth CLI with the OpenESS types on panli', () => {
  const out = tmpDir('ess-synth');
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  test('temperature_anomaly and voltage_gap intervals on a real day', async () => {
    const day = sharedPath('data', 'ess', 'panli-clean', '20220412.parquet');
    const cols = 'BANK_DC_VOLT,BANK_DC_CURRENT,BANK_SOC,MAX_CELL_TEMPERATURE_OF_BANK,VOLTAGE_GAP';
    const r = await runCli([
      'synth',
      '--data',
      day,
      '--columns',
      cols,
      '--types',
      'temperature_anomaly,voltage_gap',
      '--anomalies',
      '6',
      '--max_length',
      '0.02',
      '--out',
      out,
      '--seed',
      '3',
    ]);
    expect(r.code).toBe(0);
    const iv = JSON.parse(fs.readFileSync(path.join(out, 'test_intervals.json'), 'utf8'));
    expect(iv.intervals).toHaveLength(6);
    for (const x of iv.intervals as Array<{ type: string; column_names: string[] }>) {
      expect(['temperature_anomaly', 'voltage_gap']).toContain(x.type);
      expect(x.column_names).toEqual([x.type === 'voltage_gap' ? 'VOLTAGE_GAP' : 'MAX_CELL_TEMPERATURE_OF_BANK']);
    }
    const bad = await runCli([
      'synth',
      '--data',
      day,
      '--columns',
      'BANK_DC_VOLT,BANK_SOC',
      '--types',
      'voltage_gap',
      '--out',
      path.join(out, 'x'),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/voltage_gap needs a VOLTAGE_GAP column/);
  });
});
