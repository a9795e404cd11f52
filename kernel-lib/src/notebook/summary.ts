/**
 * Fallback renderings of a viewer bundle: an HTML summary (facts, static SVG charts, the metrics
 * and the interval table) and a plain-text one. They travel in the same display output as the
 * bundle, so a notebook reads well where the JupyterLab extension is absent (nbconvert HTML,
 * VS Code, GitHub) and in plain Node, where only the text is printed.
 *
 * Threshold, detected intervals and metrics come from the viewer's own `BundleDetector` with the
 * bundle's initial settings, so the static summary says exactly what the widget shows first.
 */
import { labelIntervals } from '../browser/metrics';
import { BundleDetector, initialDetectionSettings, type DetectionResult } from '../browser/viewer/detection';
import { DEFAULT_FIGURE_OPTIONS, LIGHT_THEME, scoresFigure, signalsFigure, trainingFigure, type Figure } from '../browser/viewer/figures';
import { thresholdPhrase } from '../browser/viewer/threshold';
import { decodeViewerBundle } from '../browser/viewer/validate';
import { intervalsTable, leadingRows, metricsTable } from '../browser/viewer/tables';
import type { DecodedBundle, HistoryRow, IntervalRow, ViewerBundle, ViewerMetrics } from '../browser/viewer/types';
import {
  escapeHtml,
  formatNumber,
  htmlTable,
  summaryWrapper,
  textTable,
  viewerTableHtml,
  viewerTableText,
  type Cell,
} from '../render/html';
import { figureSvg } from '../render/svg';

export interface SummaryOptions {
  /** rows of the interval table (default 20). */
  maxIntervals?: number;
  /** chart width in px (default 720). */
  width?: number;
}

/** The viewer's first detection on a bundle (null when the bundle has no scores). */
export function initialDetection(d: DecodedBundle): DetectionResult | null {
  const det = new BundleDetector(d);
  return det.hasScores ? det.run(initialDetectionSettings(d)) : null;
}

function historyTable(history: HistoryRow[]): { columns: string[]; rows: Cell[][] } {
  const withTest = history.some((h) => h.test);
  const columns = ['step', 'loss', 'accuracy', 'lr', 'elapsed s'];
  if (withTest) columns.push('F1', 'F1 (PA)', 'random F1 (PA)');
  const rows = history.map((h) => {
    const r: Cell[] = [h.step, h.loss ?? null, h.accuracy ?? null, h.lr ?? null, h.elapsed_s ?? null];
    if (withTest) r.push(h.test?.without_pa?.f1 ?? null, h.test?.with_pa?.f1 ?? null, h.test?.random_with_pa?.f1 ?? null);
    return r;
  });
  return { columns, rows };
}

interface Facts {
  rows: Array<[string, string]>;
  detection: DetectionResult | null;
  intervals: IntervalRow[];
  metrics: ViewerMetrics | undefined;
  decoded: DecodedBundle;
}

function collectFacts(bundle: ViewerBundle): Facts {
  const d = decodeViewerBundle(bundle);
  const rows: Array<[string, string]> = [];
  const p = bundle.provenance ?? {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== '') rows.push([k, String(v)]);
  if (bundle.series)
    rows.push(['series', `${bundle.series.length} rows × ${bundle.series.columns.length} columns (${bundle.series.columns.join(', ')})`]);
  const detection = initialDetection(d);
  if (detection) {
    const s = detection.scores;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < s.length; i++) {
      if (s[i] < lo) lo = s[i];
      if (s[i] > hi) hi = s[i];
    }
    const name = bundle.scores?.name ?? bundle.scores?.kind ?? 'scores';
    rows.push([
      name,
      `${s.length} ${bundle.scores?.alignment === 'window' ? `windows of ${bundle.scores.windowSize} rows` : 'points'}, range ${formatNumber(lo)} … ${formatNumber(hi)}`,
    ]);
    const st = detection.settings;
    const rule = thresholdPhrase(st, {
      resultRate: detection.rate,
      format: { number: (x) => formatNumber(x) },
    });
    const extras = [
      st.ewma ? `EWMA ${st.ewma}` : '',
      st.pointAdjust && d.labels ? 'point adjustment on' : '',
      st.maxGapSamples ? `merge gap ${st.maxGapSamples} samples` : '',
    ].filter(Boolean);
    rows.push([
      'threshold',
      `${formatNumber(detection.threshold, 6)} (${rule}${extras.length ? '; ' + extras.join(', ') : ''}); ${detection.anomalousCount} above`,
    ]);
  }
  if (d.labels) {
    let pos = 0;
    for (let i = 0; i < d.labels.length; i++) pos += d.labels[i];
    rows.push(['labels', `${pos} anomalous of ${d.labels.length} (${labelIntervals(d.labels).length} labelled intervals)`]);
  }
  const intervals: IntervalRow[] = detection ? detection.intervals : (bundle.intervals ?? []);
  if (bundle.scores || bundle.intervals) rows.push(['detected intervals', String(intervals.length)]);
  if (bundle.training) {
    const h = bundle.training.history;
    const last = h[h.length - 1];
    const state = bundle.training.finished === false ? 'running' : 'finished';
    rows.push([
      'training',
      `${state}; ${h.length} summaries${last ? `, last step ${last.step}` : ''}${bundle.training.maxSteps ? ` of ${bundle.training.maxSteps}` : ''}`,
    ]);
  }
  // The producer's metrics when it gave them; else what the viewer computes at its initial threshold.
  let metrics = bundle.metrics;
  if (!metrics && detection?.metrics) metrics = detection.metrics;
  return { rows, detection, intervals, metrics, decoded: d };
}

/**
 * The static charts: the viewer's own figures (signals in panels by unit and scale, scores with the
 * threshold, the training monitor) drawn as SVG, so the fallback looks like the viewer's first view.
 */
function chartHtml(bundle: ViewerBundle, facts: Facts, width: number): string {
  const d = facts.decoded;
  const figures: Array<{ title: string; figure: Figure }> = [];
  if (d.values.length && d.columns.length) {
    const channels = d.columns.map((_, i) => i).slice(0, 8);
    figures.push({
      title: `Series${facts.detection ? ' (detected intervals shaded)' : ''}`,
      figure: signalsFigure(d, facts.detection, channels, null, DEFAULT_FIGURE_OPTIONS, LIGHT_THEME),
    });
  }
  if (facts.detection && d.scoreX) {
    figures.push({
      title: `${bundle.scores?.name ?? 'Score'}${d.labels ? ' (labelled anomalies shaded)' : ''}`,
      figure: scoresFigure(d, facts.detection, null, DEFAULT_FIGURE_OPTIONS, LIGHT_THEME),
    });
  }
  const h = bundle.training?.history ?? [];
  if (h.length > 1)
    figures.push({ title: 'Training loss per summary (accuracy and test F1 below)', figure: trainingFigure(h, LIGHT_THEME) });
  return figures.map((f) => figureSvg(f.figure, { width, title: f.title }) ?? '').join('');
}

/** HTML summary of a viewer bundle (escaped; self-contained inline CSS + SVG). */
export function viewerSummaryHtml(bundle: ViewerBundle, opts: SummaryOptions = {}): string {
  return summaryHtml(bundle, collectFacts(bundle), opts);
}

/** Plain-text summary of a viewer bundle (what plain Node / the CLI print). */
export function viewerSummaryText(bundle: ViewerBundle, opts: SummaryOptions = {}): string {
  return summaryText(bundle, collectFacts(bundle), opts);
}

/** Both summaries from one decode and one detection (a display carries both). */
export function viewerSummaries(bundle: ViewerBundle, opts: SummaryOptions = {}): { html: string; text: string } {
  const facts = collectFacts(bundle);
  return { html: summaryHtml(bundle, facts, opts), text: summaryText(bundle, facts, opts) };
}

function summaryHtml(bundle: ViewerBundle, facts: Facts, opts: SummaryOptions): string {
  const maxIntervals = opts.maxIntervals ?? 20;
  const out: string[] = [];
  out.push(`<h3>${escapeHtml(bundle.title)}</h3>`);
  out.push(
    `<p class="al-meta">anomaly-lab viewer bundle (${escapeHtml(bundle.kind)}). Static summary for pages without the viewer (nbconvert HTML, GitHub, VS Code); JupyterLab 4 and Notebook 7 with the anomaly_lab_jupyterlab extension (pip install ./extension) show the interactive viewer in its place.</p>`,
  );
  out.push(htmlTable(['', ''], facts.rows));
  out.push(chartHtml(bundle, facts, opts.width ?? 720));
  const mt = metricsTable(facts.metrics);
  if (mt) out.push(`<h4>Metrics</h4>${viewerTableHtml(mt)}`);
  if (facts.intervals.length) {
    // Only the rows shown are formatted (a bundle may hold 100,000 intervals); the note counts the rest.
    const rows = leadingRows(facts.intervals.length, maxIntervals);
    const it = intervalsTable(facts.intervals, bundle.axis?.unit, { labelled: !!facts.detection?.labelled.length, rows });
    out.push(`<h4>Detected intervals</h4>${viewerTableHtml(it, { maxRows: maxIntervals })}`);
  }
  if (bundle.featureImportances && bundle.featureImportances.names.length) {
    const fi = bundle.featureImportances;
    const order = fi.names
      .map((_, i) => i)
      .sort((a, b) => fi.values[b] - fi.values[a])
      .slice(0, 10);
    out.push(
      `<h4>Feature importance (top ${order.length})</h4>${htmlTable(
        ['feature', 'importance'],
        order.map((i) => [fi.names[i], fi.values[i]]),
      )}`,
    );
  }
  if (bundle.training && bundle.training.history.length) {
    const ht = historyTable(bundle.training.history);
    const rows = ht.rows.length > 12 ? [...ht.rows.slice(0, 4), ...ht.rows.slice(-8)] : ht.rows;
    out.push(`<h4>Training history${ht.rows.length > 12 ? ' (first 4 and last 8 summaries)' : ''}</h4>${htmlTable(ht.columns, rows)}`);
  }
  return summaryWrapper(out.join(''));
}

function summaryText(bundle: ViewerBundle, facts: Facts, opts: SummaryOptions): string {
  const maxIntervals = opts.maxIntervals ?? 20;
  const lines: string[] = [bundle.title, '='.repeat(Math.min(78, bundle.title.length))];
  for (const [k, v] of facts.rows) lines.push(`${k}: ${v}`);
  const mt = metricsTable(facts.metrics);
  if (mt) lines.push('', 'Metrics', viewerTableText(mt));
  if (facts.intervals.length) {
    const rows = leadingRows(facts.intervals.length, maxIntervals);
    const it = intervalsTable(facts.intervals, bundle.axis?.unit, { labelled: !!facts.detection?.labelled.length, rows });
    lines.push('', 'Detected intervals', viewerTableText(it, { maxRows: maxIntervals }));
  }
  if (bundle.training && bundle.training.history.length) {
    const ht = historyTable(bundle.training.history);
    lines.push('', 'Training history (last 5)', textTable(ht.columns, ht.rows.slice(-5)));
  }
  return lines.join('\n');
}
