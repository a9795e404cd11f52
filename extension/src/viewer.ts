/**
 * The anomaly viewer: one lumino widget that owns its DOM and draws a viewer bundle —
 * header, summary cards, threshold controls, signals + scores (linked zoom), interval table, fault
 * distribution + timeline, feature importances, training monitor, exports.
 *
 * Re-thresholding runs in the browser with kernel-lib's browser code (`BundleDetector`), on the
 * full-resolution scores; only drawing is downsampled. Calling `setBundle` again with a bundle of the
 * same run (a live training update, a re-display) keeps the user's controls, channels and zoom.
 */
import { Widget } from '@lumino/widgets';
import type { Message } from '@lumino/messaging';
import {
  BundleDetector,
  THRESHOLD_MODES,
  THRESHOLD_MODE_INFO,
  anomaliesCsv,
  checkDetectionSettings,
  decodeViewerBundle,
  durationOf,
  durationUnit,
  initialDetectionSettings,
  intervalsTable,
  markdownReport,
  metricsTable,
  parseViewerBundle,
  summarizeDetection,
  switchThresholdMode,
  type DecodedBundle,
  type DetectedInterval,
  type DetectionResult,
  type DetectionSettings,
  type DetectionSummary,
  type ViewerBundle,
  faultDistributionFigure,
  featureImportanceFigure,
  scoresFigure,
  SIGNAL_LAYOUTS,
  type SignalLayout,
  signalsFigure,
  timelineFigure,
  trainingFigure,
  type ViewerTable,
  type XRange,
} from 'anomaly-lab-browser';
import { plotlyDateToMs, readTheme } from './charts';
import { clear, download, fileStem, fmtNumber, fmtPct, h } from './dom';
import type { PlotData, PlotLayout, PlotlyApi, PlotlyElement, PlotlySource } from './plotly-api';
import { viewerSettings, type SettingsStore } from './settings';

export interface AnomalyViewerOptions {
  settings?: SettingsStore;
  /**
   * plotly.js, or a loader called when the first chart draws (JupyterLab: a lazy chunk); null draws
   * no charts (jsdom, where plotly cannot lay out SVG).
   */
  plotly: PlotlySource;
}

/** Columns of the core's intervals table the widget sorts by (the others are not sortable). */
type SortKey = 'index' | 'start' | 'end' | 'duration' | 'samples' | 'peakScore' | 'fault' | 'confidence';
const SORT_KEYS: readonly string[] = ['index', 'start', 'end', 'duration', 'samples', 'peakScore', 'fault', 'confidence'];
const isSortKey = (k: string): k is SortKey => SORT_KEYS.includes(k);

/** Classes of the metrics table's rows and cells (styles and tests find the values by them). */
const METRIC_ROW_CLASS: Record<string, string> = { without_pa: 'al-metrics-raw', with_pa: 'al-metrics-pa' };
const METRIC_CELL_CLASS: Record<string, string> = {
  rate: 'al-m-rate',
  precision: 'al-m-p',
  recall: 'al-m-r',
  f1: 'al-m-f1',
  ess: 'al-m-ess',
};

const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ['select2d', 'lasso2d'] };

/** Hide with the attribute too, so a section stays hidden even before the stylesheet loads. */
function setHidden(el: HTMLElement, hidden: boolean): void {
  el.classList.toggle('al-hidden', hidden);
  el.hidden = hidden;
}

function rangeValue(v: unknown, dateAxis: boolean): number {
  if (dateAxis) return plotlyDateToMs(v);
  return typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
}

function sameRun(a: ViewerBundle | null, b: ViewerBundle): boolean {
  if (!a) return false;
  return (
    a.kind === b.kind &&
    a.title === b.title &&
    a.series?.length === b.series?.length &&
    a.series?.columns.join('\u0000') === b.series?.columns.join('\u0000')
  );
}

/** The core's metrics table as the widget's card: a row per metric, a class per row and value. */
function metricsDom(t: ViewerTable): HTMLElement {
  const [name, ...values] = t.columns;
  return h(
    'table',
    { className: 'al-metrics' },
    h('thead', {}, h('tr', {}, h('th', {}, name.label), ...values.map((c) => h('th', {}, c.label)))),
    h(
      'tbody',
      {},
      ...t.rows.map((r) =>
        h(
          'tr',
          { className: METRIC_ROW_CLASS[r.key] ?? `al-metrics-${r.key}` },
          h('th', {}, r.cells[0]),
          ...r.cells.slice(1).map((c, j) => h('td', { className: METRIC_CELL_CLASS[values[j].key] ?? '' }, c)),
        ),
      ),
    ),
  );
}

export class AnomalyViewer extends Widget {
  private readonly store: SettingsStore;
  private plotly: PlotlyApi | null;
  private plotlyLoader: (() => Promise<PlotlyApi>) | null;
  private decoded: DecodedBundle | null = null;
  private detector: BundleDetector | null = null;
  private controls: DetectionSettings | null = null;
  private result: DetectionResult | null = null;
  private summary: DetectionSummary | null = null;
  private channels: number[] = [];
  /** the layout this viewer's user picked (null: the settings' default). */
  private layoutChoice: SignalLayout | null = null;
  private range: XRange = null;
  private sortKey: SortKey = 'index';
  private sortAsc = true;
  /** pages of the interval table shown (each `maxTableRows` rows; "show more" adds one). */
  private tablePages = 1;
  /** the interval (index in the detection's list) whose row was clicked; kept across sorting and paging. */
  private selectedInterval: number | null = null;
  private plotQueue: Promise<unknown> = Promise.resolve();
  private readonly plotted = new Set<HTMLElement>();
  /** per chart, the latest figure asked for and not yet drawn (see `plot`). */
  private readonly pendingFigures = new Map<HTMLElement, () => { data: PlotData[]; layout: PlotLayout }>();
  private unsubscribe: () => void;

  // DOM sections (created once; filled per bundle)
  private readonly headerEl = h('div', { className: 'al-header' });
  private readonly errorEl = h('div', { className: 'al-error al-hidden', attrs: { role: 'alert', hidden: '' } });
  private readonly cardsEl = h('div', { className: 'al-cards' });
  private readonly controlsEl = h('div', { className: 'al-controls' });
  private readonly statusEl = h('div', { className: 'al-status', attrs: { 'aria-live': 'polite' } });
  private readonly signalsEl = h('div', { className: 'al-chart al-chart-signals' });
  private readonly scoresEl = h('div', { className: 'al-chart al-chart-scores' });
  private readonly tableEl = h('div', { className: 'al-table-wrap' });
  private readonly faultsEl = h('div', { className: 'al-chart al-chart-faults' });
  private readonly timelineEl = h('div', { className: 'al-chart al-chart-timeline' });
  private readonly importanceEl = h('div', { className: 'al-chart al-chart-importance' });
  private readonly trainingStatusEl = h('div', { className: 'al-training-status' });
  private readonly trainingEl = h('div', { className: 'al-chart al-chart-training' });
  private readonly sections: Record<string, HTMLElement>;

  constructor(options: AnomalyViewerOptions) {
    super();
    this.addClass('al-viewer');
    this.store = options.settings ?? viewerSettings;
    this.plotly = typeof options.plotly === 'function' ? null : options.plotly;
    this.plotlyLoader = typeof options.plotly === 'function' ? options.plotly : null;
    this.sections = {
      detection: h(
        'section',
        { className: 'al-section al-detection' },
        this.cardsEl,
        this.controlsEl,
        this.statusEl,
        this.signalsEl,
        this.scoresEl,
      ),
      table: h('section', { className: 'al-section al-intervals' }, h('h4', {}, 'Anomalies'), this.tableEl),
      faults: h('section', { className: 'al-section al-faults' }, h('div', { className: 'al-row' }, this.faultsEl, this.timelineEl)),
      importance: h('section', { className: 'al-section al-importance' }, this.importanceEl),
      training: h(
        'section',
        { className: 'al-section al-training' },
        h('h4', {}, 'Training monitor'),
        this.trainingStatusEl,
        this.trainingEl,
      ),
    };
    this.node.append(this.headerEl, this.errorEl, ...Object.values(this.sections));
    this.unsubscribe = this.store.subscribe(() => {
      // settings may arrive after the first draw (JupyterLab loads them asynchronously)
      const sel = this.controlsEl.querySelector('.al-layout') as HTMLSelectElement | null;
      if (sel) sel.value = this.signalLayout;
      this.redraw();
    });
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.unsubscribe();
    if (this.plotly) for (const el of this.plotted) this.plotly.purge(el);
    this.plotted.clear();
    super.dispose();
  }

  /** The current detection (null before a bundle with scores is shown). */
  get detection(): DetectionResult | null {
    return this.result;
  }

  get bundle(): ViewerBundle | null {
    return this.decoded?.bundle ?? null;
  }

  get detectionSettings(): DetectionSettings | null {
    return this.controls ? { ...this.controls } : null;
  }

  /** The signal layout in effect (the user's pick, else the settings' default). */
  get signalLayout(): SignalLayout {
    return this.layoutChoice ?? this.store.current.signalLayout;
  }

  /** Switch the signal layout (what the "panels" select does). */
  setSignalLayout(layout: SignalLayout): void {
    this.layoutChoice = layout;
    const sel = this.controlsEl.querySelector('.al-layout') as HTMLSelectElement | null;
    if (sel) sel.value = layout;
    this.drawSignals();
  }

  get xRange(): XRange {
    return this.range;
  }

  /** Resolves when every pending chart update has been drawn. */
  whenDrawn(): Promise<void> {
    return this.plotQueue.then(() => undefined);
  }

  /** Show a bundle (object or JSON string). Errors are shown in the widget and rethrown. */
  setBundle(input: unknown, source = 'display data'): void {
    let bundle: ViewerBundle;
    let decoded: DecodedBundle;
    try {
      bundle = parseViewerBundle(input, source);
      decoded = decodeViewerBundle(bundle);
    } catch (err) {
      this.showError((err as Error).message);
      throw err;
    }
    this.showError(null);
    const keep = sameRun(this.decoded?.bundle ?? null, bundle) && this.controls !== null;
    this.decoded = decoded;
    this.detector = decoded.scores && decoded.scores.length ? new BundleDetector(decoded) : null;
    if (!keep) {
      this.controls = this.detector ? initialDetectionSettings(decoded, this.store.current.defaultAnomalyRate) : null;
      this.channels = decoded.columns.map((_, i) => i).slice(0, 8);
      this.layoutChoice = null;
      this.range = null;
      this.sortKey = 'index';
      this.sortAsc = true;
      this.tablePages = 1;
      this.buildControls();
    }
    this.renderHeader();
    this.detect();
    this.redraw();
  }

  /** Change detection controls programmatically (what the inputs do). */
  applySettings(patch: Partial<DetectionSettings>): void {
    if (!this.controls) return;
    const next = { ...this.controls, ...patch };
    try {
      checkDetectionSettings(next); // refuse bad values before anything changes
    } catch (err) {
      this.setStatus((err as Error).message, true);
      return;
    }
    this.controls = next;
    this.syncControlInputs();
    this.detect();
    this.renderDetectionViews();
  }

  /** Zoom both linked charts to [start, end] (x units), with a margin. */
  zoomTo(start: number, end: number): void {
    const span = Math.max(end - start, 0);
    const x = this.decoded?.x;
    const dt = x && x.length > 1 ? x[1] - x[0] : 1;
    const pad = Math.max(span * 0.25, 10 * dt);
    this.range = [start - pad, end + pad];
    this.drawLinked();
  }

  resetZoom(): void {
    this.range = null;
    this.drawLinked();
  }

  exportCsv(): string {
    if (!this.decoded || !this.result) return '';
    const text = anomaliesCsv(this.decoded.bundle, this.result);
    download(`${fileStem(this.decoded.bundle.title)}-anomalies.csv`, text, 'text/csv');
    return text;
  }

  exportMarkdown(): string {
    if (!this.decoded || !this.result || !this.summary) return '';
    const text = markdownReport(this.decoded.bundle, this.result, this.summary);
    download(`${fileStem(this.decoded.bundle.title)}-report.md`, text, 'text/markdown');
    return text;
  }

  async exportPng(): Promise<void> {
    if (!this.chartsEnabled || !this.decoded) return;
    await this.whenDrawn();
    if (!this.plotly) return;
    const el = this.plotted.has(this.signalsEl) ? this.signalsEl : this.scoresEl;
    const url = await this.plotly.toImage(el, {
      format: 'png',
      width: Math.max(800, el.clientWidth),
      height: el.clientHeight || 300,
      scale: 2,
    });
    const bytes = Uint8Array.from(atob(url.slice(url.indexOf(',') + 1)), (c) => c.charCodeAt(0));
    download(`${fileStem(this.decoded.bundle.title)}-chart.png`, new Blob([bytes], { type: 'image/png' }));
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.redraw();
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    if (!this.plotly) return;
    for (const el of this.plotted) if (el.offsetParent !== null) void this.plotly.Plots.resize(el);
  }

  // ---------------------------------------------------------------- state

  private detect(): void {
    if (this.detector && this.controls) {
      this.result = this.detector.run(this.controls);
      this.summary = summarizeDetection(this.result);
      // a new detection numbers its intervals anew: a selection by index would point at another one
      this.selectedInterval = null;
    } else {
      this.result = null;
      this.summary = null;
    }
  }

  private showError(message: string | null): void {
    this.errorEl.textContent = message ?? '';
    setHidden(this.errorEl, message === null);
  }

  private setStatus(message: string, isError = false): void {
    this.statusEl.textContent = message;
    this.statusEl.classList.toggle('al-status-error', isError);
  }

  // ---------------------------------------------------------------- DOM

  private renderHeader(): void {
    const b = this.decoded!.bundle;
    clear(this.headerEl);
    this.headerEl.append(h('h3', { className: 'al-title' }, b.title));
    const p = b.provenance ?? {};
    const parts = Object.entries(p)
      .filter(([, v]) => typeof v === 'string' && v.length > 0)
      .map(([k, v]) => `${k}: ${v}`);
    if (parts.length) this.headerEl.append(h('div', { className: 'al-provenance' }, parts.join(' · ')));
  }

  private buildControls(): void {
    clear(this.controlsEl);
    const d = this.decoded!;
    if (!this.controls) return;
    const c = this.controls;
    // one option per threshold mode, labelled by the threshold module (anomaly-lab-browser)
    const modeOptions = THRESHOLD_MODES.map((m) => h('option', { attrs: { value: m } }, THRESHOLD_MODE_INFO[m].controlLabel));
    const mode = h('select', { className: 'al-input al-mode', attrs: { 'aria-label': 'threshold mode' } }, ...modeOptions);
    mode.value = c.mode;
    const value = h('input', {
      className: 'al-input al-threshold',
      attrs: { type: 'number', step: 'any', 'aria-label': 'threshold value' },
    });
    const slider = h('input', { className: 'al-slider', attrs: { type: 'range', 'aria-label': 'threshold slider' } });
    const ewma = h('input', {
      className: 'al-input al-ewma',
      attrs: { type: 'number', min: '0', max: '0.99', step: '0.05', 'aria-label': 'EWMA smoothing weight' },
    });
    const gap = h('input', {
      className: 'al-input al-gap',
      attrs: { type: 'number', min: '0', step: '1', 'aria-label': 'max merge gap (samples)' },
    });
    const pa = h('input', { className: 'al-pa', attrs: { type: 'checkbox', 'aria-label': 'point adjustment' } });

    const thresholdFromInput = (raw: string): Partial<DetectionSettings> | null => {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) {
        this.setStatus(`threshold: "${raw}" is not a number`, true);
        return null;
      }
      const current = THRESHOLD_MODES.find((m) => m === mode.value) ?? this.controls!.mode;
      const reading = THRESHOLD_MODE_INFO[current].fromControl(v);
      if ('error' in reading) {
        this.setStatus(reading.error, true);
        return null;
      }
      return reading.patch;
    };
    mode.addEventListener('change', () => {
      const to = THRESHOLD_MODES.find((m) => m === mode.value);
      if (!to) return;
      // keep the same threshold when switching views of it (threshold module: switchThresholdMode)
      this.applySettings(switchThresholdMode(this.controls!, to, { threshold: this.result?.threshold, rate: this.result?.rate }));
    });
    value.addEventListener('change', () => {
      const patch = thresholdFromInput(value.value);
      if (patch) this.applySettings(patch);
    });
    let pending = 0;
    slider.addEventListener('input', () => {
      value.value = slider.value;
      // coalesce slider moves to one detection per frame
      if (pending) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => {
        pending = 0;
        const patch = thresholdFromInput(slider.value);
        if (patch) this.applySettings(patch);
      });
    });
    ewma.addEventListener('change', () => {
      const v = Number(ewma.value);
      if (ewma.value.trim() === '' || !(v >= 0 && v < 1))
        this.setStatus(`EWMA smoothing: weight must be in [0, 1), got "${ewma.value}"`, true);
      else this.applySettings({ ewma: v });
    });
    gap.addEventListener('change', () => {
      const v = Number(gap.value);
      if (gap.value.trim() === '' || !(v >= 0) || !Number.isInteger(v))
        this.setStatus(`max merge gap: expected a whole number of samples ≥ 0, got "${gap.value}"`, true);
      else this.applySettings({ maxGapSamples: v });
    });
    pa.addEventListener('change', () => this.applySettings({ pointAdjust: pa.checked }));

    const field = (label: string, ...inputs: HTMLElement[]): HTMLElement =>
      h('label', { className: 'al-field' }, h('span', { className: 'al-field-label' }, label), ...inputs);
    this.controlsEl.append(field('threshold', mode, value, slider), field('EWMA', ewma), field('merge gap (samples)', gap));
    if (d.labels) this.controlsEl.append(field('point adjustment', pa));
    if (d.columns.length) {
      const picker = h('fieldset', { className: 'al-channels' }, h('legend', {}, 'channels'));
      d.columns.forEach((name, i) => {
        const box = h('input', { attrs: { type: 'checkbox', 'data-channel': String(i) } });
        box.checked = this.channels.includes(i);
        box.addEventListener('change', () => {
          this.channels = box.checked ? [...this.channels, i].sort((a, b) => a - b) : this.channels.filter((k) => k !== i);
          this.drawSignals();
        });
        picker.append(h('label', { className: 'al-channel' }, box, name));
      });
      this.controlsEl.append(picker);
      const layout = h(
        'select',
        { className: 'al-input al-layout', attrs: { 'aria-label': 'signal layout' } },
        ...SIGNAL_LAYOUTS.map(([v, label]) => h('option', { attrs: { value: v } }, label)),
      );
      layout.value = this.signalLayout;
      layout.addEventListener('change', () => this.setSignalLayout(layout.value as SignalLayout));
      this.controlsEl.append(field('panels', layout));
    }
    const buttons = h(
      'div',
      { className: 'al-buttons' },
      h('button', { className: 'al-button al-export-csv', onClick: () => this.exportCsv() }, 'Anomalies CSV'),
      h('button', { className: 'al-button al-export-md', onClick: () => this.exportMarkdown() }, 'Markdown report'),
      this.chartsEnabled ? h('button', { className: 'al-button al-export-png', onClick: () => void this.exportPng() }, 'Chart PNG') : null,
      h('button', { className: 'al-button al-reset-zoom', onClick: () => this.resetZoom() }, 'Reset zoom'),
    );
    this.controlsEl.append(buttons);
    this.syncControlInputs();
  }

  private syncControlInputs(): void {
    const c = this.controls;
    if (!c) return;
    const q = <T extends HTMLElement>(sel: string): T | null => this.controlsEl.querySelector(sel) as T | null;
    const mode = q<HTMLSelectElement>('.al-mode');
    const value = q<HTMLInputElement>('.al-threshold');
    const slider = q<HTMLInputElement>('.al-slider');
    if (mode) mode.value = c.mode;
    const info = THRESHOLD_MODE_INFO[c.mode];
    const v = info.controlValue(c);
    if (value) {
      value.value = String(v);
      // typed only (no slider): a wider box for the full number
      value.classList.toggle('al-threshold-fixed', !info.slider);
    }
    if (slider) {
      // a mode without a natural range (a fixed value) is typed only: the slider is hidden
      slider.hidden = !info.slider;
      if (info.slider) {
        Object.assign(slider, { min: String(info.slider.min), max: String(info.slider.max), step: String(info.slider.step) });
        slider.value = String(v);
      }
    }
    const ewma = q<HTMLInputElement>('.al-ewma');
    if (ewma) ewma.value = String(c.ewma);
    const gap = q<HTMLInputElement>('.al-gap');
    if (gap) gap.value = String(c.maxGapSamples);
    const pa = q<HTMLInputElement>('.al-pa');
    if (pa) pa.checked = c.pointAdjust;
    this.setStatus('');
  }

  private renderCards(): void {
    clear(this.cardsEl);
    const r = this.result;
    const s = this.summary;
    const d = this.decoded!;
    if (!r || !s) return;
    const unit = d.bundle.axis?.unit ?? 'index';
    const card = (label: string, value: string, cls: string): HTMLElement =>
      h(
        'div',
        { className: `al-card ${cls}` },
        h('div', { className: 'al-card-value' }, value),
        h('div', { className: 'al-card-label' }, label),
      );
    this.cardsEl.append(
      card('total anomalies', String(s.total), 'al-card-total'),
      card(d.bundle.scores?.alignment === 'window' ? 'anomalous windows' : 'anomalous points', String(s.anomalousPoints), 'al-card-points'),
      s.faultTypes > 0 || d.bundle.classes ? card('fault types', String(s.faultTypes), 'al-card-faults') : '',
      card(`mean duration (${durationUnit(unit)})`, fmtNumber(durationOf(0, s.meanDuration, unit)), 'al-card-duration'),
      card('threshold', fmtNumber(r.threshold), 'al-card-threshold'),
    );
    const mt = metricsTable(r.metrics);
    if (mt) this.cardsEl.append(h('div', { className: 'al-card al-card-metrics' }, metricsDom(mt)));
  }

  private sortedIntervals(): Array<{ row: DetectedInterval; index: number }> {
    const rows = (this.result?.intervals ?? []).map((row, index) => ({ row, index }));
    const key = this.sortKey;
    const val = (e: { row: DetectedInterval; index: number }): number | string => {
      switch (key) {
        case 'start':
          return e.row.start;
        case 'end':
          return e.row.end;
        case 'samples':
          return e.row.endIndex - e.row.startIndex;
        case 'duration':
          return e.row.end - e.row.start;
        case 'peakScore':
          return e.row.peakScore;
        case 'fault':
          return e.row.fault ?? '';
        case 'confidence':
          return e.row.confidence ?? -1;
        default:
          return e.index;
      }
    };
    rows.sort((a, b) => {
      const va = val(a);
      const vb = val(b);
      const c = typeof va === 'string' ? va.localeCompare(vb as string) : (va as number) - (vb as number);
      return (this.sortAsc ? c : -c) || a.index - b.index;
    });
    return rows;
  }

  /**
   * The interval table shows a page of rows: the first `maxTableRows` of the sorted intervals, more
   * by "show more". Only the rows shown are formatted and built (a bundle with 100,000 intervals
   * costs a sort of indices, not 100,000 formatted DOM rows); the CSV and markdown exports build
   * their own complete tables.
   */
  private renderTable(): void {
    clear(this.tableEl);
    const r = this.result;
    if (!r) return;
    const head = h('tr', {});
    const body = h('tbody', {});
    const footer = h('div', { className: 'al-table-footer' });
    const sorted = this.sortedIntervals();
    const pageRows = this.store.current.maxTableRows;
    const shown = Math.min(sorted.length, this.tablePages * pageRows);
    const columns = this.appendIntervalRows(body, sorted.slice(0, shown));
    for (const col of columns) {
      const key = col.key;
      if (!isSortKey(key)) {
        head.append(h('th', {}, col.label));
        continue;
      }
      const th = h(
        'th',
        { attrs: { 'data-sort': key, 'aria-sort': this.sortKey === key ? (this.sortAsc ? 'ascending' : 'descending') : 'none' } },
        col.label + (this.sortKey === key ? (this.sortAsc ? ' ▲' : ' ▼') : ''),
      );
      th.addEventListener('click', () => {
        if (this.sortKey === key) this.sortAsc = !this.sortAsc;
        else {
          this.sortKey = key;
          this.sortAsc = key === 'index' || key === 'start' || key === 'end' || key === 'fault';
        }
        this.renderTable();
      });
      head.append(th);
    }
    this.tableEl.append(h('table', { className: 'al-table' }, h('thead', {}, head), body), footer);
    this.renderTableFooter(footer, body, sorted, shown);
    if (sorted.length === 0) this.tableEl.append(h('div', { className: 'al-note' }, 'no anomalies at this threshold'));
  }

  /** The note under a partial table and its "show more" button, which appends the next page of rows. */
  private renderTableFooter(footer: HTMLElement, body: HTMLElement, sorted: Array<{ index: number }>, shown: number): void {
    clear(footer);
    setHidden(footer, shown >= sorted.length);
    if (shown >= sorted.length) return;
    const more = Math.min(this.store.current.maxTableRows, sorted.length - shown);
    footer.append(
      h('div', { className: 'al-note' }, `showing ${shown} of ${sorted.length} intervals (the CSV export has all)`),
      h(
        'button',
        {
          className: 'al-button al-show-more',
          onClick: () => {
            // appended to the rows shown (already-built rows, the scroll position and the selection stay)
            this.tablePages++;
            const next = Math.min(sorted.length, shown + more);
            this.appendIntervalRows(body, sorted.slice(shown, next));
            this.renderTableFooter(footer, body, sorted, next);
          },
        },
        `show ${more} more`,
      ),
    );
  }

  /**
   * Format (the core's table, same cells as the exports and the report) and append rows for
   * `entries`, in their order; returns the table's columns. The widget adds the row click (select,
   * zoom) and the overlap mark on a fault.
   */
  private appendIntervalRows(body: HTMLElement, entries: Array<{ index: number }>): ViewerTable['columns'] {
    const r = this.result!;
    const intervals = r.intervals;
    const table = intervalsTable(intervals, this.decoded!.bundle.axis?.unit ?? 'index', {
      labelled: r.labelled.length > 0,
      rows: entries.map((e) => e.index),
    });
    table.rows.forEach((tableRow, k) => {
      const index = entries[k].index;
      const row = intervals[index];
      const cells = tableRow.cells.map((text, j) => {
        const col = table.columns[j];
        const cls = [col.numeric ? 'al-num' : '', col.key === 'fault' ? 'al-fault' : ''].filter(Boolean).join(' ');
        if (col.key === 'fault' && row.classifiedBy === 'overlap')
          return h(
            'td',
            { className: cls, attrs: { 'data-col': col.key }, title: 'class of the overlapping interval the kernel classified' },
            `${text} ≈`,
          );
        return h('td', { className: cls, attrs: { 'data-col': col.key } }, text);
      });
      const selected = this.selectedInterval === index;
      const tr = h(
        'tr',
        {
          className: `al-interval-row${selected ? ' al-selected' : ''}`,
          attrs: { 'data-interval': String(index) },
          title: 'click to zoom',
        },
        ...cells,
      );
      tr.addEventListener('click', () => {
        this.tableEl.querySelectorAll('tr.al-selected').forEach((e) => e.classList.remove('al-selected'));
        tr.classList.add('al-selected');
        this.selectedInterval = index;
        this.zoomTo(row.start, row.end);
      });
      body.append(tr);
    });
    return table.columns;
  }

  // ---------------------------------------------------------------- charts

  /** Redraw every chart (theme or settings changed). */
  refresh(): void {
    this.redraw();
  }

  private redraw(): void {
    if (!this.decoded) return;
    const b = this.decoded.bundle;
    setHidden(this.sections.detection, !this.result && this.decoded.columns.length === 0);
    setHidden(this.sections.table, !this.result);
    setHidden(this.sections.importance, !b.featureImportances);
    setHidden(this.sections.training, !b.training);
    this.renderDetectionViews();
    this.drawImportance();
    this.drawTraining();
  }

  private renderDetectionViews(): void {
    this.renderCards();
    this.renderTable();
    const hasFaults = !!this.result && this.result.intervals.some((i) => i.fault !== undefined);
    setHidden(this.sections.faults, !hasFaults);
    this.drawLinked();
    if (hasFaults) this.drawFaults();
  }

  /** Whether this viewer draws charts (plotly given or loadable). */
  private get chartsEnabled(): boolean {
    return this.plotly !== null || this.plotlyLoader !== null;
  }

  private async getPlotly(): Promise<PlotlyApi | null> {
    if (!this.plotly && this.plotlyLoader) this.plotly = await this.plotlyLoader();
    return this.plotly;
  }

  /**
   * Queue a draw of `el`. The figure is built when the queue reaches it, from the state then, and
   * only once however many updates arrived meanwhile (a slider drag or a zoom burst queues one draw
   * per chart, not one figure per event); nothing is built when no chart can be drawn.
   */
  private plot(
    el: HTMLElement,
    build: () => { data: PlotData[]; layout: PlotLayout },
    onRelayout?: (ev: Record<string, unknown>) => void,
  ): void {
    if (!this.chartsEnabled || !this.isAttached) return;
    const queued = this.pendingFigures.has(el);
    this.pendingFigures.set(el, build);
    if (queued) return;
    this.plotQueue = this.plotQueue
      .then(async () => {
        const plotly = await this.getPlotly();
        const latest = this.pendingFigures.get(el);
        this.pendingFigures.delete(el);
        if (this.isDisposed || !plotly || !latest) return;
        const fig = latest();
        if (!this.plotted.has(el)) {
          const gd: PlotlyElement = await plotly.newPlot(el, fig.data, fig.layout, PLOT_CONFIG);
          this.plotted.add(el);
          if (onRelayout) gd.on('plotly_relayout', (ev) => onRelayout(ev as Record<string, unknown>));
        } else {
          await plotly.react(el, fig.data, fig.layout, PLOT_CONFIG);
        }
      })
      .catch((err: Error) => this.showError(`chart: ${err.message}`));
  }

  private onZoom(ev: Record<string, unknown>): void {
    const dateAxis = this.decoded?.bundle.axis?.unit === 'epoch_ms';
    if (ev['xaxis.autorange'] === true) {
      this.range = null;
    } else if (ev['xaxis.range[0]'] !== undefined || Array.isArray(ev['xaxis.range'])) {
      const r = (ev['xaxis.range'] as unknown[]) ?? [ev['xaxis.range[0]'], ev['xaxis.range[1]']];
      const a = rangeValue(r[0], dateAxis);
      const b = rangeValue(r[1], dateAxis);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return;
      this.range = [Math.min(a, b), Math.max(a, b)];
    } else {
      return;
    }
    // redraw both at the new range: the one zoomed gets full-resolution points, the other follows
    this.drawLinked();
  }

  private drawLinked(): void {
    this.drawSignals();
    this.drawScores();
  }

  private drawSignals(): void {
    const d = this.decoded;
    if (!d || d.columns.length === 0) {
      setHidden(this.signalsEl, true);
      return;
    }
    setHidden(this.signalsEl, false);
    const { result, channels, range, signalLayout } = this;
    this.plot(
      this.signalsEl,
      () => signalsFigure(d, result, channels, range, this.store.current, readTheme(this.node), signalLayout),
      (ev) => this.onZoom(ev),
    );
  }

  private drawScores(): void {
    const d = this.decoded;
    if (!d || !this.result) {
      setHidden(this.scoresEl, true);
      return;
    }
    setHidden(this.scoresEl, false);
    const { result, range } = this;
    this.plot(
      this.scoresEl,
      () => scoresFigure(d, result, range, this.store.current, readTheme(this.node)),
      (ev) => this.onZoom(ev),
    );
  }

  private drawFaults(): void {
    const summary = this.summary!;
    const d = this.decoded!;
    const result = this.result!;
    this.plot(this.faultsEl, () => faultDistributionFigure(summary.faultCounts, readTheme(this.node)));
    this.plot(this.timelineEl, () => timelineFigure(d, result.intervals, readTheme(this.node)));
  }

  private drawImportance(): void {
    const fi = this.decoded?.bundle.featureImportances;
    if (!fi) return;
    this.plot(this.importanceEl, () => featureImportanceFigure(fi.names, fi.values, readTheme(this.node)));
  }

  private drawTraining(): void {
    const t = this.decoded?.bundle.training;
    if (!t) return;
    const last = t.history[t.history.length - 1];
    const state = t.finished === false ? 'live' : 'finished';
    const progress = last ? `step ${last.step}${t.maxSteps ? ` of ${t.maxSteps}` : ''}` : 'no steps yet';
    const lastF1 = [...t.history].reverse().find((r) => r.test?.with_pa)?.test?.with_pa?.f1;
    this.trainingStatusEl.textContent = `${state} · ${progress}${last?.loss != null ? ` · loss ${fmtNumber(last.loss)}` : ''}${typeof lastF1 === 'number' ? ` · validation F1 (PA) ${fmtPct(lastF1)}` : ''}`;
    this.trainingStatusEl.classList.toggle('al-live', t.finished === false);
    this.plot(this.trainingEl, () => trainingFigure(t.history, readTheme(this.node)));
  }
}
