/**
 * Data-parallel training over worker threads: the batch is split into shards, each worker
 * (train-worker.ts, its own tfjs backend and wasm heap) returns the gradients of its shard, the
 * main thread sums them in shard order and applies ONE clipped AdamW update to its model, whose
 * new weights go to every worker with the next step.
 *
 * Equivalence: with shards of whole micro-batches, worker k computes exactly the chunks
 * k·c … (k+1)·c − 1 of a single-thread micro-batched step (same dropout masks, same per-chunk
 * weighting) and the sums are added in the same order, so the update equals the single-thread
 * one up to float32 rounding (tested within 1e-5). Without micro-batches each shard is one chunk:
 * the update is the full-batch one up to rounding and dropout masks (drawn per shard).
 *
 * A worker that dies (crash, out of memory, killed) rejects the step with an Error naming the
 * worker and its exit; the training loop stops there, so nothing after the last completed
 * checkpoint is written (checkpoints are written atomically, between steps).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { AnomalyBert } from '../anomalybert/model';
import type { AdamW } from './optimizer';
import type { StepReply, StepRequest, WorkerInit } from './train-worker';
import type { TrainStepOptions } from './onnx-step';

export interface ParallelStepOptions extends TrainStepOptions {
  /** Windows per forward/backward pass inside a worker (0: its whole shard). */
  microBatch?: number;
}

/** Worker count meaning "every core". */
export function coreCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** The compiled worker script (tests run TypeScript sources, the worker runs the built one). */
function workerScript(): string {
  const candidates = [path.join(__dirname, 'train-worker.js'), path.resolve(__dirname, '..', '..', 'dist', 'training', 'train-worker.js')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`training workers: ${candidates[1]} is missing (build kernel-lib first: npm run build:lib)`);
  return found;
}

interface Pending {
  resolve: (r: StepReply) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  private pending: Pending | undefined;
  /** Set once the worker is gone; every later step fails with it. */
  failure: Error | undefined;
  private closing = false;

  constructor(
    readonly index: number,
    init: WorkerInit,
  ) {
    // env: the caller's view of process.env (what a test or embedding program set).
    this.worker = new Worker(workerScript(), { workerData: init, env: { ...process.env } });
    let readyResolve: () => void = () => undefined;
    let readyReject: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (msg: StepReply | { type: 'ready' } | { type: 'error'; id: number; message: string }) => {
      if (msg.type === 'ready') return readyResolve();
      const p = this.pending;
      this.pending = undefined;
      if (msg.type === 'error') {
        const e = new Error(`training worker ${this.index}: ${msg.message}`);
        if (msg.id === -1) readyReject(e);
        p?.reject(e);
        return;
      }
      p?.resolve(msg);
    });
    const fail = (why: string): void => {
      if (this.closing) return;
      this.failure ??= new Error(`training worker ${this.index} died (${why}); training stopped, the last checkpoint written is intact`);
      readyReject(this.failure);
      this.pending?.reject(this.failure);
      this.pending = undefined;
    };
    this.worker.on('error', (e) => fail(e.message.split('\n')[0]));
    this.worker.on('exit', (code) => fail(`exit code ${code}`));
  }

  request(msg: StepRequest, transfer: ArrayBuffer[]): Promise<StepReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<StepReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(msg, transfer);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.failure) this.worker.postMessage({ type: 'close' });
    await this.worker.terminate();
  }
}

export class ParallelTrainer {
  private readonly workers: WorkerHandle[];
  private sentIds: object[] | undefined;
  private nextId = 0;

  private constructor(
    private readonly model: AnomalyBert,
    workers: number,
    backend: string,
  ) {
    const config = { ...model.config, diffScales: model.config.diffScales?.slice() };
    this.workers = Array.from({ length: workers }, (_, index) => new WorkerHandle(index, { index, backend, config }));
  }

  /** Start `workers` threads, each with a replica of `model` on `backend`. */
  static async start(model: AnomalyBert, workers: number, backend: string): Promise<ParallelTrainer> {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer, got ${workers}`);
    const t = new ParallelTrainer(model, workers, backend);
    try {
      await Promise.all(t.workers.map((w) => w.ready));
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * One step: shard the batch, gather the workers' gradients, sum them, one AdamW update on the
   * main model. Returns the loss/accuracy of the weights before the update and the gradient norm.
   */
  async step(
    optimizer: AdamW,
    varList: tf.Variable[],
    batch: { x: Float32Array; y: Uint8Array },
    o: ParallelStepOptions,
  ): Promise<{ loss: number; accuracy: number; gradNorm: number }> {
    const { nRows: n, windowSize: W, nCols: C } = o;
    const mb = o.microBatch && o.microBatch > 0 && o.microBatch < n ? o.microBatch : 0;
    if (mb && n % mb !== 0) throw new Error(`microBatch ${mb} must divide the batch size ${n}`);
    // Split whole chunks among workers: chunk = micro-batch, or one row when there is none.
    const chunkRows = mb || 1;
    const chunks = n / chunkRows;
    const used = Math.min(this.workers.length, chunks);
    const named = this.model.namedVariables();
    const nameOf = new Map(named.map(([name, v]) => [v, name]));
    const names = varList.map((v) => {
      const name = nameOf.get(v);
      if (!name) throw new Error(`ParallelTrainer: variable '${v.name}' is not a parameter of the model`);
      return name;
    });
    // Only variables whose data changed since the last step that sent them (frozen parts go once).
    const ids = named.map(([, v]) => v.dataId as object);
    const sent = this.sentIds && this.sentIds.length === ids.length ? this.sentIds : undefined;
    const stale = ids.map((id, i) => id !== sent?.[i]);
    const weights = stale.some(Boolean) ? named.map(([, v], i) => (stale[i] ? (v.dataSync() as Float32Array) : undefined)) : undefined;
    const id = this.nextId++;
    let chunkStart = 0;
    const replies = await Promise.all(
      Array.from({ length: used }, (_, k) => {
        const count = Math.floor(chunks / used) + (k < chunks % used ? 1 : 0);
        const first = chunkStart;
        chunkStart += count;
        const rows = count * chunkRows;
        const r0 = first * chunkRows;
        const msg: StepRequest = {
          type: 'step',
          id,
          weights: weights?.map((w) => w?.slice()),
          names,
          x: batch.x.slice(r0 * W * C, (r0 + rows) * W * C),
          y: batch.y.slice(r0 * W, (r0 + rows) * W),
          rows,
          windowSize: W,
          nCols: C,
          batchRows: n,
          // Without micro-batches the whole shard is one pass: its masks are chunk k's.
          chunkRows: mb || rows,
          chunkOffset: mb ? first : k,
          dropoutSeed: o.dropoutSeed,
          accuracy: Boolean(o.accuracy),
        };
        return this.workers[k].request(msg, [
          msg.x.buffer as ArrayBuffer,
          msg.y.buffer as ArrayBuffer,
          ...(msg.weights ?? []).flatMap((w) => (w ? [w.buffer as ArrayBuffer] : [])),
        ]);
      }),
    );
    if (weights) this.sentIds = ids;
    // Σ in shard order, float32 as the single-thread accumulation.
    const sums = replies[0].grads;
    for (let k = 1; k < replies.length; k++) {
      const g = replies[k].grads;
      for (let i = 0; i < sums.length; i++) {
        const a = sums[i];
        const b = g[i];
        for (let j = 0; j < a.length; j++) a[j] += b[j];
      }
    }
    const grads: tf.NamedTensorMap = {};
    varList.forEach((v, i) => (grads[v.name] = tf.tensor(sums[i], v.shape, 'float32')));
    let gradNorm: number;
    try {
      gradNorm = optimizer.applyGradients(grads, o.lr);
    } finally {
      tf.dispose(Object.values(grads));
    }
    // The update gave every trained variable new data: the next step sends those again.
    let loss = 0;
    let accuracy = 0;
    for (const r of replies) {
      loss = Math.fround(loss + r.loss);
      accuracy += r.accuracy;
    }
    return { loss, accuracy: o.accuracy ? accuracy : NaN, gradNorm };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
