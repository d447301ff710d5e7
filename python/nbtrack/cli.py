"""The ``nbtrack`` command line: find, compare, export and clean up runs from a shell.

A thin skin over the Python API and the store. Every command takes ``--workspace PATH`` (the
folder holding ``.nbtrack/``; default: ``$NBTRACK_DIR``, else the nearest ``.nbtrack/`` above
the working directory). Exit codes: 0 ok, 1 not found or nothing matched, 2 usage error.
"""

from __future__ import annotations

import csv
import functools
import os
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from nbtrack import __version__, wire
from nbtrack.cli_models import models
from nbtrack.cli_support import WORKSPACE_KEY, F, workspace_option
from nbtrack.cli_support import db_path as _db_path
from nbtrack.cli_support import echo_json as _echo_json
from nbtrack.cli_support import errors as _errors
from nbtrack.cli_support import fail as _fail
from nbtrack.cli_support import reading_store as _reading
from nbtrack.cli_support import workspace as _workspace
from nbtrack.filter import compile_filter, compile_selection, compile_sort
from nbtrack.importers.command import import_ as import_command
from nbtrack.jobs.command import run as run_command
from nbtrack.model import CellExecution, RunRecord
from nbtrack.models.command import export_model
from nbtrack.query.export import FORMATS, TABLES, csv_cell, export_tables, write_rows
from nbtrack.serving.command import serve
from nbtrack.store import queries
from nbtrack.store.access import Connection
from nbtrack.sweeps.command import sweep, sweeps
from nbtrack.sync.command import pull as pull_command
from nbtrack.sync.command import sync as sync_command

#: Runs read per query when streaming ``list --json/--csv`` and ``export``.
_PAGE = 500


def _split_refs(value: str | None) -> list[str]:
    return [r.strip() for r in (value or "").split(",") if r.strip()]


def _sort_args(sort: str | None) -> tuple[str, bool]:
    if not sort:
        return "number", True
    return (sort[1:], True) if sort.startswith("-") else (sort, False)


def _selected_numbers(db: Connection, where: str | None, refs: Sequence[str]) -> list[int]:
    """Runs named by ``refs`` (in that order) or, without refs, all matching ``where``."""
    if refs:
        numbers = [queries.resolve_run(db, ref) for ref in refs]
        if where:
            keep = set(queries.list_run_numbers(db, compile_selection(where))[0])
            numbers = [n for n in numbers if n in keep]
        return list(dict.fromkeys(numbers))
    numbers, _ = queries.list_run_numbers(db, compile_selection(where), descending=False)
    return numbers


# -- the group ------------------------------------------------------------------------------

@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, message="nbtrack %(version)s")
@workspace_option
def main() -> None:
    """nbtrack: find, compare, export and clean up the runs your notebooks recorded.

    Filters (--where) use the filter language, e.g.
    'params.lr < 0.01 and metrics.loss < 0.5', 'tags has "cnn" or name ~ "base*"',
    'created > -7d'. See the README's "Command line" section.

    Example:

    \b
        nbtrack list --where 'params.lr < 0.01' -n 20
    """


# -- list -----------------------------------------------------------------------------------

@main.command("list")
@click.option("--where", metavar="FILTER", help="Keep runs matching this filter expression.")
@click.option("--sort", metavar="FIELD",
              help="number, name, status, notebook, started, ended, duration, metrics.<key>"
                   "[.min|.max|.last] or params.<key>; a leading '-' sorts descending."
                   " Default: newest first.")
@click.option("-n", "--limit", type=click.IntRange(min=0), default=20, show_default=True,
              help="Show this many runs (0: all).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see the README).")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print CSV: run columns, then params.* and metrics.* columns.")
@workspace_option
@_errors
def list_(where: str | None, sort: str | None, limit: int, offset: int, as_json: bool,
          as_csv: bool) -> None:
    """List runs, newest first: number, name, status, start, duration, tags, metrics.

    Exits 1 when no run matches.

    Example:

    \b
        nbtrack list --where 'params.lr < 0.01 and metrics.loss < 0.5' --sort metrics.loss -n 20
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    order, desc = _sort_args(sort)
    selection, ordering = compile_selection(where), compile_sort(order)
    with _reading() as db:
        numbers, total = queries.list_run_numbers(
            db, selection, ordering, descending=desc, limit=limit or None, offset=offset
        )
        if as_json:
            _list_json(db, numbers, total, limit, offset)
        elif as_csv:
            _list_csv(db, numbers)
        elif numbers:
            from nbtrack.text import runs_table

            click.echo(runs_table(queries.run_records(db, numbers), total=total,
                                  first=_metrics_named(where, order)))
    if not numbers:
        _fail("no runs match" if (where or offset) else "no runs recorded in this workspace yet")


def _metrics_named(where: str | None, sort: str) -> list[str]:
    """The metric keys a filter and a sort name, to show them as columns first."""
    from nbtrack.filter import AGGREGATES, fields_of, parse

    keys = [f.key for f in fields_of(parse(where)) if f.kind == "metrics" and f.key] \
        if where and where.strip() else []
    if sort.startswith("metrics."):
        key = sort[len("metrics."):]
        base, _, aggregate = key.rpartition(".")
        keys.append(base if base and aggregate in AGGREGATES else key)
    return list(dict.fromkeys(keys))


def _pages(db: Connection, numbers: Sequence[int]) -> Iterator[RunRecord]:
    for start in range(0, len(numbers), _PAGE):
        yield from queries.run_records(db, numbers[start : start + _PAGE])


def _list_json(db: Connection, numbers: Sequence[int], total: int, limit: int, offset: int) -> None:
    """The ``GET runs`` page shape (RunsPage), written one run at a time."""
    out = sys.stdout
    out.write('{\n  "runs": [')
    for i, record in enumerate(_pages(db, numbers)):
        out.write(("," if i else "") + "\n    ")
        out.write(wire.dumps(record))
    out.write(("\n  " if numbers else "") + "],\n")
    out.write(f'  "total": {total},\n  "limit": {limit},\n  "offset": {offset}\n}}\n')
    out.flush()


_RUN_CSV = ("number", "id", "name", "status", "notebook", "started", "ended", "duration",
            "tags", "notes")


def _list_csv(db: Connection, numbers: Sequence[int]) -> None:
    runs = queries.json_numbers(numbers)
    params, metrics = (
        [key for (key,) in db.execute(
            f"SELECT DISTINCT key FROM {table} WHERE run {queries.IN_JSON} ORDER BY key", (runs,)
        )]
        for table in ("params", "summary")  # whitelisted table names
    )
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([*_RUN_CSV, *(f"params.{k}" for k in params),
                     *(f"metrics.{k}" for k in metrics)])
    for r in _pages(db, numbers):
        writer.writerow([
            *(csv_cell(r[c]) for c in _RUN_CSV),  # type: ignore[literal-required]
            *(csv_cell(r["params"].get(k)) for k in params),
            *(csv_cell(r["summary"].get(k)) for k in metrics),
        ])


# -- show -----------------------------------------------------------------------------------

@main.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run's detail as JSON (record, metrics, env, cells).")
@workspace_option
@_errors
def show(ref: str, as_json: bool) -> None:
    """Show one run: status, params, metric summaries, cells and environment.

    REF is a run number (3 or #3), id, or name (the newest run of that name).

    Example:

    \b
        nbtrack show baseline
    """
    from nbtrack.responses import run_detail

    detail = run_detail(_db_path(), ref)
    if as_json:
        _echo_json(detail)
        return
    from nbtrack.text import fmt_duration, fmt_time, fmt_value, table

    lines = [
        f"#{detail['number']} {detail['name']}  ({detail['status']})",
        table(["", ""], [
            ["id", detail["id"]],
            ["notebook", detail["notebook"] or "-"],
            ["started", fmt_time(detail["started"])],
            ["ended", fmt_time(detail["ended"])],
            ["duration", fmt_duration(detail["duration"])],
            ["tags", ", ".join(detail["tags"]) or "-"],
            ["notes", fmt_value(detail["notes"], 80) if detail["notes"] else "-"],
            *([["lost", f"{detail['lost']} items could not be stored"]]
              if detail["lost"] else []),
        ]).split("\n", 1)[1],
    ]
    lines.append("\nparams:")
    lines.append(table(["param", "value"], [[k, fmt_value(v, 60)]
                                            for k, v in detail["params"].items()])
                 if detail["params"] else "  (none)")
    lines.append("\nmetrics:")
    lines.append(table(
        ["metric", "value", "min", "max", "last step", "points"],
        [[m["key"], fmt_value(m["value"]), fmt_value(m["min"]), fmt_value(m["max"]),
          fmt_value(m["last_step"]), str(m["count"])] for m in detail["metrics"]],
    ) if detail["metrics"] else "  (none)")
    cells = detail["cells"]
    errors = sum(1 for c in cells if c["outcome"] == "error")
    lines.append(f"\ncells: {len(cells)} executions" + (f", {errors} failed" if errors else ""))
    if cells:
        lines.append(_cells_table(cells))
    env = detail["env"]
    if env:
        git = env.get("git") or {}
        described = [f"python {env.get('python_version', '?')}", f"host {env.get('host', '?')}"]
        if isinstance(git, dict) and git.get("commit"):
            described.append(f"git {str(git['commit'])[:10]}" + (" (dirty)" if git.get("dirty")
                                                                  else ""))
        lines.append("environment: " + ", ".join(described))
    click.echo("\n".join(lines))


_SHOWN_CELLS = 20


def _cells_table(cells: Sequence[CellExecution]) -> str:
    """The last cell executions: count, duration, CPU time, peak memory raised, outcome, code."""
    from nbtrack.text import fmt_bytes, fmt_duration, fmt_value, table

    shown = cells[-_SHOWN_CELLS:]
    rows = []
    for c in shown:
        first = next((line for line in c["source"].splitlines() if line.strip()), "")
        rows.append([
            f"[{c['execution_count'] if c['execution_count'] is not None else ' '}]",
            fmt_duration(c["duration"]), fmt_duration(c["cpu_time"]),
            fmt_bytes(c["peak_memory_delta"], sign=True), c["outcome"] or "-",
            fmt_value(first.strip(), 50),
        ])
    out = table(["cell", "duration", "cpu", "peak mem", "outcome", "code"], rows)
    if len(cells) > len(shown):
        out = f"  ({len(cells) - len(shown)} earlier executions not shown)\n" + out
    return out


# -- diff -----------------------------------------------------------------------------------

@main.command()
@click.argument("refs", nargs=-1, required=True, metavar="A B [C...]")
@click.option("--all", "show_all", is_flag=True, help="Include params that are equal.")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@workspace_option
@_errors
def diff(refs: tuple[str, ...], show_all: bool, as_json: bool) -> None:
    """Compare runs: differing params, metric deltas, changed cells, variables, environment.

    Example:

    \b
        nbtrack diff baseline higher-lr --all
    """
    if len(refs) < 2:
        raise click.UsageError("diff needs two runs or more, e.g. nbtrack diff 1 2")
    from nbtrack.responses import run_diff

    record = run_diff(_db_path(), list(refs), changed_only=not show_all)
    if as_json:
        _echo_json(record)
        return
    from nbtrack.text import diff_text

    click.echo(diff_text(record, show_all=show_all))


# -- leaderboard ----------------------------------------------------------------------------

@main.command()
@click.argument("metric")
@click.option("--max", "maximize", is_flag=True, help="Higher is better (default: lower).")
@click.option("--where", metavar="FILTER", help="Rank only runs matching this filter.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="Show this many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see the README).")
@workspace_option
@_errors
def leaderboard(metric: str, maximize: bool, where: str | None, limit: int,
                as_json: bool) -> None:
    """Rank runs by the best value of METRIC, with their params; '*' marks params that differ.

    Exits 1 when no run has logged METRIC.

    Example:

    \b
        nbtrack leaderboard val/acc --max --where 'tags has "sgd"' -n 5
    """
    from nbtrack.query.leaderboard import leaderboard as board

    selection = compile_selection(where)
    with _reading() as db:
        result = board(db, metric, "max" if maximize else "min", selection, limit)
    if as_json:
        _echo_json(result.to_dict())
    elif result.records:
        click.echo(repr(result))
    if not result.records:
        _fail(f"no runs have logged {metric!r}" + (" and match the filter" if where else ""))


# -- export ---------------------------------------------------------------------------------

@main.command()
@click.argument("tables", nargs=-1, type=click.Choice(list(TABLES)))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="CSV with a header row, or JSON Lines (one object per line).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write <table>.<format> files into this folder (default: one table to"
                   " stdout).")
@click.option("--where", metavar="FILTER", help="Export only runs matching this filter.")
@click.option("--runs", "refs", metavar="REF,...", help="Export only these runs.")
@workspace_option
@_errors
def export(tables: tuple[str, ...], fmt: str, out: Path | None, where: str | None,
           refs: str | None) -> None:
    """Export runs, params, metrics (every point), summary, cells and media as CSV or JSON Lines.

    TABLES are any of runs, params, metrics, summary, cells, media (default with --out: all).
    Rows are streamed: the store is never loaded into memory at once.

    Example:

    \b
        nbtrack export --out dump/ --format jsonl --where 'tags has "cnn"'
        nbtrack export metrics --runs baseline > baseline-points.csv
    """
    chosen = list(dict.fromkeys(tables)) or (list(TABLES) if out else [])
    if out is None and len(chosen) != 1:
        raise click.UsageError(
            "name one table to write to stdout (e.g. nbtrack export runs), or use --out DIR"
        )
    with _reading() as db:
        numbers = _selected_numbers(db, where, _split_refs(refs))
        if out is None:
            from nbtrack.query.export import rows

            write_rows(sys.stdout, fmt, TABLES[chosen[0]], rows(db, chosen[0], numbers))
            return
        written = export_tables(db, numbers, chosen, fmt, out)
    for _table, (path, count) in written.items():
        click.echo(f"{path}  {count} rows")


# -- rm and gc ------------------------------------------------------------------------------

@main.command()
@click.argument("refs", nargs=-1, metavar="REF...")
@click.option("--where", metavar="FILTER", help="Delete every run matching this filter.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@workspace_option
@_errors
def rm(refs: tuple[str, ...], where: str | None, yes: bool) -> None:
    """Delete runs: they disappear from every list at once; `nbtrack gc` frees the space.

    Asks before deleting unless --yes.

    Example:

    \b
        nbtrack rm 12 13 --yes
        nbtrack rm --where 'status = "crashed" and created < -30d'
    """
    if not refs and not where:
        raise click.UsageError("name the runs to delete (nbtrack rm 3 baseline) or use --where")
    from nbtrack.query.maintenance import soft_delete
    from nbtrack.store import access

    with _reading() as db:
        numbers = _selected_numbers(db, where, list(refs)) if refs else \
            queries.list_run_numbers(db, compile_selection(where))[0]
        shown = queries.run_records(db, numbers[:20])
    if not numbers:
        _fail("no runs match")
    from nbtrack.text import runs_table

    click.echo(runs_table(shown, total=len(numbers)))
    if not yes:
        click.confirm(f"Delete {len(numbers)} run{'s' * (len(numbers) != 1)}?", abort=True,
                      err=True)
    with access.writing(_db_path()) as db:
        count = soft_delete(db, numbers)
    click.echo(f"deleted {count} run{'s' * (count != 1)} (nbtrack gc frees their space)")


@main.command()
@click.option("--keep-last", type=click.IntRange(min=1), default=None, metavar="N",
              help="Also delete all but the N newest versions of each artifact (versions with"
                   " an alias, used by a run that is not deleted, or registered as a model"
                   " version, are kept).")
@workspace_option
@_errors
def gc(keep_last: int | None) -> None:
    """Drop deleted runs' rows from every table, the artifact versions only deleted runs
    held, and the blobs (images, tables, artifact files... in .nbtrack/blobs/) nothing
    references any more, then VACUUM to free their space.

    An artifact version stays while a run that is not deleted made or used it, an alias
    (other than latest) names it, or a registered model version points at it. Safe while
    another process logs: a blob written or reused in the last hour is kept. No other file
    under .nbtrack/ is touched.

    Example:

    \b
        nbtrack gc
        nbtrack gc --keep-last 3
    """
    from nbtrack.query.maintenance import collect_garbage
    from nbtrack.store import access

    path = _db_path()
    if not path.exists():
        _fail(f"no nbtrack store at {path}")
    before = path.stat().st_size
    db = access.open_writable(path)  # VACUUM runs outside any transaction
    try:
        dropped = collect_garbage(db, path.parent, keep_last=keep_last)
    finally:
        db.close()
    runs = dropped.pop("runs")
    files = dropped.pop("blobs")
    versions = dropped.pop("artifact_versions")
    rows = sum(dropped.values())
    after = path.stat().st_size
    arts = f", {versions} artifact version{'s' * (versions != 1)}" if versions else ""
    click.echo(f"dropped {runs} deleted run{'s' * (runs != 1)}, {rows} rows of theirs{arts} and"
               f" {files} unreferenced blob{'s' * (files != 1)}; the store went from"
               f" {before / 1e6:.1f} MB to {after / 1e6:.1f} MB")


# -- artifacts ------------------------------------------------------------------------------

@main.group()
@workspace_option
def artifacts() -> None:
    """List, inspect, fetch and delete artifacts (versioned files logged with
    run.log_artifact): `list`, `show NAME[:VERSION|:ALIAS]`, `get NAME:ALIAS -o DIR`,
    `rm NAME:VERSION`.

    Example:

    \b
        nbtrack artifacts list --type model
        nbtrack artifacts show mnist:latest
        nbtrack artifacts get mnist:production -o data/
        nbtrack artifacts rm mnist:v2 --yes
    """


def _artifact_errors(f: F) -> F:
    """An unknown artifact or version -> exit 1; a bad reference -> exit 2."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nbtrack.artifacts import ArtifactIntegrityError, ArtifactNotFound

        try:
            return f(*args, **kwargs)
        except (ArtifactNotFound, ArtifactIntegrityError) as exc:
            _fail(f"error: {exc.args[0] if exc.args else exc}")

    return _errors(wrapper)  # type: ignore[return-value]


@artifacts.command("list")
@click.option("--type", "type_", metavar="T", help="Only artifacts of this type.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per version.")
@workspace_option
@_artifact_errors
def artifacts_list(type_: str | None, as_json: bool) -> None:
    """Every version of every artifact: name, version, type, files, size, aliases, run.

    Example:

    \b
        nbtrack artifacts list --type dataset
    """
    from nbtrack.store import artifacts as store

    with _reading() as db:
        rows = [(v, store.aliases(db, v.id)) for v in store.versions(db, type_)]
    if as_json:
        _echo_json([{"name": v.name, "version": f"v{v.number}", "type": v.type,
                     "files": v.file_count, "size": v.size, "aliases": al,
                     "created": v.created, "run": v.run, "digest": v.digest}
                    for v, al in rows])
        return
    if not rows:
        click.echo("no artifacts")
        return
    table = [("name", "version", "type", "files", "size", "aliases", "run")] + [
        (v.name, f"v{v.number}", v.type, str(v.file_count), _human(v.size), ", ".join(al),
         "" if v.run is None else str(v.run)) for v, al in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@artifacts.command("show")
@click.argument("ref", metavar="NAME[:VERSION|:ALIAS]")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: the version, its files, metadata, aliases and lineage edges.")
@workspace_option
@_artifact_errors
def artifacts_show(ref: str, as_json: bool) -> None:
    """One artifact version: its files, metadata, aliases and the runs that made or used it.

    Example:

    \b
        nbtrack artifacts show mnist:v1 --json
    """
    from nbtrack.artifacts.artifact import ArtifactVersion
    from nbtrack.artifacts.names import parse_ref
    from nbtrack.store import artifacts as store

    name, selector = parse_ref(ref)
    with _reading() as db:
        row = store.resolve(db, name, selector)
        version = ArtifactVersion.load(_db_path(), db, row)
        edges = store.edges_of_version(db, row.id)
    data = {"name": version.name, "version": version.version, "type": version.type,
            "description": version.description, "digest": version.digest,
            "size": version.size, "created": version.created, "run": version.run,
            "aliases": version.aliases, "metadata": version.metadata,
            "files": version.files(),
            "edges": [{"run": e.run, "run_id": e.run_id, "direction": e.direction,
                       "cell": e.cell, "time": e.time} for e in edges]}
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{version.ref}  ({version.type}, {len(version.files())} files,"
               f" {_human(version.size)})")
    if version.description:
        click.echo(version.description)
    click.echo(f"aliases: {', '.join(version.aliases) or '-'}")
    click.echo(f"metadata: {wire.dumps(version.metadata)}")
    click.echo("files:")
    for f in version.files():
        click.echo(f"  {f['path']}  {_human(f['size'])}  sha256:{f['sha256'][:12]}")
    click.echo("lineage:")
    for e in edges:
        verb = "made by" if e.direction == "out" else "used by"
        cell = f" (cell {e.cell})" if e.cell is not None else ""
        click.echo(f"  {verb} run {e.run} {e.run_id or ''}{cell}")


@artifacts.command("get")
@click.argument("ref", metavar="NAME[:VERSION|:ALIAS]")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the files to (created if needed).")
@workspace_option
@_artifact_errors
def artifacts_get(ref: str, out: Path) -> None:
    """Write an artifact version's files to a folder, each checked against its SHA-256.

    Example:

    \b
        nbtrack artifacts get mnist:production -o data/mnist
    """
    from nbtrack.artifacts.artifact import get_artifact

    version = get_artifact(_db_path(), ref)
    folder = version.download(out)
    click.echo(f"wrote {len(version.files())} files of {version.ref} to {folder}")


@artifacts.command("rm")
@click.argument("ref", metavar="NAME:VERSION")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@workspace_option
@_artifact_errors
def artifacts_rm(ref: str, yes: bool) -> None:
    """Delete an artifact version (its rows, aliases and lineage); `nbtrack gc` frees the
    space of files no other version shares.

    Example:

    \b
        nbtrack artifacts rm mnist:v0 --yes
    """
    from nbtrack.artifacts.names import parse_ref
    from nbtrack.store import access
    from nbtrack.store import artifacts as store

    name, selector = parse_ref(ref)
    if ":" not in ref:
        raise click.UsageError("name the version to delete: NAME:VERSION (e.g. mnist:v0)")
    with _reading() as db:
        row = store.resolve(db, name, selector)
    if not yes:
        click.confirm(f"Delete {name}:v{row.number} ({row.file_count} files)?", abort=True,
                      err=True)
    with access.writing(_db_path(), create=False) as db:
        store.delete_versions(db, [row.id])
    click.echo(f"deleted {name}:v{row.number} (nbtrack gc frees its space)")


# -- sql ------------------------------------------------------------------------------------

@main.command("sql")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one object per row.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@workspace_option
@_errors
def sql_(query: str, as_json: bool, as_csv: bool) -> None:
    """Run one read-only SQL statement over the store (tables: see docs/schema.md).

    Exits 1 when the statement fails (writing is refused: the store is opened read-only).

    Example:

    \b
        nbtrack sql "select status, count(*) as runs from runs group by status"
    """
    from nbtrack.query.sql import iter_query, readonly_connection

    try:
        with readonly_connection(_db_path()) as conn:
            columns, rows = iter_query(conn, query)
            if as_json or as_csv:
                write_rows(sys.stdout, "jsonl" if as_json else "csv", columns, rows)
                return
            from nbtrack.text import fmt_value, table

            click.echo(table(columns, [[fmt_value(v, 40) for v in row] for row in rows]))
    except sqlite3.Error as exc:
        _fail(f"error: {exc}")


# -- report ---------------------------------------------------------------------------------

@main.command()
@click.argument("notebook", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (default: next to the notebook; with --group: "
                   "<group>.report.html in the workspace).")
@click.option("--runs", "refs", metavar="REF,...",
              help="The runs to include (default: the notebook's runs).")
@click.option("--group", metavar="G",
              help="A batch report comparing the runs of group G (nbtrack run --grid/--from).")
@workspace_option
@_errors
def report(notebook: Path | None, out: Path | None, refs: str | None,
           group: str | None) -> None:
    """Write a self-contained HTML report of NOTEBOOK and its runs (opens offline).

    With --group G: a batch report comparing the runs of group G (params that differ, final
    metrics, overlaid curves), over their source notebook (or NOTEBOOK).

    Example:

    \b
        nbtrack report notebooks/quickstart.ipynb -o quickstart-report.html
        nbtrack report --group train-20261129-101500
    """
    if group is not None:
        from nbtrack.jobs.report import export_group_report

        click.echo(str(export_group_report(group, out, notebook, workspace=_workspace())))
        return
    if notebook is None:
        raise click.UsageError("give a NOTEBOOK, or --group G for a batch report")
    from nbtrack.report import export_report

    path = export_report(notebook, out, runs=_split_refs(refs) or None, workspace=_workspace())
    click.echo(str(path))


# -- demo -----------------------------------------------------------------------------------

@main.command()
@click.option("--notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The notebook to run (default: notebooks/quickstart.ipynb).")
@click.option("--timeout", type=int, default=600, show_default=True,
              help="Seconds one cell may take.")
@workspace_option
@_errors
def demo(notebook: Path | None, timeout: int) -> None:
    """Run the quickstart notebook through a real Jupyter kernel, then list its runs.

    The notebook is copied into the workspace (default: a new folder under the system temp
    folder, kept so you can explore it afterwards) and executed there.

    Example:

    \b
        nbtrack demo --workspace /tmp/nbtrack-demo
    """
    import shutil
    import tempfile

    source = notebook or _quickstart()
    ctx = click.get_current_context()
    if WORKSPACE_KEY in ctx.meta:
        workspace = Path(ctx.meta[WORKSPACE_KEY])
        workspace.mkdir(parents=True, exist_ok=True)
    else:
        workspace = Path(tempfile.mkdtemp(prefix="nbtrack-demo-"))
        ctx.meta[WORKSPACE_KEY] = workspace
    target = workspace / source.name
    if target.resolve() != source.resolve():
        shutil.copy(source, target)
    with _reading() as db:
        before = db.execute("SELECT COALESCE(MAX(number), 0) FROM runs").fetchone()[0]
    click.echo(f"running {source.name} in {workspace} ...", err=True)
    started = time.perf_counter()
    _execute_notebook(target, workspace, timeout)
    click.echo(f"done in {time.perf_counter() - started:.1f}s", err=True)
    with _reading() as db:
        numbers, _ = queries.list_run_numbers(db, compile_filter(f"number > {int(before)}"))
        records = queries.run_records(db, numbers)
    if not records:
        _fail("the notebook recorded no runs")
    from nbtrack.text import runs_table

    click.echo(runs_table(records))
    click.echo(f"\nexplore them:  nbtrack list --workspace {workspace}")


def _quickstart() -> Path:
    """notebooks/quickstart.ipynb of this checkout (or of the working directory)."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        candidate = base / "notebooks" / "quickstart.ipynb"
        if candidate.is_file():
            return candidate
    raise click.UsageError("no notebooks/quickstart.ipynb here; pass --notebook PATH")


def _execute_notebook(path: Path, workspace: Path, timeout: int) -> None:
    """Execute ``path`` in place in a new kernel whose runs are attributed to it."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]  # nbformat is untyped
    env = {**os.environ, "NBTRACK_DIR": str(workspace), "NBTRACK_NOTEBOOK": str(path)}
    package_root = Path(__file__).resolve().parents[1]
    if package_root.name not in ("site-packages", "dist-packages"):
        # A source checkout: let the kernel import this same nbtrack.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(package_root), env.get("PYTHONPATH", "")) if p
        )
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workspace)}})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        _fail(f"the notebook failed:\n{exc}")
    finally:
        nbformat.write(nb, path)  # type: ignore[no-untyped-call]  # nbformat is untyped


# -- subcommands in their own modules ---------------------------------------------------------

main.add_command(models)
main.add_command(export_model)
main.add_command(import_command)
main.add_command(serve)
main.add_command(sync_command)
main.add_command(pull_command)
# The model commands also under `nbtrack models` (as `models serve` / `models export`).
models.add_command(serve)
models.add_command(export_model, name="export")
main.add_command(sweeps)
main.add_command(sweep)
main.add_command(run_command)
