"""``wandb.sweep`` / ``wandb.agent`` run on nbtrack's sweeps (Optuna, :mod:`nbtrack.sweeps`).

``wandb.sweep(config)`` keeps the W&B sweep configuration in this process and returns its id;
``wandb.agent(sweep_id, function=main, count=N)`` runs ``nbtrack.sweep`` on that configuration
(its ``method``, ``metric``, ``parameters``, ``early_terminate``, ``run_cap`` translated to Optuna
by :mod:`nbtrack.sweeps.space`). Each trial calls ``function()`` with no arguments, as W&B's agent
does; the ``wandb.init()`` inside it attaches to the trial's nbtrack run, with ``wandb.config``
holding the trial's parameters, and its ``finish()`` leaves the run to the sweep, which ends it
``finished``, ``pruned`` or ``failed``. The trial's value is the metric's summary in the run.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

from nbtrack.wandb.errors import Error

#: Sweep id -> its W&B configuration (W&B keeps them on its server; here, in this process).
_SWEEPS: dict[str, dict[str, Any]] = {}


class _Trial(threading.local):
    """The trial ``agent`` is running on this thread: (sweep id, its parameters)."""

    current: tuple[str, dict[str, Any]] | None = None


trial = _Trial()


def sweep(sweep: Any = None, entity: str | None = None, project: str | None = None,
          prior_runs: Any = None) -> str:
    """Keep the W&B sweep configuration ``sweep`` (a dict, or a function returning one) and
    return its id for :func:`agent`."""
    from nbtrack.sweeps.space import is_wandb_config, resolve

    config = sweep() if callable(sweep) else sweep
    if not isinstance(config, Mapping) or not is_wandb_config(config):
        raise Error("wandb.sweep takes a sweep configuration: a dict with 'method', 'metric'"
                    " and 'parameters'")
    config = dict(config)
    resolve(config)  # a configuration nbtrack cannot run fails here (ValueError), not in agent
    if project:
        config.setdefault("project", project)
    sweep_id = secrets.token_hex(4)
    _SWEEPS[sweep_id] = config
    print(f"nbtrack.wandb: created sweep with ID: {sweep_id}")
    return sweep_id


def agent(sweep_id: str, function: Callable[[], Any] | None = None,
          entity: str | None = None, project: str | None = None,
          count: int | None = None) -> None:
    """Run ``count`` trials of sweep ``sweep_id``, each calling ``function()``."""
    import nbtrack.sweeps

    config = _SWEEPS.get(str(sweep_id).rsplit("/", 1)[-1])
    if config is None:
        raise Error(f"unknown sweep {sweep_id!r}: create it with wandb.sweep(config) in this"
                    " process (nbtrack keeps sweep configurations locally)")
    if function is None:
        raise Error("nbtrack.wandb.agent needs function=: running the configuration's"
                    " 'program' (W&B's command-line agent) is not supported")
    sid = str(sweep_id).rsplit("/", 1)[-1]

    def objective(params: dict[str, Any]) -> None:
        trial.current = (sid, dict(params))
        try:
            function()
        finally:
            trial.current = None
            _close_attached()

    nbtrack.sweeps.sweep(objective, config, n_trials=count,
                         name=str(config.get("name") or f"wandb-{sid}"))


def _close_attached() -> None:
    """Write what the function's ``wandb.init()`` run still holds (it may never call
    ``finish``); the sweep finishes the nbtrack run itself."""
    import nbtrack.wandb as module

    current = module.run
    if current is not None and not current.owns_run:
        current.finish()
