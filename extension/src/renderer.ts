/**
 * The MIME renderer for `application/vnd.anomaly-lab.viewer.v1+json` (notebook outputs and, through
 * the document factory, `*.anomaly.json` files). tslab sends the bundle as a JSON string; other
 * producers send an object — both are accepted. A re-render of the same output (update_display_data
 * from a training loop) updates the existing viewer in place, keeping zoom and controls.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { PanelLayout, Widget } from '@lumino/widgets';
import { VIEWER_MIME } from 'anomaly-lab/browser';
import type { PlotlyApi } from './plotly-api';
import { AnomalyViewer } from './viewer';
import type { SettingsStore } from './settings';

/** Every live viewer, so the plugin can redraw them when the theme changes. */
export const liveViewers = new Set<AnomalyViewer>();

export class AnomalyViewerRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly viewer: AnomalyViewer;
  private readonly mimeType: string;

  constructor(options: { mimeType?: string; plotly: PlotlyApi | null; settings?: SettingsStore }) {
    super();
    this.mimeType = options.mimeType ?? VIEWER_MIME;
    this.addClass('al-renderer');
    this.viewer = new AnomalyViewer({ plotly: options.plotly, settings: options.settings });
    const layout = new PanelLayout();
    layout.addWidget(this.viewer);
    this.layout = layout;
    liveViewers.add(this.viewer);
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

/** Renderer factory for the rendermime registry. */
export function createRendererFactory(plotly: PlotlyApi | null, settings?: SettingsStore): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [VIEWER_MIME],
    defaultRank: 50,
    createRenderer: (options) => new AnomalyViewerRenderer({ mimeType: options.mimeType, plotly, settings }),
  };
}
