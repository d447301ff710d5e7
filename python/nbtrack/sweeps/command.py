"""``nbtrack sweeps list|show`` and ``nbtrack sweep worker``: sweeps from a shell.

Added to the ``nbtrack`` group by :mod:`nbtrack.cli`; the shared options come from
:mod:`nbtrack.cli_support`. Exit codes: 0 ok, 1 no such sweep, 2 usage error.
"""

from __future__ import annotations

import functools
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


@click.group()
@workspace_option
def sweep() -> None:
    """Take part in a sweep: `worker NAME --storage URL` runs trials of an existing sweep.

    \b
    Example:
        nbtrack sweep worker lr-search --storage postgresql://me@db/optuna \
            --objective train:objective
    """


@sweep.command("worker")
@workspace_option
@click.argument("name")
@click.option("--storage", default=None, help=_STORAGE_HELP)
@click.option("--objective", "objective", default=None, metavar="MODULE:FUNCTION",
              help="The objective to import (default: the one the sweep was started with).")
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
    click.echo(f"worker joined sweep {name} ({found.storage}); objective {ref}", err=True)
    reason = work(study, plan, func, sweep=name, n_trials=size, timeout=timeout,
                  max_failures=max_failures, workspace=ws,
                  on_trial=lambda o: click.echo(
                      f"trial {o.number} {o.status}"
                      + ("" if o.value is None else f" {plan.metric}={text.fmt_value(o.value)}")
                      + (f" run #{o.run_number}" if o.run_number is not None else ""), err=True))
    if reason:
        _fail(f"sweep {name}: {reason}")
    click.echo(f"sweep {name}: this worker is done", err=True)
