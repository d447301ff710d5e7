"""``wandb.keras.WandbMetricsLogger`` (W&B's ``wandb.integration.keras``) for Keras 3.

The callback of :mod:`nbtrack.integrations.keras` (the optimizer's config as params) logging
what W&B's does, through the active ``nbtrack.wandb`` run: at each epoch end ``epoch/<key>``
for each of Keras's logs, ``epoch/epoch`` and ``epoch/learning_rate`` (charted against
``epoch/epoch``); with ``log_freq="batch"`` or N, every N-th batch ``batch/<key>``,
``batch/batch_step`` and ``batch/learning_rate`` instead. keras is imported when the
callback is made.
"""

from __future__ import annotations

from typing import Any

from nbtrack.integrations.keras import NbtrackCallback
from nbtrack.wandb._frameworks import active
from nbtrack.wandb.errors import note_once


class WandbMetricsLogger(NbtrackCallback):
    """``WandbMetricsLogger(log_freq="epoch", initial_global_step=0)``."""

    def __init__(self, log_freq: str | int = "epoch", initial_global_step: int = 0,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(None)
        run = active("WandbMetricsLogger",
                     "You must call `wandb.init()` before WandbMetricsLogger()")
        if log_freq == "batch":
            log_freq = 1
        self.logging_batch_wise = isinstance(log_freq, int) and not isinstance(log_freq, bool)
        self.wandb_log_freq: Any = log_freq if self.logging_batch_wise else None
        self.global_batch = 0
        self.global_step = initial_global_step
        if self.logging_batch_wise:
            run.define_metric("batch/batch_step")
            run.define_metric("batch/*", step_metric="batch/batch_step")
            # NbtrackCallback leaves Keras's no-op in place without its own log_freq.
            self.on_train_batch_end = self._on_batch  # type: ignore[method-assign]
        else:
            run.define_metric("epoch/epoch")
            run.define_metric("epoch/*", step_metric="epoch/epoch")

    def _lr(self) -> float | None:
        try:
            import numpy as np

            return float(np.asarray(self.model.optimizer.learning_rate))
        except Exception as exc:  # noqa: BLE001
            note_once("keras.lr", f"nbtrack.wandb: Unable to log learning rate: {exc}")
            return None

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        data = {f"epoch/{k}": v for k, v in (logs or {}).items()}
        data["epoch/epoch"] = epoch
        lr = self._lr()
        if lr is not None:
            data["epoch/learning_rate"] = lr
        active("WandbMetricsLogger").log(data)

    def _on_batch(self, batch: int, logs: Any = None) -> None:
        self.global_step += 1
        if self.logging_batch_wise and batch % self.wandb_log_freq == 0:
            data = {f"batch/{k}": v for k, v in (logs or {}).items()}
            data["batch/batch_step"] = self.global_batch
            lr = self._lr()
            if lr is not None:
                data["batch/learning_rate"] = lr
            active("WandbMetricsLogger").log(data)
            self.global_batch += self.wandb_log_freq


class WandbCallback(WandbMetricsLogger):
    """W&B's legacy ``WandbCallback``: logged as :class:`WandbMetricsLogger` does (its model
    saving, gradient and validation-data options are noted once and left out)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            note_once("keras.WandbCallback", "nbtrack.wandb: keras WandbCallback options have "
                      "no local meaning; epoch metrics are logged as WandbMetricsLogger does")
        super().__init__()


__all__ = ["WandbCallback", "WandbMetricsLogger"]
