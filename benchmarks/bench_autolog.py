"""Autolog and Optuna overhead: what ``nbtrack.autolog()`` adds to one small scikit-learn
fit, and what the Optuna callback adds to one trial, beside the same work without them.

Run: ``python benchmarks/bench_autolog.py`` (prints figures; asserts nothing). Each case runs
``--blocks`` times with and without nbtrack, interleaved to share machine noise; a line gives
the median milliseconds per fit (or trial) without (the floor) and with nbtrack, their
difference and ratio. Cases:

- a LogisticRegression fit (500 x 10) inside an active run: params, training time and score,
  and the model logged (pickled, hashed, stored) - then without the model, then without the
  training score either (the params, time and run bookkeeping alone);
- the same fit with no active run: a run started and finished per fit (its row, params, the
  environment captured in the background; no system metrics sampler), the default outside
  a notebook run;
- an Optuna trial of a tiny objective, with the callback (one run per trial, recorded after
  it) and with ``track_in_nbtrack`` (the run lives during the trial).

Everything goes to a throwaway workspace.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("NBTRACK_DIR", tempfile.mkdtemp(prefix="nbtrack-bench-"))
os.environ.setdefault("NBTRACK_SYSTEM_INTERVAL", "3600")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
warnings.simplefilter("ignore")


def interleaved(blocks: int, plain: Callable[[], None], tracked: Callable[[], None],
                iterations: int, *, around: tuple[Callable[[], None], Callable[[], None]]
                | None = None) -> tuple[float, float]:
    """Median milliseconds per iteration of ``plain`` and ``tracked`` over ``blocks`` each;
    ``around`` = (before tracked, after tracked), untimed (autolog on/off)."""
    on, off = around or (lambda: None, lambda: None)
    plain()
    on(), tracked(), off()  # warm up
    times: dict[str, list[float]] = {"plain": [], "tracked": []}
    for _ in range(blocks):
        t0 = time.perf_counter()
        plain()
        times["plain"].append((time.perf_counter() - t0) / iterations * 1e3)
        on()
        t0 = time.perf_counter()
        tracked()
        times["tracked"].append((time.perf_counter() - t0) / iterations * 1e3)
        off()
    return statistics.median(times["plain"]), statistics.median(times["tracked"])


def report(label: str, unit: str, floor: float, tracked: float) -> None:
    print(f"{label:<44} {floor:8.2f} ms/{unit:<5} {tracked:8.2f} ms/{unit:<5} "
          f"{tracked - floor:+8.2f} ms   x{tracked / floor:.2f}")


def bench_autolog(blocks: int, fits: int) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import nbtrack

    rng = np.random.default_rng(0)
    X = rng.random((500, 10))
    y = (X[:, 0] + 0.3 * rng.random(500) > 0.65).astype(int)

    def loop() -> None:
        for _ in range(fits):
            LogisticRegression(max_iter=200).fit(X, y)

    t0 = time.perf_counter()
    nbtrack.autolog()
    print(f"autolog() the first time (imports every estimator module): "
          f"{time.perf_counter() - t0:.2f} s")
    nbtrack.autolog(disable=True)

    def switch(**options: bool) -> tuple[Callable[[], None], Callable[[], None]]:
        return (lambda: nbtrack.autolog(**options), lambda: nbtrack.autolog(disable=True))

    with nbtrack.init(name="bench-autolog", capture_env=False, system_metrics=False):
        floor, tracked = interleaved(blocks, loop, loop, fits, around=switch())
        report("LogisticRegression.fit, active run", "fit", floor, tracked)
        floor, tracked = interleaved(blocks, loop, loop, fits, around=switch(log_models=False))
        report("  ... log_models=False", "fit", floor, tracked)
        floor, tracked = interleaved(blocks, loop, loop, fits,
                                     around=switch(log_models=False, log_training_score=False))
        report("  ... and log_training_score=False", "fit", floor, tracked)
    floor, tracked = interleaved(blocks, loop, loop, fits, around=switch())
    report("LogisticRegression.fit, a new run per fit", "fit", floor, tracked)


def bench_optuna(blocks: int, trials: int) -> None:
    import optuna

    from nbtrack.integrations.optuna import NbtrackCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -10, 10)
        return (x - 2) ** 2

    def study(callbacks: list, func: Callable = objective) -> Callable[[], None]:
        def run() -> None:
            optuna.create_study().optimize(func, n_trials=trials, callbacks=callbacks)
        return run

    floor, tracked = interleaved(blocks, study([]), study([NbtrackCallback()]), trials)
    report("optuna trial, callback (run per trial)", "trial", floor, tracked)
    callback = NbtrackCallback()
    decorated = callback.track_in_nbtrack()(objective)
    floor, tracked = interleaved(blocks, study([]), study([callback], decorated), trials)
    report("optuna trial, track_in_nbtrack + callback", "trial", floor, tracked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--fits", type=int, default=20)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    print(f"{'':<44} {'floor':>13} {'with nbtrack':>15} {'overhead':>11}  ratio")
    bench_autolog(args.blocks, args.fits)
    bench_optuna(args.blocks, args.trials)


if __name__ == "__main__":
    main()
