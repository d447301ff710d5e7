"""``nbtrack sweeps list|show``, ``nbtrack sweep NOTEBOOK.ipynb`` and ``nbtrack sweep worker``:
sweeps from a shell.

Added to the ``nbtrack`` group by :mod:`nbtrack.cli`; the shared options come from
:mod:`nbtrack.cli_support`. Exit codes: 0 ok, 1 no such sweep, 2 usage error.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from nbtrack import text
from nbtrack.cli_support import F, workspace_option
from nbtrack.cli_support import echo_json as _echo_json
from nbtrack.cli_support import errors as _errors
from nbtrack.cli_support import fail as _fail
from nbtrack.cli_support import workspace as _workspace

_STORAGE_HELP = ("The study's storage: a database URL (postgresql://user@host/db) or a journal "
                 "file (default: .nbtrack/sweeps/NAME.journal, or what the sweep was made with).")


def _sweep_errors(f: F) -> F:
    """No such sweep -> exit 1; a bad name or argument -> exit 2."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nbtrack.sweeps.result import SweepNotFound

        try:
            return f(*args, **kwargs)
        except SweepNotFound as exc:
            _fail(f"error: {exc.args[0] if exc.args else exc}")

    return _errors(wrapper)  # type: ignore[return-value]


@click.group()
@workspace_option
def sweeps() -> None:
    """Hyperparameter sweeps (nbtrack.sweep, %%track sweep): `list`, `show NAME`.

    \b
    Example:
        nbtrack sweeps list
        nbtrack sweeps show lr-search --json
    """


@sweeps.command("list")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_sweep_errors
def list_(as_json: bool) -> None:
    """Every sweep of the workspace, newest first: trials by status, best value.

    \b
    Example:
        nbtrack sweeps list --json
    """
    from nbtrack.sweeps.result import list_sweeps

    summaries = []
    for found in list_sweeps(_workspace()):
        try:
            summaries.append(found.summary())
        except Exception as exc:  # noqa: BLE001 - one unreadable sweep must not hide the rest
            summaries.append({"name": found.name, "error": str(exc)})
    if as_json:
        _echo_json(summaries)
        return
    if not summaries:
        click.echo("no sweeps yet (nbtrack.sweep(...) or %%track sweep in a notebook)")
        return
    rows = [("name", "metric", "trials", "status", "best", "storage")]
    for s in summaries:
        if "error" in s:
            rows.append((s["name"], "?", "?", f"unreadable: {s['error']}", "", ""))
            continue
        best = s["best"]
        rows.append((
            s["name"], f"{s['metric']} ({s['goal']})",
            f"{s['trials']}/{s['n_trials'] if s['n_trials'] is not None else '?'}",
            ", ".join(f"{v} {k}" for k, v in sorted(s["counts"].items())) or "-",
            "-" if best is None else f"{text.fmt_value(best['value'])} (trial {best['trial']})",
            s["storage"],
        ))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


@sweeps.command("show")
@workspace_option
@click.argument("name")
@click.option("--storage", default=None, help=_STORAGE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the summary and every trial).")
@_sweep_errors
def show(name: str, storage: str | None, as_json: bool) -> None:
    """One sweep: its space, the best trial and config, every trial.

    \b
    Example:
        nbtrack sweeps show lr-search
    """
    from nbtrack.sweeps.result import get_sweep

    found = get_sweep(name, storage=storage, workspace=_workspace())
    if as_json:
        _echo_json({**found.summary(), "trial_rows": found.rows()})
        return
    click.echo(found.text())
    rows = found.rows()
    if not rows:
        return
    params = sorted({k for r in rows for k in r if k.startswith("params.")})
    table = [("trial", "status", "value", "run", *[p[len("params."):] for p in params])]
    for r in rows:
        table.append((str(r["trial"]), r["status"],
                      "" if r["value"] is None else text.fmt_value(r["value"]),
                      "" if r["run"] is None else f"#{r['run']}",
                      *[text.fmt_value(r.get(p)) if r.get(p) is not None else "" for p in params]))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    click.echo("")
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


class _SweepGroup(click.Group):
    """``nbtrack sweep``: a first argument ending in ``.ipynb`` is the notebook to sweep
    (``nbtrack sweep train.ipynb ...`` is ``nbtrack sweep notebook train.ipynb ...``)."""

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0].endswith(".ipynb"):
            return "notebook", self.commands["notebook"], args
        return super().resolve_command(ctx, args)


@click.group(cls=_SweepGroup, subcommand_metavar="NOTEBOOK.ipynb [OPTIONS] | worker NAME ...")
@workspace_option
def sweep() -> None:
    """Run a sweep over a notebook (NOTEBOOK.ipynb, see `nbtrack sweep notebook --help`), or
    take part in one: `worker NAME --storage URL` runs trials of an existing sweep.

    \b
    Example:
        nbtrack sweep train.ipynb --space 'lr=loguniform(1e-4,1e-1)' \\
            --space 'depth=intrange(2,8)' --trials 40 --jobs 4 --metric val/loss
        nbtrack sweep worker lr-search --storage postgresql://me@db/optuna \\
            --objective train:objective
    """


def _space(words: tuple[str, ...]) -> dict[str, Any]:
    """``--space NAME=DISTRIBUTION`` values, parsed as ``%%track sweep`` parses them."""
    from nbtrack.sweeps.magic import parse_distribution

    space: dict[str, Any] = {}
    for word in words:
        key, sep, source = word.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected NAME=DISTRIBUTION, not {word!r}",
                                     param_hint="--space")
        if key in space:
            raise click.BadParameter(f"{key} is given twice", param_hint="--space")
        try:
            space[key] = parse_distribution(key, source.strip())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--space") from None
    return space


@sweep.command("notebook")
@workspace_option
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--space", "space_words", multiple=True, required=True,
              metavar="NAME=DISTRIBUTION",
              help="A param to search (repeatable), written as in %%track sweep: "
                   "lr=loguniform(1e-4,1e-1), depth=intrange(2,8), drop=uniform(0,0.5), "
                   "batch=[32,64] (a choice) or a literal (a constant).")
@click.option("--trials", type=click.IntRange(min=1), default=None,
              help="The sweep's size (default: the grid's size with --method grid).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Trials at a time, each in its own worker process and kernel.")
@click.option("--metric", default="val/loss", show_default=True,
              help="The metric the notebook logs (nbtrack.log); its summary is the trial's value.")
@click.option("--goal", type=click.Choice(["min", "max"]), default="min", show_default=True)
@click.option("--name", default=None, help="The sweep's name (default sweep-N); running a "
                                           "named sweep again continues it.")
@click.option("--method", default="tpe", show_default=True,
              help="tpe (bayes), random, grid, cmaes, gp, qmc.")
@click.option("--storage", default=None, help=_STORAGE_HELP)
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A fixed parameter for every trial (repeatable), as in nbtrack run.")
@click.option("--kernel", help="The kernel (default: the notebook's, else python3).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Seconds a cell may run before the trial fails (as in nbtrack run).")
@click.option("--sweep-timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Start no trial after this many seconds.")
@click.option("--cwd", type=click.Path(file_okay=False, path_type=Path),
              help="The kernels' working folder (default: the notebook's folder).")
@click.option("--seed", type=int, default=None, help="Seed the sampler.")
@click.option("--max-failures", type=click.IntRange(min=1), default=5, show_default=True,
              help="Stop after this many failed trials in a row.")
@click.option("--resume", is_flag=True, help="Continue the sweep --name (an error if it does "
                                             "not exist).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the sweep's summary and trials as JSON (no progress lines).")
@_sweep_errors
def notebook(notebook: Path, space_words: tuple[str, ...], trials: int | None, jobs: int,
             metric: str, goal: str, name: str | None, method: str, storage: str | None,
             params: tuple[str, ...], kernel: str | None, timeout: float | None,
             sweep_timeout: float | None, cwd: Path | None, seed: int | None,
             max_failures: int, resume: bool, as_json: bool) -> None:
    """Search the params of NOTEBOOK: each trial executes it as a job (as `nbtrack run`
    does) with the trial's params injected after its `parameters` cell, as one run named
    <sweep>-trial-<n> tagged `sweep=<sweep>`, the executed notebook kept with it. The
    trial's value is the --metric's summary in that run; a notebook that fails is a failed
    trial. Pruning is not available for notebooks. Exit codes: 0 done, 1 stopped early (too
    many failures in a row, a worker stopped) or no finished trial, 2 bad input, 130
    interrupted.

    \b
    Example:
        nbtrack sweep train.ipynb --space 'lr=loguniform(1e-4,1e-1)' \\
            --space 'depth=intrange(2,8)' --trials 40 --jobs 4 --metric val/loss
    """
    from nbtrack.jobs.params import parse_params
    from nbtrack.sweeps.notebook import NotebookObjective
    from nbtrack.sweeps.sweep import sweep as run_sweep

    space = _space(space_words)
    objective = NotebookObjective(notebook, params=parse_params(params), kernel=kernel,
                                  timeout=timeout, cwd=cwd)
    try:
        result = run_sweep(objective, space, n_trials=trials, metric=metric, goal=goal,
                           method=method, pruner=None, name=name, timeout=sweep_timeout,
                           n_jobs=jobs, resume=resume, storage=storage, seed=seed,
                           max_failures=max_failures, progress=not as_json,
                           workspace=_workspace())
    except KeyboardInterrupt:
        click.echo("interrupted: the running trials are marked interrupted; run the same "
                   "command with --name to continue", err=True)
        raise SystemExit(130) from None
    if as_json:
        _echo_json({**result.summary(), "stop_reason": result.stop_reason,
                    "trial_rows": result.rows()})
    else:
        click.echo(result.text())
    if result.stop_reason or result.summary()["best"] is None:
        raise SystemExit(1)


@sweep.command("worker")
@workspace_option
@click.argument("name")
@click.option("--storage", default=None, help=_STORAGE_HELP)
@click.option("--objective", "objective", default=None, metavar="MODULE:FUNCTION",
              help="The objective to import, or a NOTEBOOK.ipynb (default: the one the sweep "
                   "was started with).")
@click.option("--trials", type=int, default=None,
              help="The sweep's size (default: what the sweep was started with).")
@click.option("--timeout", type=float, default=None, help="Start no trial after this many seconds.")
@click.option("--seed", type=int, default=None, help="Seed this worker's sampler.")
@click.option("--max-failures", type=int, default=5, show_default=True,
              help="Stop after this many failed trials in a row.")
@_sweep_errors
def worker(name: str, storage: str | None, objective: str | None, trials: int | None,
           timeout: float | None, seed: int | None, max_failures: int) -> None:
    """Join the sweep NAME and run its trials until it has its size; each trial's run is
    recorded in this workspace. The objective is imported from a module (MODULE:FUNCTION;
    the working directory is on the import path).

    \b
    Example:
        nbtrack sweep worker lr-search --storage postgresql://me@db/optuna \
            --objective train:objective
    """
    import os
    import sys

    from nbtrack.sweeps.result import get_sweep
    from nbtrack.sweeps.storage import open_storage, remembered
    from nbtrack.sweeps.sweep import import_objective, quiet_optuna, work

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `python -m`-like: modules next to the caller
    ws = _workspace()
    found = get_sweep(name, storage=storage, workspace=ws)
    plan = found.plan
    attrs = found.study.user_attrs.get("nbtrack", {})
    ref = objective or attrs.get("objective")
    if not ref:
        raise click.UsageError("this sweep's objective was defined in a notebook: name one with "
                               "--objective MODULE:FUNCTION")
    try:
        func = import_objective(ref)
    except (ImportError, AttributeError) as exc:
        raise click.UsageError(f"cannot import {ref}: {exc}") from None
    import optuna

    with quiet_optuna():
        store, _label = open_storage(name, storage or remembered(name, ws), ws)
        study = optuna.load_study(study_name=name, storage=store,
                                  sampler=plan.sampler(seed), pruner=plan.make_pruner())
    size = trials if trials is not None else attrs.get("n_trials")
    shown = repr(func) if ref.lstrip().startswith("{") else ref  # a notebook's JSON: its path
    click.echo(f"worker joined sweep {name} ({found.storage}); objective {shown}", err=True)
    reason = work(study, plan, func, sweep=name, n_trials=size, timeout=timeout,
                  max_failures=max_failures, workspace=ws,
                  on_trial=lambda o: click.echo(
                      f"trial {o.number} {o.status}"
                      + ("" if o.value is None else f" {plan.metric}={text.fmt_value(o.value)}")
                      + (f" run #{o.run_number}" if o.run_number is not None else ""), err=True))
    if reason:
        _fail(f"sweep {name}: {reason}")
    click.echo(f"sweep {name}: this worker is done", err=True)
