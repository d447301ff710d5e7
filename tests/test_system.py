"""System metrics: the sampler thread a run starts, in a plain Python process (as scripts)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

import nbtrack
from nbtrack import system

ROOT = Path(__file__).resolve().parents[1]

PSUTIL_KEYS = {
    "system/cpu_percent", "system/cpu_system_percent", "system/rss_bytes",
    "system/memory_percent", "system/disk_read_bytes", "system/disk_write_bytes",
    "system/net_sent_bytes", "system/net_recv_bytes",
}


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("nbtrack-system")]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait (not a timed assertion: the limit only stops a hung test) until ``condition()``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def samples_of(run: nbtrack.Run) -> int:
    sampler = next((s for s in system.running() if s.run is run), None)
    return sampler.samples if sampler is not None else 0


def system_keys(run: nbtrack.Run) -> set[str]:
    return {k for k in run.metric_keys() if k.startswith("system/")}


@pytest.fixture
def no_tracking_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Fails the test on any TrackingWarning (also from the sampler thread)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    tracking = [str(w.message) for w in caught if issubclass(w.category, nbtrack.TrackingWarning)]
    assert tracking == []


def test_a_run_records_system_metrics_at_their_own_steps(workspace: Path,
                                                         no_tracking_warnings: Any) -> None:
    run = nbtrack.init("sampled", system_interval=0.2)
    assert len(sampler_threads()) == 1
    run.log({"loss": 1.0})  # the user's steps: 0, 1, 2 whatever the sampler does meanwhile
    wait_for(lambda: samples_of(run) >= 4, "four system samples")
    run.log({"loss": 0.5})
    run.log({"loss": 0.25})
    run.finish()
    history = run.history()
    assert PSUTIL_KEYS <= set(history)
    assert history["loss"]["step"] == [0, 1, 2]
    cpu = history["system/cpu_percent"]
    assert cpu["step"] == list(range(cpu["count"])) and cpu["count"] >= 4
    assert all(b > a for a, b in zip(cpu["time"], cpu["time"][1:]))
    assert all(c is None for c in cpu["cell"])
    cores = psutil.cpu_count() or 1
    assert all(0 <= v <= 100 * cores for v in cpu["value"])
    assert all(0 <= v <= 100 for v in history["system/cpu_system_percent"]["value"])
    assert all(v > 0 for v in history["system/rss_bytes"]["value"])
    assert all(0 < v <= 100 for v in history["system/memory_percent"]["value"])
    for key in ("disk_read_bytes", "disk_write_bytes", "net_sent_bytes", "net_recv_bytes"):
        values = history[f"system/{key}"]["value"]  # cumulative since the run started
        assert all(v >= 0 for v in values) and values == sorted(values), key
    assert not any(k.startswith("system/gpu") for k in history)


def test_the_process_tree_counts_a_busy_child(workspace: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        run = nbtrack.init("child", system_interval=0.2)
        wait_for(lambda: samples_of(run) >= 6, "six system samples")
        run.finish()
    finally:
        child.kill()
        child.wait()
    values = run.history("system/cpu_percent")["system/cpu_percent"]["value"]
    # The child spins a whole core; this process alone idles (a shared machine may slow it).
    assert max(values) > 25


def test_system_metrics_false_records_nothing(workspace: Path) -> None:
    run = nbtrack.init("quiet", system_metrics=False, system_interval=0.1)
    assert sampler_threads() == []
    run.log({"loss": 1.0})
    time.sleep(0.5)  # five intervals of a sampler that must not exist
    run.finish()
    assert system_keys(run) == set()
    assert run.metric_keys() == ["loss"]


def test_finishing_a_run_stops_its_sampler_at_once(workspace: Path) -> None:
    run = nbtrack.init("stopped")  # the default interval: 10 s
    assert [t.name for t in sampler_threads()] == [f"nbtrack-system-{run.number}"]
    run.finish()  # joins the sampler, which wakes from its wait at once
    assert sampler_threads() == []
    assert system.running() == []


def test_a_new_run_stops_the_previous_runs_sampler(workspace: Path) -> None:
    first = nbtrack.init("first", system_interval=0.2)
    second = nbtrack.init("second", system_interval=0.2)
    assert not first.live
    assert [t.name for t in sampler_threads()] == [f"nbtrack-system-{second.number}"]


def test_a_script_that_exits_stops_the_sampler_and_keeps_its_samples(workspace: Path) -> None:
    script = workspace / "train.py"
    script.write_text(
        "import time, nbtrack\n"
        "run = nbtrack.init('script', system_interval=0.1)\n"
        "time.sleep(1.0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python"), "NBTRACK_DIR": str(workspace)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    run = nbtrack.get_run("script")
    assert run.status == "finished"
    assert PSUTIL_KEYS <= system_keys(run)


def test_the_interval_comes_from_the_environment_and_is_checked(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_SYSTEM_INTERVAL", "0.25")
    run = nbtrack.init("env")
    assert [s.interval for s in system.running()] == [0.25]
    run.finish()
    monkeypatch.setenv("NBTRACK_SYSTEM_INTERVAL", "soon")
    with pytest.raises(ValueError, match="NBTRACK_SYSTEM_INTERVAL"):
        nbtrack.init("bad env")
    monkeypatch.delenv("NBTRACK_SYSTEM_INTERVAL")
    with pytest.raises(ValueError, match="at least 0.1 seconds"):
        nbtrack.init("too fast", system_interval=0.01)
    assert [r.name for r in nbtrack.runs()] == ["env"]  # a bad interval starts no run
    run = nbtrack.init("off", system_metrics=False, system_interval=0.01)  # not used: fine
    assert sampler_threads() == []


def test_a_failing_reading_warns_once_and_the_run_goes_on(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise OSError("no /proc/meminfo here")

    monkeypatch.setattr(psutil, "virtual_memory", broken)
    with pytest.warns(nbtrack.TrackingWarning, match="memory system metrics") as caught:
        run = nbtrack.init("broken", system_interval=0.1)
        wait_for(lambda: samples_of(run) >= 3, "three system samples")
        run.log({"loss": 1.0})
        run.finish()
    tracking = [w for w in caught if issubclass(w.category, nbtrack.TrackingWarning)]
    assert len(tracking) == 1 and "no /proc/meminfo here" in str(tracking[0].message)
    assert run.status == "finished"
    keys = system_keys(run)
    assert "system/memory_percent" not in keys
    assert PSUTIL_KEYS - {"system/memory_percent"} <= keys
    assert run.history("loss")["loss"]["value"] == [1.0]


def test_a_reading_that_fails_later_is_dropped_and_the_others_go_on(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = psutil.net_io_counters

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 2:  # the baseline and the first sample work
            raise RuntimeError("interface vanished")
        return real(*args, **kwargs)

    monkeypatch.setattr(psutil, "net_io_counters", flaky)
    with pytest.warns(nbtrack.TrackingWarning, match="network"):
        run = nbtrack.init("flaky", system_interval=0.1)
        wait_for(lambda: samples_of(run) >= 4, "four system samples")
        run.finish()
    history = run.history()
    assert history["system/net_sent_bytes"]["count"] == 1
    assert history["system/cpu_percent"]["count"] >= 4


def test_the_sampler_leaves_the_users_random_state_alone(workspace: Path) -> None:
    random.seed(7)
    state = random.getstate()
    run = nbtrack.init("seeded", system_interval=0.1)
    wait_for(lambda: samples_of(run) >= 3, "three system samples")
    run.finish()
    assert random.getstate() == state


# -- GPUs ---------------------------------------------------------------------------------------

def test_no_nvml_library_means_no_gpu_keys_and_no_warning(workspace: Path,
                                                          no_tracking_warnings: Any) -> None:
    import pynvml  # the test extra installs it (nvidia-ml-py); no driver here
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass
    else:  # pragma: no cover - a machine with an NVIDIA driver
        pynvml.nvmlShutdown()
        pytest.skip("this machine has NVML")
    run = nbtrack.init("cpu only", system_interval=0.1)
    wait_for(lambda: samples_of(run) >= 2, "two system samples")
    run.finish()
    assert PSUTIL_KEYS <= system_keys(run)
    assert not any("gpu" in k for k in system_keys(run))


def test_without_nvidia_ml_py_there_are_no_gpu_keys(workspace: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    no_tracking_warnings: Any) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    run = nbtrack.init("no pynvml", system_interval=0.1)
    wait_for(lambda: samples_of(run) >= 2, "two system samples")
    run.finish()
    assert PSUTIL_KEYS <= system_keys(run)
    assert not any("gpu" in k for k in system_keys(run))


def test_importing_nbtrack_does_not_import_pynvml() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, nbtrack; print('pynvml' in sys.modules)"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "python")}, capture_output=True, text=True,
        timeout=120)
    assert done.stdout.strip() == "False", done.stderr


def test_gpu_readings_come_from_nvml(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                     no_tracking_warnings: Any) -> None:
    import pynvml
    shut_down: list[bool] = []

    def power(handle: int) -> int:
        if handle == 1:  # this board does not report power
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return 151_500  # milliwatts

    fake = {
        "nvmlInit": lambda: None,
        "nvmlShutdown": lambda: shut_down.append(True),
        "nvmlDeviceGetCount": lambda: 2,
        "nvmlDeviceGetHandleByIndex": lambda i: i,
        "nvmlDeviceGetUtilizationRates": lambda h: SimpleNamespace(gpu=40 + h, memory=10),
        "nvmlDeviceGetMemoryInfo": lambda h: SimpleNamespace(used=(h + 1) * 2**30,
                                                             total=16 * 2**30),
        "nvmlDeviceGetPowerUsage": power,
        "nvmlDeviceGetTemperature": lambda h, sensor: 60 + h,
    }
    for name, fn in fake.items():
        monkeypatch.setattr(pynvml, name, fn)
    run = nbtrack.init("gpus", system_interval=0.1)
    wait_for(lambda: samples_of(run) >= 2, "two system samples")
    run.finish()
    history = run.history()
    last = {k: s["value"][-1] for k, s in history.items() if k.startswith("system/gpu")}
    assert last == {
        "system/gpu0/utilization_percent": 40.0, "system/gpu0/memory_used_bytes": 2.0**30,
        "system/gpu0/power_watts": 151.5, "system/gpu0/temperature_c": 60.0,
        "system/gpu1/utilization_percent": 41.0, "system/gpu1/memory_used_bytes": 2.0**31,
        "system/gpu1/temperature_c": 61.0,
    }
    assert PSUTIL_KEYS <= set(history)
    assert shut_down == [True]


def test_nvml_failing_at_init_leaves_gpu_keys_out(workspace: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  no_tracking_warnings: Any) -> None:
    import pynvml

    def no_driver() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_DRIVER_NOT_LOADED)

    monkeypatch.setattr(pynvml, "nvmlInit", no_driver)
    run = nbtrack.init("no driver", system_interval=0.1)
    wait_for(lambda: samples_of(run) >= 2, "two system samples")
    run.finish()
    assert not any("gpu" in k for k in system_keys(run))


# -- per-cell resources in a store made before them ----------------------------------------------

def test_a_store_from_before_cell_resources_is_migrated_and_its_cells_read_none(
    workspace: Path,
) -> None:
    import sqlite3

    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from nbtrack import config
    from nbtrack.store import schema

    path = config.db_path()
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    old = Migrations(schema.MIGRATION_SET)
    for migration in schema.MIGRATIONS[:4]:  # up to m004_media
        old()(migration)
    old.apply(Database(conn))
    conn.execute("INSERT INTO runs (id, name, status, started) VALUES ('abc', 'old', 'finished',"
                 " 1.0)")
    conn.execute("INSERT INTO cells (id, run, source, started, duration, outcome) VALUES"
                 " (7, 1, 'x = 1', 1.0, 0.1, 'ok')")
    conn.commit()
    conn.close()
    with nbtrack.init("new", system_metrics=False):
        pass
    assert "m005_cell_resources" in schema.applied(sqlite3.connect(path))
    [cell] = nbtrack.get_run("old").cells
    assert (cell["source"], cell["cpu_time"], cell["peak_memory_delta"]) == ("x = 1", None, None)
