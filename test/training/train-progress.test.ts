/** Terminal progress: a redrawn bar on a TTY, plain lines otherwise; summary lines carry the PA caveat. */
import { Writable } from 'stream';
import type { HistoryEntry } from 'anomaly-lab/runs';
import { createTerminalReporter, formatStepLine, formatSummaryLine, type StepProgress } from 'anomaly-lab/training';

function sink(isTTY: boolean): { stream: Writable & { isTTY?: boolean; columns?: number }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 120;
  return { stream, text: () => chunks.join('') };
}

const progress = (step: number, maxSteps = 100): StepProgress => ({
  step,
  maxSteps,
  firstStep: 0,
  loss: 0.25,
  lr: 1e-4,
  gradNorm: 0.5,
  stepsPerSec: 4,
  elapsedS: step / 4,
});

const entry: HistoryEntry = {
  step: 500,
  loss: 0.1234,
  accuracy: 0.95,
  lr: 5e-5,
  elapsed_s: 100,
  test: {
    without_pa: { anomaly_rate: 0.05, precision: 0.5, recall: 0.4, f1: 0.4444, ess_score: 0.45 },
    with_pa: { anomaly_rate: 0.02, precision: 0.9, recall: 0.95, f1: 0.9243, ess_score: 0.925 },
    random_with_pa: { anomaly_rate: 0.3, precision: 0.8, recall: 1, f1: 0.8889, ess_score: 0.9 },
    pa_k_auc: 0.55,
  },
};

describe('progress reporting', () => {
  test('step line: step, loss, lr, rate and ETA; the final evaluation step does not overshoot', () => {
    expect(formatStepLine(progress(9))).toBe('step 10/100 loss 0.2500 lr 1.00e-4 4.00 step/s eta 00:23');
    expect(formatStepLine(progress(100))).toMatch(/^step 100\/100 /);
  });

  test('summary line shows F1 without PA first and the random-score PA baseline beside PA', () => {
    const line = formatSummaryLine(entry);
    expect(line).toMatch(/summary step 500: loss 0\.1234 accuracy 0\.9500/);
    expect(line).toMatch(/test F1 0\.4444 \(P 0\.5000 R 0\.4000 @ rate 5\.00%\)/);
    expect(line).toMatch(/with PA F1 0\.9243 \(random scores with PA 0\.8889\)/);
    expect(line).toMatch(/PA%K AUC 0\.5500/);
  });

  test('not a TTY: plain lines every plainEvery steps, no carriage returns', () => {
    const s = sink(false);
    const r = createTerminalReporter({ stream: s.stream, plainEvery: 25 });
    for (let i = 0; i < 100; i++) r.onProgress(progress(i));
    r.onSummary(entry);
    r.finish();
    const lines = s.text().trim().split('\n');
    expect(lines.filter((l) => l.startsWith('step ')).map((l) => l.split(' ')[1])).toEqual(['25/100', '50/100', '75/100', '100/100']);
    expect(s.text()).not.toMatch(/\r/);
    expect(lines[lines.length - 1]).toMatch(/^summary step 500/);
  });

  test('TTY: the bar is redrawn in place and cleared before a summary line', () => {
    const s = sink(true);
    const r = createTerminalReporter({ stream: s.stream, redrawMs: 0 });
    r.onProgress(progress(49));
    r.onSummary(entry);
    r.onProgress(progress(99));
    r.finish();
    const out = s.text();
    expect(out).toMatch(/\r\x1b\[2K█+░+ +50\.0% step 50\/100/);
    expect(out).toMatch(/\r\x1b\[2Ksummary step 500/);
    expect(out).toMatch(/100\.0% step 100\/100 .*\n$/);
  });
});
