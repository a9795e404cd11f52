/**
 * Readable signals: units travel in the bundles (inferred for the columns this project reads), and
 * the signal chart's panels — one per unit and scale by default, one per channel, or one axis.
 * Pure functions of the browser-safe core (no DOM): the figures the viewer hands to plotly. The drawn result is checked in
 * Chromium (test/e2e/viewer.test.ts) and in real JupyterLab (test/e2e/jupyterlab.test.ts).
 */
import {
  BundleDetector,
  buildViewerBundle,
  decodeViewerBundle,
  inferUnit,
  inferUnits,
  initialDetectionSettings,
  isDarkTheme,
  powerViewerBundle,
  signalPanels,
  signalsFigure,
  type FigureTheme as Theme,
} from 'anomaly-lab/core';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../extension/src/settings';

const THEME: Theme = { font: '#111', fontFamily: 'sans-serif', grid: '#ddd', background: '#fff' };

/** n rows of ESS-like BMS data: bank voltage ~800 V, current ±100 A, SOC %, temperature °C, voltage gap ~0.02 V. */
function essColumns(n = 500): { columns: string[]; values: Float32Array } {
  const columns = ['BANK_DC_VOLT', 'BANK_DC_CURRENT', 'BANK_SOC', 'MAX_CELL_TEMPERATURE_OF_BANK', 'VOLTAGE_GAP'];
  const values = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    values.set(
      [
        800 + 20 * Math.sin(i / 50),
        100 * Math.sin(i / 30),
        50 + 40 * Math.sin(i / 80),
        30 + 5 * Math.sin(i / 60),
        0.02 + 0.01 * Math.sin(i / 20),
      ],
      i * 5,
    );
  }
  return { columns, values };
}

describe('units in bundles', () => {
  test('known columns get their units: power Va..Ic, the ESS BMS columns, name patterns; unknown ones stay empty', () => {
    expect(inferUnits(['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'])).toEqual(['V', 'V', 'V', 'A', 'A', 'A']);
    expect(inferUnits(essColumns().columns)).toEqual(['V', 'A', '%', '°C', 'V']);
    expect(inferUnits(['voltage', 'current', 'soc', 'temperature', 'voltage_gap'])).toEqual(['V', 'A', '%', '°C', 'V']);
    expect(inferUnit('rack_current')).toBe('A');
    expect(inferUnit('pressure')).toBe('');
    expect(inferUnits(['a', 'b'])).toBeUndefined();
  });

  test("builders: inferred when absent, the caller's units win, power bundles carry V and A", () => {
    const { columns, values } = essColumns(10);
    expect(buildViewerBundle({ title: 't', series: { columns, values } }).series!.units).toEqual(['V', 'A', '%', '°C', 'V']);
    expect(buildViewerBundle({ title: 't', series: { columns, values, units: ['kV', 'kA', '', '', 'mV'] } }).series!.units).toEqual([
      'kV',
      'kA',
      '',
      '',
      'mV',
    ]);
    expect(buildViewerBundle({ title: 't', series: { columns: ['x', 'y'], values: new Float32Array(20) } }).series!.units).toBeUndefined();
    const n = 200;
    const p = powerViewerBundle({
      time: Float64Array.from({ length: n }, (_, i) => i / 100),
      columns: ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'],
      values: new Float32Array(n * 6),
      mse: new Float32Array(n - 9),
      sequenceLength: 10,
      percentile: 95,
      maxGapSamples: 5,
      intervals: [],
    });
    expect(p.series!.units).toEqual(['V', 'V', 'V', 'A', 'A', 'A']);
  });
});

describe('signal panels', () => {
  test("'auto': ESS — one panel per unit and scale (the 0.02 V gap apart from the 800 V bank voltage)", () => {
    const { columns, values } = essColumns();
    const d = decodeViewerBundle(buildViewerBundle({ title: 'ess', series: { columns, values } }));
    expect(signalPanels(d, [0, 1, 2, 3, 4], 'auto')).toEqual([[0], [1], [2], [3], [4]]);
    // without units, channels of one scale share a panel
    const same = decodeViewerBundle(
      buildViewerBundle({
        title: 'x',
        series: { columns: ['a', 'b', 'c'], values: Float32Array.from({ length: 300 }, (_, i) => Math.sin(i) * (1 + (i % 3) * 0.5)) },
      }),
    );
    expect(signalPanels(same, [0, 1, 2], 'auto')).toEqual([[0, 1, 2]]);
  });

  test("power: V and A panels by default, 'channel' and 'overlay' on request", () => {
    const n = 400;
    const values = new Float32Array(n * 6);
    for (let i = 0; i < n; i++)
      for (let p = 0; p < 3; p++) {
        values[i * 6 + p] = Math.sin(i / 10 + p);
        values[i * 6 + 3 + p] = 1875 * Math.sin(i / 10 + p);
      }
    const d = decodeViewerBundle(buildViewerBundle({ title: 'p', series: { columns: ['Va', 'Vb', 'Vc', 'Ia', 'Ib', 'Ic'], values } }));
    expect(signalPanels(d, [0, 1, 2, 3, 4, 5], 'auto')).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(signalPanels(d, [0, 4], 'channel')).toEqual([[0], [4]]);
    expect(signalPanels(d, [0, 1, 3], 'overlay')).toEqual([[0, 1, 3]]);

    const fig = signalsFigure(d, null, [0, 1, 2, 3, 4, 5], null, DEFAULT_SETTINGS, THEME, 'auto');
    // two stacked, non-overlapping panels with their own y axes; one time axis under the lower one
    expect(fig.layout.yaxis.domain[0]).toBeGreaterThan(fig.layout.yaxis3.domain[1]);
    expect(fig.layout.yaxis.title.text).toBe('V');
    expect(fig.layout.yaxis3.title.text).toBe('A');
    expect(fig.layout.xaxis.anchor).toBe('y3');
    expect(fig.data.map((t) => t.yaxis)).toEqual(['y', 'y', 'y', 'y3', 'y3', 'y3']);
    expect(fig.layout.annotations.map((a: { text: string }) => a.text)).toEqual(['Va, Vb, Vc', 'Ia, Ib, Ic']);

    const one = signalsFigure(d, null, [0, 1, 2, 3, 4, 5], null, DEFAULT_SETTINGS, THEME, 'overlay');
    // the previous view: one panel, currents on a right-hand axis
    expect(one.data.map((t) => t.yaxis)).toEqual(['y', 'y', 'y', 'y3', 'y3', 'y3']);
    expect(one.layout.yaxis3.overlaying).toBe('y');
    expect(one.layout.yaxis3.side).toBe('right');
    expect(one.layout.annotations).toBeUndefined();
  });

  test('channel names in panel labels are escaped for plotly (no markup from data)', () => {
    const values = Float32Array.from({ length: 200 }, (_, i) => (i % 2 ? 1000 : 1) * Math.sin(i));
    const d = decodeViewerBundle(buildViewerBundle({ title: 'x', series: { columns: ['<b>x</b>', 'y&z'], values } }));
    const fig = signalsFigure(d, null, [0, 1], null, DEFAULT_SETTINGS, THEME, 'auto');
    expect(fig.layout.annotations.map((a: { text: string }) => a.text)).toEqual(['&lt;b&gt;x&lt;/b&gt;', 'y&amp;z']);
  });

  test('the layout setting: a known value is kept, anything else falls back to auto', () => {
    expect(normalizeSettings({ signalLayout: 'channel' }).signalLayout).toBe('channel');
    expect(normalizeSettings({ signalLayout: 'stacked' }).signalLayout).toBe('auto');
    expect(normalizeSettings(null).signalLayout).toBe('auto');
  });
});

describe('theme', () => {
  test('dark backgrounds are recognised (the predicted-anomaly band is more opaque there)', () => {
    expect(isDarkTheme({ ...THEME, background: '#111111' })).toBe(true);
    expect(isDarkTheme({ ...THEME, background: 'rgb(17, 17, 17)' })).toBe(true);
    expect(isDarkTheme({ ...THEME, background: '#fff' })).toBe(false);
    expect(isDarkTheme({ ...THEME, background: 'white' })).toBe(false);
    const values = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
    const bundle = buildViewerBundle({
      title: 'x',
      series: { columns: ['a'], values },
      scores: { values: Float32Array.from(values, Math.abs) },
      threshold: { rate: 0.1 },
    });
    const d = decodeViewerBundle(bundle);
    const det = new BundleDetector(d).run(initialDetectionSettings(d, 0.1));
    const band = (bg: string) =>
      signalsFigure(d, det, [0], null, DEFAULT_SETTINGS, { ...THEME, background: bg }).data.find((t) => t.name === 'predicted anomaly')!
        .opacity;
    expect(band('#111111')).toBeGreaterThan(band('#ffffff'));
  });
});
