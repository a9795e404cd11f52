/**
 * One data-parallel training worker (a worker thread; see parallel.ts). It holds a replica of the
 * model on its own tfjs backend — its own wasm instance and heap, so the 4 GB wasm limit applies
 * per worker — and answers each step with the gradients of its shard of the batch:
 *   Σ over its chunks of ∇ (mean BCE of the chunk × chunk rows / batch rows)
 * so the main thread's sum over workers is the gradient of the whole batch's mean BCE. Chunk j of
 * a shard starting at chunk `chunkOffset` draws the dropout masks of chunk chunkOffset + j of a
 * single-thread micro-batched step, so both compute the same update.
 *
 * Fault injection for tests: ANOMALY_LAB_WORKER_EXIT_AT_STEP=k makes worker 0 exit at its k-th step.
 */
import { parentPort, workerData } from 'worker_threads';
import { initBackend, tf } from '../backend';
import { AnomalyBert } from '../anomalybert/model';
import type { ResolvedAnomalyBertConfig } from '../anomalybert/config';
import { accumulateChunks } from './chunks';

export interface WorkerInit {
  index: number;
  backend: string;
  config: ResolvedAnomalyBertConfig;
}

export interface StepRequest {
  type: 'step';
  id: number;
  /** New parameter values (internal layout, model.namedVariables() order); undefined entries are unchanged. */
  weights?: Array<Float32Array | undefined>;
  /** Names of the variables to differentiate (the trained ones), in the optimiser's order. */
  names: string[];
  x: Float32Array;
  y: Uint8Array;
  rows: number;
  windowSize: number;
  nCols: number;
  /** Rows of the whole batch (each chunk's loss is weighted by its rows / batchRows). */
  batchRows: number;
  /** Rows per chunk (divides rows). */
  chunkRows: number;
  chunkOffset: number;
  dropoutSeed?: number;
  accuracy: boolean;
}

export interface StepReply {
  type: 'grads';
  id: number;
  grads: Float32Array[];
  loss: number;
  accuracy: number;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('train-worker must run in a worker thread');
  const init = workerData as WorkerInit;
  await initBackend({ backend: init.backend, log: false });
  const model = AnomalyBert.create(init.config, { seed: 0 });
  const vars = model.namedVariables();
  const byName = new Map(vars);
  const exitAt = init.index === 0 ? Number(process.env.ANOMALY_LAB_WORKER_EXIT_AT_STEP ?? NaN) : NaN;
  let steps = 0;
  port.on('message', (msg: StepRequest | { type: 'close' }) => {
    if (msg.type === 'close') {
      model.dispose();
      port.close();
      return;
    }
    steps++;
    if (steps === exitAt) process.exit(3);
    try {
      if (msg.weights) {
        msg.weights.forEach((w, i) => {
          if (!w) return;
          const v = vars[i][1];
          tf.tidy(() => v.assign(tf.tensor(w, v.shape, 'float32')));
        });
      }
      const varList = msg.names.map((n) => {
        const v = byName.get(n);
        if (!v) throw new Error(`no parameter '${n}' in the worker's model`);
        return v;
      });
      // The same chunking, weights, dropout seeds and summing as the single-thread step (chunks.ts).
      const r = accumulateChunks(
        model,
        varList,
        { x: msg.x, y: msg.y },
        {
          rows: msg.rows,
          windowSize: msg.windowSize,
          nCols: msg.nCols,
          chunkRows: msg.chunkRows,
          batchRows: msg.batchRows,
          chunkOffset: msg.chunkOffset,
          dropoutSeed: msg.dropoutSeed,
          differentiate: true,
          accuracy: msg.accuracy,
        },
      );
      const loss = r.loss.dataSync()[0];
      const accuracy = r.accuracy ? r.accuracy.dataSync()[0] : 0;
      const summed = r.grads ? varList.map((v) => (r.grads as tf.NamedTensorMap)[v.name]) : undefined;
      tf.dispose([r.loss, ...(r.accuracy ? [r.accuracy] : [])]);
      // Own, exactly sized buffers (transferred to the main thread without a copy).
      const out = (summed ?? []).map((t) => {
        const d = t.dataSync() as Float32Array;
        return d.byteOffset === 0 && d.byteLength === d.buffer.byteLength ? d : d.slice();
      });
      tf.dispose(summed ?? []);
      const reply: StepReply = { type: 'grads', id: msg.id, grads: out, loss, accuracy };
      port.postMessage(
        reply,
        out.map((a) => a.buffer as ArrayBuffer),
      );
    } catch (e) {
      port.postMessage({ type: 'error', id: msg.id, message: (e as Error).message });
    }
  });
  port.postMessage({ type: 'ready' });
}

main().catch((e) => {
  parentPort?.postMessage({ type: 'error', id: -1, message: (e as Error).message });
  process.exit(1);
});
