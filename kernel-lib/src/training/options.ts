/**
 * Training options: the original AnomalyBERT `train.py` options with the same names (snake_case)
 * and defaults, plus the few this toolkit adds (data sources, transfer learning, backend).
 *
 * One declaration feeds three consumers: the `train` CLI (via `OptionSpecs`), the library API
 * (`TrainOptions`, filled by `resolveTrainOptions`) and the run directory's `config.json`.
 *
 * Differences from the original, on purpose:
 * - `n_features` is the number of tokens per window (the original's `window_size`; the ESS fork
 *   renamed it). Window length W = n_features × patch_size points.
 * - `dataset` / `gpu_id` do not exist: data come from `--train/--test/--test_label` paths and the
 *   backend from `--backend` (see docs/seed-mapping.md).
 * - Only the BCE loss of the original is implemented (`loss` bce; l1/mse were experimental there).
 */
import { defineOptions, type ParsedOptions } from '../browser/options';
import { FLIP_MODES, type FlipMode } from './degrade';
import { FieldError } from '../browser/errors';
import { ENGINE_CHOICES, ENGINE_CHOICES_TEXT, isEngineChoice, type EngineChoice } from '../backend-choices';
import { checkWindowSliding, DEFAULT_WINDOW_SLIDING } from '../anomalybert/config';

/** Parts of the model a transfer run can train or freeze (see transfer.ts). */
export const MODEL_PARTS = ['embedding', 'encoder', 'head'] as const;
export type ModelPart = (typeof MODEL_PARTS)[number];

/** All options of one training run. Field names equal the original script's option names. */
export interface TrainOptions {
  // optimisation
  lr: number;
  max_steps: number;
  summary_steps: number;
  checkpoint?: string;
  initial_iter: number;
  batch_size: number;
  grad_clip_norm: number;
  /** Decoupled weight decay of AdamW (fixed at 1e-4 in the original). */
  weight_decay: number;
  /**
   * This toolkit's addition: gradient accumulation. 0 (default) processes the batch at once;
   * k > 0 processes it in chunks of k windows (k divides batch_size) whose gradients are summed,
   * so the update is the full-batch one (up to rounding and dropout masks) with the activation
   * memory of k windows.
   */
  micro_batch: number;
  /**
   * This toolkit's addition: data-parallel worker threads (training/parallel.ts), each with its
   * own tfjs backend and heap; their gradients are summed into one AdamW update. 0 (default) = one
   * per core; 1 = this thread only. Shards are whole micro-batches (or windows without them).
   */
  workers: number;
  /**
   * This toolkit's addition: the training engine. 'onnx' runs forward and backward pass as one
   * onnxruntime-node session call (anomalybert/onnx-train.ts: native kernels on every core, the
   * whole batch at once, `workers` unused); 'tfjs' runs them on the tfjs backend (with `workers`).
   * 'auto' (default) takes onnx where onnxruntime-node loads. The run records the engine used.
   */
  engine: EngineChoice;
  /** onnxruntime threads of the onnx engine; 0 (default) = every core. */
  threads: number;
  // model
  n_features: number;
  patch_size: number;
  d_embed: number;
  n_layer: number;
  n_head: number;
  dropout: number;
  /**
   * This toolkit's addition: the model also reads each column's first difference, scaled by the
   * training data's difference spread (see anomalybert/input-features.ts). Default false (the
   * original model). With --checkpoint the checkpoint decides; giving it explicitly must agree.
   */
  diff_features: boolean;
  // synthetic degradation
  replacing_rate_max: number;
  soft_replacing: number;
  uniform_replacing: number;
  peak_noising: number;
  length_adjusting: number;
  white_noising: number;
  flip_replacing_interval: FlipMode;
  replacing_weight: number;
  /** Another series for soft replacement (defaults to the training data). */
  replacing_data?: string;
  // evaluation
  window_sliding: number;
  seed: number;
  // transfer learning (this toolkit)
  /** Train only these parts (others frozen). Empty = all parts not frozen. */
  train_parts: ModelPart[];
  /** Freeze these parts. */
  freeze: ModelPart[];
  /**
   * Column-aware transfer (this toolkit): target column → source (checkpoint) column, e.g.
   * { voltage: 'BANK_DC_VOLT' }. Mapped columns keep their learned embedding weights (values and
   * first differences); unmapped target columns are initialised fresh. CLI: `voltage=BANK_DC_VOLT,…`.
   */
  column_map: Record<string, string>;
  /**
   * Freeze schedule of a transfer: `<stage>:<steps>,…,<last stage>`, stages embedding, head,
   * encoder, embedding+head, all (e.g. `embedding:100,all`: only the embedding trains for the first
   * 100 steps, then everything). '' = no schedule. Undefined = the recommended transfer recipe.
   */
  freeze_schedule?: string;
  /** Layer-wise lr decay: head × 1, encoder layer l × d^(L−l), embedding × d^(L+1). 1 = off. */
  layer_lr_decay?: number;
  /** LoRA adapters of this rank on the attention and feed-forward projections (base weights frozen). */
  lora_rank?: number;
  /** LoRA scaling alpha (update = alpha / rank · B·A; loralib's default 1). */
  lora_alpha: number;
  // ESS degradations of the 2025 OpenESS code (probabilities, names as there)
  /** Probability of the temperature anomaly (a ramp ×1.1–1.2 on the temperature column at the end of a charge). */
  temperature_anomaly: number;
  /** Probability of the voltage-gap anomaly (|voltage-gap curve| added to the voltage-gap column over the window). */
  voltage_gap: number;
}

/**
 * Estimation settings a run recommends for its own scores: recorded in config.json (`estimation`)
 * and every checkpoint (`extra.estimation`); `anomaly-lab estimate` uses them unless
 * --window_sliding / --smoothing are given (a checkpoint without them keeps the original's
 * estimate.py defaults: stride 16, no smoothing).
 */
export interface EstimationDefaults {
  /** Window stride of the sliding-window estimation (divides the window length). */
  window_sliding: number;
  /** EWMA weight of the previous smoothed score (the reference `ewma`); 0 = raw scores. */
  smoothing: number;
}

/**
 * The recommended transfer recipe: what `--checkpoint … --column_map …` applies when the options
 * below are not given. Chosen on jecheon 2022-05-17 only (docs/experiments.md, "Transfer protocol").
 */
export const RECOMMENDED_TRANSFER: Required<Pick<TrainOptions, 'freeze_schedule' | 'layer_lr_decay'>> & {
  lora_rank: number | undefined;
  /**
   * The budget when --max_steps is not given. Round 3 (the onnx engine makes thousands of steps
   * cheap; three folds of 05-17, two seeds): transfer's mean validation F1 rose to 0.7040 at 2,000
   * steps and 0.7120 at its best (2,800); the smallest budget within 0.01 of the best is kept.
   */
  max_steps: number;
  /** How the run's scores are estimated by default (round 3, the transfer arm's best at its budget on 05-17). */
  estimation: EstimationDefaults;
} = {
  // Best mean validation F1 of the candidates (embedding-first 50 steps 0.6855, full fine-tuning
  // 0.6817, LoRA rank 8 0.5673, layer-wise decay 0.5 0.5506; scratch 0.5254): the fresh and
  // re-scaled embedding rows settle before the encoder moves.
  freeze_schedule: 'embedding:50,all',
  layer_lr_decay: 1,
  lora_rank: undefined,
  max_steps: 2000,
  // Stride 16 (denser overlap averaging) and EWMA 0.8: 0.7024 raw → 0.7040 at 2,000 steps (round 2's
  // EWMA 0.9, chosen at 800 steps, gives 0.6984: a longer-trained model's scores need less smoothing).
  estimation: { window_sliding: 16, smoothing: 0.8 },
};

/**
 * Estimation defaults of a run trained from scratch (or a transfer with a strategy of its own):
 * the scratch arm's best on the same selection day and budget (round 3: stride 16, EWMA 0.8 at 2,000
 * steps), so a default-vs-default comparison gives each its own best setting.
 */
export const SCRATCH_ESTIMATION: EstimationDefaults = { window_sliding: 16, smoothing: 0.8 };

/** Stages of a freeze schedule: the parts that train. */
export const FREEZE_STAGES: Record<string, readonly ModelPart[]> = {
  embedding: ['embedding'],
  head: ['head'],
  encoder: ['encoder'],
  'embedding+head': ['embedding', 'head'],
  all: MODEL_PARTS,
};

export interface FreezeStage {
  name: string;
  parts: readonly ModelPart[];
  /** First step after this stage (Infinity for the last). */
  until: number;
}

/** Parse `embedding:100,all` into stages; errors name the option and list the stages. */
export function parseFreezeSchedule(spec: string): FreezeStage[] {
  if (spec.trim() === '') return [];
  const stages: FreezeStage[] = [];
  const items = spec.split(',').map((x) => x.trim());
  let last = 0;
  items.forEach((item, i) => {
    const [name, steps, ...rest] = item.split(':');
    if (!(name in FREEZE_STAGES) || rest.length > 0) {
      throw new FieldError(
        'freeze_schedule',
        (f) =>
          `option ${f('freeze_schedule')}: unknown stage '${item}' (stages: ${Object.keys(FREEZE_STAGES).join(', ')}; e.g. embedding:100,all)`,
      );
    }
    const isLast = i === items.length - 1;
    if (steps === undefined) {
      if (!isLast)
        throw new FieldError(
          'freeze_schedule',
          (f) => `option ${f('freeze_schedule')}: stage '${name}' needs a step count (<stage>:<steps>) unless it is the last`,
        );
      stages.push({ name, parts: FREEZE_STAGES[name], until: Infinity });
      return;
    }
    const n = Number(steps);
    if (!Number.isInteger(n) || n <= 0)
      throw new FieldError('freeze_schedule', (f) => `option ${f('freeze_schedule')}: '${item}' needs a positive integer step count`);
    last += n;
    stages.push({ name, parts: FREEZE_STAGES[name], until: isLast ? Infinity : last });
  });
  return stages;
}

/** Parse `voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT` (or take an object as is). */
export function parseColumnMap(v: unknown): Record<string, string> {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v)) {
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x !== 'string' || x === '' || k === '')
        throw new FieldError('column_map', (f) => `option ${f('column_map')}: '${k}' must map to a column name, got ${JSON.stringify(x)}`);
      out[k] = x;
    }
    return out;
  }
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  const out: Record<string, string> = {};
  for (const raw of items) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      throw new FieldError(
        'column_map',
        (f) => `option ${f('column_map')}: '${item}' is not target=source (e.g. voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT)`,
      );
    const target = item.slice(0, eq).trim();
    if (target in out) throw new FieldError('column_map', (f) => `option ${f('column_map')}: target column '${target}' is mapped twice`);
    out[target] = item.slice(eq + 1).trim();
  }
  return out;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  lr: 1e-4,
  max_steps: 150000,
  summary_steps: 500,
  initial_iter: 0,
  batch_size: 16,
  grad_clip_norm: 1.0,
  weight_decay: 1e-4,
  micro_batch: 0,
  workers: 0,
  engine: 'auto',
  threads: 0,
  n_features: 512,
  patch_size: 4,
  d_embed: 512,
  n_layer: 6,
  n_head: 8,
  dropout: 0.1,
  diff_features: false,
  replacing_rate_max: 0.15,
  soft_replacing: 0.5,
  uniform_replacing: 0.15,
  peak_noising: 0.15,
  length_adjusting: 0.0,
  white_noising: 0.0,
  flip_replacing_interval: 'all',
  replacing_weight: 0.7,
  window_sliding: DEFAULT_WINDOW_SLIDING,
  seed: 0,
  train_parts: [],
  freeze: [],
  column_map: {},
  lora_alpha: 1,
  temperature_anomaly: 0,
  voltage_gap: 0,
};

/** Typed declarations of the options above (names, kinds, defaults, help), for any front end (the train CLI). */
export const TRAIN_OPTION_SPECS = defineOptions({
  lr: { kind: 'number', default: TRAIN_DEFAULTS.lr, help: 'peak learning rate (the seed fine-tunes with 1e-5)' },
  max_steps: { kind: 'int', default: TRAIN_DEFAULTS.max_steps, help: 'number of optimisation steps' },
  summary_steps: { kind: 'int', default: TRAIN_DEFAULTS.summary_steps, help: 'summary/checkpoint every N steps' },
  checkpoint: {
    kind: 'string',
    help: 'start from this checkpoint (a run directory = its final checkpoint, run/state/step_<i>, a checkpoint dir or a PyTorch .pt)',
  },
  initial_iter: { kind: 'int', default: TRAIN_DEFAULTS.initial_iter, help: 'first step (resume: the step of --checkpoint)' },
  batch_size: { kind: 'int', default: TRAIN_DEFAULTS.batch_size, help: 'windows per step' },
  grad_clip_norm: { kind: 'number', default: TRAIN_DEFAULTS.grad_clip_norm, help: 'global gradient-norm clipping' },
  weight_decay: { kind: 'number', default: TRAIN_DEFAULTS.weight_decay, help: 'AdamW decoupled weight decay' },
  micro_batch: {
    kind: 'int',
    default: TRAIN_DEFAULTS.micro_batch,
    help: 'gradient accumulation: windows per forward/backward pass (divides batch_size; 0 = whole batch); same update, less memory',
  },
  workers: {
    kind: 'int',
    default: TRAIN_DEFAULTS.workers,
    help: 'data-parallel worker threads, own backend each; gradients summed, one AdamW update (0 = one per core)',
  },
  engine: {
    kind: 'string',
    default: TRAIN_DEFAULTS.engine,
    choices: ENGINE_CHOICES,
    help: 'training engine: onnx (onnxruntime-node, forward+backward natively on every core) or tfjs (--workers); auto takes onnx where it loads',
  },
  threads: { kind: 'int', default: TRAIN_DEFAULTS.threads, help: 'onnxruntime threads of the onnx engine (0 = every core)' },
  n_features: { kind: 'int', default: TRAIN_DEFAULTS.n_features, help: 'tokens per window (original: window_size)' },
  patch_size: { kind: 'int', default: TRAIN_DEFAULTS.patch_size, help: 'points per token' },
  d_embed: { kind: 'int', default: TRAIN_DEFAULTS.d_embed, help: 'model width' },
  n_layer: { kind: 'int', default: TRAIN_DEFAULTS.n_layer, help: 'encoder layers' },
  n_head: { kind: 'int', default: TRAIN_DEFAULTS.n_head, help: 'attention heads' },
  dropout: { kind: 'number', default: TRAIN_DEFAULTS.dropout, help: 'dropout rate' },
  diff_features: {
    kind: 'boolean',
    default: TRAIN_DEFAULTS.diff_features,
    help: "also feed each column's scaled first difference to the model (not in the original; see docs/experiments.md)",
  },
  replacing_rate_max: { kind: 'number', default: TRAIN_DEFAULTS.replacing_rate_max, help: 'max degraded fraction of a window' },
  soft_replacing: { kind: 'number', default: TRAIN_DEFAULTS.soft_replacing, help: 'probability of soft replacement' },
  uniform_replacing: { kind: 'number', default: TRAIN_DEFAULTS.uniform_replacing, help: 'probability of uniform replacement' },
  peak_noising: { kind: 'number', default: TRAIN_DEFAULTS.peak_noising, help: 'probability of peak noise' },
  length_adjusting: { kind: 'number', default: TRAIN_DEFAULTS.length_adjusting, help: 'probability of length adjustment' },
  white_noising: { kind: 'number', default: TRAIN_DEFAULTS.white_noising, help: 'probability of white noise' },
  flip_replacing_interval: {
    kind: 'string',
    default: TRAIN_DEFAULTS.flip_replacing_interval,
    choices: FLIP_MODES,
    help: 'flips of the soft-replacement interval',
  },
  replacing_weight: { kind: 'number', default: TRAIN_DEFAULTS.replacing_weight, help: 'soft-replacement blend weight' },
  replacing_data: { kind: 'string', help: 'series used for soft replacement (default: the training data)' },
  window_sliding: { kind: 'int', default: TRAIN_DEFAULTS.window_sliding, help: 'window stride of test-set estimation' },
  seed: { kind: 'int', default: TRAIN_DEFAULTS.seed, help: 'random seed (batches, degradation, init, dropout)' },
  train_parts: { kind: 'list', help: `train only these parts (${MODEL_PARTS.join(',')}); others frozen` },
  freeze: { kind: 'list', help: `freeze these parts (${MODEL_PARTS.join(',')})` },
  column_map: {
    kind: 'string',
    help: 'column-aware transfer: target=source column pairs, e.g. voltage=BANK_DC_VOLT,current=BANK_DC_CURRENT (mapped columns keep their embedding weights)',
  },
  freeze_schedule: {
    kind: 'string',
    help: `transfer freeze schedule, e.g. embedding:100,all (stages ${Object.keys(FREEZE_STAGES).join(', ')}; '' none; default: the recommended transfer recipe)`,
  },
  layer_lr_decay: {
    kind: 'number',
    help: 'layer-wise lr decay d: head ×1, encoder layer l ×d^(L−l), embedding ×d^(L+1) (default: the recommended recipe; 1 = off)',
  },
  lora_rank: {
    kind: 'int',
    help: 'LoRA adapters of this rank on the attention and feed-forward projections, merged into plain weights in every checkpoint',
  },
  lora_alpha: { kind: 'number', default: TRAIN_DEFAULTS.lora_alpha, help: 'LoRA scaling: update = alpha/rank · B·A' },
  temperature_anomaly: {
    kind: 'number',
    default: TRAIN_DEFAULTS.temperature_anomaly,
    help: 'probability of the OpenESS temperature anomaly (needs MAX_CELL_TEMPERATURE_OF_BANK and BANK_SOC)',
  },
  voltage_gap: {
    kind: 'number',
    default: TRAIN_DEFAULTS.voltage_gap,
    help: 'probability of the OpenESS voltage-gap anomaly (needs VOLTAGE_GAP; curve from VOLTAGE_GAP_CURVE when the training file has it)',
  },
});

const positiveInt = [
  'max_steps',
  'summary_steps',
  'batch_size',
  'n_features',
  'patch_size',
  'd_embed',
  'n_layer',
  'n_head',
  'window_sliding',
] as const;
const probabilities = [
  'dropout',
  'replacing_rate_max',
  'soft_replacing',
  'uniform_replacing',
  'peak_noising',
  'length_adjusting',
  'white_noising',
  'replacing_weight',
  'temperature_anomaly',
  'voltage_gap',
] as const;
/** Options without a default (absent = not set / the recommended recipe decides). */
const OPTIONAL_KEYS = ['checkpoint', 'replacing_data', 'freeze_schedule', 'layer_lr_decay', 'lora_rank'];

function checkParts(name: string, parts: unknown): ModelPart[] {
  if (parts === undefined) return [];
  if (!Array.isArray(parts)) throw new FieldError(name, (f) => `option ${f(name)} expects a list of ${MODEL_PARTS.join(',')}`);
  for (const p of parts) {
    if (!(MODEL_PARTS as readonly string[]).includes(p)) {
      throw new FieldError(name, (f) => `option ${f(name)}: unknown model part '${String(p)}' (choose from ${MODEL_PARTS.join(', ')})`);
    }
  }
  return parts as ModelPart[];
}

function toBoolean(name: string, v: unknown): boolean {
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  throw new FieldError(name, (f) => `option ${f(name)} must be true or false, got ${JSON.stringify(v)}`);
}

/**
 * Fill defaults and validate. Errors name the option. Unknown keys are rejected so a typo in a
 * notebook (`batchSize`) does not silently train with the default.
 */
/**
 * What `resolveTrainOptions` accepts: typed options, or options as parsed from text against
 * TRAIN_OPTION_SPECS (lists of part names not yet checked; checked here).
 */
export type TrainOptionsInput = Partial<TrainOptions> | Partial<ParsedOptions<typeof TRAIN_OPTION_SPECS>>;

export function resolveTrainOptions(partial: TrainOptionsInput = {}): TrainOptions {
  for (const key of Object.keys(partial)) {
    if (!(key in TRAIN_DEFAULTS) && !OPTIONAL_KEYS.includes(key)) {
      throw new Error(`unknown training option '${key}' (options use the original snake_case names, e.g. batch_size)`);
    }
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const o: TrainOptions = { ...TRAIN_DEFAULTS, ...defined, train_parts: [], freeze: [], column_map: parseColumnMap(partial.column_map) };
  if (o.freeze_schedule !== undefined) {
    if (typeof o.freeze_schedule !== 'string')
      throw new FieldError('freeze_schedule', (f) => `option ${f('freeze_schedule')} expects text like embedding:100,all`);
    parseFreezeSchedule(o.freeze_schedule);
  }
  if (o.layer_lr_decay !== undefined && !(o.layer_lr_decay > 0 && o.layer_lr_decay <= 1)) {
    throw new FieldError('layer_lr_decay', (f) => `option ${f('layer_lr_decay')} must be in (0, 1], got ${o.layer_lr_decay}`);
  }
  if (o.lora_rank !== undefined && (!Number.isInteger(o.lora_rank) || o.lora_rank < 1)) {
    throw new FieldError(
      'lora_rank',
      (f) => `option ${f('lora_rank')} must be a positive integer (at most the model width), got ${o.lora_rank}`,
    );
  }
  if (!(o.lora_alpha > 0) || !Number.isFinite(o.lora_alpha))
    throw new FieldError('lora_alpha', (f) => `option ${f('lora_alpha')} must be a positive number, got ${o.lora_alpha}`);
  o.train_parts = checkParts('train_parts', partial.train_parts);
  o.freeze = checkParts('freeze', partial.freeze);
  o.diff_features = toBoolean('diff_features', o.diff_features);
  for (const k of positiveInt) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw new FieldError(k, (f) => `option ${f(k)} must be a positive integer, got ${o[k]}`);
  }
  if (!Number.isInteger(o.initial_iter) || o.initial_iter < 0)
    throw new FieldError('initial_iter', (f) => `option ${f('initial_iter')} must be a non-negative integer, got ${o.initial_iter}`);
  if (!isEngineChoice(o.engine))
    throw new FieldError('engine', (f) => `option ${f('engine')} must be ${ENGINE_CHOICES_TEXT}, got ${JSON.stringify(o.engine)}`);
  if (!Number.isInteger(o.threads) || o.threads < 0)
    throw new FieldError('threads', (f) => `option ${f('threads')} must be a non-negative integer (0 = every core), got ${o.threads}`);
  if (!Number.isInteger(o.workers) || o.workers < 0)
    throw new FieldError('workers', (f) => `option ${f('workers')} must be a non-negative integer (0 = one per core), got ${o.workers}`);
  if (!Number.isInteger(o.micro_batch) || o.micro_batch < 0)
    throw new FieldError('micro_batch', (f) => `option ${f('micro_batch')} must be a non-negative integer, got ${o.micro_batch}`);
  if (o.micro_batch > 0 && o.batch_size % o.micro_batch !== 0) {
    throw new FieldError(
      ['micro_batch', 'batch_size'],
      (f) =>
        `option ${f('micro_batch')} (${o.micro_batch}) must divide ${f('batch_size')} (${o.batch_size}); 0 processes the whole batch at once`,
    );
  }
  if (o.initial_iter > o.max_steps)
    throw new FieldError(
      ['initial_iter', 'max_steps'],
      (f) => `option ${f('initial_iter')} (${o.initial_iter}) is beyond ${f('max_steps')} (${o.max_steps})`,
    );
  for (const k of probabilities) {
    if (!Number.isFinite(o[k]) || o[k] < 0 || o[k] > 1) throw new FieldError(k, (f) => `option ${f(k)} must be in [0, 1], got ${o[k]}`);
  }
  if (o.soft_replacing + o.uniform_replacing + o.peak_noising + o.length_adjusting + o.temperature_anomaly + o.voltage_gap > 1 + 1e-9) {
    throw new FieldError(
      ['soft_replacing', 'uniform_replacing', 'peak_noising', 'length_adjusting', 'temperature_anomaly', 'voltage_gap'],
      (f) =>
        `options ${f('soft_replacing')} + ${f('uniform_replacing')} + ${f('peak_noising')} + ${f('length_adjusting')} + ${f('temperature_anomaly')} + ${f('voltage_gap')} must not exceed 1`,
    );
  }
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new FieldError('lr', (f) => `option ${f('lr')} must be a positive number, got ${o.lr}`);
  if (!(o.grad_clip_norm > 0))
    throw new FieldError('grad_clip_norm', (f) => `option ${f('grad_clip_norm')} must be positive, got ${o.grad_clip_norm}`);
  if (!(o.weight_decay >= 0))
    throw new FieldError('weight_decay', (f) => `option ${f('weight_decay')} must be >= 0, got ${o.weight_decay}`);
  if (!(FLIP_MODES as readonly string[]).includes(o.flip_replacing_interval)) {
    throw new FieldError(
      'flip_replacing_interval',
      (f) => `option ${f('flip_replacing_interval')} must be one of ${FLIP_MODES.join('|')}, got '${o.flip_replacing_interval}'`,
    );
  }
  if (o.d_embed % o.n_head !== 0)
    throw new FieldError(
      ['d_embed', 'n_head'],
      (f) => `option ${f('d_embed')} (${o.d_embed}) must be divisible by ${f('n_head')} (${o.n_head})`,
    );
  const window = o.n_features * o.patch_size;
  // With a checkpoint the window comes from it; the training loop checks the stride then.
  if (!o.checkpoint) checkWindowSliding(o.window_sliding, window, 'window_sliding', 'n_features × patch_size');
  const overlap = o.train_parts.filter((p) => o.freeze.includes(p));
  if (overlap.length > 0)
    throw new FieldError(['train_parts', 'freeze'], (f) => `options ${f('train_parts')} and ${f('freeze')} both name ${overlap.join(',')}`);
  if (o.train_parts.length > 0 && o.freeze.length > 0) {
    throw new FieldError(['train_parts', 'freeze'], (f) => `give either ${f('train_parts')} or ${f('freeze')}, not both`);
  }
  return o;
}

/** Window length in points: n_features tokens × patch_size points. */
export function windowLength(o: Pick<TrainOptions, 'n_features' | 'patch_size'>): number {
  return o.n_features * o.patch_size;
}
