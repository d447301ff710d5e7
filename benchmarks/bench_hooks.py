"""Cell-hook overhead: what ``%load_ext nbtrack`` adds to each cell of a real IPython shell.

Run: ``python benchmarks/bench_hooks.py`` (prints figures; asserts nothing). Cells are
``x = 1`` run with ``store_history=True`` as in a kernel; the baseline is the same shell with
nbtrack unloaded, measured in the same run, interleaved in blocks to share machine noise.
``--repeat N`` measures N times and prints the median overhead of the repeats (the machine
may be shared); each line also gives the median time spent in nbtrack's own pre and post
hook bodies (the rest of the overhead is IPython calling the hooks).
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


def fill_namespace(ns: dict, count: int) -> None:
    import numpy as np

    for i in range(count):
        kind = i % 4
        ns[f"v{i}"] = (i, float(i), [i] * 10, np.zeros(10))[kind]


def time_cells(shell, cells: int) -> list[float]:
    samples = []
    for _ in range(cells):
        t0 = time.perf_counter_ns()
        shell.run_cell("x = 1", store_history=True)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return samples


def time_halves(shell, pre: list[float], post: list[float]) -> None:
    """Time the loaded extension's pre and post hook bodies into ``pre`` and ``post`` (us)."""
    hooks = shell._nbtrack_hooks
    clock = time.perf_counter_ns

    def timed(body, samples):
        def run(arg):
            t0 = clock()
            body(arg)
            samples.append((clock() - t0) / 1000)
        return run

    hooks._pre, hooks._post = timed(hooks._pre, pre), timed(hooks._post, post)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=400)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["NBTRACK_DIR"] = tmp
    os.environ["IPYTHONDIR"] = os.path.join(tmp, "ipython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    import nbtrack

    overheads: dict[int, list[float]] = {10: [], 1000: []}
    for _ in range(args.repeat):
        for count in (10, 1000):
            fill_namespace(shell.user_ns, count)
            with_hooks: list[float] = []
            without: list[float] = []
            pre: list[float] = []
            post: list[float] = []
            for _ in range(args.blocks):
                shell.run_line_magic("load_ext", "nbtrack")
                shell.run_cell("%track start bench --no-auto-params", store_history=True)
                time_halves(shell, pre, post)
                with_hooks += time_cells(shell, args.cells)
                nbtrack.finish()
                shell.run_line_magic("unload_ext", "nbtrack")
                without += time_cells(shell, args.cells)
            on, off = statistics.median(with_hooks), statistics.median(without)
            overheads[count].append(on - off)
            print(f"{count:>5} variables: cell 'x = 1' median {on:.0f} us with nbtrack,"
                  f" {off:.0f} us without  ->  hook overhead {on - off:.0f} us per cell"
                  f"  (pre {statistics.median(pre):.0f} us + post"
                  f" {statistics.median(post):.0f} us in nbtrack's hooks;"
                  f" p90 with {statistics.quantiles(with_hooks, n=10)[-1]:.0f} us,"
                  f" without {statistics.quantiles(without, n=10)[-1]:.0f} us)")
            for name in [n for n in shell.user_ns if n.startswith("v") and n[1:].isdigit()]:
                del shell.user_ns[name]
    if args.repeat > 1:
        for count, values in overheads.items():
            print(f"{count:>5} variables: median hook overhead over {args.repeat} repeats:"
                  f" {statistics.median(values):.0f} us per cell"
                  f" (each: {', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
