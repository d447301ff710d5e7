// nbtrack run card: one run's status, params, summary values, curves and latest media.
// shared.js is put in front of this module (see nbtrack/widgets/shared.py).

function kvTable(entries, empty) {
  if (!entries.length) return h("div", { class: "nbt-muted" }, empty);
  return h("table", { class: "nbt-kv" },
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, fmt(v))))));
}

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
