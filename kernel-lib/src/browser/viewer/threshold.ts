/**
 * The threshold rule, in one place: its modes, their parameters and the bundle schema of those,
 * the conversions between them, how a rule sets the threshold, how the viewer's control shows and
 * reads each mode, and how a rule is described in text (markdown export, HTML report, notebook
 * summary). Every place that writes the rate ↔ percentile ↔ value switch out uses this module:
 * the viewer's DetectionSettings and the bundle's ThresholdSpec extend ThresholdRule, the schema's
 * threshold block is THRESHOLD_MODES + THRESHOLD_PARAM_SCHEMA + each mode's `required`, and the
 * widget's mode control lists THRESHOLD_MODES with each mode's control fields. A new mode is an
 * entry in THRESHOLD_MODES and THRESHOLD_MODE_INFO (plus a parameter here when it needs a new one).
 *
 * rate r and percentile p are the same rule seen two ways: threshold = quantile(scores, 1 − r)
 * = percentile(scores, p) with p = 100·(1 − r); a score is anomalous when strictly above it.
 * Mode 'value' is a fixed threshold; its anomaly rate is known only after thresholding.
 */
import { formatSignificant, rateText } from '../format';

export const THRESHOLD_MODES = ['rate', 'percentile', 'value'] as const;
export type ThresholdMode = (typeof THRESHOLD_MODES)[number];

/** The parameters of a rule (the threshold part of the viewer's DetectionSettings). */
export interface ThresholdRule {
  mode: ThresholdMode;
  /** anomaly rate in [0, 1] (mode 'rate'). */
  rate: number;
  /** percentile in [0, 100] (mode 'percentile'). */
  percentile: number;
  /** fixed threshold (mode 'value'); NaN when none is known. */
  value: number;
}

export const rateFromPercentile = (percentile: number): number => 1 - percentile / 100;
export const percentileFromRate = (rate: number): number => 100 * (1 - rate);

export function isThresholdMode(x: unknown): x is ThresholdMode {
  return typeof x === 'string' && (THRESHOLD_MODES as readonly string[]).includes(x);
}

/**
 * JSON Schema of each rule parameter in a bundle's threshold block (schema.ts spreads it in).
 * rate and percentile are open intervals there: a producer's rule flags some scores and not all.
 */
export const THRESHOLD_PARAM_SCHEMA: Record<Exclude<keyof ThresholdRule, 'mode'>, object> = {
  rate: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
  percentile: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 100 },
  value: { type: 'number' },
};

/** A typed control value read as a rule patch, or the one-line reason it is refused. */
export type ControlReading = { patch: Partial<ThresholdRule> } | { error: string };

export interface ThresholdModeInfo {
  /** the option text of the viewer's mode control. */
  controlLabel: string;
  /** the slider's range in control units; absent: no natural range (typed only). */
  slider?: { min: number; max: number; step: number };
  /** the number the control shows for a rule in this mode. */
  controlValue(rule: ThresholdRule): number;
  /** a number typed into the control (finite), as a rule in this mode. */
  fromControl(v: number): ControlReading;
  /** the anomaly rate the rule asks for; NaN when only thresholding tells (mode 'value'). */
  rate(rule: ThresholdRule): number;
  /**
   * the threshold on the (smoothed) scores: `quantileAtRate(r)` is their quantile at 1 − r (numpy's
   * linear quantile, the kernel's function, cached by the detector); a rule of another kind may read
   * `scores` itself; a fixed value ignores both.
   */
  threshold(rule: ThresholdRule, quantileAtRate: (rate: number) => number, scores: Float32Array): number;
  /** parameters a bundle must give in this mode (the schema requires them). */
  required?: Array<Exclude<keyof ThresholdRule, 'mode'>>;
  /** the parameters a bundle's threshold block records for this mode (the value travels separately). */
  params(rule: ThresholdRule): { rate?: number; percentile?: number };
  /** why the rule's parameters are unusable, naming the control; undefined when they are fine. */
  check(rule: ThresholdRule): string | undefined;
  /** how the rule reads in text: a label and its value ("anomaly rate", "5.00%"). */
  describe(rule: ThresholdRule, fmt: DescribeFormat, resultRate: number | undefined): { label: string; text: string };
}

/**
 * How a description writes the rule's numbers (a percentile, a fixed value). Rates are not among
 * them: a rate reads as a percentage wherever a user sees one (format.ts `rateText`), as the rate control shows it.
 */
export interface DescribeFormat {
  /** numbers of the rule (default String). */
  number: (x: number) => string;
}

const inOpenPercent = (v: number): boolean => v > 0 && v < 100;
const checkRate = (rate: number): string | undefined =>
  rate >= 0 && rate <= 1 ? undefined : `anomaly rate must be in [0, 1], got ${rate}`;

export const THRESHOLD_MODE_INFO: Record<ThresholdMode, ThresholdModeInfo> = {
  rate: {
    controlLabel: 'anomaly rate (%)',
    slider: { min: 0.1, max: 30, step: 0.1 },
    controlValue: (r) => Number(formatSignificant(100 * r.rate, 6)),
    fromControl: (v) =>
      inOpenPercent(v) ? { patch: { mode: 'rate', rate: v / 100 } } : { error: `anomaly rate: ${v}% is outside (0, 100)` },
    rate: (r) => r.rate,
    threshold: (r, q) => q(r.rate),
    params: (r) => ({ rate: r.rate }),
    check: (r) => checkRate(r.rate),
    describe: (r) => ({ label: 'anomaly rate', text: rateText(r.rate) }),
  },
  percentile: {
    controlLabel: 'percentile',
    slider: { min: 50, max: 99.9, step: 0.1 },
    controlValue: (r) => r.percentile,
    fromControl: (v) =>
      inOpenPercent(v) ? { patch: { mode: 'percentile', percentile: v } } : { error: `percentile: ${v} is outside (0, 100)` },
    rate: (r) => rateFromPercentile(r.percentile),
    threshold: (r, q) => q(rateFromPercentile(r.percentile)),
    params: (r) => ({ percentile: r.percentile }),
    check: (r) => checkRate(rateFromPercentile(r.percentile)),
    describe: (r, fmt) => ({ label: 'threshold percentile', text: fmt.number(r.percentile) }),
  },
  value: {
    controlLabel: 'fixed value',
    controlValue: (r) => r.value,
    // any finite number is a threshold (scores may be negative); the rate follows from it
    fromControl: (v) => ({ patch: { mode: 'value', value: v } }),
    rate: () => NaN,
    // the fixed value as given (the power CLI's --threshold: anomalous = mse > threshold, no quantile)
    threshold: (r) => r.value,
    // a fixed threshold is meaningless without its value
    required: ['value'],
    params: () => ({}),
    check: (r) => (Number.isFinite(r.value) ? undefined : `threshold value must be a finite number, got ${r.value}`),
    describe: (r, fmt, resultRate) => ({
      label: 'fixed threshold',
      text: `${fmt.number(r.value)}${resultRate !== undefined && Number.isFinite(resultRate) ? ` (anomaly rate ${rateText(resultRate)})` : ''}`,
    }),
  },
};

/** The anomaly rate a rule asks for (NaN for a fixed value). */
export function ruleRate(rule: ThresholdRule): number {
  return THRESHOLD_MODE_INFO[rule.mode].rate(rule);
}

/**
 * A rule's label and value in text, e.g. {label: 'fixed threshold', text: '0.02 (anomaly rate 1.25%)'}.
 * `resultRate` is the rate thresholding produced (shown for a fixed value).
 */
export function describeThreshold(
  rule: ThresholdRule,
  opts: { resultRate?: number; format?: Partial<DescribeFormat> } = {},
): { label: string; text: string } {
  const fmt: DescribeFormat = { number: opts.format?.number ?? String };
  return THRESHOLD_MODE_INFO[rule.mode].describe(rule, fmt, opts.resultRate);
}

/** The rule as one phrase, e.g. 'threshold percentile 95' (tables, summaries). */
export function thresholdPhrase(rule: ThresholdRule, opts: { resultRate?: number; format?: Partial<DescribeFormat> } = {}): string {
  const d = describeThreshold(rule, opts);
  return `${d.label} ${d.text}`;
}

/**
 * Switch a rule to another mode keeping the same threshold: a fixed value starts at the threshold
 * now in effect; leaving a fixed value keeps the share of scores it flags (`current`: the last
 * thresholding's threshold and rate, when there was one).
 */
export function switchThresholdMode(
  rule: ThresholdRule,
  to: ThresholdMode,
  current: { threshold?: number; rate?: number } = {},
): Partial<ThresholdRule> {
  const rate = rule.mode === 'value' ? (current.rate ?? rule.rate) : ruleRate(rule);
  switch (to) {
    case 'value':
      return { mode: 'value', value: current.threshold ?? rule.value };
    case 'rate':
      return { mode: 'rate', rate };
    case 'percentile':
      return { mode: 'percentile', percentile: rule.mode === 'percentile' ? rule.percentile : percentileFromRate(rate) };
  }
}

/**
 * A rule from a partial threshold block (a bundle's, a builder's input): the mode given or
 * inferred (a percentile alone means mode 'percentile'), rate and percentile each filled from the
 * other, else from `defaults`.
 */
export function completeThresholdRule(
  t: { mode?: ThresholdMode; rate?: number; percentile?: number; value?: number } | undefined,
  defaults: { rate: number; percentile?: number },
): ThresholdRule {
  const mode: ThresholdMode = t?.mode ?? (t?.percentile !== undefined && t.rate === undefined ? 'percentile' : 'rate');
  const rate = t?.rate ?? (t?.percentile !== undefined ? rateFromPercentile(t.percentile) : defaults.rate);
  const percentile =
    t?.percentile ?? (t?.rate !== undefined || defaults.percentile === undefined ? percentileFromRate(rate) : defaults.percentile);
  const value = typeof t?.value === 'number' && Number.isFinite(t.value) ? t.value : NaN;
  return { mode, rate, percentile, value };
}
