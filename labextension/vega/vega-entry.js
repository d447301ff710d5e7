// Entry point of the offline Vega bundle (python/nbtrack/static/vega-bundle.js).
// esbuild inlines vega, vega-lite and vega-embed into one ES module, so inline widgets
// (anywidget `_esm`) and HTML reports render charts with no network and no CDN.
//
// The HTML report runs under a Content-Security-Policy without 'unsafe-eval', so it needs two
// pieces that compile nothing at run time:
// - expressionInterpreter evaluates Vega expressions from their syntax trees instead of
//   compiling them with Function: vegaEmbed(el, spec, {ast: true, expr: expressionInterpreter});
// - dsvFormat(delimiter).parseRows parses inline CSV/TSV data (d3-dsv's parse() builds each
//   row object with Function, so the report registers its own csv/tsv/dsv readers on it).
export { default as vegaEmbed, default } from 'vega-embed';
export { expressionInterpreter } from 'vega-interpreter';
export { dsvFormat } from 'd3-dsv';
export * as vega from 'vega';
export * as vegaLite from 'vega-lite';
