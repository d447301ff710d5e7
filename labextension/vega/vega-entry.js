// Entry point of the offline Vega bundle (python/nbtrack/static/vega-bundle.js).
// esbuild inlines vega, vega-lite and vega-embed into one ES module, so inline widgets
// (anywidget `_esm`) and HTML reports render charts with no network and no CDN.
export { default as vegaEmbed, default } from 'vega-embed';
export * as vega from 'vega';
export * as vegaLite from 'vega-lite';
