/**
 * The power merge gap has one name — `max_gap_samples` (flag, config, results.json; the seed's
 * `merge_intervals(intervals, max_gap_samples, sample_time)`) and `maxGapSamples` (library
 * options, viewer bundles) — one default and one check. Its earlier names are still read: the
 * `--max_gap` flag (recorded in older manifests' commands that `reproduce` replays), the `max_gap`
 * config key and the viewer bundles' `mergeGapSamples`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BundleDetector,
  buildViewerBundle,
  decodeViewerBundle,
  defineOptions,
  FieldError,
  formatHelp,
  initialDetectionSettings,
  mergeIntervals,
  parseArgs,
  thresholdMaxGapSamples,
  validateViewerBundle,
  viewerBundleToJSON,
  type ViewerBundle,
} from 'anomaly-lab/core';
import { checkPowerDetectionConfig, POWER_DEFAULTS } from 'anomaly-lab/power';
// direct import (not the package): the CLI's own modules are its bin's internals, not part of the library API
import { cliMessage } from '../../kernel-lib/src/cli/args';
import { thrown } from '../helpers/thrown';

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'merge-gap-')), 'out');
afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

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

describe('viewer bundles: written as maxGapSamples, the earlier mergeGapSamples still read', () => {
  const scores = Float32Array.from({ length: 40 }, (_, i) => (i % 10 === 0 || i % 10 === 3 ? 0.9 : 0.1));
  const written = (threshold: ViewerBundle['threshold']): ViewerBundle =>
    buildViewerBundle({ title: 'gap', axis: { unit: 'index' }, scores: { values: scores }, threshold });

  test('a new bundle carries maxGapSamples only', () => {
    const b = written({ mode: 'value', value: 0.5, pointAdjust: false, maxGapSamples: 3 });
    expect(b.threshold).toEqual({ mode: 'value', value: 0.5, pointAdjust: false, maxGapSamples: 3 });
  });

  test('a bundle written before the rename (mergeGapSamples) validates and detects with its gap', () => {
    const fresh = written({ mode: 'value', value: 0.5, pointAdjust: false, maxGapSamples: 3 });
    const old = JSON.parse(viewerBundleToJSON(fresh)) as ViewerBundle;
    old.threshold = { mode: 'value', value: 0.5, pointAdjust: false, mergeGapSamples: 3 };
    expect(validateViewerBundle(old)).toEqual({ valid: true, errors: [] });
    const run = (b: ViewerBundle) => {
      const d = decodeViewerBundle(b);
      return new BundleDetector(d).run(initialDetectionSettings(d));
    };
    expect(run(old).settings.maxGapSamples).toBe(3);
    // flags at 0, 3, 10, 13, …: a gap of 2 samples between 0 and 3 merges with 3 allowed, not with 0
    expect(run(old).intervals.map((r) => [r.startIndex, r.endIndex])).toEqual(run(fresh).intervals.map((r) => [r.startIndex, r.endIndex]));
    expect(run(old).intervals).toHaveLength(4);
    expect(thresholdMaxGapSamples(old.threshold)).toBe(3);
  });

  test('a threshold block without any merge gap is refused, naming /threshold', () => {
    const b = JSON.parse(viewerBundleToJSON(written({ mode: 'rate', rate: 0.1, pointAdjust: true, maxGapSamples: 0 }))) as ViewerBundle;
    delete (b.threshold as Partial<NonNullable<ViewerBundle['threshold']>>).maxGapSamples;
    const check = validateViewerBundle(b);
    expect(check.valid).toBe(false);
    expect(check.errors.join('; ')).toMatch(/^\/threshold: must have required property 'maxGapSamples'/);
  });
});
