"""One trial of a sweep: an nbtrack run with the trial's params, the objective called inside
it, the target metric reported to Optuna as it is logged, and the run's and the trial's final
states kept in step.

========================  ==================  =================
the objective             the run's status    Optuna's state
========================  ==================  =================
returns a number          ``finished``        COMPLETE
is pruned                 ``pruned``          PRUNED
raises, returns NaN       ``failed``          FAIL
is interrupted            ``interrupted``     FAIL (``nbtrack_status: interrupted``)
========================  ==================  =================

An objective that records the trial's run itself (:class:`RecordsItsRun`: a notebook run as
a job, whose run starts in the job's kernel) gets no run from here: it is handed the run's
name and tags, and the trial is linked to the run it reports.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from nbtrack import config as _config
from nbtrack import session
from nbtrack.recorder import warn
from nbtrack.run import Run
from nbtrack.sweeps.space import Plan, params_of

__all__ = ["Objective", "Outcome", "OwnRun", "RecordsItsRun", "TrialReporter", "current_trial",
           "outcome_of", "run_trial"]

#: Characters of a failed trial's traceback kept in the study.
TRACEBACK_CHARS = 4000

_current = threading.local()


def current_trial() -> Any:
    """The Optuna trial the running objective belongs to (None outside a sweep)."""
    return getattr(_current, "trial", None)


@dataclass
class Outcome:
    """How one trial ended."""

    number: int
    status: str  # finished, pruned, failed, interrupted
    value: float | None
    params: dict[str, Any]
    run_number: int | None = None
    run_id: str | None = None
    error: str | None = None
    duration: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class OwnRun:
    """The run an objective that records its own run (:class:`RecordsItsRun`) made for a
    trial, and how it ended (``status``: the run's final status, or ``"not started"``)."""

    status: str
    number: int | None = None
    id: str | None = None
    error: str | None = None


@runtime_checkable
class RecordsItsRun(Protocol):
    """An objective that records the trial's run itself, in another process: ``run_trial``
    starts no run, calls :meth:`run_as` with the run's name and tags and reads the metric's
    summary from the run it reports, once it has ended (no pruning: intermediate values are
    not reported)."""

    def run_as(self, config: dict[str, Any], *, name: str, tags: list[str],
               workspace: Path) -> OwnRun:
        """Run the objective with ``config`` as the run ``name`` with ``tags`` in
        ``workspace``; return that run. A KeyboardInterrupt may carry the run as its
        ``own_run`` attribute."""
        ...


#: What ``nbtrack.sweep`` runs per trial.
Objective = Callable[[dict[str, Any]], Any] | RecordsItsRun


class TrialReporter(list):  # type: ignore[type-arg]  # a Run.tap() sink that keeps nothing
    """Receives every ``log()`` entry of the trial's run, in the logging thread: a value of
    the target metric is reported to the trial (at its step) and, when the pruner says so,
    ``optuna.TrialPruned`` is raised from that ``log()`` call, stopping the objective."""

    def __init__(self, trial: Any, metric: str, pruned: type[BaseException]) -> None:
        super().__init__()
        self.trial = trial
        self.metric = metric
        self.pruned = pruned
        self.last: float | None = None
        self.pruned_at: int | None = None

    def append(self, entry: Any) -> None:
        _number, step, _time, _cell, keys, values = entry
        if self.metric not in keys:
            return
        value = values[keys.index(self.metric)]
        try:
            value = float(value)
        except (TypeError, ValueError):
            return
        self.last = value
        if not math.isfinite(value):
            return
        try:
            self.trial.report(value, step)
            prune = self.trial.should_prune()
        except Exception as exc:  # noqa: BLE001 - reporting never breaks the objective
            warn(f"nbtrack could not report {self.metric} to trial {self.trial.number}: {exc!r}")
            return
        if prune:
            self.pruned_at = step
            raise self.pruned(f"trial {self.trial.number} pruned at step {step}")


def _run_name(sweep: str, trial: Any) -> str:
    return f"{sweep}-trial-{trial.number}"


def _run_tags(sweep: str) -> list[str]:
    return ["sweep", f"sweep={sweep}"]


def _start_run(sweep: str, trial: Any, config: Mapping[str, Any], *, capture_env: bool,
               workspace: Any) -> Run | None:
    try:
        return session.init(name=_run_name(sweep, trial), config=config,
                            tags=_run_tags(sweep), workspace=workspace,
                            capture_env=capture_env, system_metrics=False, activate=False)
    except Exception as exc:  # noqa: BLE001 - the trial runs untracked rather than not at all
        warn(f"nbtrack could not start the run of trial {trial.number}: {exc!r}")
        return None


def _number(value: Any) -> float | None:
    """A returned value as a float (numpy scalars, 0-d arrays and tensors too), else None."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _summary_value(run: Run | None, metric: str, reporter: TrialReporter) -> float | None:
    """The metric's summary in the run (an explicit ``run.summary[...]`` wins over the last
    value logged)."""
    if run is None:
        return reporter.last
    try:
        run.recorder.flush()
        value = run.refresh()["summary"].get(metric)
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not read {metric} of run {run.number}: {exc!r}")
        return reporter.last
    return None if value is None else float(value)


def _link(trial: Any, outcome: Outcome, number: int, run_id: str, workspace: Path) -> None:
    """Tie the trial to its run (the ``nbtrack_run`` user attribute every view reads)."""
    outcome.run_number, outcome.run_id = number, run_id
    try:
        trial.set_user_attr("nbtrack_run", {"id": run_id, "number": number,
                                            "workspace": str(workspace)})
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not link trial {trial.number} to its run: {exc!r}")


def run_trial(study: Any, trial: Any, plan: Plan, objective: Objective, *, sweep: str,
              workspace: Any = None, capture_env: bool = True) -> Outcome:
    """Run ``objective(config)`` as trial ``trial`` of ``study`` and tell Optuna how it ended.

    A KeyboardInterrupt marks the run ``interrupted`` and the trial failed (with
    ``nbtrack_status: interrupted``), then propagates.
    """
    import optuna

    if isinstance(objective, RecordsItsRun):
        return _run_own(study, trial, plan, objective, sweep=sweep, workspace=workspace)
    started = time.time()
    config = params_of(plan, trial)
    run = _start_run(sweep, trial, config, capture_env=capture_env, workspace=workspace)
    reporter = TrialReporter(trial, plan.metric, optuna.TrialPruned)
    outcome = Outcome(trial.number, "finished", None, dict(config))
    if run is not None:
        run.tap(reporter)
        _link(trial, outcome, run.number, run.id, run.workspace)
    returned: Any = None
    _current.trial = trial
    try:
        with session.activated(run) if run is not None else nullcontext():
            returned = objective(dict(config))
    except optuna.TrialPruned:
        outcome.status = "pruned"
    except KeyboardInterrupt:
        outcome.status, outcome.error = "interrupted", "KeyboardInterrupt"
        _end(study, trial, run, reporter, outcome, started)
        raise
    except Exception as exc:  # noqa: BLE001 - a failed trial is recorded, the sweep goes on
        outcome.status = "failed"
        outcome.error = f"{type(exc).__name__}: {exc}"
        text = traceback.format_exc()
        outcome.extra["traceback"] = text[-TRACEBACK_CHARS:]
        print(f"nbtrack: trial {trial.number} failed:\n{text}", file=sys.stderr)
    finally:
        _current.trial = None
    if run is not None:
        run.untap(reporter)  # what is logged from here on is not the objective's reporting
    if outcome.status == "finished":
        _value_of(returned, run, plan.metric, reporter, outcome)
    _end(study, trial, run, reporter, outcome, started)
    return outcome


def _run_own(study: Any, trial: Any, plan: Plan, objective: RecordsItsRun, *, sweep: str,
             workspace: Any) -> Outcome:
    """A trial whose objective records its run itself (see :class:`RecordsItsRun`): the
    trial's status follows the run's, its value is the metric's summary in the run."""
    import optuna

    started = time.time()
    ws = Path(workspace) if workspace else _config.workspace_dir()
    config = params_of(plan, trial)
    outcome = Outcome(trial.number, "finished", None, dict(config))
    reporter = TrialReporter(trial, plan.metric, optuna.TrialPruned)  # never tapped
    try:
        own = objective.run_as(dict(config), name=_run_name(sweep, trial),
                               tags=_run_tags(sweep), workspace=ws)
    except KeyboardInterrupt as exc:
        stopped = getattr(exc, "own_run", None)
        if isinstance(stopped, OwnRun) and stopped.number is not None and stopped.id is not None:
            _link(trial, outcome, stopped.number, stopped.id, ws)
        outcome.status, outcome.error = "interrupted", "KeyboardInterrupt"
        _end(study, trial, None, reporter, outcome, started)
        raise
    except Exception as exc:  # noqa: BLE001 - a failed trial is recorded, the sweep goes on
        own = OwnRun("failed", error=f"{type(exc).__name__}: {exc}")
        text = traceback.format_exc()
        outcome.extra["traceback"] = text[-TRACEBACK_CHARS:]
        print(f"nbtrack: trial {trial.number} failed:\n{text}", file=sys.stderr)
    status = own.status
    summary: dict[str, Any] = {}
    if own.number is not None and own.id is not None:
        _link(trial, outcome, own.number, own.id, ws)
        try:
            record = Run(_config.db_path(ws), own.number, own.id).refresh()
            status, summary = record["status"], record["summary"]
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not read run {own.number} of trial {trial.number}: {exc!r}")
    if status != "finished":
        outcome.status = "failed"
        outcome.error = own.error or f"the run ended {status}"
    else:
        value = summary.get(plan.metric)
        if value is None:
            outcome.status = "failed"
            outcome.error = (f"the run logged no {plan.metric!r}: log it with "
                             f"nbtrack.log({{{plan.metric!r}: value}})")
        else:
            outcome.value = _number(value)
            if outcome.value is None or not math.isfinite(outcome.value):
                outcome.status = "failed"
                outcome.error = f"the run's {plan.metric} is {value!r}"
    _end(study, trial, None, reporter, outcome, started)
    return outcome


def _value_of(returned: Any, run: Run | None, metric: str, reporter: TrialReporter,
              outcome: Outcome) -> None:
    """Set ``outcome.value`` from what the objective returned (a number, a dict of metrics
    holding the target, or None: the metric's summary); no value or NaN fails the trial."""
    value: float | None
    if returned is None:
        value = _summary_value(run, metric, reporter)
        if value is None:
            outcome.status = "failed"
            outcome.error = (f"the objective returned nothing and logged no {metric!r}: return "
                             f"the value or log it with nbtrack.log({{{metric!r}: value}})")
            return
    else:
        if isinstance(returned, Mapping):
            if run is not None:
                _log(run, {k: v for k, v in returned.items() if k != metric})
            returned = returned.get(metric)
        value = _number(returned)
        if value is None:
            outcome.status = "failed"
            outcome.error = (f"the objective returned {type(returned).__name__}, not a number "
                             f"(or a dict holding {metric!r})")
            return
        if run is not None and reporter.last is None:
            _log(run, {metric: value})  # the runs table shows the value of every trial
    outcome.value = value
    if not math.isfinite(value):
        outcome.status, outcome.error = "failed", f"the objective's value is {value}"


def _log(run: Run, data: Mapping[str, Any]) -> None:
    if not data:
        return
    try:
        run.log(dict(data))
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not log {sorted(data)} to run {run.number}: {exc!r}")


def _end(study: Any, trial: Any, run: Run | None, reporter: TrialReporter, outcome: Outcome,
         started: float) -> None:
    """Finish the run and tell Optuna; tracking failures become warnings."""
    from optuna.trial import TrialState

    outcome.duration = time.time() - started
    if run is not None:
        run.untap(reporter)
        try:
            run.finish(outcome.status)
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not finish run {run.number}: {exc!r}")
    try:
        if outcome.status != "finished":
            trial.set_user_attr("nbtrack_status", outcome.status)
        if outcome.error:
            trial.set_user_attr("nbtrack_error", outcome.error[:TRACEBACK_CHARS])
        if outcome.status == "finished":
            _tell(study, trial, outcome.value, None)
        else:
            _tell(study, trial, None,
                  TrialState.PRUNED if outcome.status == "pruned" else TrialState.FAIL)
    except Exception as exc:  # noqa: BLE001 - the storage may be gone; the run is recorded
        warn(f"nbtrack could not record trial {trial.number} in the study: {exc!r}")


def _tell(study: Any, trial: Any, value: float | None, state: Any) -> None:
    """``study.tell``; Optuna's GridSampler calls ``study.stop()`` after the last grid point,
    which raises outside ``study.optimize`` once the state is stored: that is not an error
    here (the sweep counts its trials itself)."""
    try:
        if state is None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=state)
    except RuntimeError as exc:
        if "Study.stop" not in str(exc):
            raise


#: Optuna's trial states -> the trial's status (FAIL is refined by ``nbtrack_status``).
STATES = {"COMPLETE": "finished", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
          "WAITING": "waiting"}


def outcome_of(trial: Any) -> Outcome:
    """A stored (frozen) Optuna trial as an :class:`Outcome`."""
    state = trial.state.name
    status = STATES.get(state, state.lower())
    attrs = trial.user_attrs
    if state == "FAIL":
        status = attrs.get("nbtrack_status") or "failed"
    link = attrs.get("nbtrack_run") if isinstance(attrs.get("nbtrack_run"), dict) else {}
    duration = trial.duration.total_seconds() if trial.duration is not None else 0.0
    value = trial.value if state in ("COMPLETE", "PRUNED") else None
    return Outcome(trial.number, status, value, dict(trial.params),
                   run_number=link.get("number"), run_id=link.get("id"),
                   error=attrs.get("nbtrack_error"), duration=duration,
                   extra={"started": trial.datetime_start.timestamp()
                          if trial.datetime_start is not None else None,
                          "workspace": link.get("workspace")})
