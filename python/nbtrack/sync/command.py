"""``nbtrack sync URL`` and ``nbtrack pull URL``. Added to the ``nbtrack`` group by
:mod:`nbtrack.cli`.

Exit codes: 0 done, 1 the server could not be reached, refused the credentials or rejected a
request (nothing it did not accept is marked synced), 2 a usage error (a bad URL or filter).
"""

from __future__ import annotations

import time
from typing import Any

import click

from nbtrack.cli_support import echo_json, errors, fail, workspace, workspace_option

_VERB = {"created": "created", "updated": "updated", "unchanged": "unchanged",
         "would create": "would create", "would update": "would update"}


def _runs_option(value: str | None) -> list[str] | None:
    return [r.strip() for r in value.split(",") if r.strip()] if value else None


@click.command("sync")
@click.argument("url")
@click.option("--experiment", "experiment", default=None, metavar="NAME",
              help="MLflow experiment to sync to (default: the workspace folder's name).")
@click.option("--where", default=None, metavar="FILTER",
              help="Only the runs this filter keeps (as nbtrack runs --where).")
@click.option("--runs", "refs", default=None, metavar="REF,...",
              help="Only these runs (numbers, ids or names, comma-separated).")
@click.option("--watch", type=float, default=None, is_flag=False, flag_value=10.0,
              metavar="[SECONDS]",
              help="Keep syncing live runs every SECONDS (default 10) until Ctrl-C.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@workspace_option
@errors
def sync(url: str, experiment: str | None, where: str | None, refs: str | None,
         watch: float | None, dry_run: bool, as_json: bool) -> None:
    """Sync runs to an MLflow tracking server: names, status, start/end, tags, notes, params,
    every metric point (steps and times kept, system metrics too), the cells in execution
    order, the environment and a notebook of the executed cells, media, artifacts and
    registered models (with versions and aliases, through the server's artifact proxy).

    Credentials are MLflow's: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or
    MLFLOW_TRACKING_TOKEN. Syncing again sends only what is new; a sync that was stopped
    resumes where it stopped. Names MLflow refuses and param values over its 6,000
    characters are changed and reported, as are params changed here after they were synced.
    Exits 1 when the server cannot be reached, refuses the credentials or rejects a request.

    Example:

    \b
        nbtrack sync http://mlflow.internal:5000
        nbtrack sync http://localhost:5000 --experiment churn --where "status = finished"
        nbtrack sync http://localhost:5000 --watch 30
    """
    from nbtrack.sync.api import sync as run_sync
    from nbtrack.sync.client import SyncError

    ws = workspace()
    while True:
        try:
            report = run_sync(url, experiment=experiment, where=where,
                              runs=_runs_option(refs), dry_run=dry_run, workspace=ws,
                              progress=not as_json)
        except KeyboardInterrupt:
            click.echo("stopped; the next sync resumes where this one stopped", err=True)
            raise SystemExit(130) from None
        except SyncError as exc:
            partial = getattr(exc, "report", None)
            if partial is not None and (partial.runs or as_json):
                _print(partial, as_json)
            fail(f"error: {exc}")
        except ImportError as exc:
            raise click.UsageError(
                f"nbtrack sync needs mlflow: pip install 'nbtrack[mlflow]' ({exc})") from None
        _print(report, as_json)
        if watch is None or dry_run:
            return
        try:
            time.sleep(max(watch, 0.5))
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
            return


def _print(report: Any, as_json: bool) -> None:
    if as_json:
        echo_json(report.record())
        return
    for change in report.changes:
        click.echo(f"changed: {change.text()}", err=True)
    counts: dict[str, int] = {}
    for outcome in report.runs:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
        if outcome.action != "unchanged":
            click.echo(f"{_VERB[outcome.action]:<13} #{outcome.number:<5} {outcome.name}"
                       f"  ({outcome.points} points, {outcome.params} params,"
                       f" {outcome.files} files, {outcome.models} models)")
    parts = [f"{n} {action}" for action, n in sorted(counts.items())] or ["no runs"]
    verb = "would send" if report.dry_run else "sent"
    click.echo(f"{report.server} experiment {report.experiment!r}: {', '.join(parts)};"
               f" {report.points:,} points {verb}; {report.requests} requests")


@click.command("pull")
@click.argument("url")
@click.option("--experiment", "experiment", default=None, metavar="NAME",
              help="MLflow experiment to pull from (default: the workspace folder's name).")
@click.option("--where", default=None, metavar="FILTER",
              help="An MLflow search filter, applied by the server"
                   " (e.g. \"metrics.acc > 0.9 and params.lr = '0.01'\").")
@click.option("--dry-run", is_flag=True, help="Say what would be pulled; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@workspace_option
@errors
def pull(url: str, experiment: str | None, where: str | None, dry_run: bool,
         as_json: bool) -> None:
    """Pull runs from an MLflow tracking server into this workspace, as read-only copies
    marked with their origin, so runs, diff, leaderboard and report work on them too.
    Pulling again updates them. Runs synced from this workspace are left out.

    Example:

    \b
        nbtrack pull http://mlflow.internal:5000 --experiment churn
        nbtrack pull http://localhost:5000 --where "metrics.auc > 0.8"
    """
    from nbtrack.sync.api import pull as run_pull
    from nbtrack.sync.client import SyncError

    try:
        report = run_pull(url, experiment=experiment, where=where, dry_run=dry_run,
                          workspace=workspace(), progress=not as_json)
    except SyncError as exc:
        fail(f"error: {exc}")
    except ImportError as exc:
        raise click.UsageError(
            f"nbtrack pull needs mlflow: pip install 'nbtrack[mlflow]' ({exc})") from None
    if as_json:
        echo_json(report.record())
        return
    for run in report.runs:
        number = f"#{run['number']}" if run["number"] is not None else "new"
        click.echo(f"{run['action']:<10} {number:<6} {run['name']}  ({run['points']} points)"
                   f"  {run['origin']}")
    for skipped in report.skipped:
        click.echo(f"skipped    {skipped['name']}: {skipped['reason']}")
    click.echo(f"{len(report.runs)} runs {'to pull' if dry_run else 'pulled'},"
               f" {len(report.skipped)} skipped")
