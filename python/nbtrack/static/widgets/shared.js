// nbtrack inline widgets: helpers every widget's ES module uses.
//
// anywidget imports a widget's `_esm` from a Blob URL, where a relative `import` cannot resolve,
// so this file is not imported: nbtrack/widgets/shared.py puts it in front of each widget's
// module (live_chart.js, run_card.js, runs_table.js, diff_view.js) when the widget class is
// defined. It declares functions only (no exports, no side effects beyond the Vega cache).
//
// Vega is not imported either: the offline bundle (vega-bundle.js, ~860 KB) travels once per
// kernel in a shared `VegaLib` model (the `_vega` trait points at it) and is imported once per
// page from a Blob URL. Every text is set with textContent: no data reaches innerHTML.

const VEGA_CACHE = (globalThis.__nbtrack_vega ??= new Map());

async function vegaEmbedFor(model) {
  const ref = model.get("_vega");
  if (!ref) throw new Error("nbtrack: this widget has no Vega library attached");
  const id = String(ref).replace(/^IPY_MODEL_/, "");
  const lib = await model.widget_manager.get_model(id);
  const version = lib.get("version");
  if (!VEGA_CACHE.has(version)) {
    const url = URL.createObjectURL(new Blob([lib.get("source")], { type: "text/javascript" }));
    const loading = import(/* webpackIgnore: true */ url).finally(() => URL.revokeObjectURL(url));
    VEGA_CACHE.set(version, loading);
    loading.catch(() => VEGA_CACHE.delete(version));
  }
  return (await VEGA_CACHE.get(version)).default;
}

// -- small DOM helpers ---------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// replaceChildren with h()'s conveniences: nested arrays flattened, null/false skipped.
function setChildren(node, ...children) {
  node.replaceChildren(...h("div", {}, ...children).childNodes);
}

function fmt(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return value.toLocaleString("en-US");
    return Number(value.toPrecision(6)).toString();
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function fmtTime(ts) {
  if (!ts) return "–";
  const d = new Date(ts * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

function statusBadge(status) {
  return h("span", { class: `nbt-status nbt-status-${status}`, title: status }, status);
}

function runLabel(r) {
  return `#${r.number} ${r.name}`;
}

// Theme: JupyterLab's CSS variables where present; the spec's neutral greys otherwise.
function themed(spec, el) {
  const css = getComputedStyle(el);
  const fg = css.getPropertyValue("--jp-ui-font-color1").trim();
  const muted = css.getPropertyValue("--jp-ui-font-color2").trim();
  if (!fg) return spec;
  const text = { labelColor: muted || fg, titleColor: fg };
  const config = structuredClone(spec.config ?? {});
  for (const part of ["axis", "legend", "header"]) config[part] = { ...config[part], ...text };
  config.title = { ...config.title, color: fg, subtitleColor: muted || fg };
  return { ...spec, config };
}

// Renders into a detached holder that replaces `el`'s content once drawn: no flicker, and a
// slower stale render never lands over a newer one (callers compare tokens before swapping).
async function embedChart(model, el, spec) {
  const vegaEmbed = await vegaEmbedFor(model);
  const holder = h("div");
  const result = await vegaEmbed(holder, themed(spec, el), {
    renderer: "svg",
    actions: { export: true, source: false, compiled: false, editor: false },
    tooltip: { theme: "custom" },
  });
  result.show = () => el.replaceChildren(holder);
  return result;
}

function errorBox(el, error) {
  el.replaceChildren(h("div", { class: "nbt-error" }, `nbtrack: ${error?.message ?? error}`));
}

// -- chart under a table or a card ---------------------------------------------------------
function chartSlot(model, el, trait = "spec") {
  let result = null;
  let token = 0;
  async function draw() {
    const spec = model.get(trait);
    const mine = ++token;
    if (!spec || !Object.keys(spec).length) {
      result?.finalize();
      result = null;
      el.replaceChildren();
      return;
    }
    try {
      const r = await embedChart(model, el, spec);
      if (mine !== token) return r.finalize();
      r.show();
      result?.finalize();
      result = r;
    } catch (error) {
      errorBox(el, error);
    }
  }
  draw();
  const on = () => draw();
  model.on(`change:${trait}`, on);
  return () => {
    token++;
    model.off(`change:${trait}`, on);
    result?.finalize();
  };
}

// -- rich values (the run card and the live chart) ---------------------------------------
function mediaTable(t) {
  const more = [];
  if (t.total_rows > t.rows.length) more.push(`${fmt(t.total_rows - t.rows.length)} more rows`);
  if (t.total_columns > t.columns.length) {
    more.push(`${fmt(t.total_columns - t.columns.length)} more columns`);
  }
  return h("div", {},
    h("div", { class: "nbt-table-wrap nbt-media-table" },
      h("table", { class: "nbt-table" },
        h("thead", {}, h("tr", {}, t.columns.map((c) => h("th", {}, fmt(c))))),
        h("tbody", {}, t.rows.map((row) => h("tr", {}, row.map((v) => h("td", {}, fmt(v)))))))),
    more.length ? h("div", { class: "nbt-muted" }, more.join(", ")) : null);
}

// One logged value; charts (histograms, Altair figures) are drawn into their holder later.
function mediaValue(v, charts) {
  const caption = v.caption ? h("figcaption", {}, v.caption) : null;
  if (v.note) return h("div", { class: "nbt-muted nbt-media-note" }, v.note);
  if (v.image) {
    return h("figure", { class: "nbt-media-image" },
      h("img", { src: v.image, alt: v.caption || "logged image", title: v.width
        ? `${v.width} x ${v.height}` : null }), caption);
  }
  if (v.audio) {
    return h("figure", { class: "nbt-media-audio" },
      h("audio", { controls: true, preload: "metadata", src: v.audio }), caption);
  }
  if (v.table) return mediaTable(v.table);
  if (v.spec) {
    const holder = h("div", { class: "nbt-media-chart" });
    charts.push([holder, v.spec]);
    return holder;
  }
  if (v.text !== undefined) {
    return h("div", {}, h("pre", { class: "nbt-code nbt-media-text" }, v.text),
      v.more ? h("div", { class: "nbt-muted" }, `${fmt(v.more)} more characters`) : null);
  }
  if (v.html !== undefined) {
    // No allow-scripts, no allow-same-origin: its scripts never run, it cannot reach the page.
    return h("iframe", { sandbox: "", class: "nbt-media-html", title: "logged HTML",
      referrerpolicy: "no-referrer", srcdoc: v.html });
  }
  return null;
}

function mediaSlot(model, el) {
  let drawn = [];
  let token = 0;
  function draw() {
    const mine = ++token;
    drawn.forEach((r) => r.finalize());
    drawn = [];
    const charts = [];
    const entries = model.get("media") ?? [];
    setChildren(el, entries.length ? h("div", { class: "nbt-section" }, "media") : null,
      entries.map((m) => h("div", { class: "nbt-media-key", "data-key": m.key },
        h("div", { class: "nbt-media-head" }, h("b", {}, m.key), " ",
          h("span", { class: "nbt-muted" }, `${m.kind} · step ${fmt(m.step)}` +
            (m.steps > 1 ? ` (latest of ${fmt(m.steps)} steps)` : ""))),
        h("div", { class: "nbt-media-values" }, m.values.map((v) => mediaValue(v, charts))),
        m.more ? h("div", { class: "nbt-muted" }, `${fmt(m.more)} more values at this step`)
          : null)));
    for (const [holder, spec] of charts) {
      embedChart(model, holder, spec).then((r) => {
        if (mine !== token) return r.finalize();
        r.show();
        holder.dataset.state = "drawn";
        drawn.push(r);
      }).catch((error) => errorBox(holder, error));
    }
  }
  draw();
  const on = () => draw();
  model.on("change:media", on);
  return () => {
    token++;
    model.off("change:media", on);
    drawn.forEach((r) => r.finalize());
  };
}
