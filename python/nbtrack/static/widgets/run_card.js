// nbtrack run card: one run's status, params, summary values, curves and latest media
// (mediaSlot, in shared.js, also serves the live chart).
// shared.js is put in front of this module (see nbtrack/widgets/shared.py).

function kvTable(entries, empty) {
  if (!entries.length) return h("div", { class: "nbt-muted" }, empty);
  return h("table", { class: "nbt-kv" },
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, fmt(v))))));
}

function render({ model, el }) {
  el.classList.add("nbtrack-widget");
  const body = h("div");
  const chartEl = h("div", { class: "nbt-chart" });
  const mediaEl = h("div", { class: "nbt-media" });
  el.append(body, chartEl, mediaEl);
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
  const stopMedia = mediaSlot(model, mediaEl);
  return () => {
    model.off("change:run", draw);
    stopChart();
    stopMedia();
  };
}

export default { render };
