/**
 * The power merge gap has one name — `max_gap_samples` (flag, config, results.json; the seed's
 * `merge_intervals(intervals, max_gap_samples, sample_time)`) and `maxGapSamples` (library
 * options) — one default and one check. Its earlier names are still read: the `--max_gap` flag
 * (recorded in older manifests' commands that `reproduce` replays) and the `max_gap` config key.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defineOptions, FieldError, formatHelp, mergeIntervals, parseArgs } from 'anomaly-lab/core';
import { checkPowerDetectionConfig, POWER_DEFAULTS } from 'anomaly-lab/power';
// direct import (not the package): the CLI's own modules are its bin's internals, not part of the library API
import { cliMessage } from '../../kernel-lib/src/cli/args';

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'merge-gap-')), 'out');
afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

test('one default: the seed dashboard’s 1500 samples', () => {
  expect(POWER_DEFAULTS.maxGapSamples).toBe(1500);
  expect(Object.keys(POWER_DEFAULTS)).not.toContain('maxGap');
});

test('one check, naming the field as the caller spelled it; the CLI names the flag', () => {
  const base = { data: 'x.csv', detector: 'd.h5', out };
  const e = thrown(() => checkPowerDetectionConfig({ ...base, max_gap_samples: -1 }));
  expect(e).toBeInstanceOf(FieldError);
  expect(e.message).toBe("'max_gap_samples' must be ≥ 0 samples, got -1");
  expect(cliMessage(e)).toBe('--max_gap_samples must be ≥ 0 samples, got -1');
  // the earlier config key is still read, and an error about it names it
  expect(thrown(() => checkPowerDetectionConfig({ ...base, max_gap: -2 })).message).toBe("'max_gap' must be ≥ 0 samples, got -2");
  expect(() => checkPowerDetectionConfig({ ...base, max_gap: 10 })).not.toThrow();
  // the new key wins over the old one
  expect(() => checkPowerDetectionConfig({ ...base, max_gap_samples: 5, max_gap: -2 })).not.toThrow();
  expect(thrown(() => mergeIntervals([[0, 1]], -3, 1)).message).toBe("'max_gap_samples' must be ≥ 0 samples, got -3");
});

describe('an option renamed with aliases keeps its earlier flag', () => {
  const specs = defineOptions({
    max_gap_samples: { kind: 'number', default: 1500, aliases: ['max_gap'], help: 'merge gap' },
  });

  test.each([
    [['--max_gap_samples', '250'], 250],
    [['--max_gap', '250'], 250],
    [['--max-gap=250'], 250],
    [[], 1500],
  ])('%j → max_gap_samples %d', (argv, value) => {
    const { options } = parseArgs(argv, specs);
    expect(options).toEqual({ max_gap_samples: value });
  });

  test('help lists the earlier name; an unknown flag still fails', () => {
    expect(formatHelp('x', 'y', specs)).toContain('(also --max_gap)');
    expect(() => parseArgs(['--max_gaps', '1'], specs)).toThrow(/unknown option --max_gaps/);
  });
});
