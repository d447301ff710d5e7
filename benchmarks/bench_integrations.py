"""Integration overhead: what each nbtrack callback (XGBoost, LightGBM, Keras, the Lightning
logger, the Transformers callback) and the SummaryWriter's ``add_scalar`` add to a training
loop, beside the same loop without them (Lightning: ``logger=False``).

Run: ``python benchmarks/bench_integrations.py`` (prints figures; asserts nothing). Each
training runs ``--blocks`` times with and without the callback, interleaved to share machine
noise; a line gives the median time per iteration (boosting round, Keras batch, optimizer
step, loop step)
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


def bench_lightning(blocks: int, steps: int) -> None:
    import logging

    import lightning as L
    import torch

    from nbtrack.integrations.lightning import NbtrackLogger

    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.rand(steps * 16, 8)
    y = x.sum(dim=1, keepdim=True)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)

    class Net(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.save_hyperparameters({"lr": 0.01, "hidden": 16})
            self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(),
                                           torch.nn.Linear(16, 1))

        def training_step(self, batch, index):
            xb, yb = batch
            loss = torch.nn.functional.mse_loss(self.net(xb), yb)
            self.log("train_loss", loss)
            self.log("train_mae", torch.nn.functional.l1_loss(self.net(xb), yb))
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    module = Net()

    def fit(logger, every: int) -> None:
        L.Trainer(max_epochs=1, logger=logger, log_every_n_steps=every, accelerator="cpu",
                  enable_progress_bar=False, enable_model_summary=False,
                  enable_checkpointing=False).fit(module, data)

    def logger() -> NbtrackLogger:
        lg = NbtrackLogger()
        lg.log_metrics = timed(lg.log_metrics)
        return lg

    for every in (1, 50):
        INSIDE[0] = 0.0
        floor, tracked = interleaved(blocks, lambda e=every: fit(False, e),
                                     lambda e=every: fit(logger(), e), steps)
        report(f"lightning fit, log_every_n_steps={every}", "step", floor, tracked,
               inside_per(steps, blocks))


def bench_transformers(blocks: int, steps: int) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers

    from nbtrack.integrations.transformers import NbtrackCallback

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)

    class Tokens(torch.utils.data.Dataset):
        def __init__(self, rows: int) -> None:
            self.ids = torch.randint(0, 100, (rows, 16), generator=torch.Generator().manual_seed(0))

        def __len__(self) -> int:
            return len(self.ids)

        def __getitem__(self, i: int) -> dict:
            return {"input_ids": self.ids[i], "labels": (self.ids[i, 0] > 50).long()}

    def trainer(callbacks: list) -> transformers.Trainer:
        transformers.set_seed(0)
        config = transformers.BertConfig(num_hidden_layers=2, hidden_size=32,
                                         num_attention_heads=2, intermediate_size=37,
                                         vocab_size=100, max_position_embeddings=32)
        args = transformers.TrainingArguments(
            output_dir=tempfile.mkdtemp(prefix="hf-bench-"), num_train_epochs=1,
            per_device_train_batch_size=8, logging_steps=1, save_strategy="no",
            report_to="none", disable_tqdm=True, use_cpu=True)
        return transformers.Trainer(
            model=transformers.BertForSequenceClassification(config), args=args,
            train_dataset=Tokens(steps * 8), callbacks=callbacks)

    def callback() -> NbtrackCallback:
        cb = NbtrackCallback()
        cb.on_log = timed(cb.on_log)
        cb.on_train_begin = timed(cb.on_train_begin)
        return cb

    plain, tracked_trainer = trainer([]), trainer([callback()])
    silent = transformers.trainer_callback.PrinterCallback  # logging_steps=1 prints each log
    plain.remove_callback(silent), tracked_trainer.remove_callback(silent)
    INSIDE[0] = 0.0
    floor, tracked = interleaved(blocks, plain.train, tracked_trainer.train, steps)
    report("transformers Trainer, logging_steps=1", "step", floor, tracked,
           inside_per(steps, blocks))


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
    parser.add_argument("--only", nargs="*", help="run only these (xgboost lightgbm keras"
                        " lightning transformers writer)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--torch-steps", type=int, default=200,
                        help="optimizer steps per Lightning/Transformers training")
    args = parser.parse_args()
    import nbtrack

    run = nbtrack.init(name="bench-integrations", capture_env=False, system_metrics=False)
    print(f"{'':<36} {'floor':>14} {'with nbtrack':>16} {'overhead':>11}  ratio")
    benches = {"xgboost": lambda: bench_xgboost(args.blocks, args.rounds),
               "lightgbm": lambda: bench_lightgbm(args.blocks, args.rounds),
               "keras": lambda: bench_keras(args.blocks, args.epochs),
               "lightning": lambda: bench_lightning(args.blocks, args.torch_steps),
               "transformers": lambda: bench_transformers(args.blocks, args.torch_steps),
               "writer": lambda: bench_writer(args.blocks, args.steps)}
    for name, bench in benches.items():
        if not args.only or name in args.only:
            bench()
    run.finish()


if __name__ == "__main__":
    main()
