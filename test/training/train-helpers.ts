/**
 * Inputs for the training tests: small generated series (test inputs, not fixtures) written as
 * real .npy files, and a tiny model configuration that trains in milliseconds per step on cpu.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeNpy } from 'anomaly-lab/io';
import type { TrainOptions } from 'anomaly-lab/training';

export interface TestSeries {
  source: string;
  columns: string[];
  length: number;
  values: Float32Array;
}

/** Smooth periodic columns in raw units (offset/scale per column) with a little deterministic jitter. */
export function periodicSeries(length: number, nCols: number, phase = 0, source = 'generated'): TestSeries {
  const values = new Float32Array(length * nCols);
  for (let t = 0; t < length; t++) {
    for (let c = 0; c < nCols; c++) {
      const base = Math.sin((t + phase) / (9 + 4 * c) + c) + 0.3 * Math.sin((t + phase) / 3.7 + 2 * c);
      const jitter = 0.02 * Math.sin(12.9898 * (t + phase) + 78.233 * c);
      values[t * nCols + c] = 10 * c + (1 + c) * (base + jitter);
    }
  }
  return { source, columns: Array.from({ length: nCols }, (_, c) => `col${c}`), length, values };
}

/** Labels with a few anomalous intervals, and the series with those intervals shifted. */
export function labelledTestSet(length: number, nCols: number): { series: TestSeries; labels: Uint8Array } {
  const series = periodicSeries(length, nCols, 1000, 'generated-test');
  const labels = new Uint8Array(length);
  for (const [a, b] of [
    [30, 45],
    [100, 104],
    [150, 170],
  ]) {
    for (let t = a; t < Math.min(b, length); t++) {
      labels[t] = 1;
      series.values[t * nCols] += 3;
    }
  }
  return { series, labels };
}

/** A model that trains fast on cpu: W = 8 tokens × patch 4 = 32 points, width 16, 1 layer. */
export const TINY: Partial<TrainOptions> = {
  n_features: 8,
  patch_size: 4,
  d_embed: 16,
  n_layer: 1,
  n_head: 2,
  batch_size: 4,
  window_sliding: 8,
  replacing_rate_max: 0.3,
  lr: 1e-3,
};

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `anomaly-lab-${prefix}-`));
}

export function writeSeriesNpy(file: string, s: TestSeries): string {
  writeNpy(file, s.values, [s.length, s.columns.length]);
  return file;
}
