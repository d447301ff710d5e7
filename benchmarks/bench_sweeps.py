"""Sweep overhead and scaling: what ``nbtrack.sweep`` adds per trial beside bare Optuna, and
the wall time of sleeping trials with 1 and 4 worker processes.

Run: ``python benchmarks/bench_sweeps.py [--trials 1000] [--sleepers 40] [--sleep 0.25]``
(prints figures; asserts nothing). Cases:

- per-trial overhead: the same trivial objective (``(x - 2) ** 2``, random sampler, no pruner)
  for ``--trials`` trials, first with ``optuna.create_study().optimize`` on an in-memory
  study, then on a journal file (the storage a sweep uses by default), then with
  ``nbtrack.sweep`` (one nbtrack run per trial: its row and params, the returned value logged,
  the run finished and flushed, the trial linked to its run, the journal); the line gives
  milliseconds per trial and nbtrack's difference from the journal floor;
- scaling: ``--sleepers`` trials that each sleep ``--sleep`` seconds, with ``n_jobs=1`` and
  ``n_jobs=4`` (4 spawned worker processes on one journal), wall time and speed-up.

Everything goes to a throwaway workspace.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("NBTRACK_DIR", tempfile.mkdtemp(prefix="nbtrack-bench-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "benchmarks"))
warnings.simplefilter("ignore")


def trivial(config: dict) -> float:
    return (config["x"] - 2.0) ** 2


def sleeper(config: dict) -> float:
    time.sleep(float(os.environ.get("BENCH_SLEEP", "0.25")))
    return config["x"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--sleepers", type=int, default=40)
    parser.add_argument("--sleep", type=float, default=0.25)
    args = parser.parse_args()
    os.environ["BENCH_SLEEP"] = str(args.sleep)

    import optuna

    import nbtrack
    from nbtrack.sweeps.storage import journal

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n = args.trials

    def bare(trial: optuna.Trial) -> float:
        return trivial({"x": trial.suggest_float("x", -10, 10)})

    start = time.perf_counter()
    optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).optimize(bare, n)
    memory = (time.perf_counter() - start) / n * 1e3
    path = Path(os.environ["NBTRACK_DIR"]) / "bare.journal"
    start = time.perf_counter()
    optuna.create_study(storage=journal(path), sampler=optuna.samplers.RandomSampler(seed=0)
                        ).optimize(bare, n)
    floor = (time.perf_counter() - start) / n * 1e3
    start = time.perf_counter()
    nbtrack.sweep(trivial, {"x": nbtrack.uniform(-10, 10)}, n_trials=n, method="random",
                  pruner=None, seed=0, name="overhead", progress=False)
    tracked = (time.perf_counter() - start) / n * 1e3
    print(f"{n} trials, trivial objective, ms per trial:")
    print(f"  optuna in memory          {memory:8.2f}")
    print(f"  optuna on a journal file  {floor:8.2f}   (floor)")
    print(f"  nbtrack.sweep (journal)   {tracked:8.2f}   +{tracked - floor:.2f} ms "
          f"({tracked / floor:.1f}x)")

    import bench_sweeps  # the objective by name, for the worker processes

    walls = {}
    for jobs in (1, 4):
        start = time.perf_counter()
        nbtrack.sweep(bench_sweeps.sleeper, {"x": nbtrack.uniform(0, 1)}, n_trials=args.sleepers,
                      method="random", pruner=None, n_jobs=jobs, name=f"sleep-{jobs}",
                      progress=False)
        walls[jobs] = time.perf_counter() - start
    ideal = args.sleepers * args.sleep
    print(f"{args.sleepers} trials sleeping {args.sleep} s (ideal serial {ideal:.1f} s):")
    print(f"  n_jobs=1  {walls[1]:6.2f} s")
    print(f"  n_jobs=4  {walls[4]:6.2f} s   speed-up {walls[1] / walls[4]:.2f}x "
          f"(ideal {ideal / 4:.1f} s; includes starting 4 Python processes)")


if __name__ == "__main__":
    main()
