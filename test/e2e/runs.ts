/**
 * Viewer bundles from REAL kernel-lib runs (not fixtures): AnomalyBERT estimation with the fixture
 * checkpoint (PyTorch state_dict.pt) on the fixture series with synthetic, labelled anomalies
 * injected by kernel-lib's test-set synthesis — checkpoint loading, sliding-window estimation and
 * the builders are the library's own code paths.
 */
import { initBackend } from 'anomaly-lab';
import { estimateScores, loadCheckpoint } from 'anomaly-lab/anomalybert';
import { anomalyBertViewerBundle, type ViewerBundle } from 'anomaly-lab/core';
import { synthesizeTestSet } from 'anomaly-lab/evaluation';
import { readNpy, toFloat32 } from 'anomaly-lab/io';
import { sharedPath } from '../helpers/shared';

export async function anomalyBertEstimationBundle(): Promise<{ bundle: ViewerBundle; scores: Float32Array; labels: Uint8Array }> {
  await initBackend({});
  const { model } = await loadCheckpoint(sharedPath('fixtures/anomalybert/state_dict.pt'));
  try {
    const raw = readNpy(sharedPath('fixtures/anomalybert/series.npy'));
    const [length, c] = raw.shape;
    const columns = ['voltage', 'current', 'soc', 'temperature', 'voltage_gap'].slice(0, c);
    const synth = synthesizeTestSet({ source: 'series.npy', columns, length, values: toFloat32(raw) }, { seed: 5, anomalies: 6 });
    // (length, outputDim) sigmoid scores, the reference estimation's batch size 4 and sliding 16
    const out = await estimateScores(model, synth.values, length, { batchSize: 4, windowSliding: 16 });
    const nOut = model.config.outputDim;
    const scores = new Float32Array(length);
    for (let i = 0; i < length; i++) scores[i] = out[i * nOut];
    const bundle = anomalyBertViewerBundle({
      title: 'AnomalyBERT estimation — fixture checkpoint on series.npy with injected anomalies',
      series: { columns, values: synth.values, length, source: 'fixtures/anomalybert/series.npy' },
      scores,
      labels: synth.labels,
      rate: 0.05,
      axis: { unit: 'seconds', step: 1, label: 'time (s, 1 Hz)' },
      provenance: { checkpoint: 'fixtures/anomalybert/state_dict.pt', notes: `${synth.intervals.length} synthetic anomalies (seed 5)` },
    });
    return { bundle, scores, labels: synth.labels };
  } finally {
    model.dispose();
  }
}
