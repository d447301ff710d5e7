// nbtrack inline widgets (anywidget ES module): live chart, run card, runs table, run diff.
//
// Vega is not imported here: the offline bundle (vega-bundle.js, ~860 KB) travels once per
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

function f64(view) {
  // A DataView from a binary buffer -> Float64Array (copied: the offset may be unaligned).
  if (!view) return new Float64Array(0);
  if (Array.isArray(view)) return Float64Array.from(view);
  const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
  return new Float64Array(bytes);
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

// -- live chart ----------------------------------------------------------------------------
function renderLive({ model, el }) {
  const status = h("span");
  const info = h("span", { class: "nbt-muted" });
  const chartEl = h("div", { class: "nbt-chart" });
  el.append(h("div", { class: "nbt-live-head" }, status, h("b", {}, ""), info), chartEl);
  const title = el.querySelector(".nbt-live-head b");
  let view = null;
  let embedding = null;
  let pending = false;
  let disposed = false;

  function rows() {
    const label = model.get("label");
    const series = model.get("series") ?? {};
    const out = [];
    for (const [key, data] of Object.entries(series)) {
      const steps = f64(data.step);
      const values = f64(data.value);
      for (let i = 0; i < steps.length; i++) {
        if (Number.isFinite(values[i])) {
          out.push({ run: label, run_id: model.get("run_id"), key, step: steps[i],
                     value: values[i] });
        }
      }
    }
    return out;
  }

  function head() {
    status.replaceChildren(statusBadge(model.get("status")));
    title.textContent = ` ${model.get("label")} `;
    const parts = [`step ${fmt(model.get("step"))}`, `${fmt(model.get("points"))} points`];
    info.textContent = parts.join(" · ");
  }

  let token = 0;
  async function embed() {
    const spec = model.get("spec");
    const mine = ++token;
    if (!spec || !Object.keys(spec).length) return;
    try {
      const result = await embedChart(model, chartEl, spec);
      if (disposed || mine !== token) return result.finalize();
      const previous = view;
      view = result.view;
      await pushData();
      result.show();
      previous?.finalize?.();
    } catch (error) {
      errorBox(chartEl, error);
    }
  }

  async function pushData() {
    if (!view) return;
    view.data(model.get("data_name"), rows());
    await view.runAsync();
  }

  function scheduleData() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(async () => {
      pending = false;
      if (embedding) await embedding;
      await pushData().catch((error) => errorBox(chartEl, error));
    });
  }

  head();
  embedding = embed();
  const onSpec = () => { embedding = embed(); };
  model.on("change:spec", onSpec);
  model.on("change:series", scheduleData);
  model.on("change:status change:step change:points change:label", head);
  return () => {
    disposed = true;
    model.off("change:spec", onSpec);
    model.off("change:series", scheduleData);
    model.off("change:status change:step change:points change:label", head);
    view?.finalize?.();
  };
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

function kvTable(entries, empty) {
  if (!entries.length) return h("div", { class: "nbt-muted" }, empty);
  return h("table", { class: "nbt-kv" },
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, fmt(v))))));
}

// -- run card ------------------------------------------------------------------------------
function renderCard({ model, el }) {
  const body = h("div");
  const chartEl = h("div", { class: "nbt-chart" });
  el.append(body, chartEl);
  function draw() {
    const r = model.get("run");
    if (!r || !r.id) return body.replaceChildren(h("div", { class: "nbt-muted" }, "no run"));
    const meta = [
      `started ${fmtTime(r.started)}`, `duration ${fmtDuration(r.duration)}`,
      r.notebook ? `notebook ${r.notebook}` : null, `id ${r.id}`,
    ].filter(Boolean).join(" · ");
    setChildren(body,
      h("div", { class: "nbt-card-head" }, h("b", {}, runLabel(r)), " ", statusBadge(r.status),
        ...(r.tags ?? []).map((t) => h("span", { class: "nbt-tag" }, t))),
      h("div", { class: "nbt-muted" }, meta),
      r.notes ? h("div", { class: "nbt-notes" }, r.notes) : null,
      h("div", { class: "nbt-card-cols" },
        h("div", {}, h("div", { class: "nbt-section" }, "params"),
          kvTable(Object.entries(r.params ?? {}), "no params")),
        h("div", {}, h("div", { class: "nbt-section" }, "summary"),
          kvTable(Object.entries(r.summary ?? {}), "no metrics"))),
    );
  }
  draw();
  model.on("change:run", draw);
  const stopChart = chartSlot(model, chartEl);
  return () => {
    model.off("change:run", draw);
    stopChart();
  };
}

// -- runs table ----------------------------------------------------------------------------
const BASE_COLUMNS = [
  { id: "number", label: "#", get: (r) => r.number },
  { id: "name", label: "name", get: (r) => r.name },
  { id: "status", label: "status", get: (r) => r.status, cell: (r) => statusBadge(r.status) },
  { id: "started", label: "started", get: (r) => r.started, cell: (r) => fmtTime(r.started) },
  { id: "duration", label: "duration", get: (r) => r.duration,
    cell: (r) => fmtDuration(r.duration) },
];

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function renderTable({ model, el }) {
  const state = { sort: model.get("sort") || "number", desc: true, filter: "" };
  const search = h("input", { class: "nbt-search", type: "search",
                              placeholder: "filter: name, status, tag, param value…" });
  const count = h("span", { class: "nbt-muted" });
  const keySelect = h("select", { class: "nbt-keys", title: "metric to plot for selected runs" });
  const clear = h("button", { class: "nbt-button", type: "button" }, "clear selection");
  const table = h("table", { class: "nbt-table" });
  const chartEl = h("div", { class: "nbt-chart" });
  el.append(h("div", { class: "nbt-toolbar" }, search, count, h("span", { class: "nbt-grow" }),
                h("label", { class: "nbt-muted" }, "plot ", keySelect), clear),
            h("div", { class: "nbt-table-wrap" }, table), chartEl);

  function columns() {
    const cols = [...BASE_COLUMNS];
    for (const k of model.get("param_keys") ?? []) {
      cols.push({ id: `params.${k}`, label: k, group: "param", get: (r) => r.params?.[k] });
    }
    for (const k of model.get("metric_keys") ?? []) {
      cols.push({ id: `metrics.${k}`, label: k, group: "metric", get: (r) => r.summary?.[k] });
    }
    return cols;
  }

  function visible() {
    const needle = state.filter.trim().toLowerCase();
    let runs = model.get("runs") ?? [];
    if (needle) {
      runs = runs.filter((r) => [r.number, r.name, r.status, r.notebook, ...(r.tags ?? []),
                                 ...Object.values(r.params ?? {})]
        .some((v) => v !== null && v !== undefined && String(v).toLowerCase().includes(needle)));
    }
    const col = columns().find((c) => c.id === state.sort) ?? BASE_COLUMNS[0];
    runs = [...runs].sort((a, b) => compare(col.get(a), col.get(b)));
    const nullsLast = (r) => col.get(r) === null || col.get(r) === undefined;
    if (state.desc) runs = [...runs.filter((r) => !nullsLast(r)).reverse(),
                            ...runs.filter(nullsLast)];
    return runs;
  }

  function toggle(id, on) {
    const selected = new Set(model.get("selected") ?? []);
    if (on) selected.add(id); else selected.delete(id);
    const order = (model.get("runs") ?? []).map((r) => r.id).filter((i) => selected.has(i));
    model.set("selected", order);
    model.save_changes();
  }

  function draw() {
    const cols = columns();
    const runs = visible();
    const selected = new Set(model.get("selected") ?? []);
    const all = runs.length > 0 && runs.every((r) => selected.has(r.id));
    const head = h("tr", {},
      h("th", { class: "nbt-check" }, h("input", {
        type: "checkbox", title: "select all shown", checked: all, "aria-label": "select all",
        onchange: (e) => {
          const ids = new Set(model.get("selected") ?? []);
          for (const r of runs) { if (e.target.checked) ids.add(r.id); else ids.delete(r.id); }
          model.set("selected", (model.get("runs") ?? []).map((r) => r.id)
            .filter((i) => ids.has(i)));
          model.save_changes();
        },
      })),
      cols.map((c) => h("th", {
        class: `nbt-sortable ${c.group ? `nbt-${c.group}` : ""}`, "data-col": c.id,
        title: c.group ? `${c.group} ${c.label}` : c.label,
        "aria-sort": state.sort === c.id ? (state.desc ? "descending" : "ascending") : "none",
        onclick: () => {
          if (state.sort === c.id) state.desc = !state.desc;
          else { state.sort = c.id; state.desc = c.id === "number"; }
          draw();
        },
      }, c.label, state.sort === c.id ? (state.desc ? " ▾" : " ▴") : "")));
    const body = runs.map((r) => h("tr", {
      class: selected.has(r.id) ? "nbt-selected" : "", "data-run": r.id,
      onclick: (e) => { if (e.target.tagName !== "INPUT") toggle(r.id, !selected.has(r.id)); },
    },
      h("td", { class: "nbt-check" }, h("input", {
        type: "checkbox", checked: selected.has(r.id), "aria-label": `select ${runLabel(r)}`,
        onchange: (e) => toggle(r.id, e.target.checked),
      })),
      cols.map((c) => h("td", { class: c.group ? `nbt-${c.group}` : "" },
        c.cell ? c.cell(r) : fmt(c.get(r))))));
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, body));
    const total = (model.get("runs") ?? []).length;
    count.textContent = `${runs.length} of ${total} runs · ${selected.size} selected`;
    clear.disabled = selected.size === 0;
  }

  function drawKeys() {
    const keys = model.get("metric_keys") ?? [];
    const current = model.get("chart_keys") ?? [];
    keySelect.replaceChildren(h("option", { value: "" }, "all metrics"),
      ...keys.map((k) => h("option", { value: k, selected: current.length === 1 &&
                                                           current[0] === k }, k)));
  }

  search.addEventListener("input", () => { state.filter = search.value; draw(); });
  keySelect.addEventListener("change", () => {
    model.set("chart_keys", keySelect.value ? [keySelect.value] : []);
    model.save_changes();
  });
  clear.addEventListener("click", () => { model.set("selected", []); model.save_changes(); });
  draw();
  drawKeys();
  const redraw = () => draw();
  model.on("change:runs change:selected change:param_keys change:metric_keys", redraw);
  model.on("change:metric_keys change:chart_keys", drawKeys);
  const stopChart = chartSlot(model, chartEl);
  return () => {
    model.off("change:runs change:selected change:param_keys change:metric_keys", redraw);
    model.off("change:metric_keys change:chart_keys", drawKeys);
    stopChart();
  };
}

// -- diff ----------------------------------------------------------------------------------
function diffLines(text) {
  return h("pre", { class: "nbt-code" }, text.split("\n").map((line) => {
    let cls = "";
    if (line.startsWith("+++") || line.startsWith("---")) cls = "nbt-diff-file";
    else if (line.startsWith("+")) cls = "nbt-diff-add";
    else if (line.startsWith("-")) cls = "nbt-diff-del";
    else if (line.startsWith("@@")) cls = "nbt-diff-hunk";
    return h("span", { class: cls }, line, "\n");
  }));
}

// A cell only one run executed reads as wholly removed (first run) or added (second run).
function cellDiff(c) {
  if (c.diff) return c.diff;
  if (c.b_source === null) return (c.a_source ?? "").split("\n").map((l) => `-${l}`).join("\n");
  if (c.a_source === null) return (c.b_source ?? "").split("\n").map((l) => `+${l}`).join("\n");
  return c.a_source ?? "";
}

function renderDiff({ model, el }) {
  const root = h("div");
  el.append(root);
  function draw() {
    const d = model.get("diff");
    const showAll = model.get("show_all");
    if (!d || !d.runs) return root.replaceChildren();
    const names = d.runs.map(runLabel);
    const params = (d.params ?? []).filter((p) => showAll || !p.equal);
    const cells = d.cells ?? [];
    const changed = cells.filter((c) => !c.equal);
    const variables = (d.variables ?? []).filter((v) => !v.equal);
    const env = (d.env ?? []).filter((e) => !e.equal);
    const allToggle = h("label", { class: "nbt-muted" }, h("input", {
      type: "checkbox", checked: showAll,
      onchange: (e) => { model.set("show_all", e.target.checked); model.save_changes(); },
    }), " show equal params");
    const grid = (headers, rows, classes = () => "") => h("table", { class: "nbt-table" },
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.map((row, i) => h("tr", { class: classes(i) },
        row.map((x) => h("td", {}, x))))));
    setChildren(root,
      h("div", { class: "nbt-card-head" }, h("b", {}, "diff "), names.join("  vs  ")),
      h("div", { class: "nbt-section" }, "params ", allToggle),
      params.length
        ? grid(["param", ...names], params.map((p) => [p.key, ...p.values.map(fmt)]),
               (i) => (params[i].equal ? "" : "nbt-changed"))
        : h("div", { class: "nbt-muted" }, "all params equal"),
      h("div", { class: "nbt-section" }, "metrics"),
      (d.metrics ?? []).length
        ? grid(["metric", ...names, "delta"], d.metrics.map((m) => [
          m.key, ...m.values.map(fmt),
          h("span", { class: m.delta > 0 ? "nbt-up" : m.delta < 0 ? "nbt-down" : "" },
            m.delta === null ? "–" : (m.delta > 0 ? "+" : "") + fmt(m.delta)),
        ]))
        : h("div", { class: "nbt-muted" }, "no metrics"),
      h("div", { class: "nbt-section" },
        `cells: ${cells.length - changed.length} same, ${changed.length} changed`),
      changed.map((c) => h("details", { class: "nbt-cell", open: true },
        h("summary", {}, `cell ${c.index + 1}` + (c.cell_id ? ` (${c.cell_id})` : "") +
          (c.a_source === null ? " — only in the second run" :
            c.b_source === null ? " — only in the first run" : "")),
        diffLines(cellDiff(c)))),
      variables.length ? h("div", { class: "nbt-section" }, "variables") : null,
      variables.length
        ? grid(["name", names[0], names[names.length - 1]],
               variables.map((v) => [v.name, fmt(v.a), fmt(v.b)]))
        : null,
      env.length ? h("details", {}, h("summary", { class: "nbt-section" },
        `environment (${env.length} differ)`),
        grid(["key", ...names], env.map((e) => [e.key, ...e.values.map(fmt)]))) : null,
    );
  }
  draw();
  model.on("change:diff change:show_all", draw);
  return () => model.off("change:diff change:show_all", draw);
}

const VIEWS = { live: renderLive, card: renderCard, table: renderTable, diff: renderDiff };

function render({ model, el }) {
  el.classList.add("nbtrack-widget");
  const view = VIEWS[model.get("kind")];
  if (!view) {
    errorBox(el, `unknown widget kind ${model.get("kind")}`);
    return () => {};
  }
  return view({ model, el });
}

export default { render };
