"""Many small runs: a whole small run (init, 10 log() calls, finish) and reading a list of runs.

Run: ``python benchmarks/bench_runs.py`` (prints figures; asserts nothing). Sweeps and notebook
jobs create runs by the thousand, so whatever ``finish()`` waits for must not cost a fixed
fraction of a second. Each figure is printed beside a floor measured in the same run: the same
rows written (or read) with plain ``sqlite3`` in one transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import nbtrack  # noqa: E402
from nbtrack import recorder  # noqa: E402


def small_runs(count: int, capture_env: bool) -> list[float]:
    """Seconds per whole run: init, 10 log() calls of 3 metrics, finish (all on disk)."""
    seconds = []
    for i in range(count):
        t0 = time.perf_counter()
        run = nbtrack.init(name=f"small-{i}", config={"lr": 0.01, "seed": i},
                           capture_env=capture_env)
        for step in range(10):
            run.log({"loss": 1 / (step + 1), "acc": step / 10, "lr": 0.01})
        run.finish()
        seconds.append(time.perf_counter() - t0)
    return seconds


def floor_runs(path: Path, count: int) -> list[float]:
    """The same rows with plain sqlite3 (WAL, synchronous=NORMAL), one transaction a run."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE runs (number INTEGER PRIMARY KEY, name TEXT, status TEXT,"
                 " started REAL, ended REAL)")
    conn.execute("CREATE TABLE params (run INTEGER, key TEXT, value)")
    conn.execute("CREATE TABLE points (run INTEGER, key TEXT, step INTEGER, value REAL)")
    seconds = []
    for i in range(count):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        number = conn.execute("INSERT INTO runs (name, status, started) VALUES (?, ?, ?)",
                              (f"small-{i}", "running", time.time())).lastrowid
        conn.executemany("INSERT INTO params VALUES (?, ?, ?)",
                         [(number, "lr", 0.01), (number, "seed", i)])
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO points VALUES (?, ?, ?, ?)",
                         [(number, k, s, 0.5) for s in range(10) for k in ("loss", "acc", "lr")])
        conn.execute("UPDATE runs SET status = 'finished', ended = ? WHERE number = ?",
                     (time.time(), number))
        conn.execute("COMMIT")
        seconds.append(time.perf_counter() - t0)
    conn.close()
    return seconds


def listing(repeats: int) -> tuple[float, float]:
    """Median seconds of reading name, status, params of every run, and of the raw SELECTs."""
    db_path = nbtrack.config.db_path()
    api_times, raw_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        rows = [(r.name, r.status, r.params) for r in nbtrack.runs()]
        api_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
        raw = conn.execute("SELECT number, name, status FROM runs WHERE deleted = 0"
                           " ORDER BY number DESC").fetchall()
        params: dict[int, dict[str, object]] = {}
        for run, key, value in conn.execute("SELECT run, key, value FROM params"):
            params.setdefault(run, {})[key] = value
        raw_rows = [(name, status, params.get(number, {})) for number, name, status in raw]
        conn.close()
        raw_times.append(time.perf_counter() - t0)
        assert len(rows) == len(raw_rows)
    return statistics.median(api_times), statistics.median(raw_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NBTRACK_DIR"] = tmp
        small_runs(5, capture_env=False)  # warm up: the store, the writer thread, imports
        quiet = small_runs(args.runs, capture_env=False)
        with_env = small_runs(args.runs // 4, capture_env=True)
        floor = floor_runs(Path(tmp) / "floor.db", args.runs)
        ms = 1000
        print(f"a small run end to end (init, 10 log() calls, finish), {args.runs} runs:"
              f" median {statistics.median(quiet) * ms:.2f} ms,"
              f" p90 {sorted(quiet)[int(len(quiet) * 0.9)] * ms:.2f} ms"
              f"   (floor: the same rows with plain sqlite3, two transactions a run:"
              f" median {statistics.median(floor) * ms:.2f} ms)")
        print(f"  with the environment captured (in the background; default):"
              f" median {statistics.median(with_env) * ms:.2f} ms")
        total = len(nbtrack.runs())
        api, raw = listing(15)
        print(f"[(r.name, r.status, r.params) for r in nbtrack.runs()] over {total} runs:"
              f" {api * ms:.2f} ms   (floor: plain sqlite3 SELECT of runs and params:"
              f" {raw * ms:.2f} ms)")
        store = nbtrack.status()["stores"]
        print("store:", json.dumps([{k: s[k] for k in ("points_written", "lost")} for s in store]))
        nbtrack.finish()
        for rec in recorder.all_recorders():
            rec.close()


if __name__ == "__main__":
    main()
