"""Reads from the store. Every query is parameterized; column names come from whitelists."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from nbtrack import config
from nbtrack.model import (
    CellExecution,
    MetricSeries,
    MetricSummary,
    RunRecord,
    VariableChange,
)
from nbtrack.store.points import PointArrays, unpack
from nbtrack.store.values import decode_metric, decode_param


class RunNotFound(LookupError):
    """No run matches the reference given."""


def status_sql(now: float | None = None) -> tuple[str, dict[str, float]]:
    """SQL for a run's status as readers see it: a running run with a stale heartbeat crashed."""
    stale = (time.time() if now is None else now) - config.stale_after()
    return (
        "CASE WHEN runs.status = 'running' AND COALESCE(runs.heartbeat, runs.started) < :stale"
        " THEN 'crashed' ELSE runs.status END",
        {"stale": stale},
    )


_RUN_COLUMNS = (
    "runs.number, runs.id, runs.name, {status} AS status, runs.notebook, runs.session, runs.host,"
    " runs.started, runs.ended, runs.heartbeat, runs.tags, runs.notes"
)


def resolve_run(db: sqlite_utils.Database, ref: int | str) -> int:
    """Return the number of the run that ``ref`` names: a number, an id, or a name (newest)."""
    if isinstance(ref, bool):
        raise RunNotFound(f"no run {ref!r}")
    if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("#").isdigit()):
        number = int(str(ref).lstrip("#"))
        row = db.execute(
            "SELECT number FROM runs WHERE number = ? AND deleted = 0", (number,)
        ).fetchone()
        if row:
            return int(row[0])
        if isinstance(ref, int):
            raise RunNotFound(f"no run number {ref}")
    if not isinstance(ref, str) or not ref:
        raise RunNotFound(f"no run {ref!r}")
    row = db.execute(
        "SELECT number FROM runs WHERE id = ? AND deleted = 0", (ref,)
    ).fetchone()
    if row is None:
        row = db.execute(
            "SELECT number FROM runs WHERE name = ? AND deleted = 0 ORDER BY number DESC LIMIT 1",
            (ref,),
        ).fetchone()
    if row is None:
        raise RunNotFound(f"no run named or numbered {ref!r}")
    return int(row[0])


def run_records(db: sqlite_utils.Database, numbers: Sequence[int]) -> list[RunRecord]:
    """The runs with these numbers, in the order given, with params and summary values."""
    if not numbers:
        return []
    status, args = status_sql()
    marks = ",".join("?" * len(numbers))
    sql = (
        f"SELECT {_RUN_COLUMNS.format(status=status.replace(':stale', '?'))} FROM runs"
        f" WHERE runs.number IN ({marks})"
    )
    rows = db.execute(sql, (args["stale"], *numbers)).fetchall()
    by_number = {row[0]: row for row in rows}
    params = params_of(db, numbers)
    summaries = summary_values_of(db, numbers)
    out: list[RunRecord] = []
    for number in numbers:
        row = by_number.get(number)
        if row is None:
            continue
        started, ended, heartbeat, status_value = row[7], row[8], row[9], row[3]
        if ended is not None:
            duration: float | None = ended - started
        elif status_value == "running":
            duration = time.time() - started
        else:
            duration = (heartbeat or started) - started
        out.append(
            RunRecord(
                id=row[1], number=row[0], name=row[2], status=status_value, notebook=row[4],
                session=row[5], host=row[6], started=started, ended=ended, heartbeat=heartbeat,
                duration=duration, tags=json.loads(row[10]), notes=row[11],
                params=params.get(number, {}), summary=summaries.get(number, {}),
            )
        )
    return out


def list_run_numbers(
    db: sqlite_utils.Database,
    *,
    limit: int | None = None,
    offset: int = 0,
    status: str | None = None,
    tag: str | None = None,
    notebook: str | None = None,
    name: str | None = None,
) -> tuple[list[int], int]:
    """Numbers of the matching runs, newest first, and the total count before paging."""
    status_expr, args = status_sql()
    where = ["runs.deleted = 0"]
    params: dict[str, Any] = dict(args)
    if status:
        where.append(f"({status_expr}) = :status")
        params["status"] = status
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = :tag)")
        params["tag"] = tag
    if notebook:
        where.append("runs.notebook = :notebook")
        params["notebook"] = notebook
    if name:
        where.append("runs.name = :name")
        params["name"] = name
    clause = " AND ".join(where)
    total = db.execute(f"SELECT COUNT(*) FROM runs WHERE {clause}", params).fetchone()[0]
    page = ""
    if limit is not None:
        page = " LIMIT :limit OFFSET :offset"
        params.update(limit=int(limit), offset=int(offset))
    numbers = [
        r[0]
        for r in db.execute(
            f"SELECT runs.number FROM runs WHERE {clause} ORDER BY runs.number DESC{page}", params
        )
    ]
    return numbers, int(total)


def params_of(db: sqlite_utils.Database, numbers: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Params of the given runs: ``{number: {key: value}}``, keys sorted."""
    out: dict[int, dict[str, Any]] = {n: {} for n in numbers}
    for chunk in _chunks(numbers):
        marks = ",".join("?" * len(chunk))
        for run, key, value, kind in db.execute(
            f"SELECT run, key, value, kind FROM params WHERE run IN ({marks}) ORDER BY run, key",
            chunk,
        ):
            out[run][key] = decode_param(value, kind)
    return out


def summaries_of(
    db: sqlite_utils.Database, numbers: Sequence[int]
) -> dict[int, list[MetricSummary]]:
    """Full metric summaries of the given runs, keys sorted."""
    out: dict[int, list[MetricSummary]] = {n: [] for n in numbers}
    for chunk in _chunks(numbers):
        marks = ",".join("?" * len(chunk))
        for run, key, last, last_step, lo, hi, count, override in db.execute(
            "SELECT run, key, last, last_step, min, max, count, override FROM summary"
            f" WHERE run IN ({marks}) ORDER BY run, key",
            chunk,
        ):
            last_value = decode_metric(last) if count else None
            value = json.loads(override) if override is not None else last_value
            out[run].append(
                MetricSummary(
                    key=key, value=value, last=last_value, last_step=last_step,
                    min=lo, max=hi, count=count,
                )
            )
    return out


def summary_values_of(
    db: sqlite_utils.Database, numbers: Sequence[int]
) -> dict[int, dict[str, float | None]]:
    """``{number: {key: value}}``: the explicit summary value if set, else the last value."""
    return {
        run: {s["key"]: s["value"] for s in items}
        for run, items in summaries_of(db, numbers).items()
    }


def metric_keys(db: sqlite_utils.Database, run: int) -> list[str]:
    """Keys of the metrics logged by one run, sorted."""
    return [
        r[0]
        for r in db.execute(
            "SELECT key FROM summary WHERE run = ? AND count > 0 ORDER BY key", (run,)
        )
    ]


def metric_arrays(
    db: sqlite_utils.Database, run: int, key: str, *, after_step: int | None = None
) -> PointArrays:
    """One metric's points as arrays ordered by step (only those after ``after_step``)."""
    rows = db.execute(
        'SELECT c.step_min, c.step_max, c.ordered, c.steps, c."values", c.times, c.cells'
        " FROM metric_chunks AS c JOIN metric_keys AS k ON k.id = c.key"
        " WHERE c.run = ? AND k.key = ? AND c.step_max > ? ORDER BY c.seq",
        (run, key, -(2**63) if after_step is None else after_step),
    )
    arrays = unpack(rows)
    return arrays if after_step is None else arrays.after(after_step)


def metric_series(
    db: sqlite_utils.Database,
    run: int,
    run_id: str,
    keys: Iterable[str] | None = None,
    *,
    after_step: int | None = None,
) -> list[MetricSeries]:
    """Full history of the given keys (default: all) of one run, by step."""
    wanted = list(keys) if keys is not None else metric_keys(db, run)
    return [
        series_from_arrays(run_id, key, metric_arrays(db, run, key, after_step=after_step))
        for key in wanted
    ]


def series_from_arrays(
    run_id: str, key: str, points: PointArrays, *, downsampled: bool = False
) -> MetricSeries:
    """The wire shape of one metric's points."""
    steps = points.steps.tolist()
    return MetricSeries(
        run_id=run_id, key=key, step=steps, value=points.values.tolist(),
        time=points.times.tolist(), cell=[c or None for c in points.cells], count=len(steps),
        step_min=steps[0] if steps else None, step_max=steps[-1] if steps else None,
        downsampled=downsampled,
    )


def cell_executions(db: sqlite_utils.Database, run: int) -> list[CellExecution]:
    """The cell executions of one run in the order they ran, with their changed variables."""
    rows = db.execute(
        "SELECT id, session, execution_count, cell_id, source, started, duration, outcome,"
        " error_type, error_message FROM cells WHERE run = ? ORDER BY started, id",
        (run,),
    ).fetchall()
    run_id = db.execute("SELECT id FROM runs WHERE number = ?", (run,)).fetchone()
    variables = variables_of(db, [r[0] for r in rows])
    return [
        CellExecution(
            id=r[0], run_id=run_id[0] if run_id else None, session=r[1], execution_count=r[2],
            cell_id=r[3], source=r[4], started=r[5], duration=r[6], outcome=r[7],
            error_type=r[8], error_message=r[9], variables=variables.get(r[0], []),
        )
        for r in rows
    ]


def variables_of(
    db: sqlite_utils.Database, cells: Sequence[int]
) -> dict[int, list[VariableChange]]:
    """Variables changed by the given cell executions."""
    out: dict[int, list[VariableChange]] = {}
    for chunk in _chunks(cells):
        marks = ",".join("?" * len(chunk))
        for cell, name, change, type_, shape, dtype, length, repr_, value in db.execute(
            "SELECT cell, name, change, type, shape, dtype, length, repr, value FROM variables"
            f" WHERE cell IN ({marks}) ORDER BY cell, rowid",
            chunk,
        ):
            out.setdefault(cell, []).append(
                VariableChange(
                    name=name, change=change, type=type_, shape=shape, dtype=dtype,
                    length=length, repr=repr_, value=value,
                )
            )
    return out


def environment_of(db: sqlite_utils.Database, run: int) -> dict[str, Any]:
    """The recorded environment of one run (empty until captured)."""
    row = db.execute("SELECT data FROM environments WHERE run = ?", (run,)).fetchone()
    return json.loads(row[0]) if row else {}


def _chunks(items: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]
