"""The recorder loses nothing silently, survives anything, and never grows without bound."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack import recorder
from nbtrack.cli import main as cli


def bad_cell(run: int) -> dict[str, object]:
    """A cell record SQLite cannot store (text with a lone surrogate)."""
    return {"id": 42, "run": run, "session": "s", "execution_count": 1, "cell_id": None,
            "source": "x = '\ud800'", "started": time.time()}


def test_every_loss_is_counted_on_the_run_and_in_status(workspace: Path) -> None:
    with nbtrack.init() as run:
        run.log({"loss": 0.5})
        with pytest.warns(nbtrack.TrackingWarning, match="could not record 1 item"):
            run.recorder.cell_started(bad_cell(run.number))
            run.recorder.flush()
        run.recorder.cell_started(bad_cell(run.number))  # a second loss: counted too
        run.log({"loss": 0.25})
    assert run.history("loss")["loss"]["value"] == [0.5, 0.25]
    assert nbtrack.get_run(run.number).record()["lost"] == 2
    (store,) = [s for s in nbtrack.status()["stores"] if s["path"] == str(run.recorder.path)]
    assert store["lost"] == 2 and store["writer_alive"]
    assert "UnicodeEncodeError" in store["last_error"]
    shown = CliRunner().invoke(cli, ["show", str(run.number)])
    assert "2 items could not be stored" in shown.output


def test_the_writer_survives_warnings_turned_into_errors(workspace: Path) -> None:
    """Under ``python -W error`` a loss warning raised inside the writer used to kill it."""
    script = textwrap.dedent(f"""
        import time, nbtrack
        run = nbtrack.init(name="strict")
        run.log({{"loss": 1.0}})
        run.recorder.cell_started({bad_cell(1)!r})
        run.recorder.flush()
        for step in range(1, 1000):
            run.log({{"loss": 1.0 / step}})
        run.finish()
        store = nbtrack.status()["stores"][0]
        print(store["writer_alive"], store["lost"], len(run.history("loss")["loss"]["step"]))
    """)
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", script], capture_output=True, text=True,
        env={**os.environ, "NBTRACK_DIR": str(workspace)}, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "1", "1000"]


def test_a_full_queue_makes_log_wait_for_the_writer(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the writer held up, the queue stays within its cap and no point is dropped."""
    monkeypatch.setenv("NBTRACK_QUEUE_MAX", "1000")
    monkeypatch.setenv("NBTRACK_DIR", str(workspace / "capped"))
    run = nbtrack.init(capture_env=False)
    rec = run.recorder
    assert rec.queue_max == 1000
    longest = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal longest
        while not stop.is_set():
            longest = max(longest, len(rec.points))
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with rec.lock:  # the writer cannot write while we hold its connection
        logger = threading.Thread(target=lambda: [run.log({"x": i}) for i in range(5000)])
        logger.start()
        logger.join(timeout=1.0)
        assert logger.is_alive(), "log() should wait while the queue is full"
        assert len(rec.points) <= rec.queue_max
    logger.join(timeout=60)
    stop.set()
    watcher.join()
    run.finish()
    assert longest <= rec.queue_max
    assert run.history("x")["x"]["value"] == [float(i) for i in range(5000)]


def test_runs_started_and_finished_while_the_writer_beats_hearts_lose_nothing(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer used to iterate the live runs while init()/finish() changed them."""
    monkeypatch.setenv("NBTRACK_HEARTBEAT", "0")
    monkeypatch.setenv("NBTRACK_DIR", str(workspace / "beats"))
    runs = []
    for i in range(150):
        run = nbtrack.init(capture_env=False)
        run.log({"i": i})
        runs.append(run)
    nbtrack.finish()
    recorder.flush_all()
    for i, run in enumerate(runs):
        assert run.history("i")["i"]["value"] == [float(i)]
    (store,) = [s for s in nbtrack.status()["stores"] if s["path"] == str(runs[0].recorder.path)]
    assert store["lost"] == 0


def test_a_param_that_cannot_be_stored_leaves_no_ghost_run(workspace: Path) -> None:
    with pytest.raises(ValueError, match="param"):
        nbtrack.init(name="ghost", config={"ok": 1, "bad": "\ud800"})
    assert nbtrack.active_run() is None
    assert nbtrack.sql("select count(*) as n from runs")[0]["n"] == 0
