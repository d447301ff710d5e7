"""``nbtrack sync`` to a real MLflow tracking server: points/s beside MLflow's own client, and
the time of a no-op re-sync.

Run: ``python benchmarks/bench_sync.py [--points 100000] [--runs 1000]`` (prints figures;
asserts nothing). It starts PostgreSQL (Debian's, as the tests do) and ``mlflow server`` on it
with ``--serve-artifacts``, then:

1. one finished run of ``--points`` metric points (two keys) synced with ``nbtrack sync``:
   points/s, end to end (reading the store, the cursor, every request), after a warm-up
   (mlflow imported, the server's first requests answered);
2. the same points sent by ``MlflowClient.log_batch`` (1,000 per request, the limit) into a new
   run of the same experiment on the same server, in the same process: the floor of MLflow's
   own client;
3. ``--runs`` small runs (10 points, 3 params, 2 tags each) synced once, then synced again
   with nothing new: the no-op re-sync time (it sends one request: the experiment lookup).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests"))

import nbtrack  # noqa: E402
from mlflow_server import start_server, stop_server  # noqa: E402
from postgres_fixture import create_database, running_postgres  # noqa: E402


def make_big_run(ws: Path, points: int) -> nbtrack.Run:
    run = nbtrack.init("big", workspace=ws, system_metrics=False, capture_env=False)
    for step in range(points // 2):
        run.log({"loss": 1.0 / (step + 1), "acc": step / points}, step=step)
    run.finish()
    return run


def make_small_runs(ws: Path, count: int) -> None:
    for i in range(count):
        run = nbtrack.init(f"r{i}", config={"lr": 0.01 * i, "seed": i, "opt": "adam"},
                           tags=["team=a", "sweep"], workspace=ws, system_metrics=False,
                           capture_env=False)
        for step in range(10):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.finish()


def baseline(url: str, ws: Path, number: int) -> float:
    """Seconds MLflow's client takes to log the same points with log_batch."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    from nbtrack import config
    from nbtrack.store import access, queries

    metrics = []
    with access.reading(config.db_path(ws)) as db:
        for key in queries.metric_keys(db, number):
            a = queries.metric_arrays(db, number, key)
            metrics += [Metric(key, v, int(t * 1000), s)
                        for s, v, t in zip(a.steps, a.values, a.times)]
    client = MlflowClient(url)
    exp = client.get_experiment_by_name("bench-points").experiment_id
    run_id = client.create_run(exp, run_name="mlflow-client").info.run_id
    began = time.perf_counter()
    for lo in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[lo:lo + 1000])
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    with running_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("starting PostgreSQL and mlflow server ...", flush=True)
        server = start_server(root / "server", create_database(pg, "bench"))
        try:
            # Warm up: import mlflow's client and let the server answer its first requests,
            # so neither side of the comparison pays for them.
            warm = root / "ws-warm"
            make_big_run(warm, 2000)
            nbtrack.sync(server.url, experiment="warm-up", workspace=warm, progress=False)
            ws = root / "ws-points"
            run = make_big_run(ws, args.points)
            began = time.perf_counter()
            report = nbtrack.sync(server.url, experiment="bench-points", workspace=ws,
                                  progress=False)
            ours = time.perf_counter() - began
            theirs = baseline(server.url, ws, run.number)
            print(f"points: {report.points:,} in {report.requests} requests")
            for label, seconds in (("nbtrack sync", ours), ("MlflowClient.log_batch", theirs)):
                rate = report.points / seconds
                print(f"  {label:<24} {seconds:7.2f} s  {rate:10,.0f} points/s")

            many = root / "ws-runs"
            began = time.perf_counter()
            make_small_runs(many, args.runs)
            made = time.perf_counter() - began
            began = time.perf_counter()
            first = nbtrack.sync(server.url, experiment="bench-runs", workspace=many,
                                 progress=False)
            initial = time.perf_counter() - began
            began = time.perf_counter()
            again = nbtrack.sync(server.url, experiment="bench-runs", workspace=many,
                                 progress=False)
            noop = time.perf_counter() - began
            print(f"runs: {args.runs:,} (made in {made:.1f} s)")
            print(f"  first sync:   {initial:7.2f} s  ({first.requests:,} requests)")
            print(f"  no-op re-sync:{noop:7.2f} s  ({again.requests} request(s),"
                  f" {sum(o.action == 'unchanged' for o in again.runs):,} runs unchanged)")
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()
