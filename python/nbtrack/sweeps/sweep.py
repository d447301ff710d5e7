"""``nbtrack.sweep()``: run a hyperparameter search on Optuna, each trial an nbtrack run.

Trials run in this process one after another by default (in a notebook: in the kernel, so a
cell-defined objective needs no pickling); ``n_jobs=N`` starts N worker processes on this
machine for an objective importable from a module or a notebook (each trial then a notebook
job: :mod:`nbtrack.sweeps.notebook`); ``nbtrack sweep worker NAME --storage URL``
joins from any machine. Every worker takes trials from the same Optuna study until the sweep
has ``n_trials`` of them: a trial's number is its ticket, so no trial runs twice and the sweep
never runs more than asked.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from nbtrack import config as _config
from nbtrack.sweeps import liveness as _liveness
from nbtrack.sweeps import storage as _storage
from nbtrack.sweeps.space import Plan, resolve
from nbtrack.sweeps.trial import Objective, Outcome, outcome_of, run_trial

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.sweeps.result import Sweep

__all__ = ["MAX_FAILURES", "objective_ref", "sweep", "work"]

#: Consecutive failed trials that stop a sweep (``max_failures=``).
MAX_FAILURES = 5
#: The study's user attribute holding the sweep's plan (so any worker samples the same space).
PLAN_ATTR = "nbtrack"
#: A trial asked past the sweep's size: told FAIL at once, never run, left out of every view.
SURPLUS_ATTR = "nbtrack_surplus"


def sweep(
    objective: Objective | str | os.PathLike[str],
    space: Any,
    n_trials: int | None = None,
    metric: str = "val/loss",
    goal: str = "min",
    method: Any = "tpe",
    pruner: Any = "median",
    name: str | None = None,
    timeout: float | None = None,
    n_jobs: int = 1,
    resume: bool = False,
    storage: Any = None,
    *,
    seed: int | None = None,
    max_failures: int = MAX_FAILURES,
    progress: bool = True,
    workspace: str | os.PathLike[str] | None = None,
) -> Sweep:
    """Search ``space`` for the params that minimize (``goal="max"``: maximize) ``metric``.

    Parameters
    ----------
    objective : ``objective(config)`` trains with the trial's params (a dict) inside the trial's
        run (``nbtrack.log`` goes there). It may return the value (a number, or a dict of
        metrics holding ``metric``); else the metric's summary in the run is used. Logging
        ``metric`` with a step reports it to Optuna, and a trial the pruner stops ends
        ``pruned`` (``optuna.TrialPruned`` is raised from that ``nbtrack.log`` call).
        Or a notebook (a ``.ipynb`` path, or a :class:`nbtrack.sweeps.NotebookObjective`
        for a kernel, a cell timeout or fixed params): each trial executes it as a job with
        the trial's params injected after its ``parameters`` cell; the job's run is the
        trial's run and the metric's summary in it the value (no pruning).
    space : a dict of distributions (``nbtrack.uniform``, ``loguniform``, ``intrange``,
        ``choice``, ``constant``; a list is a choice, a plain value a constant), or a W&B sweep
        configuration (its ``method``, ``metric``, ``early_terminate`` and ``run_cap`` win).
    n_trials : the sweep's size: trials are run until the study has this many (a re-run or
        resumed sweep runs only what is missing). Default: the grid's size for a grid, the W&B
        ``run_cap``; otherwise required unless ``timeout`` is given.
    metric, goal : the target metric and ``"min"`` or ``"max"``.
    method : ``"tpe"`` (``"bayes"``), ``"random"``, ``"grid"``, ``"cmaes"``, ``"gp"``,
        ``"qmc"``, or an Optuna sampler.
    pruner : ``"median"``, ``"hyperband"``, ``"successive_halving"``, None, or an Optuna
        pruner.
    name : the sweep's name (default ``sweep-<n>``). Running a named sweep again continues its
        study.
    timeout : seconds after which no new trial starts.
    n_jobs : worker processes on this machine (the objective must be importable from a
        module: ``module:function``, or a notebook); 1 runs trials here, one after another.
    resume : continue the sweep ``name`` (an error if it does not exist); without a name, the
        workspace's latest sweep.
    storage : None (``.nbtrack/sweeps/<name>.journal``), a journal file path, a database URL
        (``postgresql://...``), or an Optuna storage.
    seed : seeds the sampler (worker ``i`` of ``n_jobs`` uses ``seed + i``).
    max_failures : consecutive failed trials that stop the sweep (the reason is in
        ``Sweep.stop_reason``).
    progress : show progress (a widget in a notebook, a line per trial elsewhere).

    Returns
    -------
    Sweep
        The best run and config, the trials as a DataFrame, charts; see
        :class:`nbtrack.sweeps.Sweep`.

    Raises
    ------
    ValueError
        A bad space, method, pruner, goal, name or size; an objective ``n_jobs > 1`` cannot
        import; resuming a sweep that does not exist; a sweep of that name with another
        metric or goal.
    KeyboardInterrupt
        After marking the running trial ``interrupted`` (re-run to continue).

    Examples
    --------
    >>> def objective(config):  # doctest: +SKIP
    ...     for epoch in range(10):
    ...         nbtrack.log({"val/loss": train_epoch(config["lr"], config["depth"])}, step=epoch)
    >>> result = nbtrack.sweep(objective, {"lr": nbtrack.loguniform(1e-4, 1e-1),
    ...                                    "depth": nbtrack.intrange(2, 8)}, n_trials=20)
    >>> result.best_config  # doctest: +SKIP
    {'lr': 0.0031, 'depth': 5}
    """
    from nbtrack.sweeps.notebook import NotebookObjective, is_notebook
    from nbtrack.sweeps.result import Sweep
    from nbtrack.sweeps.widget import progress_view

    if is_notebook(objective):
        objective = NotebookObjective(cast("str | os.PathLike[str]", objective))
    if not callable(objective) and not isinstance(objective, NotebookObjective):
        raise ValueError(f"the objective must be a function or a .ipynb notebook, not "
                         f"{objective!r}")
    plan = resolve(space, method=method, metric=metric, goal=goal, pruner=pruner)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, not {n_jobs!r}")
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1:
        raise ValueError(f"max_failures must be a positive integer, not {max_failures!r}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    # a notebook's ref is kept even for n_jobs=1, so `nbtrack sweep worker` can join
    ref = (objective_ref(objective) if n_jobs > 1 or isinstance(objective, NotebookObjective)
           else None)
    ws = Path(workspace).expanduser().resolve() if workspace else _config.workspace_dir()
    name = _name(name, resume, storage, ws)
    total = _size(plan, n_trials, timeout)
    study = open_study(name, plan, storage, ws, seed=seed, must_exist=resume,
                       extra={"objective": ref, "n_trials": total})
    view = progress_view(name, plan, total, enabled=progress)
    view.sync(study_outcomes(study))
    reason: str | None = None
    try:
        if n_jobs == 1:
            reason = work(study, plan, objective, sweep=name, n_trials=total, timeout=timeout,
                          max_failures=max_failures, workspace=ws, on_trial=view.add)
        else:
            reason = _run_workers(name, plan, storage, ref or "", n_jobs, ws, total=total,
                                  timeout=timeout, max_failures=max_failures, seed=seed,
                                  view=view, study=study)
    except KeyboardInterrupt:
        view.close("interrupted")
        raise
    view.close(reason)
    return Sweep(name, storage=storage, workspace=ws, stop_reason=reason, study=study)


def _name(name: str | None, resume: bool, storage: Any, workspace: Path) -> str:
    if name is not None:
        return _storage.check_name(name)
    if resume:
        known = _storage.known(workspace)
        if not known:
            raise ValueError("resume=True but this workspace has no sweep yet; pass name=")
        return known[0][0]
    return _storage.next_name(workspace)


def _size(plan: Plan, n_trials: int | None, timeout: float | None) -> int | None:
    if n_trials is not None:
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise ValueError(f"n_trials must be a positive integer, not {n_trials!r}")
    if plan.method == "grid":
        size = plan.grid_size()
        return size if n_trials is None else min(n_trials, size)
    if n_trials is None:
        n_trials = plan.run_cap
    if n_trials is None and timeout is None:
        raise ValueError("give n_trials= (the sweep's size) or timeout= (seconds)")
    return n_trials


# -- the study --------------------------------------------------------------------------------

@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's per-trial INFO lines off while a sweep shows its own progress."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(level, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def open_study(name: str, plan: Plan, storage: Any, workspace: Path, *, seed: int | None = None,
               must_exist: bool = False, extra: dict[str, Any] | None = None) -> Any:
    """Create (or load) the sweep's Optuna study, keeping its plan in a user attribute.

    Raises ValueError when ``must_exist`` and there is no such sweep, or when the sweep
    exists with another metric or goal.
    """
    import optuna

    store, label = _storage.open_storage(name, storage, workspace)
    exists = True
    try:
        store.get_study_id_from_name(name)
    except KeyError:
        exists = False
    if must_exist and not exists:
        raise ValueError(f"there is no sweep {name!r} to resume in {label}")
    with quiet_optuna():
        study = optuna.create_study(storage=store, sampler=plan.sampler(seed),
                                    pruner=plan.make_pruner(), study_name=name,
                                    direction=cast(Any, plan.direction), load_if_exists=True)
    previous = study.user_attrs.get(PLAN_ATTR) if exists else None
    if isinstance(previous, dict) and (previous.get("metric"), previous.get("goal")) != (
            plan.metric, plan.goal):
        raise ValueError(
            f"sweep {name!r} optimizes {previous.get('metric')!r} ({previous.get('goal')}), "
            f"not {plan.metric!r} ({plan.goal}): pick another name")
    if exists and study.direction.name.lower() != plan.goal:
        raise ValueError(f"sweep {name!r} was made to {study.direction.name.lower()}, not "
                         f"to {plan.goal}: pick another name")
    attrs = {**plan.to_json(), **(extra or {}),
             "created": (previous or {}).get("created") or time.time(),
             "storage": _storage.describe(storage) if storage is not None else None}
    study.set_user_attr(PLAN_ATTR, attrs)
    _storage.remember(name, storage, workspace)
    return study


def load_plan(study: Any) -> Plan:
    """The plan a sweep's study keeps (see :func:`open_study`)."""
    data = study.user_attrs.get(PLAN_ATTR)
    if not isinstance(data, dict):
        raise ValueError(f"study {study.study_name!r} was not made by nbtrack.sweep (no "
                         f"{PLAN_ATTR!r} user attribute)")
    return Plan.from_json(data)


def _counted(trial: Any) -> bool:
    """Trials that take a place in the sweep: not surplus, not interrupted or crashed (re-run
    those)."""
    attrs = trial.user_attrs
    return not attrs.get(SURPLUS_ATTR) and attrs.get("nbtrack_status") not in (
        "interrupted", _liveness.CRASHED)


def study_outcomes(study: Any) -> list[Outcome]:
    """Every trial of the sweep (surplus ones left out), oldest first."""
    return [outcome_of(t) for t in study.get_trials(deepcopy=False)
            if not t.user_attrs.get(SURPLUS_ATTR)]


# -- one worker's loop ------------------------------------------------------------------------

def work(study: Any, plan: Plan, objective: Objective, *, sweep: str,
         n_trials: int | None, timeout: float | None = None,
         max_failures: int = MAX_FAILURES, workspace: Any = None,
         on_trial: Callable[[Outcome], None] | None = None) -> str | None:
    """Run trials of ``study`` until it has ``n_trials`` (or ``timeout`` passes, or
    ``max_failures`` fail in a row); return why it stopped early (None: done).

    The environment is captured for this worker's first trial only (a git diff per trial
    would cost more than many objectives).
    """
    from optuna.trial import TrialState

    deadline = None if timeout is None else time.monotonic() + timeout
    failures = 0
    first = True
    me = _liveness.owner()
    with quiet_optuna():
        _liveness.fail_dead_trials(study)
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            if n_trials is not None and sum(map(_counted, study.get_trials(
                    deepcopy=False))) >= n_trials:
                return None
            trial = study.ask()
            trial.set_user_attr(_liveness.OWNER_ATTR, me)
            if n_trials is not None:
                ahead = [t for t in study.get_trials(deepcopy=False)
                         if t.number <= trial.number and _counted(t)]
                if len(ahead) > n_trials:  # another worker took the last place first
                    trial.set_user_attr(SURPLUS_ATTR, True)
                    study.tell(trial, state=TrialState.FAIL)
                    return None
            outcome = run_trial(study, trial, plan, objective, sweep=sweep,
                                workspace=workspace, capture_env=first)
            first = False
            if on_trial is not None:
                on_trial(outcome)
            failures = failures + 1 if outcome.status == "failed" else 0
            if failures >= max_failures:
                return (f"stopped after {failures} failed trials in a row; the last: "
                        f"{outcome.error}")


# -- worker processes -------------------------------------------------------------------------

def objective_ref(objective: Any) -> str:
    """``module:qualname`` of an objective another process can import (a notebook
    objective's JSON), else a ValueError saying what to do (a function defined in a notebook
    cell cannot be imported)."""
    from nbtrack.sweeps.notebook import NotebookObjective

    if isinstance(objective, NotebookObjective):
        return objective.ref()
    module = getattr(objective, "__module__", None)
    qualname = getattr(objective, "__qualname__", None)
    if not callable(objective) or not module or not qualname:
        raise ValueError(f"n_jobs > 1 needs a function importable from a module, not "
                         f"{objective!r}")
    if module in ("__main__", "__mp_main__") or "<" in qualname:
        raise ValueError(
            f"n_jobs > 1 runs {qualname} in new processes, which import it by name, but it is "
            "defined in a notebook cell or in the main script. Move it to a module (train.py: "
            "from train import objective), or use n_jobs=1 to run the trials here one after "
            "another.")
    ref = f"{module}:{qualname}"
    try:
        found = import_objective(ref)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"n_jobs > 1: cannot import {ref} ({exc})") from None
    if found is not objective and getattr(found, "__wrapped__", None) is not objective:
        raise ValueError(f"n_jobs > 1: {ref} names another object than the objective given")
    return ref


def import_objective(ref: str) -> Objective:
    """The function ``module:qualname`` names; a notebook objective for a ``.ipynb`` path
    or the JSON of :meth:`NotebookObjective.ref <nbtrack.sweeps.NotebookObjective.ref>`."""
    from nbtrack.sweeps.notebook import NotebookObjective, is_notebook

    if is_notebook(ref) or ref.lstrip().startswith("{"):
        return NotebookObjective.from_ref(ref)
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"an objective is named module:function, not {ref!r}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{ref} is not callable")
    objective: Callable[[dict[str, Any]], Any] = target
    return objective


def worker_main(name: str, plan: Plan, storage: Any, ref: str, workspace: str,
                n_trials: int | None, timeout: float | None, max_failures: int,
                seed: int | None) -> None:
    """A worker process: join the study, run trials until the sweep is done."""
    import optuna

    store, _label = _storage.open_storage(name, storage, workspace)
    with quiet_optuna():
        study = optuna.load_study(study_name=name, storage=store, sampler=plan.sampler(seed),
                                  pruner=plan.make_pruner())
    reason = work(study, plan, import_objective(ref), sweep=name, n_trials=n_trials,
                  timeout=timeout, max_failures=max_failures, workspace=workspace)
    if reason:
        print(f"nbtrack sweep {name}: {reason}", flush=True)
        raise SystemExit(3)


def _run_workers(name: str, plan: Plan, storage: Any, ref: str, n_jobs: int, workspace: Path,
                 *, total: int | None, timeout: float | None, max_failures: int,
                 seed: int | None, view: Any, study: Any) -> str | None:
    context = multiprocessing.get_context("spawn")
    if storage is not None and not isinstance(storage, (str, os.PathLike)):
        raise ValueError("n_jobs > 1 needs storage=None, a journal path or a database URL "
                         "(an Optuna storage object cannot be shared with new processes)")
    procs = [context.Process(
        target=worker_main, name=f"nbtrack-sweep-{name}-{i}",
        args=(name, plan, storage, ref, str(workspace), total, timeout, max_failures,
              None if seed is None else seed + i))
        for i in range(n_jobs)]
    for proc in procs:
        proc.start()
    try:
        while any(proc.is_alive() for proc in procs):
            time.sleep(0.5)
            view.sync(study_outcomes(study))
    except KeyboardInterrupt:
        for proc in procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(proc.pid, signal.SIGINT)
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
        view.sync(study_outcomes(study))
        raise
    view.sync(study_outcomes(study))
    codes = [proc.exitcode for proc in procs]
    stopped = [c for c in codes if c not in (0, None)]
    if stopped:
        return (f"{len(stopped)} of {n_jobs} workers stopped early (exit codes {stopped}); "
                "see their output")
    return None
