/**
 * A viewer bundle with `n / 2` one-point intervals (test input, not a fixture): the odd points score
 * above the 0.5 threshold, each apart from the next by one unflagged point. For the tests that a
 * table formats only the rows it shows.
 */
import { buildViewerBundle, type ViewerBundle } from 'anomaly-lab/core';

/** Epoch ms of the first point (one point a second). */
export const MANY_INTERVALS_T0 = Date.UTC(2024, 0, 1);

export function manyIntervals(n: number): ViewerBundle {
  const scores = Float32Array.from({ length: n }, (_, i) => (i % 2 ? 0.6 + (0.4 * ((i * 7919) % 1000)) / 1000 : 0));
  return buildViewerBundle({
    kind: 'generic',
    title: 'many intervals',
    axis: { unit: 'epoch_ms', start: MANY_INTERVALS_T0, step: 1000 },
    scores: { values: scores },
    threshold: { mode: 'value', value: 0.5, pointAdjust: false, maxGapSamples: 0 },
  });
}
