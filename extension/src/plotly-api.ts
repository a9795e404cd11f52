/** Types of the plotly.js calls the viewer makes (plotly.js-dist-min ships no types). */
import type { PlotTrace as PlotData, PlotLayout } from 'anomaly-lab-browser';

export type { PlotData, PlotLayout };

export interface PlotlyElement extends HTMLElement {
  on(event: string, handler: (ev: unknown) => void): void;
  removeAllListeners?(event: string): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  layout?: any;
}

export interface PlotlyApi {
  newPlot(el: HTMLElement, data: PlotData[], layout?: PlotLayout, config?: Record<string, unknown>): Promise<PlotlyElement>;
  react(el: HTMLElement, data: PlotData[], layout?: PlotLayout, config?: Record<string, unknown>): Promise<PlotlyElement>;
  relayout(el: HTMLElement, update: PlotLayout): Promise<PlotlyElement>;
  purge(el: HTMLElement): void;
  toImage(el: HTMLElement, opts: { format: 'png' | 'svg'; width?: number; height?: number; scale?: number }): Promise<string>;
  Plots: { resize(el: HTMLElement): Promise<void> | void };
}

/** plotly.js itself, a loader that fetches it on first use (the JupyterLab build), or null: no charts (jsdom). */
export type PlotlySource = PlotlyApi | (() => Promise<PlotlyApi>) | null;
