"""Imported runs into the store, each in one transaction through :mod:`nbtrack.store.access`
and :mod:`nbtrack.store.writes` (the same run rows, params, packed points and summaries as
runs recorded here), with a ``run_sources`` row saying where it came from.

Importing a run again:

- unchanged since (same digest of everything imported): nothing is written (``unchanged``);
- changed since (a run that was still running gained points, ended, got tags...): the run is
  brought up to date (``updated``): name, status, end time, tags, notes and params as the
  source has them now, and each metric's points after the last step imported are appended
  (points at steps already imported are kept as they were: the trackers only append);
- deleted here (``nbtrack rm``): left deleted (``deleted``); after ``nbtrack gc`` it is
  imported again as a new run.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

from nbtrack.importers.source import Problem, Series, SourceRun
from nbtrack.store import access, writes
from nbtrack.store.access import Connection

Action = Literal["imported", "updated", "unchanged", "deleted"]


class ImportedRun(TypedDict):
    """One run of ``nbtrack import --json``'s ``runs``."""

    action: str  # imported, updated, unchanged, deleted (with --dry-run: what would happen)
    source: str
    source_id: str
    path: str
    name: str | None
    number: int | None  # the nbtrack run (None: a new run with --dry-run)
    points: int  # metric points written (or that would be)
    skipped: int  # values that are not scalars (images, tables, text...), not imported


class ImportProblem(TypedDict):
    """One entry of ``nbtrack import --json``'s ``problems``."""

    path: str
    message: str


@dataclass
class Outcome:
    """What importing one run did (or, with ``dry_run``, would do)."""

    action: Action
    run: SourceRun
    number: int | None
    points: int

    def record(self) -> ImportedRun:
        return ImportedRun(
            action=self.action, source=self.run.source, source_id=self.run.source_id,
            path=self.run.path, name=self.run.name, number=self.number, points=self.points,
            skipped=self.run.skipped,
        )


def import_items(
    db: Path, items: Iterable[SourceRun | Problem], *, dry_run: bool = False
) -> Iterator[Outcome | Problem]:
    """Store each run of ``items`` (lazily, one transaction per run); pass problems on.

    A run that cannot be stored (a param that is not valid Unicode...) becomes a
    :class:`Problem` and leaves nothing behind.
    """
    for item in items:
        if isinstance(item, Problem):
            yield item
            continue
        try:
            yield plan(db, item) if dry_run else store(db, item)
        except (ValueError, OverflowError) as exc:
            yield Problem(item.path, f"cannot store this run: {exc}")


def _existing(conn: Connection, run: SourceRun) -> tuple[int, str, bool] | None:
    """``(run number, digest, deleted)`` of an earlier import of ``run``."""
    row = conn.execute(
        "SELECT s.run, s.digest, r.deleted FROM run_sources AS s"
        " JOIN runs AS r ON r.number = s.run WHERE s.source = ? AND s.source_id = ?",
        (run.source, run.source_id),
    ).fetchone()
    return None if row is None else (row[0], row[1], bool(row[2]))


def plan(db: Path, run: SourceRun) -> Outcome:
    """What :func:`store` would do with ``run``, writing nothing."""
    with access.reading(db) as conn:
        found = _existing(conn, run)
        if found is None:
            return Outcome("imported", run, None, run.points)
        number, digest, deleted = found
        if deleted or digest == run.digest():
            return Outcome("deleted" if deleted else "unchanged", run, number, 0)
        new = sum(len(s) for s in _new_points(conn, number, run).values())
        return Outcome("updated", run, number, new)


def store(db: Path, run: SourceRun) -> Outcome:
    """Import ``run`` into the store at ``db`` in one transaction."""
    digest = run.digest()
    with access.writing(db) as conn:
        found = _existing(conn, run)
        if found is None:
            number = _insert(conn, run)
            points = run.metrics
            action: Action = "imported"
        else:
            number, old_digest, deleted = found
            if deleted or old_digest == digest:
                return Outcome("deleted" if deleted else "unchanged", run, number, 0)
            points = _new_points(conn, number, run)
            writes.update_run(conn, number, {
                "name": run.name or f"run-{number}", "status": run.status,
                "ended": run.ended, "heartbeat": run.last_activity(), "tags": run.tags,
                "notes": run.notes,
            })
            writes.write_params(conn, number, run.params)
            action = "updated"
        batch = writes.Batch(
            points=list(_calls(number, points)),
            summary_overrides=[(number, k, v) for k, v in run.summary.items()],
        )
        written = writes.write_batch(conn, batch)
        conn.execute(
            "INSERT INTO run_sources (run, source, source_id, path, digest, imported)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_id) DO UPDATE SET"
            " run = excluded.run, path = excluded.path, digest = excluded.digest,"
            " imported = excluded.imported",
            (number, run.source, run.source_id, run.path, digest, time.time()),
        )
    return Outcome(action, run, number, written)


def _insert(conn: Connection, run: SourceRun) -> int:
    record = {
        "id": secrets.token_hex(6), "name": run.name, "status": run.status,
        "notebook": None, "session": f"import:{run.source}", "host": run.host, "pid": None,
        "started": run.started, "heartbeat": run.last_activity(), "tags": run.tags,
        "notes": run.notes,
    }
    number = writes.insert_run(conn, record, run.params)
    if run.ended is not None:
        writes.update_run(conn, number, {"ended": run.ended})
    return number


def _new_points(conn: Connection, number: int, run: SourceRun) -> dict[str, Series]:
    """Each metric's points after the last step already stored for run ``number``."""
    stored = dict(conn.execute(
        "SELECT k.key, MAX(c.step_max) FROM metric_chunks AS c"
        " JOIN metric_keys AS k ON k.id = c.key WHERE c.run = ? GROUP BY k.key",
        (number,),
    ).fetchall())
    out: dict[str, Series] = {}
    for key, s in run.metrics.items():
        last = stored.get(key)
        if last is None:
            out[key] = s
            continue
        keep = [i for i, step in enumerate(s.steps) if step > last]
        if keep:
            tail = Series()
            tail.steps.extend(s.steps[i] for i in keep)
            tail.values.extend(s.values[i] for i in keep)
            tail.times.extend(s.times[i] for i in keep)
            out[key] = tail
    return out


def _calls(number: int, metrics: dict[str, Series]) -> Iterator[writes.PointsCall]:
    """The points as the recorder's ``log()`` calls: one key per call, no cell."""
    for key, s in metrics.items():
        keys = (key,)
        for step, value, when in zip(s.steps, s.values, s.times):
            yield (number, step, when, None, keys, (value,))
