/**
 * The memory budget of a training run (training/budget.ts): a run that cannot fit is refused before
 * any tensor is built, in one line that names the shape options as library fields (a notebook user
 * is told about 'd_embed', not --d_embed); the CLI renders the same error with its flags.
 */
import { FieldError } from 'anomaly-lab/core';
import { checkTrainingMemory, estimateTrainingBytes, resolveTrainOptions } from 'anomaly-lab/training';

describe('training memory budget', () => {
  const small = resolveTrainOptions({ d_embed: 64, n_layer: 2, n_features: 64, batch_size: 16 });
  const huge = resolveTrainOptions({ d_embed: 100000, n_layer: 6, n_features: 512, batch_size: 16 });

  test('grows with the model and the batch', () => {
    const a = estimateTrainingBytes(small, 5);
    const b = estimateTrainingBytes({ ...small, batch_size: 32 }, 5);
    const c = estimateTrainingBytes({ ...small, d_embed: 128 }, 5);
    expect(a.bytes).toBeGreaterThan(4 * a.parameters);
    expect(b.bytes).toBeGreaterThan(a.bytes);
    expect(c.parameters).toBeGreaterThan(a.parameters);
  });

  test('a run that fits passes; one that does not names its fields, and the CLI spelling is its flags', () => {
    expect(() => checkTrainingMemory(small, 5, 64 * 1024 ** 3)).not.toThrow();
    let err: unknown;
    try {
      checkTrainingMemory(huge, 5, 64 * 1024 ** 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FieldError);
    const fe = err as FieldError;
    expect(fe.fields).toEqual(['d_embed', 'n_layer', 'n_features', 'batch_size', 'micro_batch']);
    expect(fe.message).toMatch(/^options 'd_embed' 100000, 'n_layer' 6, 'n_features' 512, 'batch_size' 16: training needs at least/);
    expect(fe.message).not.toContain('--');
    expect(fe.message.split('\n')).toHaveLength(1);
    expect(fe.messageWith((f) => `--${f}`)).toMatch(
      /^options --d_embed 100000, .*more than this machine's 64 GB; use a smaller model or batch \(--micro_batch\)$/,
    );
  });
});
