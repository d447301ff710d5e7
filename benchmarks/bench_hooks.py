"""Cell-hook overhead: what ``%load_ext nbtrack`` adds to each cell of a real IPython shell.

Run: ``python benchmarks/bench_hooks.py`` (prints figures; asserts nothing). Cells are
``x = 1`` run with ``store_history=True`` as in a kernel; the baseline is the same shell with
nbtrack unloaded, measured in the same run, interleaved in blocks to share machine noise.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=400)
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["NBTRACK_DIR"] = tmp
    os.environ["IPYTHONDIR"] = os.path.join(tmp, "ipython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    import nbtrack

    for count in (10, 1000):
        fill_namespace(shell.user_ns, count)
        with_hooks: list[float] = []
        without: list[float] = []
        for _ in range(args.blocks):
            shell.run_line_magic("load_ext", "nbtrack")
            shell.run_cell("%track start bench --no-auto-params", store_history=True)
            with_hooks += time_cells(shell, args.cells)
            nbtrack.finish()
            shell.run_line_magic("unload_ext", "nbtrack")
            without += time_cells(shell, args.cells)
        on, off = statistics.median(with_hooks), statistics.median(without)
        print(f"{count:>5} variables: cell 'x = 1' median {on:.0f} us with nbtrack,"
              f" {off:.0f} us without  ->  hook overhead {on - off:.0f} us per cell"
              f"  (p90 with {statistics.quantiles(with_hooks, n=10)[-1]:.0f} us,"
              f" without {statistics.quantiles(without, n=10)[-1]:.0f} us)")
        for name in [n for n in shell.user_ns if n.startswith("v") and n[1:].isdigit()]:
            del shell.user_ns[name]


if __name__ == "__main__":
    main()
