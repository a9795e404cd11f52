/**
 * Training progress: the callback types the loop calls (`onProgress` every step, `onSummary`
 * every summary step) and a terminal reporter built on them — a redrawn one-line bar when the
 * stream is a TTY, plain log lines otherwise (CI logs, nohup files, notebooks' stderr).
 *
 * Notebooks pass their own callbacks instead (the notebook layer draws its widgets from them).
 */
import type { HistoryEntry } from '../runs/run-dir';
import { formatFixed, formatPercent, rateText } from '../browser/format';

/** What the loop reports after each optimisation step. */
export interface StepProgress {
  /** The step just completed (0-based; `step + 1` updates have been applied). */
  step: number;
  /** The run's last step (exclusive bound of the updates). */
  maxSteps: number;
  /** First step of this process (initial_iter), for the rate. */
  firstStep: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Steps per second of this process so far. */
  stepsPerSec: number;
  /** Seconds since this process started training. */
  elapsedS: number;
}

export type OnProgress = (p: StepProgress) => void;
export type OnSummary = (entry: HistoryEntry) => void;

export interface TerminalReporterOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force bar or plain mode (default: bar iff the stream is a TTY). */
  tty?: boolean;
  /** Plain mode: print a line every this many steps (default ≈ 20 lines per run, ≥ 1). */
  plainEvery?: number;
  /** Bar mode: minimum milliseconds between redraws (default 100). */
  redrawMs?: number;
}

export interface TerminalReporter {
  onProgress: OnProgress;
  onSummary: OnSummary;
  /** Print a message line without breaking the bar. */
  log(line: string): void;
  /** End the bar line. */
  finish(): void;
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(r).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** One line describing a step: `step 120/3000 loss 0.2310 lr 1.00e-4 2.31 step/s eta 20:47`. */
export function formatStepLine(p: StepProgress): string {
  // Steps 0…max−1 update the weights; the final step max only evaluates them.
  const done = Math.min(p.step + 1, p.maxSteps);
  const remaining = (p.maxSteps - done) / (p.stepsPerSec || Infinity);
  return `step ${done}/${p.maxSteps} loss ${formatFixed(p.loss)} lr ${p.lr.toExponential(2)} ${formatFixed(p.stepsPerSec, 2)} step/s eta ${eta(remaining)}`;
}

/** One line for a summary: loss, accuracy and, with a test set, best F1 without and with PA. */
export function formatSummaryLine(e: HistoryEntry): string {
  let line = `summary step ${e.step}: loss ${formatFixed(e.loss)} accuracy ${formatFixed(e.accuracy)} lr ${e.lr.toExponential(2)}`;
  if (e.test) {
    const t = e.test;
    line +=
      ` | test F1 ${formatFixed(t.without_pa.f1)} (P ${formatFixed(t.without_pa.precision)} R ${formatFixed(t.without_pa.recall)} @ rate ${rateText(t.without_pa.anomaly_rate)})` +
      ` | with PA F1 ${formatFixed(t.with_pa.f1)} (random scores with PA ${formatFixed(t.random_with_pa.f1)})`;
    if (t.pa_k_auc !== undefined) line += ` | PA%K AUC ${formatFixed(t.pa_k_auc)}`;
  }
  return line;
}

/** A reporter writing to stderr (or `stream`): bar on a TTY, plain lines otherwise. */
export function createTerminalReporter(opts: TerminalReporterOptions = {}): TerminalReporter {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean((stream as { isTTY?: boolean }).isTTY);
  const redrawMs = opts.redrawMs ?? 100;
  let lastDraw = 0;
  let barShown = false;

  const clearBar = (): void => {
    if (barShown) {
      stream.write('\r\x1b[2K');
      barShown = false;
    }
  };
  const drawBar = (p: StepProgress): void => {
    const width = Math.max(10, Math.min(40, ((stream as { columns?: number }).columns ?? 100) - 80));
    const frac = Math.min(1, (p.step + 1) / p.maxSteps);
    // (the final, evaluation-only step max reports 100%)
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    stream.write(`\r\x1b[2K${bar} ${formatPercent(frac, 1).padStart(6)} ${formatStepLine(p)}`);
    barShown = true;
  };

  return {
    onProgress(p) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw >= redrawMs || p.step + 1 >= p.maxSteps) {
          lastDraw = now;
          drawBar(p);
        }
        return;
      }
      const every = opts.plainEvery ?? Math.max(1, Math.round(p.maxSteps / 20));
      if ((p.step + 1) % every === 0 || p.step + 1 >= p.maxSteps) stream.write(formatStepLine(p) + '\n');
    },
    onSummary(e) {
      clearBar();
      stream.write(formatSummaryLine(e) + '\n');
    },
    log(line) {
      clearBar();
      stream.write(line + '\n');
    },
    finish() {
      if (barShown) {
        stream.write('\n');
        barShown = false;
      }
    },
  };
}
