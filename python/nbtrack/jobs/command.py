"""``nbtrack run``: execute a notebook with parameters as a tracked run, or a batch of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from nbtrack import text
from nbtrack.cli_support import echo_json, errors, workspace, workspace_option
from nbtrack.jobs.runner import JobResult

#: Exit code of a batch stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


@click.command("run")
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter (repeatable); the value is a Python literal where it parses as "
                   "one (0.1, True, [32, 64], 'a b'), else text.")
@click.option("--grid", multiple=True, metavar="NAME=V1,V2,...",
              help="Run every combination of the values of each --grid (repeatable).")
@click.option("--from", "rows_file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="One run per row of a .csv (header = names) or .jsonl file.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs at a time (each in its own process and kernel).")
@click.option("--name", help="The run's name (a batch: <name>-1, <name>-2...; default: the "
                             "notebook's stem).")
@click.option("-t", "--tag", "tags", multiple=True, help="A tag for the runs (repeatable).")
@click.option("--group", help="The batch's group (default: <notebook stem>-<date>-<time>).")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the executed notebook here (a batch: a folder, one <run name>.ipynb "
                   "per run). It is always kept with the run as an artifact.")
@click.option("--kernel", help="The kernel (default: the notebook's, else python3).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Seconds a cell may run before the run fails.")
@click.option("--cwd", type=click.Path(file_okay=False, path_type=Path),
              help="The kernel's working folder (default: the notebook's folder).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"group", "runs": [...]} as JSON (no progress output).')
@workspace_option
@errors
def run(notebook: Path, params: tuple[str, ...], grid: tuple[str, ...], rows_file: Path | None,
        jobs: int, name: str | None, tags: tuple[str, ...], group: str | None,
        output: Path | None, kernel: str | None, timeout: float | None, cwd: Path | None,
        as_json: bool) -> None:
    """Execute NOTEBOOK in a fresh kernel with parameters, as one tracked run.

    The parameters are injected after the cell tagged `parameters` (at the top when there is
    none) and recorded as the run's params; every cell is recorded; the executed notebook is
    kept with the run (an artifact of type `notebook`). With --grid or --from, one run per
    parameter set, -j at a time, all in one group, then a table of the runs. Exit codes: 0
    every run finished, 1 a run failed, 2 bad input (no such notebook or kernel), 130 stopped
    by Ctrl-C (running runs are marked interrupted).

    Example:

    \b
        nbtrack run train.ipynb -p lr=0.1 -p epochs=3 -o train-out.ipynb
        nbtrack run train.ipynb --grid lr=0.1,0.01 --grid batch=32,64 -j 2
    """
    from nbtrack.jobs.api import plan
    from nbtrack.jobs.batch import BatchInterrupted, run_batch
    from nbtrack.jobs.params import combinations, parse_grid, parse_params, read_rows

    fixed = parse_params(params)
    grid_values = parse_grid(grid)
    rows = read_rows(rows_file) if rows_file is not None else None
    batch = bool(grid_values) or rows is not None
    job = plan(notebook, combinations(fixed, grid_values, rows), batch=batch, name=name,
               tags=tags, group=group, output=output, kernel=kernel, timeout=timeout, cwd=cwd,
               workspace=workspace(), progress=not as_json)
    for note in job.warnings:
        click.echo(f"warning: {note}", err=True)
    if batch and not as_json:
        click.echo(f"group {job.group}: {len(job.specs)} runs, {min(jobs, len(job.specs))} at a "
                   "time", err=True)

    def ended(result: JobResult) -> None:
        if batch and not as_json:
            click.echo(_ended_line(result), err=True)

    interrupted = False
    try:
        results = run_batch(job.specs, jobs, on_result=ended)
    except BatchInterrupted as exc:
        results, interrupted = exc.results, True
    _report(results, job.group, batch, as_json, Path(job.specs[0].workspace))
    if interrupted:
        raise SystemExit(EXIT_INTERRUPTED)
    if any(r.status != "finished" for r in results):
        raise SystemExit(1)


def _params_text(params: dict[str, object]) -> str:
    return ", ".join(f"{k}={text.fmt_value(v, 16)}" for k, v in params.items())


def _ended_line(result: JobResult) -> str:
    number = f"#{result.number} " if result.number is not None else ""
    line = (f"{number}{result.name} {result.status} ({_params_text(result.params)}) "
            f"{text.fmt_duration(result.duration)}")
    return f"{line}: {result.error}" if result.error and result.status != "finished" else line


def _report(results: list[JobResult], group: str | None, batch: bool, as_json: bool,
            ws: Path) -> None:
    from nbtrack.jobs.table import batch_table, counts_line, records_of

    records = records_of(results, ws)
    if as_json:
        runs = []
        for result in results:
            data = dataclasses.asdict(result)
            record = records.get(result.number) if result.number is not None else None
            if record is not None:
                data["status"] = record["status"]
                data["summary"] = record["summary"]
            runs.append(data)
        echo_json({"group": group, "runs": runs})
        return
    if batch:
        click.echo(batch_table(results, records))
        click.echo(counts_line(results, records))
        return
    result = results[0]
    record = records.get(result.number) if result.number is not None else None
    status = record["status"] if record is not None else result.status
    if result.number is None:
        click.echo(f"{result.name}: {status}: {result.error or 'the run did not start'}")
        return
    click.echo(f"run #{result.number} {result.name!r} {status} in "
               f"{text.fmt_duration(result.duration)}")
    if result.error and status != "finished":
        click.echo(result.error)
    summary = {k: v for k, v in (record["summary"] if record else {}).items()
               if not k.startswith("system/")}
    if summary:
        click.echo("metrics: " + ", ".join(f"{k}={text.fmt_value(v)}" for k, v in summary.items()))
    if result.artifact:
        kept = f"executed notebook: {result.artifact}"
        click.echo(kept + (f" (also written to {result.output})" if result.output else ""))


__all__ = ["EXIT_INTERRUPTED", "run"]
