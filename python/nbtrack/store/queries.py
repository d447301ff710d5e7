"""Reads from the store. Every query is parameterized; column names come from whitelists."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from nbtrack import config
from nbtrack.model import (
    RUN_STATUSES,
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
    " runs.started, runs.ended, runs.heartbeat, runs.tags, runs.notes, runs.lost"
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
                duration=duration, tags=json.loads(row[10]), notes=row[11], lost=row[12],
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
    search: str | None = None,
    where: str | None = None,
    sort: str = "number",
    descending: bool = True,
) -> tuple[list[int], int]:
    """Numbers of the matching runs in ``sort`` order, and the total count before paging.

    ``sort`` is a run column (:data:`SORT_COLUMNS`), ``metrics.<key>`` (the summary value;
    ``metrics.<key>.min`` / ``.max`` / ``.last``) or ``params.<key>``; runs without a value
    come last either way, ties go newest first. ``search`` is a case-insensitive substring of
    the name, id, notes, notebook or a tag; ``where`` is a filter expression. A bad ``status``,
    ``sort`` or ``where`` raises ``ValueError``.
    """
    status_expr, args = status_sql()
    clauses = ["runs.deleted = 0"]
    params: dict[str, Any] = dict(args)
    if status:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(RUN_STATUSES)}")
        clauses.append(f"({status_expr}) = :status")
        params["status"] = status
    if tag:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = :tag)"
        )
        params["tag"] = tag
    if notebook:
        clauses.append("runs.notebook = :notebook")
        params["notebook"] = notebook
    if name:
        clauses.append("runs.name = :name")
        params["name"] = name
    if search:
        clauses.append(_SEARCH_SQL)
        params["search"] = search.lower()
    if where and where.strip():
        where_sql, where_params = _where_sql(where)
        clashes = set(where_params) & set(params)
        if clashes:  # pragma: no cover - a bug in the filter compiler, not user input
            raise RuntimeError(f"filter parameters clash with {sorted(clashes)}")
        clauses.append(f"({where_sql})")
        params.update(where_params)
    clause = " AND ".join(clauses)
    total = db.execute(f"SELECT COUNT(*) FROM runs WHERE {clause}", params).fetchone()[0]
    order_expr, join, order_params = _sort_sql(db, sort, status_expr)
    params.update(order_params)
    direction = "DESC" if descending else "ASC"
    page = ""
    if limit is not None:
        page = " LIMIT :limit OFFSET :offset"
        params.update(limit=int(limit), offset=int(offset))
    numbers = [
        r[0]
        for r in db.execute(
            f"SELECT runs.number FROM runs{join} WHERE {clause}"
            f" ORDER BY ({order_expr}) IS NULL, {order_expr} {direction},"
            f" runs.number {direction}{page}",
            params,
        )
    ]
    return numbers, int(total)


#: Run columns ``list_run_numbers`` sorts by, and their SQL (``{status}``: the read status).
SORT_COLUMNS: dict[str, str] = {
    "number": "runs.number",
    "name": "runs.name",
    "status": "({status})",
    "notebook": "runs.notebook",
    "started": "runs.started",
    "ended": "runs.ended",
    "duration": (
        "(COALESCE(runs.ended, CASE WHEN ({status}) = 'running' THEN :sort_now"
        " ELSE COALESCE(runs.heartbeat, runs.started) END) - runs.started)"
    ),
}

_SUMMARY_SORT = {
    "": "CASE WHEN sort_s.override IS NOT NULL THEN json_extract(sort_s.override, '$')"
        " ELSE sort_s.last END",
    "last": "sort_s.last",
    "min": "sort_s.min",
    "max": "sort_s.max",
}

_SEARCH_SQL = (
    "(instr(lower(runs.name), :search) OR instr(lower(runs.id), :search)"
    " OR instr(lower(runs.notes), :search) OR instr(lower(COALESCE(runs.notebook, '')), :search)"
    # the raw JSON text first: json_each only runs for the rows that may match
    " OR (instr(lower(runs.tags), :search) AND EXISTS (SELECT 1 FROM json_each(runs.tags)"
    " WHERE instr(lower(json_each.value), :search))))"
)


def _sort_sql(
    db: sqlite_utils.Database, sort: str, status_expr: str
) -> tuple[str, str, dict[str, Any]]:
    """``(expression, join, parameters)`` ordering runs by ``sort``; only whitelisted SQL."""
    if not isinstance(sort, str) or not sort:
        raise ValueError("sort must be a run column, metrics.<key> or params.<key>")
    if sort in SORT_COLUMNS:
        return SORT_COLUMNS[sort].format(status=status_expr), "", {"sort_now": time.time()}
    kind, _, key = sort.partition(".")
    if kind == "params" and key:
        join = " LEFT JOIN params AS sort_p ON sort_p.run = runs.number AND sort_p.key = :sort_key"
        return "sort_p.value", join, {"sort_key": key}
    if kind == "metrics" and key:
        base, _, agg = key.rpartition(".")
        exact = db.execute("SELECT 1 FROM summary WHERE key = ? LIMIT 1", (key,)).fetchone()
        if not base or agg not in _SUMMARY_SORT or exact:
            base, agg = key, ""
        join = (
            " LEFT JOIN summary AS sort_s ON sort_s.run = runs.number AND sort_s.key = :sort_key"
        )
        return _SUMMARY_SORT[agg], join, {"sort_key": base}
    raise ValueError(
        f"cannot sort by {sort!r}: use one of {', '.join(SORT_COLUMNS)},"
        " metrics.<key>[.min|.max|.last] or params.<key>"
    )


def _where_sql(where: str) -> tuple[str, dict[str, Any]]:
    """``(SQL condition on runs, parameters)`` for a filter expression such as ``lr > 0.01``.

    The single call site of the filter language: its compiler (``nbtrack.query``) replaces
    this body. It must return whitelisted SQL with named parameters prefixed ``w_`` (so they
    never clash with the other filters) and raise ``ValueError`` for a bad expression.
    """
    from nbtrack.query import compile_filter  # the query package imports this module

    return compile_filter(where)


def workspace_keys(db: sqlite_utils.Database) -> tuple[list[str], list[str]]:
    """The metric keys and the param keys used by the workspace's runs, each distinct, sorted."""
    live = "SELECT number FROM runs WHERE deleted = 0"
    metrics = [
        r[0] for r in db.execute(f"SELECT DISTINCT key FROM summary WHERE run IN ({live})"
                                 " ORDER BY key")
    ]
    params = [
        r[0] for r in db.execute(f"SELECT DISTINCT key FROM params WHERE run IN ({live})"
                                 " ORDER BY key")
    ]
    return metrics, params


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
