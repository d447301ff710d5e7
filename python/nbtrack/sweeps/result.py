"""A sweep's results, read from its Optuna study (so any machine sharing the storage sees the
whole sweep): the best trial, its run and config, the trials as a table, and charts.

>>> result = nbtrack.get_sweep("lr-search")     # doctest: +SKIP
>>> result.best_config, result.best_value        # doctest: +SKIP
>>> result.trials_dataframe()                    # doctest: +SKIP
>>> result.importance_chart()                    # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import config as _config
from nbtrack import text
from nbtrack.sweeps import storage as _storage
from nbtrack.sweeps.space import Plan, describe_space
from nbtrack.sweeps.trial import Outcome

if TYPE_CHECKING:  # pragma: no cover
    import altair
    import pandas

    from nbtrack.run import Run

__all__ = ["Sweep", "SweepNotFound", "get_sweep", "list_sweeps"]


class SweepNotFound(LookupError):
    """No sweep of that name in the workspace (or the storage given)."""


class Sweep:
    """One sweep: its plan and trials, read from the study when asked.

    Attributes
    ----------
    name : the sweep's (and its study's) name.
    stop_reason : why the last ``nbtrack.sweep()`` call stopped early (None: it ran to the end).
    """

    def __init__(self, name: str, *, storage: Any = None,
                 workspace: str | os.PathLike[str] | None = None,
                 stop_reason: str | None = None, study: Any = None) -> None:
        self.name = name
        self.workspace = (Path(workspace).expanduser().resolve() if workspace
                          else _config.workspace_dir())
        self._storage_arg = storage
        self.stop_reason = stop_reason
        self._study: Any = study

    # -- the study ---------------------------------------------------------------------------
    @property
    def study(self) -> Any:
        """The Optuna study (``optuna.Study``): the one the sweep ran, else loaded once (with
        Optuna's default sampler: the plan's is in :attr:`plan`)."""
        if self._study is None:
            import optuna

            from nbtrack.sweeps.sweep import quiet_optuna

            store, label = _storage.open_storage(self.name, self._storage_arg, self.workspace)
            try:
                store.get_study_id_from_name(self.name)
            except KeyError:
                raise SweepNotFound(f"no sweep {self.name!r} in {label}") from None
            with quiet_optuna():
                self._study = optuna.load_study(study_name=self.name, storage=store)
        return self._study

    @property
    def plan(self) -> Plan:
        """What the sweep searches (params, metric, goal, method, pruner)."""
        from nbtrack.sweeps.sweep import load_plan

        return load_plan(self.study)

    @property
    def metric(self) -> str:
        return self.plan.metric

    @property
    def goal(self) -> str:
        """``"minimize"`` or ``"maximize"``."""
        return self.plan.goal

    @property
    def storage(self) -> str:
        """Where the study lives (a journal path or a URL without its password)."""
        return _storage.open_storage(self.name, self._storage_arg, self.workspace)[1]

    def outcomes(self) -> list[Outcome]:
        """Every trial (read now), oldest first."""
        from nbtrack.sweeps.sweep import study_outcomes

        return study_outcomes(self.study)

    # -- the best ----------------------------------------------------------------------------
    def _best(self) -> Outcome | None:
        finished = [o for o in self.outcomes() if o.status == "finished"
                    and o.value is not None and math.isfinite(o.value)]
        if not finished:
            return None
        if self.goal == "maximize":
            return max(finished, key=lambda o: o.value or 0.0)
        return min(finished, key=lambda o: o.value or 0.0)

    @property
    def best_trial(self) -> Outcome | None:
        """The best finished trial (None before any)."""
        return self._best()

    @property
    def best_value(self) -> float | None:
        best = self._best()
        return None if best is None else best.value

    @property
    def best_config(self) -> dict[str, Any]:
        """The best trial's params, constants included (``{}`` before any finished trial)."""
        best = self._best()
        if best is None:
            return {}
        from nbtrack.sweeps.space import Constant

        constants = {n: d.value for n, d in self.plan.params.items() if isinstance(d, Constant)}
        return {**constants, **best.params}

    @property
    def best_run(self) -> Run | None:
        """The best trial's nbtrack run (None when it was recorded in another workspace)."""
        best = self._best()
        if best is None or best.run_id is None:
            return None
        from nbtrack.api import get_run
        from nbtrack.store.queries import RunNotFound

        try:
            return get_run(best.run_id, workspace=self.workspace)
        except RunNotFound:
            return None

    # -- tables ------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """One dict per trial: trial, status, value, run number and id, duration, started,
        error, then ``params.<name>``."""
        out = []
        for o in self.outcomes():
            row: dict[str, Any] = {
                "trial": o.number, "status": o.status, "value": o.value, "run": o.run_number,
                "run_id": o.run_id, "duration": o.duration, "started": o.extra.get("started"),
                "error": o.error,
            }
            row.update({f"params.{k}": v for k, v in o.params.items()})
            out.append(row)
        return out

    def trials_dataframe(self) -> pandas.DataFrame:
        """The trials as a pandas DataFrame (one row per trial; see :meth:`rows`)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("Sweep.trials_dataframe() needs pandas: pip install pandas") \
                from exc
        return pd.DataFrame(self.rows())

    @property
    def trials(self) -> pandas.DataFrame:
        """The trials as a pandas DataFrame (:meth:`trials_dataframe`)."""
        return self.trials_dataframe()

    def summary(self) -> dict[str, Any]:
        """The sweep as plain JSON: name, storage, plan, counts, best trial and config."""
        outcomes = self.outcomes()
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        best = self._best()
        plan_json = self.study.user_attrs.get("nbtrack", {})
        return {
            "name": self.name, "storage": self.storage, "metric": plan_json.get("metric"),
            "goal": plan_json.get("goal"), "method": plan_json.get("method_name"),
            "pruner": plan_json.get("pruner_name"), "n_trials": plan_json.get("n_trials"),
            "space": plan_json.get("params", {}), "trials": len(outcomes), "counts": counts,
            "best": None if best is None else {
                "trial": best.number, "value": best.value, "run": best.run_number,
                "run_id": best.run_id, "config": self.best_config},
            "created": plan_json.get("created"),
        }

    # -- charts ------------------------------------------------------------------------------
    def importance(self) -> dict[str, float]:
        """Each param's importance (Optuna's ``get_param_importances``: fANOVA by default),
        normalized to sum to 1; ``{}`` with fewer than two finished trials."""
        import optuna

        finished = [t for t in self.study.get_trials(deepcopy=False,
                                                     states=(optuna.trial.TrialState.COMPLETE,))]
        if len(finished) < 2:
            return {}
        try:
            return dict(optuna.importance.get_param_importances(self.study))
        except (RuntimeError, ValueError):  # one param value only, nothing to compare
            return {}

    def history_chart(self) -> altair.TopLevelMixin:
        """Optimization history: each trial's value and the best so far."""
        from nbtrack import charts

        points = [{"trial": o.number, "value": o.value, "status": o.status}
                  for o in self.outcomes() if o.value is not None and math.isfinite(o.value)]
        return charts.optimization_history(points, self.metric, self.goal)

    def parallel_chart(self) -> altair.TopLevelMixin:
        """Parallel coordinates of the finished trials: one axis per param, then the metric."""
        from nbtrack import charts

        outcomes = [o for o in self.outcomes() if o.status == "finished"
                    and o.value is not None and math.isfinite(o.value)]
        params = [n for n in self.plan.params if any(n in o.params for o in outcomes)]
        records: list[Any] = [
            {"id": o.run_id or f"trial-{o.number}", "number": o.run_number or o.number,
             "name": f"trial {o.number}", "params": o.params,
             "summary": {self.metric: o.value}} for o in outcomes]
        return charts.parallel(records, params, self.metric)

    def importance_chart(self) -> altair.TopLevelMixin:
        """Parameter importance as horizontal bars."""
        from nbtrack import charts

        return charts.importance(self.importance())

    # -- display -----------------------------------------------------------------------------
    def text(self) -> str:
        """The sweep as a few lines of text."""
        s = self.summary()
        counts = ", ".join(f"{v} {k}" for k, v in sorted(s["counts"].items())) or "no trials"
        size = s["n_trials"] if s["n_trials"] is not None else "?"
        lines = [f"sweep {self.name}: {s['goal']} {s['metric']} ({s['method']}, pruner "
                 f"{s['pruner']}); {s['trials']}/{size} trials: {counts}",
                 f"storage {s['storage']}"]
        lines += ["  " + line for line in describe_space(self.plan.params)]
        best = s["best"]
        if best is not None:
            run = f", run #{best['run']}" if best["run"] is not None else ""
            lines.append(f"best {s['metric']}={text.fmt_value(best['value'])} (trial "
                         f"{best['trial']}{run}): " + ", ".join(
                             f"{k}={text.fmt_value(v)}" for k, v in best["config"].items()))
        if self.stop_reason:
            lines.append(f"stopped early: {self.stop_reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        try:
            return self.text()
        except Exception:  # noqa: BLE001 - repr must not fail
            return f"<Sweep {self.name!r}>"


def get_sweep(name: str, *, storage: Any = None,
              workspace: str | os.PathLike[str] | None = None) -> Sweep:
    """The sweep ``name`` of the workspace (its default journal, or the storage its pointer
    names), or in ``storage``.

    Raises
    ------
    SweepNotFound
        No such sweep.
    """
    _storage.check_name(name)
    ws = Path(workspace).expanduser().resolve() if workspace else _config.workspace_dir()
    if storage is None:
        storage = _storage.remembered(name, ws)
        if storage is None and not _storage.journal_path(name, ws).exists():
            raise SweepNotFound(f"no sweep {name!r} in {_storage.sweeps_dir(ws)}; see "
                                "nbtrack sweeps list")
    found = Sweep(name, storage=storage, workspace=ws)
    found.study  # noqa: B018 - raises SweepNotFound now rather than at first use
    return found


def list_sweeps(workspace: str | os.PathLike[str] | None = None) -> list[Sweep]:
    """Every sweep the workspace knows (default journals and pointers), newest first."""
    ws = Path(workspace).expanduser().resolve() if workspace else _config.workspace_dir()
    return [Sweep(name, storage=where, workspace=ws) for name, where in _storage.known(ws)]
