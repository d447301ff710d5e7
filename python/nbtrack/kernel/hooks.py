"""Cell hooks: record every cell execution, its timing, outcome and changed variables.

Registered on ``pre_run_cell`` / ``post_run_cell`` (not ``*_execute``, which widget messages
also fire). Each hook body is guarded: a failure becomes one :class:`TrackingWarning` and
tracking goes on; the user's cell result and exceptions stand as they would without nbtrack.
"""

from __future__ import annotations

import functools
import os
import random
import socket
import sys
import time
import warnings
from typing import Any

from nbtrack import recorder, session
from nbtrack.capture import ConfigNames, NamespaceWatcher, redacted
from nbtrack.session import current_cell
from nbtrack.store.values import to_jsonable

_ERROR_MESSAGE_LIMIT = 2000

try:
    import resource

    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    _MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024
    _getrusage = functools.partial(resource.getrusage, resource.RUSAGE_SELF)

    def _usage() -> tuple[float, int | None]:
        """This process's CPU seconds so far and its peak resident memory (bytes)."""
        usage = _getrusage()
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * _MAXRSS_UNIT
except ImportError:  # pragma: no cover - Windows: CPU time only
    def _usage() -> tuple[float, int | None]:
        return time.process_time(), None

# Cell ids come from nbtrack's own generator, seeded from the OS (os.urandom) once, never
# from the user's `random` (whose state nbtrack must not touch, and which a re-seeded
# notebook would make repeat). Not secrets.randbits per cell: its os.urandom call releases
# the GIL, and getting it back from the writer or IPython's history thread cost 20-30 us.
_new_cell_id = functools.partial(random.Random().getrandbits, 52)


def kernel_session() -> str:
    """An id for this kernel: the kernel id from the connection file, else host:pid."""
    try:
        from ipykernel.connect import get_connection_file

        name = os.path.basename(get_connection_file())
        if name.startswith("kernel-") and name.endswith(".json"):
            return name[len("kernel-") : -len(".json")]
    except Exception:  # noqa: BLE001 - not in a kernel, or an old ipykernel
        pass
    return f"{socket.gethostname()}:{os.getpid()}"


class CellHooks:
    """The pair of hooks for one shell, with the state between pre and post."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.session = kernel_session()
        # The live dict, not a copy: names IPython hides later are excluded too.
        self.watcher = NamespaceWatcher(hidden=getattr(shell, "user_ns_hidden", {}))
        session.recorder()  # opens the store now: a store that cannot be written fails the load
        self.watched: dict[str, Any] = {}  # name -> last recorded value (for %track watch)
        #: The names that %track start records as params by itself (see ConfigNames).
        self.config = ConfigNames()
        for earlier in _history(shell):  # cells that ran before %load_ext nbtrack
            self.config.cell(earlier)
        self._cell: int | None = None
        self._started = 0.0
        self._clock = 0.0
        self._cpu = 0.0
        self._peak: int | None = None
        self._run_at_start: int | None = None
        self._last_started: Any = None
        self._warned = False

    # -- the hooks ---------------------------------------------------------------------------
    def pre_run_cell(self, info: Any) -> None:
        try:
            self._pre(info)
        except Exception as exc:  # noqa: BLE001
            self.warn(exc)

    def post_run_cell(self, result: Any) -> None:
        try:
            self._post(result)
        except Exception as exc:  # noqa: BLE001
            self.warn(exc)
        finally:
            current_cell.exit()
            self._cell = None

    def _pre(self, info: Any) -> None:
        source = info.raw_cell or ""
        cell = _new_cell_id()
        run = session.active_run()
        self._run_at_start = run.number if run is not None else None
        self._last_started = session.last_started()
        self._started = time.time()
        self._clock = time.perf_counter()
        self._cell = cell
        current_cell.enter(cell)
        session.recorder().cell_started({
            "id": cell,
            "run": self._run_at_start,
            "session": self.session,
            "execution_count": getattr(self.shell, "execution_count", None),
            "cell_id": getattr(info, "cell_id", None),
            "source": source,
            "started": self._started,
        })
        self.config.cell(source)
        self.watcher.before(self.shell.user_ns, source)
        self._cpu, self._peak = _usage()  # last: the cell's own use, not nbtrack's

    def _post(self, result: Any) -> None:
        cell = self._cell
        if cell is None:
            return
        duration = time.perf_counter() - self._clock
        cpu, peak = _usage()
        error = result.error_in_exec or result.error_before_exec
        if error is None:
            outcome, error_type, message = "ok", None, None
        elif isinstance(error, KeyboardInterrupt):
            outcome, error_type, message = "interrupted", "KeyboardInterrupt", None
        else:
            outcome, error_type = "error", type(error).__name__
            message = str(error)[:_ERROR_MESSAGE_LIMIT]
        # The cell belongs to the run active when it ends, else to a run it started and
        # finished itself (%%track), else to the run active when it began (%track stop).
        run = session.active_run()
        started_here = session.last_started()
        if run is not None:
            run_number: int | None = run.number
        elif started_here is not None and started_here is not self._last_started:
            run_number = started_here.number
        else:
            run_number = self._run_at_start
        rec = session.recorder()
        rec.cell_ended({
            "id": cell, "run": run_number, "duration": duration, "outcome": outcome,
            "error_type": error_type, "error_message": message, "cpu_time": cpu - self._cpu,
            "peak_memory_delta": None if peak is None or self._peak is None else peak - self._peak,
        })
        changes = self.watcher.after(self.shell.user_ns)
        if changes:
            rec.variables(cell, changes)
            self.config.forget([change["name"] for change in changes])
        if run is not None and self.watched:
            self._record_watched(rec, run.number)

    def _record_watched(self, rec: recorder.Recorder, run: int) -> None:
        ns = self.shell.user_ns
        updates: dict[str, Any] = {}
        for name, last in list(self.watched.items()):
            if name not in ns:
                continue
            value = redacted(name, to_jsonable(ns[name]))
            if last is _UNSET or value != last:
                updates[name] = value
                self.watched[name] = value
        if updates:
            rec.enqueue("params", (run, updates))

    def watch(self, names: list[str]) -> dict[str, Any]:
        """Record ``names`` as params now and whenever a cell changes them."""
        ns = self.shell.user_ns
        now: dict[str, Any] = {}
        for name in names:
            self.watched[name] = _UNSET
            if name in ns:
                # A secret-looking name is recorded redacted, as its variable records are.
                now[name] = redacted(name, to_jsonable(ns[name]))
                self.watched[name] = now[name]
        return now

    def warn(self, exc: BaseException) -> None:
        """One warning per shell; tracking goes on."""
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"nbtrack could not record this cell ({exc!r}); your code ran as usual. "
                "Further tracking problems in this kernel are not reported.",
                recorder.TrackingWarning,
                stacklevel=2,
            )

    # -- registration ------------------------------------------------------------------------
    def register(self) -> None:
        self.shell.events.register("pre_run_cell", self.pre_run_cell)
        self.shell.events.register("post_run_cell", self.post_run_cell)

    def unregister(self) -> None:
        for event, fn in (("pre_run_cell", self.pre_run_cell),
                          ("post_run_cell", self.post_run_cell)):
            try:
                self.shell.events.unregister(event, fn)
            except ValueError:
                pass
        current_cell.exit()


def _history(shell: Any) -> list[str]:
    """The sources of the cells this shell ran so far, oldest first."""
    history = getattr(shell, "user_ns", {}).get("In")
    if not isinstance(history, list):
        return []
    return [source for source in history if isinstance(source, str) and source]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()

__all__ = ["CellHooks", "kernel_session"]
