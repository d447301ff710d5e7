"""Export runs, params, metric points, summaries and cells as CSV or JSON Lines, streamed.

Rows are read and written a chunk of runs (or one metric series) at a time, so exporting a
large store never holds it all in memory.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from nbtrack import wire
from nbtrack.store import queries
from nbtrack.store.access import Connection
from nbtrack.store.blobs import BLOBS_DIRNAME
from nbtrack.store.points import unpack
from nbtrack.store.queries import IN_JSON, json_numbers
from nbtrack.store.values import decode_param

#: What ``export`` writes, in order, and each table's columns.
TABLES: dict[str, tuple[str, ...]] = {
    "runs": ("number", "id", "name", "status", "notebook", "session", "host", "started",
             "ended", "heartbeat", "duration", "tags", "notes"),
    "params": ("run", "run_id", "key", "value", "kind"),
    "metrics": ("run", "run_id", "key", "step", "value", "time", "cell"),
    "summary": ("run", "run_id", "key", "value", "last", "last_step", "min", "max", "count"),
    "cells": ("id", "run", "run_id", "session", "execution_count", "cell_id", "source",
              "started", "duration", "outcome", "error_type", "error_message", "cpu_time",
              "peak_memory_delta"),
    "media": ("run", "run_id", "key", "step", "idx", "kind", "file", "meta", "time", "cell"),
}
FORMATS = ("csv", "jsonl")
_CHUNK = 200


def rows(db: Connection, table: str, numbers: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``table`` (a :data:`TABLES` key) for the runs ``numbers``, in that order."""
    for start in range(0, len(numbers), _CHUNK):
        chunk = list(numbers[start : start + _CHUNK])
        yield from _ROWS[table](db, chunk)


def _run_rows(db: Connection, numbers: list[int]) -> Iterator[tuple[Any, ...]]:
    for r in queries.run_records(db, numbers):
        record = cast("Mapping[str, Any]", r)  # read by column names that are not literals
        yield tuple(record[c] for c in TABLES["runs"])


def _ids(db: Connection, numbers: list[int]) -> dict[int, str]:
    return dict(db.execute(f"SELECT number, id FROM runs WHERE number {IN_JSON}",
                           (json_numbers(numbers),)))


def _param_rows(db: Connection, numbers: list[int]) -> Iterator[tuple[Any, ...]]:
    ids = _ids(db, numbers)
    for run, key, value, kind in db.execute(
        f"SELECT run, key, value, kind FROM params WHERE run {IN_JSON} ORDER BY run, key",
        (json_numbers(numbers),),
    ):
        yield run, ids.get(run), key, decode_param(value, kind), kind


#: Every chunk of points of the runs in one JSON array, by run number (as the params and
#: cells tables), each series' chunks in ``seq`` order. The primary key (run, key, seq) gives
#: that order without a sort, so rows stream from disk one series after another.
_CHUNKS_OF_RUNS = (
    'SELECT run, key, step_min, step_max, ordered, steps, "values", times, cells'
    f" FROM metric_chunks WHERE run {IN_JSON} ORDER BY run, key, seq"
)


def _metric_rows(db: Connection, numbers: list[int]) -> Iterator[tuple[Any, ...]]:
    ids = _ids(db, numbers)
    names = dict(db.execute("SELECT id, key FROM metric_keys"))
    rows = db.execute(_CHUNKS_OF_RUNS, (json_numbers(numbers),))
    for run, run_rows in itertools.groupby(rows, key=lambda r: r[0]):
        # One run's series at a time, in key order as everywhere else.
        series = sorted((
            (names[key], unpack(r[2:] for r in chunks))
            for key, chunks in itertools.groupby(run_rows, key=lambda r: r[1])
        ), key=lambda named: named[0])
        for key, points in series:
            for step, value, t, cell in zip(points.steps, points.values, points.times,
                                            points.cells):
                yield run, ids.get(run), key, step, value, t, cell or None


def _summary_rows(db: Connection, numbers: list[int]) -> Iterator[tuple[Any, ...]]:
    ids = _ids(db, numbers)
    for run, items in queries.summaries_of(db, numbers).items():
        for s in items:
            yield (run, ids.get(run), s["key"], s["value"], s["last"], s["last_step"], s["min"],
                   s["max"], s["count"])


def _cell_rows(db: Connection, numbers: list[int]) -> Iterator[tuple[Any, ...]]:
    ids = _ids(db, numbers)
    for row in db.execute(
        "SELECT id, run, session, execution_count, cell_id, source, started, duration, outcome,"
        " error_type, error_message, cpu_time, peak_memory_delta"
        f" FROM cells WHERE run {IN_JSON} ORDER BY run, started, id",
        (json_numbers(numbers),),
    ):
        yield (row[0], row[1], ids.get(row[1]), *row[2:])


def _media_rows(db: Connection, numbers: list[int]) -> Iterator[tuple[Any, ...]]:
    ids = _ids(db, numbers)
    for run, key, step, idx, kind, blob, meta, t, cell in db.execute(
        "SELECT run, key, step, idx, kind, blob, meta, time, cell FROM media"
        f" WHERE run {IN_JSON} ORDER BY run, key, step, idx",
        (json_numbers(numbers),),
    ):
        # The bytes' file, relative to the store folder (.nbtrack/); histograms keep none.
        file = None if blob is None else f"{BLOBS_DIRNAME}/{blob[:2]}/{blob}"
        yield run, ids.get(run), key, step, idx, kind, file, json.loads(meta), t, cell


_ROWS = {"runs": _run_rows, "params": _param_rows, "metrics": _metric_rows,
         "summary": _summary_rows, "cells": _cell_rows, "media": _media_rows}


def csv_cell(value: Any) -> Any:
    """One CSV cell: empty for null, true/false, JSON text for lists and dicts."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)  # nan, inf, -inf
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def write_rows(
    out: IO[str], fmt: str, columns: Sequence[str], data: Iterable[tuple[Any, ...]]
) -> int:
    """Write ``data`` to ``out`` as CSV (with a header) or JSON Lines; return the row count."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in data:
            writer.writerow([csv_cell(v) for v in row])
            count += 1
    elif fmt == "jsonl":
        for row in data:
            record = {c: wire.finite(v) for c, v in zip(columns, row)}
            out.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
            count += 1
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return count


def export_tables(
    db: Connection, numbers: Sequence[int], tables: Sequence[str], fmt: str,
    folder: Path,
) -> dict[str, tuple[Path, int]]:
    """Write each table to ``folder/<table>.<csv|jsonl>``; ``{table: (path, rows)}``."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[Path, int]] = {}
    for table in tables:
        path = folder / f"{table}.{fmt}"
        with open(path, "w", encoding="utf-8", newline="") as out:
            count = write_rows(out, fmt, TABLES[table], rows(db, table, numbers))
        written[table] = (path, count)
    return written
