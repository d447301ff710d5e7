"""The process's recorder: a bounded queue that ``log()`` appends to and a background writer.

``log()`` never touches the disk: it appends one tuple to a deque and returns. The writer wakes
every :data:`nbtrack.config.FLUSH_INTERVAL` seconds (sooner when a quarter of the queue is
used), takes everything waiting and writes it as one atomic batch; it also beats the heartbeat
of the live runs of this process.

Nothing is lost silently and nothing grows without bound:

- the queue holds at most :func:`nbtrack.config.queue_max` ``log()`` calls; when it is full,
  ``log()`` waits for the writer (backpressure) instead of dropping points or growing;
- the writer survives any exception (a write that fails is retried, then written item by
  item so one bad item loses only itself); every item it could not store is counted, in
  :meth:`Recorder.stats`, in the run's ``lost`` count, and in a :class:`TrackingWarning`
  (again at most every :data:`WARN_EVERY` seconds while losses go on);
- if the writer thread is gone anyway, the next ``log()`` that finds the queue full starts a
  new one.
"""

from __future__ import annotations

import atexit
import json
import sqlite3
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbtrack import config, wire
from nbtrack.model import VariableChange
from nbtrack.store import access, blobs, writes
from nbtrack.store.access import StoreUnavailableError

#: Which list of a :class:`~nbtrack.store.writes.Batch` each kind of queued op goes to.
_BATCH_FIELD = {
    "cell_start": "cells_started",
    "cell_end": "cells_ended",
    "variables": "variables",
    "params": "params",
    "summary": "summary_overrides",
    "run": "run_updates",
    "env": "environments",
    "lost": "lost",
}

#: Seconds between two warnings about lost items while losses go on.
WARN_EVERY = 30.0


class TrackingWarning(UserWarning):
    """nbtrack could not record something; the user's code is unaffected."""


def warn(message: str) -> None:
    """Warn with a :class:`TrackingWarning`, never raising (under ``python -W error`` a
    warning raised in a background thread would kill it, or reach the user's code)."""
    try:
        warnings.warn(message, TrackingWarning, stacklevel=3)
    except Exception:  # noqa: BLE001
        pass


@dataclass
class RecorderStats:
    """What one recorder has done: calls queued now, points written, items lost."""

    path: str
    writer_alive: bool
    queued: int
    queue_max: int
    points_written: int
    lost: int
    last_error: str | None


class Recorder:
    """Queue and writer for one store file. One per process and store; see :func:`recorder_for`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = access.open_writable(path)
        self.lock = threading.RLock()
        self._key_ids = writes.KeyIds()
        # (kind, payload) in arrival order; points are their own deque for speed.
        self.points: deque[writes.PointsCall] = deque()
        self.ops: deque[tuple[str, Any]] = deque()
        #: Rich values waiting to be encoded: ``(run, step, time, cell, key, [Media, ...])``.
        self.media: deque[tuple[int, int, float, int | None, str, list[Any]]] = deque()
        self.queue_max = config.queue_max()
        self.media_max = config.media_queue_max()
        #: ``log()`` wakes the writer early past this many queued calls.
        self.soon = max(1, self.queue_max // 4)
        self._live_runs: set[int] = set()
        self._live_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._points_written = 0
        self._lost = 0
        self._last_error: str | None = None
        self._last_warning = -WARN_EVERY
        self._last_heartbeat = 0.0
        self._heartbeat_every = config.heartbeat_interval()
        self._thread = self._start_writer()
        access.register_writer(path, self)

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

    def add_media(self, entry: tuple[int, int, float, int | None, str, list[Any]]) -> None:
        """Queue rich values of one key (copies, encoded by the writer); when
        :attr:`media_max` values wait already, wait for the writer first (backpressure)."""
        self.media.append(entry)
        if len(self.media) >= self.media_max // 4:
            self._backpressure(self.media, self.media_max)

    def make_room(self) -> None:
        """Called by ``log()`` past :attr:`soon` queued calls: wake the writer, and when the
        queue is full wait until it has room again (backpressure)."""
        self._backpressure(self.points, self.queue_max)

    def _backpressure(self, queue: deque[Any], cap: int) -> None:
        """Wake the writer; when ``queue`` holds ``cap`` items, wait until it is half empty."""
        if not self._wake.is_set():  # set() takes a lock: skip it while the writer is awake
            self._wake.set()
        if len(queue) < cap:
            return
        if not self._thread.is_alive():
            self._thread = self._start_writer()
        with self._idle:
            while len(queue) >= cap // 2 and self._thread.is_alive():
                self._wake.set()
                self._idle.wait(0.05)

    # -- live runs (their heartbeat is beaten by the writer) -------------------------------
    def add_live(self, run: int) -> None:
        with self._live_lock:
            self._live_runs.add(run)

    def discard_live(self, run: int) -> None:
        with self._live_lock:
            self._live_runs.discard(run)

    def live_runs(self) -> tuple[int, ...]:
        with self._live_lock:
            return tuple(self._live_runs)

    # -- synchronous access --------------------------------------------------------------
    def flush(self, timeout: float = 60.0) -> bool:
        """Write everything queued so far; return False if it could not within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self.points or self.ops or self.media or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._wake.set()
                self._idle.wait(min(remaining, 0.05))
        return True

    def stats(self) -> RecorderStats:
        """Calls queued, points written and items lost so far by this recorder."""
        return RecorderStats(
            path=str(self.path), writer_alive=self._thread.is_alive(), queued=len(self.points),
            queue_max=self.queue_max, points_written=self._points_written, lost=self._lost,
            last_error=self._last_error,
        )

    def close(self) -> None:
        """Flush, stop the writer and close the connection."""
        self.flush()
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        access.unregister_writer(self.path, self)
        with self.lock:
            self.conn.close()

    # -- the writer thread -----------------------------------------------------------------
    def _start_writer(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="nbtrack-writer", daemon=True)
        thread.start()
        return thread

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
        media, take_media = self.media, self.media.popleft
        if media:
            batch.media = self._encode_media([take_media() for _ in range(len(media))])
        return batch

    def _encode_media(
        self, entries: list[tuple[int, int, float, int | None, str, list[Any]]]
    ) -> list[writes.MediaRow]:
        """Encode rich values and put their bytes in the blob store (before the transaction
        that references them, so a collection never sees a referenced blob missing)."""
        store = self.path.parent
        rows: list[writes.MediaRow] = []
        lost: dict[int | None, int] = {}
        error = None
        for run, step, when, cell, key, items in entries:
            for idx, item in enumerate(items):
                try:
                    encoded = item.encode()
                    blob = None if encoded.data is None else blobs.put(store, encoded.data)
                    thumb = None if encoded.thumb is None else blobs.put(store, encoded.thumb)
                    meta = json.dumps(wire.finite(encoded.meta), allow_nan=False)
                except Exception as exc:  # noqa: BLE001 - one bad value loses only itself
                    lost[run] = lost.get(run, 0) + 1
                    error = repr(exc)
                    continue
                rows.append((run, key, step, idx, item.kind, blob, thumb, meta, when, cell))
        if lost:
            self._lost_items(lost, error)
        return rows

    def _flush_once(self) -> None:
        with self._idle:
            self._busy = True
        try:
            batch = self._take()
            now = time.time()
            live = self.live_runs()
            if live and now - self._last_heartbeat >= self._heartbeat_every:
                batch.run_updates.extend((run, {"heartbeat": now}) for run in live)
                self._last_heartbeat = now
            if batch:
                self._write(batch)
        except BaseException as exc:  # noqa: BLE001 - the writer must survive anything
            self._lost_items({}, f"the writer failed: {exc!r}")
        finally:
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    def _write(self, batch: writes.Batch) -> None:
        for attempt in range(3):
            try:
                with self.lock:
                    self._points_written += writes.write_batch(self.conn, batch, self._key_ids)
                return
            except sqlite3.OperationalError as exc:  # locked or busy: wait and try again
                self._forget_cached_ids()
                self._last_error = repr(exc)
                time.sleep(0.2 * (attempt + 1))
            except Exception:  # noqa: BLE001 - one bad item: keep everything else
                self._forget_cached_ids()
                break
        self._write_piecewise(batch)

    def _forget_cached_ids(self) -> None:
        # Key ids and chunk numbers cached during a rolled-back transaction are not in the store.
        self._key_ids = writes.KeyIds()

    def _write_piecewise(self, batch: writes.Batch) -> None:
        """Write a batch that failed whole in parts, so one bad item loses only itself.

        Points are split in halves until the bad calls are alone; other items go one by one.
        """
        lost: dict[int | None, int] = {}
        errors: list[str] = []
        parts = [writes.Batch(points=batch.points)] if batch.points else []
        for name in (*_BATCH_FIELD.values(), "media"):
            parts += [writes.Batch(**{name: [item]}) for item in getattr(batch, name)]
        while parts:
            part = parts.pop()
            try:
                with self.lock:
                    self._points_written += writes.write_batch(self.conn, part, self._key_ids)
                continue
            except Exception as exc:  # noqa: BLE001
                self._forget_cached_ids()
                errors.append(repr(exc))
            if len(part.points) > 1:
                half = len(part.points) // 2
                parts += [writes.Batch(points=part.points[:half]),
                          writes.Batch(points=part.points[half:])]
            elif part.lost:  # a count of earlier losses: keep it for the next flush
                self.ops.extend(("lost", item) for item in part.lost)
            else:
                run, items = part.what()
                lost[run] = lost.get(run, 0) + items
        if lost:
            self._lost_items(lost, errors[-1] if errors else None)

    def _lost_items(self, lost: dict[int | None, int], error: str | None) -> None:
        """Count items that could not be stored, record the counts on their runs, warn."""
        count = sum(lost.values())
        self._lost += count
        self._last_error = error
        self.ops.extend(("lost", (run, n)) for run, n in lost.items() if run is not None)
        now = time.monotonic()
        if now - self._last_warning < WARN_EVERY:
            return
        self._last_warning = now
        warn(f"nbtrack could not record {count} item{'s' * (count != 1)} to {self.path}"
             f" ({self._lost} so far; nbtrack.status() shows the count): {error}")


_recorders: dict[Path, Recorder] = {}
_recorders_lock = threading.Lock()


def recorder_for(path: Path | None = None) -> Recorder:
    """The process's recorder for the store at ``path`` (default: the workspace's store).

    Raises :class:`StoreUnavailableError` saying where and what to do when the store cannot be
    opened (a read-only folder, a file where the ``.nbtrack`` folder should be, ...).
    """
    path = (path or config.db_path()).resolve()
    with _recorders_lock:
        rec = _recorders.get(path)
        if rec is None or rec._stop.is_set():
            rec = _recorders[path] = Recorder(path)
        return rec


def existing_recorder(path: Path) -> Recorder | None:
    """The recorder for ``path`` if this process has one running."""
    return _recorders.get(path.resolve())


def all_recorders() -> list[Recorder]:
    """Every recorder of this process."""
    return list(_recorders.values())


def flush_all(timeout: float = 60.0) -> None:
    """Flush every recorder of this process."""
    for rec in list(_recorders.values()):
        rec.flush(timeout)


@atexit.register
def _close_all() -> None:
    # The active run (if any) is finished by nbtrack.session's own atexit hook, registered
    # later and therefore run earlier; this flushes whatever is left and closes cleanly.
    for rec in list(_recorders.values()):
        try:
            rec.close()
        except Exception:  # noqa: BLE001 - exiting; nothing left to tell
            pass


__all__ = [
    "Recorder", "RecorderStats", "StoreUnavailableError", "TrackingWarning", "all_recorders",
    "existing_recorder", "flush_all", "recorder_for",
]
