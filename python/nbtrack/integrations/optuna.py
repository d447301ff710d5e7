"""Optuna: a study callback recording each finished trial as an nbtrack run.

>>> from nbtrack.integrations.optuna import NbtrackCallback
>>> callback = NbtrackCallback(metric_name="accuracy")
>>> study.optimize(objective, n_trials=20, callbacks=[callback])  # doctest: +SKIP

Each trial becomes the run ``<study name>-trial-<number>``: its params are ``trial.params``,
its objective value(s) are metrics (and so the summary), and the summary holds the trial's
``state``, ``trial_number``, ``duration`` (seconds) and ``direction``; the tags are
``optuna`` and the study name. With :meth:`NbtrackCallback.track_in_nbtrack` the run is
started when the trial starts, so the objective can log into it (as with Optuna's
``MLflowCallback.track_in_mlflow`` and ``WeightsAndBiasesCallback.track_in_wandb``).

A run active when the study runs (a notebook's ``%track start``) is left alone: trial runs
are runs of their own beside it. optuna is imported when the callback is made, not when this
module is.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from nbtrack import session
from nbtrack.integrations.scope import require
from nbtrack.recorder import warn
from nbtrack.run import Run, check_tags

#: Optuna's trial states -> the run's final status (a pruned trial reads ``pruned``, as
#: :mod:`nbtrack.sweeps` trials do).
STATUS = {"COMPLETE": "finished", "PRUNED": "pruned", "FAIL": "failed"}


class NbtrackCallback:
    """Record each finished Optuna trial as an nbtrack run (``study.optimize(...,
    callbacks=[NbtrackCallback()])``).

    Parameters
    ----------
    metric_name : the metric name of the objective value, or one name per objective of a
        multi-objective study. A single name for several objectives is numbered
        (``value_0``, ``value_1``), as Optuna's MLflow and W&B callbacks do.
    tags : more tags for every trial run (beside ``optuna`` and the study name).
    log_intermediate_values : log what the objective reported with ``trial.report(value,
        step)`` as ``intermediate_value`` at those steps.

    Raises
    ------
    ImportError
        optuna is not installed.
    TypeError
        ``metric_name`` is neither a string nor a sequence of strings.
    """

    def __init__(self, metric_name: str | Sequence[str] = "value", *,
                 tags: Iterable[str] = (), log_intermediate_values: bool = True) -> None:
        require("optuna")
        if isinstance(metric_name, str):
            names: str | tuple[str, ...] = metric_name
        elif isinstance(metric_name, Sequence) and all(isinstance(n, str) for n in metric_name):
            names = tuple(metric_name)
        else:
            raise TypeError(f"metric_name must be a string or a sequence of strings, not"
                            f" {metric_name!r}")
        self.metric_name = names
        self.tags = check_tags(tags)
        self.log_intermediate_values = log_intermediate_values
        self._runs: dict[tuple[str, int], Run] = {}
        self._lock = threading.Lock()

    # -- the study callback ----------------------------------------------------------------------
    def __call__(self, study: Any, trial: Any) -> None:
        """Record the finished ``trial`` of ``study`` (Optuna calls this after each trial)."""
        try:
            self._record(study, trial)
        except Exception as exc:  # noqa: BLE001 - tracking never stops a study
            warn(f"nbtrack could not record trial {getattr(trial, 'number', '?')}: {exc!r}")

    def _record(self, study: Any, trial: Any) -> None:
        with self._lock:
            run = self._runs.pop((study.study_name, trial.number), None)
        if run is not None and not run.live:
            return  # the objective raised: the decorator recorded and finished the run
        if run is None:
            run = self._start(study.study_name, trial.number, dict(trial.params),
                              system_metrics=False)
        else:
            run.config.update(dict(trial.params))
        state = trial.state.name
        try:
            if self.log_intermediate_values and trial.intermediate_values:
                for step, value in sorted(trial.intermediate_values.items()):
                    run.log({"intermediate_value": value}, step=step)
            if trial.values is not None:
                run.log(dict(zip(self.metric_names(len(trial.values)), trial.values)))
            directions = [d.name for d in study.directions]
            duration = trial.duration
            summary = run.summary
            summary["trial_number"] = trial.number
            summary["state"] = state
            summary["duration"] = duration.total_seconds() if duration is not None else None
            summary["direction"] = directions[0] if len(directions) == 1 else directions
        finally:
            run.finish(STATUS.get(state, "finished"))

    def metric_names(self, count: int) -> list[str]:
        """The metric names of ``count`` objective values."""
        names = self.metric_name
        if isinstance(names, str):
            return [names] if count == 1 else [f"{names}_{i}" for i in range(count)]
        if len(names) != count:
            warn(f"nbtrack: {count} objective values but {len(names)} metric names"
                 f" {list(names)}; logging them as value_0..value_{count - 1}")
            return [f"value_{i}" for i in range(count)]
        return list(names)

    # -- logging inside the objective ------------------------------------------------------------
    def track_in_nbtrack(self) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """Decorate an objective so that each trial's run exists while it runs: whatever the
        objective logs with ``nbtrack.log`` goes to the trial's run.

        Pass the same callback to ``study.optimize(callbacks=[...])``: it records the trial's
        params, values and state and finishes the run. With ``n_jobs > 1`` the trials share
        the process's one active run: log with ``callback.run(trial).log(...)`` instead.

        Examples
        --------
        >>> callback = NbtrackCallback()
        >>> @callback.track_in_nbtrack()
        ... def objective(trial):
        ...     x = trial.suggest_float("x", -10, 10)
        ...     for step in range(10):
        ...         nbtrack.log({"partial": (x - 2) ** 2 / (step + 1)})
        ...     return (x - 2) ** 2
        >>> study.optimize(objective, n_trials=10, callbacks=[callback])  # doctest: +SKIP
        """
        def decorator(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
            @functools.wraps(func)
            def objective(trial: Any) -> Any:
                run = self._start_trial(trial)
                if run is None:
                    return func(trial)
                try:
                    with session.activated(run):
                        return func(trial)
                except BaseException as exc:
                    self._failed(trial, run, exc)
                    raise

            return objective

        return decorator

    def run(self, trial: Any) -> Run | None:
        """The run of ``trial`` while a :meth:`track_in_nbtrack` objective runs it."""
        with self._lock:
            return self._runs.get((trial.study.study_name, trial.number))

    def _start_trial(self, trial: Any) -> Run | None:
        study_name = trial.study.study_name
        try:
            run = self._start(study_name, trial.number, None, system_metrics=True)
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not start the run of trial {trial.number}: {exc!r}")
            return None
        with self._lock:
            self._runs[(study_name, trial.number)] = run
        return run

    def _failed(self, trial: Any, run: Run, exc: BaseException) -> None:
        """The objective raised: a pruned trial is left to the callback; otherwise Optuna
        may not call callbacks at all (the error is not in ``catch``), so record it now."""
        if isinstance(exc, require("optuna").TrialPruned):
            return
        try:
            run.config.update(dict(trial.params))
            run.summary["trial_number"] = trial.number
            run.summary["state"] = "FAIL"
        except Exception as error:  # noqa: BLE001
            warn(f"nbtrack could not record trial {trial.number}: {error!r}")
        finally:
            run.finish("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")

    def _start(self, study_name: str, number: int, params: dict[str, Any] | None, *,
               system_metrics: bool) -> Run:
        """A run of its own for one trial, beside (never finishing) the active run."""
        return session.init(name=f"{study_name}-trial-{number}", config=params,
                            tags=["optuna", study_name, *self.tags],
                            system_metrics=system_metrics, activate=False)


__all__ = ["NbtrackCallback", "STATUS"]
