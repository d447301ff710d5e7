// nbtrack run report: draws every chart with the Vega bundle inlined above (no network),
// sizes the sandboxed frames that hold HTML outputs and wires the logged images' step sliders. Runs as a module after the bundle.
//
// The page's Content-Security-Policy has no 'unsafe-eval' (a notebook's own Vega spec is drawn
// in this page, which JupyterLab opens trusted), so nothing here may compile code at run time:
// Vega expressions go through Vega's interpreter and inline CSV/TSV through parseRows.

const lib = window.nbtrackVega;

// Vega may try to load data from a URL a notebook's own spec names: refuse, the report is offline.
function offlineLoader(vega) {
  const loader = vega.loader();
  const refuse = (uri) => Promise.reject(new Error(`not loaded (the report is offline): ${uri}`));
  loader.load = refuse;
  loader.sanitize = refuse;
  loader.http = refuse;
  loader.file = refuse;
  return loader;
}

// d3-dsv's parse() builds row objects with Function; parseRows() does not. Same rows: a header
// line (or format.header) names the columns and a missing cell is "" (as d3-dsv gives).
function delimited(delimiter) {
  const reader = (data, format) => {
    const sep = delimiter || (format && format.delimiter);
    const rows = lib.dsvFormat(sep).parseRows(String(data));
    const header = format && format.header ? format.header.map(String) : rows.shift() || [];
    return rows.map((row) => {
      const datum = {};
      header.forEach((name, i) => { datum[name] = row[i] || ''; });
      return datum;
    });
  };
  reader.responseType = 'text';
  return reader;
}

function useEvalFreeFormats(vega) {
  vega.formats('dsv', delimited(null));
  vega.formats('csv', delimited(','));
  vega.formats('tsv', delimited('\t'));
}

function fail(figure, message) {
  figure.dataset.state = 'failed';
  const note = document.createElement('p');
  note.className = 'chart-error';
  note.textContent = `This chart could not be drawn: ${message}`;
  figure.querySelector('.chart-view').replaceChildren(note);
}

async function drawCharts() {
  const figures = [...document.querySelectorAll('figure.chart')];
  if (!figures.length) return;
  if (!lib || !lib.vegaEmbed) {
    figures.forEach((f) => fail(f, 'the Vega library is missing from this file'));
    return;
  }
  useEvalFreeFormats(lib.vega);
  const loader = offlineLoader(lib.vega);
  for (const figure of figures) {
    try {
      const spec = JSON.parse(figure.querySelector('script.chart-spec').textContent);
      await lib.vegaEmbed(figure.querySelector('.chart-view'), spec, {
        mode: figure.dataset.mode === 'vega' ? 'vega' : 'vega-lite',
        renderer: 'svg',
        actions: false,
        loader,
        ast: true,
        expr: lib.expressionInterpreter,
      });
      figure.dataset.state = 'drawn';
    } catch (error) {
      fail(figure, error && error.message ? error.message : String(error));
    }
    // Let the page paint between charts: a report of twenty runs stays responsive.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function fitFrame(frame) {
  try {
    const doc = frame.contentDocument;
    if (doc && doc.body && doc.body.firstChild) {
      // The body's own height: the document's is never less than the frame's.
      const height = Math.ceil(doc.body.getBoundingClientRect().height);
      frame.style.height = `${Math.min(Math.max(height + 4, 24), 1200)}px`;
    }
  } catch (error) {
    // A frame we cannot read keeps its CSS height (and can be resized by hand).
  }
}

for (const frame of document.querySelectorAll('iframe.html-output')) {
  frame.addEventListener('load', () => fitFrame(frame));
  fitFrame(frame);
}

// A logged image's step slider: shows one step's frame (the latest is shown without script).
function stepSlider(box) {
  const frames = [...box.querySelectorAll(':scope > .media-frame')];
  const label = box.querySelector(':scope > .media-slider');
  const input = label && label.querySelector('input');
  if (!input || frames.length < 2) return;
  const output = label.querySelector('output');
  const show = () => {
    const at = Math.min(Math.max(Number(input.value) || 0, 0), frames.length - 1);
    frames.forEach((frame, i) => { frame.hidden = i !== at; });
    output.textContent = frames[at].dataset.step;
  };
  input.addEventListener('input', show);
  label.hidden = false;
  show();
}

document.querySelectorAll('.media-steps').forEach(stepSlider);

drawCharts().finally(() => {
  document.documentElement.dataset.charts = 'done';
});
