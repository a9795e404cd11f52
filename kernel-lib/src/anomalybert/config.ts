/**
 * AnomalyBERT model configuration and its validation.
 *
 * Window length W = nTokens × patchSize points. Names follow the contract in briefs/contracts.md;
 * the original script calls nTokens `max_seq_len` (model) / `n_features` (ESS fork's train option).
 */

import { FieldError } from '../browser/errors';

export interface AnomalyBertConfig {
  /** Input columns C per point. */
  inputDim: number;
  /** Output columns per point (1 for the anomaly score). */
  outputDim: number;
  /** Points per token P. */
  patchSize: number;
  /** Tokens per window N (the original's max_seq_len). */
  nTokens: number;
  /** Embedding width D. */
  dEmbed: number;
  /** Encoder layers L. */
  nLayer: number;
  /** Attention heads H (D divisible by H). */
  nHead: number;
  /** Dropout rate used when `training` (after attention, inside and after the feed-forward). */
  dropout: number;
  /** Hidden width of the feed-forward blocks and the MLP head; default 4·D (hidden_dim_rate 4). */
  hiddenDim?: number;
  /**
   * First-difference input features (this toolkit's addition; absent in the original). When set —
   * one positive scale per input column — every point also carries asinh((x_t − x_(t−1)) / scale_c)
   * per column, so the embedding reads P·2C numbers per token. Scales are statistics of the
   * training data (`fitDiffScales`), stored with the model like the scaler.
   */
  diffScales?: number[];
}

/** A validated configuration: every field filled except the optional input features. */
export type ResolvedAnomalyBertConfig = Required<Omit<AnomalyBertConfig, 'diffScales'>> & Pick<AnomalyBertConfig, 'diffScales'>;

/** The ESS configuration of the seed report: patch 90, 512 tokens, width 512, 6 layers, 8 heads. */
export const ESS_CONFIG: AnomalyBertConfig = {
  inputDim: 5,
  outputDim: 1,
  patchSize: 90,
  nTokens: 512,
  dEmbed: 512,
  nLayer: 6,
  nHead: 8,
  dropout: 0.1,
};

/** A small configuration that trains on a laptop CPU in minutes (teaching workshops). */
export const WORKSHOP_CONFIG: AnomalyBertConfig = {
  inputDim: 5,
  outputDim: 1,
  patchSize: 8,
  nTokens: 64,
  dEmbed: 64,
  nLayer: 2,
  nHead: 8,
  dropout: 0.1,
};

export function windowSize(config: AnomalyBertConfig): number {
  return config.nTokens * config.patchSize;
}

/** The original estimate.py's stride between windows (its --window_sliding default). */
export const DEFAULT_WINDOW_SLIDING = 16;

/**
 * The one check of a window stride against a window size: the stride must divide it (so every
 * point is covered by the same number of windows). The error names `field` — `windowSliding` in
 * the library's options, `window_sliding` in the training options — and the CLI maps both to
 * --window_sliding. `hint` says where the window size comes from.
 */
export function checkWindowSliding(sliding: number, windowSize: number, field = 'windowSliding', hint = ''): void {
  if (windowSize % sliding !== 0)
    throw new FieldError(field, (f) => `${f(field)} ${sliding} must divide the window size ${windowSize}${hint ? ` (${hint})` : ''}`);
}

export function hiddenDimOf(config: AnomalyBertConfig): number {
  return config.hiddenDim ?? 4 * config.dEmbed;
}

/** Throws an Error naming the first invalid field. Returns a normalised copy (hiddenDim filled). */
export function validateConfig(config: AnomalyBertConfig, where = 'model config'): ResolvedAnomalyBertConfig {
  const ints: Array<keyof AnomalyBertConfig> = ['inputDim', 'outputDim', 'patchSize', 'nTokens', 'dEmbed', 'nLayer', 'nHead'];
  for (const k of ints) {
    const v = config[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new Error(`${where}: ${k} must be a positive integer, got ${String(v)}`);
  }
  if (typeof config.dropout !== 'number' || !(config.dropout >= 0 && config.dropout < 1)) {
    throw new Error(`${where}: dropout must be in [0, 1), got ${String(config.dropout)}`);
  }
  if (config.dEmbed % config.nHead !== 0) {
    throw new Error(`${where}: dEmbed ${config.dEmbed} is not divisible by nHead ${config.nHead}`);
  }
  const hiddenDim = hiddenDimOf(config);
  if (!Number.isInteger(hiddenDim) || hiddenDim < 1)
    throw new Error(`${where}: hiddenDim must be a positive integer, got ${String(hiddenDim)}`);
  const scales = config.diffScales;
  if (scales !== undefined && scales !== null) {
    if (
      !Array.isArray(scales) ||
      scales.length !== config.inputDim ||
      !scales.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)
    ) {
      throw new Error(
        `${where}: diffScales must hold ${config.inputDim} positive numbers (one per input column), got ${JSON.stringify(scales)?.slice(0, 80)}`,
      );
    }
  }
  const resolved: ResolvedAnomalyBertConfig = {
    inputDim: config.inputDim,
    outputDim: config.outputDim,
    patchSize: config.patchSize,
    nTokens: config.nTokens,
    dEmbed: config.dEmbed,
    nLayer: config.nLayer,
    nHead: config.nHead,
    dropout: config.dropout,
    hiddenDim,
  };
  if (scales) resolved.diffScales = scales.slice();
  return resolved;
}

/** Numbers per point the embedding reads: C, or 2C with first-difference features. */
export function featuresPerPoint(config: Pick<AnomalyBertConfig, 'inputDim' | 'diffScales'>): number {
  return config.diffScales ? 2 * config.inputDim : config.inputDim;
}
