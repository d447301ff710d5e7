"""Altair chart builders: one Vega-Lite spec per view, shared by every surface.

The sidebar (through the server), the inline widgets and the HTML report all draw their charts
from these functions, so a curve looks the same everywhere. Data is always inlined in the
spec (never a URL or a file), and the look is theme-neutral: a transparent background and grey
labels that read on JupyterLab's light and dark themes alike.

>>> spec = to_spec(curves(run.history().values()))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeGuard, cast

import altair as alt

from nbtrack.model import MetricSeries, RunRecord, run_label
from nbtrack.store.downsample import downsample

__all__ = ["curve_rows", "curves", "importance", "live_curves", "optimization_history", "parallel",
           "plot", "scatter", "to_spec"]

#: The name of the inline dataset in every spec made here.
DATA_NAME = "nbtrack"
#: The named dataset a live view feeds (``view.data(LIVE_DATA, rows)``).
LIVE_DATA = "points"

_GREY = "#8a8a8a"
_GRID = "rgba(128, 128, 128, 0.22)"
_CONFIG: dict[str, Any] = {
    "axis": {"labelColor": _GREY, "titleColor": _GREY, "gridColor": _GRID,
             "domainColor": _GREY, "tickColor": _GREY, "titleFontWeight": "normal"},
    "legend": {"labelColor": _GREY, "titleColor": _GREY, "titleFontWeight": "normal"},
    "header": {"labelColor": _GREY, "titleColor": _GREY, "labelFontSize": 12},
    "title": {"color": _GREY, "subtitleColor": _GREY},
    "view": {"stroke": None},
}
_SINGLE = {"width": 520, "height": 240}
_PANEL = {"width": 280, "height": 170}


def _finite(value: Any) -> TypeGuard[float]:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ema(values: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average (``weight`` in [0, 1))."""
    out: list[float] = []
    last = 0.0
    count = 0
    for v in values:
        last = last * weight + (1.0 - weight) * v
        count += 1
        debias = 1.0 - weight**count if weight > 0 else 1.0
        out.append(last / debias)
    return out


def _unique_labels(
    series: Sequence[MetricSeries], labels: Mapping[str, str] | None
) -> dict[str, str]:
    """run_id -> a display label, made unique (two runs both named "baseline" stay apart)."""
    out: dict[str, str] = {}
    used: dict[str, str] = {}
    for s in series:
        run_id = s["run_id"]
        if run_id in out:
            continue
        label = (labels or {}).get(run_id) or run_id
        if label in used and used[label] != run_id:
            label = f"{label} ({run_id[:6]})"
        used[label] = run_id
        out[run_id] = label
    return out


def curve_rows(
    series: Sequence[MetricSeries],
    labels: Mapping[str, str] | None = None,
    *,
    log_scale: bool = False,
    smoothing: float = 0.0,
) -> list[dict[str, Any]]:
    """The long-form rows :func:`curves` plots: run, run_id, key, step, value (+ smoothed).

    NaN and infinite values are dropped; with ``log_scale`` so are values <= 0.
    """
    names = _unique_labels(series, labels)
    weight = _check_smoothing(smoothing)
    rows: list[dict[str, Any]] = []
    for s in series:
        points = [
            (step, float(v))
            for step, v in zip(s["step"], s["value"])
            if _finite(v) and (not log_scale or v > 0)
        ]
        label = names[s["run_id"]]
        smoothed = _ema([v for _, v in points], weight) if weight else None
        for i, (step, v) in enumerate(points):
            row = {"run": label, "run_id": s["run_id"], "key": s["key"], "step": step, "value": v}
            if smoothed is not None:
                row["smoothed"] = smoothed[i]
            rows.append(row)
    return rows


def _check_smoothing(smoothing: float) -> float:
    if not isinstance(smoothing, (int, float)) or not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), not {smoothing!r}")
    return float(smoothing)


def _ordered(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _curves_chart(
    data: Any,
    keys: Sequence[str],
    runs: Sequence[str],
    *,
    log_scale: bool,
    smoothing: bool,
    title: str | None,
) -> alt.TopLevelMixin:
    """The curves chart over ``data`` (inline values or a named dataset)."""
    several = len(keys) != 1
    y_title = None if several else (keys[0] if keys else "value")
    scale = alt.Scale(type="log", nice=False) if log_scale else alt.Scale(zero=False)
    color = alt.Color(
        "run:N",
        sort=list(runs) or None,
        legend=alt.Legend(title="run", orient="right", symbolType="stroke", labelLimit=220,
                          symbolOpacity=1, symbolStrokeWidth=2),
    )
    x = alt.X("step:Q", title="step", axis=alt.Axis(format="~s", tickMinStep=1))
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("key:N"), alt.Tooltip("step:Q"),
               alt.Tooltip("value:Q", format=".6~g")]
    y_field = "smoothed:Q" if smoothing else "value:Q"
    if smoothing:
        tooltip.append(alt.Tooltip("smoothed:Q", format=".6~g"))
    base = alt.Chart()
    layers = []
    if smoothing:
        layers.append(base.mark_line(strokeWidth=1, opacity=0.25, clip=True).encode(
            x=x, y=alt.Y("value:Q", title=y_title, scale=scale), color=color))
    layers.append(base.mark_line(strokeWidth=1.8 if smoothing else 1.6, clip=True).encode(
        x=x, y=alt.Y(y_field, title=y_title, scale=scale), color=color))
    # Invisible points carry the tooltip: hovering near a point shows run, step and value.
    layers.append(base.mark_point(size=50, filled=True, opacity=0, clip=True).encode(
        x=x, y=alt.Y(y_field, scale=scale), color=color, tooltip=tooltip))
    inner: Any = alt.layer(*layers)
    if several:
        chart: Any = inner.properties(**_PANEL).facet(
            data=data,
            facet=alt.Facet("key:N", sort=list(keys) or None,
                            header=alt.Header(title=None, labelFontWeight="bold")),
            columns=2,
        ).resolve_scale(y="independent")
    else:
        chart = inner.properties(data=data, **_SINGLE)
    chart = chart.properties(background="transparent")
    if title:
        chart = chart.properties(title=title)
    return _configured(chart)


def curves(
    series: Sequence[MetricSeries],
    labels: Mapping[str, str] | None = None,
    *,
    log_scale: bool = False,
    smoothing: float = 0.0,
    title: str | None = None,
) -> alt.TopLevelMixin:
    """Overlaid metric curves: x = step, y = value, one color per run, one panel per key.

    Parameters
    ----------
    series : metric series of one or more runs (:class:`nbtrack.model.MetricSeries`).
    labels : ``{run_id: display label}`` for the legend (default: the run id).
    log_scale : a log y scale (values <= 0 are left out).
    smoothing : exponential moving average weight in [0, 1) as in TensorBoard; above 0 the raw
        curve is drawn faint under the smoothed one (field ``smoothed``).
    title : a title above the chart.
    """
    rows = curve_rows(series, labels, log_scale=log_scale, smoothing=smoothing)
    keys = _ordered(s["key"] for s in series)
    runs = list(_unique_labels(series, labels).values())

    def build(data: Any) -> alt.TopLevelMixin:
        return _curves_chart(
            data, keys, runs, log_scale=log_scale, smoothing=smoothing > 0, title=title
        )

    return _with_rows(build(alt.NamedData(name=DATA_NAME)), build, rows)


def plot(
    runs: Any,
    keys: str | Iterable[str] | None = None,
    *,
    log_scale: bool = False,
    smoothing: float = 0.0,
    title: str | None = None,
    max_points: int = 2000,
) -> alt.TopLevelMixin:
    """Curves of ``keys`` (default: all) of ``runs``: a Run, a run reference, or several.

    Long series are downsampled to ``max_points`` per curve (spikes kept).

    Examples
    --------
    >>> nbtrack.plot(nbtrack.runs(tag="cnn"), "val/acc", smoothing=0.6)  # doctest: +SKIP
    """
    from nbtrack.api import get_run
    from nbtrack.run import Run

    items = [runs] if isinstance(runs, (Run, str, int)) else list(runs)
    wanted = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
    series: list[MetricSeries] = []
    labels: dict[str, str] = {}
    for item in items:
        run = item if isinstance(item, Run) else get_run(item)
        record = run.record()
        labels[run.id] = run_label(record)
        for s in run.history(wanted).values():
            series.append(s if s["count"] <= max_points else downsample(s, max_points))
    return curves(series, labels, log_scale=log_scale, smoothing=smoothing, title=title)


def live_curves(keys: Sequence[str] = (), title: str | None = None) -> dict[str, Any]:
    """The curves spec of a live view: data comes from the named dataset :data:`LIVE_DATA`.

    ``keys`` are the panels: one key draws one chart, several a panel per key. Cached: a live
    chart asks for it from its update thread, which shares the interpreter with training.
    """
    spec: dict[str, Any] = json.loads(_live_curves_json(tuple(keys), title))
    return spec


@functools.lru_cache(maxsize=64)
def _live_curves_json(keys: tuple[str, ...], title: str | None) -> str:
    chart = _curves_chart(alt.NamedData(name=LIVE_DATA), list(keys), [],
                          log_scale=False, smoothing=False, title=title)
    spec = chart.to_dict(validate=False)
    # Sized again on every data change: the legend and the panels appear as points arrive.
    spec["autosize"] = {"type": "pad", "resize": True}
    return json.dumps(spec)


def _param_type(values: Sequence[Any]) -> Literal["quantitative", "nominal"]:
    numeric = all(_finite(v) for v in values if v is not None)
    return "quantitative" if numeric and values else "nominal"


def _spans_decades(values: Sequence[Any]) -> bool:
    """True for positive numbers spanning two decades or more (learning rates, weight decay)."""
    nums = [float(v) for v in values if _finite(v)]
    return bool(nums) and min(nums) > 0 and max(nums) / min(nums) >= 100


_run_label = run_label


def scatter(records: Sequence[RunRecord], param: str, metric: str) -> alt.TopLevelMixin:
    """One point per run: x = the param's value, y = the metric's summary value.

    Runs without the param or without a finite metric value are left out.
    """
    rows = []
    for r in records:
        measured = r["summary"].get(metric)
        if param not in r["params"] or not _finite(measured):
            continue
        value = r["params"][param]
        rows.append({"run": _run_label(r), "run_id": r["id"], "status": r["status"],
                     "param": value if _finite(value) else _text(value),
                     "metric": float(measured)})
    kind = _param_type([row["param"] for row in rows])
    if kind != "quantitative":
        x_scale: Any = alt.Undefined
    elif _spans_decades([row["param"] for row in rows]):
        x_scale = alt.Scale(type="log")
    else:
        x_scale = alt.Scale(zero=False)

    def build(data: Any) -> alt.TopLevelMixin:
        chart = (
            alt.Chart(data)
            .mark_circle(size=90, opacity=0.85)
            .encode(
                x=alt.X("param", type=kind, title=param, scale=x_scale),
                y=alt.Y("metric:Q", title=metric, scale=alt.Scale(zero=False)),
                color=alt.Color("status:N", legend=alt.Legend(title="status")),
                tooltip=[alt.Tooltip("run:N"), alt.Tooltip("param", type=kind, title=param),
                         alt.Tooltip("metric:Q", title=metric, format=".6~g")],
            )
            .properties(**_SINGLE, background="transparent")
        )
        return _configured(chart)

    return _with_rows(build(alt.NamedData(name=DATA_NAME)), build, rows)


def _text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def parallel(
    records: Sequence[RunRecord], params: Sequence[str], metric: str
) -> alt.TopLevelMixin:
    """Parallel coordinates: one axis per param and one for the metric, one line per run.

    Each axis is scaled to its own min..max (categorical params are spread evenly in sorted
    order) and labelled with its extremes; the line color is the metric value.
    """
    dims = [*params, metric]
    used = [r for r in records if _finite(r["summary"].get(metric))]
    rows: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    for dim in dims:
        raw = [(r["summary"].get(metric) if dim == metric and dim not in params
                else r["params"].get(dim)) for r in used]
        if _param_type(raw) == "quantitative":
            nums = [float(v) for v in raw if _finite(v)]  # all but None, as quantitative
            lo, hi = (min(nums), max(nums)) if nums else (0.0, 1.0)
            ticks += [{"dim": dim, "pos": 0.0, "text": f"{lo:.4g}"},
                      {"dim": dim, "pos": 1.0, "text": f"{hi:.4g}"}]
            scale = math.log10 if _spans_decades(nums) else float
            span = scale(hi) - scale(lo)
            for r, v in zip(used, raw):
                pos = None if not _finite(v) else (  # None: no value (quantitative)
                    0.5 if span == 0 else (scale(float(v)) - scale(lo)) / span)
                rows.append(_parallel_row(r, dim, v, pos, metric))
        else:
            cats = sorted({_text(v) for v in raw})
            place = {c: (0.5 if len(cats) == 1 else i / (len(cats) - 1))
                     for i, c in enumerate(cats)}
            ticks += [{"dim": dim, "pos": place[c], "text": c} for c in cats]
            for r, v in zip(used, raw):
                rows.append(_parallel_row(r, dim, _text(v), place[_text(v)], metric))
    rows = [row for row in rows if row["pos"] is not None]
    for t in ticks:
        t["kind"] = "tick"
    for row in rows:
        row["kind"] = "line"

    def build(data: Any) -> alt.TopLevelMixin:
        x = alt.X("dim:N", sort=dims, title=None,
                  axis=alt.Axis(orient="top", labelAngle=0, domain=False, ticks=False,
                                labelFontWeight="bold"))
        y = alt.Y("pos:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
        lines = alt.Chart().transform_filter("datum.kind === 'line'").mark_line(
            opacity=0.75, strokeWidth=2).encode(
            x=x, y=y, detail="run:N",
            color=alt.Color("metric:Q", title=metric, scale=alt.Scale(scheme="viridis")),
            tooltip=[alt.Tooltip("run:N"), alt.Tooltip("metric:Q", title=metric,
                                                       format=".6~g")],
        )
        points = lines.mark_point(filled=True, size=30).encode(
            tooltip=[alt.Tooltip("run:N"), alt.Tooltip("dim:N", title="axis"),
                     alt.Tooltip("raw:N", title="value")])
        axes = alt.Chart().transform_filter("datum.kind === 'tick'").mark_rule(
            color=_GREY, opacity=0.6).encode(x=x)
        labels = alt.Chart().transform_filter("datum.kind === 'tick'").mark_text(
            align="left", dx=4, color=_GREY, fontSize=10).encode(x=x, y=y, text="text:N")
        return _configured(
            alt.layer(axes, lines, points, labels, data=data)
            .properties(width=max(240, 120 * len(dims)), height=260, background="transparent")
        )

    return _with_rows(build(alt.NamedData(name=DATA_NAME)), build, rows + ticks)


def _parallel_row(
    r: RunRecord, dim: str, raw: Any, pos: float | None, metric: str
) -> dict[str, Any]:
    measured = cast(float, r["summary"][metric])  # only runs with a finite value get here
    return {"run": _run_label(r), "run_id": r["id"], "dim": dim,
            "raw": _text(raw) if not _finite(raw) else raw, "pos": pos,
            "metric": float(measured)}


def optimization_history(
    points: Sequence[Mapping[str, Any]], metric: str, goal: str = "minimize"
) -> alt.TopLevelMixin:
    """A sweep's optimization history: each trial's value (``{"trial", "value", "status"}``;
    pruned trials hollow) and a step line of the best finished value so far."""
    rows: list[dict[str, Any]] = []
    best: float | None = None
    for p in sorted(points, key=lambda p: p["trial"]):
        value = p["value"]
        if not _finite(value):
            continue
        if p.get("status", "finished") == "finished":
            better = best is None or (value < best if goal.startswith("min") else value > best)
            best = float(value) if better else best
        rows.append({"trial": p["trial"], "value": float(value),
                     "status": p.get("status", "finished"), "best": best})
    x = alt.X("trial:Q", title="trial", axis=alt.Axis(tickMinStep=1))
    points_layer = alt.Chart().mark_point(size=40).encode(
        x=x, y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
        color=alt.Color("status:N", title="status",
                        scale=alt.Scale(domain=["finished", "pruned"],
                                        range=["#1976d2", _GREY])),
        tooltip=[alt.Tooltip("trial:Q"), alt.Tooltip("value:Q", format=".6~g"),
                 alt.Tooltip("status:N")])
    best_layer = alt.Chart().transform_filter("datum.best != null").mark_line(
        interpolate="step-after", color="#ef6c00").encode(
        x=x, y="best:Q", tooltip=[alt.Tooltip("best:Q", title="best so far", format=".6~g")])
    chart = alt.layer(points_layer, best_layer, data=alt.InlineData(values=rows)).properties(
        title=f"{metric}: {goal}", background="transparent", **_SINGLE)
    return _configured(chart)


def importance(values: Mapping[str, float]) -> alt.TopLevelMixin:
    """Parameter importance (name -> share) as horizontal bars, most important first."""
    ranked = sorted(((k, float(v)) for k, v in values.items() if _finite(v)),
                    key=lambda kv: -kv[1])
    rows = [{"param": k, "importance": v} for k, v in ranked]
    chart = alt.Chart(alt.InlineData(values=rows)).mark_bar(color="#1976d2").encode(
        x=alt.X("importance:Q", title="importance", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("param:N", sort=[k for k, _v in ranked], title=None),
        tooltip=[alt.Tooltip("param:N"), alt.Tooltip("importance:Q", format=".3f")],
    ).properties(width=_SINGLE["width"], height=max(40, 24 * len(rows)),
                 background="transparent", title="parameter importance")
    return _configured(chart)


def _configured(chart: Any) -> alt.TopLevelMixin:
    """``chart`` with the theme-neutral look (Altair types ``configure()`` as returning Any)."""
    configured: alt.TopLevelMixin = chart.configure(**_CONFIG)
    return configured


def _with_rows(
    skeleton: alt.TopLevelMixin,
    build: Callable[[Any], alt.TopLevelMixin],
    rows: list[dict[str, Any]],
) -> alt.TopLevelMixin:
    """The chart with ``rows`` inlined, remembering a data-free skeleton for :func:`to_spec`.

    Altair walks every data value in ``to_dict`` (about a second per 20,000 rows); the skeleton
    is converted once without data and the rows are attached as a named dataset instead.
    """
    data = alt.InlineData(values=[])
    data.values = rows  # assigned after construction: the constructor validates every row
    chart = build(data)
    # Stored beside Altair's own parameters, not among them; a copy of the chart drops it.
    object.__setattr__(chart, "_nbtrack_fast", (skeleton, rows))
    return chart


def to_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart as a Vega-Lite dict, data inlined (no URL, nothing written to disk)."""
    fast = vars(chart).get("_nbtrack_fast")
    if fast is not None:
        skeleton, rows = fast
        spec: dict[str, Any] = copy.deepcopy(skeleton.to_dict(validate=False))
        spec["datasets"] = {DATA_NAME: rows}
        return spec
    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()
