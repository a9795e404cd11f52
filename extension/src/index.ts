/**
 * JupyterLab plugin: wiring only. Registers the anomaly-viewer MIME renderer, the `*.anomaly.json`
 * file type and its document widget factory, loads the settings (schema/settings/plugin.json)
 * and redraws viewers when the theme changes.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IThemeManager } from '@jupyterlab/apputils';
import { MimeDocumentFactory } from '@jupyterlab/docregistry';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import Plotly from 'plotly.js-dist-min';
import { VIEWER_FILE_SUFFIX, VIEWER_MIME } from 'anomaly-lab/browser';
import { createRendererFactory, liveViewers } from './renderer';
import { normalizeSettings, viewerSettings, type ViewerSettings } from './settings';

const PLUGIN_ID = 'anomaly-lab-jupyterlab:plugin';
const FILE_TYPE = 'anomaly-lab-viewer';
const FACTORY = 'Anomaly Viewer';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Anomaly Lab viewer: renders anomaly detection results and training runs.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ISettingRegistry, IThemeManager],
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry, settingRegistry: ISettingRegistry | null, themes: IThemeManager | null) => {
    const factory = createRendererFactory(Plotly, viewerSettings);
    rendermime.addFactory(factory, 50);

    app.docRegistry.addFileType({
      name: FILE_TYPE,
      displayName: 'Anomaly Lab results',
      mimeTypes: [VIEWER_MIME],
      extensions: [VIEWER_FILE_SUFFIX],
      pattern: '.*\\.anomaly\\.json$',
      fileFormat: 'text',
      contentType: 'file',
    });
    app.docRegistry.addWidgetFactory(
      new MimeDocumentFactory({
        name: FACTORY,
        label: 'Anomaly Viewer',
        primaryFileType: app.docRegistry.getFileType(FILE_TYPE),
        fileTypes: [FILE_TYPE],
        defaultFor: [FILE_TYPE],
        rendermime,
        dataType: 'string',
      }),
    );

    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then((s) => {
          const apply = (): void => viewerSettings.set(normalizeSettings(s.composite as unknown as Partial<ViewerSettings>));
          apply();
          s.changed.connect(apply);
        })
        .catch((err: Error) => console.warn(`${PLUGIN_ID}: settings not loaded (${err.message}); using defaults`));
    }
    themes?.themeChanged.connect(() => {
      // CSS variables switch first; charts read them on redraw
      requestAnimationFrame(() => liveViewers.forEach((v) => v.refresh()));
    });
  },
};

export default plugin;
