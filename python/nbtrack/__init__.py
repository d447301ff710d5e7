"""nbtrack: experiment tracking that lives in your notebooks.

>>> import nbtrack
>>> with nbtrack.init(name="baseline", config={"lr": 0.01}) as run:  # doctest: +SKIP
...     run.log({"loss": 0.3}, step=0)

The public names are imported when first used (``import nbtrack`` itself costs almost
nothing), so the command line and the server extension load only what they need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - what the lazy names below resolve to
    from nbtrack.api import RunDiff, RunList, diff, get_run, leaderboard, runs, sql
    from nbtrack.artifacts import (
        Artifact,
        ArtifactIntegrityError,
        ArtifactNotFound,
        ArtifactVersion,
    )
    from nbtrack.filter import FilterError
    from nbtrack.integrations.autolog import autolog
    from nbtrack.jobs import run_notebook, run_notebooks
    from nbtrack.media.values import Audio, Histogram, Html, Image, Table, Text
    from nbtrack.recorder import StoreUnavailableError, TrackingWarning
    from nbtrack.registry import (
        ModelNotFound,
        delete_alias,
        get_model,
        list_models,
        register_model,
        set_alias,
        set_model_description,
        set_model_tag,
    )
    from nbtrack.run import History, Run, RunFinishedError
    from nbtrack.session import (
        NoActiveRunError,
        active_run,
        finish,
        init,
        lineage,
        load_model,
        log,
        log_artifact,
        log_model,
        status,
        use_artifact,
    )
    from nbtrack.store.queries import RunNotFound
    from nbtrack.sweeps import (
        Sweep,
        SweepNotFound,
        choice,
        constant,
        get_sweep,
        intrange,
        loguniform,
        uniform,
    )
    from nbtrack.sweeps.sweep import sweep
    from nbtrack.sync.api import pull, sync
    from nbtrack.sync.client import SyncError

#: Public name -> the module that defines it.
_LAZY = {
    **dict.fromkeys(("RunDiff", "RunList", "diff", "get_run", "leaderboard", "runs", "sql"),
                    "nbtrack.api"),
    **dict.fromkeys(("Artifact", "ArtifactIntegrityError", "ArtifactNotFound",
                     "ArtifactVersion"), "nbtrack.artifacts"),
    "FilterError": "nbtrack.filter",
    "autolog": "nbtrack.integrations.autolog",
    **dict.fromkeys(("run_notebook", "run_notebooks"), "nbtrack.jobs"),
    "StoreUnavailableError": "nbtrack.recorder",
    "TrackingWarning": "nbtrack.recorder",
    **dict.fromkeys(("History", "Run", "RunFinishedError"), "nbtrack.run"),
    **dict.fromkeys(("NoActiveRunError", "active_run", "finish", "init", "lineage",
                     "load_model", "log", "log_artifact", "log_model", "status",
                     "use_artifact"),
                    "nbtrack.session"),
    "RunNotFound": "nbtrack.store.queries",
    **dict.fromkeys(("pull", "sync"), "nbtrack.sync.api"),
    "SyncError": "nbtrack.sync.client",
    **dict.fromkeys(("ModelNotFound", "delete_alias", "get_model", "list_models",
                     "register_model", "set_alias", "set_model_description", "set_model_tag"),
                    "nbtrack.registry"),
    **dict.fromkeys(("Audio", "Histogram", "Html", "Image", "Table", "Text"),
                    "nbtrack.media.values"),
    **dict.fromkeys(("Sweep", "SweepNotFound", "choice", "constant", "get_sweep", "intrange",
                     "loguniform", "sweep", "uniform"), "nbtrack.sweeps"),
}

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
    "Artifact",
    "ArtifactIntegrityError",
    "ArtifactNotFound",
    "ArtifactVersion",
    "Audio",
    "Histogram",
    "Html",
    "Image",
    "ModelNotFound",
    "Table",
    "Text",
    "FilterError",
    "History",
    "NoActiveRunError",
    "Run",
    "RunDiff",
    "RunFinishedError",
    "RunList",
    "RunNotFound",
    "StoreUnavailableError",
    "Sweep",
    "SweepNotFound",
    "SyncError",
    "TrackingWarning",
    "active_run",
    "autolog",
    "choice",
    "constant",
    "delete_alias",
    "diff",
    "finish",
    "get_model",
    "get_run",
    "get_sweep",
    "init",
    "intrange",
    "leaderboard",
    "lineage",
    "list_models",
    "load_model",
    "log",
    "log_artifact",
    "log_model",
    "loguniform",
    "plot",
    "pull",
    "register_model",
    "run_notebook",
    "run_notebooks",
    "runs",
    "set_alias",
    "set_model_description",
    "set_model_tag",
    "show_runs",
    "sql",
    "status",
    "sweep",
    "uniform",
    "sync",
    "use_artifact",
]


def __getattr__(name: str) -> Any:
    """Import a public name (or a submodule, ``nbtrack.session``) on first use."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f"nbtrack.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"nbtrack.{name}":
                raise  # the submodule exists but needs something missing: say so
            raise AttributeError(f"module 'nbtrack' has no attribute {name!r}") from None
    else:
        raise AttributeError(name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
