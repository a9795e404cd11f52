/**
 * Progress bar and live training monitor: ONE notebook output each, replaced in place as work
 * advances (no wall of lines in the notebook). Outside a kernel they print to stderr like the
 * training area's terminal reporter (a redrawn line on a TTY, a line every ~5% otherwise).
 *
 *   const bar = new ProgressBar(windows.length, { label: 'scoring' });
 *   ... bar.tick();  bar.finish();
 *
 *   const monitor = new TrainingMonitor({ title: 'site A', maxSteps: 600 });
 *   await train({ ..., onProgress: monitor.onProgress, onSummary: monitor.onSummary });
 *   monitor.finish();
 */
import { trainingViewerBundle } from '../browser/viewer/builders';
import { VIEWER_MIME, type HistoryRow } from '../browser/viewer/types';
import type { StepProgress } from '../training/progress';
import { formatStepLine, formatSummaryLine } from '../training/progress';
import type { HistoryEntry } from '../runs/run-dir';
import { DisplayHandle } from './display';
import { escapeHtml, formatNumber, summaryWrapper } from '../render/html';
import { inNotebook } from './kernel';
import { viewerSummaries } from './summary';

type TextStream = NodeJS.WritableStream & { isTTY?: boolean };

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function barHtml(frac: number, label: string): string {
  // a CSS width (0–100, one decimal), not a number for reading
  const pct = Math.max(0, Math.min(100, frac * 100));
  return `<div><span class="al-bar"><span style="width:${pct.toFixed(1)}%"></span></span> ${escapeHtml(label)}</div>`;
}

function barText(frac: number, label: string, width = 30): string {
  const filled = Math.round(Math.max(0, Math.min(1, frac)) * width);
  return `${'#'.repeat(filled)}${'.'.repeat(width - filled)} ${label}`;
}

export interface ProgressBarOptions {
  label?: string;
  /** minimum ms between redraws (default 250): display messages are not free. */
  minIntervalMs?: number;
  /** text stream outside a kernel (default process.stderr). */
  stream?: TextStream;
}

/** A progress bar: one updating output in a notebook, a redrawn line (TTY) or sparse lines elsewhere. */
export class ProgressBar {
  private totalCount: number;
  private done = 0;
  private readonly label: string;
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastPlainDecile = -1;
  private readonly minIntervalMs: number;
  private readonly stream: TextStream;
  private readonly handle: DisplayHandle | null;
  private finished = false;

  constructor(total: number, opts: ProgressBarOptions = {}) {
    if (!(Number.isInteger(total) && total >= 0)) throw new Error(`ProgressBar: total must be a non-negative integer, got ${total}`);
    this.totalCount = total;
    this.label = opts.label ?? 'progress';
    this.minIntervalMs = opts.minIntervalMs ?? 250;
    this.stream = opts.stream ?? process.stderr;
    this.handle = inNotebook() ? new DisplayHandle({ printUpdates: false }) : null;
    this.draw(true);
  }

  get value(): number {
    return this.done;
  }

  get total(): number {
    return this.totalCount;
  }

  /** Progress callback shape of estimateScores and friends: (done, total). The total may change. */
  update(done: number, total: number): void {
    if (Number.isInteger(total) && total >= 0) this.totalCount = total;
    this.set(done);
  }

  tick(n = 1, info?: string): void {
    this.set(this.done + n, info);
  }

  set(done: number, info?: string): void {
    this.done = Math.min(this.totalCount, Math.max(0, done));
    this.draw(false, info);
  }

  finish(info?: string): void {
    if (this.finished) return;
    this.done = this.total;
    this.draw(true, info);
    this.finished = true;
    if (!this.handle && this.stream.isTTY) this.stream.write('\n');
  }

  private line(info?: string): string {
    const secs = (Date.now() - this.started) / 1000;
    const rate = this.done / Math.max(secs, 1e-9);
    const eta = this.done > 0 ? (this.total - this.done) / rate : NaN;
    return `${this.label} ${this.done}/${this.total} ${clock(secs)} elapsed, eta ${clock(eta)}${info ? ` — ${info}` : ''}`;
  }

  private draw(force: boolean, info?: string): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < this.minIntervalMs && this.done < this.total) return;
    this.lastDraw = now;
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const line = this.line(info);
    if (this.handle) {
      this.handle.show({ 'text/html': summaryWrapper(barHtml(frac, line)), 'text/plain': barText(frac, line) });
      return;
    }
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${barText(frac, line)}`);
      return;
    }
    // Logs: a line at start, every 20th and at the end.
    const bucket = Math.floor(frac * 20);
    if (bucket !== this.lastPlainDecile || (this.done >= this.total && !this.finished)) {
      if (bucket !== this.lastPlainDecile) this.stream.write(barText(frac, line) + '\n');
      this.lastPlainDecile = bucket;
    }
  }
}

export interface TrainingMonitorOptions {
  title?: string;
  maxSteps?: number;
  /** minimum ms between step redraws (default 500); summaries always redraw. */
  minIntervalMs?: number;
  stream?: TextStream;
  /** provenance shown with the bundle (data source, model). */
  source?: string;
}

/**
 * Live training monitor: one output holding the training viewer bundle (the extension's live
 * monitor), an HTML fallback (progress bar, loss/F1 charts, history table) and a text line.
 * Pass `onProgress` / `onSummary` to the training loop; they are bound, so pass them directly.
 */
export class TrainingMonitor {
  readonly history: HistoryRow[] = [];
  private last: StepProgress | null = null;
  private readonly handle: DisplayHandle | null;
  private readonly stream: TextStream;
  private readonly title: string;
  private maxSteps?: number;
  private readonly minIntervalMs: number;
  private lastDraw = 0;
  private plainEvery = 0;
  private finished = false;
  private readonly source?: string;

  constructor(opts: TrainingMonitorOptions = {}) {
    this.title = opts.title ?? 'Training monitor';
    this.maxSteps = opts.maxSteps;
    this.minIntervalMs = opts.minIntervalMs ?? 500;
    this.stream = opts.stream ?? process.stderr;
    this.source = opts.source;
    this.handle = inNotebook() ? new DisplayHandle({ printUpdates: false }) : null;
    this.onProgress = this.onProgress.bind(this);
    this.onSummary = this.onSummary.bind(this);
    this.render();
  }

  onProgress(p: StepProgress): void {
    this.last = p;
    this.maxSteps = p.maxSteps;
    if (this.handle) {
      const now = Date.now();
      if (now - this.lastDraw >= this.minIntervalMs || p.step + 1 >= p.maxSteps) this.render();
      return;
    }
    if (!this.plainEvery) this.plainEvery = Math.max(1, Math.round(p.maxSteps / 20));
    if ((p.step + 1) % this.plainEvery === 0 || p.step + 1 >= p.maxSteps) this.stream.write(formatStepLine(p) + '\n');
  }

  onSummary(e: HistoryEntry): void {
    const row: HistoryRow = { step: e.step, loss: e.loss, accuracy: e.accuracy, lr: e.lr, elapsed_s: e.elapsed_s };
    if (e.test) row.test = { without_pa: e.test.without_pa, with_pa: e.test.with_pa, random_with_pa: e.test.random_with_pa };
    const i = this.history.findIndex((h) => h.step === e.step);
    if (i >= 0) this.history[i] = row;
    else this.history.push(row);
    if (this.handle) this.render();
    else this.stream.write(formatSummaryLine(e) + '\n');
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.render();
  }

  /** The monitor's current viewer bundle (kind 'training'). */
  bundle(): ReturnType<typeof trainingViewerBundle> {
    return trainingViewerBundle({
      title: this.title,
      history: this.history.slice(),
      finished: this.finished,
      maxSteps: this.maxSteps,
      provenance: this.source ? { source: this.source, model: 'AnomalyBERT' } : { model: 'AnomalyBERT' },
    });
  }

  private render(): void {
    this.lastDraw = Date.now();
    if (!this.handle) return;
    const p = this.last;
    const frac = p && this.maxSteps ? (p.step + 1) / this.maxSteps : this.finished ? 1 : 0;
    const line = p ? formatStepLine(p) : this.finished ? 'finished' : 'waiting for the first step…';
    const status = `${this.finished ? 'finished' : 'live'} — ${line}`;
    const bundle = this.bundle();
    const last = this.history[this.history.length - 1];
    const lastText = last
      ? ` | last summary step ${last.step}: loss ${formatNumber(last.loss)}${last.test?.without_pa ? `, F1 ${formatNumber(last.test.without_pa.f1)}` : ''}`
      : '';
    const summary = viewerSummaries(bundle);
    this.handle.show({
      [VIEWER_MIME]: bundle,
      'text/html': summaryWrapper(barHtml(frac, status)) + summary.html,
      'text/plain': `${barText(frac, status)}${lastText}\n${summary.text}`,
    });
  }
}
