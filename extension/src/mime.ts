/**
 * The anomaly viewer as a conventional JupyterLab MIME-renderer extension (`IRenderMime.IExtension`,
 * package.json `jupyterlab.mimeExtension`): JupyterLab registers the renderer factory at `rank`,
 * the `*.anomaly.json` file type with its icon, and a document widget factory that opens those files
 * in the same viewer — in JupyterLab 4 and Notebook 7 alike.
 *
 * rank 0: an output carries the viewer bundle next to `text/html` (rank 50 in JupyterLab) and
 * `text/plain` fallbacks; a lower rank is a stronger preference, and at 50 the HTML renderer,
 * registered first, would win the tie.
 *
 * Settings and theme changes need services a mime extension cannot request; plugin.ts (the
 * `extension` entry of the same package, sharing this module's settings store) handles them.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { VIEWER_FILE_SUFFIX, VIEWER_MIME } from 'anomaly-lab-browser';
import { ANOMALY_FILE_ICON } from './icons';
import { createRendererFactory, loadPlotly } from './renderer';
import { viewerSettings } from './settings';

export const MIME_EXTENSION_ID = 'anomaly-lab-jupyterlab:viewer';
export const FILE_TYPE = 'anomaly-lab-viewer';
export const FACTORY = 'Anomaly Viewer';
export const VIEWER_RANK = 0;

const extension: IRenderMime.IExtension = {
  id: MIME_EXTENSION_ID,
  description: 'Anomaly Lab viewer: renders anomaly detection results and training runs.',
  // plotly.js (~4.5 MB) is fetched when the first viewer draws, not when JupyterLab starts
  rendererFactory: createRendererFactory(loadPlotly, viewerSettings),
  rank: VIEWER_RANK,
  // the file text goes to the renderer as is, so a broken file gets the viewer's one-line error
  // naming the file and the field instead of a JSON.parse exception
  dataType: 'string',
  fileTypes: [
    {
      name: FILE_TYPE,
      displayName: 'Anomaly Lab results',
      mimeTypes: [VIEWER_MIME],
      extensions: [VIEWER_FILE_SUFFIX],
      pattern: '.*\\.anomaly\\.json$',
      fileFormat: 'text',
      icon: ANOMALY_FILE_ICON,
    },
  ],
  documentWidgetFactoryOptions: {
    name: FACTORY,
    label: 'Anomaly Viewer',
    primaryFileType: FILE_TYPE,
    fileTypes: [FILE_TYPE],
    defaultFor: [FILE_TYPE],
  },
};

export default extension;
