// nbtrack runs table: sort, filter and select runs; the selected runs' curves drawn below.
// shared.js is put in front of this module (see nbtrack/widgets/shared.py).

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

function render({ model, el }) {
  el.classList.add("nbtrack-widget");
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

export default { render };
