"""Sync a workspace to an MLflow tracking server and pull runs back (``nbtrack sync``,
``nbtrack pull``, :func:`nbtrack.sync`, :func:`nbtrack.pull`).

- :mod:`client`: the server through MLflow's client; every failure one :class:`SyncError`.
- :mod:`limits`: MLflow's request limits and the names and values changed to fit them.
- :mod:`cursor`: what the server has accepted of each run (in the store).
- :mod:`files`: the cells, environment and notebook files sent with a run.
- :mod:`push`: one run to the server, incrementally; :mod:`pull`: runs back.
- :mod:`progress`: a bar on a terminal, a widget in a notebook.
- :mod:`api`: :func:`sync` and :func:`pull`; :mod:`command`: the CLI.

Importing this package imports neither mlflow nor anything heavy.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from nbtrack.sync.api import PullReport, SyncReport, sync
from nbtrack.sync.client import SyncError

# ``pull`` is not re-exported: ``nbtrack.sync.pull`` is the module that reads runs back
# (the function is ``nbtrack.pull``, from :mod:`nbtrack.sync.api`).
__all__ = ["PullReport", "SyncError", "SyncReport", "sync"]


class _CallableModule(types.ModuleType):
    """``nbtrack.sync`` is both this package and the function :func:`sync`: importing a
    submodule (``nbtrack.sync.push``) binds the package as ``nbtrack.sync``, so calling the
    package calls the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> SyncReport:
        return sync(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
