// nbtrack run diff: params, metric deltas, code per cell, variables and environment.
// shared.js is put in front of this module (see nbtrack/widgets/shared.py).

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

function render({ model, el }) {
  el.classList.add("nbtrack-widget");
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

export default { render };
