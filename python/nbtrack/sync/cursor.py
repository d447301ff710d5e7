"""The per-run, per-server cursor: what a tracking server has accepted of each run.

Kept in the store (tables ``sync_runs``, ``sync_params``, ``sync_metrics``, ``sync_items``,
migration ``m009_sync``) through :mod:`nbtrack.store.access`. Every ``record_*`` function is
called only after the server accepted what it records, so nothing reads as synced that the
server does not have. Metric points are the one thing that cannot be sent twice without
duplicating them (MLflow keeps every point it is given): ``pending`` is set before they are
sent and cleared once their steps are recorded, and a sync that finds it set (the last one
was killed between the two) asks the server which step it has of each key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from nbtrack.store.access import Connection


@dataclass
class RunCursor:
    """What ``server`` has of run ``run`` (``remote_id`` None: nothing yet)."""

    run: int
    server: str
    remote_id: str | None = None
    experiment_id: str | None = None
    head: str = ""
    tags: list[str] = field(default_factory=list)
    pending: bool = False
    #: param key here -> (name there, value sent)
    params: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: metric key here -> (name there, last step sent or None)
    metrics: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    #: (kind, name) -> digest
    items: dict[tuple[str, str], str] = field(default_factory=dict)


def load(db: Connection, server: str, run: int) -> RunCursor:
    """The cursor of ``run`` on ``server``."""
    cursor = RunCursor(run, server)
    row = db.execute(
        "SELECT remote_id, experiment_id, head, tags, pending FROM sync_runs"
        " WHERE run = ? AND server = ?", (run, server),
    ).fetchone()
    if row is None:
        return cursor
    cursor.remote_id, cursor.experiment_id, cursor.head = row[0], row[1], row[2]
    cursor.tags, cursor.pending = json.loads(row[3]), bool(row[4])
    args = (run, server)
    cursor.params = {k: (r, v) for k, r, v in db.execute(
        "SELECT key, remote, value FROM sync_params WHERE run = ? AND server = ?", args)}
    cursor.metrics = {k: (r, s) for k, r, s in db.execute(
        "SELECT key, remote, step FROM sync_metrics WHERE run = ? AND server = ?", args)}
    cursor.items = {(k, n): d for k, n, d in db.execute(
        "SELECT kind, name, digest FROM sync_items WHERE run = ? AND server = ?", args)}
    return cursor


def synced_runs(db: Connection, server: str) -> dict[int, str]:
    """``{run number: MLflow run id}`` of the runs already on ``server``."""
    return dict(db.execute(
        "SELECT run, remote_id FROM sync_runs WHERE server = ?", (server,)).fetchall())


def record_run(db: Connection, cursor: RunCursor) -> None:
    """The server has run ``cursor.run`` as ``cursor.remote_id`` (with ``head`` and ``tags``)."""
    db.execute(
        "INSERT INTO sync_runs (run, server, remote_id, experiment_id, head, tags, pending,"
        " synced) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run, server) DO UPDATE SET"
        " remote_id = excluded.remote_id, experiment_id = excluded.experiment_id,"
        " head = excluded.head, tags = excluded.tags, pending = excluded.pending,"
        " synced = excluded.synced",
        (cursor.run, cursor.server, cursor.remote_id, cursor.experiment_id, cursor.head,
         json.dumps(cursor.tags), int(cursor.pending), time.time()),
    )


def set_pending(db: Connection, cursor: RunCursor, pending: bool) -> None:
    """Mark metric points of the run on their way (or all accounted for)."""
    cursor.pending = pending
    db.execute("UPDATE sync_runs SET pending = ?, synced = ? WHERE run = ? AND server = ?",
               (int(pending), time.time(), cursor.run, cursor.server))


def record_params(db: Connection, cursor: RunCursor,
                  params: Iterable[tuple[str, str, str]]) -> None:
    """The server has these params ``(key here, name there, value)``."""
    rows = [(cursor.run, cursor.server, k, r, v) for k, r, v in params]
    db.executemany(
        "INSERT OR REPLACE INTO sync_params (run, server, key, remote, value)"
        " VALUES (?, ?, ?, ?, ?)", rows)
    for _, _, k, r, v in rows:
        cursor.params[k] = (r, v)


def record_metrics(db: Connection, cursor: RunCursor,
                   steps: Mapping[str, tuple[str, int | None]]) -> None:
    """The server has every point of each key up to its step (``{key: (name there, step)}``)."""
    db.executemany(
        "INSERT OR REPLACE INTO sync_metrics (run, server, key, remote, step)"
        " VALUES (?, ?, ?, ?, ?)",
        [(cursor.run, cursor.server, k, r, s) for k, (r, s) in steps.items()])
    cursor.metrics.update(steps)


def record_items(db: Connection, cursor: RunCursor,
                 items: Iterable[tuple[str, str, str]]) -> None:
    """The server has these items ``(kind, name, digest)``."""
    rows = [(cursor.run, cursor.server, k, n, d) for k, n, d in items]
    db.executemany(
        "INSERT OR REPLACE INTO sync_items (run, server, kind, name, digest)"
        " VALUES (?, ?, ?, ?, ?)", rows)
    for _, _, k, n, d in rows:
        cursor.items[(k, n)] = d
