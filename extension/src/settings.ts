/**
 * User settings of the viewer (schema: schema/plugin.json, loaded through JupyterLab's
 * settings registry by the plugin). Widgets read the current value and listen for changes.
 */
import { DEFAULT_FIGURE_OPTIONS, SIGNAL_LAYOUTS, type FigureColors, type SignalLayout } from 'anomaly-lab-browser';

export type ViewerColors = FigureColors;

export interface ViewerSettings {
  /** anomaly rate a bundle without a threshold block starts from. */
  defaultAnomalyRate: number;
  /** points drawn per trace at most (min/max per bucket above that). */
  maxPointsDrawn: number;
  /** rows shown in the interval table at most (the export always has all). */
  maxTableRows: number;
  colors: ViewerColors;
  /** how signal channels are laid out at first (the core's SignalLayout); each viewer can switch. */
  signalLayout: SignalLayout;
}

export const DEFAULT_SETTINGS: ViewerSettings = {
  defaultAnomalyRate: 0.01,
  maxPointsDrawn: DEFAULT_FIGURE_OPTIONS.maxPointsDrawn,
  maxTableRows: 500,
  colors: { ...DEFAULT_FIGURE_OPTIONS.colors },
  signalLayout: 'auto',
};

function num(v: unknown, lo: number, hi: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi ? v : fallback;
}

/** CSS colour strings only (the value goes to plotly and to style properties, never to HTML). */
function color(v: unknown, fallback: string): string {
  return typeof v === 'string' && /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]+|rgba?\([\d\s.,%]+\))$/.test(v) ? v : fallback;
}

/** Merge a (possibly partial or hand-edited) settings object over the defaults. */
export function normalizeSettings(raw: Partial<Record<keyof ViewerSettings, unknown>> | null | undefined): ViewerSettings {
  const r = raw ?? {};
  const c = (r.colors ?? {}) as Partial<Record<keyof ViewerColors, unknown>>;
  return {
    defaultAnomalyRate: num(r.defaultAnomalyRate, 0, 1, DEFAULT_SETTINGS.defaultAnomalyRate),
    maxPointsDrawn: Math.round(num(r.maxPointsDrawn, 100, 1_000_000, DEFAULT_SETTINGS.maxPointsDrawn)),
    maxTableRows: Math.round(num(r.maxTableRows, 10, 100_000, DEFAULT_SETTINGS.maxTableRows)),
    colors: {
      predicted: color(c.predicted, DEFAULT_SETTINGS.colors.predicted),
      labelled: color(c.labelled, DEFAULT_SETTINGS.colors.labelled),
      threshold: color(c.threshold, DEFAULT_SETTINGS.colors.threshold),
      score: color(c.score, DEFAULT_SETTINGS.colors.score),
    },
    signalLayout: SIGNAL_LAYOUTS.find(([v]) => v === r.signalLayout)?.[0] ?? DEFAULT_SETTINGS.signalLayout,
  };
}

type Listener = (s: ViewerSettings) => void;

/** The current settings, shared by every viewer of the page. */
export class SettingsStore {
  private value: ViewerSettings;
  private readonly listeners = new Set<Listener>();

  constructor(initial: ViewerSettings = DEFAULT_SETTINGS) {
    this.value = initial;
  }

  get current(): ViewerSettings {
    return this.value;
  }

  set(next: ViewerSettings): void {
    this.value = next;
    for (const l of this.listeners) l(next);
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export const viewerSettings = new SettingsStore();
