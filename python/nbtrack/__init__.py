"""nbtrack: experiment tracking that lives in your notebooks.

>>> import nbtrack
>>> with nbtrack.init(name="baseline", config={"lr": 0.01}) as run:  # doctest: +SKIP
...     run.log({"loss": 0.3}, step=0)
"""

from __future__ import annotations

from typing import Any

from nbtrack.api import RunDiff, RunList, diff, get_run, leaderboard, runs, sql
from nbtrack.query import FilterError
from nbtrack.recorder import StoreUnavailableError, TrackingWarning
from nbtrack.run import History, Run, RunFinishedError
from nbtrack.session import NoActiveRunError, active_run, finish, init, log, status
from nbtrack.store.queries import RunNotFound

__version__ = "0.1.0"


def show_runs(runs: Any = None, **filters: Any) -> Any:
    """Display a runs table (sort, filter, select to overlay curves) and return it.

    ``table = nbtrack.show_runs(); table.selected`` reads the selection; see ``nbtrack.widgets``.
    """
    from nbtrack.widgets import show_runs as _show_runs

    return _show_runs(runs, **filters)


def plot(runs: Any, keys: Any = None, **options: Any) -> Any:
    """An Altair chart of the ``keys`` curves of ``runs``; see :func:`nbtrack.charts.plot`."""
    from nbtrack.charts import plot as _plot

    return _plot(runs, keys, **options)


__all__ = [
    "FilterError",
    "History",
    "NoActiveRunError",
    "Run",
    "RunDiff",
    "RunFinishedError",
    "RunList",
    "RunNotFound",
    "StoreUnavailableError",
    "TrackingWarning",
    "active_run",
    "diff",
    "finish",
    "get_run",
    "init",
    "leaderboard",
    "log",
    "plot",
    "runs",
    "show_runs",
    "sql",
    "status",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbtrack``: the %track magics and the cell hooks."""
    from nbtrack.kernel.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbtrack``: remove every hook and magic."""
    from nbtrack.kernel.extension import unload

    unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "nbtrack"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbtrack.server"}]
