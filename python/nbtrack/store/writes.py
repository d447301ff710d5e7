"""Writes to the store: a run's row, and the recorder's batches, each one atomic transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from nbtrack.model import VariableChange
from nbtrack.store.points import floats, pack
from nbtrack.store.values import encode_param, to_jsonable

#: One ``log()`` call: (run number, step, wall time, cell execution id, keys, values).
PointsCall = tuple[int, int, float, "int | None", tuple[str, ...], tuple[float, ...]]

_INSERT_CHUNK = (
    'INSERT INTO metric_chunks (run, key, seq, step_min, step_max, count, ordered, steps,'
    ' "values", times, cells) VALUES (?,?,?,?,?,?,?,?,?,?,?)'
)

_MERGE_SUMMARY = """
INSERT INTO summary (run, key, last, last_step, min, max, count)
VALUES (:run, :key, :last, :last_step, :min, :max, :count)
ON CONFLICT (run, key) DO UPDATE SET
    last = CASE WHEN summary.last_step IS NULL OR excluded.last_step >= summary.last_step
                THEN excluded.last ELSE summary.last END,
    last_step = CASE WHEN summary.last_step IS NULL OR excluded.last_step >= summary.last_step
                     THEN excluded.last_step ELSE summary.last_step END,
    min = CASE WHEN summary.min IS NULL THEN excluded.min
               WHEN excluded.min IS NULL THEN summary.min
               ELSE MIN(summary.min, excluded.min) END,
    max = CASE WHEN summary.max IS NULL THEN excluded.max
               WHEN excluded.max IS NULL THEN summary.max
               ELSE MAX(summary.max, excluded.max) END,
    count = summary.count + excluded.count
"""


class KeyIds:
    """Metric key ids and each series' next chunk number, cached for one database."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._next_seq: dict[tuple[int, int], int] = {}

    def next_seq(self, conn: Any, run: int, key_id: int) -> int:
        """The next free chunk number of one series (one process writes a run)."""
        seq = self._next_seq.get((run, key_id))
        if seq is None:
            row = conn.execute(
                "SELECT MAX(seq) FROM metric_chunks WHERE run = ? AND key = ?", (run, key_id)
            ).fetchone()
            seq = 0 if row[0] is None else row[0] + 1
        self._next_seq[(run, key_id)] = seq + 1
        return seq

    def ids(self, conn: Any, keys: Iterable[str]) -> dict[str, int]:
        missing = [k for k in keys if k not in self._ids]
        if missing:
            conn.executemany(
                "INSERT OR IGNORE INTO metric_keys (key) VALUES (?)", [(k,) for k in missing]
            )
            for chunk_start in range(0, len(missing), 500):
                chunk = missing[chunk_start : chunk_start + 500]
                marks = ",".join("?" * len(chunk))
                for key_id, key in conn.execute(
                    f"SELECT id, key FROM metric_keys WHERE key IN ({marks})", chunk
                ):
                    self._ids[key] = key_id
        return self._ids


@dataclass
class Batch:
    """Everything the recorder has waiting, written in one transaction by :func:`write_batch`."""

    points: list[PointsCall] = field(default_factory=list)
    cells_started: list[dict[str, Any]] = field(default_factory=list)
    cells_ended: list[dict[str, Any]] = field(default_factory=list)
    variables: list[tuple[int, list[VariableChange]]] = field(default_factory=list)
    params: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    summary_overrides: list[tuple[int, str, Any]] = field(default_factory=list)
    run_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    environments: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (self.points, self.cells_started, self.cells_ended, self.variables, self.params,
             self.summary_overrides, self.run_updates, self.environments)
        )


def write_batch(db: sqlite_utils.Database, batch: Batch, key_ids: KeyIds | None = None) -> int:
    """Write ``batch`` in one atomic transaction; return the number of metric points written.

    ``key_ids`` caches metric key ids between batches on the same database.
    """
    conn = db.conn
    with db.atomic():
        # The first statement writes, so the transaction takes the write lock at once
        # (waiting on the busy timeout) instead of failing later on a lock upgrade.
        written = _write_points(conn, batch.points, key_ids or KeyIds())
        if batch.cells_started:
            conn.executemany(
                "INSERT OR IGNORE INTO cells (id, run, session, execution_count, cell_id, source,"
                " started) VALUES (:id, :run, :session, :execution_count, :cell_id, :source,"
                " :started)",
                batch.cells_started,
            )
        if batch.cells_ended:
            conn.executemany(
                "UPDATE cells SET run = COALESCE(:run, run), duration = :duration,"
                " outcome = :outcome, error_type = :error_type, error_message = :error_message"
                " WHERE id = :id",
                batch.cells_ended,
            )
        for cell, changes in batch.variables:
            conn.executemany(
                "INSERT INTO variables (cell, name, change, type, shape, dtype, length, repr,"
                " value) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (cell, c["name"], c["change"], c["type"], c["shape"], c["dtype"],
                     c["length"], c["repr"], c["value"])
                    for c in changes
                ],
            )
        for run, params in batch.params:
            write_params(db, run, params)
        for run, key, value in batch.summary_overrides:
            conn.execute(
                "INSERT INTO summary (run, key, override) VALUES (?, ?, ?)"
                " ON CONFLICT (run, key) DO UPDATE SET override = excluded.override",
                (run, key, json.dumps(to_jsonable(value))),
            )
        for run, fields in batch.run_updates:
            update_run(db, run, fields)
        for run, data in batch.environments:
            conn.execute(
                "INSERT OR REPLACE INTO environments (run, data) VALUES (?, ?)",
                (run, json.dumps(to_jsonable(data))),
            )
    return written


def _write_points(conn: Any, calls: Sequence[PointsCall], key_ids: KeyIds) -> int:
    """Insert every point of ``calls`` as chunks and merge the affected summaries."""
    if not calls:
        return 0
    # Group the calls by (run, keys): most loops log the same keys every time.
    groups: dict[tuple[int, tuple[str, ...]], list[PointsCall]] = {}
    for call in calls:
        group = groups.get((call[0], call[4]))
        if group is None:
            groups[(call[0], call[4])] = [call]
        else:
            group.append(call)
    ids = key_ids.ids(conn, {k for (_, keys) in groups for k in keys})
    # (run, key) -> [steps, values, times, cells], in arrival order
    series: dict[tuple[int, str], list[list[Any]]] = {}
    summaries: dict[tuple[int, str], dict[str, Any]] = {}
    for (run, keys), group in groups.items():
        _, steps, times, cells, _, value_rows = (list(col) for col in zip(*group))
        columns = list(zip(*value_rows))
        last = max(range(len(steps)), key=steps.__getitem__)
        for i, key in enumerate(keys):
            column = floats(columns[i])  # float64 as stored; a huge int becomes +/-inf
            found = series.get((run, key))
            if found is None:
                series[(run, key)] = [steps, list(column), times, cells]
            else:
                for dest, src in zip(found, (steps, column, times, cells)):
                    dest.extend(src)
            finite = [v for v in column if v == v]  # NaN != NaN
            _merge(summaries, run, key, steps[last], column[last], finite, len(column))
    rows = []
    written = 0
    for (run, key), (steps, values, times, cells) in series.items():
        key_id = ids[key]
        for chunk in pack(steps, values, times, cells):
            rows.append((run, key_id, key_ids.next_seq(conn, run, key_id), *chunk))
        written += len(steps)
    conn.executemany(_INSERT_CHUNK, rows)
    conn.executemany(_MERGE_SUMMARY, list(summaries.values()))
    return written


def _merge(
    summaries: dict[tuple[int, str], dict[str, Any]], run: int, key: str, last_step: int,
    last: float, finite: list[float], count: int,
) -> None:
    new = {
        "run": run, "key": key, "last": last, "last_step": last_step,
        "min": min(finite) if finite else None, "max": max(finite) if finite else None,
        "count": count,
    }
    old = summaries.get((run, key))
    if old is None:
        summaries[(run, key)] = new
        return
    if new["last_step"] >= old["last_step"]:
        old["last"], old["last_step"] = new["last"], new["last_step"]
    for field_, pick in (("min", min), ("max", max)):
        if old[field_] is None:
            old[field_] = new[field_]
        elif new[field_] is not None:
            old[field_] = pick(old[field_], new[field_])
    old["count"] += count


def insert_run(db: sqlite_utils.Database, record: Mapping[str, Any]) -> int:
    """Insert a new run row and return its number (counts up per workspace)."""
    with db.atomic():
        cursor = db.conn.execute(
            "INSERT INTO runs (id, name, status, notebook, session, host, pid, started,"
            " heartbeat, tags, notes) VALUES (:id, :name, :status, :notebook, :session, :host,"
            " :pid, :started, :heartbeat, :tags, :notes)",
            {
                **record,
                "name": record.get("name") or "",
                "tags": json.dumps(list(record.get("tags", []))),
            },
        )
        number = int(cursor.lastrowid or 0)
        if not record.get("name"):
            db.conn.execute("UPDATE runs SET name = ? WHERE number = ?", (f"run-{number}", number))
    return number


_RUN_FIELDS = frozenset({"name", "status", "ended", "heartbeat", "tags", "notes", "deleted"})


def update_run(db: sqlite_utils.Database, run: int, fields: Mapping[str, Any]) -> None:
    """Update columns of one run; only the columns in a fixed whitelist may be named."""
    unknown = set(fields) - _RUN_FIELDS
    if unknown:
        raise ValueError(f"cannot update run fields {sorted(unknown)}")
    for column, value in fields.items():
        if column == "tags":
            value = json.dumps(list(value))
        # ``column`` comes from the whitelist above, never from user text.
        db.conn.execute(f"UPDATE runs SET {column} = ? WHERE number = ?", (value, run))


def write_params(db: sqlite_utils.Database, run: int, params: Mapping[str, Any]) -> None:
    """Insert or replace params of one run."""
    rows = []
    for key, value in params.items():
        encoded, kind = encode_param(value)
        rows.append((run, str(key), encoded, kind))
    db.conn.executemany(
        "INSERT OR REPLACE INTO params (run, key, value, kind) VALUES (?, ?, ?, ?)", rows
    )


def delete_params(db: sqlite_utils.Database, run: int, keys: Iterable[str]) -> None:
    """Remove params of one run."""
    db.conn.executemany("DELETE FROM params WHERE run = ? AND key = ?", [(run, k) for k in keys])
