/**
 * The engine choices have one home (kernel-lib/src/backend-choices.ts): the onnx area's API, the
 * CLI's inference `--engine`, the training option spec and check, and the power detection config
 * check all read the same array, and a bad engine is refused in one line naming the option.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FieldError } from 'anomaly-lab/core';
import { ENGINE_CHOICES, resolveEngine } from 'anomaly-lab/onnx';
import { checkPowerDetectionConfig } from 'anomaly-lab/power';
import { TRAIN_OPTION_SPECS, resolveTrainOptions } from 'anomaly-lab/training';
// direct imports (not the package): the declaring module, and the CLI's internals (its bin's, not the library API)
import * as choices from '../../kernel-lib/src/backend-choices';
import { ENGINE_OPTION, cliMessage } from '../../kernel-lib/src/cli/args';
import { thrown } from '../helpers/thrown';

test('every option spec and API reads the one declaration', () => {
  expect(choices.ENGINE_CHOICES).toEqual(['auto', 'onnx', 'tfjs']);
  expect(choices.ENGINE_CHOICES).toEqual(['auto', ...choices.ENGINE_NAMES]);
  expect(ENGINE_CHOICES).toBe(choices.ENGINE_CHOICES);
  expect(ENGINE_OPTION.choices).toBe(choices.ENGINE_CHOICES);
  expect(TRAIN_OPTION_SPECS.engine.choices).toBe(choices.ENGINE_CHOICES);
  expect(choices.ENGINE_CHOICES_TEXT).toBe('auto, onnx or tfjs');
  expect(choices.ENGINE_CHOICES.every((c) => choices.isEngineChoice(c))).toBe(true);
  expect(['gpu', '', 'AUTO', undefined, 1].some((c) => choices.isEngineChoice(c))).toBe(false);
  expect(choices.isEngineName('auto')).toBe(false);
});

test('a bad engine is refused in one line naming the option, before anything is read', () => {
  const train = thrown(() => resolveTrainOptions({ engine: 'gpu' as 'onnx' }));
  expect(train).toBeInstanceOf(FieldError);
  expect(cliMessage(train)).toBe('option --engine must be auto, onnx or tfjs, got "gpu"');

  // a power detection config (JSON, plain JS): checked with the other fields, not when the model runs
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'engine-choices-')), 'out');
  try {
    const power = thrown(() => checkPowerDetectionConfig({ data: 'x.csv', detector: 'd.h5', out, engine: 'gpu' as 'onnx' }));
    expect(power).toBeInstanceOf(FieldError);
    expect((power as FieldError).fields).toEqual(['engine']);
    expect(power.message).toBe(`option 'engine' must be auto, onnx or tfjs, got "gpu"`);
    expect(cliMessage(power)).toBe('option --engine must be auto, onnx or tfjs, got "gpu"');
    expect(() => checkPowerDetectionConfig({ data: 'x.csv', detector: 'd.h5', out, engine: 'tfjs' })).not.toThrow();
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }

  expect(thrown(() => resolveEngine({ engine: 'gpu', log: false })).message).toBe(
    "engine: unknown engine 'gpu' (choose one of auto, onnx, tfjs)",
  );
});
