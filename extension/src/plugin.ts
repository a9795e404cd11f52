/**
 * The one thing a mime extension cannot do: ask JupyterLab for services. This small plugin loads
 * the viewer settings (schema/plugin.json, id `anomaly-lab-jupyterlab:plugin`) into the store every
 * viewer reads, and redraws open viewers when the theme changes (charts read the theme's CSS
 * variables when they draw). The renderer itself is the mime extension in mime.ts.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IThemeManager } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { liveViewers } from './renderer';
import { normalizeSettings, viewerSettings, type ViewerSettings } from './settings';

export const PLUGIN_ID = 'anomaly-lab-jupyterlab:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Anomaly Lab viewer: settings and theme.',
  autoStart: true,
  optional: [ISettingRegistry, IThemeManager],
  activate: (_app: JupyterFrontEnd, settingRegistry: ISettingRegistry | null, themes: IThemeManager | null) => {
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
