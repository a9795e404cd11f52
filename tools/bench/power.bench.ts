/**
 * Power detection throughput (windows/s) of the seed's Keras detector (Bidirectional LSTM
 * 32/16 autoencoder, windows of 50 × 6) on simData2.csv: the time-major fast path used by
 * `power detect` on the tfjs engine, tf.layers' model.predict for comparison, and the onnx engine
 * (the detector exported in memory, onnxruntime-node on every core; the default where it loads). Needs ../shared (skips with a
 * note otherwise). Numbers on a shared 2-core machine are pessimistic.
 */
import * as fs from 'fs';
import * as path from 'path';
import { activeBackend, loadPowerData } from 'anomaly-lab';
import { onnxUnavailableReason, resolveEngine, type EngineName } from 'anomaly-lab/onnx';
import { loadKerasH5, loadPowerScaler, reconstructionErrors, scaleSignals } from 'anomaly-lab/power';

const SHARED = process.env.ANOMALY_LAB_SHARED ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared');

export async function run(): Promise<object> {
  const dir = path.join(SHARED, 'data', 'power-system');
  const h5 = path.join(dir, 'seed-models', 'detector', 'lstm_autoencoder_anomaly_detection.h5');
  if (!fs.existsSync(h5)) return { skipped: `${h5} is absent (../shared holds the seed models)` };
  const data = await loadPowerData(path.join(dir, 'simData2.csv'));
  const scaler = await loadPowerScaler(path.join(dir, 'seed-models', 'detector', 'scaler.save'));
  const { model } = await loadKerasH5(h5);
  const scaled = scaleSignals(data, scaler);
  const L = 50;
  const measure = async (nWindows: number, fast: boolean, batchSize: number, engine: EngineName = 'tfjs'): Promise<number> => {
    const rows = nWindows + L - 1;
    const opts = { fast, engine, logEngine: false };
    await reconstructionErrors(model, scaled, Math.min(rows, L + 7), L, { batchSize: 8, ...opts }); // warm-up
    const t0 = process.hrtime.bigint();
    await reconstructionErrors(model, scaled, rows, L, { batchSize, ...opts });
    return nWindows / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const result = {
    backend: activeBackend()?.name,
    detector: 'seed Bidirectional LSTM 32/16 autoencoder (50, 6)',
    fast_path_windows_per_s: { batch_512: await measure(4096, true, 512), batch_128: await measure(1024, true, 128) },
    model_predict_windows_per_s: { batch_512: await measure(1024, false, 512) },
    onnx_windows_per_s:
      resolveEngine({ log: false }).name === 'onnx'
        ? { batch_512: await measure(8192, true, 512, 'onnx') }
        : { skipped: onnxUnavailableReason() },
    full_simData2_windows: data.length - L + 1,
    note: 'shared 2-core machine, other jobs running: pessimistic',
  };
  model.dispose();
  return result;
}
