"""Several processes on one store, and a process that dies in the middle of a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import nbtrack

WRITER = textwrap.dedent(
    """
    import sys, nbtrack
    name, points = sys.argv[1], int(sys.argv[2])
    with nbtrack.init(name=name, capture_env=False) as run:
        for step in range(points):
            run.log({"loss": step * 0.5}, step=step)
    """
)

DYING = textwrap.dedent(
    """
    import sys, time, nbtrack
    run = nbtrack.init(name="doomed", capture_env=False)
    step = 0
    while True:
        run.log({"loss": float(step)}, step=step)
        if step % 50 == 0:
            print(step, flush=True)
        step += 1
        time.sleep(0.002)
    """
)


def _env(workspace: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, NBTRACK_DIR=str(workspace), **extra)
    python_dir = str(Path(nbtrack.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (python_dir, env.get("PYTHONPATH")) if p)
    return env


def test_two_processes_logging_at_once_lose_no_point(workspace: Path) -> None:
    points = 20_000
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, name, str(points)],
                         env=_env(workspace), stderr=subprocess.PIPE, text=True)
        for name in ("left", "right")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert not any("locked" in e for e in errors), errors
    for name in ("left", "right"):
        run = nbtrack.get_run(name)
        series = run.history("loss")["loss"]
        assert series["step"] == list(range(points))
        assert series["value"][-1] == (points - 1) * 0.5
        assert run.status == "finished"
        assert run.summary["loss"] == (points - 1) * 0.5


def test_a_killed_process_keeps_its_flushed_points_and_reads_as_crashed(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _env(workspace, NBTRACK_HEARTBEAT="0.2", NBTRACK_STALE_AFTER="1.5")
    proc = subprocess.Popen([sys.executable, "-c", DYING], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        reached = -1
        started = time.monotonic()
        while time.monotonic() - started < 2.5:  # longer than the staleness limit
            reached = int(proc.stdout.readline())
        monkeypatch.setenv("NBTRACK_STALE_AFTER", "1.5")
        assert nbtrack.get_run("doomed").status == "running"  # the heartbeat keeps it alive
        time.sleep(1.0)  # points logged up to `reached` are now over a second old
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        run = nbtrack.get_run("doomed")
        steps = run.history("loss")["loss"]["step"]
        assert steps[: reached + 1] == list(range(reached + 1))
        time.sleep(2.0)
        assert nbtrack.get_run("doomed").status == "crashed"
    finally:
        if proc.poll() is None:
            proc.kill()
