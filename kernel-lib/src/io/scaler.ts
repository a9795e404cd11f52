/**
 * Min-max scaling fitted on training data and stored with model checkpoints, so a transferred or
 * re-loaded model sees data scaled exactly as during training:
 *   x' = (x − min) / (max − min)
 * A constant column (max = min) maps to 0, like scikit-learn's MinMaxScaler (its scale is treated
 * as 1). Values outside the training range fall outside [0, 1]; that is deliberate (an anomaly
 * beyond the training range must stay visible), use `clip` to bound them.
 */
import type { Series } from './series';

export interface MinMaxScalerJSON {
  kind: 'minmax';
  columns: string[];
  min: number[];
  max: number[];
}

export class MinMaxScaler {
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly columns: string[];

  constructor(min: ArrayLike<number>, max: ArrayLike<number>, columns?: string[]) {
    if (min.length !== max.length) throw new Error(`MinMaxScaler: min has ${min.length} entries, max ${max.length}`);
    this.min = Float64Array.from(min);
    this.max = Float64Array.from(max);
    this.columns = columns ? [...columns] : Array.from({ length: min.length }, (_, j) => `col${j}`);
    if (this.columns.length !== this.min.length) {
      throw new Error(`MinMaxScaler: ${this.columns.length} column names for ${this.min.length} columns`);
    }
    for (let j = 0; j < this.min.length; j++) {
      if (!Number.isFinite(this.min[j]) || !Number.isFinite(this.max[j]) || this.max[j] < this.min[j]) {
        throw new Error(`MinMaxScaler: column '${this.columns[j]}' has an invalid range [${this.min[j]}, ${this.max[j]}]`);
      }
    }
  }

  /** Fit per-column min and max on a series (all values must be finite). */
  static fit(series: Pick<Series, 'columns' | 'values' | 'length'> & { source?: string }): MinMaxScaler {
    const C = series.columns.length;
    if (series.length === 0 || C === 0) throw new Error(`MinMaxScaler.fit: ${series.source ?? 'series'} is empty`);
    const min = new Float64Array(C).fill(Infinity);
    const max = new Float64Array(C).fill(-Infinity);
    const v = series.values;
    for (let i = 0; i < series.length; i++) {
      for (let j = 0; j < C; j++) {
        const x = v[i * C + j];
        if (!Number.isFinite(x)) {
          throw new Error(`MinMaxScaler.fit: ${series.source ?? 'series'}: non-finite value at row ${i}, column '${series.columns[j]}'`);
        }
        if (x < min[j]) min[j] = x;
        if (x > max[j]) max[j] = x;
      }
    }
    return new MinMaxScaler(min, max, series.columns);
  }

  get nColumns(): number {
    return this.min.length;
  }

  private check(values: ArrayLike<number>, nCols: number, what: string): void {
    if (nCols !== this.min.length) {
      throw new Error(
        `MinMaxScaler.${what}: data have ${nCols} columns, the scaler was fitted on ${this.min.length} (${this.columns.join(', ')})`,
      );
    }
    if (values.length % nCols !== 0)
      throw new Error(`MinMaxScaler.${what}: ${values.length} values are not a multiple of ${nCols} columns`);
  }

  /** Scale row-major (rows, nCols) values; returns a new Float32Array. */
  transform(values: ArrayLike<number>, nCols: number, opts: { clip?: boolean } = {}): Float32Array {
    this.check(values, nCols, 'transform');
    const out = new Float32Array(values.length);
    const scale = Float64Array.from(this.min, (m, j) => (this.max[j] > m ? 1 / (this.max[j] - m) : 0));
    for (let i = 0; i < values.length; i += nCols) {
      for (let j = 0; j < nCols; j++) {
        let y = (values[i + j] - this.min[j]) * scale[j];
        if (opts.clip) y = y < 0 ? 0 : y > 1 ? 1 : y;
        out[i + j] = y;
      }
    }
    return out;
  }

  /** Undo `transform` (a constant column comes back as its constant). */
  inverseTransform(values: ArrayLike<number>, nCols: number): Float32Array {
    this.check(values, nCols, 'inverseTransform');
    const out = new Float32Array(values.length);
    for (let i = 0; i < values.length; i += nCols) {
      for (let j = 0; j < nCols; j++) out[i + j] = this.min[j] + values[i + j] * (this.max[j] - this.min[j]);
    }
    return out;
  }

  /** A scaled copy of a series (same columns, time, segments). */
  transformSeries<S extends Pick<Series, 'columns' | 'values'>>(series: S, opts: { clip?: boolean } = {}): S {
    const names = series.columns.join(',');
    if (
      names !== this.columns.join(',') &&
      series.columns.length === this.columns.length &&
      !this.columns.every((c) => /^col\d+$/.test(c))
    ) {
      // same count, different names: likely a column-order mistake — refuse rather than mis-scale
      throw new Error(
        `MinMaxScaler: series columns (${series.columns.join(', ')}) differ from the fitted columns (${this.columns.join(', ')})`,
      );
    }
    return { ...series, values: this.transform(series.values, series.columns.length, opts) };
  }

  toJSON(): MinMaxScalerJSON {
    return { kind: 'minmax', columns: [...this.columns], min: Array.from(this.min), max: Array.from(this.max) };
  }

  static fromJSON(json: unknown): MinMaxScaler {
    const j = json as Partial<MinMaxScalerJSON> | null;
    if (!j || typeof j !== 'object' || !Array.isArray(j.min) || !Array.isArray(j.max)) {
      throw new Error('MinMaxScaler.fromJSON: expected { kind: "minmax", columns, min: number[], max: number[] }');
    }
    if (j.kind !== undefined && j.kind !== 'minmax') throw new Error(`MinMaxScaler.fromJSON: kind '${String(j.kind)}' is not 'minmax'`);
    return new MinMaxScaler(j.min, j.max, Array.isArray(j.columns) ? j.columns : undefined);
  }
}
