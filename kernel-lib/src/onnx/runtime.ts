/**
 * Inference engine selection: onnxruntime-node (native, multi-threaded) or tfjs.
 *
 * onnxruntime-node ships its CPU binary inside the npm package, but a platform without a build
 * (or a broken install) cannot load it, so it is probed at run time like tfjs-node is. 'auto'
 * takes onnx where it loads and falls back to tfjs; the choice is printed once, as the backend is.
 */
import * as os from 'os';
import type * as Ort from 'onnxruntime-node';
import { ENGINE_CHOICES, isEngineChoice, type EngineChoice, type EngineName } from '../backend-choices';
import { describeOnnxModel } from './graph';

// The choices are declared with the backends (backend-choices.ts); this area's API re-exports them.
export { ENGINE_CHOICES, type EngineChoice, type EngineName };

export interface EngineOptions {
  /** one of ENGINE_CHOICES; default 'auto' (env ANOMALY_LAB_ENGINE). */
  engine?: EngineChoice | string;
  /** Intra-op threads of onnxruntime sessions; default: every core (os.availableParallelism). */
  threads?: number;
  /** Print which engine runs, once per process (default true). */
  logEngine?: boolean;
}

export interface EngineInfo {
  name: EngineName;
  /** onnxruntime threads (onnx only). */
  threads?: number;
  /** Why onnx is not used (auto fell back to tfjs). */
  reason?: string;
}

let ortModule: typeof Ort | undefined;
let ortError: string | undefined;

/** onnxruntime-node, or undefined with the reason in `onnxUnavailableReason()`. */
export function loadOnnxRuntime(): typeof Ort | undefined {
  if (ortModule || ortError) return ortModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ortModule = require('onnxruntime-node') as typeof Ort;
  } catch (e) {
    ortError = (e as Error).message.split('\n')[0];
  }
  return ortModule;
}

export function onnxUnavailableReason(): string | undefined {
  loadOnnxRuntime();
  return ortError;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

const announced = new Set<string>();

/**
 * Resolve the engine for one run. Throws naming the option when 'onnx' is asked for and cannot
 * load, or the thread count is not a positive integer. Prints the choice once per distinct
 * outcome (stderr) unless `log` is false.
 */
export function resolveEngine(opts: EngineOptions & { log?: boolean; logger?: (line: string) => void } = {}): EngineInfo {
  const choice = (opts.engine ?? process.env.ANOMALY_LAB_ENGINE ?? 'auto') as EngineChoice;
  if (!isEngineChoice(choice)) throw new Error(`engine: unknown engine '${choice}' (choose one of ${ENGINE_CHOICES.join(', ')})`);
  const threads = opts.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`engine: threads must be a positive integer, got ${String(opts.threads)}`);
  let info: EngineInfo;
  if (choice === 'tfjs') info = { name: 'tfjs' };
  else if (loadOnnxRuntime()) info = { name: 'onnx', threads };
  else if (choice === 'onnx') throw new Error(`engine onnx: onnxruntime-node cannot be loaded (${ortError})`);
  else info = { name: 'tfjs', reason: `onnxruntime-node cannot be loaded: ${ortError}` };
  const line =
    info.name === 'onnx'
      ? `anomaly-lab: inference engine 'onnx' (onnxruntime-node, ${threads} thread${threads > 1 ? 's' : ''})`
      : `anomaly-lab: inference engine 'tfjs'${info.reason ? ` (${info.reason})` : ''}`;
  if ((opts.log ?? opts.logEngine ?? true) && !announced.has(line)) {
    announced.add(line);
    (opts.logger ?? ((l: string) => process.stderr.write(l + '\n')))(line);
  }
  return info;
}

/**
 * Sessions opened by `createOnnxSession` in this process (every `InferenceSession.create` of the
 * library goes through it), in total and per `source` label. For diagnostics and tests: how many
 * graphs a run built (e.g. the onnx training engine: one per configuration, not one per step).
 */
const sessionsBySource = new Map<string, number>();
let sessionsTotal = 0;
export function onnxSessionsCreated(source?: string): number {
  return source === undefined ? sessionsTotal : (sessionsBySource.get(source) ?? 0);
}

/**
 * An onnxruntime session over ONNX bytes. A corrupt or foreign model is reported in one line
 * naming `source` (our decoder runs first: onnxruntime's own messages span several lines).
 */
export async function createOnnxSession(
  bytes: Uint8Array,
  source: string,
  threads = defaultThreads(),
  memory: { arena?: boolean; pattern?: boolean; optimize?: boolean } = {},
): Promise<Ort.InferenceSession> {
  const ort = loadOnnxRuntime();
  if (!ort) throw new Error(`engine onnx: onnxruntime-node cannot be loaded (${ortError})`);
  describeOnnxModel(bytes, source);
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Training graphs run unoptimised: onnxruntime's common-subexpression elimination (a basic-level
      // pass) merges the backward pass's recomputations back into the forward nodes, so the kept
      // activations come back (ESS batch 16: session peak 4.5 GB optimised, 2.7 GB not, for ~10%
      // more CPU per step).
      graphOptimizationLevel: memory.optimize === false ? 'disabled' : 'all',
      // Errors only: its optimiser's notes (e.g. "Removing initializer … not used" after folding
      // constants of a training graph) are not the user's business and cluttered training output.
      logSeverityLevel: 3,
      // No spin-waiting between ops: on a shared machine a spinning pool thread takes the core the
      // working one needs (measured on the workshop model, 2 threads: median 6.9 → 5.8 ms per 16
      // windows; 1 thread unchanged).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
      // The CPU arena keeps every block it ever handed out; a training graph's activations are GBs
      // (ESS) and the arena grew by 0.6 GB between the first and second step. Without it the
      // blocks go back to the system after each run (training sessions pass arena and pattern false).
      enableCpuMemArena: memory.arena ?? true,
      // Memory patterns (one planned block per run) measured worse without the arena: ESS peak
      // 5.7 GB with, 4.5 GB without.
      enableMemPattern: memory.pattern ?? true,
    });
  } catch (e) {
    throw new Error(`${source}: onnxruntime cannot load this model (${(e as Error).message.split('\n')[0]})`);
  }
  sessionsTotal++;
  sessionsBySource.set(source, (sessionsBySource.get(source) ?? 0) + 1);
  return session;
}

/**
 * The float32 data of an onnxruntime output, as a view (no copy). The binding may hand back a typed
 * array of another realm (jest): it is read through its buffer. Valid until the tensor is disposed.
 */
export function floatView(t: Ort.Tensor): Float32Array {
  const d = t.data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
  return new Float32Array(d.buffer, d.byteOffset, d.length);
}

/**
 * Run a session with one float32 input (plus `extraFeeds`, e.g. weights fed as inputs); returns the
 * named output's data (copied out of the result).
 */
export async function runFloat(
  session: Ort.InferenceSession,
  input: string,
  data: Float32Array,
  dims: number[],
  output: string,
  extraFeeds?: Record<string, Ort.Tensor>,
): Promise<Float32Array> {
  const ort = loadOnnxRuntime() as typeof Ort;
  const feed = { ...extraFeeds, [input]: new ort.Tensor('float32', data, dims) };
  const result = await session.run(feed, [output]);
  const t = result[output];
  const out = floatView(t).slice();
  t.dispose?.();
  return out;
}
