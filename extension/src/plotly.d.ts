/** The slice of plotly.js the viewer uses (plotly.js-dist-min ships no types). */
declare module 'plotly.js-dist-min' {
  const Plotly: import('./plotly-api').PlotlyApi;
  export default Plotly;
}
