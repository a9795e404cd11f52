/**
 * The `*.anomaly.json` file-type icon as a LabIcon description ({ name, svgstr }): JupyterLab's
 * mime-extension loader resolves it into a LabIcon, so the extension needs no ui-components import.
 * `jp-icon3` / `jp-icon-contrast0` are JupyterLab's themable icon classes (grey page in light and
 * dark themes); the red band marks an anomaly on the signal.
 */
export const ANOMALY_FILE_ICON = {
  name: 'anomaly-lab-jupyterlab:file',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M5 2h10l5 5v15H5z" opacity="0.25"/>' +
    '<path class="jp-icon3" fill="#616161" d="M5 2h10l5 5v15H5zm1.5 1.5v17h12V8H14V3.5z"/>' +
    '<rect x="11" y="9" width="4" height="10" fill="#d62728" opacity="0.55"/>' +
    '<polyline points="7,15 9,13 11,15 12.5,10 14,17 15.5,14 17.5,14" fill="none" stroke="#1f77b4" stroke-width="1.4" stroke-linejoin="round"/>' +
    '</svg>',
};
