/**
 * The notebook layer outside a kernel (plain Node): fallbacks are complete and escaped, helpers
 * print text, tables and frames carry the data. The real-kernel path (multi-MIME outputs, in-place
 * updates) is checked on executed notebooks in executed-notebooks.test.ts.
 */
import { anomalyBertViewerBundle, powerViewerBundle, trainingViewerBundle, VIEWER_MIME, scoreAtRate, shareText } from 'anomaly-lab/core';
import {
  DisplayHandle,
  display,
  showTable,
  viewerMimeBundle,
  inNotebook,
  sendDisplayData,
  ProgressBar,
  TrainingMonitor,
  viewerSummaryHtml,
  viewerSummaryText,
  describeSeries,
  intervalsFrame,
  metricsFrame,
  frameCells,
  seriesFrame,
} from 'anomaly-lab/notebook';
import { escapeHtml, htmlTable, svgLineChart } from 'anomaly-lab/render';

const EVIL = '<img src=x onerror="alert(1)">';

/** A scored series with one labelled burst the scores find (built here, not a fixture). */
function scored(n = 1000): { values: Float32Array; scores: Float32Array; labels: Uint8Array } {
  const values = new Float32Array(n * 2);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    values[2 * i] = Math.sin(i / 30);
    values[2 * i + 1] = (i % 17) / 17;
    scores[i] = 0.1 + 0.01 * Math.sin(i);
    if (i >= 300 && i < 320) {
      labels[i] = 1;
      scores[i] = 0.8 + i / 10000;
    }
  }
  return { values, scores, labels };
}

class Sink {
  text = '';
  isTTY = false;
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

describe('notebook layer outside a kernel', () => {
  it('has no kernel channel in plain Node', () => {
    expect(inNotebook()).toBe(false);
    expect(sendDisplayData({ 'text/plain': 'x' })).toBe(false);
  });

  it('builds the viewer MIME bundle with HTML and text fallbacks that name metrics and intervals, escaping data', () => {
    const { values, scores, labels } = scored();
    const with_pa = scoreAtRate(scores, labels, 0.02, { pointAdjust: true });
    const without_pa = scoreAtRate(scores, labels, 0.02);
    const bundle = anomalyBertViewerBundle({
      title: `site ${EVIL}`,
      series: { columns: [EVIL, 'soc'], values, source: `file ${EVIL}.csv` },
      scores,
      labels,
      rate: 0.02,
      metrics: { with_pa, without_pa },
    });
    const data = viewerMimeBundle(bundle);
    expect(Object.keys(data).sort()).toEqual([VIEWER_MIME, 'text/html', 'text/plain'].sort());
    expect(data[VIEWER_MIME]).toBe(bundle);
    const html = data['text/html'] as string;
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(EVIL));
    expect(html).toContain('<svg');
    // metrics rows with the values the metrics module computed, as the core's tables show shares
    expect(html).toContain('with PA');
    expect(html).toContain(shareText(with_pa.f1));
    // one detected interval: the 20 scored points above the 2% threshold
    const text = data['text/plain'] as string;
    expect(text).toMatch(/detected intervals: 1/);
    expect(text).toMatch(/labels: 20 anomalous of 1000 \(1 labelled intervals\)/);
    expect(text).toContain('300'); // interval start index
    // one decode and detection serve both fallbacks: they are the standalone summaries
    expect(html).toBe(viewerSummaryHtml(bundle));
    expect(text).toBe(viewerSummaryText(bundle));
  });

  it('lists the producer intervals of a power bundle with fault and confidence', () => {
    const n = 400;
    const time = Float64Array.from({ length: n }, (_, i) => i * 5e-5);
    const values = new Float32Array(n * 6).map((_, k) => Math.sin(k / 7));
    const mse = new Float32Array(n - 49).map((_, i) => (i > 100 && i < 120 ? 5 + i / 100 : 0.1));
    const bundle = powerViewerBundle({
      time,
      columns: ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'],
      values,
      mse,
      sequenceLength: 50,
      percentile: 95,
      maxGapSamples: 10,
      intervals: [{ start: time[101], end: time[168], fault: `LLG${EVIL}`, confidence: 0.87 }],
      featureImportances: { names: ['Va_rms', 'Ia_std'], values: [0.7, 0.3] },
    });
    const html = viewerSummaryHtml(bundle);
    expect(html).toContain('LLG&lt;img');
    expect(html).toContain('87.00%');
    expect(html).toContain('Feature importance');
    expect(viewerSummaryText(bundle)).toMatch(/windows of 50 rows/);
  });

  it('prints text outside a kernel; a handle prints changed content only', () => {
    const out: string[] = [];
    const h = new DisplayHandle({ out: (t) => out.push(t) });
    h.show({ 'text/plain': 'a', 'text/html': '<b>a</b>' });
    h.show({ 'text/plain': 'a' });
    h.show({ 'text/plain': 'b' });
    expect(out).toEqual(['a', 'b']);
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      display({ 'text/plain': 'plain line' });
      showTable(['name', 'x'], [[EVIL, 1.5]], { title: 'T' });
      const printed = spy.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain('plain line');
      expect(printed).toMatch(/T\nname\s+x/);
    } finally {
      spy.mockRestore();
    }
  });

  it('progress bar and training monitor write sparse lines to a non-TTY stream', () => {
    const sink = new Sink();
    const bar = new ProgressBar(100, { label: 'scoring', stream: sink as unknown as NodeJS.WritableStream, minIntervalMs: 0 });
    for (let i = 0; i < 100; i++) bar.tick();
    bar.finish();
    const lines = sink.text.trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(22);
    expect(lines[lines.length - 1]).toMatch(/scoring 100\/100/);
    const mon = new TrainingMonitor({ maxSteps: 40, stream: sink as unknown as NodeJS.WritableStream });
    for (let step = 0; step < 40; step++)
      mon.onProgress({
        step,
        maxSteps: 40,
        firstStep: 0,
        loss: 1 / (step + 1),
        lr: 1e-4,
        gradNorm: 1,
        stepsPerSec: 10,
        elapsedS: step / 10,
      });
    mon.onSummary({ step: 40, loss: 0.02, accuracy: 0.9, lr: 1e-4, elapsed_s: 4 });
    mon.finish();
    expect(sink.text).toMatch(/summary step 40: loss 0\.0200/);
    const b = mon.bundle();
    expect(b.kind).toBe('training');
    expect(b.training?.finished).toBe(true);
    expect(b.training?.history).toEqual([{ step: 40, loss: 0.02, accuracy: 0.9, lr: 1e-4, elapsed_s: 4 }]);
  });

  it('renders training bundles with loss chart and history table', () => {
    const history = Array.from({ length: 15 }, (_, i) => ({
      step: (i + 1) * 10,
      loss: 1 / (i + 1),
      accuracy: 0.5 + i / 40,
      lr: 1e-4,
      elapsed_s: i,
    }));
    const html = viewerSummaryHtml(trainingViewerBundle({ history, maxSteps: 150 }));
    expect(html).toContain('Training loss per summary');
    expect(html).toContain('first 4 and last 8 summaries');
  });

  it('escapes every table cell and keeps SVG labels inert', () => {
    expect(htmlTable([EVIL], [[EVIL]])).not.toMatch(/<img/);
    expect(svgLineChart([{ name: EVIL, values: [1, 2, 3], color: 'red' }], { title: EVIL })).not.toMatch(/<img/);
  });
});

describe('danfojs frames', () => {
  it('describes a series like pandas (sample std, linear quartiles) and tabulates intervals and metrics', () => {
    const values = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    const d = describeSeries({ columns: ['a', 'b'], length: 4, values });
    expect(d.index).toEqual(['count', 'mean', 'std', 'min', '25%', '50%', '75%', 'max']);
    const a = d.column('a').values as number[];
    // numpy: np.std([1,2,3,4], ddof=1) = 1.2909944487358056; quantile .25 = 1.75
    expect(a[0]).toBe(4);
    expect(a[1]).toBeCloseTo(2.5, 12);
    expect(a[2]).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(a[4]).toBeCloseTo(1.75, 12);
    const s = seriesFrame(
      { columns: ['a', 'b'], length: 4, values, time: Float64Array.from([0, 1000, 2000, 3000]) },
      { maxRows: 2, start: 1 },
    );
    expect(s.shape).toEqual([2, 3]);
    expect(s.index).toEqual([1, 2]);
    expect(s.column('time').values[0]).toBe('1970-01-01T00:00:01.000Z');
    const iv = intervalsFrame([{ start: 1, end: 3, startIndex: 1, endIndex: 3, fault: 'LG', confidence: 0.5 }]);
    expect(iv.columns).toEqual(['start', 'end', 'duration', 'samples', 'fault', 'confidence']);
    const m = metricsFrame({ 'with PA': { anomaly_rate: 0.01, precision: 0.5, recall: 1, f1: 2 / 3, ess_score: 0.75 } });
    const cells = frameCells(m);
    expect(cells.columns).toEqual(['', 'anomaly_rate', 'precision', 'recall', 'f1', 'ess_score']);
    expect(cells.rows[0][0]).toBe('with PA');
    expect(() => describeSeries({ columns: ['a'], length: 3, values })).toThrow(/values hold 8 numbers, expected length 3 × 1 columns/);
  });
});
