"""Cell-capture figures: NamespaceWatcher.before()+after() time per cell, describe() time.

Run: ``python benchmarks/bench_capture.py`` (prints figures; asserts nothing).
Each figure is printed beside a baseline measured in the same run: an empty function call,
and, when IPython is installed, ``run_cell("x = 1")`` of a real shell with and without the
watcher in its hooks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import numpy as np

from nbtrack.capture import NamespaceWatcher, describe

CELL = "x = 1"
#: A typical edited cell: each run gets a new source string, so nothing is cached.
EDITED_CELL = """\
model = Model(lr=lr, depth={i})
for epoch in range(epochs):
    loss = model.fit(X_train, y_train)
    losses.append(loss)
    if epoch % 10 == 0:
        print(epoch, loss)
acc = (model.predict(X_test) == y_test).mean()
results[model.name] = acc
"""


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    samples = sorted(samples_ns)
    median = statistics.median(samples) / 1000
    p99 = samples[max(int(len(samples) * 0.99) - 1, 0)] / 1000
    return median, p99


def namespace(size: int) -> dict[str, object]:
    """``size`` user variables (ints, floats, lists, small arrays) plus IPython's own names."""
    ns: dict[str, object] = {"In": [""], "Out": {}, "_": None, "_i": "", "_ii": "", "_iii": ""}
    kinds = (lambda i: i, lambda i: i * 0.5, lambda i: [i, i + 1], lambda i: np.full(4, i))
    for i in range(size):
        ns[f"var_{i}"] = kinds[i % 4](i)
    return ns


def empty() -> None:
    return None


def baseline(calls: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(calls):
        t0 = clock()
        empty()
        empty()
        samples.append(clock() - t0)
    return percentiles(samples)


def bench_watcher(size: int, calls: int, edited: bool = False) -> tuple[float, float, int]:
    """before()+after() around a cell that binds ``x`` (and, like IPython, ``_i``)."""
    clock = time.perf_counter_ns
    ns = namespace(size)
    watcher = NamespaceWatcher(hidden={"In", "Out"})
    samples = []
    reported = 0
    for i in range(calls):
        source = EDITED_CELL.format(i=i) if edited else CELL
        t0 = clock()
        watcher.before(ns, source)
        t1 = clock()
        ns["_i"] = source  # what IPython does around each cell
        ns["x"] = float(i)  # the cell's effect: a new object every time
        t2 = clock()
        reported += len(watcher.after(ns))
        samples.append((t1 - t0) + (clock() - t2))
    m, p = percentiles(samples)
    return m, p, reported // calls


def bench_describe(calls: int) -> None:
    clock = time.perf_counter_ns
    values = {
        "int": 3,
        "list of 1e6": list(range(1_000_000)),
        "ndarray 1000x1000": np.random.rand(1000, 1000),
    }
    try:
        import pandas as pd

        values["DataFrame 100000x20"] = pd.DataFrame(np.random.rand(100_000, 20))
    except ImportError:
        pass
    for label, value in values.items():
        samples = []
        for _ in range(calls):
            t0 = clock()
            describe("v", value, "changed")
            samples.append(clock() - t0)
        m, p = percentiles(samples)
        print(f"describe() of {label:22s} median {m:8.1f} us   p99 {p:8.1f} us")


def bench_ipython(calls: int, size: int) -> None:
    """A real shell's run_cell with and without the watcher in its hooks, in alternating
    blocks so that both see the same namespace (IPython adds _iN for every cell)."""
    try:
        from IPython.core.interactiveshell import InteractiveShell
    except ImportError:
        print("IPython not installed: no run_cell figures")
        return
    shell = InteractiveShell.instance()
    shell.user_ns.update(namespace(size))
    watcher = NamespaceWatcher(hidden=shell.user_ns_hidden)

    def pre(info: object) -> None:
        watcher.before(shell.user_ns, getattr(info, "raw_cell", None))

    def post(result: object) -> None:
        watcher.after(shell.user_ns)

    clock = time.perf_counter_ns
    samples: dict[bool, list[int]] = {False: [], True: []}
    names = len(shell.user_ns)
    block = 50
    for round_ in range(max(calls // block, 2)):
        hooked = round_ % 2 == 1
        if hooked:
            shell.events.register("pre_run_cell", pre)
            shell.events.register("post_run_cell", post)
        try:
            for _ in range(block):
                t0 = clock()
                shell.run_cell(CELL, store_history=True)
                samples[hooked].append(clock() - t0)
        finally:
            if hooked:
                shell.events.unregister("pre_run_cell", pre)
                shell.events.unregister("post_run_cell", post)
    seen = f"{names:,}-{len(shell.user_ns):,} names"
    medians = {}
    for hooked, label in ((False, "no hooks"), (True, "with the watcher")):
        m, p = percentiles(samples[hooked])
        medians[hooked] = m
        print(f"IPython run_cell('x = 1'), {size:,} user variables ({seen}), {label:16s}: "
              f"median {m:8.1f} us   p99 {p:8.1f} us")
    print(f"  -> the watcher adds about {medians[True] - medians[False]:.0f} us per cell (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    calls = args.calls

    bm, bp = baseline(calls)
    print(f"baseline: two empty function calls      median {bm:8.2f} us   p99 {bp:8.2f} us")
    for size in (10, 1_000, 10_000):
        m, p, n = bench_watcher(size, calls)
        print(f"before()+after(), 'x = 1', {size:>6,} variables: median {m:8.1f} us   "
              f"p99 {p:8.1f} us   ({n} change reported per cell)")
    m, p, n = bench_watcher(1_000, calls // 5, edited=True)
    print(f"before()+after(), a new 8-line cell source every run (parse not cached), "
          f"1,000 variables: median {m:.1f} us   p99 {p:.1f} us")
    bench_describe(max(calls // 50, 20))
    bench_ipython(max(calls // 2, 200), 1_000)


if __name__ == "__main__":
    main()
