"""Writes to the store: a run's row, and the recorder's batches, each one atomic transaction.

Every function takes a connection from :mod:`nbtrack.store.access`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbtrack.model import VariableChange
from nbtrack.store.access import Connection, atomic
from nbtrack.store.points import SharedChunk, floats, pack, pack_shared, unpack
from nbtrack.store.values import encode_param, to_jsonable

#: One rich value ready to store: (run, key, step, idx, kind, blob, thumb, meta JSON, time, cell).
MediaRow = tuple[int, str, int, int, str, "str | None", "str | None", str, float, "int | None"]

#: One ``log()`` call: (run number, step, wall time, cell execution id, keys, values).
PointsCall = tuple[int, int, float, "int | None", tuple[str, ...], tuple[float, ...]]

#: The resource columns of a cell's end, for rows that carry none.
_NO_RESOURCES: dict[str, Any] = {"cpu_time": None, "peak_memory_delta": None}

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

_REPLACE_SUMMARY = """
INSERT INTO summary (run, key, last, last_step, min, max, count)
VALUES (:run, :key, :last, :last_step, :min, :max, :count)
ON CONFLICT (run, key) DO UPDATE SET
    last = excluded.last, last_step = excluded.last_step, min = excluded.min,
    max = excluded.max, count = excluded.count
"""


class KeyIds:
    """Metric key ids, and each series' next chunk number and highest stored step, cached for
    one database (one process writes a run)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._tails: dict[tuple[int, int], tuple[int, int | None]] = {}

    def tail(self, conn: Connection, run: int, key_id: int) -> tuple[int, int | None]:
        """``(next chunk number, highest step stored)`` of one series (None: no points yet)."""
        tail = self._tails.get((run, key_id))
        if tail is None:
            seq, step_max = conn.execute(
                "SELECT MAX(seq), MAX(step_max) FROM metric_chunks WHERE run = ? AND key = ?",
                (run, key_id),
            ).fetchone()
            tail = (0 if seq is None else seq + 1, step_max)
        return tail

    def advance(self, run: int, key_id: int, next_seq: int, step_max: int | None) -> None:
        """Remember a series' tail after chunks were written to it."""
        self._tails[(run, key_id)] = (next_seq, step_max)

    def ids(self, conn: Connection, keys: Iterable[str]) -> dict[str, int]:
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
    #: ``(run, count)``: items of the run that could not be stored earlier.
    lost: list[tuple[int, int]] = field(default_factory=list)
    #: Rich values, encoded and their bytes already in the blob store.
    media: list[MediaRow] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (self.points, self.cells_started, self.cells_ended, self.variables, self.params,
             self.summary_overrides, self.run_updates, self.environments, self.lost,
             self.media)
        )

    def what(self) -> tuple[int | None, int]:
        """``(run, items)`` that this batch holds (the run of its first item, None if unknown);
        a metric point counts as one item, as does each other record."""
        if self.points:
            return self.points[0][0], sum(len(call[4]) for call in self.points)
        if self.cells_started or self.cells_ended:
            row = (self.cells_started or self.cells_ended)[0]
            return row.get("run"), len(self.cells_started) + len(self.cells_ended)
        if self.variables:
            return None, sum(len(changes) for _, changes in self.variables)
        for items in (self.params, self.summary_overrides, self.run_updates, self.environments,
                      self.media):
            if items:
                return items[0][0], len(items)
        return None, 0


def write_batch(conn: Connection, batch: Batch, key_ids: KeyIds | None = None) -> int:
    """Write ``batch`` in one atomic transaction; return the number of metric points written.

    ``key_ids`` caches metric key ids between batches on the same database.
    """
    with atomic(conn):
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
                " outcome = :outcome, error_type = :error_type, error_message = :error_message,"
                " cpu_time = :cpu_time, peak_memory_delta = :peak_memory_delta WHERE id = :id",
                ({**_NO_RESOURCES, **row} for row in batch.cells_ended),
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
            write_params(conn, run, params)
        for run, key, value in batch.summary_overrides:
            conn.execute(
                "INSERT INTO summary (run, key, override) VALUES (?, ?, ?)"
                " ON CONFLICT (run, key) DO UPDATE SET override = excluded.override",
                (run, key, json.dumps(to_jsonable(value))),
            )
        for run, fields in batch.run_updates:
            update_run(conn, run, fields)
        for run, data in batch.environments:
            conn.execute(
                "INSERT OR REPLACE INTO environments (run, data) VALUES (?, ?)",
                (run, json.dumps(to_jsonable(data))),
            )
        if batch.media:
            _write_media(conn, batch.media)
        conn.executemany(
            "UPDATE runs SET lost = lost + ? WHERE number = ?",
            [(count, run) for run, count in batch.lost],
        )
    return written


def _write_media(conn: Connection, rows: Sequence[MediaRow]) -> None:
    """Insert rich values; a (run, key, step) logged again replaces the values it had."""
    latest: dict[tuple[int, str, int], list[MediaRow]] = {}
    for row in rows:  # in the order logged; a call's values are idx 0, 1, ...
        where = (row[0], row[1], row[2])
        if row[3] == 0 or where not in latest:
            latest[where] = [row]  # a new call at this step replaces an earlier one
        else:
            latest[where].append(row)
    conn.executemany("DELETE FROM media WHERE run = ? AND key = ? AND step = ?", list(latest))
    conn.executemany(
        "INSERT INTO media (run, key, step, idx, kind, blob, thumb, meta, time, cell)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)",
        [row for kept in latest.values() for row in kept],
    )


def _write_points(conn: Connection, calls: Sequence[PointsCall], key_ids: KeyIds) -> int:
    """Insert every point of ``calls`` as chunks and bring the affected summaries up to date."""
    if not calls:
        return 0
    series = _series(calls)
    ids = key_ids.ids(conn, {key for (_, key) in series})
    rows = []
    appended: list[dict[str, Any]] = []
    recompute: list[tuple[int, str, int]] = []
    written = 0
    # Keys logged by the same calls share their step, time and cell lists: pack those once.
    packed: dict[int, tuple[bool, list[SharedChunk]]] = {}
    for (run, key), (steps, values, times, cells) in series.items():
        key_id = ids[key]
        seq, stored_max = key_ids.tail(conn, run, key_id)
        shared = packed.get(id(steps))
        if shared is None:
            shared = packed[id(steps)] = pack_shared(steps, times, cells)
        ordered, chunks = shared
        for chunk in pack(chunks, values):
            rows.append((run, key_id, seq, *chunk))
            seq += 1
        top = steps[-1] if ordered else max(steps)
        key_ids.advance(run, key_id, seq, top if stored_max is None else max(stored_max, top))
        written += len(steps)
        if ordered and (stored_max is None or steps[0] > stored_max):
            appended.append(_summary_of_new_steps(run, key, steps, values))
        else:
            # A step logged again (here or in an earlier batch): the later point replaces the
            # earlier one, so the summary is computed again from the whole series.
            recompute.append((run, key, key_id))
    conn.executemany(_INSERT_CHUNK, rows)
    conn.executemany(_MERGE_SUMMARY, appended)
    for run, key, key_id in recompute:
        _recompute_summary(conn, run, key, key_id)
    return written


def _series(calls: Sequence[PointsCall]) -> dict[tuple[int, str], tuple[list[Any], ...]]:
    """Each ``(run, key)``'s ``(steps, values, times, cells)`` in the order the calls came.

    Calls are grouped by ``(run, keys)`` (most loops log the same keys every time) and turned
    into columns at once; a key that several groups share (calls naming different keys, or the
    same keys in another order) is merged back into arrival order.
    """
    groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
    for index, call in enumerate(calls):
        found = groups.get((call[0], call[4]))
        if found is None:
            groups[(call[0], call[4])] = [index]
        else:
            found.append(index)
    # Per group: (call indices, steps, values, times, cells).
    parts: dict[
        tuple[int, str], list[tuple[list[int], list[Any], list[Any], list[Any], list[Any]]]
    ] = {}
    for (run, keys), indices in groups.items():
        _, steps, times, cells, _, value_rows = (
            list(col) for col in zip(*(calls[i] for i in indices))
        )
        for key, column in zip(keys, zip(*value_rows)):
            parts.setdefault((run, key), []).append(
                (indices, steps, list(floats(column)), times, cells)
            )
    out: dict[tuple[int, str], tuple[list[Any], ...]] = {}
    for run_key, pieces in parts.items():
        if len(pieces) == 1:
            out[run_key] = pieces[0][1:]
            continue
        merged = sorted(
            (row for piece in pieces for row in zip(*piece)), key=lambda row: row[0]
        )
        _, steps, values, times, cells = (list(col) for col in zip(*merged))
        out[run_key] = (steps, values, times, cells)
    return out


def _summary_of_new_steps(
    run: int, key: str, steps: list[int], values: list[float]
) -> dict[str, Any]:
    """The summary row of points whose steps all come after the stored ones, in order."""
    finite = [v for v in values if v == v]  # NaN != NaN
    return {
        "run": run, "key": key, "last": values[-1], "last_step": steps[-1],
        "min": min(finite) if finite else None, "max": max(finite) if finite else None,
        "count": len(steps),
    }


def _recompute_summary(conn: Connection, run: int, key: str, key_id: int) -> None:
    """Compute one series' summary from all its stored points (keeps an explicit override)."""
    points = unpack(conn.execute(
        'SELECT step_min, step_max, ordered, steps, "values", times, cells FROM metric_chunks'
        " WHERE run = ? AND key = ? ORDER BY seq",
        (run, key_id),
    ))
    row = _summary_of_new_steps(run, key, points.steps.tolist(), points.values.tolist())
    conn.execute(_REPLACE_SUMMARY, row)


def insert_run(
    conn: Connection, record: Mapping[str, Any], params: Mapping[str, Any] | None = None
) -> int:
    """Insert a new run row with its ``params`` in one transaction; return its number (which
    counts up per workspace). A param that cannot be stored leaves no run behind."""
    with atomic(conn):
        cursor = conn.execute(
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
            conn.execute("UPDATE runs SET name = ? WHERE number = ?", (f"run-{number}", number))
        if params:
            write_params(conn, number, params)
    return number


_RUN_FIELDS = frozenset({"name", "status", "ended", "heartbeat", "tags", "notes", "deleted"})


def update_run(conn: Connection, run: int, fields: Mapping[str, Any]) -> None:
    """Update columns of one run; only the columns in a fixed whitelist may be named."""
    unknown = set(fields) - _RUN_FIELDS
    if unknown:
        raise ValueError(f"cannot update run fields {sorted(unknown)}")
    for column, value in fields.items():
        if column == "tags":
            value = json.dumps(list(value))
        # ``column`` comes from the whitelist above, never from user text.
        conn.execute(f"UPDATE runs SET {column} = ? WHERE number = ?", (value, run))


def write_params(conn: Connection, run: int, params: Mapping[str, Any]) -> None:
    """Insert or replace params of one run; a ``ValueError`` names a param that cannot be
    stored (text that is not valid Unicode)."""
    rows = []
    for key, value in params.items():
        encoded, kind = encode_param(value)
        for text in (str(key), encoded):
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError(
                        f"param {key!r} cannot be stored: its text is not valid Unicode"
                    ) from None
        rows.append((run, str(key), encoded, kind))
    conn.executemany(
        "INSERT OR REPLACE INTO params (run, key, value, kind) VALUES (?, ?, ?, ?)", rows
    )


def delete_params(conn: Connection, run: int, keys: Iterable[str]) -> None:
    """Remove params of one run."""
    conn.executemany("DELETE FROM params WHERE run = ? AND key = ?", [(run, k) for k in keys])
