"""The process's recorder: a queue that ``log()`` appends to and a background writer thread.

``log()`` never touches the disk: it appends one tuple to a deque and returns. The writer wakes
at least every :data:`nbtrack.config.FLUSH_INTERVAL` seconds, takes everything waiting and
writes it as one atomic batch; it also beats the heartbeat of the live runs of this process.
A failure to write is reported once as a warning and retried; it never reaches the caller.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import sqlite_utils

from nbtrack import config
from nbtrack.model import VariableChange
from nbtrack.store import schema, writes

#: Which list of a :class:`~nbtrack.store.writes.Batch` each kind of queued op goes to.
_BATCH_FIELD = {
    "cell_start": "cells_started",
    "cell_end": "cells_ended",
    "variables": "variables",
    "params": "params",
    "summary": "summary_overrides",
    "run": "run_updates",
    "env": "environments",
}


class TrackingWarning(UserWarning):
    """nbtrack could not record something; the user's code is unaffected."""


class Recorder:
    """Queue and writer for one store file. One per process and store; see :func:`recorder_for`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite_utils.Database = schema.connect(path)
        self._db_lock = threading.Lock()
        self._key_ids = writes.KeyIds()
        # (kind, payload) in arrival order; points are their own deque for speed.
        self.points: deque[writes.PointsCall] = deque()
        self.ops: deque[tuple[str, Any]] = deque()
        self.live_runs: set[int] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._warned = False
        self._last_heartbeat = 0.0
        self._heartbeat_every = config.heartbeat_interval()
        self._thread = threading.Thread(target=self._loop, name="nbtrack-writer", daemon=True)
        self._thread.start()

    # -- enqueue (any thread, returns at once) ---------------------------------------------
    def enqueue(self, kind: str, payload: Any) -> None:
        """Queue a non-metric write (``cell_start``, ``cell_end``, ``variables``, ...)."""
        self.ops.append((kind, payload))

    def cell_started(self, row: dict[str, Any]) -> None:
        self.ops.append(("cell_start", row))

    def cell_ended(self, row: dict[str, Any]) -> None:
        self.ops.append(("cell_end", row))

    def variables(self, cell: int, changes: list[VariableChange]) -> None:
        if changes:
            self.ops.append(("variables", (cell, changes)))

    # -- synchronous access --------------------------------------------------------------
    def execute_now(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(db, *args)`` on the writer's connection, serialized with the writer."""
        with self._db_lock:
            return fn(self.db, *args)

    def flush(self, timeout: float = 60.0) -> bool:
        """Write everything queued so far; return False if it could not within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.points or self.ops or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._wake.set()
                self._idle.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        """Flush, stop the writer and close the connection."""
        self.flush()
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        with self._db_lock:
            self.db.close()

    # -- the writer thread -----------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(min(config.FLUSH_INTERVAL, self._heartbeat_every))
            self._wake.clear()
            self._flush_once()
        self._flush_once()

    def _take(self) -> writes.Batch:
        batch = writes.Batch()
        points, ops = self.points, self.ops
        take_point, take_op = points.popleft, ops.popleft
        batch.points = [take_point() for _ in range(len(points))]
        for _ in range(len(ops)):
            kind, payload = take_op()
            getattr(batch, _BATCH_FIELD[kind]).append(payload)
        return batch

    def _flush_once(self) -> None:
        with self._idle:
            self._busy = True
        try:
            batch = self._take()
            now = time.time()
            if self.live_runs and now - self._last_heartbeat >= self._heartbeat_every:
                batch.run_updates.extend((run, {"heartbeat": now}) for run in self.live_runs)
                self._last_heartbeat = now
            if batch:
                self._write(batch)
        except Exception as exc:  # noqa: BLE001 - the writer must survive anything
            self._warn(f"nbtrack could not record to {self.path}: {exc!r}")
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    def _write(self, batch: writes.Batch) -> None:
        for attempt in range(3):
            try:
                with self._db_lock:
                    writes.write_batch(self.db, batch, self._key_ids)
                return
            except sqlite3.OperationalError as exc:  # locked or busy: wait and try again
                self._forget_cached_ids()
                self._warn(f"nbtrack retrying a write to {self.path}: {exc!r}")
                time.sleep(0.2 * (attempt + 1))
            except Exception:  # noqa: BLE001 - one bad item: keep everything else
                self._forget_cached_ids()
                break
        self._write_piecewise(batch)

    def _forget_cached_ids(self) -> None:
        # Key ids and chunk numbers cached during a rolled-back transaction are not in the store.
        self._key_ids = writes.KeyIds()

    def _write_piecewise(self, batch: writes.Batch) -> None:
        """Write a batch that failed whole one item at a time, so one bad item loses only itself."""
        pieces = [writes.Batch(points=batch.points)]
        for name in _BATCH_FIELD.values():
            pieces += [writes.Batch(**{name: [item]}) for item in getattr(batch, name)]
        for piece in pieces:
            if not piece:
                continue
            try:
                with self._db_lock:
                    writes.write_batch(self.db, piece, self._key_ids)
            except Exception as exc:  # noqa: BLE001
                self._forget_cached_ids()
                self._warn(f"nbtrack could not record one item to {self.path}: {exc!r}")

    def _warn(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(message, TrackingWarning, stacklevel=2)


_recorders: dict[Path, Recorder] = {}
_recorders_lock = threading.Lock()


class StoreUnavailableError(OSError):
    """The workspace's store cannot be created or opened for writing."""


def recorder_for(path: Path | None = None) -> Recorder:
    """The process's recorder for the store at ``path`` (default: the workspace's store).

    Raises :class:`StoreUnavailableError` saying where and what to do when the store cannot be
    opened (a read-only folder, a file where the ``.nbtrack`` folder should be, ...).
    """
    path = (path or config.db_path()).resolve()
    with _recorders_lock:
        rec = _recorders.get(path)
        if rec is None or not rec._thread.is_alive():
            try:
                rec = _recorders[path] = Recorder(path)
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailableError(
                    f"nbtrack cannot open its store at {path} ({exc}); set NBTRACK_DIR to a "
                    "writable folder, or start from a folder you can write to"
                ) from exc
        return rec


def existing_recorder(path: Path) -> Recorder | None:
    """The recorder for ``path`` if this process has one running."""
    return _recorders.get(path.resolve())


def flush_all(timeout: float = 60.0) -> None:
    """Flush every recorder of this process."""
    for rec in list(_recorders.values()):
        rec.flush(timeout)


@atexit.register
def _close_all() -> None:
    # The active run (if any) is finished by nbtrack.api's own atexit hook, registered later
    # and therefore run earlier; this flushes whatever is left and closes cleanly.
    for rec in list(_recorders.values()):
        try:
            rec.close()
        except Exception:  # noqa: BLE001 - exiting; nothing left to tell
            pass
