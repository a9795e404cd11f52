/**
 * The MIME renderer for `application/vnd.anomaly-lab.viewer.v1+json` (notebook outputs and, through
 * the document factory, `*.anomaly.json` files). tslab sends the bundle as a JSON string; other
 * producers send an object — both are accepted. A re-render of the same output (update_display_data
 * from a training loop) updates the existing viewer in place, keeping zoom and controls.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { Message } from '@lumino/messaging';
import { PanelLayout, Widget } from '@lumino/widgets';
import { VIEWER_MIME } from 'anomaly-lab-browser';
import type { PlotlyApi, PlotlySource } from './plotly-api';
import { AnomalyViewer } from './viewer';
import type { SettingsStore } from './settings';

/** Every live viewer, so the plugin can redraw them when the theme changes. */
export const liveViewers = new Set<AnomalyViewer>();

export class AnomalyViewerRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly viewer: AnomalyViewer;
  private readonly mimeType: string;

  constructor(options: { mimeType?: string; plotly: PlotlySource; settings?: SettingsStore }) {
    super();
    this.mimeType = options.mimeType ?? VIEWER_MIME;
    this.addClass('al-renderer');
    this.viewer = new AnomalyViewer({ plotly: options.plotly, settings: options.settings });
    const layout = new PanelLayout();
    layout.addWidget(this.viewer);
    this.layout = layout;
    liveViewers.add(this.viewer);
  }

  /**
   * As a document (`*.anomaly.json` in a MimeDocument tab) the renderer is sized to the tab and
   * scrolls (style: `.al-document`); it takes focus when the tab is activated or clicked, so the
   * wheel, PageUp/PageDown, arrows, Home and End reach every section.
   */
  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    const host = this.node.parentElement;
    if (host?.classList.contains('jp-MimeDocument') && !this.hasClass('al-document')) {
      this.addClass('al-document');
      this.node.tabIndex = 0;
      host.addEventListener('focus', () => this.node.focus({ preventScroll: true }));
    }
  }

  protected override onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (this.hasClass('al-document') && !this.node.contains(document.activeElement)) this.node.focus({ preventScroll: true });
  }

  get anomalyViewer(): AnomalyViewer {
    return this.viewer;
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this.mimeType];
    const source = (model.metadata?.path as string | undefined) ?? 'display data';
    try {
      this.viewer.setBundle(data, source);
    } catch {
      // the viewer already shows the error (as text); the output area needs no exception
      return;
    }
    await this.viewer.whenDrawn();
  }

  override dispose(): void {
    liveViewers.delete(this.viewer);
    super.dispose();
  }
}

let plotlyPromise: Promise<PlotlyApi> | null = null;

/**
 * plotly.js on first use: a dynamic import, so webpack puts it in its own chunk that JupyterLab
 * fetches when the first viewer draws a chart (not at start-up). One load per page.
 */
export function loadPlotly(): Promise<PlotlyApi> {
  plotlyPromise ??= import(/* webpackChunkName: "plotly" */ 'plotly.js-dist-min').then(
    (m) => (m as { default?: PlotlyApi }).default ?? (m as unknown as PlotlyApi),
  );
  return plotlyPromise;
}

/**
 * Renderer factory for the rendermime registry. Rank 0 (see mime.ts): the viewer must win over the
 * `text/html` fallback (rank 50) that travels in the same output.
 */
export function createRendererFactory(plotly: PlotlySource, settings?: SettingsStore): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [VIEWER_MIME],
    defaultRank: 0,
    createRenderer: (options) => new AnomalyViewerRenderer({ mimeType: options.mimeType, plotly, settings }),
  };
}
