"""Sweeps: hyperparameter search from a notebook on Optuna, each trial an nbtrack run.

>>> space = {"lr": nbtrack.loguniform(1e-4, 1e-1)}
>>> result = nbtrack.sweep(objective, space, n_trials=20)  # doctest: +SKIP

Modules, one job each: ``space`` (distributions, W&B configurations -> Optuna samplers and
pruners), ``storage`` (where the study lives), ``trial`` (one trial as a run), ``sweep`` (the
loop, worker processes), ``result`` (:class:`Sweep`: best run, trials, charts), ``widget``
(progress), ``magic`` (``%%track sweep``), ``notebook`` (a notebook as the objective, one job
per trial), ``command`` (``nbtrack sweeps``/``nbtrack sweep NOTEBOOK``/``nbtrack sweep
worker``). optuna is imported only when a sweep runs or is read.
"""

from __future__ import annotations

from nbtrack.sweeps.notebook import NotebookObjective
from nbtrack.sweeps.result import Sweep, SweepNotFound, get_sweep, list_sweeps
from nbtrack.sweeps.space import choice, constant, intrange, loguniform, uniform
from nbtrack.sweeps.sweep import sweep
from nbtrack.sweeps.trial import current_trial

__all__ = [
    "NotebookObjective", "Sweep", "SweepNotFound", "choice", "constant", "current_trial",
    "get_sweep", "intrange", "list_sweeps", "loguniform", "sweep", "uniform",
]
