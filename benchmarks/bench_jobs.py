"""Notebooks as jobs: what ``nbtrack run`` adds to papermill, and ``-j 1`` vs ``-j 2``.

Run: ``python benchmarks/bench_jobs.py [--repeat 3] [--batch 8] [--sleep 1.0]`` (prints
figures; asserts nothing). Each figure is measured in a fresh workspace with the same small
notebook (a ``parameters`` cell, a loop logging 100 points, a print):

- one run, in this process: ``papermill.execute_notebook`` alone beside
  ``nbtrack.run_notebook`` (papermill plus the prologue cell, the run's recording in the
  kernel, the run's final status and the executed notebook kept as an artifact); the median
  of ``--repeat`` runs each;
- one run, as commands: ``python -m papermill`` beside ``python -m nbtrack run`` (adds each
  command's own start-up);
- ``--batch`` runs of a notebook that also sleeps ``--sleep`` s (standing in for work that
  waits: I/O, a GPU): ``nbtrack.run_notebooks(..., jobs=1)`` vs ``jobs=2`` wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import nbformat  # noqa: E402


def notebook(path: Path, sleep: float = 0.0) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("lr = 0.01\nepochs = 100")
    params.metadata["tags"] = ["parameters"]
    work = "import time\ntime.sleep(%r)\n" % sleep if sleep else ""
    nb.cells = [
        nbformat.v4.new_code_cell("import math"),
        params,
        nbformat.v4.new_code_cell(
            work + "try:\n    import nbtrack\nexcept ImportError:\n    nbtrack = None\n"
            "for step in range(epochs):\n    loss = math.exp(-lr * step)\n"
            "    if nbtrack is not None and nbtrack.active_run() is not None:\n"
            "        nbtrack.log({'loss': loss})\nprint(loss)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def median_seconds(fn: Callable[[int], object], repeat: int) -> float:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--sleep", type=float, default=1.0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import papermill

    import nbtrack

    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        base = Path(tmp)
        os.environ["NBTRACK_DIR"] = str(base)
        nb = notebook(base / "train.ipynb")
        out = base / "out.ipynb"

        pm = median_seconds(lambda i: papermill.execute_notebook(
            str(nb), str(out), parameters={"lr": 0.1}, progress_bar=False,
            kernel_name="python3"), args.repeat)
        nt = median_seconds(lambda i: nbtrack.run_notebook(nb, params={"lr": 0.1}),
                            args.repeat)
        print(f"one run, in this process (median of {args.repeat}):")
        print(f"  papermill.execute_notebook      {pm:6.2f} s")
        print(f"  nbtrack.run_notebook            {nt:6.2f} s   (+{nt - pm:.2f} s, "
              f"{(nt / pm - 1) * 100:+.0f}%)")

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "python"), os.environ.get("PYTHONPATH")) if p)}

        def command(argv: list[str]) -> None:
            subprocess.run([sys.executable, "-m", *argv], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        pmc = median_seconds(lambda i: command(
            ["papermill", str(nb), str(out), "-p", "lr", "0.1", "--no-progress-bar", "-k",
             "python3"]), args.repeat)
        ntc = median_seconds(lambda i: command(
            ["nbtrack", "run", str(nb), "-p", "lr=0.1", "--json"]), args.repeat)
        print(f"one run, as a command (median of {args.repeat}):")
        print(f"  python -m papermill             {pmc:6.2f} s")
        print(f"  python -m nbtrack run           {ntc:6.2f} s   (+{ntc - pmc:.2f} s)")

        sleepy = notebook(base / "sleepy.ipynb", args.sleep)
        grid = {"lr": [0.01 * (i + 1) for i in range(args.batch)]}
        walls = {}
        for jobs in (1, 2):
            start = time.perf_counter()
            runs = nbtrack.run_notebooks(sleepy, grid=grid, jobs=jobs, group=f"bench-j{jobs}")
            walls[jobs] = time.perf_counter() - start
            assert all(r.status == "finished" for r in runs), [r.status for r in runs]
        print(f"{args.batch} runs of a notebook sleeping {args.sleep:g} s, wall time:")
        print(f"  -j 1                            {walls[1]:6.2f} s")
        print(f"  -j 2                            {walls[2]:6.2f} s   "
              f"({walls[1] / walls[2]:.2f}x)")
        print(f"machine: {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
