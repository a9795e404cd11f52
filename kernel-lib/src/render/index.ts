/** render: HTML tables, SVG line charts and the summary frame shared by reports and notebook displays (the `render` namespace). */
export { escapeHtml, formatNumber, htmlTable, textTable, svgLineChart, minMaxEnvelope, summaryWrapper, SUMMARY_CSS } from './html';
export type { Cell, SvgLine, SvgChartOptions } from './html';
