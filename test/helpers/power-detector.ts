/**
 * A power-detection setup for tests about how `power detect` writes (not about the model): a
 * generated three-phase CSV and an untrained LSTM autoencoder saved as a detector. An untrained
 * autoencoder's reconstruction error still ranks the windows.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from 'anomaly-lab';
import { createLstmAutoencoder, generatePowerData, powerDataToCsv, saveDetector } from 'anomaly-lab/power';

export interface PowerDetectFiles {
  data: string;
  detector: string;
}

/** Writes `<root>/data.csv` (generated at 2 kHz) and `<root>/detector` on the cpu backend. */
export async function writePowerDetectFiles(
  root: string,
  gen: { seed: number; duration: number; nFaults: number },
): Promise<PowerDetectFiles> {
  const data = path.join(root, 'data.csv');
  const detector = path.join(root, 'detector');
  await initBackend({ backend: 'cpu', log: false });
  fs.writeFileSync(data, powerDataToCsv(generatePowerData({ ...gen, sampleRate: 2000 }).data));
  const model = createLstmAutoencoder({ sequenceLength: 20, units: [4, 2], bidirectional: false, seed: 1 });
  try {
    await saveDetector(detector, model, { scaler: { mean: [0, 0, 0, 0, 0, 0], scale: [100, 100, 100, 10, 10, 10] } });
  } finally {
    model.dispose();
  }
  return { data, detector };
}
