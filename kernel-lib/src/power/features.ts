/**
 * Interval features of the dashboard seed: 46 named values per anomaly interval.
 *
 * Order and definitions follow the seed (and `feature_names_in_` of its classifier scaler):
 * duration, then per signal Va..Ic: mean, population std, skew and kurtosis (scipy defaults:
 * biased, Fisher), RMS, peak-to-peak, crest = max|x| / (RMS + 1e-9); then Pearson correlations
 * corr_VaVb, corr_VbVc, corr_VaIa. Everything in float64 on typed arrays.
 */
import { POWER_SIGNALS, type PowerData } from './data';

export const FEATURE_STATS = ['mean', 'std', 'skew', 'kurt', 'rms', 'peak2peak', 'crest'] as const;
export const CORRELATION_FEATURES = ['corr_VaVb', 'corr_VbVc', 'corr_VaIa'] as const;

/** The 46 feature names in the seed's order. */
export const POWER_FEATURE_NAMES: readonly string[] = [
  'duration',
  ...POWER_SIGNALS.flatMap((s) => FEATURE_STATS.map((st) => `${s}_${st}`)),
  ...CORRELATION_FEATURES,
];

export type FeatureRow = Record<string, number>;

/** Mean, as numpy does it for these lengths (plain sum is within 1e-15 relative). */
function mean(x: Float64Array, a: number, b: number): number {
  let s = 0;
  for (let i = a; i < b; i++) s += x[i];
  return s / (b - a);
}

/**
 * Central moments m2, m3, m4 about the mean (biased, as scipy.stats.skew/kurtosis with
 * bias=True). Returns NaN skew/kurtosis for a constant segment, as scipy does.
 */
export function segmentMoments(x: Float64Array, a: number, b: number): { mean: number; m2: number; m3: number; m4: number } {
  const n = b - a;
  const mu = mean(x, a, b);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = a; i < b; i++) {
    const d = x[i] - mu;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  return { mean: mu, m2: m2 / n, m3: m3 / n, m4: m4 / n };
}

/** scipy's "numerically constant" test: m2 <= (eps · mean)² → skew/kurtosis are NaN. */
function isConstant(m2: number, mu: number): boolean {
  const eps = 2.220446049250313e-16;
  return m2 <= (eps * mu) ** 2;
}

export function pearson(x: Float64Array, y: Float64Array, a: number, b: number): number {
  const mx = mean(x, a, b);
  const my = mean(y, a, b);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = a; i < b; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** First index with time[i] >= t (numpy searchsorted, side='left'). */
export function searchSorted(time: Float64Array, t: number): number {
  let lo = 0;
  let hi = time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Row range [a, b) of an interval (startTime, endTime): the seed's two searchsorted calls. */
export function intervalRows(data: PowerData, interval: [number, number]): [number, number] {
  return [searchSorted(data.time, interval[0]), searchSorted(data.time, interval[1])];
}

/** The seven per-signal statistics of the dashboard (and of the transformer classifier's features). */
export interface SignalStatistics {
  mean: number;
  /** population std */
  std: number;
  /** biased skew (scipy default); NaN for a numerically constant signal */
  skew: number;
  /** Fisher kurtosis (biased); NaN for a numerically constant signal */
  kurt: number;
  rms: number;
  peak2peak: number;
  /** max |x| / (rms + 1e-9) */
  crest: number;
}

/** Statistics of rows [a, b) of one signal. */
export function signalStatistics(x: Float64Array, a: number, b: number): SignalStatistics {
  const { mean, m2, m3, m4 } = segmentMoments(x, a, b);
  let sumSq = 0;
  let mx = -Infinity;
  let mn = Infinity;
  let absMax = 0;
  for (let i = a; i < b; i++) {
    const v = x[i];
    sumSq += v * v;
    if (v > mx) mx = v;
    if (v < mn) mn = v;
    const av = Math.abs(v);
    if (av > absMax) absMax = av;
  }
  const rms = Math.sqrt(sumSq / (b - a));
  const constant = isConstant(m2, mean);
  return {
    mean,
    std: Math.sqrt(m2),
    skew: constant ? NaN : m3 / m2 ** 1.5,
    kurt: constant ? NaN : m4 / (m2 * m2) - 3,
    rms,
    peak2peak: mx - mn,
    crest: absMax / (rms + 1e-9),
  };
}

/**
 * Features of one interval (start, end) in seconds. Rows are Time ∈ [start, end) — the end
 * sample itself is excluded, exactly like the seed's `data.iloc[searchsorted(a):searchsorted(b)]`.
 */
export function extractFeatures(data: PowerData, interval: [number, number]): FeatureRow {
  const [a, b] = intervalRows(data, interval);
  if (b - a < 1) {
    throw new Error(`${data.source}: interval (${interval[0]}, ${interval[1]}) contains no samples`);
  }
  const f: FeatureRow = { duration: interval[1] - interval[0] };
  POWER_SIGNALS.forEach((name, c) => {
    const st = signalStatistics(data.signals[c], a, b);
    f[`${name}_mean`] = st.mean;
    f[`${name}_std`] = st.std;
    f[`${name}_skew`] = st.skew;
    f[`${name}_kurt`] = st.kurt;
    f[`${name}_rms`] = st.rms;
    f[`${name}_peak2peak`] = st.peak2peak;
    f[`${name}_crest`] = st.crest;
  });
  const [va, vb, vc, ia] = [0, 1, 2, 3].map((c) => data.signals[c]);
  f.corr_VaVb = pearson(va, vb, a, b);
  f.corr_VbVc = pearson(vb, vc, a, b);
  f.corr_VaIa = pearson(va, ia, a, b);
  return f;
}

/** Row-major (n, names.length) matrix of feature rows in the given name order. */
export function featureMatrix(rows: FeatureRow[], names: readonly string[] = POWER_FEATURE_NAMES, source = 'features'): Float64Array {
  const out = new Float64Array(rows.length * names.length);
  rows.forEach((row, r) => {
    names.forEach((name, j) => {
      if (!(name in row)) throw new Error(`${source}: the classifier expects feature '${name}', which the power features do not provide`);
      out[r * names.length + j] = row[name];
    });
  });
  return out;
}
