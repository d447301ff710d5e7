"""Query figures on 10,000 runs: a filtered list and a leaderboard, in-process and as a process.

Run: ``python benchmarks/bench_query.py [--runs 10000] [--repeat 20]`` (prints figures; asserts
nothing). The whole-process figures are printed beside the cost of starting Python and of
``import nbtrack`` alone, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from click.testing import CliRunner  # noqa: E402

import nbtrack  # noqa: E402
from nbtrack import config  # noqa: E402
from nbtrack.cli import main  # noqa: E402
from nbtrack.filter import compile_filter  # noqa: E402
from nbtrack.query.sample import generate_runs  # noqa: E402
from nbtrack.store import access, queries  # noqa: E402

WHERE = "params.lr < 0.01 and metrics.loss < 0.5"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best wall time of ``fn`` in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), min(samples)


def show(label: str, figures: tuple[float, float]) -> None:
    median, best = figures
    print(f"  {label:<58} median {median:8.1f} ms   best {best:8.1f} ms")


def process(args: list[str], env: dict[str, str]) -> Callable[[], object]:
    def run() -> None:
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise RuntimeError(done.stderr)

    return run


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    opts = parser.parse_args()

    ws = Path(tempfile.mkdtemp(prefix="nbtrack-bench-query-"))
    os.environ["NBTRACK_DIR"] = str(ws)
    os.environ["NBTRACK_STALE_AFTER"] = "3600"
    t0 = time.perf_counter()
    db = access.connect(config.db_path(ws))
    generate_runs(db, opts.runs, start=time.time())
    db.close()
    size = config.db_path(ws).stat().st_size / 1e6
    print(f"{opts.runs:,} generated runs (6 params, 2 metrics x 4 points each) written in"
          f" {time.perf_counter() - t0:.1f} s; store {size:.1f} MB at {ws}")

    listed = nbtrack.runs(where=WHERE, limit=20)
    board = nbtrack.leaderboard("loss", n=20)
    print(f"filter {WHERE!r} keeps {listed.total:,} runs; leaderboard ranks"
          f" {board.total:,} runs\n")

    repeat = opts.repeat
    print("in-process:")
    reader = access.connect(config.db_path(ws), readonly=True)
    show("compile the filter to SQL",
         timed(lambda: compile_filter(WHERE), repeat * 10))
    compiled = compile_filter(WHERE)
    show("list_run_numbers(compiled filter, limit=20)  (the SQL alone)",
         timed(lambda: queries.list_run_numbers(reader, compiled, limit=20), repeat))
    show("nbtrack.runs()  (every run, with records)",
         timed(lambda: nbtrack.runs(), max(1, repeat // 4)))
    show("nbtrack.runs(where=..., limit=20)  (with records)",
         timed(lambda: nbtrack.runs(where=WHERE, limit=20), repeat))
    show("nbtrack.runs(where=..., sort='metrics.loss', limit=20)",
         timed(lambda: nbtrack.runs(where=WHERE, sort="metrics.loss", limit=20), repeat))
    show("nbtrack.leaderboard('loss', n=20)",
         timed(lambda: nbtrack.leaderboard("loss", n=20), repeat))
    show("nbtrack.leaderboard('loss', where=..., n=20)",
         timed(lambda: nbtrack.leaderboard("loss", where=WHERE, n=20), repeat))
    reader.close()
    runner = CliRunner()
    show("CLI in-process: nbtrack list --where ... -n 20",
         timed(lambda: runner.invoke(main, ["list", "--where", WHERE, "-n", "20"]), repeat))
    show("CLI in-process: nbtrack leaderboard loss",
         timed(lambda: runner.invoke(main, ["leaderboard", "loss"]), repeat))

    print("\nwhole process (python -m nbtrack ...):")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    py = sys.executable
    few = max(5, repeat // 2)
    show("baseline: python -c pass", timed(process([py, "-c", "pass"], env), few))
    show("baseline: python -c 'import nbtrack'",
         timed(process([py, "-c", "import nbtrack"], env), few))
    show("nbtrack list --where ... -n 20",
         timed(process([py, "-m", "nbtrack", "list", "--where", WHERE, "-n", "20"], env), few))
    show("nbtrack list --where ... -n 20 --json",
         timed(process([py, "-m", "nbtrack", "list", "--where", WHERE, "-n", "20", "--json"],
                       env), few))
    show("nbtrack leaderboard loss",
         timed(process([py, "-m", "nbtrack", "leaderboard", "loss"], env), few))
    show("nbtrack leaderboard loss --where ...",
         timed(process([py, "-m", "nbtrack", "leaderboard", "loss", "--where", WHERE], env),
               few))
    # sqlite_utils imports pandas and numpy when they are installed (for its insert() type
    # mapping, which nbtrack does not use): most of the start-up above. What it would cost
    # without them:
    lean = ("import sys; sys.modules['pandas'] = sys.modules['numpy'] = None;"
            " from nbtrack.cli import main; main(sys.argv[1:])")
    show("what-if, pandas/numpy not imported: nbtrack list --where ...",
         timed(process([py, "-c", lean, "list", "--where", WHERE, "-n", "20"], env), few))
    show("what-if, pandas/numpy not imported: nbtrack leaderboard loss",
         timed(process([py, "-c", lean, "leaderboard", "loss"], env), few))


if __name__ == "__main__":
    main_bench()
