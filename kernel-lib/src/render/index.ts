/** render: HTML tables, SVG line charts and the summary frame shared by reports and notebook displays (the `render` namespace). */
export { escapeHtml, formatNumber, htmlTable, textTable, viewerTableHtml, viewerTableText, summaryWrapper, SUMMARY_CSS } from './html';
export type { Cell, TableRenderOptions } from './html';
export { figureSvg, hasStaticForm, svgLineChart } from './svg';
export type { FigureSvgOptions, SvgLine, SvgChartOptions } from './svg';
