"""System-metrics sampler overhead: the CPU the sampler thread costs, as % of one core.

Run: ``python benchmarks/bench_system.py [--seconds 20] [--intervals 1 0.1]`` (prints figures;
asserts nothing). For each interval, a run records system metrics for ``--seconds`` while the
main thread sleeps; two figures:

- the sampler thread's own CPU time (``time.thread_time()`` inside it), per second of wall time:
  what sampling costs, nothing else;
- the whole process's CPU per second with the sampler, beside the floor: the same process
  idling for as long with a run started with ``system_metrics=False`` (the writer thread's
  heartbeat and flushes are in both).

Also prints the time one sample takes (the sampler's CPU per sample) and how many samples
were recorded, read back from the store.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))


def idle(seconds: float, **init: object) -> tuple[float, object]:
    """Process CPU seconds spent over ``seconds`` of a run started with ``init``."""
    import nbtrack

    run = nbtrack.init("bench", capture_env=False, **init)  # type: ignore[arg-type]
    from nbtrack import system

    sampler = next(iter(system.running()), None)
    t0 = time.process_time()
    time.sleep(seconds)
    spent = time.process_time() - t0
    run.finish()
    return spent, (sampler, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--intervals", type=float, nargs="+", default=[1.0, 0.1])
    args = parser.parse_args()
    os.environ["NBTRACK_DIR"] = tempfile.mkdtemp()
    import nbtrack  # noqa: F401 - the store and the writer start before the timing

    floor, _ = idle(args.seconds, system_metrics=False)
    floor_pct = 100 * floor / args.seconds
    print(f"floor: process idle with a run, no sampler: {floor_pct:.3f}% of one core"
          f" over {args.seconds:.0f} s")
    for interval in args.intervals:
        spent, (sampler, run) = idle(args.seconds, system_interval=interval)
        own, opening = sampler.cpu_time, sampler.open_cpu_time  # type: ignore[union-attr]
        samples = sampler.samples  # type: ignore[union-attr]
        stored = run.history("system/cpu_percent")["system/cpu_percent"]  # type: ignore[attr-defined]
        per_sample = 1e6 * (own - opening) / max(samples, 1)
        print(f"interval {interval:g} s: sampler thread {100 * own / args.seconds:.3f}% of one"
              f" core ({1e3 * opening:.1f} ms to open the readers once, then {per_sample:.0f} us"
              f" per sample: {100 * (own - opening) / args.seconds:.3f}%; {samples} samples,"
              f" {stored['count']} stored); process {100 * spent / args.seconds:.3f}%"
              f" vs floor {floor_pct:.3f}% (+{100 * (spent - floor) / args.seconds:.3f}%)")


if __name__ == "__main__":
    main()
