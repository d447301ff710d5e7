"""Notebooks as sweep objectives (issues 13 and 15): ``nbtrack.sweep("train.ipynb", ...)`` and
``nbtrack sweep NOTEBOOK.ipynb``, each trial a notebook job whose run is the trial's run, with
real kernels through papermill (the tests marked ``slow``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack.artifacts.artifact import get_artifact
from nbtrack.cli import main
from nbtrack.sweeps import NotebookObjective
from nbtrack.sweeps.sweep import import_objective, objective_ref

#: Logs ``val/loss`` from its params; raises for depth 3.
TRAIN = [
    ("import nbtrack", None),
    ("lr = 0.01\ndepth = 2", "parameters"),
    ("if depth == 3:\n    raise ValueError('depth 3 diverges')\n"
     "for step in range(2):\n    nbtrack.log({'val/loss': (lr - 0.01) ** 2 + depth + 1 - step})\n"
     "print('trained', lr, depth)", None),
]


def write_notebook(path: Path, cells: list[tuple[str, str | None]]) -> Path:
    """A notebook of ``(source, tag)`` code cells on the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    for source, tag in cells:
        cell = nbformat.v4.new_code_cell(source)
        if tag:
            cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def train(workspace: Path) -> Path:
    return write_notebook(workspace / "train.ipynb", TRAIN)


def _runs(name: str) -> list[nbtrack.Run]:
    """The runs of sweep ``name``, oldest first."""
    return list(reversed(list(nbtrack.runs(where=f'tags has "sweep={name}"', limit=None))))


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# -- no kernel --------------------------------------------------------------------------------

def test_a_notebook_objective_travels_to_worker_processes_as_its_ref(train: Path) -> None:
    objective = NotebookObjective(train, params={"epochs": 3}, timeout=60)
    ref = objective_ref(objective)
    again = import_objective(ref)
    assert isinstance(again, NotebookObjective)
    assert again.ref() == ref and again.path == train.resolve() and again.params == {"epochs": 3}
    assert isinstance(import_objective(str(train)), NotebookObjective)  # --objective X.ipynb
    with pytest.raises(ValueError, match="no notebook"):
        nbtrack.sweep(str(train.with_name("missing.ipynb")), {"lr": nbtrack.uniform(0, 1)},
                      n_trials=1, progress=False)
    with pytest.raises(ValueError, match="kernel"):
        NotebookObjective(train, kernel="no-such-kernel")


def test_cli_sweep_of_a_notebook_rejects_bad_input_with_exit_2(train: Path) -> None:
    bad_space = invoke("sweep", str(train), "--space", "lr=gaussian(0,1)", "--trials", "2")
    assert bad_space.exit_code == 2 and "use one of" in bad_space.output
    no_eq = invoke("sweep", str(train), "--space", "lr", "--trials", "2")
    assert no_eq.exit_code == 2 and "NAME=DISTRIBUTION" in no_eq.output
    missing = invoke("sweep", str(train.with_name("nope.ipynb")), "--space", "lr=[1,2]",
                     "--trials", "2")
    assert missing.exit_code == 2 and "no notebook" in missing.output
    no_space = invoke("sweep", str(train), "--trials", "2")
    assert no_space.exit_code == 2 and "--space" in no_space.output
    assert not nbtrack.runs()
    helped = invoke("sweep", "--help")
    assert helped.exit_code == 0 and "NOTEBOOK.ipynb" in helped.output
    assert "worker" in helped.output and "notebook" in helped.output


# -- real kernels -----------------------------------------------------------------------------

@pytest.mark.slow
def test_notebook_sweep_records_exactly_one_run_per_trial(train: Path, workspace: Path) -> None:
    result = nbtrack.sweep(str(train), {"lr": nbtrack.loguniform(1e-4, 1e-1),
                                        "depth": nbtrack.choice(2, 4)},
                           n_trials=4, method="random", seed=3, name="nb", progress=False)
    everything = list(nbtrack.runs(limit=None))
    runs = _runs("nb")
    assert len(everything) == len(runs) == 4  # the job's run is the trial's: no second run
    assert [r.name for r in runs] == [f"nb-trial-{i}" for i in range(4)]
    frame = result.trials
    db = nbtrack.config.db_path(workspace)
    kept = {get_artifact(db, f"train.ipynb:v{i}").run for i in range(4)}
    assert kept == {r.number for r in runs}  # each run keeps its executed notebook
    for run, (_, row) in zip(runs, frame.iterrows()):
        assert run.status == "finished" and row["status"] == "finished"
        assert set(run.tags) == {"sweep", "sweep=nb"}
        assert run.params == {"lr": row["params.lr"], "depth": row["params.depth"]}
        assert row["run"] == run.number and run.notebook == "train.ipynb"
        assert row["value"] == pytest.approx(run.summary["val/loss"])
        assert row["value"] == pytest.approx((run.params["lr"] - 0.01) ** 2
                                             + run.params["depth"])
        assert len(run.history("val/loss")["val/loss"]["value"]) == 2
    best = frame.loc[frame["value"].idxmin()]
    assert result.best_value == pytest.approx(best["value"])
    assert result.best_config == {"lr": best["params.lr"], "depth": best["params.depth"]}
    assert result.best_run is not None and result.best_run.number == best["run"]
    [version] = [v for v in (get_artifact(db, f"train.ipynb:v{i}") for i in range(4))
                 if v.run == result.best_run.number]
    assert version.metadata["parameters"] == result.best_config
    executed = nbformat.read(version.download(workspace / "dl") / "train.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert f"trained {best['params.lr']} {best['params.depth']}" in printed


@pytest.mark.slow
def test_a_notebook_that_raises_fails_its_trial_and_the_sweep_goes_on(
        train: Path, workspace: Path) -> None:
    result = nbtrack.sweep(train, {"depth": nbtrack.choice(2, 3, 4)}, method="grid",
                           name="fails", progress=False)
    by_depth = {o.params["depth"]: o for o in result.outcomes()}
    assert sorted(by_depth) == [2, 3, 4]
    assert by_depth[3].status == "failed"
    assert "ValueError: depth 3 diverges" in (by_depth[3].error or "")
    assert by_depth[2].status == by_depth[4].status == "finished"
    runs = {r.params["depth"]: r for r in _runs("fails")}
    assert len(runs) == 3 and runs[3].status == "failed"
    assert by_depth[3].run_number == runs[3].number  # the failed trial links its run
    assert result.best_config == {"depth": 2}


@pytest.mark.slow
def test_cli_sweeps_a_notebook_with_two_jobs_then_a_worker_joins(
        train: Path, workspace: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nbtrack", "sweep", str(train), "--space",
         "lr=loguniform(1e-4,1e-1)", "--space", "depth=intrange(4,8)", "--trials", "4",
         "--jobs", "2", "--metric", "val/loss", "--goal", "min", "--name", "cli",
         "--method", "random", "--timeout", "120"],
        cwd=workspace, capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert "best val/loss=" in proc.stdout
    runs = _runs("cli")
    assert len(list(nbtrack.runs(limit=None))) == 4
    assert sorted(r.name for r in runs) == [f"cli-trial-{i}" for i in range(4)]
    assert {r.status for r in runs} == {"finished"}
    found = nbtrack.get_sweep("cli")
    outcomes = found.outcomes()
    assert sorted(o.number for o in outcomes) == [0, 1, 2, 3]  # no trial twice, none lost
    assert sorted(o.run_number for o in outcomes) == sorted(r.number for r in runs)
    assert {o.status for o in outcomes} == {"finished"}

    joined = subprocess.run(
        [sys.executable, "-m", "nbtrack", "sweep", "worker", "cli", "--trials", "5"],
        cwd=workspace, capture_output=True, text=True, timeout=300, env=_env())
    assert joined.returncode == 0, joined.stderr
    assert "trial 4 finished" in joined.stderr
    assert len(_runs("cli")) == 5

    listed = subprocess.run([sys.executable, "-m", "nbtrack", "sweeps", "list", "--json"],
                            cwd=workspace, capture_output=True, text=True, timeout=120,
                            env=_env())
    assert listed.returncode == 0, listed.stderr
    [summary] = json.loads(listed.stdout)
    assert summary["name"] == "cli" and summary["counts"] == {"finished": 5}
