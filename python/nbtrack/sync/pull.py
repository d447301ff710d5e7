"""Runs from a tracking server into the store, as read-only copies (``nbtrack pull``).

Each MLflow run is read and stored exactly as ``nbtrack import`` reads an MLflow store
(:func:`nbtrack.importers.mlflow_store._convert` and :mod:`nbtrack.importers.write`): the same
params, tags, notes, status, times and every metric point; pulling again updates a run that
changed there. The origin is recorded in ``run_sources`` (``source`` = ``mlflow-server``,
``path`` = the run's address on the server), where the sidebar can show and filter it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nbtrack.importers import mlflow_store
from nbtrack.importers.write import plan, store
from nbtrack.store import access
from nbtrack.sync.client import Server
from nbtrack.sync.progress import Progress
from nbtrack.sync.push import RUN_ID_TAG

#: Runs per search request.
_PAGE = 1000


def _remote_runs(server: Server, experiment_id: str, where: str | None) -> list[Any]:
    from mlflow.entities import ViewType

    out: list[Any] = []
    token = None
    while True:
        page = server.call("searching runs", server.client.search_runs, [experiment_id],
                           filter_string=where or "", run_view_type=ViewType.ACTIVE_ONLY,
                           max_results=_PAGE, page_token=token)
        out.extend(page)
        token = page.token
        if not token:
            return out


def pull_runs(server: Server, db: Path, experiment_id: str, experiment: str,
              where: str | None, dry_run: bool, report: Any, progress: Progress) -> None:
    """Store (or, with ``dry_run``, plan) every run of the experiment that ``where`` keeps."""
    from nbtrack.sync.api import PULLED

    runs = _remote_runs(server, experiment_id, where)
    with access.reading(db) as conn:
        pulled = {r[0] for r in conn.execute(
            "SELECT source_id FROM run_sources WHERE source = ?", (PULLED,))}
        local = {r[0] for r in conn.execute("SELECT id FROM runs")}
    progress.start(len(runs), "pull")
    for run in runs:
        run_id = run.info.run_id
        own = run.data.tags.get(RUN_ID_TAG)
        if own in local and run_id not in pulled:
            report.skipped.append({"source_id": run_id, "name": run.info.run_name,
                                   "reason": f"synced from this workspace (run {own})"})
            progress.run_done()
            continue
        address = f"{server.url}/#/experiments/{experiment_id}/runs/{run_id}"
        source = server.call(f"reading run {run_id}", mlflow_store._convert, server.client,
                             experiment, run, address)
        source = dataclasses.replace(
            source, source=PULLED,
            tags=[t for t in source.tags if not t.startswith("nbtrack.")])
        outcome = plan(db, source) if dry_run else store(db, source)
        report.runs.append({"action": outcome.action, "source_id": run_id,
                            "name": source.name, "number": outcome.number,
                            "points": outcome.points, "origin": address})
        progress.points(outcome.points)
        progress.run_done()
