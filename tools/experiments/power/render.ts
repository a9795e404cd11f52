/**
 * docs/power-experiment.md from a power experiment's result (the library's
 * `power.runPowerExperiment`): detector and classifier trained here on generated faults, scored on
 * unseen recordings.
 */
import { formatPercent, markdownTable, mdText } from 'anomaly-lab/core';
import { FAULT_TYPES, type PowerExperimentResult } from 'anomaly-lab/power';

/** Markdown summary of an experiment (docs/power-experiment.md). */
export function powerExperimentMarkdown(
  res: PowerExperimentResult,
  opts: { title?: string; command?: string; backend?: string } = {},
): string {
  const pct = (v: number): string => formatPercent(v, 1);
  const lines = [`# ${mdText(opts.title ?? 'Power-system pipeline on generated faults')}`, ''];
  if (opts.command) lines.push(`Reproduce: \`${opts.command}\``, '');
  lines.push(
    `- detector: LSTM autoencoder units [${res.detector.config.units}] ${res.detector.config.bidirectional ? 'bidirectional' : 'unidirectional'}, sequence length ${res.detector.config.sequenceLength}; ` +
      `best epoch ${res.detector.bestEpoch} of ${res.detector.history.length}${res.detector.stoppedEarly ? ' (early stop)' : ''}`,
    `- threshold: ${res.threshold.toExponential(3)} (2 × max validation MSE ${res.detector.validationMse.max.toExponential(3)})`,
    `- classifier: random forest trained here on ${res.classifierTrainRows} labelled intervals (training accuracy ${pct(res.classifierTrainAccuracy)})`,
    `- backend: ${opts.backend ?? 'n/a'}; timings (s, 2 shared cores, pessimistic): ${Object.entries(res.timings)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')}`,
    '',
    '## Results on unseen recordings',
    '',
    `- injected faults: ${res.matches.length}`,
    `- interval recall: **${pct(res.recall)}** (${res.matches.filter((m) => m.detected).length}/${res.matches.length})`,
    `- classification accuracy: **${pct(res.accuracy)}** (${res.matches.filter((m) => m.predicted === m.fault.type).length}/${res.matches.length})`,
    `- false alarms (detected intervals overlapping no fault): ${res.falseAlarms}`,
    '',
    '## Confusion matrix (rows: injected, columns: predicted)',
    '',
    markdownTable(
      [{ md: 'injected \\ predicted' }, ...res.confusion.labels],
      res.confusion.matrix.map((row, i) => [FAULT_TYPES[i], ...row]),
    ),
    '',
    '## Top features (impurity importance; permutation importance = accuracy drop on the detected test intervals)',
    '',
    markdownTable(
      ['feature', 'impurity', 'permutation'],
      res.featureImportance.slice(0, 10).map((f) => [f.feature, { md: f.impurity.toFixed(4) }, { md: f.permutation.toFixed(4) }]),
    ),
    '',
    '## Detector training',
    '',
    markdownTable(
      ['epoch', 'loss', 'val_loss', { md: 'elapsed (s)' }],
      res.detector.history.map((h) => [
        h.epoch,
        { md: h.loss.toExponential(3) },
        { md: h.val_loss.toExponential(3) },
        { md: h.elapsed_s.toFixed(1) },
      ]),
    ),
  );
  return lines.join('\n') + '\n';
}
