"""The public functions: start and end runs, log to the active run, find and compare runs."""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import config as _config
from nbtrack import recorder as _recorder
from nbtrack.filter import compile_selection, compile_sort
from nbtrack.model import RunDiffRecord, RunRecord
from nbtrack.run import Run, _check_tags
from nbtrack.store import diff as _diff
from nbtrack.store import queries, schema, writes

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from nbtrack.query.leaderboard import Leaderboard
    from nbtrack.query.sql import SqlResult


class NoActiveRunError(RuntimeError):
    """``log()`` or ``finish()`` was called with no run started."""


class _State:
    active: Run | None = None
    last_started: Run | None = None
    session: str | None = None  # set by the kernel extension to the kernel's id
    uncaught: type[BaseException] | None = None


_state = _State()
_lock = threading.RLock()


def active_run() -> Run | None:
    """The run this process is recording now, if any."""
    return _state.active


def _detect_notebook(workspace: Path) -> str | None:
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

    Examples
    --------
    >>> with nbtrack.init(name="baseline", config={"lr": 0.01}) as run:  # doctest: +SKIP
    ...     run.log({"loss": 0.5})
    """
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError("a run's name must be a non-empty string")
    tag_list = _check_tags(tags or [])
    params = dict(config or {})
    for key in params:
        if not isinstance(key, str) or not key:
            raise TypeError(f"param names must be non-empty strings, not {key!r}")
    with _lock:
        previous = _state.active
        if previous is not None:
            previous.finish("finished")
            _state.active = None
        ws = Path(workspace).expanduser().resolve() if workspace else _config.workspace_dir()
        path = _config.db_path(ws)
        rec = _recorder.recorder_for(path)
        now = time.time()
        record = {
            "id": secrets.token_hex(6),
            "name": name,
            "status": "running",
            "notebook": notebook or _detect_notebook(ws),
            "session": _state.session or f"{socket.gethostname()}:{os.getpid()}",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": now,
            "heartbeat": now,
            "tags": tag_list,
            "notes": notes,
        }

        def create(db: Any) -> int:
            number = writes.insert_run(db, record)
            if params:
                with db.atomic():
                    writes.write_params(db, number, params)
            return number

        number = rec.execute_now(create)
        rec.live_runs.add(number)
        run = Run(path, number, record["id"], live=True)
        _state.active = _state.last_started = run
        run._on_finish.append(_forget)
        _install_exit_hooks()
    if capture_env:
        run._env_thread = threading.Thread(
            target=_capture_env, args=(rec, number, ws), name="nbtrack-env", daemon=True
        )
        run._env_thread.start()
    return run


def _forget(run: Run) -> None:
    if _state.active is run:
        _state.active = None


def _capture_env(rec: _recorder.Recorder, number: int, workspace: Path) -> None:
    try:
        from nbtrack.environment import environment

        rec.enqueue("env", (number, environment(workspace)))
    except Exception as exc:  # noqa: BLE001 - never break the user's run over this
        warnings.warn(f"nbtrack could not record the environment: {exc!r}",
                      _recorder.TrackingWarning, stacklevel=1)


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """Record metrics on the active run; see :meth:`Run.log`."""
    run = _state.active
    if run is None:
        raise NoActiveRunError(
            "no active run: start one with nbtrack.init() (or %track start in a notebook)"
        )
    run.log(data, step)


def finish(status: str = "finished") -> None:
    """Finish the active run (no-op without one)."""
    run = _state.active
    if run is not None:
        run.finish(status)


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
    if run is None:
        return
    uncaught = _state.uncaught
    if uncaught is None:
        status = "finished"
    elif issubclass(uncaught, KeyboardInterrupt):
        status = "interrupted"
    else:
        status = "failed"
    try:
        run.finish(status)
    except Exception:  # noqa: BLE001 - exiting
        pass


# -- reading --------------------------------------------------------------------------------

def _store_path(workspace: str | os.PathLike[str] | None) -> Path:
    return _config.db_path(workspace)


class _Reader:
    """A read connection: the recorder's own when this process writes the store."""

    def __init__(self, workspace: str | os.PathLike[str] | None) -> None:
        self.path = _store_path(workspace)

    def __enter__(self) -> Any:
        rec = _recorder.existing_recorder(self.path)
        if rec is not None:
            rec.flush()
            rec._db_lock.acquire()
            self._rec = rec
            return rec.db
        self._rec = None
        if not self.path.exists():
            self._db = _empty_db()
        else:
            self._db = schema.connect(self.path, readonly=True)
        return self._db

    def __exit__(self, *exc: Any) -> None:
        if self._rec is not None:
            self._rec._db_lock.release()
        else:
            self._db.close()


def _empty_db() -> Any:
    """An in-memory store with the schema, for reading a workspace that has recorded nothing."""
    import sqlite_utils

    db = sqlite_utils.Database(memory=True, execute_plugins=False)
    schema.MIGRATIONS.apply(db)
    return db


class RunList(Sequence[Run]):
    """Runs, newest first. Index it for :class:`Run` objects; ``records()`` for plain data."""

    def __init__(self, path: Path, records: list[RunRecord], total: int | None = None) -> None:
        self._path = path
        self._records = records
        self.total = len(records) if total is None else total

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return RunList(self._path, self._records[index])
        r = self._records[index]
        return Run(self._path, r["number"], r["id"])

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Run]:
        for r in self._records:
            yield Run(self._path, r["number"], r["id"])

    def records(self) -> list[RunRecord]:
        """The runs as plain dicts (:class:`nbtrack.model.RunRecord`)."""
        return list(self._records)

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run with ``params.*`` and ``metrics.*`` columns (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("RunList.to_pandas() needs pandas: pip install pandas") from exc
        rows = []
        for r in self._records:
            row: dict[str, Any] = {
                k: r[k]  # type: ignore[literal-required]
                for k in ("number", "id", "name", "status", "notebook", "started", "ended",
                          "duration", "tags", "notes")
            }
            row["started"] = pd.to_datetime(row["started"], unit="s")
            row["ended"] = pd.to_datetime(row["ended"], unit="s") if row["ended"] else pd.NaT
            row.update({f"params.{k}": v for k, v in r["params"].items()})
            row.update({f"metrics.{k}": v for k, v in r["summary"].items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        from nbtrack.text import runs_table

        return runs_table(self._records, total=self.total)


def runs(
    *,
    where: str | None = None,
    sort: str | None = None,
    descending: bool | None = None,
    status: str | None = None,
    tag: str | None = None,
    notebook: str | None = None,
    name: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    workspace: str | os.PathLike[str] | None = None,
) -> RunList:
    """The workspace's runs, newest first unless ``sort`` says otherwise, optionally filtered.

    Parameters
    ----------
    where : a filter such as ``'params.lr < 0.01 and metrics.loss < 0.5'`` (see the README's
        filter language); a bad filter raises ``nbtrack.FilterError`` naming the column.
    sort : ``number``, ``name``, ``status``, ``notebook``, ``started``, ``ended``, ``duration``,
        ``metrics.<key>[.min|.max|.last]`` or ``params.<key>``; ascending, or descending with a
        leading ``-`` (``"-metrics.val/acc"``) or ``descending=True``. Runs without a value
        come last.
    status, tag, notebook, name : exact matches, combined with ``where``.
    limit, offset : one page of the result; ``RunList.total`` counts every match.

    Examples
    --------
    >>> nbtrack.runs(where='tags has "cnn" and metrics.val/acc > 0.9',
    ...              sort="-metrics.val/acc", limit=10).to_pandas()  # doctest: +SKIP
    """
    order, desc = "number", True
    if sort:
        order, desc = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if descending is not None:
        desc = descending
    selection = compile_selection(where, status=status, tag=tag, notebook=notebook, name=name)
    with _Reader(workspace) as db:
        numbers, total = queries.list_run_numbers(
            db, selection, compile_sort(order), descending=desc, limit=limit, offset=offset,
        )
        records = queries.run_records(db, numbers)
    return RunList(_store_path(workspace), records, total)


def leaderboard(
    metric: str,
    goal: str = "min",
    *,
    where: str | None = None,
    n: int | None = 10,
    workspace: str | os.PathLike[str] | None = None,
) -> Leaderboard:
    """The ``n`` runs with the best value of ``metric`` (lowest for ``goal="min"``, highest
    for ``"max"``), with their params; ``.differing`` names the params that differ.

    Examples
    --------
    >>> nbtrack.leaderboard("val/loss", where='tags has "cnn"', n=5)  # doctest: +SKIP
    >>> nbtrack.leaderboard("val/acc", goal="max").to_pandas()  # doctest: +SKIP
    """
    from nbtrack.query.leaderboard import leaderboard as _leaderboard

    selection = compile_selection(where)
    with _Reader(workspace) as db:
        return _leaderboard(db, metric, goal, selection, n)


def sql(
    query: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    *,
    workspace: str | os.PathLike[str] | None = None,
) -> SqlResult:
    """Run one read-only SQL statement over the store; the rows as a list of dicts.

    The store is opened read-only (``mode=ro`` and ``PRAGMA query_only``), so a statement that
    writes raises ``sqlite3.OperationalError``. The tables are documented in docs/schema.md.
    The result has ``.columns`` and ``.to_pandas()``.

    Examples
    --------
    >>> nbtrack.sql("select key, count(*) as runs from params group by key")  # doctest: +SKIP
    >>> nbtrack.sql("select name from runs where started > ?", [1.7e9])  # doctest: +SKIP
    """
    from nbtrack.query.sql import run_sql

    path = _store_path(workspace)
    rec = _recorder.existing_recorder(path)
    if rec is not None:
        rec.flush()
    return run_sql(path, query, params)


def get_run(ref: int | str | Run, *, workspace: str | os.PathLike[str] | None = None) -> Run:
    """A run by number (``3``, ``"3"``, ``"#3"``), id, or name (the newest of that name).

    Raises ``LookupError`` (``nbtrack.RunNotFound``) when no run matches.
    """
    if isinstance(ref, Run):
        return ref
    path = _store_path(workspace)
    with _Reader(workspace) as db:
        number = queries.resolve_run(db, ref)
        run_id = db.execute("SELECT id FROM runs WHERE number = ?", (number,)).fetchone()[0]
    active = _state.active
    if active is not None and active.id == run_id:
        return active
    return Run(path, number, run_id)


class RunDiff:
    """What differs between runs: ``params``, ``metrics``, ``cells``, ``variables``, ``env``."""

    def __init__(self, record: RunDiffRecord) -> None:
        self.record = record
        self.runs = record["runs"]
        self.params = record["params"]
        self.metrics = record["metrics"]
        self.cells = record["cells"]
        self.variables = record["variables"]
        self.env = record["env"]

    def changed_params(self) -> dict[str, list[Any]]:
        """``{param: [value in each run]}`` for the params that differ."""
        return {d["key"]: d["values"] for d in self.params if not d["equal"]}

    def __repr__(self) -> str:
        from nbtrack.text import diff_text

        return diff_text(self.record)

    def show(self) -> None:
        """Display the diff in the notebook: params, metric deltas, code per cell."""
        from nbtrack.widgets import show_diff

        show_diff(self)


def diff(*refs: int | str | Run, workspace: str | os.PathLike[str] | None = None) -> RunDiff:
    """Compare two or more runs: params, summary metrics, cells (code), variables, env."""
    if len(refs) < 2:
        raise ValueError("diff() needs at least two runs, e.g. nbtrack.diff('baseline', 'wide')")
    with _Reader(workspace) as db:
        numbers = [
            r.number if isinstance(r, Run) else queries.resolve_run(db, r) for r in refs
        ]
        record = _diff.diff_runs(db, numbers)
    return RunDiff(record)
