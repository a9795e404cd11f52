/**
 * The AnomalyBERT training loop (the original `train.py`, BCE loss), with checkpoints, exact
 * resume, test-set evaluation at every summary step and transfer learning.
 *
 * Per step i (initial_iter ≤ i ≤ max_steps):
 *   batch  = makeDegradedBatch(train)                 x (n, W, C) float32, y (n, W) 0/1
 *   logits = model.apply(x, training)                 (n, W, 1)
 *   loss   = BCE(sigmoid(logits), y)                  mean over n·W points
 *   AdamW(clip by global norm, lr = schedule(i))      for i < max_steps
 * Every `summary_steps` steps and at max_steps: state/step_<i> holds the weights after i
 * updates (as the original saves before the update of step i), the test-set scores and metrics
 * of those weights, the optimiser + RNG state; then the history entry (loss and accuracy of
 * batch i, as the original prints them) is appended.
 *
 * Resume: `checkpoint = run/state/step_<i>`, `initial_iter = i` restores the weights and, when
 * `step_<i>_optimizer.bin` is beside it, the AdamW moments, the batch RNG and the length table, so
 * the continued run draws the same batches as an uninterrupted one. Dropout masks are seeded per
 * step from (seed, step) for the same reason. Only the newest optimiser file is kept (it is twice
 * the model's size); resuming from an older step restarts the moments (logged).
 *
 * BCE is computed from the logits in the stable form max(z, 0) − z·y + log(1 + e^−|z|), which
 * equals torch's BCELoss(sigmoid(z), y) except where torch clamps log(p) at −100 (|z| > 100).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { createRng, restoreRng, type Rng, type RngState } from '../browser/random';
import { prepareMetrics, randomScoresBaseline } from '../browser/metrics';
import { formatSignificant } from '../browser/format';
import { loadSeries, type Series } from '../io/series';
import { MinMaxScaler } from '../io/scaler';
import { readNpy } from '../io/npy';
import { saveCheckpoint, resolveCheckpointPath } from '../anomalybert/checkpoint';
import type { AnomalyBert, ApplyOptions } from '../anomalybert/model';
import { checkWindowSliding, estimateScores } from '../anomalybert/estimate';
import { fitDiffScales } from '../anomalybert/input-features';
import type { ManifestCommand } from '../runs/manifest';
import { LIBRARY_VERSION } from '../version';
import { makeDegradedBatch, ReplacingLengthTable, type DegradeSeries } from './degrade';
import { AdamW, encodeAdamWState, decodeAdamWState } from './optimizer';
import { resolveTrainOptions, windowLength, type TrainOptions } from './options';
import { lrForStep } from './schedule';
import { checkTrainingMemory } from './budget';
import { describeOwner } from '../io/lock';
import {
  RunDirectory,
  claimRunDirectory,
  stepDirName,
  type ExistingRunPolicy,
  type RunDirClaim,
  type HistoryEntry,
  type TestSummary,
} from '../runs/run-dir';
import { createTerminalReporter, type OnProgress, type OnSummary } from './progress';
import { prepareStartingPoint, trainedParts, stageVariables, layerLrScale, type ModelShapeOptions } from './transfer';
import { recordedEstimation, resolveTransferRecipe, trainedRecipeBudget, type ResolvedRecipe } from './recipe';
import { LoraAdapters } from './lora';
import { ParallelTrainer, coreCount } from './parallel';
import { OnnxTrainingEngine } from './onnx-step';
import { accumulateChunks, accuracyOf, bceWithLogits } from './chunks';
import { resolveEngine } from '../onnx/runtime';
import type { EngineName } from '../backend-choices';
import { essContextFor, ESS_COLUMNS, type EssContext } from './ess-anomalies';
import { FieldError } from '../browser/errors';
import { toBinaryLabels } from '../browser/labels';

/** How the training data are scaled before degradation (which assumes values in [0, 1]). */
export type ScaleMode = 'fit' | 'none' | 'checkpoint';

export interface TrainInput {
  /** Training series or a path (.npy/.parquet/.csv or a directory of them = one series). */
  train: Series | string;
  /** Test series (or path) for evaluation at summary steps. */
  test?: Series | string;
  /** Test labels (0/1 per test row), array or .npy path; required with `test`. */
  testLabels?: ArrayLike<number> | string;
  /** Series for soft replacement (option replacing_data), default the training series. */
  replacingData?: Series | string;
  /** Columns to use (files with named columns). */
  columns?: string[];
  /** Run directory. */
  out: string;
  /**
   * When `out` already holds a run: 'refuse' (default; an explicit resume from one of its own
   * checkpoints is allowed), 'resume' (continue from its newest complete checkpoint unless
   * `options.checkpoint` says where) or 'overwrite' (delete its run files first).
   */
  existing?: ExistingRunPolicy;
  /** Training options (original names); missing ones take the original defaults. */
  options?: Partial<TrainOptions>;
  /**
   * 'fit' (default): min-max scaler fitted on the training series, applied to test and replacing
   * data and stored in every checkpoint; 'checkpoint': reuse the starting checkpoint's scaler;
   * 'none': data are already in [0, 1].
   */
  scale?: ScaleMode;
  /** tfjs backend ('auto' by default, see backend.ts). */
  backend?: string;
  onProgress?: OnProgress;
  onSummary?: OnSummary;
  /** Log lines (default: stderr). */
  log?: (line: string) => void;
  /** Checked before every step; true stops after the current step with a final checkpoint. */
  shouldStop?: () => boolean;
  /** How to re-run (recorded in the manifest for `anomaly-lab reproduce`). */
  command?: ManifestCommand;
  /** Paths recorded as inputs in the manifest when the data were given as arrays. */
  inputPaths?: Array<{ path: string; role: string }>;
}

export interface TrainResult {
  runDir: string;
  /** The resolved options (model shape from the checkpoint when one was given). */
  options: TrainOptions;
  history: HistoryEntry[];
  /** Step of the last checkpoint written. */
  finalStep: number;
  finalCheckpoint: string;
  /** True when `shouldStop` ended the run early. */
  stopped: boolean;
  backend: string;
}

/** Per-step dropout seed from (seed, step): resumed runs draw the same masks. */
function dropoutSeedFor(seed: number, step: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

async function asSeries(x: Series | string, columns: string[] | undefined, role: string): Promise<Series> {
  if (typeof x !== 'string') return x;
  if (!fs.existsSync(x)) throw new FieldError(role, (f) => `${f(role)}: ${x} does not exist`);
  return loadSeries(x, columns ? { columns } : undefined);
}

function loadLabels(x: ArrayLike<number> | string, expected: number, testName: string): Uint8Array {
  let values: ArrayLike<number>;
  let name = 'test labels';
  if (typeof x === 'string') {
    name = x;
    const arr = readNpy(x);
    if (arr.shape.length > 2 || (arr.shape.length === 2 && arr.shape[1] !== 1)) {
      throw new FieldError(
        'testLabels',
        (f) => `${f('testLabels')} ${x}: expected shape (length,) or (length, 1), got (${arr.shape.join(', ')})`,
      );
    }
    values = Array.from(arr.data as ArrayLike<number | bigint>, (v) => Number(v));
  } else values = x;
  if (values.length !== expected)
    throw new FieldError('testLabels', (f) => `${f('testLabels')} ${name}: ${values.length} labels for ${expected} rows of ${testName}`);
  return toBinaryLabels(values, { field: 'testLabels', what: name, position: 'row' });
}

function checkFinite(s: Series, role: string): void {
  for (let i = 0; i < s.values.length; i++) {
    if (!Number.isFinite(s.values[i])) {
      const C = s.columns.length;
      throw new FieldError(
        role,
        (f) => `${f(role)} ${s.source}: non-finite value at row ${Math.floor(i / C)}, column '${s.columns[i % C]}'`,
      );
    }
  }
}

/** Test-set metrics of one summary: best F1 over the rate sweep with and without PA, random PA, PA%K AUC. */
export function evaluateTestScores(scores: ArrayLike<number>, labels: ArrayLike<number>, seed = 0): TestSummary {
  const ev = prepareMetrics(scores, labels);
  const withoutPa = ev.sweep({ pointAdjust: false });
  const withPa = ev.sweep({ pointAdjust: true });
  const randomWithPa = randomScoresBaseline(labels, null, { seed, pointAdjust: true });
  const paK = ev.paKCurve(withPa.anomaly_rate);
  return { without_pa: withoutPa, with_pa: withPa, random_with_pa: randomWithPa, pa_k_auc: paK.auc };
}

interface TrainerState {
  rng: RngState;
  lengths: { index: number; values: number[] };
}

/**
 * Train (or fine-tune, or resume) AnomalyBERT; writes the run directory, which stays locked
 * against other runs until this returns (see run-dir.ts `claimRunDirectory`).
 */
export async function trainAnomalyBert(input: TrainInput): Promise<TrainResult> {
  const partial = input.options ?? {};
  const inside = (p: string): boolean => path.resolve(p).startsWith(path.resolve(input.out) + path.sep);
  // An explicit resume from the run's own checkpoint (checkpoint run/state/step_i, initial_iter i).
  const resumingInside = partial.checkpoint !== undefined && (partial.initial_iter ?? 0) > 0 && inside(partial.checkpoint);
  const claim = claimRunDirectory(input.out, { existing: input.existing, resumingInside, purpose: 'anomaly-lab train' });
  try {
    const stale = claim.lock.tookOverFrom;
    if (stale)
      (input.log ?? ((line: string) => process.stderr.write(line + '\n')))(
        `${claim.root}: took over the stale lock of ${describeOwner(stale)} (no longer running)`,
      );
    let resumed = input;
    if (input.existing === 'resume' && partial.checkpoint === undefined && claim.previousSteps.length > 0) {
      const step = claim.previousSteps[claim.previousSteps.length - 1];
      resumed = { ...input, options: { ...partial, checkpoint: path.join(claim.root, 'state', stepDirName(step)), initial_iter: step } };
    }
    return await trainInClaimedDirectory(resumed, claim);
  } finally {
    claim.release();
  }
}

async function trainInClaimedDirectory(input: TrainInput, claim: RunDirClaim): Promise<TrainResult> {
  const log = input.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const partial = input.options ?? {};
  const o = resolveTrainOptions(partial);
  // A run directory given as the starting point means its final checkpoint.
  if (o.checkpoint !== undefined && fs.existsSync(o.checkpoint)) o.checkpoint = resolveCheckpointPath(o.checkpoint);
  const explicitShape: ModelShapeOptions = {};
  for (const k of ['n_features', 'patch_size', 'd_embed', 'n_layer', 'n_head'] as const) {
    if (partial[k] !== undefined) explicitShape[k] = partial[k];
  }
  if (partial.diff_features !== undefined) explicitShape.diff_features = o.diff_features;
  // Refuse a shape that cannot fit before anything is built (a checkpoint brings its own shape).
  if (!o.checkpoint) checkTrainingMemory(o, input.columns?.length ?? 1);

  // ---- data -------------------------------------------------------------------------------
  const train = await asSeries(input.train, input.columns, 'train');
  checkFinite(train, 'train');
  const C = train.columns.length;
  let test: Series | undefined;
  let labels: Uint8Array | undefined;
  if (input.test !== undefined) {
    if (input.testLabels === undefined)
      throw new FieldError(['test', 'testLabels'], (f) => `${f('test')} needs ${f('testLabels')} (0/1 per test row)`);
    test = await asSeries(input.test, input.columns ?? train.columns, 'test');
    checkFinite(test, 'test');
    if (test.columns.length !== C) {
      const what = `${test.source}: ${test.columns.length} columns (${test.columns.join(',')}), the training data have ${C} (${train.columns.join(',')})`;
      throw new FieldError('test', (f) => `${f('test')} ${what}`);
    }
    labels = loadLabels(input.testLabels, test.length, test.source);
  } else if (input.testLabels !== undefined)
    throw new FieldError(['testLabels', 'test'], (f) => `${f('testLabels')} given without ${f('test')}`);
  let replacing: Series | undefined;
  const replacingSource = input.replacingData ?? o.replacing_data;
  if (replacingSource !== undefined) {
    replacing = await asSeries(replacingSource, input.columns ?? train.columns, 'replacing_data');
    checkFinite(replacing, 'replacing_data');
  }

  // tfjs starts after the data loaded: a bad file is reported alone, before any backend line.
  const backend = await initBackend({ backend: input.backend, logger: log });

  // ---- model --------------------------------------------------------------------------------
  const start = await prepareStartingPoint(o, C, explicitShape, log, train.columns);
  const model = start.model;
  const mc = model.config;
  // The effective model shape (from the checkpoint when one was given).
  Object.assign(o, {
    n_features: mc.nTokens,
    patch_size: mc.patchSize,
    d_embed: mc.dEmbed,
    n_layer: mc.nLayer,
    n_head: mc.nHead,
    diff_features: Boolean(mc.diffScales),
  });
  const W = windowLength(o);
  try {
    checkWindowSliding(o.window_sliding, W, 'window_sliding');
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (train.length <= W) {
    model.dispose();
    throw new FieldError(
      'train',
      (f) =>
        `${f('train')} ${train.source}: ${train.length} rows; the window needs more than ${W} (n_features ${o.n_features} × patch_size ${o.patch_size})`,
    );
  }
  if (test && test.length < W) {
    model.dispose();
    const what = `${test.source}: ${test.length} rows, shorter than one window (${W})`;
    throw new FieldError('test', (f) => `${f('test')} ${what}`);
  }
  const resuming = o.initial_iter > 0 && o.checkpoint !== undefined;

  // ---- scaling ------------------------------------------------------------------------------
  const scaleMode: ScaleMode = input.scale ?? 'fit';
  let scaler: MinMaxScaler | undefined;
  if (scaleMode === 'fit') scaler = MinMaxScaler.fit(train);
  else if (scaleMode === 'checkpoint') {
    if (!start.sourceScaler) {
      model.dispose();
      throw new FieldError(
        ['scale', 'checkpoint'],
        (f) => `${f('scale')} checkpoint: ${o.checkpoint ?? `(no ${f('checkpoint')})`} stores no scaler`,
      );
    }
    scaler = MinMaxScaler.fromJSON(start.sourceScaler as never);
    if (scaler.columns.length !== C) {
      model.dispose();
      const have = scaler.columns.length;
      throw new FieldError('scale', (f) => `${f('scale')} checkpoint: the checkpoint's scaler has ${have} columns, the data have ${C}`);
    }
  }
  const scaled = (s: Series): DegradeSeries => ({
    source: s.source,
    columns: s.columns,
    length: s.length,
    values: scaler ? scaler.transform(s.values, C) : s.values,
  });
  const trainData = scaled(train);
  const testData = test ? scaled(test) : undefined;
  const replacingData = replacing ? scaled(replacing) : undefined;
  if (start.needsDiffScales) {
    const scales = fitDiffScales(trainData.values, trainData.length, C);
    model.setDiffScales(scales);
    log(
      `first-difference features: scales ${scales.map((v) => formatSignificant(v, 3)).join(', ')} (std of each column's first difference in the scaled training data)`,
    );
  }

  // ---- fine-tuning strategy (freeze schedule, layer-wise lr, LoRA) --------------------------------
  const recipe: ResolvedRecipe = resolveTransferRecipe(o, {
    transfer: Boolean(o.checkpoint) && !resuming,
    nLayer: mc.nLayer,
    windowLength: W,
    maxStepsGiven: partial.max_steps !== undefined,
    resumedEstimation: resuming ? recordedEstimation({ extra: start.sourceExtra }) : undefined,
    resumedRecipeBudget: resuming && trainedRecipeBudget({ extra: start.sourceExtra }),
  });
  // A recipe transfer without --max_steps trains the recipe's budget.
  o.max_steps = recipe.max_steps;
  let lora: LoraAdapters | undefined;
  try {
    lora = recipe.lora_rank !== undefined ? new LoraAdapters(model, recipe.lora_rank, o.lora_alpha, o.seed) : undefined;
  } catch (e) {
    model.dispose();
    throw e;
  }
  for (const line of recipe.notes) log(line);
  // Data-parallel workers (parallel.ts): --workers 0 = every core; LoRA's forward hook stays in this
  // thread, and a native backend (tfjs-node) already runs its kernels on every core. Dropout masks
  // are drawn per worker shard, so the worker count is part of the result: the effective count is
  // recorded (config, manifest) and `reproduce` replays it on a machine with another core count.
  // Training engine (onnx-step.ts): the onnx engine runs the whole batch in one multi-threaded
  // onnxruntime call, so it takes no workers; LoRA adapters are inputs of its graph. Where it cannot
  // run, training falls back to tfjs, said in one line. The engine used is recorded (config) and replayed.
  let engineName: EngineName;
  let engineNote: string | undefined;
  try {
    const info = resolveEngine({ engine: o.engine === 'auto' ? undefined : o.engine, threads: o.threads || undefined, log: false });
    engineName = info.name;
    engineNote = info.reason;
  } catch (e) {
    model.dispose();
    const why = (e as Error).message.replace(/^engine( onnx)?: /, '');
    throw new FieldError(o.threads ? ['engine', 'threads'] : 'engine', (f) => `option ${f('engine')} ${o.engine}: ${why}`);
  }
  o.engine = engineName;
  const onnxThreads = o.threads || coreCount();
  log(
    engineName === 'onnx'
      ? `anomaly-lab: training engine 'onnx' (onnxruntime-node, ${onnxThreads} thread${onnxThreads > 1 ? 's' : ''}, whole batch per call)`
      : `anomaly-lab: training engine 'tfjs' (backend '${backend.name}')${engineNote ? `: ${engineNote}` : ''}`,
  );
  const trainChunks = o.micro_batch > 0 ? o.batch_size / o.micro_batch : o.batch_size;
  const nWorkers = engineName === 'onnx' || lora || backend.native ? 1 : Math.min(o.workers === 0 ? coreCount() : o.workers, trainChunks);
  o.workers = nWorkers;

  // ---- run directory --------------------------------------------------------------------------
  const parts = trainedParts(o);
  const config: Record<string, unknown> = {
    ...o,
    window_length: W,
    columns: train.columns,
    data: {
      train: train.source,
      test: test?.source,
      test_label: typeof input.testLabels === 'string' ? input.testLabels : input.testLabels ? '(array)' : undefined,
      replacing_data: replacing?.source,
      train_rows: train.length,
      test_rows: test?.length,
    },
    scale: scaleMode,
    scaler: scaler?.toJSON(),
    diff_scales: model.config.diffScales,
    trained_parts: parts,
    fine_tuning: recipe.record,
    estimation: recipe.estimation,
    start: o.checkpoint
      ? {
          checkpoint: path.resolve(o.checkpoint),
          mode: resuming ? 'resume' : 'transfer',
          embedding_reinitialized: start.embeddingReinitialized,
          source_columns: start.sourceColumns,
          notes: start.notes,
          transfer: start.transfer,
        }
      : { mode: 'scratch' },
    backend: backend.name,
    library_version: LIBRARY_VERSION,
  };
  const inputs: Array<{ path: string; role: string }> = [...(input.inputPaths ?? [])];
  if (typeof input.train === 'string') inputs.push({ path: input.train, role: 'train' });
  if (typeof input.test === 'string') inputs.push({ path: input.test, role: 'test' });
  if (typeof input.testLabels === 'string') inputs.push({ path: input.testLabels, role: 'test_label' });
  if (typeof replacingSource === 'string') inputs.push({ path: replacingSource, role: 'replacing_data' });
  if (o.checkpoint && fs.existsSync(o.checkpoint)) inputs.push({ path: o.checkpoint, role: 'checkpoint' });
  const run = await RunDirectory.open(
    input.out,
    {
      kind: o.checkpoint && !resuming ? 'anomalybert-transfer' : 'anomalybert-train',
      config,
      seed: o.seed,
      inputs,
      command: input.command,
    },
    { resumeFrom: resuming ? o.initial_iter : undefined, claim },
  );
  run.writeConfig(config);
  // Lineage: a transfer records the checkpoint it started from; a resume keeps the original's.
  const parent = resuming ? start.sourceParent : o.checkpoint ? path.resolve(o.checkpoint) : undefined;

  // ---- optimiser and random state ----------------------------------------------------------------
  // One optimiser per freeze stage (a stage change starts the newly trained parts' moments fresh).
  const stageAt = (step: number): number => recipe.stages.findIndex((st) => step < st.until);
  const buildOptimizer = (stage: number): { optimizer: AdamW; varList: tf.Variable[] } => {
    if (parts.length === 0)
      throw new FieldError(
        ['train_parts', 'freeze'],
        (f) => `options ${f('train_parts')}/${f('freeze')} leave no part of the model to train`,
      );
    const allowed = parts.filter((p) => recipe.stages[stage].parts.includes(p));
    if (allowed.length === 0)
      throw new FieldError(
        ['freeze_schedule', 'train_parts', 'freeze'],
        (f) =>
          `option ${f('freeze_schedule')}: stage '${recipe.stages[stage].name}' trains nothing that ${f('train_parts')}/${f('freeze')} allow`,
      );
    const vars = stageVariables(model, allowed, lora?.variables);
    const scales = [...vars.keys()].map((name) => layerLrScale(name, mc.nLayer, recipe.layer_lr_decay));
    return {
      optimizer: new AdamW(vars, { weightDecay: o.weight_decay, clipNorm: o.grad_clip_norm, lrScales: scales }),
      varList: [...vars.values()],
    };
  };
  let stage = stageAt(o.initial_iter);
  let { optimizer, varList } = buildOptimizer(stage);
  let rng: Rng = createRng(o.seed + 1);
  let lengths = ReplacingLengthTable.create(W, o.replacing_rate_max, rng);
  if (resuming) {
    const optFile = path.join(path.dirname(path.resolve(o.checkpoint as string)), `${path.basename(o.checkpoint as string)}_optimizer.bin`);
    if (fs.existsSync(optFile)) {
      const { state, extra } = decodeAdamWState(new Uint8Array(fs.readFileSync(optFile)), optFile);
      try {
        optimizer.setState(state);
      } catch (e) {
        // Saved at a freeze-stage boundary (other variables): the new stage's moments start fresh.
        log(`resuming at step ${o.initial_iter}: AdamW moments not restored (${(e as Error).message})`);
      }
      const ts = extra as unknown as TrainerState;
      rng = restoreRng(ts.rng);
      lengths = ReplacingLengthTable.fromJSON(ts.lengths);
      log(
        `resuming at step ${o.initial_iter}: restored weights, AdamW moments (step ${state.step}), batch RNG and length table from ${optFile}`,
      );
    } else {
      log(
        `resuming at step ${o.initial_iter}: restored weights; no ${path.basename(optFile)} beside the checkpoint, so AdamW moments and the batch RNG start fresh`,
      );
    }
  }
  log(
    `training ${model.countParameters()} parameters${lora ? ` + ${lora.countParameters()} LoRA` : ''} (${parts.join(', ')}${parts.length < 3 ? '; others frozen' : ''}) on ${train.length} rows × ${C} columns, ` +
      `window ${W}, steps ${o.initial_iter}…${o.max_steps}, summaries every ${o.summary_steps}`,
  );

  const schedule = { lr: o.lr, totalSteps: o.max_steps };
  const n = o.batch_size;
  const probabilities = {
    softReplacing: o.soft_replacing,
    uniformReplacing: o.uniform_replacing,
    peakNoising: o.peak_noising,
    lengthAdjusting: o.length_adjusting,
    whiteNoising: o.white_noising,
    temperatureAnomaly: o.temperature_anomaly,
    voltageGap: o.voltage_gap,
  };
  // OpenESS degradations: the columns they act on, charge status and the voltage-gap curve (ess-anomalies.ts).
  let ess: EssContext | undefined;
  if (o.temperature_anomaly > 0 || o.voltage_gap > 0) {
    let curve: Float32Array | undefined;
    if (o.voltage_gap > 0 && typeof input.train === 'string') {
      const withCurve = await loadSeries(input.train, { columns: [ESS_COLUMNS.curve] }).catch(() => undefined);
      curve = withCurve?.values;
    }
    ess = essContextFor(
      train.columns,
      trainData.values,
      trainData.length,
      { temperature: o.temperature_anomaly > 0, voltageGap: o.voltage_gap > 0 },
      curve,
    );
  }
  const parallel = nWorkers > 1 ? await ParallelTrainer.start(model, nWorkers, backend.name) : undefined;
  const onnxEngine = engineName === 'onnx' ? new OnnxTrainingEngine(model, onnxThreads, 'fast', lora) : undefined;
  if (parallel) log(`data-parallel training: ${nWorkers} worker threads, each with its own tfjs '${backend.name}' backend`);
  const reporter = input.onProgress || input.onSummary ? undefined : createTerminalReporter();
  const onProgress = input.onProgress ?? reporter?.onProgress;
  const onSummary = input.onSummary ?? reporter?.onSummary;
  const t0 = Date.now();
  let lastCheckpoint = '';
  let lastStep = o.initial_iter;
  let stopped = false;
  let previousOptimizerFile: string | undefined;
  let supersededOptimizerFile: string | undefined;

  try {
    for (let i = o.initial_iter; i <= o.max_steps; i++) {
      const final = i === o.max_steps || (input.shouldStop?.() ?? false);
      const summary = i % o.summary_steps === 0 || final;
      let files: { checkpoint?: string; scores?: string; optimizer?: string } = {};
      let test: TestSummary | undefined;
      if (summary) {
        // Snapshot before drawing batch i so a resume from step i redraws it.
        const trainerState: TrainerState = { rng: rng.state(), lengths: lengths.toJSON() };
        const ckpt = run.checkpointPath(i);
        const extra = {
          run: run.root,
          ...(start.transfer ? { transfer: start.transfer } : {}),
          fine_tuning: recipe.record,
          estimation: recipe.estimation,
        };
        // With LoRA every checkpoint holds the merged plain weights (exportable as is).
        const merged = <T>(fn: () => Promise<T>): Promise<T> => (lora ? lora.merged(model, fn) : fn());
        await merged(() => saveCheckpoint(ckpt, model, { columns: train.columns, scaler: scaler?.toJSON(), parent, step: i, extra }));
        files.checkpoint = ckpt;
        const optFile = run.writeOptimizer(i, encodeAdamWState(optimizer.getState(), trainerState as unknown as Record<string, unknown>));
        files.optimizer = optFile;
        // The previous optimiser file goes only after this summary is recorded (below): until then
        // it is the last good resume point.
        if (previousOptimizerFile && previousOptimizerFile !== optFile) supersededOptimizerFile = previousOptimizerFile;
        previousOptimizerFile = optFile;
        if (testData && labels) {
          // (length, 1) sigmoid scores of the weights after i updates, eval mode.
          const scores = firstColumn(
            await merged(() => estimateScores(model, testData.values, testData.length, { batchSize: n, windowSliding: o.window_sliding })),
            testData.length,
          );
          files.scores = run.writeScores(i, scores);
          test = evaluateTestScores(scores, labels, o.seed);
        }
        lastCheckpoint = ckpt;
      }

      const batch = makeDegradedBatch(trainData, {
        batchSize: n,
        windowSize: W,
        patchSize: o.patch_size,
        replacingRateMax: o.replacing_rate_max,
        probabilities,
        flip: o.flip_replacing_interval,
        replacingWeight: o.replacing_weight,
        replacingData,
        rng,
        lengths,
        ess,
      });
      const lr = lrForStep(i, schedule);
      const dropoutSeed = dropoutSeedFor(o.seed, i);
      if (stageAt(i) !== stage) {
        optimizer.dispose();
        stage = stageAt(i);
        ({ optimizer, varList } = buildOptimizer(stage));
        log(`step ${i}: freeze schedule stage '${recipe.stages[stage].name}' (${recipe.stages[stage].parts.join(', ')} train)`);
      }
      const stepOptions: TrainingStepOptions = {
        nRows: n,
        windowSize: W,
        nCols: C,
        lr,
        dropoutSeed,
        update: !final,
        accuracy: summary,
        microBatch: o.micro_batch,
        adaptParams: lora?.adaptParams,
      };
      // The final summary step is forward-only: it runs here.
      const { loss, accuracy, gradNorm } =
        onnxEngine && !final
          ? await onnxEngine.step(optimizer, varList, batch, stepOptions)
          : parallel && !final
            ? await parallel.step(optimizer, varList, batch, stepOptions)
            : trainingStep(model, optimizer, varList, batch, stepOptions);
      if (!Number.isFinite(loss))
        throw new FieldError('lr', (f) => `training diverged at step ${i}: loss is ${loss} (try a lower ${f('lr')})`);
      lastStep = i;

      const elapsed = (Date.now() - t0) / 1000;
      const done = i - o.initial_iter + 1;
      onProgress?.({
        step: i,
        maxSteps: o.max_steps,
        firstStep: o.initial_iter,
        loss,
        lr,
        gradNorm,
        stepsPerSec: done / Math.max(elapsed, 1e-9),
        elapsedS: elapsed,
      });
      if (summary) {
        const entry: HistoryEntry = { step: i, loss, accuracy, lr, elapsed_s: run.elapsedS };
        if (Number.isFinite(gradNorm)) entry.grad_norm = gradNorm;
        if (test) entry.test = test;
        run.recordSummary(entry, files);
        if (supersededOptimizerFile) fs.rmSync(supersededOptimizerFile, { force: true });
        supersededOptimizerFile = undefined;
        onSummary?.(entry);
        files = {};
      }
      if (final) {
        stopped = i < o.max_steps;
        break;
      }
      // Let callbacks render and signals arrive (notebooks, Ctrl-C) without slowing the loop.
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
    }
  } finally {
    reporter?.finish();
    await parallel?.close();
    await onnxEngine?.dispose();
    optimizer.dispose();
    lora?.dispose();
  }
  run.finish({ final_step: lastStep, final_checkpoint: path.relative(run.root, lastCheckpoint), stopped });
  log(`${stopped ? 'stopped' : 'finished'} at step ${lastStep}; final checkpoint ${lastCheckpoint}`);
  model.dispose();
  return {
    runDir: run.root,
    options: o,
    history: [...run.entries],
    finalStep: lastStep,
    finalCheckpoint: lastCheckpoint,
    stopped,
    backend: backend.name,
  };
}

export interface TrainingStepOptions {
  /** Batch shape: nRows windows of windowSize points × nCols columns. */
  nRows: number;
  windowSize: number;
  nCols: number;
  lr: number;
  /** Seed of this step's dropout masks. */
  dropoutSeed?: number;
  /** Apply the AdamW update (false: forward only, e.g. the final summary). Default true. */
  update?: boolean;
  /** Also compute the accuracy (one more small op; the loop does it on summary steps). */
  accuracy?: boolean;
  /** Parameter hook of the forward pass (LoRA adapters, see lora.ts). */
  adaptParams?: ApplyOptions['adaptParams'];
  /**
   * Gradient accumulation: process the batch in chunks of this many windows (must divide nRows)
   * and sum their gradients weighted by chunk/n, so one update equals the full-batch one up to
   * float rounding (and dropout masks, which are drawn per chunk). Peak activation memory scales
   * with the chunk, not the batch. 0 / undefined / nRows: the whole batch at once.
   */
  microBatch?: number;
}

// The loss, accuracy and chunk seeding live in chunks.ts (shared with the workers).
export { bceWithLogits, accuracyOf, chunkDropoutSeed } from './chunks';

/**
 * One optimisation step on a degraded batch: x (n, W, C), labels y (n, W) → BCE loss of the
 * training-mode forward pass, gradients of `varList`, clipped AdamW update. Returns the loss (and
 * accuracy, gradient norm) of the weights BEFORE the update, as the original prints them, always
 * the mean over the whole batch (also with micro-batches). Every tensor it creates is disposed.
 */
export function trainingStep(
  model: AnomalyBert,
  optimizer: AdamW,
  varList: tf.Variable[],
  batch: { x: Float32Array; y: Uint8Array },
  o: TrainingStepOptions,
): { loss: number; accuracy: number; gradNorm: number } {
  const { nRows: n } = o;
  const mb = o.microBatch ?? 0;
  if (!Number.isInteger(mb) || mb < 0) throw new Error(`trainingStep: microBatch must be a non-negative integer, got ${mb}`);
  if (mb > 0 && mb < n) {
    if (n % mb !== 0) throw new Error(`trainingStep: microBatch ${mb} must divide the batch size ${n}`);
    return microBatchedStep(model, optimizer, varList, batch, o, mb);
  }
  return wholeBatchStep(model, optimizer, varList, batch, o);
}

/** The step on the whole batch at once (micro_batch 0): unchanged so existing runs stay bit-identical. */
function wholeBatchStep(
  model: AnomalyBert,
  optimizer: AdamW,
  varList: tf.Variable[],
  batch: { x: Float32Array; y: Uint8Array },
  o: TrainingStepOptions,
): { loss: number; accuracy: number; gradNorm: number } {
  const { nRows: n, windowSize: W, nCols: C } = o;
  let loss: number;
  let accuracy = NaN;
  let gradNorm = NaN;
  const x = tf.tensor3d(batch.x, [n, W, C]);
  const y = tf.tensor2d(Float32Array.from(batch.y), [n, W]);
  try {
    if (o.update === false) {
      const [l, a] = tf.tidy(() => {
        const z = tf.squeeze(
          model.apply(x, { training: true, dropoutSeed: o.dropoutSeed, adaptParams: o.adaptParams }),
          [2],
        ) as tf.Tensor2D;
        return [bceWithLogits(z, y), accuracyOf(z, y)];
      });
      loss = l.dataSync()[0];
      accuracy = a.dataSync()[0];
      tf.dispose([l, a]);
    } else {
      let logits: tf.Tensor2D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const z = tf.squeeze(
          model.apply(x, { training: true, dropoutSeed: o.dropoutSeed, adaptParams: o.adaptParams }),
          [2],
        ) as tf.Tensor2D; // (n, W)
        if (o.accuracy) logits = tf.keep(z);
        return bceWithLogits(z, y);
      }, varList);
      gradNorm = optimizer.applyGradients(grads, o.lr);
      loss = value.dataSync()[0];
      tf.dispose(value);
      tf.dispose(Object.values(grads));
      if (logits) {
        const a = accuracyOf(logits, y);
        accuracy = a.dataSync()[0];
        tf.dispose([a, logits]);
      }
    }
  } finally {
    tf.dispose([x, y]);
  }
  return { loss, accuracy, gradNorm };
}

/**
 * Gradient accumulation over n/mb chunks of mb windows (chunks.ts, shared with the workers): the
 * summed losses and gradients are the full-batch mean and its gradient; only one chunk's activations
 * are alive at a time, and the accumulated gradients are disposed after the update.
 */
function microBatchedStep(
  model: AnomalyBert,
  optimizer: AdamW,
  varList: tf.Variable[],
  batch: { x: Float32Array; y: Uint8Array },
  o: TrainingStepOptions,
  mb: number,
): { loss: number; accuracy: number; gradNorm: number } {
  const withAccuracy = o.accuracy === true || o.update === false;
  const r = accumulateChunks(model, varList, batch, {
    rows: o.nRows,
    windowSize: o.windowSize,
    nCols: o.nCols,
    chunkRows: mb,
    batchRows: o.nRows,
    dropoutSeed: o.dropoutSeed,
    differentiate: o.update !== false,
    accuracy: withAccuracy,
    adaptParams: o.adaptParams,
  });
  try {
    const gradNorm = r.grads ? optimizer.applyGradients(r.grads, o.lr) : NaN;
    const loss = r.loss.dataSync()[0];
    const accuracy = withAccuracy && r.accuracy ? r.accuracy.dataSync()[0] : NaN;
    return { loss, accuracy, gradNorm };
  } finally {
    tf.dispose([r.loss, ...(r.accuracy ? [r.accuracy] : []), ...(r.grads ? Object.values(r.grads) : [])]);
  }
}

/** Column 0 of a (length, out) score array. */
function firstColumn(scores: Float32Array, length: number): Float32Array {
  if (scores.length === length) return scores;
  const out = new Float32Array(length);
  const k = scores.length / length;
  for (let i = 0; i < length; i++) out[i] = scores[i * k];
  return out;
}
