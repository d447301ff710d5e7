"""The Optuna study callback with the real optuna (in-memory and SQLite storages): one run per
trial whose params are ``trial.params`` and whose metrics are the trial's values, states and
statuses as Optuna reports them, logging inside the objective, a notebook run left alone."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

import nbtrack
from nbtrack.integrations.optuna import NbtrackCallback

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    depth = trial.suggest_int("depth", 1, 4)
    return (x - 2) ** 2 + depth + (0.5 if kind == "b" else 0.0)


def trial_run(study: optuna.Study, number: int) -> nbtrack.Run:
    return nbtrack.get_run(f"{study.study_name}-trial-{number}")


def assert_trial_recorded(study: optuna.Study, trial: optuna.trial.FrozenTrial,
                          metric: str = "value") -> nbtrack.Run:
    run = trial_run(study, trial.number)
    assert run.params == trial.params
    assert run.status == "finished"
    assert run.summary["state"] == trial.state.name
    assert run.summary["trial_number"] == trial.number
    assert run.summary["duration"] == pytest.approx(trial.duration.total_seconds())
    assert run.summary["direction"] == "MINIMIZE"
    assert {"optuna", study.study_name} <= set(run.tags)
    if trial.state.name == "COMPLETE":
        assert run.history(metric).values(metric) == [trial.value]
        assert run.summary[metric] == trial.value
    return run


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_each_trial_is_a_run_with_its_params_and_value(workspace: Path, tmp_path: Path,
                                                       storage: str) -> None:
    url = None if storage == "memory" else f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="quad", storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=5, callbacks=[NbtrackCallback()])
    trials = study.get_trials()
    assert len(trials) == 5
    assert sorted(run.name for run in nbtrack.runs()) == [f"quad-trial-{n}" for n in range(5)]
    for trial in trials:
        assert_trial_recorded(study, trial)
    best = nbtrack.get_run(f"quad-trial-{study.best_trial.number}")
    assert best.summary["value"] == study.best_value


def test_a_study_inside_a_notebook_run_leaves_that_run_live_and_active(workspace: Path) -> None:
    with nbtrack.init(name="notebook") as outer:
        study = optuna.create_study(study_name="beside")
        study.optimize(objective, n_trials=2, callbacks=[NbtrackCallback()])
        assert outer.live and nbtrack.active_run() is outer
    assert outer.status == "finished" and outer.metric_keys() == []
    for trial in study.trials:
        assert_trial_recorded(study, trial)


def test_metric_name_names_the_value(workspace: Path) -> None:
    study = optuna.create_study(study_name="named")
    study.optimize(objective, n_trials=2, callbacks=[NbtrackCallback(metric_name="loss")])
    for trial in study.trials:
        assert_trial_recorded(study, trial, metric="loss")


def test_multi_objective_values_are_one_metric_per_name(workspace: Path) -> None:
    def two(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        return x, 1 - x ** 2

    study = optuna.create_study(study_name="pareto", directions=["minimize", "maximize"])
    study.optimize(two, n_trials=3, callbacks=[NbtrackCallback(metric_name=["cost", "gain"])])
    other = optuna.create_study(study_name="numbered", directions=["minimize", "maximize"])
    other.optimize(two, n_trials=1, callbacks=[NbtrackCallback()])
    for trial in study.trials:
        run = trial_run(study, trial.number)
        assert run.params == trial.params
        assert [run.summary["cost"], run.summary["gain"]] == trial.values
        assert run.summary["direction"] == ["MINIMIZE", "MAXIMIZE"]
    run = trial_run(other, 0)
    assert [run.summary["value_0"], run.summary["value_1"]] == other.trials[0].values


def test_pruned_and_failed_trials_keep_their_state(workspace: Path) -> None:
    def flaky(trial: optuna.Trial) -> float:
        x = trial.suggest_int("x", 0, 100)
        trial.report(x / 2, step=0)
        trial.report(x / 3, step=5)
        if trial.number == 1:
            raise optuna.TrialPruned()
        if trial.number == 2:
            raise ValueError("bad trial")
        if trial.number == 3:
            return math.nan  # Optuna fails a NaN result
        return float(x)

    study = optuna.create_study(study_name="flaky")
    study.optimize(flaky, n_trials=4, catch=(ValueError,), callbacks=[NbtrackCallback()])
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "PRUNED", "FAIL", "FAIL"]
    runs = [trial_run(study, n) for n in range(4)]
    assert [r.status for r in runs] == ["finished", "pruned", "failed", "failed"]
    assert [r.summary["state"] for r in runs] == states
    assert runs[1].params == study.trials[1].params
    for run, trial in zip(runs, study.trials):
        history = run.history("intermediate_value")
        assert history.steps("intermediate_value") == sorted(trial.intermediate_values)
        assert history.values("intermediate_value") == [
            trial.intermediate_values[s] for s in sorted(trial.intermediate_values)]
    # Optuna gives a pruned trial its last reported value; a failed trial has none.
    assert runs[1].summary["value"] == study.trials[1].value == study.trials[1].params["x"] / 3
    assert "value" not in runs[2].summary and "value" not in runs[3].summary


# -- Logging inside the objective ----------------------------------------------------------------

def test_track_in_nbtrack_logs_inside_the_trial_run_and_leaves_the_active_run_alone(
        workspace: Path) -> None:
    callback = NbtrackCallback()
    seen: list[Any] = []

    @callback.track_in_nbtrack()
    def logged(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        seen.append(callback.run(trial))
        for step in range(3):
            nbtrack.log({"partial": x * step})
        return x ** 2

    with nbtrack.init(name="notebook") as outer:
        study = optuna.create_study(study_name="inner")
        study.optimize(logged, n_trials=3, callbacks=[callback])
        assert outer.live and nbtrack.active_run() is outer
        nbtrack.log({"after": 1.0})
    assert outer.metric_keys() == ["after"]
    assert outer.status == "finished"
    for trial in study.trials:
        run = assert_trial_recorded(study, trial)
        assert seen[trial.number] == run
        x = trial.params["x"]
        assert run.history("partial").values("partial") == pytest.approx([0, x, 2 * x])
        assert run.history("value").steps("value") == [3]  # after what the objective logged


def test_an_uncaught_error_in_a_tracked_objective_fails_its_run(workspace: Path) -> None:
    callback = NbtrackCallback()

    @callback.track_in_nbtrack()
    def broken(trial: optuna.Trial) -> float:
        trial.suggest_int("n", 1, 3)
        nbtrack.log({"started": 1})
        raise RuntimeError("out of memory")

    study = optuna.create_study(study_name="broken")
    with pytest.raises(RuntimeError, match="out of memory"):
        study.optimize(broken, n_trials=2, callbacks=[callback])
    run = trial_run(study, 0)
    assert run.status == "failed"
    assert run.params == study.trials[0].params
    assert run.summary["state"] == "FAIL"
    assert nbtrack.active_run() is None


def test_a_tracking_failure_warns_and_the_study_goes_on(workspace: Path) -> None:
    study = optuna.create_study(study_name="warned", directions=["minimize", "minimize"])
    with pytest.warns(nbtrack.TrackingWarning, match="2 objective values but 3 metric names"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2,
                       callbacks=[NbtrackCallback(metric_name=["a", "b", "c"])])
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    run = trial_run(study, 1)
    assert [run.summary["value_0"], run.summary["value_1"]] == study.trials[1].values
    with pytest.raises(TypeError, match="metric_name"):
        NbtrackCallback(metric_name=3)  # type: ignore[arg-type]


# -- In a notebook -------------------------------------------------------------------------------

@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    ip.run_line_magic("unload_ext", "nbtrack")


def test_in_a_notebook_the_trial_points_carry_the_cell_that_ran_the_study(
        shell: InteractiveShell) -> None:
    shell.user_ns.update(optuna=optuna, objective=objective, NbtrackCallback=NbtrackCallback)
    source = ("study = optuna.create_study(study_name='cells')\n"
              "study.optimize(objective, n_trials=2, callbacks=[NbtrackCallback()])")
    result = shell.run_cell(source, store_history=True)
    assert result.success, result.error_in_exec
    cells = {run.name: run for run in nbtrack.runs()}
    assert set(cells) == {"cells-trial-0", "cells-trial-1"}
    last = cells["cells-trial-1"]
    (cell,) = [c for c in last.cells if c["source"] == source]
    for run in cells.values():
        assert set(run.history("value")["value"]["cell"]) == {cell["id"]}


# -- Imports ------------------------------------------------------------------------------------

def python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_importing_the_integration_does_not_import_optuna() -> None:
    out = python("import sys\nimport nbtrack.integrations.optuna\n"
                 "print('optuna' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_missing_optuna_is_an_import_error_naming_it() -> None:
    out = python("import sys\nsys.modules['optuna'] = None  # as if not installed\n"
                 "from nbtrack.integrations.optuna import NbtrackCallback\n"
                 "try:\n    NbtrackCallback()\nexcept ImportError as exc:\n    print(exc)\n")
    assert out.returncode == 0, out.stderr
    assert "pip install optuna" in out.stdout
