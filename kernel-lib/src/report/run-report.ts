/**
 * Experiment reports of a run directory: one self-contained offline HTML file (plotly.js embedded
 * once, data inline, no network) and a markdown version with static SVG charts beside it.
 *
 * What a run directory may hold (every part optional, at least one required):
 *   manifest.json          runs/manifest.ts (config, seed, backend, versions, inputs, metrics)
 *   config.json            training options + data sources
 *   history.json           [{ step, loss, accuracy, lr, elapsed_s, test? }]
 *   state/step_<i>_scores.npy  test scores per summary step (with labels: sweeps and the step table)
 *   *.anomaly.json         viewer bundles (detections: AnomalyBERT or power), shown like the viewer
 * Labels for the step scores: the `labels` option, `config.data.test_label`, the manifest input
 * with role 'test_label', or `<run>/test_label.npy`.
 *
 * Large series are reduced with the viewer's min/max downsampling (every spike stays visible);
 * metrics are always computed on the full arrays.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MetricEvaluator, sweepRates } from '../browser/metrics';
import { BundleDetector, initialDetectionSettings, summarizeDetection, type DetectionResult } from '../browser/viewer/detection';
import { minMaxDownsample } from '../browser/viewer/downsample';
import {
  DEFAULT_FIGURE_OPTIONS,
  LIGHT_THEME,
  faultDistributionFigure,
  featureImportanceFigure,
  figureToJSON,
  lineChartFigure,
  scoresFigure,
  signalsFigure,
  timelineFigure,
  type Figure,
  type LineChartSpec,
} from '../browser/viewer/figures';
import { markdownReport } from '../browser/viewer/export';
import { intervalsTable, leadingRows, metricsTable, rateText, tableMarkdown } from '../browser/viewer/tables';
import { thresholdPhrase } from '../browser/viewer/threshold';
import { markdownTable } from '../browser/format';
import { VIEWER_FILE_SUFFIX, type DecodedBundle, type HistoryRow, type ViewerBundle } from '../browser/viewer/types';
import { decodeViewerBundle, parseViewerBundle } from '../browser/viewer/validate';
import { writeFileAtomic } from '../io/atomic';
import { abortPoint } from '../browser/abort';
import { readNpy, toFloat32 } from '../io/npy';
import { escapeHtml, formatNumber, htmlTable, viewerTableHtml, type Cell } from '../render/html';
import { figureSvg } from '../render/svg';
import { mdText } from '../browser/text';
import { scoreStepSeries, type StepScoreReport } from '../evaluation/score-steps';
import { readManifest, type ExperimentManifest } from '../runs/manifest';
import { FieldError } from '../browser/errors';
import { toBinaryLabels } from '../browser/labels';
import { readJsonFile } from '../io/json';

export interface RunReportOptions {
  /** output directory (default `<run>/report`). */
  out?: string;
  /** Checked once the report is built, before anything is written: once aborted, throws an AbortedError ('writeRunReport'). */
  signal?: AbortSignal;
  title?: string;
  /** test labels (0/1 per test row) or a .npy path; default: found from the run's config/manifest. */
  labels?: ArrayLike<number> | string;
  /** anomaly rate of the step table (the seed's score; default 0.05) and its target (default 0.9). */
  anomalyRate?: number;
  target?: number;
  /** max points per drawn trace (default 4000). */
  maxPoints?: number;
}

export interface RunReportFiles {
  html: string;
  markdown: string;
  assets: string[];
}

interface StepScores {
  step: number;
  file: string;
}

/** Everything a report shows, read from a run directory. */
export interface RunData {
  dir: string;
  title: string;
  manifest?: ExperimentManifest;
  config?: Record<string, unknown>;
  history?: HistoryRow[];
  stepScores: StepScores[];
  labels?: Uint8Array;
  labelsSource?: string;
  bundles: Array<{ file: string; bundle: ViewerBundle }>;
  /** `anomaly-lab power detect` output (results.json + mse.npy), when present. */
  power?: { results: PowerResultsFile; mse?: Float32Array };
}

/** The fields of the power area's results.json this report reads (power/report.ts writes it). */
interface PowerResultsFile {
  source: string;
  params: { sequence_length: number; percentile: number; max_gap_samples: number };
  threshold: number;
  n_windows: number;
  n_anomalous_windows: number;
  sample_time: number;
  merged_intervals: Array<[number, number]>;
  classes?: string[];
  predictions: Array<{ start_time: number; end_time: number; predicted_fault: string; confidence: number; proba: number[] }>;
  models?: Record<string, string | undefined>;
}

function labelsFrom(values: ArrayLike<number>, what: string): Uint8Array {
  return toBinaryLabels(values, { what, position: 'row' });
}

function findLabels(
  dir: string,
  config: Record<string, unknown> | undefined,
  manifest: ExperimentManifest | undefined,
  given: RunReportOptions['labels'],
): { labels?: Uint8Array; source?: string } {
  if (given !== undefined && typeof given !== 'string') return { labels: labelsFrom(given, 'labels option'), source: 'labels option' };
  const candidates: string[] = [];
  if (typeof given === 'string') candidates.push(given);
  const data = config?.data as Record<string, unknown> | undefined;
  if (typeof data?.test_label === 'string') candidates.push(data.test_label);
  for (const i of manifest?.inputs ?? []) if (i.role === 'test_label') candidates.push(i.path);
  candidates.push(path.join(dir, 'test_label.npy'));
  for (const c of candidates) {
    const file = path.isAbsolute(c) ? c : path.resolve(c);
    if (fs.existsSync(file) && file.endsWith('.npy')) {
      const arr = readNpy(file);
      return { labels: labelsFrom(Array.from(arr.data as ArrayLike<number | bigint>, Number), file), source: file };
    }
    if (typeof given === 'string' && c === given) throw new Error(`labels: ${given} does not exist or is not a .npy file`);
  }
  return {};
}

/** Read a run directory. Errors name the directory or file. */
export function readRunData(runDir: string, opts: RunReportOptions = {}): RunData {
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new FieldError('runDir', (f) => `${f('runDir')} ${runDir}: not a directory`);
  const has = (f: string): boolean => fs.existsSync(path.join(dir, f));
  const manifest = has('manifest.json') ? readManifest(dir) : undefined;
  const config = has('config.json') ? (readJsonFile(path.join(dir, 'config.json')) as Record<string, unknown>) : manifest?.config;
  let history: HistoryRow[] | undefined;
  if (has('history.json')) {
    const h = readJsonFile(path.join(dir, 'history.json'));
    if (!Array.isArray(h)) throw new Error(`${path.join(dir, 'history.json')}: expected a JSON list of summaries`);
    history = h as HistoryRow[];
  }
  const stepScores: StepScores[] = [];
  const stateDir = path.join(dir, 'state');
  if (fs.existsSync(stateDir)) {
    for (const f of fs.readdirSync(stateDir)) {
      const m = /^step_(\d+)_scores\.npy$/.exec(f);
      if (m) stepScores.push({ step: Number(m[1]), file: path.join(stateDir, f) });
    }
    stepScores.sort((a, b) => a.step - b.step);
  }
  const bundles = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(VIEWER_FILE_SUFFIX))
    .sort()
    .map((f) => ({ file: path.join(dir, f), bundle: parseViewerBundle(readJsonFile(path.join(dir, f)), path.join(dir, f)) }));
  let power: RunData['power'];
  if (has('results.json')) {
    const r = readJsonFile(path.join(dir, 'results.json')) as Partial<PowerResultsFile>;
    if (r && Array.isArray(r.merged_intervals) && r.params && typeof r.threshold === 'number') {
      power = { results: r as PowerResultsFile };
      if (has('mse.npy')) power.mse = toFloat32(readNpy(path.join(dir, 'mse.npy')));
    }
  }
  if (!manifest && !history && bundles.length === 0 && !power) {
    throw new FieldError(
      'runDir',
      (f) => `${f('runDir')} ${runDir}: not a run directory (no manifest.json, history.json, results.json or *${VIEWER_FILE_SUFFIX})`,
    );
  }
  const found: { labels?: Uint8Array; source?: string } = stepScores.length ? findLabels(dir, config, manifest, opts.labels) : {};
  const { labels, source } = found;
  const title =
    opts.title ??
    `${manifest?.kind ?? (history ? 'training run' : power ? 'power-system detection' : 'detection')} — ${path.basename(dir)}`;
  return { dir, title, manifest, config, history, stepScores, labels, labelsSource: source, bundles, power };
}

// ---------------------------------------------------------------------------------------------
// Charts: figures from the core's builders (browser/viewer/figures.ts), rendered twice — as plotly
// JSON in the HTML and as static SVG (render/svg.ts) beside the markdown.

interface Chart {
  id: string;
  title: string;
  figure: Figure;
}

const FIGURE_OPTIONS = DEFAULT_FIGURE_OPTIONS;

function lineChart(id: string, title: string, spec: LineChartSpec): Chart {
  return { id, title, figure: lineChartFigure(spec, LIGHT_THEME) };
}

function downsampled(
  x: ArrayLike<number>,
  values: ArrayLike<number>,
  stride: number,
  col: number,
  maxPoints: number,
): { x: Float64Array; y: Float32Array } {
  const n = Math.floor(values.length / stride);
  return minMaxDownsample(x, values, stride, col, 0, Math.min(n, x.length), Math.max(1, Math.floor(maxPoints / 2)));
}

// ---------------------------------------------------------------------------------------------
// Sections

interface Section {
  title: string;
  /** trusted HTML built from escaped pieces. */
  html: string;
  markdown: string;
  charts: Chart[];
}

function table(columns: string[], rows: Cell[][], maxRows?: number): { html: string; md: string } {
  return { html: htmlTable(columns, rows, { maxRows }), md: markdownTable(columns, maxRows ? rows.slice(0, maxRows) : rows) };
}

function flatten(v: unknown, prefix: string, out: Array<[string, Cell]>): void {
  if (v === null || v === undefined || typeof v !== 'object') {
    out.push([prefix, v === undefined ? null : (v as Cell)]);
    return;
  }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x !== 'object' || x === null)) out.push([prefix, v.join(', ')]);
    else v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
}

function overviewSection(d: RunData): Section {
  const m = d.manifest;
  const rows: Cell[][] = [['run directory', d.dir]];
  if (m) {
    rows.push(
      ['kind', m.kind],
      ['created', m.created],
      ['seed', m.seed ?? ''],
      ['backend', `${m.backend.name}${m.backend.native === false ? ' (not native)' : ''}`],
    );
    rows.push(
      ['anomaly-lab', m.tool.version],
      ['platform', `${m.platform.os} ${m.platform.arch}, ${m.platform.cpus} CPUs, node ${m.platform.node}`],
    );
    if (m.elapsed_s !== undefined) rows.push(['elapsed', `${formatNumber(m.elapsed_s)} s`]);
    if (m.command) rows.push(['re-run', `anomaly-lab ${m.command.argv.join(' ')}`]);
    if (m.notes) rows.push(['notes', m.notes]);
  }
  const t = table(['', ''], rows);
  const parts = [t.html];
  const mdParts = [t.md];
  if (m && Object.keys(m.metrics).length) {
    const flat: Array<[string, Cell]> = [];
    flatten(m.metrics, '', flat);
    const mt = table(['metric', 'value'], flat);
    parts.push('<h3>Metrics</h3>', mt.html);
    mdParts.push('', '### Metrics', '', mt.md);
  }
  return { title: 'Overview', html: parts.join(''), markdown: mdParts.join('\n'), charts: [] };
}

function provenanceSection(d: RunData): Section | null {
  const m = d.manifest;
  if (!m && !d.config) return null;
  const html: string[] = [];
  const md: string[] = [];
  if (d.config) {
    const flat: Array<[string, Cell]> = [];
    flatten(d.config, '', flat);
    const t = table(['option', 'value'], flat);
    html.push('<h3>Configuration</h3>', t.html);
    md.push('### Configuration', '', t.md, '');
  }
  if (m) {
    const inputs = table(
      ['role', 'path', 'bytes', 'sha256'],
      m.inputs.map((i) => [i.role ?? '', i.path, i.bytes, i.sha256]),
    );
    html.push('<h3>Inputs</h3>', inputs.html);
    md.push('### Inputs', '', m.inputs.length ? inputs.md : '(none recorded)', '');
    if (m.checkpoints.length) {
      const cp = table(
        ['step', 'checkpoint'],
        m.checkpoints.map((c) => [c.step ?? null, c.path]),
      );
      html.push('<h3>Checkpoints</h3>', cp.html);
      md.push('### Checkpoints', '', cp.md, '');
    }
    const v = table(['library', 'version'], Object.entries(m.versions));
    html.push('<h3>Versions</h3>', v.html);
    md.push('### Versions', '', v.md, '');
  }
  return { title: 'Reproducibility', html: html.join(''), markdown: md.join('\n'), charts: [] };
}

function historySection(d: RunData): Section | null {
  const h = d.history;
  if (!h || h.length === 0) return null;
  const steps = Float64Array.from(h, (r) => r.step);
  const pick = (f: (r: HistoryRow) => number | undefined): Float64Array => Float64Array.from(h, (r) => f(r) ?? NaN);
  const charts: Chart[] = [
    lineChart('history-loss', 'Training loss and accuracy per summary step', {
      xTitle: 'step',
      traces: [
        { name: 'loss', x: steps, y: pick((r) => r.loss), color: '#9467bd' },
        { name: 'accuracy', x: steps, y: pick((r) => r.accuracy), color: '#2ca02c' },
      ],
    }),
  ];
  if (h.some((r) => r.test)) {
    charts.push(
      lineChart('history-f1', 'Test F1 per summary step (best over the rate sweep)', {
        xTitle: 'step',
        traces: [
          { name: 'F1 without PA', x: steps, y: pick((r) => r.test?.without_pa?.f1), color: '#1f77b4' },
          { name: 'F1 with PA', x: steps, y: pick((r) => r.test?.with_pa?.f1), color: '#ff7f0e' },
          { name: 'random scores, F1 with PA', x: steps, y: pick((r) => r.test?.random_with_pa?.f1), color: '#7f7f7f' },
        ],
      }),
    );
  }
  const withTest = h.some((r) => r.test);
  const cols = ['step', 'loss', 'accuracy', 'lr', 'elapsed s', ...(withTest ? ['F1', 'F1 (PA)', 'random F1 (PA)'] : [])];
  const rows: Cell[][] = h.map((r) => [
    r.step,
    r.loss ?? null,
    r.accuracy ?? null,
    r.lr ?? null,
    r.elapsed_s ?? null,
    ...(withTest ? [r.test?.without_pa?.f1 ?? null, r.test?.with_pa?.f1 ?? null, r.test?.random_with_pa?.f1 ?? null] : []),
  ]);
  const t = table(cols, rows, 200);
  return { title: 'Training history', html: t.html, markdown: t.md, charts };
}

function stepScoresSection(d: RunData, opts: RunReportOptions): Section | null {
  if (!d.stepScores.length || !d.labels) return null;
  const labels = d.labels;
  const entries = d.stepScores.map((s) => {
    const scores = toFloat32(readNpy(s.file));
    if (scores.length !== labels.length)
      throw new Error(`${s.file}: ${scores.length} scores but ${d.labelsSource} has ${labels.length} labels`);
    return { step: s.step, file: s.file, scores };
  });
  let report: Omit<StepScoreReport, 'run' | 'labels'>;
  try {
    report = scoreStepSeries(entries, labels, { anomalyRate: opts.anomalyRate ?? 0.05, target: opts.target ?? 0.9 });
  } catch (e) {
    return { title: 'Test scores', html: `<p>${escapeHtml((e as Error).message)}</p>`, markdown: mdText((e as Error).message), charts: [] };
  }
  const last = entries[entries.length - 1];
  const ev = new MetricEvaluator(last.scores, labels);
  const rates = sweepRates();
  const f1 = (pa: boolean): Float64Array => Float64Array.from(rates, (r) => ev.atRate(r, pa).f1);
  const x = Float64Array.from({ length: last.scores.length }, (_, i) => i);
  const ds = downsampled(x, last.scores, 1, 0, opts.maxPoints ?? 4000);
  const bands: Array<{ start: number; end: number; color: string; name: string }> = [];
  let s0 = -1;
  for (let i = 0; i <= labels.length; i++) {
    const on = i < labels.length && labels[i] === 1;
    if (on && s0 < 0) s0 = i;
    if (!on && s0 >= 0) {
      bands.push({ start: s0, end: i - 1, color: 'rgba(44,160,44,0.25)', name: 'labelled anomaly' });
      s0 = -1;
    }
  }
  const best = report.steps[report.steps.length - 1]?.best_with_pa;
  const charts: Chart[] = [
    lineChart('scores-last', `Test scores at step ${last.step} (labelled anomalies shaded)`, {
      xTitle: 'test row',
      traces: [{ name: 'score', x: ds.x, y: ds.y, color: '#1f77b4' }],
      bands: bands.slice(0, 500),
      hline: { y: ev.thresholdAtRate(opts.anomalyRate ?? 0.05), label: `threshold @ rate ${rateText(opts.anomalyRate ?? 0.05)}` },
    }),
    lineChart('sweep', `F1 over the anomaly-rate sweep at step ${last.step}`, {
      xTitle: 'anomaly rate',
      traces: [
        { name: 'F1 without PA', x: rates, y: f1(false), color: '#1f77b4' },
        { name: 'F1 with PA', x: rates, y: f1(true), color: '#ff7f0e' },
      ],
    }),
    lineChart('ess-steps', `ESS score with PA per step (rate ${rateText(report.anomaly_rate)}; target ${report.target})`, {
      xTitle: 'step',
      traces: [
        {
          name: 'ESS score (PA)',
          x: Float64Array.from(report.steps, (s) => s.step),
          y: Float64Array.from(report.steps, (s) => s.ess_score_pa),
          color: '#d62728',
        },
      ],
      hline: { y: report.target, label: 'target' },
    }),
  ];
  const rows: Cell[][] = report.steps.map((s) => [
    s.step,
    s.ess_score_pa,
    s.reaches_target ? 'yes' : '',
    s.without_pa.f1,
    s.with_pa.f1,
    s.best_without_pa.f1,
    s.best_with_pa.f1,
    s.random_with_pa.f1,
    s.pa_k.auc,
  ]);
  const t = table(
    ['step', 'ESS (PA)', `> ${report.target}`, 'F1', 'F1 (PA)', 'best F1', 'best F1 (PA)', 'random F1 (PA)', 'PA%K AUC'],
    rows,
    200,
  );
  const first = report.first_step_reaching_target;
  const lead = `First step whose ESS score with point adjustment exceeds ${report.target}: ${first === null ? 'none' : first}. Labels: ${d.labelsSource} (${formatNumber(100 * report.label_rate)}% anomalous). Random scores reach F1 ${formatNumber(report.random_with_pa.f1)} with PA on the same labels${best ? `; the last step's best F1 with PA is ${formatNumber(best.f1)} at rate ${rateText(best.anomaly_rate)}` : ''}.`;
  return { title: 'Test scores per step', html: `<p>${escapeHtml(lead)}</p>${t.html}`, markdown: `${mdText(lead)}\n\n${t.md}`, charts };
}

function bundleSection(file: string, bundle: ViewerBundle, k: number, maxPoints: number): Section {
  const d: DecodedBundle = decodeViewerBundle(bundle);
  const det = new BundleDetector(d);
  const result: DetectionResult | null = det.hasScores ? det.run(initialDetectionSettings(d)) : null;
  // the viewer's first view, drawn by the same builders (first 8 channels, panels by unit and scale)
  const charts: Chart[] = [];
  if (d.values.length && d.columns.length) {
    const channels = d.columns.map((_, j) => j).slice(0, 8);
    const opts = { ...FIGURE_OPTIONS, maxPointsDrawn: maxPoints };
    charts.push({
      id: `bundle${k}-series`,
      title: `${bundle.title}: signals${result ? ' (detected intervals shaded)' : ''}`,
      figure: signalsFigure(d, result, channels, null, opts, LIGHT_THEME),
    });
  }
  if (result && d.scoreX) {
    charts.push({
      id: `bundle${k}-scores`,
      title: `${bundle.scores?.name ?? 'Score'} with threshold${result.labelled.length ? ' (labelled anomalies shaded)' : ''}`,
      figure: scoresFigure(d, result, null, { ...FIGURE_OPTIONS, maxPointsDrawn: maxPoints }, LIGHT_THEME),
    });
  }
  const summary = result ? summarizeDetection(result) : null;
  if (result && summary && Object.keys(summary.faultCounts).some((f) => f !== 'unclassified')) {
    charts.push({
      id: `bundle${k}-faults`,
      title: 'Fault distribution',
      figure: faultDistributionFigure(summary.faultCounts, LIGHT_THEME),
    });
    charts.push({ id: `bundle${k}-timeline`, title: 'Anomaly timeline', figure: timelineFigure(d, result.intervals, LIGHT_THEME) });
  }
  if (bundle.featureImportances) {
    const fi = bundle.featureImportances;
    charts.push({
      id: `bundle${k}-importance`,
      title: 'Feature importance (top 15)',
      figure: featureImportanceFigure(fi.names, fi.values, LIGHT_THEME, 15),
    });
  }
  const html: string[] = [`<p class="al-meta">${escapeHtml(path.basename(file))}</p>`];
  if (result) {
    const s = result.settings;
    html.push(
      htmlTable(
        ['', ''],
        [
          ['threshold', `${formatNumber(result.threshold, 6)} (${thresholdPhrase(s, { resultRate: result.rate })})`],
          ['anomalous scores', result.anomalousCount],
          ['intervals', result.intervals.length],
        ],
      ),
    );
    const metrics = metricsTable(result.metrics);
    if (metrics) html.push(viewerTableHtml(metrics));
    // Only the rows shown are formatted; the note counts the rest (the markdown export has every interval).
    const intervals = intervalsTable(result.intervals, bundle.axis?.unit, {
      labelled: result.labelled.length > 0,
      rows: leadingRows(result.intervals.length, 100),
    });
    html.push('<h4>Detected intervals</h4>', viewerTableHtml(intervals, { maxRows: 100 }));
  }
  const producer = metricsTable(bundle.metrics);
  if (producer) html.push('<h4>Producer metrics</h4>', viewerTableHtml(producer));
  const markdown =
    result && summary ? markdownReport(bundle, result, summary).replace(/^# /, '### ') : `(no scores in ${mdText(path.basename(file))})`;
  return { title: bundle.title, html: html.join(''), markdown, charts };
}

/** A `power detect` output directory without a viewer bundle: MSE, threshold, classified intervals. */
function powerResultsSection(p: NonNullable<RunData['power']>, maxPoints: number): Section {
  const r = p.results;
  const charts: Chart[] = [];
  const bands = r.merged_intervals
    .slice(0, 500)
    .map(([a, b]) => ({ start: a, end: b, color: 'rgba(214,39,40,0.2)', name: 'merged interval' }));
  if (p.mse) {
    // Window i starts at sample i: x = i · sample time from the recording's first sample.
    const x = Float64Array.from({ length: p.mse.length }, (_, i) => i * r.sample_time);
    const ds = downsampled(x, p.mse, 1, 0, maxPoints);
    charts.push(
      lineChart('power-mse', 'Reconstruction MSE per window (merged intervals shaded)', {
        xTitle: 'window start (s after the first sample)',
        traces: [{ name: 'MSE', x: ds.x, y: ds.y, color: '#1f77b4' }],
        bands,
        hline: { y: r.threshold, label: 'threshold' },
      }),
    );
  }
  const counts: Record<string, number> = {};
  for (const pr of r.predictions) counts[pr.predicted_fault] = (counts[pr.predicted_fault] ?? 0) + 1;
  const faults = Object.keys(counts);
  if (faults.length) charts.push({ id: 'power-faults', title: 'Fault distribution', figure: faultDistributionFigure(counts, LIGHT_THEME) });
  const facts = table(
    ['', ''],
    [
      ['data', r.source],
      ['sequence length', r.params.sequence_length],
      ['threshold', `${formatNumber(r.threshold, 6)} (percentile ${r.params.percentile})`],
      ['anomalous windows', `${r.n_anomalous_windows} of ${r.n_windows}`],
      ['merge gap', `${r.params.max_gap_samples} samples`],
      ...Object.entries(r.models ?? {}).map(([k, v]) => [`model: ${k}`, v ?? ''] as Cell[]),
    ],
  );
  // Each interval's prediction by its bounds, looked up once per interval (a find per interval
  // grows with intervals × predictions: 20,000 of each are 4·10⁸ comparisons). The first wins, as find's did.
  const predictionOf = new Map<number, Map<number, (typeof r.predictions)[number]>>();
  for (const q of r.predictions) {
    const byEnd = predictionOf.get(q.start_time) ?? new Map();
    if (!byEnd.has(q.end_time)) byEnd.set(q.end_time, q);
    predictionOf.set(q.start_time, byEnd);
  }
  const iv = intervalsTable(
    r.merged_intervals.map(([start, end]) => {
      const pr = predictionOf.get(start)?.get(end);
      return { start, end, fault: pr?.predicted_fault, confidence: pr?.confidence };
    }),
    'seconds',
    { rows: leadingRows(r.merged_intervals.length, 200) },
  );
  return {
    title: 'Power-system detection',
    html: `${facts.html}<h4>Merged intervals</h4>${viewerTableHtml(iv, { maxRows: 200 })}`,
    markdown: `${facts.md}\n\n#### Merged intervals\n\n${tableMarkdown(iv, 200)}`,
    charts,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

const REPORT_CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px} h4{font-size:14px;margin:12px 0 4px}
.al-meta{color:#666;margin:2px 0 8px}
.al-table{border-collapse:collapse;margin:4px 0 10px;font-size:13px;background:#fff}
.al-table th,.al-table td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;word-break:break-all}
.al-table td.al-num{text-align:right;font-variant-numeric:tabular-nums;word-break:normal}
.al-more{color:#777;font-style:italic}
.al-chart{background:#fff;border:1px solid #e4e4e4;margin:8px 0;min-height:120px}
nav a{margin-right:12px}
`.trim();

function slug(s: string, i: number): string {
  return `s${i}-${s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)}`;
}

/** plotly.min.js from the installed plotly.js-dist-min, made safe to inline in a <script>. */
export function plotlyInlineSource(): string {
  const file = require.resolve('plotly.js-dist-min/plotly.min.js');
  return fs.readFileSync(file, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
}

/** JSON inside <script type="application/json">: `<` escaped so no data can close the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function renderHtml(title: string, sections: Section[], plotly: string): string {
  const specs: unknown[] = [];
  const body: string[] = [];
  const nav = sections.map((s, i) => `<a href="#${slug(s.title, i)}">${escapeHtml(s.title)}</a>`).join('');
  sections.forEach((s, i) => {
    body.push(`<section id="${slug(s.title, i)}"><h2>${escapeHtml(s.title)}</h2>`);
    for (const c of s.charts) {
      // the chart's title is the caption above it (a figure's own title would repeat it)
      const fig = figureToJSON(c.figure);
      delete fig.layout.title;
      specs.push({ id: c.id, ...fig });
      body.push(
        `<h4 class="al-chart-title">${escapeHtml(c.title)}</h4><div class="al-chart" id="${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}"></div>`,
      );
    }
    body.push(s.html, '</section>');
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>${escapeHtml(title)}</title><style>${REPORT_CSS}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p class="al-meta">anomaly-lab experiment report, generated ${escapeHtml(new Date().toISOString())}. Self-contained: works offline.</p><nav>${nav}</nav>
${body.join('\n')}
</main>
<script id="al-plotly">${plotly}</script>
<script type="application/json" id="al-charts">${scriptJson(specs)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('al-charts').textContent);
  var jobs = specs.map(function (s) {
    return Plotly.newPlot(s.id, s.data, s.layout, { displaylogo: false, responsive: true });
  });
  Promise.all(jobs).then(function () { document.body.setAttribute('data-charts-ready', String(specs.length)); },
    function (e) { document.body.setAttribute('data-charts-error', String(e)); });
})();
</script>
</body></html>
`;
}

function renderMarkdown(title: string, sections: Section[], assetDirName: string, svgNames: Map<string, string>): string {
  const out: string[] = [`# ${mdText(title)}`, '', `anomaly-lab experiment report, generated ${new Date().toISOString()}.`, ''];
  for (const s of sections) {
    out.push(`## ${mdText(s.title)}`, '');
    for (const c of s.charts) {
      const name = svgNames.get(c.id);
      if (name) out.push(`![${mdText(c.title)}](${assetDirName}/${name})`, '');
    }
    out.push(s.markdown, '');
  }
  return out.join('\n');
}

/** Build the report sections of a run (exposed for notebooks that want to show parts). */
export function reportSections(d: RunData, opts: RunReportOptions = {}): Section[] {
  const sections: Section[] = [overviewSection(d)];
  const hist = historySection(d);
  if (hist) sections.push(hist);
  const steps = stepScoresSection(d, opts);
  if (steps) sections.push(steps);
  d.bundles.forEach((b, k) => sections.push(bundleSection(b.file, b.bundle, k, opts.maxPoints ?? 4000)));
  // A power viewer bundle already shows the detection; the bare results only when there is none.
  if (d.power && !d.bundles.some((b) => b.bundle.kind === 'power')) sections.push(powerResultsSection(d.power, opts.maxPoints ?? 4000));
  const prov = provenanceSection(d);
  if (prov) sections.push(prov);
  return sections;
}

/**
 * Write `<out>/report.html` (self-contained, offline) and `<out>/report.md` with its SVG charts in
 * `<out>/report-assets/`. Files are written atomically. Returns their paths.
 */
export async function writeRunReport(runDir: string, opts: RunReportOptions = {}): Promise<RunReportFiles> {
  const data = readRunData(runDir, opts);
  const sections = reportSections(data, opts);
  const out = path.resolve(opts.out ?? path.join(data.dir, 'report'));
  const assetDirName = 'report-assets';
  const assets: string[] = [];
  const svgNames = new Map<string, string>();
  await abortPoint(opts.signal, 'writeRunReport');
  for (const s of sections) {
    for (const c of s.charts) {
      const svg = figureSvg(c.figure, { width: 760, title: c.title });
      if (svg === null) continue; // bar and category charts: the tables say it in markdown
      const name = `${c.id}.svg`;
      const file = path.join(out, assetDirName, name);
      writeFileAtomic(file, svg);
      svgNames.set(c.id, name);
      assets.push(file);
    }
  }
  const html = path.join(out, 'report.html');
  const markdown = path.join(out, 'report.md');
  writeFileAtomic(html, renderHtml(data.title, sections, plotlyInlineSource()));
  writeFileAtomic(markdown, renderMarkdown(data.title, sections, assetDirName, svgNames));
  return { html, markdown, assets };
}
