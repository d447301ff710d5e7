"""``nbtrack.sync(url)`` and ``nbtrack.pull(url)``: the Python side of ``nbtrack sync`` and
``nbtrack pull`` (the commands call these too)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.store import access, queries
from nbtrack.sync.client import Server, SyncError, quick_failures
from nbtrack.sync.limits import Change
from nbtrack.sync.progress import Progress, choose
from nbtrack.sync.push import Outcome, Pusher

#: ``run_sources.source`` of a run pulled from a tracking server (``path`` is its URL there).
PULLED = "mlflow-server"


@dataclass
class SyncReport:
    """What a sync did: one :class:`~nbtrack.sync.push.Outcome` per run, the names and values
    that had to change (:class:`~nbtrack.sync.limits.Change`), the requests made, and the
    error that stopped it (None: it finished)."""

    server: str
    experiment: str
    dry_run: bool
    runs: list[Outcome] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    requests: int = 0
    error: str | None = None
    seconds: float = 0.0

    @property
    def points(self) -> int:
        return sum(o.points for o in self.runs)

    def record(self) -> dict[str, Any]:
        """The JSON shape of ``nbtrack sync --json``."""
        return {
            "server": self.server, "experiment": self.experiment, "dry_run": self.dry_run,
            "runs": [o.record() for o in self.runs],
            "changes": [c.__dict__ for c in self.changes], "requests": self.requests,
            "points": self.points, "error": self.error, "seconds": self.seconds,
        }


def default_experiment(workspace: Path | None = None) -> str:
    """The experiment a workspace syncs to unless told: the workspace folder's name."""
    return (workspace or config.workspace_dir()).name or "nbtrack"


def select_runs(db: Path, where: str | None = None,
                refs: Sequence[str] | None = None) -> list[int]:
    """The runs to sync: ``refs`` (numbers, ids or names) and/or those ``where`` keeps
    (default: every run), oldest first, leaving out runs pulled from a server."""
    from nbtrack.filter import compile_selection

    with access.reading(db) as conn:
        numbers, _ = queries.list_run_numbers(
            conn, compile_selection(where) if where else None, descending=False)
        if refs:
            chosen = [queries.resolve_run(conn, r) for r in refs]
            keep = set(numbers)
            numbers = [n for n in dict.fromkeys(chosen) if n in keep]
        pulled = {r[0] for r in conn.execute(
            "SELECT run FROM run_sources WHERE source = ?", (PULLED,))}
    return [n for n in numbers if n not in pulled]


def experiment_id(server: Server, name: str, *, create: bool = True) -> str | None:
    """The id of experiment ``name`` on the server, made when missing (``create``)."""
    exp = server.call(f"looking up experiment {name!r}",
                      server.client.get_experiment_by_name, name)
    if exp is None:
        if not create:
            return None
        return str(server.call(f"creating experiment {name!r}",
                               server.client.create_experiment, name))
    if exp.lifecycle_stage != "active":
        raise SyncError(f"experiment {name!r} is deleted on {server.url}: restore it there"
                        " or choose another with --experiment")
    return str(exp.experiment_id)


def sync(
    url: str,
    *,
    experiment: str | None = None,
    where: str | None = None,
    runs: Sequence[str | int] | None = None,
    dry_run: bool = False,
    workspace: str | os.PathLike[str] | None = None,
    progress: bool | Progress = True,
) -> SyncReport:
    """Send this workspace's runs to the MLflow tracking server at ``url``.

    Parameters
    ----------
    url : ``http(s)://host:port`` of the server; credentials come from MLflow's environment
        variables (``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_TRACKING_USERNAME``/``PASSWORD``).
    experiment : the MLflow experiment (default: the workspace folder's name).
    where : a filter (the filter language of ``nbtrack runs --where``).
    runs : run numbers, ids or names (default: every run).
    dry_run : say what would be sent; send nothing (the server is only asked whether the
        experiment exists).
    progress : a bar on a terminal / a widget in a notebook (False: none).

    Returns the :class:`SyncReport`; raises :class:`~nbtrack.sync.client.SyncError` (with the
    report so far as ``.report``) when the server is unreachable, refuses the credentials or
    rejects a request. Syncing again sends only what is new.
    """
    ws = Path(workspace).expanduser().resolve() if workspace else config.workspace_dir()
    db = config.db_path(ws)
    name = experiment or default_experiment(ws)
    numbers = select_runs(db, where, [str(r) for r in runs] if runs else None)
    shown = progress if not isinstance(progress, bool) else choose(progress)
    began = time.monotonic()
    with quick_failures():
        server = Server(url)
        report = SyncReport(server.url, name, dry_run)
        pusher = Pusher(server, db, None, shown, dry_run, report.changes)
        shown.start(len(numbers), "sync")
        try:
            pusher.experiment_id = experiment_id(server, name, create=not dry_run)
            for number in numbers:
                report.runs.append(pusher.push(number))
                shown.run_done()
        except SyncError as exc:
            report.error = str(exc)
            exc.report = report  # type: ignore[attr-defined]
            raise
        finally:
            shown.close()
            report.requests = server.requests
            report.seconds = time.monotonic() - began
    return report


@dataclass
class PullReport:
    """What a pull did: per run ``{action, source_id, name, number, points}``."""

    server: str
    experiment: str
    dry_run: bool
    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def pull(
    url: str,
    *,
    experiment: str | None = None,
    where: str | None = None,
    dry_run: bool = False,
    workspace: str | os.PathLike[str] | None = None,
    progress: bool | Progress = True,
) -> PullReport:
    """Bring the runs of an experiment on the server at ``url`` into this workspace.

    Pulled runs are read-only copies: ``run_sources`` holds their origin (``source`` is
    ``mlflow-server``, ``path`` the run's address on the server), ``nbtrack sync`` never sends
    them back, and pulling again updates them. Runs that this workspace synced there itself
    (their ``nbtrack.run_id`` tag names a run here) are skipped.

    Parameters
    ----------
    experiment : the experiment (default: the workspace folder's name).
    where : an MLflow search filter (``metrics.acc > 0.9 and params.lr = '0.01'``), applied by
        the server.
    """
    from nbtrack.sync.pull import pull_runs

    ws = Path(workspace).expanduser().resolve() if workspace else config.workspace_dir()
    name = experiment or default_experiment(ws)
    shown = progress if not isinstance(progress, bool) else choose(progress)
    with quick_failures():
        server = Server(url)
        report = PullReport(server.url, name, dry_run)
        exp = experiment_id(server, name, create=False)
        if exp is None:
            raise SyncError(f"no experiment {name!r} on {server.url}")
        try:
            pull_runs(server, config.db_path(ws), exp, name, where, dry_run, report, shown)
        finally:
            shown.close()
    return report
