"""The session: this process's active run, started with :func:`init`, fed by :func:`log`,
ended by :func:`finish` (or at exit), and the small interface the kernel extension uses.

The kernel code (``nbtrack.kernel``) uses only the public names here: :func:`active_run`,
:func:`last_started`, :func:`set_session_id`, :func:`detect_notebook`, :data:`current_cell`
and :func:`recorder`.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import config as _config
from nbtrack import recorder as _recorder
from nbtrack.current_cell import current_cell
from nbtrack.run import Run, check_tags
from nbtrack.store import writes

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.artifacts.artifact import ArtifactVersion
    from nbtrack.model import Lineage
    from nbtrack.models.loaded import LoadedModel


class NoActiveRunError(RuntimeError):
    """``log()`` or ``finish()`` was called with no run started."""


class _State:
    active: Run | None = None
    last_started: Run | None = None
    session: str | None = None  # set by the kernel extension to the kernel's id
    uncaught: type[BaseException] | None = None


_state = _State()
_lock = threading.RLock()
_env_threads: list[threading.Thread] = []


def active_run() -> Run | None:
    """The run this process is recording now, if any."""
    return _state.active


def last_started() -> Run | None:
    """The run this process started last (still active or not), if any."""
    return _state.last_started


def set_session_id(session: str) -> None:
    """Name this process's session (the kernel id); recorded on every run it starts."""
    _state.session = session


def recorder(workspace: str | os.PathLike[str] | None = None) -> _recorder.Recorder:
    """The recorder of the active run, else of the workspace's store."""
    run = _state.active
    if run is not None and run.live:
        return run.recorder
    return _recorder.recorder_for(_config.db_path(workspace))


def detect_notebook(workspace: Path) -> str | None:
    """The notebook (or script) path, relative to the workspace when inside it."""
    path = os.environ.get("NBTRACK_NOTEBOOK") or os.environ.get("JPY_SESSION_NAME")
    main = sys.modules.get("__main__")
    if not path:
        path = getattr(main, "__vsc_ipynb_file__", None) or getattr(main, "__session__", None)
    if not path and main is not None and getattr(main, "__spec__", None) is None:
        # A script run as ``python train.py`` (not ``python -m tool``, whose __main__ is a
        # module of an installed package).
        script = getattr(main, "__file__", None)
        if script and Path(script).suffix == ".py":
            path = script
    if not path:
        return None
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    try:
        return candidate.resolve().relative_to(workspace).as_posix()
    except ValueError:
        return candidate.as_posix()


def init(
    name: str | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    notes: str = "",
    notebook: str | None = None,
    workspace: str | os.PathLike[str] | None = None,
    capture_env: bool = True,
    system_metrics: bool = True,
    system_interval: float | None = None,
    activate: bool = True,
) -> Run:
    """Start a run and make it the active run; finish the previous active run first.

    Parameters
    ----------
    name : a name for the run (default ``run-<number>``); names need not be unique.
    config : params of the run (learning rate, epochs, ...).
    tags : labels to find the run by.
    notes : free text.
    notebook : the notebook or script path (default: detected).
    workspace : the workspace folder (default: ``$NBTRACK_DIR`` or the ``.nbtrack/`` lookup).
    capture_env : record python, packages, git commit and diff, host (in the background).
    system_metrics : record CPU, memory, disk, network and GPU use under ``system/`` (a
        sampler thread; see :mod:`nbtrack.system`) until the run finishes.
    system_interval : seconds between two system samples (default ``$NBTRACK_SYSTEM_INTERVAL``,
        else 10; at least 0.1).
    activate : make the run the active run (finishing the previous one). With False the
        active run is left as it is and live: the new run is only returned (an integration's
        side run, such as one Optuna trial inside a notebook's run; see :func:`activated`).

    The run's row and its params are written in one transaction: a param that cannot be
    stored raises here and leaves no run behind.

    Examples
    --------
    >>> with nbtrack.init(name="baseline", config={"lr": 0.01}) as run:  # doctest: +SKIP
    ...     run.log({"loss": 0.5})
    """
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError("a run's name must be a non-empty string")
    tag_list = check_tags(tags or [])
    params = dict(config or {})
    for key in params:
        if not isinstance(key, str) or not key:
            raise TypeError(f"param names must be non-empty strings, not {key!r}")
    interval = _system_interval(system_interval) if system_metrics else None
    with _lock:
        previous = _state.active
        if previous is not None and activate:
            previous.finish("finished")
            _state.active = None
        ws = Path(workspace).expanduser().resolve() if workspace else _config.workspace_dir()
        rec = _recorder.recorder_for(_config.db_path(ws))
        now = time.time()
        record: dict[str, Any] = {  # the run's row
            "id": secrets.token_hex(6),
            "name": name,
            "status": "running",
            "notebook": notebook or detect_notebook(ws),
            "session": _state.session or f"{socket.gethostname()}:{os.getpid()}",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": now,
            "heartbeat": now,
            "tags": tag_list,
            "notes": notes,
        }
        with rec.lock:
            number = writes.insert_run(rec.conn, record, params)
        rec.add_live(number)
        run = Run(rec.path, number, record["id"], live=True)
        if activate:
            _state.active = run
        _state.last_started = run
        run.on_finish(_forget)
        _install_exit_hooks()
    if capture_env:
        thread = threading.Thread(
            target=_capture_env, args=(rec, number, ws), name="nbtrack-env", daemon=True
        )
        run.env_pending = thread
        _env_threads[:] = [t for t in _env_threads if t.is_alive()] + [thread]
        thread.start()
    if interval is not None:
        _start_system(run, interval)
    return run


@contextmanager
def activated(run: Run) -> Iterator[Run]:
    """Make the live ``run`` the active run for a block, then give the active place back
    to the run that held it before (left live, never finished here), unless the block
    started another run.

    >>> with nbtrack.session.activated(side_run):  # doctest: +SKIP
    ...     nbtrack.log({"loss": 0.1})   # goes to side_run
    """
    with _lock:
        previous = _state.active
        _state.active = run
    try:
        yield run
    finally:
        with _lock:
            if _state.active is run or _state.active is None:
                _state.active = previous if previous is not None and previous.live else None


def _system_interval(value: float | None) -> float:
    from nbtrack import system

    return system.sampling_interval(value)


def _start_system(run: Run, interval: float) -> None:
    try:
        from nbtrack import system

        system.start(run, interval)
    except Exception as exc:  # noqa: BLE001 - never break the user's run over this
        _recorder.warn(f"nbtrack could not record system metrics: {exc!r}")


def _forget(run: Run) -> None:
    if _state.active is run:
        _state.active = None


def _capture_env(rec: _recorder.Recorder, number: int, workspace: Path) -> None:
    try:
        from nbtrack.environment import environment

        rec.enqueue("env", (number, environment(workspace)))
    except Exception as exc:  # noqa: BLE001 - never break the user's run over this
        _recorder.warn(f"nbtrack could not record the environment: {exc!r}")


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """Record metrics on the active run; see :meth:`Run.log`."""
    run = _state.active
    if run is None:
        raise NoActiveRunError(
            "no active run: start one with nbtrack.init() (or %track start in a notebook)"
        )
    run.log(data, step)


def log_artifact(artifact: Any, name: str | None = None, type: str | None = None,
                 **options: Any) -> ArtifactVersion:
    """Log an artifact produced by the active run; see :meth:`Run.log_artifact`."""
    run = _state.active
    if run is None:
        raise NoActiveRunError(
            "no active run: start one with nbtrack.init() (or %track start in a notebook)"
        )
    return run.log_artifact(artifact, name, type, **options)


def use_artifact(ref: str, workspace: str | os.PathLike[str] | None = None) -> ArtifactVersion:
    """The artifact version ``ref`` names (``"name:v3"``, ``"name:alias"``), recorded as used
    by the active run when there is one; see :meth:`Run.use_artifact`."""
    run = _state.active
    if run is not None and run.live and workspace is None:
        return run.use_artifact(ref)
    from nbtrack.artifacts.artifact import get_artifact

    return get_artifact(_config.db_path(workspace), ref)


def log_model(model: Any, name: str, **options: Any) -> ArtifactVersion:
    """Log a model produced by the active run; see :meth:`Run.log_model`."""
    run = _state.active
    if run is None:
        raise NoActiveRunError(
            "no active run: start one with nbtrack.init() (or %track start in a notebook)"
        )
    return run.log_model(model, name, **options)


def load_model(ref: str | os.PathLike[str], *, trusted: bool = False,
               workspace: str | os.PathLike[str] | None = None) -> LoadedModel:
    """Load a logged model: ``"name:v3"``/``"name:latest"``/``"name:alias"``,
    ``"runs:/<run>/<name>"``, a registry reference (``"name@alias"``, ``"name/3"``,
    ``"models:/..."``) or a folder holding ``nbtrack-model.json``.

    Only models this workspace's own ``log_model`` wrote load as they are; anything else
    whose format runs code when loaded (pickles...) needs ``trusted=True``. See
    :class:`nbtrack.models.LoadedModel`.
    """
    from nbtrack.models.load import load_model as _load

    return _load(ref, trusted=trusted, workspace=workspace)


def lineage(ref: Any, workspace: str | os.PathLike[str] | None = None) -> Lineage:
    """The runs and artifact versions upstream and downstream of ``ref`` (a run, a run
    reference, or ``"name:version"``), as a :class:`nbtrack.model.Lineage`."""
    from nbtrack.artifacts.lineage import lineage as _lineage

    path = ref._path if isinstance(ref, Run) and workspace is None else \
        _config.db_path(workspace)
    return _lineage(path, ref)


def finish(status: str = "finished") -> None:
    """Finish the active run (no-op without one)."""
    run = _state.active
    if run is not None:
        run.finish(status)


def status() -> dict[str, Any]:
    """What this process's tracking is doing: the active run, and per store the calls waiting
    for the writer, points written and items that could not be stored (``lost``).

    Examples
    --------
    >>> nbtrack.status()  # doctest: +SKIP
    {'active_run': 3, 'stores': [{'path': '.../nbtrack.db', 'writer_alive': True, 'queued': 0,
     'queue_max': 100000, 'points_written': 5000, 'lost': 0, 'last_error': None}]}
    """
    run = _state.active
    return {
        "active_run": run.number if run is not None else None,
        "stores": [vars(rec.stats()) for rec in _recorder.all_recorders()],
    }


_exit_hooks_installed = False


def _install_exit_hooks() -> None:
    global _exit_hooks_installed
    if _exit_hooks_installed:
        return
    _exit_hooks_installed = True
    previous_hook = sys.excepthook

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        _state.uncaught = exc_type
        previous_hook(exc_type, exc, tb)

    sys.excepthook = excepthook
    atexit.register(_finish_at_exit)


def _finish_at_exit() -> None:
    run = _state.active
    uncaught = _state.uncaught
    if uncaught is None:
        final = "finished"
    elif issubclass(uncaught, KeyboardInterrupt):
        final = "interrupted"
    else:
        final = "failed"
    try:
        if run is not None:
            run.finish(final)
        for thread in _env_threads:  # a short run still records its environment
            thread.join(timeout=10)
    except Exception:  # noqa: BLE001 - exiting
        pass


__all__ = [
    "NoActiveRunError", "activated", "active_run", "current_cell", "detect_notebook", "finish",
    "init", "last_started", "log", "recorder", "set_session_id", "status",
]
