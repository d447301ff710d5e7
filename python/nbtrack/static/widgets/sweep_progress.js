// nbtrack sweep progress: trial i of N, elapsed time, best value so far, a small leaderboard.
// shared.js is put in front of this module (see nbtrack/widgets/shared.py).

function render({ model, el }) {
  el.classList.add("nbtrack-widget");
  const head = h("div", { class: "nbt-live-head" });
  const bar = h("progress", { class: "nbt-sweep-bar", max: 1, value: 0 });
  const info = h("div", { class: "nbt-muted" });
  const board = h("div");
  el.append(head, bar, info, board);
  function draw() {
    const s = model.get("state") ?? {};
    const running = s.state === "running";
    const elapsed = running && s.started ? Date.now() / 1000 - s.started : s.elapsed;
    const total = s.total ?? "?";
    setChildren(head, h("b", {}, `sweep ${s.name ?? ""}`), " ",
      statusBadge(running ? "running" : s.state === "done" ? "finished" : s.state === "interrupted" ? "interrupted" : "failed"),
      h("span", {}, `trial ${s.done ?? 0} of ${total}`),
      h("span", { class: "nbt-muted" }, `elapsed ${fmtDuration(elapsed)}`));
    if (s.total) { bar.max = s.total; bar.value = s.done ?? 0; } else { bar.removeAttribute("value"); }
    const counts = Object.entries(s.counts ?? {}).map(([k, v]) => `${v} ${k}`).join(", ");
    const best = s.best ? `best ${s.metric} ${fmt(s.best.value)} (trial ${s.best.trial})` : "no finished trial yet";
    setChildren(info, [best, counts, s.reason].filter(Boolean).join(" · "));
    const rows = s.leaderboard ?? [];
    const names = [...new Set(rows.flatMap((r) => Object.keys(r.params ?? {})))];
    setChildren(board, rows.length ? h("table", { class: "nbt-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "trial"), h("th", {}, "run"), h("th", {}, "status"),
        h("th", { class: "nbt-metric" }, s.metric ?? "value"),
        ...names.map((n) => h("th", { class: "nbt-param" }, n)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, String(r.trial)),
        h("td", {}, r.run == null ? "" : `#${r.run}`), h("td", {}, statusBadge(r.status)),
        h("td", {}, fmt(r.value)), ...names.map((n) => h("td", {}, fmt(r.params?.[n]))))))) : null);
  }
  draw();
  model.on("change:state", draw);
  const timer = setInterval(() => { if ((model.get("state") ?? {}).state === "running") draw(); }, 1000);
  return () => { clearInterval(timer); model.off("change:state", draw); };
}

export default { render };
