"""Two `nbtrack sweep worker` processes on two "machines" (each its own workspace) finish one
study together through Optuna's RDB storage on a real PostgreSQL (Debian's postgresql, started by
``postgres_fixture``): every trial run once, none lost or duplicated, and any workspace reads the
whole sweep from the shared storage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nbtrack
from postgres_fixture import Postgres, create_database
from postgres_fixture import postgres as postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
TRIALS = 12


def _worker(workspace: Path, url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NBTRACK_DIR": str(workspace), "SWEEP_SLEEP": "0.2",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "nbtrack", "sweep", "worker", "shared", "--storage", url,
         "--trials", str(TRIALS), "--objective", "sweep_objectives:sleepy"],
        cwd=TESTS, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_workers_on_postgresql_finish_one_study_with_nothing_lost_or_doubled(
    postgres: Postgres, workspace: Path, tmp_path: Path,  # noqa: F811
) -> None:
    from sweep_objectives import sleepy

    url = create_database(postgres, "sweep_workers")
    # The sweep is created here (one trial), then two other machines join it.
    nbtrack.sweep(sleepy, {"x": nbtrack.uniform(0, 1)}, n_trials=1, name="shared",
                  storage=url, progress=False, metric="val/loss", pruner=None)
    machines = [tmp_path / "machine-a", tmp_path / "machine-b"]
    for m in machines:
        m.mkdir()
    workers = [_worker(m, url) for m in machines]
    for w in workers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err[-3000:]

    sweep = nbtrack.get_sweep("shared", storage=url)
    outcomes = sweep.outcomes()
    numbers = [o.number for o in outcomes]
    assert sorted(numbers) == list(range(TRIALS))  # no trial lost, none run twice
    assert {o.status for o in outcomes} == {"finished"}
    # Each trial's run lives in the workspace of the machine that ran it: exactly one run per
    # trial across the three workspaces, and both joining machines did some of the work.
    names: list[str] = []
    for ws in (workspace, *machines):
        runs = nbtrack.runs(tag="sweep=shared", workspace=ws)
        names += [r.name for r in runs]
        if ws != workspace:
            assert len(runs) > 0
    assert sorted(names) == sorted(f"shared-trial-{n}" for n in range(TRIALS))
    assert sweep.best_value == pytest.approx(min(o.value for o in outcomes))
