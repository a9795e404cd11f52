/**
 * Exports of a power analysis: results.json (machine-readable, the fixture's field names),
 * anomalies.csv (the dashboard's "Download Results as CSV") and report.md (its "Summary Report":
 * data summary, parameters, metrics, interval table, fault distribution).
 */
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic';
import { writeNpy } from '../io/npy';
import { csvCell, mdCode, mdText } from '../browser/text';
import { POWER_SIGNALS, type PowerData } from './data';
import { POWER_FEATURE_NAMES } from './features';
import type { PowerAnalysis } from './pipeline';
import { formatSignificant, markdownTable, type MdCell } from '../browser/format';
import { intervalsTable, tableMarkdown } from '../browser/viewer/tables';

export interface PowerResultsJSON {
  source: string;
  params: PowerAnalysis['params'];
  threshold: number;
  n_windows: number;
  n_anomalous_windows: number;
  sample_time: number;
  merged_intervals: Array<[number, number]>;
  feature_order: string[];
  features: Array<Record<string, number | null>>;
  classes?: string[];
  predictions: Array<{ start_time: number; end_time: number; predicted_fault: string; confidence: number; proba: number[] }>;
  models?: Record<string, string | undefined>;
}

/** JSON can't hold NaN: a constant segment's skew/kurtosis becomes null. */
function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function powerResultsJson(a: PowerAnalysis, models?: Record<string, string | undefined>): PowerResultsJSON {
  let nAnomalous = 0;
  for (const f of a.detection.flags) nAnomalous += f;
  return {
    source: a.source,
    params: a.params,
    threshold: a.detection.threshold,
    n_windows: a.detection.mse.length,
    n_anomalous_windows: nAnomalous,
    sample_time: a.sampleTime,
    merged_intervals: a.mergedIntervals.map(([s, e]) => [s, e]),
    feature_order: [...POWER_FEATURE_NAMES],
    features: a.features.map((f) => Object.fromEntries(POWER_FEATURE_NAMES.map((k) => [k, finiteOrNull(f[k])]))),
    ...(a.classes ? { classes: a.classes } : {}),
    predictions: a.predictions.map((p) => ({
      start_time: p.start_time,
      end_time: p.end_time,
      predicted_fault: p.predicted_fault,
      confidence: p.confidence,
      proba: p.proba,
    })),
    ...(models ? { models } : {}),
  };
}

/** anomalies.csv: one row per merged interval (fault columns empty without a classifier). */
export function powerAnomaliesCsv(a: PowerAnalysis): string {
  const lines = ['start_time,end_time,duration,predicted_fault,confidence'];
  a.mergedIntervals.forEach(([s, e], i) => {
    const p = a.predictions[i];
    lines.push([s, e, e - s, p ? p.predicted_fault : '', p ? p.confidence : ''].map(csvCell).join(','));
  });
  return lines.join('\n') + '\n';
}

/** Count of each fault label, in first-seen order. */
export function faultDistribution(a: PowerAnalysis): Array<{ fault: string; count: number }> {
  const counts = new Map<string, number>();
  for (const p of a.predictions) counts.set(p.predicted_fault, (counts.get(p.predicted_fault) ?? 0) + 1);
  return [...counts].map(([fault, count]) => ({ fault, count }));
}

/** The markdown summary report. */
export function powerReportMarkdown(
  a: PowerAnalysis,
  data: PowerData,
  opts: { title?: string; models?: Record<string, string | undefined> } = {},
): string {
  const out: string[] = [];
  const nAnom = a.mergedIntervals.length;
  const durations = a.mergedIntervals.map(([s, e]) => e - s);
  const meanDuration = nAnom ? durations.reduce((x, y) => x + y, 0) / nAnom : 0;
  const dist = faultDistribution(a);
  let nAnomWin = 0;
  for (const f of a.detection.flags) nAnomWin += f;
  out.push(`# ${mdText(opts.title ?? 'Power system anomaly report')}`, '');
  out.push('## Data', '');
  out.push(`- file: ${mdCode(data.source)}`);
  out.push(
    `- rows: ${data.length}, time ${formatSignificant(data.time[0])} … ${formatSignificant(data.time[data.length - 1])} s (${formatSignificant(data.time[data.length - 1] - data.time[0])} s)`,
  );
  out.push(`- sample time: ${formatSignificant(data.sampleTime)} s (${formatSignificant(1 / data.sampleTime)} Hz)`, '');
  const signalRows: MdCell[][] = [];
  POWER_SIGNALS.forEach((name, c) => {
    const col = data.signals[c];
    let mn = Infinity;
    let mx = -Infinity;
    let s = 0;
    for (let i = 0; i < col.length; i++) {
      mn = Math.min(mn, col[i]);
      mx = Math.max(mx, col[i]);
      s += col[i];
    }
    signalRows.push([name, { md: formatSignificant(mn) }, { md: formatSignificant(mx) }, { md: formatSignificant(s / col.length) }]);
  });
  out.push(markdownTable(['signal', 'min', 'max', 'mean'], signalRows));
  out.push('', '## Parameters', '');
  out.push(`- sequence length: ${a.params.sequence_length} samples`);
  out.push(`- threshold percentile: ${a.params.percentile}`);
  out.push(`- max merge gap: ${a.params.max_gap_samples} samples (${formatSignificant(a.params.max_gap_samples * a.sampleTime)} s)`);
  if (opts.models) for (const [k, v] of Object.entries(opts.models)) if (v) out.push(`- ${mdText(k)}: ${mdCode(v)}`);
  out.push('', '## Metrics', '');
  out.push(
    `- windows: ${a.detection.mse.length}, anomalous: ${nAnomWin} (threshold ${formatSignificant(a.detection.threshold, 8)} reconstruction MSE)`,
  );
  out.push(`- total anomalies (merged intervals): ${nAnom}`);
  out.push(
    `- fault types: ${dist.length ? dist.map((d) => mdText(d.fault)).join(', ') : a.predictions.length === 0 && nAnom > 0 ? 'not classified (no classifier given)' : 'none'}`,
  );
  out.push(`- mean duration: ${formatSignificant(meanDuration)} s`, '');
  out.push('## Anomalies', '');
  if (nAnom === 0) {
    out.push('No anomalies detected.');
  } else {
    // the viewer's intervals table (browser/viewer/tables.ts), as the export and the reports show it
    const rows = a.mergedIntervals.map(([start, end], i) => ({
      start,
      end,
      fault: a.predictions[i]?.predicted_fault,
      confidence: a.predictions[i]?.confidence,
    }));
    out.push(tableMarkdown(intervalsTable(rows, 'seconds')));
  }
  out.push('', '## Fault distribution', '');
  if (dist.length === 0) {
    out.push(nAnom === 0 ? 'No faults.' : 'Not classified.');
  } else {
    out.push(
      markdownTable(
        ['fault', 'count', 'share'],
        dist.map((d) => [d.fault, d.count, { md: `${formatSignificant((100 * d.count) / a.predictions.length, 3)}%` }]),
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** The files `writePowerResults` writes. */
export const POWER_RESULT_FILES = ['results.json', 'anomalies.csv', 'report.md', 'mse.npy'] as const;

/** Write results.json, mse.npy, anomalies.csv and report.md into `dir` (each atomically). */
export function writePowerResults(dir: string, a: PowerAnalysis, data: PowerData, models?: Record<string, string | undefined>): string[] {
  const files = {
    'results.json': JSON.stringify(powerResultsJson(a, models), null, 2) + '\n',
    'anomalies.csv': powerAnomaliesCsv(a),
    'report.md': powerReportMarkdown(a, data, { models }),
  };
  for (const [name, text] of Object.entries(files)) writeFileAtomic(path.join(dir, name), text);
  writeNpy(path.join(dir, 'mse.npy'), a.detection.mse, [a.detection.mse.length]);
  return [...Object.keys(files), 'mse.npy'].map((f) => path.join(dir, f));
}
