/**
 * The viewer's figures are built by the browser-safe core (`anomaly-lab-browser`, figures.ts) — the
 * same builders the HTML report and the notebook summary use. What stays here needs the DOM or
 * plotly's events: the theme read from JupyterLab's CSS variables, and plotly's date strings.
 */
import { LIGHT_THEME, type FigureTheme } from 'anomaly-lab-browser';

/** Theme colours from JupyterLab's CSS variables on `el` (light and dark themes alike). */
export function readTheme(el: HTMLElement): FigureTheme {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string): string => cs.getPropertyValue(name).trim() || fallback;
  return {
    font: v('--jp-ui-font-color1', LIGHT_THEME.font),
    fontFamily: v('--jp-ui-font-family', LIGHT_THEME.fontFamily),
    grid: v('--jp-border-color2', LIGHT_THEME.grid),
    background: v('--jp-layout-color0', LIGHT_THEME.background),
  };
}

/**
 * Plotly reports date-axis ranges as UTC strings it shortens ("2022-05-12", "2022-05-12 01:30",
 * "2022-05-12 01:30:05.1234"); we plot epoch milliseconds, so read them back as UTC.
 */
export function plotlyDateToMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return NaN;
  const m = /^(-?\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?Z?$/.exec(v.trim());
  if (!m) return NaN;
  const frac = m[7] ? Number(m[7]) * 1000 : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) + frac;
}
