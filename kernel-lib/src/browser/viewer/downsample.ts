/**
 * Drawing 1,000,000+ points: plotly (SVG or WebGL) chokes long before that, and a screen has only
 * ~2,000 pixel columns anyway. Min/max per pixel bucket keeps every spike visible (a fault is a
 * spike; LTTB or averaging could drop it), costs one pass, and is recomputed for the visible range
 * on zoom, so zooming in reveals the full-resolution signal. Metrics never see downsampled data.
 */

export interface DownsampledTrace {
  x: Float64Array;
  y: Float32Array;
  /** true when every point of the range is kept (no bucketing happened). */
  exact: boolean;
}

/**
 * Min/max downsampling of column `col` of a row-major (n, stride) array over rows [i0, i1).
 * Each of `buckets` buckets emits its minimum and maximum in their original order, so the polyline
 * still goes through the extremes in time order. NaN values are skipped.
 */
export function minMaxDownsample(
  x: ArrayLike<number>,
  values: ArrayLike<number>,
  stride: number,
  col: number,
  i0: number,
  i1: number,
  buckets: number,
): DownsampledTrace {
  const lo = Math.max(0, Math.min(i0, i1));
  const hi = Math.min(x.length, Math.max(i0, i1));
  const n = hi - lo;
  if (n <= 2 * buckets) {
    const xs = new Float64Array(n);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = x[lo + i];
      ys[i] = values[(lo + i) * stride + col];
    }
    return { x: xs, y: ys, exact: true };
  }
  const xs = new Float64Array(2 * buckets);
  const ys = new Float32Array(2 * buckets);
  let o = 0;
  for (let b = 0; b < buckets; b++) {
    const s = lo + Math.floor((b * n) / buckets);
    const e = lo + Math.floor(((b + 1) * n) / buckets);
    let iMin = -1;
    let iMax = -1;
    let vMin = Infinity;
    let vMax = -Infinity;
    for (let i = s; i < e; i++) {
      const v = values[i * stride + col];
      if (v < vMin) {
        vMin = v;
        iMin = i;
      }
      if (v > vMax) {
        vMax = v;
        iMax = i;
      }
    }
    if (iMin < 0) continue; // all NaN
    const first = Math.min(iMin, iMax);
    const second = Math.max(iMin, iMax);
    xs[o] = x[first];
    ys[o++] = values[first * stride + col];
    if (second !== first) {
      xs[o] = x[second];
      ys[o++] = values[second * stride + col];
    }
  }
  return { x: xs.subarray(0, o), y: ys.subarray(0, o), exact: false };
}

/**
 * The flagged points to mark on the score chart, at most `maxPoints`: when there are more, the
 * highest score per bucket is kept (the marks show where anomalies are, not every one of them).
 */
export function flaggedPoints(
  x: ArrayLike<number>,
  scores: ArrayLike<number>,
  flags: Uint8Array,
  i0: number,
  i1: number,
  maxPoints: number,
): { x: Float64Array; y: Float32Array } {
  const lo = Math.max(0, i0);
  const hi = Math.min(flags.length, i1);
  let count = 0;
  for (let i = lo; i < hi; i++) count += flags[i];
  if (count <= maxPoints) {
    const xs = new Float64Array(count);
    const ys = new Float32Array(count);
    let o = 0;
    for (let i = lo; i < hi; i++) {
      if (flags[i]) {
        xs[o] = x[i];
        ys[o++] = scores[i];
      }
    }
    return { x: xs, y: ys };
  }
  const xs = new Float64Array(maxPoints);
  const ys = new Float32Array(maxPoints);
  let o = 0;
  const n = hi - lo;
  for (let b = 0; b < maxPoints; b++) {
    const s = lo + Math.floor((b * n) / maxPoints);
    const e = lo + Math.floor(((b + 1) * n) / maxPoints);
    let best = -1;
    for (let i = s; i < e; i++) if (flags[i] && (best < 0 || scores[i] > scores[best])) best = i;
    if (best >= 0) {
      xs[o] = x[best];
      ys[o++] = scores[best];
    }
  }
  return { x: xs.subarray(0, o), y: ys.subarray(0, o) };
}
