"""Integration overhead: what each nbtrack callback (XGBoost, LightGBM, Keras) and the
SummaryWriter's ``add_scalar`` add to a training loop, beside the same loop without them.

Run: ``python benchmarks/bench_integrations.py`` (prints figures; asserts nothing). Each
training runs ``--blocks`` times with and without the callback, interleaved to share machine
noise; a line gives the median time per iteration (boosting round, Keras batch, loop step)
without (the floor) and with the callback, their difference and ratio. Everything logs into
one active run (started without environment capture or system metrics, so the figures are
the per-step cost, not the one-time cost of starting a run) in a throwaway workspace.
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

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("NBTRACK_DIR", tempfile.mkdtemp(prefix="nbtrack-bench-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
warnings.simplefilter("ignore")


def interleaved(blocks: int, plain: Callable[[], None], tracked: Callable[[], None],
                iterations: int) -> tuple[float, float]:
    """Median microseconds per iteration of ``plain`` and ``tracked`` over ``blocks`` each."""
    plain(), tracked()  # warm up (imports, compilation)
    times: dict[str, list[float]] = {"plain": [], "tracked": []}
    for _ in range(blocks):
        for name, fn in (("plain", plain), ("tracked", tracked)):
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) / iterations * 1e6)
    return statistics.median(times["plain"]), statistics.median(times["tracked"])


#: Seconds spent inside the callbacks' own methods (robust to machine noise).
INSIDE = [0.0]


def timed(method: Callable) -> Callable:
    """``method`` adding the time it takes to :data:`INSIDE`."""
    def run(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            INSIDE[0] += time.perf_counter() - t0
    return run


def report(label: str, unit: str, floor: float, tracked: float, inside: float | None = None
           ) -> None:
    own = "" if inside is None else f"   (in the callback: {inside:.1f} us/{unit})"
    print(f"{label:<36} {floor:8.1f} us/{unit:<6} {tracked:8.1f} us/{unit:<6} "
          f"{tracked - floor:+8.1f} us   x{tracked / floor:.3f}{own}")


def inside_per(iterations: int, blocks: int) -> float:
    """Median-free average: time in the callbacks per iteration over the timed blocks."""
    return INSIDE[0] / ((blocks + 1) * iterations) * 1e6


def data(rows: int, features: int = 10):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((rows, features)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.random(rows) > 0.65).astype("float32")
    return x, y


def bench_xgboost(blocks: int, rounds: int) -> None:
    import xgboost as xgb

    from nbtrack.integrations.xgboost import NbtrackCallback

    x, y = data(2000)
    train, valid = xgb.DMatrix(x[:1500], y[:1500]), xgb.DMatrix(x[1500:], y[1500:])
    params = {"max_depth": 3, "objective": "binary:logistic", "eval_metric": ["logloss", "auc"],
              "nthread": 1}

    def fit(callbacks: list) -> None:
        xgb.train(params, train, rounds, evals=[(train, "train"), (valid, "valid")],
                  verbose_eval=False, callbacks=callbacks)

    def callback() -> NbtrackCallback:
        cb = NbtrackCallback()
        cb.after_iteration = timed(cb.after_iteration)
        return cb

    INSIDE[0] = 0.0
    floor, tracked = interleaved(blocks, lambda: fit([]), lambda: fit([callback()]), rounds)
    report("xgboost.train (4 metrics/round)", "round", floor, tracked,
           inside_per(rounds, blocks))


def bench_lightgbm(blocks: int, rounds: int) -> None:
    import lightgbm as lgb

    from nbtrack.integrations.lightgbm import NbtrackCallback

    x, y = data(2000)
    train = lgb.Dataset(x[:1500], y[:1500], free_raw_data=False)
    valid = lgb.Dataset(x[1500:], y[1500:], reference=train, free_raw_data=False)
    params = {"objective": "binary", "metric": ["binary_logloss", "auc"], "num_leaves": 7,
              "verbose": -1, "num_threads": 1}

    def fit(callbacks: list) -> None:
        lgb.train(params, train, rounds, valid_sets=[train, valid], callbacks=callbacks)

    def callback() -> Callable:
        cb = NbtrackCallback()
        wrapper = timed(cb)
        wrapper.order, wrapper.before_iteration = cb.order, cb.before_iteration
        return wrapper

    INSIDE[0] = 0.0
    floor, tracked = interleaved(blocks, lambda: fit([]), lambda: fit([callback()]), rounds)
    report("lightgbm.train (4 metrics/round)", "round", floor, tracked,
           inside_per(rounds, blocks))


def bench_keras(blocks: int, epochs: int) -> None:
    import keras

    from nbtrack.integrations.keras import NbtrackCallback

    x, y = data(4096, 8)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    batches = epochs * (4096 // 32)

    def fit(callbacks: list) -> None:
        model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=callbacks)

    def callback(log_freq: int | None) -> NbtrackCallback:
        cb = NbtrackCallback(log_freq=log_freq)
        cb.on_epoch_end = timed(cb.on_epoch_end)
        if log_freq is not None:  # else Keras's own no-op stays (async dispatch)
            cb.on_train_batch_end = timed(cb.on_train_batch_end)
        return cb

    for label, log_freq in (("keras fit, epoch metrics", None),
                            ("keras fit, log_freq=1 (every batch)", 1)):
        INSIDE[0] = 0.0
        floor, tracked = interleaved(blocks, lambda: fit([]),
                                     lambda f=log_freq: fit([callback(f)]), batches)
        report(label, "batch", floor, tracked, inside_per(batches, blocks))


def bench_writer(blocks: int, steps: int) -> None:
    import numpy as np
    import tensorboardX

    from nbtrack.tensorboard import SummaryWriter

    rng = np.random.default_rng(0)
    w, v = rng.random((32, 32)), rng.random(32)
    folder = tempfile.mkdtemp(prefix="tbx-bench-")

    def loop(writer) -> None:  # a small numpy "training step", then the scalar
        nonlocal v
        for step in range(steps):
            v = np.tanh(w @ v)
            if writer is not None:
                writer.add_scalar("loss", float(v[0]), step)

    ours = SummaryWriter()
    theirs = tensorboardX.SummaryWriter(folder)
    floor, tracked = interleaved(blocks, lambda: loop(None), lambda: loop(ours), steps)
    report("SummaryWriter.add_scalar (nbtrack)", "step", floor, tracked)
    floor, other = interleaved(blocks, lambda: loop(None), lambda: loop(theirs), steps)
    report("SummaryWriter.add_scalar (tensorboardX)", "step", floor, other)
    theirs.close(), ours.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20000)
    args = parser.parse_args()
    import nbtrack

    run = nbtrack.init(name="bench-integrations", capture_env=False, system_metrics=False)
    print(f"{'':<36} {'floor':>14} {'with nbtrack':>16} {'overhead':>11}  ratio")
    bench_xgboost(args.blocks, args.rounds)
    bench_lightgbm(args.blocks, args.rounds)
    bench_keras(args.blocks, args.epochs)
    bench_writer(args.blocks, args.steps)
    run.finish()


if __name__ == "__main__":
    main()
