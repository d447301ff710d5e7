"""Recording figures: log() time in the caller, end-to-end throughput, history and list reads.

Run: ``python benchmarks/bench_log.py`` (prints figures; asserts nothing).
Each figure is printed beside a plain-Python baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import nbtrack  # noqa: E402
from nbtrack.store import access, queries, writes  # noqa: E402


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    samples = sorted(samples_ns)
    median = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99) - 1] / 1000
    return median, p99


def bench_log_call(calls: int) -> None:
    clock = time.perf_counter_ns
    run = nbtrack.init(name="bench-log", capture_env=False)
    metrics = {"loss": 0.5, "acc": 0.9, "lr": 0.001, "grad_norm": 1.5, "epoch": 3}
    samples = []
    for _ in range(calls):
        t0 = clock()
        run.log(metrics)
        samples.append(clock() - t0)
    run.finish()
    sink: list[tuple] = []
    base = []
    for i in range(calls):
        t0 = clock()
        sink.append((1, i, 0.0, None, ("loss", "acc", "lr", "grad_norm", "epoch"),
                     (0.5, 0.9, 0.001, 1.5, 3)))
        base.append(clock() - t0)
    m, p = percentiles(samples)
    bm, bp = percentiles(base)
    print(f"log() in the caller, 5 metrics, {calls:,} calls: median {m:.2f} us, p99 {p:.2f} us"
          f"   (baseline list.append of the same tuple: median {bm:.2f} us, p99 {bp:.2f} us)")


def bench_throughput(points: int) -> None:
    per_call = 5
    run = nbtrack.init(name="bench-throughput", capture_env=False)
    metrics = {"loss": 0.5, "acc": 0.9, "lr": 0.001, "grad_norm": 1.5, "epoch": 3.0}
    t0 = time.perf_counter()
    for _ in range(points // per_call):
        run.log(metrics)
    t_log = time.perf_counter() - t0
    run.finish()
    total = time.perf_counter() - t0
    sink = []
    t1 = time.perf_counter()
    for _ in range(points // per_call):
        sink.append(dict(metrics))
    t_base = time.perf_counter() - t1
    print(f"end to end, {points:,} points, first log() to finish() with all on disk: "
          f"{total:.2f} s = {points / total:,.0f} points/s (caller loop {t_log:.2f} s)"
          f"   (baseline: the same loop appending dicts to a list: {t_base:.2f} s)")
    return run


def bench_reads(run: nbtrack.Run, n_runs: int, points: int) -> None:
    path = run._path
    history_run = nbtrack.init(name="bench-history", capture_env=False)
    for i in range(points):
        history_run.log({"loss": 1.0 / (i + 1)})
    history_run.finish()
    db = access.connect(path, readonly=True)
    t0 = time.perf_counter()
    series = queries.metric_series(db, history_run.number, history_run.id, ["loss"])
    t_hist = time.perf_counter() - t0
    t0 = time.perf_counter()
    arrays = queries.metric_arrays(db, history_run.number, "loss")
    t_arrays = time.perf_counter() - t0
    n = series[0]["count"]
    t0 = time.perf_counter()
    blobs = db.execute(
        'SELECT steps, "values", times, cells FROM metric_chunks WHERE run = ?',
        (history_run.number,),
    ).fetchall()
    t_raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    copied = [list(a) for a in (arrays.steps, arrays.values, arrays.times, arrays.cells)]
    t_copy = time.perf_counter() - t0
    print(f"read one metric's history ({n:,} points): as lists {t_hist * 1000:.0f} ms,"
          f" as arrays {t_arrays * 1000:.0f} ms"
          f"   (baselines: raw SELECT of its {len(blobs)} chunk rows {t_raw * 1000:.0f} ms;"
          f" list() of 4 arrays of {len(copied[0]):,} items {t_copy * 1000:.0f} ms)")
    db.close()

    # 10,000 runs, written directly in batches, then listed.
    wdb = access.connect(path)
    now = time.time()
    with access.atomic(wdb):
        for i in range(n_runs):
            number = writes.insert_run(wdb, {
                "id": f"bench{i:08d}", "name": f"sweep-{i}", "status": "finished",
                "notebook": "sweep.ipynb", "session": "s", "host": "h", "pid": 1,
                "started": now + i, "heartbeat": now + i, "tags": ["sweep"], "notes": "",
            })
            writes.write_params(wdb, number, {"lr": 10 ** -(i % 5), "depth": i % 7})
    wdb.close()
    db = access.connect(path, readonly=True)
    t0 = time.perf_counter()
    numbers, total = queries.list_run_numbers(db)
    records = queries.run_records(db, numbers)
    t_list = time.perf_counter() - t0
    t0 = time.perf_counter()
    numbers_page, _ = queries.list_run_numbers(db, limit=50)
    queries.run_records(db, numbers_page)
    t_page = time.perf_counter() - t0
    t0 = time.perf_counter()
    raw = db.execute("SELECT * FROM runs").fetchall()
    t_raw = time.perf_counter() - t0
    print(f"list all {total:,} runs with params and summaries: {t_list * 1000:.0f} ms;"
          f" first page of 50: {t_page * 1000:.1f} ms"
          f"   (baseline raw SELECT * FROM runs: {t_raw * 1000:.1f} ms, {len(raw):,} rows)")
    assert len(records) == total
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NBTRACK_DIR"] = tmp
        bench_log_call(args.calls)
        run = bench_throughput(args.points)
        bench_reads(run, args.runs, args.points)


if __name__ == "__main__":
    main()
