/**
 * Library errors name fields as the library spells them; the CLI renders them as the flags that
 * set them (kernel-lib/src/cli/args.ts: flagName, cliMessage).
 */
import { FieldError } from 'anomaly-lab/core';
import { resolveTrainOptions } from 'anomaly-lab/training';
// direct import (not the package): the CLI's own modules are its bin's internals, not part of the library API
import { cliMessage, flagName } from '../../kernel-lib/src/cli/args';
import { thrown } from '../helpers/thrown';

describe('FieldError', () => {
  test('a training option error names the fields for notebooks and the flags for the CLI', () => {
    const e = thrown(() => resolveTrainOptions({ batch_size: 4, micro_batch: 3 }));
    expect(e).toBeInstanceOf(FieldError);
    expect((e as FieldError).fields).toEqual(['micro_batch', 'batch_size']);
    expect((e as Error).message).toBe("option 'micro_batch' (3) must divide 'batch_size' (4); 0 processes the whole batch at once");
    expect(cliMessage(e)).toBe('option --micro_batch (3) must divide --batch_size (4); 0 processes the whole batch at once');
  });

  test('camelCase API fields map to their snake_case flags', () => {
    expect(flagName('testLabels')).toBe('--test_label');
    expect(flagName('windowSliding')).toBe('--window_sliding');
    expect(flagName('runDir')).toBe('--run');
    expect(flagName('max_gap')).toBe('--max_gap');
    const e = new FieldError(['test', 'testLabels'], (f) => `${f('test')} needs ${f('testLabels')}`);
    expect(e.message).toBe("'test' needs 'testLabels'");
    expect(cliMessage(e)).toBe('--test needs --test_label');
  });

  test('other errors pass through unchanged', () => {
    expect(cliMessage(new Error('x.npy: bad header'))).toBe('x.npy: bad header');
    expect(cliMessage('text')).toBe('text');
  });
});
