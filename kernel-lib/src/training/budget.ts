/**
 * Memory budget of a training run, checked before the model is built: `--d_embed 1000000` must
 * end in one line naming the options, not in "Invalid typed array length" from deep inside tfjs
 * or in an out-of-memory kill. The estimate counts what training certainly holds — weights,
 * gradients and the two AdamW moments (4 × parameters × 4 bytes) — plus the activations of one
 * forward/backward pass (per layer: token states, feed-forward hidden states and attention
 * maps of the batch). It is a lower bound; the limit is the machine's total memory.
 */
import * as os from 'os';
import { parameterSpecs } from '../anomalybert/model';
import { formatSignificant } from '../browser/format';
import { FieldError } from '../browser/errors';
import type { TrainOptions } from './options';

/** Bytes a training run of this shape needs at least (float32). */
export function estimateTrainingBytes(
  o: Pick<TrainOptions, 'n_features' | 'patch_size' | 'd_embed' | 'n_layer' | 'n_head' | 'batch_size' | 'micro_batch' | 'diff_features'>,
  columns: number,
): { parameters: number; bytes: number } {
  const config = {
    inputDim: columns,
    outputDim: 1,
    patchSize: o.patch_size,
    nTokens: o.n_features,
    dEmbed: o.d_embed,
    nLayer: o.n_layer,
    nHead: o.n_head,
    dropout: 0,
  };
  // parameterSpecs only lists shapes; nothing is allocated.
  let parameters = 0;
  for (const s of parameterSpecs(o.diff_features ? { ...config, diffScales: new Array<number>(columns).fill(1) } : config))
    parameters += s.torchShape.reduce((a, b) => a * b, 1);
  const n = o.micro_batch > 0 ? o.micro_batch : o.batch_size;
  const perLayer = n * o.n_features * (o.d_embed * 6 + 4 * o.d_embed) + n * o.n_head * o.n_features * o.n_features * 2;
  const activations = o.n_layer * perLayer;
  return { parameters, bytes: 4 * (4 * parameters + activations) };
}

const GB = 1024 ** 3;

/**
 * Throw one line naming the shape options when the run cannot fit in `limitBytes` (default: the
 * machine's total memory).
 */
export function checkTrainingMemory(o: Parameters<typeof estimateTrainingBytes>[0], columns: number, limitBytes = os.totalmem()): void {
  const { parameters, bytes } = estimateTrainingBytes(o, columns);
  if (bytes > limitBytes || !Number.isFinite(bytes)) {
    // Fields, not flags: a notebook user is told about 'd_embed', the CLI prints --d_embed.
    throw new FieldError(
      ['d_embed', 'n_layer', 'n_features', 'batch_size', 'micro_batch'],
      (f) =>
        `options ${f('d_embed')} ${o.d_embed}, ${f('n_layer')} ${o.n_layer}, ${f('n_features')} ${o.n_features}, ${f('batch_size')} ${o.batch_size}: ` +
        `training needs at least ${formatSignificant(bytes / GB, 3)} GB (${parameters.toExponential(2)} parameters + activations), ` +
        `more than this machine's ${formatSignificant(limitBytes / GB, 3)} GB; use a smaller model or batch (${f('micro_batch')})`,
    );
  }
}
