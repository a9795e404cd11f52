/**
 * Starting points for training: a fresh model, a checkpoint of ours (run/state/step_<i> or any
 * checkpoint directory) or a PyTorch `state_dict.pt`, plus the choice of which parts train.
 *
 * Transfer to data with another column count follows the seed: load every weight, then
 * re-initialise ONLY the input embedding (`linear_embedding.*`, the one layer whose shape depends
 * on the column count) and say so. Everything else — encoder, relative position tables, head —
 * keeps the pre-trained values.
 */
import * as tf from '@tensorflow/tfjs';
import { AnomalyBert, describeConfig } from '../anomalybert/model';
import { featuresPerPoint, type AnomalyBertConfig } from '../anomalybert/config';
import { loadCheckpoint } from '../anomalybert/checkpoint';
import { MODEL_PARTS, type ModelPart, type TrainOptions } from './options';
import { FieldError } from '../browser/errors';

/**
 * What a transfer took from its checkpoint (recorded in config.json → start.transfer, the manifest
 * and every checkpoint's `extra.transfer`).
 */
export interface TransferRecord {
  /** target column → source column, as given (empty without --column_map). */
  column_map: Record<string, string>;
  /** Target columns whose embedding weights (value and first-difference rows) came from the source. */
  mapped_columns: Array<{ target: string; source: string }>;
  /** Target columns whose embedding rows were initialised fresh. */
  reinitialized_columns: string[];
  /** Source columns with no target: their rows are folded into the embedding bias (see remapEmbedding). */
  dropped_source_columns: string[];
  /** Parameters whose values were loaded from the checkpoint unchanged. */
  transferred_parameters: string[];
  /** 'kept' (same columns), 'remapped' (column_map) or 'reinitialized' (column count differs, no map). */
  embedding: 'kept' | 'remapped' | 'reinitialized';
}

/**
 * Value a dropped source column is assumed to hold when it is folded into the bias: the middle of
 * the min-max range (its first difference is 0, a held column). Why: the encoder learned on tokens
 * that include that column's contribution; dropping it to 0 would shift every token by −W·x̄, while
 * a mid-range constant keeps the shift small when the column spent its time near the middle.
 */
export const DROPPED_COLUMN_VALUE = 0.5;

/**
 * Column-aware embedding transfer. The embedding reads, per token, P points × F features
 * (F = C values, then C first differences when the model has them), point-major: input row
 * p·F + f. Rows of a mapped target column j are copied from source column i (value row p·Fs + i →
 * p·Ft + j, difference row p·Fs + Cs + i → p·Ft + Ct + j); rows of unmapped target columns keep
 * the fresh xavier values of `fresh`; dropped source columns are folded into the bias at
 * DROPPED_COLUMN_VALUE (differences 0).
 * Weights are in our [in, out] layout: source (P·Fs, D), fresh (P·Ft, D). Returns (P·Ft, D) and (D).
 */
export function remapEmbedding(
  source: { weight: Float32Array; bias: Float32Array; columns: number; diff: boolean },
  fresh: { weight: Float32Array; columns: number },
  sourceOf: Array<number | undefined>,
  patchSize: number,
  dEmbed: number,
): { weight: Float32Array; bias: Float32Array } {
  const Cs = source.columns;
  const Ct = fresh.columns;
  const Fs = source.diff ? 2 * Cs : Cs;
  const Ft = source.diff ? 2 * Ct : Ct;
  if (source.weight.length !== patchSize * Fs * dEmbed)
    throw new Error(`remapEmbedding: source weight has ${source.weight.length} values, expected ${patchSize}·${Fs}·${dEmbed}`);
  if (fresh.weight.length !== patchSize * Ft * dEmbed)
    throw new Error(`remapEmbedding: fresh weight has ${fresh.weight.length} values, expected ${patchSize}·${Ft}·${dEmbed}`);
  const weight = Float32Array.from(fresh.weight);
  const bias = Float32Array.from(source.bias);
  const copyRow = (from: number, to: number): void => weight.set(source.weight.subarray(from * dEmbed, (from + 1) * dEmbed), to * dEmbed);
  const used = new Set<number>();
  for (let p = 0; p < patchSize; p++) {
    for (let j = 0; j < Ct; j++) {
      const i = sourceOf[j];
      if (i === undefined) continue;
      used.add(i);
      copyRow(p * Fs + i, p * Ft + j);
      if (source.diff) copyRow(p * Fs + Cs + i, p * Ft + Ct + j);
    }
  }
  for (let i = 0; i < Cs; i++) {
    if (used.has(i)) continue;
    for (let p = 0; p < patchSize; p++) {
      const row = (p * Fs + i) * dEmbed;
      for (let d = 0; d < dEmbed; d++) bias[d] += DROPPED_COLUMN_VALUE * source.weight[row + d];
    }
  }
  return { weight, bias };
}

/** Which part of the model a parameter (torch state-dict name) belongs to. */
export function modelPartOf(name: string): ModelPart {
  if (name.startsWith('linear_embedding.')) return 'embedding';
  if (name.startsWith('transformer_encoder.')) return 'encoder';
  if (name.startsWith('mlp_layers.')) return 'head';
  throw new Error(`parameter '${name}' belongs to no known model part (${MODEL_PARTS.join(', ')})`);
}

/** The parts that train under `train_parts` / `freeze` (all when neither is given). */
export function trainedParts(o: Pick<TrainOptions, 'train_parts' | 'freeze'>): ModelPart[] {
  if (o.train_parts.length > 0) return MODEL_PARTS.filter((p) => o.train_parts.includes(p));
  return MODEL_PARTS.filter((p) => !o.freeze.includes(p));
}

/**
 * Trainable variables keyed by torch name (stable across processes, so saved optimiser state
 * matches on resume). Throws when nothing would train.
 */
export function selectTrainableVariables(model: AnomalyBert, o: Pick<TrainOptions, 'train_parts' | 'freeze'>): Map<string, tf.Variable> {
  const parts = new Set(trainedParts(o));
  if (parts.size === 0)
    throw new FieldError(
      ['train_parts', 'freeze'],
      (f) => `options ${f('train_parts')}/${f('freeze')} leave no part of the model to train`,
    );
  const out = new Map<string, tf.Variable>();
  for (const [name, v] of model.namedVariables()) if (parts.has(modelPartOf(name))) out.set(name, v);
  return out;
}

const LAYER_OF = /^transformer_encoder\.encoder_layers\.(\d+)\./;

/**
 * Layer-wise learning-rate multiplier of a parameter (or LoRA adapter) for decay d: the head
 * trains at the full rate, encoder layer l of L at d^(L−l), the embedding at d^(L+1); relative
 * position tables and norms go with their layer.
 */
export function layerLrScale(name: string, nLayer: number, decay: number): number {
  if (decay === 1) return 1;
  if (name.startsWith('mlp_layers.')) return 1;
  if (name.startsWith('linear_embedding.')) return Math.pow(decay, nLayer + 1);
  const m = LAYER_OF.exec(name);
  if (m) return Math.pow(decay, nLayer - Number(m[1]));
  throw new Error(`layerLrScale: parameter '${name}' belongs to no known layer`);
}

/**
 * Variables that train in a stage (parts that train), keyed by stable name. With LoRA the encoder's
 * base weights stay frozen and its adapters train instead (OpenESS trains only the adapters of the
 * encoder; the embedding and head are site-specific and small, so they train fully).
 */
export function stageVariables(
  model: AnomalyBert,
  parts: readonly ModelPart[],
  adapters?: Map<string, tf.Variable>,
): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const want = new Set(parts);
  for (const [name, v] of model.namedVariables()) {
    const part = modelPartOf(name);
    if (!want.has(part)) continue;
    if (adapters && part === 'encoder') continue;
    out.set(name, v);
  }
  if (adapters && want.has('encoder')) for (const [name, v] of adapters) out.set(name, v);
  return out;
}

export interface StartingPoint {
  model: AnomalyBert;
  /** Checkpoint the weights came from (absolute path), if any. */
  source?: string;
  /** Columns recorded in the source checkpoint, if it has them. */
  sourceColumns?: string[];
  /** Scaler recorded in the source checkpoint (JSON), if any. */
  sourceScaler?: unknown;
  /** `parent` recorded in the source checkpoint (resume keeps the original lineage). */
  sourceParent?: string;
  /** Step recorded in the source checkpoint. */
  sourceStep?: number;
  /** `extra` recorded in the source checkpoint (a resume keeps its estimation settings). */
  sourceExtra?: Record<string, unknown>;
  /** True when the input embedding was re-initialised for a new column count. */
  embeddingReinitialized: boolean;
  /** What was transferred (a transfer, not a fresh model or a resume). */
  transfer?: TransferRecord;
  /**
   * The model reads first differences and their scales must come from this run's (scaled)
   * training data: a fresh model, or a transfer (the checkpoint's scales describe its own data,
   * like its scaler). A resume keeps the checkpoint's.
   */
  needsDiffScales: boolean;
  /** Human-readable notes (also logged and recorded in config.json). */
  notes: string[];
}

/** Model-shape options given explicitly by the caller (they must agree with a checkpoint). */
export type ModelShapeOptions = Partial<
  Pick<TrainOptions, 'n_features' | 'patch_size' | 'd_embed' | 'n_layer' | 'n_head' | 'diff_features'>
>;

/**
 * Build the model a run starts from.
 * - no checkpoint: a fresh model from the options (seeded);
 * - a checkpoint: its weights; explicitly given shape options must agree with it (a .pt file
 *   does not store the patch size: give --patch_size when P·C and P·1 are ambiguous); when
 *   `nColumns` differs from the checkpoint's input columns the embedding is re-initialised.
 */
export async function prepareStartingPoint(
  o: TrainOptions,
  nColumns: number,
  explicitShape: ModelShapeOptions,
  log: (line: string) => void = () => undefined,
  dataColumns?: string[],
): Promise<StartingPoint> {
  const mapEntries = Object.entries(o.column_map ?? {});
  if (mapEntries.length > 0 && dataColumns) {
    for (const [target] of mapEntries) {
      if (!dataColumns.includes(target))
        throw new FieldError(
          'column_map',
          (f) => `option ${f('column_map')}: '${target}' is not a column of the training data (available: ${dataColumns.join(', ')})`,
        );
    }
  }
  if (mapEntries.length > 0 && !o.checkpoint)
    throw new FieldError(
      ['column_map', 'checkpoint'],
      (f) => `option ${f('column_map')} needs ${f('checkpoint')} (it maps the data's columns to the checkpoint's)`,
    );
  if (!o.checkpoint) {
    const config: AnomalyBertConfig = {
      inputDim: nColumns,
      outputDim: 1,
      patchSize: o.patch_size,
      nTokens: o.n_features,
      dEmbed: o.d_embed,
      nLayer: o.n_layer,
      nHead: o.n_head,
      dropout: o.dropout,
      // Placeholder scales: the training loop sets them from the scaled training data.
      diffScales: o.diff_features ? new Array<number>(nColumns).fill(1) : undefined,
    };
    return {
      model: AnomalyBert.create(config, { seed: o.seed }),
      embeddingReinitialized: false,
      needsDiffScales: o.diff_features,
      notes: [],
    };
  }
  const overrides: Partial<AnomalyBertConfig> = { dropout: o.dropout };
  if (explicitShape.patch_size !== undefined) overrides.patchSize = explicitShape.patch_size;
  const loaded = await loadCheckpoint(o.checkpoint, overrides);
  const model = loaded.model;
  const c = model.config;
  // Each mismatch names its option however the error is rendered (FieldError).
  const mismatch: Array<{ field: string; text: (name: (field: string) => string) => string }> = [];
  const check = (opt: keyof ModelShapeOptions, have: number): void => {
    const want = explicitShape[opt];
    if (want !== undefined && want !== have) mismatch.push({ field: opt, text: (f) => `${f(opt)} ${want} (checkpoint: ${have})` });
  };
  check('n_features', c.nTokens);
  check('patch_size', c.patchSize);
  check('d_embed', c.dEmbed);
  check('n_layer', c.nLayer);
  check('n_head', c.nHead);
  if (explicitShape.diff_features !== undefined && explicitShape.diff_features !== Boolean(c.diffScales)) {
    const want = explicitShape.diff_features;
    mismatch.push({ field: 'diff_features', text: (f) => `${f('diff_features')} ${want} (checkpoint: ${Boolean(c.diffScales)})` });
  }
  if (mismatch.length > 0) {
    model.dispose();
    throw new FieldError(
      mismatch.map((m) => m.field),
      (f) => `checkpoint ${o.checkpoint} does not match the options: ${mismatch.map((m) => m.text(f)).join(', ')}`,
    );
  }
  if (c.outputDim !== 1) {
    model.dispose();
    throw new Error(`checkpoint ${o.checkpoint} has ${c.outputDim} output columns; training uses the BCE anomaly score (1 output)`);
  }
  const notes: string[] = [`loaded ${describeConfig(c)} from ${o.checkpoint}`];
  let embeddingReinitialized = false;
  const resuming = o.initial_iter > 0;
  const transferredAll = model.parameterNames();
  let transfer: TransferRecord | undefined;
  if (mapEntries.length > 0 && !resuming) {
    const sourceColumns = loaded.columns;
    if (!sourceColumns) {
      model.dispose();
      throw new FieldError(
        'column_map',
        (f) =>
          `option ${f('column_map')}: checkpoint ${o.checkpoint} records no column names (a .pt state dict); map by position is not supported`,
      );
    }
    for (const [, src] of mapEntries) {
      if (!sourceColumns.includes(src)) {
        model.dispose();
        throw new FieldError(
          'column_map',
          (f) =>
            `option ${f('column_map')}: '${src}' is not a column of checkpoint ${o.checkpoint} (available: ${sourceColumns.join(', ')})`,
        );
      }
    }
    const targets = dataColumns ?? Array.from({ length: nColumns }, (_, j) => `col${j}`);
    const sourceOf = targets.map((t) => (o.column_map[t] !== undefined ? sourceColumns.indexOf(o.column_map[t]) : undefined));
    const { patchSize, dEmbed } = c;
    const diff = Boolean(c.diffScales);
    const srcWeight = Float32Array.from(model.variable('linear_embedding.weight').dataSync() as Float32Array);
    const srcBias = Float32Array.from(model.variable('linear_embedding.bias').dataSync() as Float32Array);
    const Cs = c.inputDim;
    // Fresh xavier rows for the new column count (unmapped columns keep them).
    model.reinitializeEmbedding(nColumns, o.seed, diff ? new Array<number>(nColumns).fill(1) : undefined);
    const fresh = model.variable('linear_embedding.weight').dataSync() as Float32Array;
    const { weight, bias } = remapEmbedding(
      { weight: srcWeight, bias: srcBias, columns: Cs, diff },
      { weight: fresh, columns: nColumns },
      sourceOf,
      patchSize,
      dEmbed,
    );
    const wv = model.variable('linear_embedding.weight');
    const bv = model.variable('linear_embedding.bias');
    tf.tidy(() => {
      wv.assign(tf.tensor2d(weight, [patchSize * featuresPerPoint(model.config), dEmbed]));
      bv.assign(tf.tensor1d(bias));
    });
    const mapped = targets.flatMap((t, j) =>
      sourceOf[j] !== undefined ? [{ target: t, source: sourceColumns[sourceOf[j] as number] }] : [],
    );
    const used = new Set(mapped.map((m) => m.source));
    transfer = {
      column_map: { ...o.column_map },
      mapped_columns: mapped,
      reinitialized_columns: targets.filter((_, j) => sourceOf[j] === undefined),
      dropped_source_columns: sourceColumns.filter((x) => !used.has(x)),
      transferred_parameters: transferredAll.filter((n) => !n.startsWith('linear_embedding.')),
      embedding: 'remapped',
    };
    notes.push(
      `column-aware transfer: embedding rows of ${mapped.map((m) => `${m.target}←${m.source}`).join(', ')} kept` +
        `${diff ? ' (values and first differences)' : ''}; ` +
        `${transfer.reinitialized_columns.length ? `fresh rows for ${transfer.reinitialized_columns.join(', ')}; ` : ''}` +
        `${transfer.dropped_source_columns.length ? `${transfer.dropped_source_columns.join(', ')} folded into the bias at ${DROPPED_COLUMN_VALUE}; ` : ''}all other weights kept`,
    );
  } else if (c.inputDim !== nColumns) {
    const from = c.inputDim;
    model.reinitializeEmbedding(nColumns, o.seed, c.diffScales ? new Array<number>(nColumns).fill(1) : undefined);
    embeddingReinitialized = true;
    notes.push(
      `re-initialised the input embedding only (checkpoint has ${from} input columns, the data has ${nColumns}); all other weights are kept`,
    );
  }
  if (!transfer && !resuming) {
    transfer = {
      column_map: {},
      mapped_columns: [],
      reinitialized_columns: embeddingReinitialized ? (dataColumns ?? []) : [],
      dropped_source_columns: embeddingReinitialized ? (loaded.columns ?? []) : [],
      transferred_parameters: embeddingReinitialized ? transferredAll.filter((n) => !n.startsWith('linear_embedding.')) : transferredAll,
      embedding: embeddingReinitialized ? 'reinitialized' : 'kept',
    };
  }
  const needsDiffScales = Boolean(model.config.diffScales) && (embeddingReinitialized || !resuming);
  if (needsDiffScales) notes.push("first-difference scales will be fitted on this run's training data (as the scaler is)");
  for (const n of notes) log(n);
  const meta = loaded.meta;
  return {
    model,
    source: o.checkpoint,
    sourceColumns: loaded.columns,
    sourceScaler: loaded.scaler,
    sourceParent: meta.parent,
    sourceStep: meta.step,
    sourceExtra: meta.extra,
    embeddingReinitialized,
    needsDiffScales,
    notes,
    transfer,
  };
}
