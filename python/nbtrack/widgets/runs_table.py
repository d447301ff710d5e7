"""The runs table: runs to sort, filter and select; the selected runs' curves drawn below.

Rows come from one listing (:func:`nbtrack.runs` records), never from per-run attribute reads:
each ``run.name`` or ``run.status`` would be one query of the store.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import traitlets as t

from nbtrack import text
from nbtrack.model import MetricSeries, RunRecord
from nbtrack.recorder import TrackingWarning
from nbtrack.run import Run
from nbtrack.widgets.shared import (
    ChartWidget,
    TextView,
    curves_spec,
    esm,
    in_notebook,
    jsonable,
    label,
    show,
)

__all__ = ["RunsTable", "runs_table", "show_runs"]

#: Run numbers per listing when the table is given runs one by one (bounded ``IN (...)``).
_LISTING_CHUNK = 500


class RunsTable(ChartWidget):
    """Runs in a sortable, filterable table; selected rows' curves are drawn below it.

    ``selected`` is the list of selected run ids (set it from Python too);
    ``selected_runs`` the same as :class:`Run` objects.
    """

    _esm = esm("runs_table.js")
    runs = t.List(t.Dict()).tag(sync=True)
    param_keys = t.List(t.Unicode()).tag(sync=True)
    metric_keys = t.List(t.Unicode()).tag(sync=True)
    sort = t.Unicode("number").tag(sync=True)
    selected = t.List(t.Unicode()).tag(sync=True)
    chart_keys = t.List(t.Unicode()).tag(sync=True)
    spec = t.Dict().tag(sync=True)

    def __init__(self, records: Sequence[RunRecord], run_objects: Mapping[str, Run],
                 **kwargs: Any) -> None:
        params: dict[str, None] = {}
        metrics: dict[str, None] = {}
        for r in records:
            params.update(dict.fromkeys(r["params"]))
            metrics.update(dict.fromkeys(r["summary"]))
        self._objects = dict(run_objects)
        self._labels = {r["id"]: label(r) for r in records}
        super().__init__(runs=[jsonable(r) for r in records], param_keys=list(params),
                         metric_keys=list(metrics), **kwargs)
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
            wanted = list(self.chart_keys) or None
            for run in self.selected_runs:  # the curves of each selected run (one read each)
                series += list(run.history(wanted).values())
            self.spec = curves_spec(series, self._labels)
        except Exception as exc:  # noqa: BLE001 - a comm callback: warn, keep the table
            warnings.warn(f"nbtrack could not draw the selected runs: {exc!r}",
                          TrackingWarning, stacklevel=2)


def runs_table(runs: Iterable[Run | RunRecord | int | str] | None = None,
               **filters: Any) -> RunsTable | TextView:
    """A table of ``runs`` (a RunList, Runs, records or refs), or of ``nbtrack.runs(**filters)``.

    Sort by clicking a header, filter with the search box, select rows to overlay their curves;
    read the selection from Python as ``table.selected`` (run ids) or ``table.selected_runs``.
    Outside a notebook: the table as text.
    """
    if runs is not None and filters:
        raise TypeError("runs_table() takes runs or filters, not both")
    records, objects = _listing(runs, filters)
    if not in_notebook():
        return TextView(text.runs_table(records))
    return RunsTable(records, {run.id: run for run in objects})


def show_runs(runs: Iterable[Run | RunRecord | int | str] | None = None,
              **filters: Any) -> RunsTable | TextView:
    """Display a runs table (``nbtrack.show_runs()``) and return it, to read its selection."""
    table = runs_table(runs, **filters)
    show(table)
    return table


def _listing(runs: Iterable[Run | RunRecord | int | str] | None,
             filters: Mapping[str, Any]) -> tuple[list[RunRecord], list[Run]]:
    """The records of ``runs`` (in their order) and a :class:`Run` for each, from one listing."""
    from nbtrack import api

    if runs is None:
        runs = api.runs(**filters)
    if isinstance(runs, api.RunList):  # records already read; its Runs cost no query
        return runs.records(), list(runs)
    given: list[Run | int] = []
    workspace = None
    for item in runs:
        if isinstance(item, Run):
            given.append(item)
            workspace = workspace or item.workspace
        elif isinstance(item, Mapping):
            given.append(int(item["number"]))
        else:  # a ref the user typed (number, "#3", id or name): resolved one by one
            given.append(api.get_run(item).number)
    numbers = list(dict.fromkeys(g.number if isinstance(g, Run) else g for g in given))
    found: dict[int, tuple[RunRecord, Run]] = {}
    for start in range(0, len(numbers), _LISTING_CHUNK):
        chunk = numbers[start:start + _LISTING_CHUNK]
        listing = api.runs(where=f"number in ({', '.join(map(str, chunk))})",
                           workspace=workspace)
        found.update((r["number"], (r, run)) for r, run in zip(listing.records(), listing))
    records: list[RunRecord] = []
    objects: list[Run] = []
    for g in given:
        number = g.number if isinstance(g, Run) else g
        if number in found:  # once per run, in the order given
            record, listed = found.pop(number)
            records.append(record)
            objects.append(g if isinstance(g, Run) else listed)  # a live Run stays live
    return records, objects
