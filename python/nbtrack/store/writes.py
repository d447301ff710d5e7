"""Writes to the store: a run's row, and the recorder's batches, each one atomic transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import sqlite_utils

from nbtrack.model import VariableChange
from nbtrack.store.values import encode_param, to_jsonable

#: One ``log()`` call: (run number, step, wall time, cell execution id, keys, values).
PointsCall = tuple[int, int, float, "int | None", tuple[str, ...], tuple[float, ...]]

_INSERT_POINT = "INSERT OR REPLACE INTO metrics (run, key, step, value, time, cell) VALUES (?,?,?,?,?,?)"

_MERGE_SUMMARY = """
INSERT INTO summary (run, key, last, last_step, min, max, count)
SELECT ?1, ?2,
       (SELECT value FROM metrics WHERE run = ?1 AND key = ?2 ORDER BY step DESC LIMIT 1),
       MAX(step), MIN(value), MAX(value), COUNT(*)
FROM metrics WHERE run = ?1 AND key = ?2 AND step BETWEEN ?3 AND ?4
ON CONFLICT (run, key) DO UPDATE SET
    last = excluded.last,
    last_step = MAX(COALESCE(summary.last_step, excluded.last_step), excluded.last_step),
    min = CASE WHEN summary.min IS NULL THEN excluded.min
               WHEN excluded.min IS NULL THEN summary.min
               ELSE MIN(summary.min, excluded.min) END,
    max = CASE WHEN summary.max IS NULL THEN excluded.max
               WHEN excluded.max IS NULL THEN summary.max
               ELSE MAX(summary.max, excluded.max) END,
    count = summary.count + excluded.count
"""


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


def write_batch(db: sqlite_utils.Database, batch: Batch) -> int:
    """Write ``batch`` in one atomic transaction; return the number of metric points written."""
    conn = db.conn
    with db.atomic():
        # The first statement writes, so the transaction takes the write lock at once
        # (waiting on the busy timeout) instead of failing later on a lock upgrade.
        written = _write_points(conn, batch.points)
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


def _write_points(conn: Any, calls: Sequence[PointsCall]) -> int:
    """Insert every point of ``calls`` and merge the affected summaries."""
    if not calls:
        return 0
    rows: list[tuple[Any, ...]] = []
    extend = rows.extend
    # (run, keys) -> [lowest step, highest step] seen in this batch
    spans: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for run, step, time, cell, keys, values in calls:
        n = len(keys)
        extend(zip(repeat(run, n), keys, repeat(step, n), values, repeat(time, n), repeat(cell, n)))
        span = spans.get((run, keys))
        if span is None:
            spans[(run, keys)] = [step, step]
        elif step < span[0]:
            span[0] = step
        elif step > span[1]:
            span[1] = step
    conn.executemany(_INSERT_POINT, rows)
    merged: dict[tuple[int, str], list[int]] = {}
    for (run, keys), (lo, hi) in spans.items():
        for key in keys:
            span = merged.get((run, key))
            if span is None:
                merged[(run, key)] = [lo, hi]
            else:
                span[0] = min(span[0], lo)
                span[1] = max(span[1], hi)
    conn.executemany(_MERGE_SUMMARY, [(r, k, lo, hi) for (r, k), (lo, hi) in merged.items()])
    return len(rows)


def insert_run(db: sqlite_utils.Database, record: Mapping[str, Any]) -> int:
    """Insert a new run row and return its number (counts up per workspace)."""
    with db.atomic():
        cursor = db.conn.execute(
            "INSERT INTO runs (id, name, status, notebook, session, host, pid, started,"
            " heartbeat, tags, notes) VALUES (:id, :name, :status, :notebook, :session, :host,"
            " :pid, :started, :heartbeat, :tags, :notes)",
            {**record, "tags": json.dumps(list(record.get("tags", [])))},
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
