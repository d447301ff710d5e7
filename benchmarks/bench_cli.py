"""The command line as a user runs it: a whole ``nbtrack`` process on a store of 10,000 runs.

Run: ``python benchmarks/bench_cli.py`` (prints figures; asserts nothing). Each command is timed
as a new process (interpreter start, imports, the query, the output), median of ``--repeat``,
beside two floors measured in the same run: an empty Python process, and a Python process that
runs the same first-page query with plain ``sqlite3`` and prints it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from nbtrack import config  # noqa: E402
from nbtrack.query.sample import generate_runs  # noqa: E402
from nbtrack.store import access  # noqa: E402

RAW_FIRST_PAGE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute(
    "SELECT number, name, status, started FROM runs WHERE deleted = 0"
    " ORDER BY number DESC LIMIT 20").fetchall()
params = conn.execute(
    "SELECT run, key, value FROM params WHERE run >= ?", (rows[-1][0],)).fetchall()
print("\\n".join(map(str, rows)), len(params))
"""


def seconds(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = access.connect(config.db_path(tmp))
        try:
            generate_runs(db, args.runs, start=time.time())
        finally:
            db.close()
        env = {**os.environ, "NBTRACK_DIR": tmp,
               "PYTHONPATH": str(ROOT / "python") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        python = sys.executable
        empty = seconds([python, "-c", "pass"], env, args.repeat)
        raw = seconds([python, "-c", RAW_FIRST_PAGE, str(config.db_path(tmp))], env, args.repeat)
        print(f"{args.runs:,} runs; floors: empty python process {empty * 1000:.0f} ms,"
              f" python + plain sqlite3 first page {raw * 1000:.0f} ms")
        for command in (["list"], ["show", "1"], ["list", "--json"],
                        ["leaderboard", "loss", "-n", "10"]):
            took = seconds([python, "-m", "nbtrack", *command], env, args.repeat)
            print(f"  nbtrack {' '.join(command):<22} {took * 1000:6.0f} ms   (target < 300 ms)")


if __name__ == "__main__":
    main()
