"""``nbtrack import`` of an MLflow store: points/s beside floors measured in the same run.

Run: ``python benchmarks/bench_import.py [--runs 100] [--points 10000] [--keys 4]`` (prints
figures; asserts nothing). It writes an MLflow file store (``mlruns/``) of ``--runs`` runs
holding ``--points`` metric points each (``--keys`` metrics, ``points / keys`` steps each, with
params and tags) through mlflow's own ``FileStore.log_batch`` in chunks of 1,000 metrics, then
times, each in a fresh workspace:

- ``nbtrack import``: reading the store with mlflow's classes and writing every run (the
  command's own path, in this process);
- floor 1, MLflow's own read: ``FileStore.get_run`` + ``get_metric_history`` of every metric
  of every run (what any importer through mlflow must do);
- floor 2, nbtrack's raw write: the same points, already in memory, written with
  ``store.writes.write_batch`` one run per transaction.

The import can at best approach the sum of the two floors' times.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from nbtrack.importers.detect import detect  # noqa: E402
from nbtrack.importers.source import Problem  # noqa: E402
from nbtrack.importers.write import import_items  # noqa: E402
from nbtrack.store import access, writes  # noqa: E402

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # mlflow >= 3 refuses file stores without it


def make_store(root: Path, runs: int, points: int, keys: int) -> float:
    """An MLflow file store of ``runs`` x ``points``; returns the seconds it took."""
    from mlflow.entities import Metric, Param, RunStatus, RunTag
    from mlflow.store.tracking.file_store import FileStore

    start = time.perf_counter()
    store = FileStore(str(root), str(root))
    exp = store.create_experiment("bench")
    steps = points // keys
    t0 = 1_700_000_000_000
    for r in range(runs):
        run = store.create_run(exp, "bench", t0 + r, [RunTag("team", "bench")], f"run-{r}")
        run_id = run.info.run_id
        store.log_batch(run_id, [], [Param("lr", str(0.001 * (r + 1))), Param("seed", str(r))],
                        [])
        metrics = [Metric(f"m{k}", 1.0 / (s + k + 1), t0 + s * 10 + k, s)
                   for s in range(steps) for k in range(keys)]
        for lo in range(0, len(metrics), 1000):
            store.log_batch(run_id, metrics[lo:lo + 1000], [], [])
        store.update_run_info(run_id, RunStatus.to_string(RunStatus.FINISHED),
                              t0 + steps * 10, f"run-{r}")
    return time.perf_counter() - start


def time_import(mlruns: Path, db: Path) -> tuple[float, int]:
    start = time.perf_counter()
    written = 0
    for item in import_items(db, detect(str(mlruns)).read()):
        if isinstance(item, Problem):
            raise SystemExit(f"problem: {item.path}: {item.message}")
        written += item.points
    return time.perf_counter() - start, written


#: One run's points read back: ``({key: [(step, value, time)]}, started)``.
RunPoints = tuple[dict[str, list[tuple[int, float, float]]], float]


def time_mlflow_read(mlruns: Path) -> tuple[float, list[RunPoints]]:
    """Seconds to read every point through mlflow's FileStore; the points, per run."""
    from mlflow.entities import ViewType
    from mlflow.store.tracking.file_store import FileStore

    start = time.perf_counter()
    store = FileStore(str(mlruns), str(mlruns))
    out = []
    for exp in store.search_experiments(view_type=ViewType.ACTIVE_ONLY):
        for run_dir in sorted((mlruns / exp.experiment_id).iterdir()):
            if not (run_dir / "meta.yaml").is_file():
                continue
            run = store.get_run(run_dir.name)
            series = {}
            for key in run.data.metrics:
                series[key] = [(m.step, m.value, m.timestamp / 1000)
                               for m in store.get_metric_history(run.info.run_id, key)]
            out.append((series, run.info.start_time / 1000))
    return time.perf_counter() - start, out


def time_raw_write(db: Path, runs: list[RunPoints]) -> float:
    """Seconds for nbtrack's batch writer to store the same points (one run per transaction)."""
    conn = access.connect(db)
    key_ids = writes.KeyIds()
    start = time.perf_counter()
    for series, started in runs:
        with access.atomic(conn):
            number = writes.insert_run(conn, {
                "id": secrets.token_hex(6), "name": None, "status": "finished",
                "notebook": None, "session": "bench", "host": None, "pid": None,
                "started": started, "heartbeat": started, "tags": [], "notes": ""})
            calls = [(number, step, when, None, (key,), (value,))
                     for key, points in series.items() for step, value, when in points]
            writes.write_batch(conn, writes.Batch(points=calls), key_ids)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--points", type=int, default=10_000, help="metric points per run")
    parser.add_argument("--keys", type=int, default=4, help="metrics per run")
    args = parser.parse_args()
    total = args.runs * args.points
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        made = make_store(root / "mlruns", args.runs, args.points, args.keys)
        print(f"MLflow file store: {args.runs} runs x {args.points:,} points ({args.keys} metrics)"
              f" = {total:,} points, written by mlflow in {made:.1f} s")

        read_s, points = time_mlflow_read(root / "mlruns")
        write_s = time_raw_write(root / "raw" / "nbtrack.db", points)
        import_s, written = time_import(root / "mlruns", root / "ws" / "nbtrack.db")
        again_s, _ = time_import(root / "mlruns", root / "ws" / "nbtrack.db")
        assert written == total, (written, total)

        def rate(seconds: float) -> str:
            return f"{total / seconds:>12,.0f} points/s  ({seconds:6.2f} s)"

        print(f"nbtrack import                          {rate(import_s)}")
        print(f"floor 1: mlflow get_metric_history      {rate(read_s)}")
        print(f"floor 2: nbtrack write_batch            {rate(write_s)}")
        print(f"import / (floor 1 + floor 2) time       {import_s / (read_s + write_s):.2f}x")
        print(f"importing again (all unchanged)         {again_s:6.2f} s")


if __name__ == "__main__":
    main()
