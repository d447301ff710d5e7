// nbtrack live chart: one run's curves, redrawn as the kernel sends new points.
// shared.js is put in front of this module (see nbtrack/widgets/shared.py).

function f64(view) {
  // A DataView from a binary buffer -> Float64Array (copied: the offset may be unaligned).
  if (!view) return new Float64Array(0);
  if (Array.isArray(view)) return Float64Array.from(view);
  const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
  return new Float64Array(bytes);
}

function render({ model, el }) {
  el.classList.add("nbtrack-widget");
  const status = h("span");
  const info = h("span", { class: "nbt-muted" });
  const chartEl = h("div", { class: "nbt-chart" });
  const mediaEl = h("div", { class: "nbt-media" });
  el.append(h("div", { class: "nbt-live-head" }, status, h("b", {}, ""), info), chartEl,
    mediaEl);
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
  const stopMedia = mediaSlot(model, mediaEl);
  return () => {
    disposed = true;
    stopMedia();
    model.off("change:spec", onSpec);
    model.off("change:series", scheduleData);
    model.off("change:status change:step change:points change:label", head);
    view?.finalize?.();
  };
}

export default { render };
