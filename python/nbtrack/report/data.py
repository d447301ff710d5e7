"""What the report shows from the store: the notebook's runs, their curves, cells, environments.

Everything is read in one read-only snapshot and returned as plain data in a fixed order, so
the same store always gives the same report.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.artifacts.responses import run_artifacts
from nbtrack.media.items import MediaSeries
from nbtrack.model import (
    CellExecution,
    MetricSeries,
    MetricSummary,
    RunArtifacts,
    RunRecord,
    run_label,
)
from nbtrack.report.media import read_media
from nbtrack.store import access, downsample, queries
from nbtrack.store.access import Connection

#: Points per curve in the report: spikes survive (min/max buckets), the file stays small.
MAX_POINTS = 400


@dataclass
class KeyStats:
    """What one cell execution logged for one metric key."""

    count: int = 0
    first_step: int = 0
    last_step: int = 0
    last_value: float = float("nan")


@dataclass
class RunData:
    """One run of the report with everything its card needs."""

    record: RunRecord
    summaries: list[MetricSummary]
    series: list[MetricSeries]  # downsampled, by key
    env: dict[str, Any]
    #: Rich values (images, tables...) by key; their bytes are read when shown.
    media: list[MediaSeries] = field(default_factory=list)
    #: The artifact versions the run used and produced.
    artifacts: RunArtifacts = field(
        default_factory=lambda: RunArtifacts(inputs=[], outputs=[]))

    @property
    def number(self) -> int:
        return self.record["number"]

    @property
    def label(self) -> str:
        return run_label(self.record)

    @property
    def anchor(self) -> str:
        return f"run-{self.record['number']}"


@dataclass
class StoreView:
    """The runs of one notebook and the cell executions that belong to them."""

    runs: list[RunData] = field(default_factory=list)
    #: Executions of the runs' cells (and cells run outside a run in the same kernels), in order.
    executions: list[CellExecution] = field(default_factory=list)
    #: ``{execution id: {(run number, key): stats}}``: the metric points each execution logged
    #: (one cell may log to several runs, e.g. a loop that starts a run per setting).
    logged: dict[int, dict[tuple[int, str], KeyStats]] = field(default_factory=dict)
    #: The store file read, or None when the workspace has none.
    store: Path | None = None
    #: The runs' run number -> RunData.
    by_number: dict[int, RunData] = field(default_factory=dict)


def _normal(path: Path) -> str:
    return os.path.normcase(os.path.normpath(str(path.expanduser().resolve(strict=False))))


def notebook_runs(db: Connection, notebook: Path, workspace: Path) -> list[int]:
    """Numbers of the live runs recorded from ``notebook``, oldest first.

    A run's notebook is stored relative to the workspace or absolute; both are compared as
    absolute paths.
    """
    target = _normal(notebook)
    numbers = []
    for number, recorded in db.execute(
        "SELECT number, notebook FROM runs WHERE deleted = 0 AND notebook IS NOT NULL"
        " ORDER BY number"
    ):
        candidate = Path(recorded)
        if not candidate.is_absolute():
            candidate = workspace / candidate
        if _normal(candidate) == target:
            numbers.append(int(number))
    return numbers


def _explicit_runs(db: Connection, refs: Sequence[str | int]) -> list[int]:
    numbers: list[int] = []
    for ref in refs:
        number = queries.resolve_run(db, ref)
        if number not in numbers:
            numbers.append(number)
    return numbers


def read_store(
    notebook: Path | None,
    workspace: Path,
    runs: Sequence[str | int] | None = None,
    *,
    max_points: int = MAX_POINTS,
) -> StoreView:
    """The runs of ``notebook`` (or exactly ``runs``) with their curves and cell executions.

    A workspace without a store gives an empty view; an unknown run in ``runs`` raises
    :class:`nbtrack.RunNotFound`.
    """
    path = config.db_path(workspace)
    if not path.exists():
        if runs:
            raise queries.RunNotFound(f"no runs recorded in {workspace} (no {path})")
        return StoreView()
    with access.reading(path) as db:
        if runs:
            numbers = _explicit_runs(db, runs)
        else:
            numbers = notebook_runs(db, notebook, workspace) if notebook is not None else []
        view = StoreView(store=path)
        if not numbers:
            return view
        summaries = queries.summaries_of(db, numbers)
        environments = queries.environments_of(db, numbers)
        for record in queries.run_records(db, numbers):
            number = record["number"]
            series: list[MetricSeries] = []
            for summary in summaries.get(number, []):
                if not summary["count"]:
                    continue
                points = queries.metric_arrays(db, number, summary["key"])
                if not len(points):
                    continue
                _count_by_cell(view.logged, number, summary["key"], points)
                series.append(
                    downsample.series_of(record["id"], summary["key"], points, max_points)
                )
            data = RunData(record, summaries.get(number, []), series,
                           environments.get(number, {}), read_media(db, number, path.parent),
                           run_artifacts(db, number))
            view.runs.append(data)
            view.by_number[number] = data
        view.executions = _executions(db, [r.number for r in view.runs])
    return view


def _count_by_cell(
    logged: dict[int, dict[tuple[int, str], KeyStats]], number: int, key: str, points: Any
) -> None:
    """Add the points of one series to the per-execution counts (points come by step)."""
    steps, values = points.steps, points.values
    slot = (number, key)
    for start, end, cell in _segments(points.cells):
        if not cell:
            continue
        stats = logged.setdefault(cell, {}).get(slot)
        if stats is None:
            stats = logged[cell][slot] = KeyStats(first_step=steps[start])
        stats.count += end - start
        stats.last_step = steps[end - 1]
        stats.last_value = values[end - 1]


def _segments(cells: Any) -> list[tuple[int, int, int]]:
    """``(start, end, cell)`` of each run of equal consecutive cell ids (a cell's points)."""
    n = len(cells)
    if not n:
        return []
    try:
        import numpy as np
    except ImportError:
        bounds = [i for i in range(1, n) if cells[i] != cells[i - 1]]
    else:
        ids = np.frombuffer(cells, dtype=np.int64) if isinstance(cells, array) else \
            np.asarray(cells, dtype=np.int64)
        bounds = (np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist()
    starts = [0, *bounds]
    ends = [*bounds, n]
    return [(a, b, int(cells[a])) for a, b in zip(starts, ends)]


_EXECUTION_COLUMNS = (
    "id, run, session, execution_count, cell_id, source, started, duration, outcome,"
    " error_type, error_message, cpu_time, peak_memory_delta"
)


def _executions(db: Connection, numbers: Sequence[int]) -> list[CellExecution]:
    """Cells run in these runs, and cells run outside any run in the same kernel sessions."""
    if not numbers:
        return []
    marks = ",".join("?" * len(numbers))
    ids = {n: rid for n, rid in db.execute(
        f"SELECT number, id FROM runs WHERE number IN ({marks})", list(numbers))}
    sessions = [s for (s,) in db.execute(
        f"SELECT DISTINCT session FROM cells WHERE run IN ({marks}) AND session IS NOT NULL"
        " ORDER BY session", list(numbers))]
    session_marks = ",".join("?" * len(sessions)) or "NULL"
    rows = db.execute(
        f"SELECT {_EXECUTION_COLUMNS} FROM cells WHERE run IN ({marks})"
        f" OR (run IS NULL AND session IN ({session_marks})) ORDER BY started, id",
        [*numbers, *sessions],
    ).fetchall()
    return [
        CellExecution(
            id=r[0], run_id=ids.get(r[1]), session=r[2], execution_count=r[3], cell_id=r[4],
            source=r[5], started=r[6], duration=r[7], outcome=r[8], error_type=r[9],
            error_message=r[10], cpu_time=r[11], peak_memory_delta=r[12], variables=[],
        )
        for r in rows
    ]


def environment_key(env: dict[str, Any]) -> str:
    """Runs with the same key ran in the same environment (pid and cwd aside)."""
    same = {k: v for k, v in env.items() if k not in ("pid", "cwd", "user")}
    return json.dumps(same, sort_keys=True, default=str)
