/**
 * Starting points for training: a fresh model, a checkpoint of ours (run/state/step_<i> or any
 * checkpoint directory) or a PyTorch `state_dict.pt`, plus the choice of which parts train.
 *
 * Transfer to data with another column count follows the seed: load every weight, then
 * re-initialise ONLY the input embedding (`linear_embedding.*`, the one layer whose shape depends
 * on the column count) and say so. Everything else — encoder, relative position tables, head —
 * keeps the pre-trained values.
 */
import type * as tf from '@tensorflow/tfjs';
import { AnomalyBert, describeConfig } from '../anomalybert/model';
import type { AnomalyBertConfig } from '../anomalybert/config';
import { loadCheckpoint } from '../anomalybert/checkpoint';
import { MODEL_PARTS, type ModelPart, type TrainOptions } from './options';

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
  if (parts.size === 0) throw new Error('options --train_parts/--freeze leave no part of the model to train');
  const out = new Map<string, tf.Variable>();
  for (const [name, v] of model.namedVariables()) if (parts.has(modelPartOf(name))) out.set(name, v);
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
  /** True when the input embedding was re-initialised for a new column count. */
  embeddingReinitialized: boolean;
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
export type ModelShapeOptions = Partial<Pick<TrainOptions, 'n_features' | 'patch_size' | 'd_embed' | 'n_layer' | 'n_head' | 'diff_features'>>;

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
): Promise<StartingPoint> {
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
    return { model: AnomalyBert.create(config, { seed: o.seed }), embeddingReinitialized: false, needsDiffScales: o.diff_features, notes: [] };
  }
  const overrides: Partial<AnomalyBertConfig> = { dropout: o.dropout };
  if (explicitShape.patch_size !== undefined) overrides.patchSize = explicitShape.patch_size;
  const loaded = await loadCheckpoint(o.checkpoint, overrides);
  const model = loaded.model;
  const c = model.config;
  const mismatch: string[] = [];
  const check = (opt: keyof ModelShapeOptions, have: number): void => {
    const want = explicitShape[opt];
    if (want !== undefined && want !== have) mismatch.push(`--${opt} ${want} (checkpoint: ${have})`);
  };
  check('n_features', c.nTokens);
  check('patch_size', c.patchSize);
  check('d_embed', c.dEmbed);
  check('n_layer', c.nLayer);
  check('n_head', c.nHead);
  if (explicitShape.diff_features !== undefined && explicitShape.diff_features !== Boolean(c.diffScales)) {
    mismatch.push(`--diff_features ${explicitShape.diff_features} (checkpoint: ${Boolean(c.diffScales)})`);
  }
  if (mismatch.length > 0) {
    model.dispose();
    throw new Error(`checkpoint ${o.checkpoint} does not match the options: ${mismatch.join(', ')}`);
  }
  if (c.outputDim !== 1) {
    model.dispose();
    throw new Error(`checkpoint ${o.checkpoint} has ${c.outputDim} output columns; training uses the BCE anomaly score (1 output)`);
  }
  const notes: string[] = [`loaded ${describeConfig(c)} from ${o.checkpoint}`];
  let embeddingReinitialized = false;
  const resuming = o.initial_iter > 0;
  if (c.inputDim !== nColumns) {
    const from = c.inputDim;
    model.reinitializeEmbedding(nColumns, o.seed, c.diffScales ? new Array<number>(nColumns).fill(1) : undefined);
    embeddingReinitialized = true;
    notes.push(`re-initialised the input embedding only (checkpoint has ${from} input columns, the data has ${nColumns}); all other weights are kept`);
  }
  const needsDiffScales = Boolean(model.config.diffScales) && (embeddingReinitialized || !resuming);
  if (needsDiffScales) notes.push('first-difference scales will be fitted on this run\'s training data (as the scaler is)');
  for (const n of notes) log(n);
  const meta = loaded.meta;
  return {
    model,
    source: o.checkpoint,
    sourceColumns: loaded.columns,
    sourceScaler: loaded.scaler,
    sourceParent: meta.parent,
    sourceStep: meta.step,
    embeddingReinitialized,
    needsDiffScales,
    notes,
  };
}
