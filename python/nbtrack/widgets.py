"""Inline widgets: a live chart under a training cell, a run card, a runs table, a run diff.

Each function returns an anywidget in a notebook (a Jupyter kernel) and a :class:`TextView`
(plain text) anywhere else, so the same code runs in scripts.

>>> run = nbtrack.init()                          # doctest: +SKIP
>>> display(nbtrack.widgets.live_chart(run))      # doctest: +SKIP

Charts are drawn with the offline Vega bundle (``static/vega-bundle.js``): it is sent to the
page once per kernel in a shared :class:`VegaLib` model that every widget points at, instead of
riding in each widget's ``_esm``.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import threading
import warnings
from array import array
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t
from ipywidgets import widget_serialization

from nbtrack import charts, text
from nbtrack.model import MetricSeries, RunDiffRecord, RunRecord
from nbtrack.recorder import TrackingWarning
from nbtrack.run import Run
from nbtrack.store.downsample import downsample

__all__ = [
    "BundleMissingError",
    "DiffView",
    "LiveChart",
    "RunCard",
    "RunsTable",
    "TextView",
    "diff_view",
    "live_chart",
    "run_card",
    "runs_table",
    "show",
    "show_diff",
    "show_run",
    "show_runs",
]

STATIC = Path(__file__).with_name("static")
BUNDLE = STATIC / "vega-bundle.js"
#: Updates per second a live chart sends at most.
LIVE_RATE = 4.0
#: Points per series a live chart keeps (min/max buckets beyond that).
LIVE_POINTS = 2000
#: Points per series in the charts of cards and tables.
CHART_POINTS = 1000
#: Metric keys drawn at most in a card's or a table's chart.
CHART_KEYS = 6


class BundleMissingError(RuntimeError):
    """The offline Vega bundle was not built (a source checkout before its first build)."""


def _static(name: str) -> str:
    try:
        return (STATIC / name).read_text(encoding="utf-8")
    except OSError:  # pragma: no cover - a broken install; the widget says so
        message = f"nbtrack: {name} is missing from the installed package"
        return f"export default {{ render({{ el }}) {{ el.textContent = {message!r}; }} }};\n"


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (``$NBTRACK_WIDGETS=1``/``0`` forces the answer)."""
    forced = os.environ.get("NBTRACK_WIDGETS", "").strip().lower()
    if forced:
        return forced not in ("0", "false", "no", "off")
    app = sys.modules.get("ipykernel.kernelapp")
    return bool(app is not None and app.IPKernelApp.initialized())


# -- the shared Vega library ----------------------------------------------------------------

class VegaLib(anywidget.AnyWidget):
    """Carries the offline Vega bundle to the page once; never displayed itself."""

    _esm = "export default {};\n"
    source = t.Unicode().tag(sync=True)
    version = t.Unicode().tag(sync=True)


_lib: VegaLib | None = None
_lib_lock = threading.Lock()


def vega_lib() -> VegaLib:
    """The kernel's :class:`VegaLib` (made on first use).

    Raises :class:`BundleMissingError` naming the build command when the bundle is missing.
    """
    global _lib
    with _lib_lock:
        if _lib is None or _lib.comm is None:
            try:
                source = BUNDLE.read_text(encoding="utf-8")
            except OSError:
                raise BundleMissingError(
                    f"nbtrack's offline Vega bundle is missing ({BUNDLE}). Build it with "
                    "`npm ci && npm run build:vega` in the nbtrack source folder (or reinstall "
                    "with `pip install -e .`, which builds it)."
                ) from None
            version = hashlib.sha256(source.encode()).hexdigest()[:16]
            _lib = VegaLib(source=source, version=version)
        return _lib


class _Widget(anywidget.AnyWidget):
    _esm = _static("widgets.js")
    _css = _static("widgets.css")
    kind = t.Unicode().tag(sync=True)
    _vega = t.Instance(VegaLib, allow_none=True).tag(sync=True, **widget_serialization)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("_vega", vega_lib())
        super().__init__(**kwargs)


# -- plain data for traits --------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    """A JSON-safe copy: NaN and infinities become None, tuples lists, unknown objects text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _label(record: RunRecord) -> str:
    return f"#{record['number']} {record['name']}"


def _reduce(series: MetricSeries, max_points: int) -> MetricSeries:
    """``series`` with at most about ``max_points`` points (the store's downsampling)."""
    return series if series["count"] <= max_points else downsample(series, max_points)


def _curves_spec(series: Sequence[MetricSeries], labels: Mapping[str, str]) -> dict[str, Any]:
    keys: list[str] = []
    for s in series:
        if s["key"] not in keys:
            keys.append(s["key"])
    keys = keys[:CHART_KEYS]
    shown = [_reduce(s, CHART_POINTS) for s in series if s["key"] in keys]
    if not shown:
        return {}
    return charts.to_spec(charts.curves(shown, labels))


# -- text fallback ------------------------------------------------------------------------------

class TextView:
    """What the widget functions return outside a notebook: the view as plain text."""

    def __init__(self, text: str, *, selected: Sequence[str] = ()) -> None:
        self.text = text
        self.selected: list[str] = list(selected)
        self.selected_runs: list[Run] = []

    def stop(self) -> None:
        """Nothing to stop (kept so code written for widgets runs in scripts)."""

    def close(self) -> None:
        """Nothing to close."""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def _card_text(record: RunRecord) -> str:
    lines = [f"{_label(record)}  [{record['status']}]  started {text.fmt_time(record['started'])}"
             f"  duration {text.fmt_duration(record['duration'])}"]
    if record["params"]:
        lines.append("params:  " + ", ".join(
            f"{k}={text.fmt_value(v)}" for k, v in record["params"].items()))
    if record["summary"]:
        lines.append("summary: " + ", ".join(
            f"{k}={text.fmt_value(v)}" for k, v in record["summary"].items()))
    return "\n".join(lines)


# -- live chart -------------------------------------------------------------------------------

class _Reducer:
    """Min/max buckets over an endless stream of points: keeps at most ``max_points``.

    Points are kept as they come until ``max_points``; after that, consecutive points are
    grouped in buckets of ``width`` and each bucket keeps its lowest and highest point, so
    spikes survive. When the kept points fill up again, neighbouring buckets merge (the
    width doubles). Work per point is constant and mostly C-level (``min``, ``max``,
    ``list.index`` over slices). NaN and infinite values are dropped.
    """

    __slots__ = ("max_points", "width", "steps", "values", "cur_steps", "cur_values",
                 "first", "last")

    def __init__(self, max_points: int) -> None:
        self.max_points = max(16, max_points)
        self.width = 1  # 1: every point kept as is
        self.steps = array("d")
        self.values = array("d")
        self.cur_steps: list[float] = []
        self.cur_values: list[float] = []
        self.first: tuple[float, float] | None = None
        self.last: tuple[float, float] | None = None

    def extend(self, steps: Sequence[float], values: Sequence[float]) -> None:
        if not math.isfinite(sum(values)):  # a NaN or inf makes the sum non-finite (fast check)
            kept = [(s, v) for s, v in zip(steps, values) if math.isfinite(v)]
            steps, values = [p[0] for p in kept], [p[1] for p in kept]
        if not steps:
            return
        if self.first is None:
            self.first = (steps[0], values[0])
        self.last = (steps[-1], values[-1])
        if self.width == 1:
            if len(self.steps) + len(steps) <= self.max_points:
                self.steps.extend(steps)
                self.values.extend(values)
                return
            # Full: from here on, points go through buckets (starting with the kept ones).
            self.cur_steps = self.steps.tolist()
            self.cur_values = self.values.tolist()
            self.steps, self.values = array("d"), array("d")
            self.width = 2
        self.cur_steps.extend(steps)
        self.cur_values.extend(values)
        cs, cv = self.cur_steps, self.cur_values
        while len(self.steps) + 2 * (len(cs) // self.width) > self.max_points:
            self._coarsen()
            cs, cv = self.cur_steps, self.cur_values
        width = self.width
        full = len(cs) - len(cs) % width
        out_steps, out_values = self.steps, self.values
        for start in range(0, full, width):  # _emit, inlined: this loop is the hot one
            part = cv[start:start + width]
            lo = part.index(min(part))
            hi = part.index(max(part))
            if lo > hi:
                lo, hi = hi, lo
            out_steps.append(cs[start + lo])
            out_steps.append(cs[start + hi])
            out_values.append(part[lo])
            out_values.append(part[hi])
        del cs[:full], cv[:full]

    def _emit(self, steps: Sequence[float], values: Sequence[float]) -> None:
        lo = values.index(min(values))
        hi = values.index(max(values))
        a, b = (lo, hi) if lo <= hi else (hi, lo)
        self.steps.extend((steps[a], steps[b]))
        self.values.extend((values[a], values[b]))

    def _coarsen(self) -> None:
        """Double the bucket width: each two kept buckets (4 points) become one (2 points)."""
        steps, values = self.steps, self.values
        self.steps, self.values = array("d"), array("d")
        full = len(steps) - len(steps) % 4
        for start in range(0, full, 4):
            self._emit(steps[start:start + 4], values[start:start + 4])
        self.width *= 2
        if full < len(steps):  # an odd bucket out: its points go back into the open bucket
            self.cur_steps[:0] = steps[full:].tolist()
            self.cur_values[:0] = values[full:].tolist()

    def view(self) -> tuple[array, array]:
        """The points to draw: kept buckets, the open bucket's extremes, first and last."""
        steps, values = array("d", self.steps), array("d", self.values)
        cs, cv = self.cur_steps, self.cur_values
        if cs:
            if len(cs) <= 2:
                steps.extend(cs)
                values.extend(cv)
            else:
                lo, hi = cv.index(min(cv)), cv.index(max(cv))
                for i in sorted({lo, hi}):
                    steps.append(cs[i])
                    values.append(cv[i])
        if self.first is not None and (not steps or steps[0] != self.first[0]):
            steps.insert(0, self.first[0])
            values.insert(0, self.first[1])
        if self.last is not None and steps[-1] != self.last[0]:
            steps.append(self.last[0])
            values.append(self.last[1])
        return steps, values


# Fields of a Run.tap() entry: (run number, step, time, cell, keys, values).
_STEP, _KEYS, _VALUES = itemgetter(1), itemgetter(4), itemgetter(5)


class LiveChart(_Widget):
    """A chart of one run's metrics that follows ``log()`` until the run finishes.

    Updates are sent from a background thread at most :data:`LIVE_RATE` times a second;
    ``log()`` only appends to a list. :meth:`stop` freezes the chart (it stays shown);
    ``close()`` removes it. ``updates`` counts the updates sent.
    """

    kind = t.Unicode("live").tag(sync=True)
    run_id = t.Unicode().tag(sync=True)
    label = t.Unicode().tag(sync=True)
    status = t.Unicode("running").tag(sync=True)
    step = t.Int(None, allow_none=True).tag(sync=True)
    points = t.Int(0).tag(sync=True)
    metric_keys = t.List(t.Unicode()).tag(sync=True)
    spec = t.Dict().tag(sync=True)
    data_name = t.Unicode(charts.LIVE_DATA).tag(sync=True)
    #: ``{key: {"step": float64 bytes, "value": float64 bytes}}`` (binary buffers).
    series = t.Dict().tag(sync=True)

    def __init__(self, run: Run, keys: Sequence[str] | None = None, *,
                 max_points: int = LIVE_POINTS, rate: float = LIVE_RATE) -> None:
        record = run.record()
        super().__init__(run_id=run.id, label=_label(record), status=record["status"])
        self.updates = 0
        self._run = run
        self._wanted = list(keys) if keys is not None else None
        self._max_points = max_points
        self._interval = 1.0 / rate
        self._reducers: dict[str, _Reducer] = {}
        self._after: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sink: list[Any] | None = None
        self._failed = False
        self._spec_keys: tuple[str, ...] | None = None
        self._points = 0
        self._step: int | None = None
        live = run.live
        if live:  # tap first, so nothing logged while the history is read is missed
            self._sink = run.tap()
            run._on_finish.append(self._finished)
        self._seed(run)
        if live:
            self._thread = threading.Thread(target=self._follow, name="nbtrack-live-chart",
                                            daemon=True)
            self._thread.start()
        else:
            self._stopped.set()

    # The training loop's thread only appends to self._sink (in Run.log); the follower thread
    # drains it, folds the points into per-key reducers and sends the result.
    def _seed(self, run: Run) -> None:
        for s in run.history(self._wanted).values():
            if not s["count"]:
                continue
            reducer = self._reducer(s["key"])
            reducer.extend(s["step"], [math.nan if v is None else v for v in s["value"]])
            self._after[s["key"]] = s["step"][-1]
            self._points += s["count"]
            self._step = max(self._step or 0, s["step"][-1])
        self._push()

    def _reducer(self, key: str) -> _Reducer:
        reducer = self._reducers.get(key)
        if reducer is None:
            reducer = self._reducers[key] = _Reducer(self._max_points)
        return reducer

    def _follow(self) -> None:
        while not self._stopped.wait(self._interval):
            self._update()

    def _update(self, status: str | None = None) -> None:
        with self._lock:
            try:
                if self._drain() or status is not None:
                    self._push(status)
            except Exception as exc:  # noqa: BLE001 - a view must never break the run
                self._fail(exc)

    def _drain(self) -> bool:
        """Fold the entries logged since the last update into the reducers.

        Written for throughput (it shares the interpreter with the training loop): entries
        are taken apart with C-level ``map``/``itemgetter`` rather than Python loops.
        """
        sink = self._sink
        if not sink:
            return False
        n = len(sink)
        batch = sink[:n]
        del sink[:n]
        key_tuples = list(map(_KEYS, batch))
        if key_tuples.count(key_tuples[0]) == n:  # the usual case: the same keys every call
            groups: dict[tuple[str, ...], list[Any]] = {key_tuples[0]: batch}
        else:
            groups = {}
            for keys, entry in zip(key_tuples, batch):
                groups.setdefault(keys, []).append(entry)
        wanted = self._wanted
        last_step = self._step
        count = 0
        for keys, entries in groups.items():
            steps = list(map(_STEP, entries))
            values = list(map(_VALUES, entries))
            for j, key in enumerate(keys):
                if wanted is not None and key not in wanted:
                    continue
                column: Sequence[float] = list(map(itemgetter(j), values))
                key_steps: Sequence[float] = steps
                after = self._after.get(key)
                if after is not None:  # seeded from the store: skip points already there
                    kept = [(s, v) for s, v in zip(steps, column) if s > after]
                    key_steps, column = [p[0] for p in kept], [p[1] for p in kept]
                self._reducer(key).extend(key_steps, column)
                count += len(key_steps)
            top = max(steps)
            last_step = top if last_step is None else max(last_step, top)
        self._points += count
        self._step = last_step
        return True

    def _push(self, status: str | None = None) -> None:
        keys = tuple(self._wanted if self._wanted is not None else self._reducers)
        series = {}
        for key, reducer in self._reducers.items():
            steps, values = reducer.view()
            series[key] = {"step": steps.tobytes(), "value": values.tobytes()}
        with self.hold_sync():
            if keys and keys != self._spec_keys:
                self._spec_keys = keys
                self.metric_keys = list(keys)
                self.spec = charts.live_curves(keys)
            self.series = series
            self.points = self._points
            self.step = self._step
            if status is not None:
                self.status = status
        self.updates += 1

    def _finished(self, run: Run) -> None:
        """Run.finish() callback: a last update with every point and the final status."""
        self._stopped.set()
        try:
            status = run.record()["status"]
        except Exception:  # noqa: BLE001
            status = "finished"
        self._update(status)
        self._untap()
        try:
            run._on_finish.remove(self._finished)
        except ValueError:
            pass

    def _fail(self, exc: BaseException) -> None:
        self._stopped.set()
        self._untap()
        if not self._failed:
            self._failed = True
            warnings.warn(f"nbtrack's live chart stopped: {exc!r}", TrackingWarning,
                          stacklevel=2)

    def _untap(self) -> None:
        if self._sink is not None:
            self._run.untap(self._sink)
            self._sink = None

    def stop(self) -> None:
        """Stop following ``log()``: one last update, then the chart stays as it is.

        The run's final status is still shown when the run finishes.
        """
        if not hasattr(self, "_stopped"):  # closed while being built
            return
        self._stopped.set()
        if self._sink is not None:
            self._update()
            self._untap()

    #: The name the ``%%track`` magic calls when its cell ends.
    close_live = stop

    def close(self) -> None:
        """Stop following the run and remove the chart from the page."""
        self.stop()
        run = getattr(self, "_run", None)
        if run is not None and self._finished in run._on_finish:
            run._on_finish.remove(self._finished)
        super().close()


def live_chart(run: Run | None = None, keys: Sequence[str] | None = None) -> LiveChart | TextView:
    """A chart of ``run``'s metrics (default: the active run) that grows as it logs.

    Shown with ``display()``, it redraws a few times a second while the run logs and freezes
    with the final curves and status when the run finishes. Outside a notebook: a text line.
    """
    if run is None:
        from nbtrack.api import active_run

        run = active_run()
        if run is None:
            raise RuntimeError("live_chart() needs a run: start one with nbtrack.init()")
    if not _in_notebook():
        return TextView(f"{_label(run.record())}: live chart (shown in notebooks)")
    return LiveChart(run, keys)


# -- run card -----------------------------------------------------------------------------------

class RunCard(_Widget):
    """One run: status, params, summary values and its curves."""

    kind = t.Unicode("card").tag(sync=True)
    run = t.Dict().tag(sync=True)
    spec = t.Dict().tag(sync=True)


def run_card(run: Run | int | str) -> RunCard | TextView:
    """A card of one run (a :class:`Run`, number, id or name)."""
    run = _as_run(run)
    record = run.record()
    if not _in_notebook():
        return TextView(_card_text(record))
    spec = _curves_spec(list(run.history().values()), {run.id: _label(record)})
    return RunCard(run=_jsonable(record), spec=spec)


def _as_run(ref: Run | int | str) -> Run:
    if isinstance(ref, Run):
        return ref
    from nbtrack.api import get_run

    return get_run(ref)


# -- runs table ---------------------------------------------------------------------------------

class RunsTable(_Widget):
    """Runs in a sortable, filterable table; selected rows' curves are drawn below it.

    ``selected`` is the list of selected run ids (set it from Python too);
    ``selected_runs`` the same as :class:`Run` objects.
    """

    kind = t.Unicode("table").tag(sync=True)
    runs = t.List(t.Dict()).tag(sync=True)
    param_keys = t.List(t.Unicode()).tag(sync=True)
    metric_keys = t.List(t.Unicode()).tag(sync=True)
    sort = t.Unicode("number").tag(sync=True)
    selected = t.List(t.Unicode()).tag(sync=True)
    chart_keys = t.List(t.Unicode()).tag(sync=True)
    spec = t.Dict().tag(sync=True)

    def __init__(self, records: Sequence[RunRecord], run_objects: Mapping[str, Run],
                 **kwargs: Any) -> None:
        params: list[str] = []
        metrics: list[str] = []
        for r in records:
            params += [k for k in r["params"] if k not in params]
            metrics += [k for k in r["summary"] if k not in metrics]
        self._objects = dict(run_objects)
        super().__init__(runs=[_jsonable(r) for r in records], param_keys=params,
                         metric_keys=metrics, **kwargs)
        self.observe(self._redraw, names=["selected", "chart_keys"])
        if self.selected:
            self._redraw()

    @property
    def selected_runs(self) -> list[Run]:
        """The selected runs as :class:`Run` objects, in table order."""
        return [self._objects[i] for i in self.selected if i in self._objects]

    def _redraw(self, change: Any = None) -> None:
        try:
            series: list[MetricSeries] = []
            labels: dict[str, str] = {}
            wanted = list(self.chart_keys) or None
            for run in self.selected_runs:
                record = next(r for r in self.runs if r["id"] == run.id)
                labels[run.id] = _label(record)  # type: ignore[arg-type]
                series += list(run.history(wanted).values())
            self.spec = _curves_spec(series, labels)
        except Exception as exc:  # noqa: BLE001 - a comm callback: warn, keep the table
            warnings.warn(f"nbtrack could not draw the selected runs: {exc!r}",
                          TrackingWarning, stacklevel=2)


def runs_table(runs: Iterable[Run | RunRecord | int | str] | None = None,
               **filters: Any) -> RunsTable | TextView:
    """A table of ``runs`` (Runs, a RunList, records or refs), or of ``nbtrack.runs(**filters)``.

    Sort by clicking a header, filter with the search box, select rows to overlay their curves;
    read the selection from Python as ``table.selected`` (run ids) or ``table.selected_runs``.
    """
    from nbtrack import api

    if runs is None:
        runs = api.runs(**filters)
    elif filters:
        raise TypeError("runs_table() takes runs or filters, not both")
    records: list[RunRecord] = []
    objects: dict[str, Run] = {}
    for item in runs:
        if isinstance(item, Mapping):
            record = item
            run = api.get_run(record["id"])
        else:
            run = _as_run(item)  # type: ignore[arg-type]
            record = run.record()
        records.append(record)  # type: ignore[arg-type]
        objects[run.id] = run
    if not _in_notebook():
        return TextView(text.runs_table(records))
    return RunsTable(records, objects)


# -- diff ---------------------------------------------------------------------------------------

class DiffView(_Widget):
    """What differs between runs: params, metric deltas, code per cell, variables, env."""

    kind = t.Unicode("diff").tag(sync=True)
    diff = t.Dict().tag(sync=True)
    show_all = t.Bool(False).tag(sync=True)


def diff_view(diff: Any) -> DiffView | TextView:
    """A view of :func:`nbtrack.diff`'s result (a ``RunDiff`` or its record)."""
    record: RunDiffRecord = getattr(diff, "record", diff)
    if not _in_notebook():
        return TextView(text.diff_text(record))
    return DiffView(diff=_jsonable(record))


# -- show ---------------------------------------------------------------------------------------

def show(view: Any) -> None:
    """Display ``view`` in the notebook now (print it outside one)."""
    display = getattr(sys.modules.get("IPython.display"), "display", None)
    if display is None or isinstance(view, TextView) or not _in_notebook():
        print(view)
        return
    display(view)


def show_run(run: Run | int | str) -> None:
    """Display a run's card (``Run.show()``)."""
    show(run_card(run))


def show_runs(runs: Iterable[Run | RunRecord | int | str] | None = None, **filters: Any) -> None:
    """Display a runs table (``nbtrack.show_runs()``); keep ``runs_table()`` to read a selection."""
    show(runs_table(runs, **filters))


def show_diff(diff: Any) -> None:
    """Display a run diff (``RunDiff.show()``)."""
    show(diff_view(diff))

