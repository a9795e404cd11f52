/**
 * Exports of a detection: the anomalies table as CSV (the power seed's "Download Results as CSV",
 * extended with index bounds, peak score, class probabilities and features) and a markdown summary
 * report. Pure string builders, used by the viewer's export buttons and by the report generator.
 */
import { csvCell, mdText } from '../text';
import type { DetectionResult, DetectionSummary } from './detection';
import { describeThreshold } from './threshold';
import { formatSignificant, markdownTable } from '../format';
import { durationOf, durationUnit, intervalsTable, metricsTable, tableMarkdown } from './tables';
import type { AxisUnit, ViewerBundle } from './types';

// The shared escaping helpers live in ../text (one implementation for viewer, reports, CLI);
// re-exported here where the viewer's API always offered them.
export { csvCell, mdText } from '../text';
// The cell formats live with the tables (./tables); re-exported where the viewer's API offered them.
export { axisValueText, durationOf, durationUnit } from './tables';

export function formatX(value: number, unit: AxisUnit): string | number {
  if (unit === 'epoch_ms') return Number.isFinite(value) ? new Date(value).toISOString() : '';
  return value;
}

/** The anomalies table as CSV, one row per detected interval. */
export function anomaliesCsv(bundle: ViewerBundle, result: DetectionResult): string {
  const unit = bundle.axis?.unit ?? 'index';
  const classes = bundle.classes ?? [];
  const featureNames = Array.from(new Set(result.intervals.flatMap((r) => Object.keys(r.features ?? {}))));
  const header = [
    'start_time',
    'end_time',
    `duration_${durationUnit(unit)}`,
    'start_index',
    'end_index',
    'peak_score',
    'predicted_fault',
    'confidence',
    ...(result.labelled.length ? ['labelled'] : []),
    ...classes.map((c) => `p_${c}`),
    ...featureNames,
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const r of result.intervals) {
    const row: Array<string | number | boolean | undefined> = [
      formatX(r.start, unit),
      formatX(r.end, unit),
      durationOf(r.start, r.end, unit),
      r.startIndex,
      r.endIndex,
      r.peakScore,
      r.fault,
      r.confidence,
      ...(result.labelled.length ? [r.labelled ?? false] : []),
      ...classes.map((c) => r.probabilities?.[c]),
      ...featureNames.map((f) => r.features?.[f]),
    ];
    lines.push(row.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** A markdown summary report of the detection as currently thresholded. */
export function markdownReport(bundle: ViewerBundle, result: DetectionResult, summary: DetectionSummary): string {
  const unit = bundle.axis?.unit ?? 'index';
  const du = durationUnit(unit);
  const s = result.settings;
  const out: string[] = [];
  out.push(`# ${mdText(bundle.title)}`, '');
  const p = bundle.provenance ?? {};
  for (const [k, v] of Object.entries(p)) if (v) out.push(`- ${k}: ${mdText(String(v))}`);
  out.push('', '## Detection settings', '');
  const rule = describeThreshold(s, { resultRate: result.rate });
  out.push(`- ${rule.label}: ${rule.text}`);
  out.push(`- threshold value: ${formatSignificant(result.threshold, 6)}`);
  out.push(`- EWMA smoothing: ${s.ewma > 0 ? s.ewma : 'off'}`);
  out.push(`- point adjustment: ${s.pointAdjust ? 'on' : 'off'}`);
  out.push(`- max merge gap: ${s.maxGapSamples} samples`, '');
  out.push('## Summary', '');
  out.push(`- total anomalies (intervals): ${summary.total}`);
  out.push(`- anomalous ${bundle.scores?.alignment === 'window' ? 'windows' : 'points'}: ${summary.anomalousPoints}`);
  out.push(`- fault types: ${summary.faultTypes}`);
  out.push(`- mean duration: ${formatSignificant(durationOf(0, summary.meanDuration, unit), 4)} ${du}`, '');
  const metrics = metricsTable(result.metrics);
  if (metrics) out.push('## Metrics', '', tableMarkdown(metrics), '');
  if (Object.keys(summary.faultCounts).length) {
    out.push('## Fault distribution', '', markdownTable(['fault', 'count'], Object.entries(summary.faultCounts)), '');
  }
  out.push('## Anomalies', '', tableMarkdown(intervalsTable(result.intervals, unit, { labelled: result.labelled.length > 0 })));
  if (bundle.featureImportances) {
    const fi = bundle.featureImportances;
    const order = fi.values
      .map((v, i) => i)
      .sort((a, b) => fi.values[b] - fi.values[a])
      .slice(0, 10);
    out.push(
      '',
      '## Top feature importances',
      '',
      markdownTable(
        ['feature', 'importance'],
        order.map((i) => [fi.names[i], { md: formatSignificant(fi.values[i], 4) }]),
      ),
    );
  }
  return out.join('\n') + '\n';
}
