/**
 * Viewer bundles built by kernel-lib's builders from real reference material in ../shared:
 * - AnomalyBERT: the reference metric scores/labels (fixtures/anomalybert/metric_*.npy);
 * - power system: simData2.csv with the reference pipeline's per-window MSE and its classified
 *   intervals (fixtures/power-system/expected_default*.{json,npy}).
 * Shared by the jsdom tests, the Chromium e2e tests and the viewer bench.
 */
import * as fs from 'fs';
import { anomalyBertViewerBundle, powerViewerBundle, type ViewerBundle } from 'anomaly-lab/core';
import { readNpy, toFloat32, toFloat64 } from 'anomaly-lab/io';
import { sharedPath } from '../helpers/shared';

export interface PowerFixture {
  time: Float64Array;
  columns: string[];
  values: Float32Array;
  mse: Float32Array;
  expected: {
    params: { sequence_length: number; percentile: number; max_gap_samples: number };
    threshold: number;
    n_anomalous_windows: number;
    sample_time: number;
    merged_intervals: Array<[number, number]>;
    feature_order: string[];
    class_names: string[];
    rf_classes: string[];
    /** proba is in rf_classes order. */
    predictions: Array<{ predicted_fault: string; confidence: number; proba: number[] }>;
  };
}

/** Minimal numeric CSV reader for the seed's Time,Va..Ic file (the io area owns the real loader). */
export function readNumericCsv(file: string): { header: string[]; rows: number; data: Float64Array } {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const data = new Float64Array((lines.length - 1) * header.length);
  for (let r = 1; r < lines.length; r++) {
    const cells = lines[r].split(',');
    for (let c = 0; c < header.length; c++) data[(r - 1) * header.length + c] = Number(cells[c]);
  }
  return { header, rows: lines.length - 1, data };
}

export function loadPowerFixture(): PowerFixture {
  const csv = readNumericCsv(sharedPath('data/power-system/simData2.csv'));
  const c = csv.header.length - 1;
  const time = new Float64Array(csv.rows);
  const values = new Float32Array(csv.rows * c);
  for (let r = 0; r < csv.rows; r++) {
    time[r] = csv.data[r * csv.header.length];
    for (let j = 0; j < c; j++) values[r * c + j] = csv.data[r * csv.header.length + 1 + j];
  }
  const expected = JSON.parse(fs.readFileSync(sharedPath('fixtures/power-system/expected_default.json'), 'utf8'));
  const mse = toFloat32(readNpy(sharedPath('fixtures/power-system/expected_default_mse.npy')));
  return { time, columns: csv.header.slice(1), values, mse, expected };
}

/** The reference power run as a bundle; `overrides` change single inputs (title, threshold, mode, …). */
export function powerBundleFromFixture(
  f: PowerFixture = loadPowerFixture(),
  overrides: Partial<Parameters<typeof powerViewerBundle>[0]> = {},
): ViewerBundle {
  const e = f.expected;
  return powerViewerBundle({
    title: 'simData2.csv — LSTM autoencoder (reference MSE)',
    time: f.time,
    columns: f.columns,
    values: f.values,
    mse: f.mse,
    sequenceLength: e.params.sequence_length,
    percentile: e.params.percentile,
    maxGapSamples: e.params.max_gap_samples,
    threshold: e.threshold,
    intervals: e.merged_intervals.map(([start, end], i) => {
      const p = e.predictions[i];
      const probabilities: Record<string, number> = {};
      p.proba.forEach((v, k) => (probabilities[e.rf_classes[k]] = v));
      return { start, end, fault: p.predicted_fault, confidence: p.confidence, probabilities };
    }),
    classes: e.rf_classes,
    units: ['V', 'V', 'V', 'A', 'A', 'A'],
    provenance: { source: 'simData2.csv', notes: 'MSE and classes from the reference Python pipeline (fixtures/power-system)' },
    ...overrides,
  });
}

export function anomalyBertFixture(): { scores: Float32Array; labels: Uint8Array } {
  const scores = toFloat32(readNpy(sharedPath('fixtures/anomalybert/metric_scores.npy')));
  const labels = Uint8Array.from(toFloat64(readNpy(sharedPath('fixtures/anomalybert/metric_labels.npy'))));
  return { scores, labels };
}

export function anomalyBertBundleFromFixture(rate = 0.01): ViewerBundle {
  const { scores, labels } = anomalyBertFixture();
  return anomalyBertViewerBundle({
    title: 'AnomalyBERT reference scores (fixtures/anomalybert)',
    scores,
    labels,
    rate,
    pointAdjust: true,
    provenance: { source: 'metric_scores.npy, metric_labels.npy' },
  });
}
