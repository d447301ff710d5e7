"""Reads from the store. Every query is parameterized; column names come from whitelists.

Runs are selected and sorted by compiled conditions (:mod:`nbtrack.condition`), which callers
compile from the filter language with :mod:`nbtrack.filter`; this module never parses one.
Lists of runs are bound as one JSON array (:data:`IN_JSON`), so no statement grows with them.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any, cast

from nbtrack.condition import Condition, Ordering, status_sql
from nbtrack.model import (
    CellExecution,
    MetricSeries,
    MetricSummary,
    RunRecord,
    VariableChange,
)
from nbtrack.store.access import Connection
from nbtrack.store.points import PointArrays, unpack
from nbtrack.store.values import decode_metric, decode_param

#: ``IN`` this over one bound JSON array of numbers (``json.dumps(numbers)``): one parameter
#: however many runs are listed (SQLite caps the parameters of a statement, 32,766 by default).
IN_JSON = "IN (SELECT value FROM json_each(?))"


class RunNotFound(LookupError):
    """No run matches the reference given."""


def json_numbers(numbers: Iterable[int]) -> str:
    """The one parameter of :data:`IN_JSON`."""
    return json.dumps([int(n) for n in numbers])


_RUN_COLUMNS = (
    "runs.number, runs.id, runs.name, {status} AS status, runs.notebook, runs.session, runs.host,"
    " runs.started, runs.ended, runs.heartbeat, runs.tags, runs.notes, runs.lost"
)


def resolve_run(db: Connection, ref: int | str) -> int:
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


def run_records(db: Connection, numbers: Sequence[int]) -> list[RunRecord]:
    """The runs with these numbers, in the order given, with params and summary values."""
    if not numbers:
        return []
    status, args = status_sql()
    rows = db.execute(
        f"SELECT {_RUN_COLUMNS.format(status=status)} FROM runs"
        " WHERE runs.number IN (SELECT value FROM json_each(:numbers))",
        {**args, "numbers": json_numbers(numbers)},
    )
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
                duration=duration, tags=[] if row[10] == "[]" else json.loads(row[10]),
                notes=row[11], lost=row[12],
                params=params.get(number, {}), summary=summaries.get(number, {}),
            )
        )
    return out


def list_run_numbers(
    db: Connection,
    where: Condition | None = None,
    order: Ordering | None = None,
    *,
    descending: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[int], int]:
    """Numbers of the runs ``where`` keeps (default: all) in ``order`` (default: by number),
    and their count before paging.

    ``where`` and ``order`` come compiled from ``nbtrack.filter`` (``compile_selection``,
    ``compile_filter``, ``compile_sort``). Runs without a value to sort by come last either
    way; ties go newest first.
    """
    for given, kind in ((where, Condition), (order, Ordering)):
        if given is not None and not isinstance(given, kind):
            raise TypeError(f"expected a compiled {kind.__name__} from nbtrack.filter,"
                            f" not {type(given).__name__}")
    clause = "runs.deleted = 0"
    params: dict[str, Any] = {}
    if where is not None:
        clause += f" AND ({where.sql})"
        params.update(where.params)
    total = db.execute(f"SELECT COUNT(*) FROM runs WHERE {clause}", params).fetchone()[0]
    order = order or Ordering("runs.number", "", {})
    clashes = set(order.params) & set(params) | {"page_limit", "page_offset"} & set(params)
    if clashes:  # pragma: no cover - a bug in the compiler, not user input
        raise RuntimeError(f"condition parameters clash: {sorted(clashes)}")
    params.update(order.params)
    direction = "DESC" if descending else "ASC"
    page = ""
    if limit is not None:
        page = " LIMIT :page_limit OFFSET :page_offset"
        params.update(page_limit=int(limit), page_offset=int(offset))
    elif offset:
        page = " LIMIT -1 OFFSET :page_offset"
        params.update(page_offset=int(offset))
    numbers = [
        r[0]
        for r in db.execute(
            f"SELECT runs.number FROM runs{order.join} WHERE {clause}"
            f" ORDER BY ({order.expr}) IS NULL, {order.expr} {direction},"
            f" runs.number {direction}{page}",
            params,
        )
    ]
    return numbers, int(total)


def workspace_keys(db: Connection) -> tuple[list[str], list[str]]:
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


#: Param kinds whose stored value is the value itself (see ``store.values.encode_param``).
_PLAIN_KINDS = frozenset({"int", "float", "str"})


def params_of(db: Connection, numbers: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Params of the given runs: ``{number: {key: value}}``, keys sorted."""
    out: dict[int, dict[str, Any]] = {n: {} for n in numbers}
    plain = _PLAIN_KINDS
    for run, key, value, kind in db.execute(
        f"SELECT run, key, value, kind FROM params WHERE run {IN_JSON} ORDER BY run, key",
        (json_numbers(numbers),),
    ):
        out[run][key] = value if kind in plain else decode_param(value, kind)
    return out


def summaries_of(
    db: Connection, numbers: Sequence[int]
) -> dict[int, list[MetricSummary]]:
    """Full metric summaries of the given runs, keys sorted."""
    out: dict[int, list[MetricSummary]] = {n: [] for n in numbers}
    for run, key, last, last_step, lo, hi, count, override in db.execute(
        "SELECT run, key, last, last_step, min, max, count, override FROM summary"
        f" WHERE run {IN_JSON} ORDER BY run, key",
        (json_numbers(numbers),),
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
    db: Connection, numbers: Sequence[int]
) -> dict[int, dict[str, float | None]]:
    """``{number: {key: value}}``: the explicit summary value if set, else the last value."""
    out: dict[int, dict[str, float | None]] = {n: {} for n in numbers}
    for run, key, last, count, override in db.execute(
        "SELECT run, key, last, count, override FROM summary"
        f" WHERE run {IN_JSON} ORDER BY run, key",
        (json_numbers(numbers),),
    ):
        if override is not None:
            out[run][key] = json.loads(override)
        else:
            out[run][key] = (math.nan if last is None else last) if count else None
    return out


def metric_keys(db: Connection, run: int) -> list[str]:
    """Keys of the metrics logged by one run, sorted."""
    return [
        r[0]
        for r in db.execute(
            "SELECT key FROM summary WHERE run = ? AND count > 0 ORDER BY key", (run,)
        )
    ]


def media_keys(db: Connection, run: int) -> list[str]:
    """Keys of the rich values (images, tables...) logged by one run, sorted."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT key FROM media WHERE run = ? ORDER BY key", (run,)
    )]


#: One stored rich value: (key, step, idx, kind, blob, thumb, meta JSON, time, cell).
MediaRecordRow = tuple[str, int, int, str, "str | None", "str | None", str, float, "int | None"]


def media_rows(
    db: Connection, run: int, keys: Sequence[str] | None = None, *,
    step: int | None = None,
) -> list[MediaRecordRow]:
    """The rich values of one run (``keys``, default all; one ``step`` or all), by key, step,
    then their order within a step."""
    sql = ("SELECT key, step, idx, kind, blob, thumb, meta, time, cell FROM media"
           " WHERE run = ?")
    args: list[Any] = [run]
    if keys is not None:
        sql += " AND key IN (SELECT value FROM json_each(?))"
        args.append(json.dumps(list(keys)))
    if step is not None:
        sql += " AND step = ?"
        args.append(step)
    return list(db.execute(sql + " ORDER BY key, step, idx", args))


def metric_arrays(
    db: Connection, run: int, key: str, *, after_step: int | None = None
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
    db: Connection,
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
        run_id=run_id, key=key, step=steps,
        value=cast("list[float | None]", points.values.tolist()),  # a new list: no aliasing
        time=points.times.tolist(), cell=[c or None for c in points.cells], count=len(steps),
        step_min=steps[0] if steps else None, step_max=steps[-1] if steps else None,
        downsampled=downsampled,
    )


def cell_executions(db: Connection, run: int) -> list[CellExecution]:
    """The cell executions of one run in the order they ran, with their changed variables."""
    rows = db.execute(
        "SELECT id, session, execution_count, cell_id, source, started, duration, outcome,"
        " error_type, error_message, cpu_time, peak_memory_delta FROM cells WHERE run = ?"
        " ORDER BY started, id",
        (run,),
    ).fetchall()
    run_id = db.execute("SELECT id FROM runs WHERE number = ?", (run,)).fetchone()
    variables = variables_of(db, [r[0] for r in rows])
    return [
        CellExecution(
            id=r[0], run_id=run_id[0] if run_id else None, session=r[1], execution_count=r[2],
            cell_id=r[3], source=r[4], started=r[5], duration=r[6], outcome=r[7],
            error_type=r[8], error_message=r[9], cpu_time=r[10], peak_memory_delta=r[11],
            variables=variables.get(r[0], []),
        )
        for r in rows
    ]


def variables_of(
    db: Connection, cells: Sequence[int]
) -> dict[int, list[VariableChange]]:
    """Variables changed by the given cell executions."""
    out: dict[int, list[VariableChange]] = {}
    for cell, name, change, type_, shape, dtype, length, repr_, value in db.execute(
        "SELECT cell, name, change, type, shape, dtype, length, repr, value FROM variables"
        f" WHERE cell {IN_JSON} ORDER BY cell, rowid",
        (json_numbers(cells),),
    ):
        out.setdefault(cell, []).append(
            VariableChange(
                name=name, change=change, type=type_, shape=shape, dtype=dtype,
                length=length, repr=repr_, value=value,
            )
        )
    return out


def environment_of(db: Connection, run: int) -> dict[str, Any]:
    """The recorded environment of one run (empty until captured)."""
    return environments_of(db, [run])[run]


def environments_of(db: Connection, numbers: Sequence[int]) -> dict[int, dict[str, Any]]:
    """``{number: environment}`` of the given runs (empty until captured)."""
    out: dict[int, dict[str, Any]] = {n: {} for n in numbers}
    for run, data in db.execute(
        f"SELECT run, data FROM environments WHERE run {IN_JSON}", (json_numbers(numbers),)
    ):
        out[run] = json.loads(data)
    return out
