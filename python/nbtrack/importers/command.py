"""``nbtrack import PATH...``: bring runs recorded by MLflow, W&B or TensorBoard into the
workspace. Added to the ``nbtrack`` group by :mod:`nbtrack.cli`.

Exit codes: 0 when at least one run was read (imported, updated or already there), 1 when
none could be (every file unreadable, or no runs found), 2 for a usage error (a PATH that does
not exist or holds none of the formats, a reader's package not installed).
"""

from __future__ import annotations

from typing import Any

import click

from nbtrack.cli_support import db_path, echo_json, fail, workspace_option
from nbtrack.store.access import StoreUnavailableError

_VERB = {"imported": "imported", "updated": "updated", "unchanged": "unchanged",
         "deleted": "deleted here, left out"}
_DRY_VERB = {"imported": "would import", "updated": "would update",
             "unchanged": "unchanged", "deleted": "deleted here, left out"}


@click.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--dry-run", is_flag=True, help="Read everything and say what would be imported;"
              " write nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: {\"runs\": [...], \"problems\": [...], \"counts\": {...}}.")
@workspace_option
def import_(paths: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Import runs from MLflow, W&B or TensorBoard: names, params, tags, every metric point
    (steps and times kept), status and start/end times.

    PATH is an MLflow file store (mlruns/), an MLflow SQLite database (mlflow.db or
    sqlite:///mlflow.db), W&B run folders (wandb/, wandb/offline-run-*, a .wandb file) or
    TensorBoard logs (a folder of event files, one run per folder, or one event file).
    Readers need the matching extra: pip install 'nbtrack[mlflow]' (or wandb, tensorboard).

    Importing the same runs again changes nothing; a run that changed since (it was still
    running) is brought up to date. A file that cannot be read is reported and skipped, the
    rest imported. Exits 1 when no run could be read.

    Example:

    \b
        nbtrack import mlruns/ wandb/ runs/
        nbtrack import sqlite:///mlflow.db --dry-run
    """
    from nbtrack.importers.detect import PathError, detect
    from nbtrack.importers.source import Problem
    from nbtrack.importers.write import ImportedRun, ImportProblem, import_items

    try:
        sources = [detect(p) for p in paths]
    except PathError as exc:
        raise click.UsageError(str(exc)) from None
    verbs = _DRY_VERB if dry_run else _VERB
    runs: list[ImportedRun] = []
    problems: list[ImportProblem] = []
    db = db_path()
    for source in sources:
        try:
            items = source.read()
            for outcome in import_items(db, items, dry_run=dry_run):
                if isinstance(outcome, Problem):
                    problems.append(ImportProblem(path=outcome.path, message=outcome.message))
                    click.echo(f"error: {outcome.path}: {outcome.message}", err=True)
                    continue
                record = outcome.record()
                runs.append(record)
                if not as_json:
                    click.echo(_line(record, verbs))
        except ImportError as exc:
            raise click.UsageError(str(exc)) from None
        except StoreUnavailableError as exc:
            fail(f"error: {exc}")
        except Exception as exc:  # noqa: BLE001 - a source that cannot be opened at all
            message = f"cannot read this {source.package} source: {type(exc).__name__}: {exc}"
            problems.append(ImportProblem(path=str(source.path), message=message))
            click.echo(f"error: {source.path}: {message}", err=True)
    counts = {action: sum(1 for r in runs if r["action"] == action) for action in _VERB}
    counts["problems"] = len(problems)
    if as_json:
        echo_json({"dry_run": dry_run, "runs": runs, "problems": problems, "counts": counts})
    else:
        click.echo(_totals(counts, dry_run, sum(r["points"] for r in runs)))
    if not runs:
        if not problems:
            click.echo("error: no runs found", err=True)
        raise SystemExit(1)


def _line(record: Any, verbs: dict[str, str]) -> str:
    number = f"#{record['number']}" if record["number"] is not None else "new"
    extra = f", {record['skipped']} non-scalar values skipped" if record["skipped"] else ""
    return (f"{verbs[record['action']]:<22} {number:<6} {record['name']}  ({record['source']}"
            f" {record['source_id']}, {record['points']} points{extra})")


def _totals(counts: dict[str, int], dry_run: bool, points: int) -> str:
    parts = [f"{counts['imported']} {'to import' if dry_run else 'imported'}",
             f"{counts['updated']} {'to update' if dry_run else 'updated'}",
             f"{counts['unchanged']} unchanged"]
    if counts["deleted"]:
        parts.append(f"{counts['deleted']} deleted here")
    if counts["problems"]:
        parts.append(f"{counts['problems']} unreadable")
    return f"{', '.join(parts)}; {points} points {'to write' if dry_run else 'written'}"
