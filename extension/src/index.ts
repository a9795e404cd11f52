/**
 * anomaly-lab-jupyterlab: the anomaly viewer for JupyterLab 4 and Notebook 7. JupyterLab loads
 * `mime.ts` (package.json `jupyterlab.mimeExtension`: renderer, file type, document factory) and
 * `plugin.ts` (`jupyterlab.extension`: settings, theme). This module is the package's API for
 * other code (tests, pages that embed the viewer).
 */
export { default as mimeExtension, MIME_EXTENSION_ID, FILE_TYPE, FACTORY, VIEWER_RANK } from './mime';
export { default as plugin, PLUGIN_ID } from './plugin';
export { AnomalyViewerRenderer, createRendererFactory, loadPlotly, liveViewers } from './renderer';
export { AnomalyViewer } from './viewer';
export { SettingsStore, viewerSettings, normalizeSettings, DEFAULT_SETTINGS, type ViewerSettings } from './settings';
