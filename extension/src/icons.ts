/**
 * The `*.anomaly.json` file-type icon as a LabIcon description ({ name, svgstr }): JupyterLab's
 * mime-extension loader resolves it into a LabIcon, so the extension needs no ui-components import.
 * `jp-icon3` is JupyterLab's themable icon class (the page outline follows the light and dark
 * themes); the red band marks an anomaly on the blue signal.
 */
export const ANOMALY_FILE_ICON = {
  name: 'anomaly-lab-jupyterlab:file',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" stroke="#616161" style="fill:none" stroke-width="1.6" stroke-linejoin="round" d="M4.5 2.5h10l5 5v14h-15z"/>' +
    '<rect x="11" y="6" width="5" height="13" fill="#d62728" opacity="0.85"/>' +
    '<polyline points="2,15 5,13 8,15.5 10.5,13 13,8 15,18 17,13.5 22,13.5" fill="none" stroke="#1f77b4" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"/>' +
    '</svg>',
};
