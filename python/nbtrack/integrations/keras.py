"""Keras 3: a ``keras.callbacks.Callback`` recording epoch metrics, optionally batch metrics
every ``log_freq`` batches, and the optimizer's config as params.

>>> from nbtrack.integrations.keras import NbtrackCallback
>>> model.fit(x, y, epochs=10, validation_split=0.2,
...           callbacks=[NbtrackCallback(log_freq=50)])  # doctest: +SKIP

keras is imported when the callback is made, not when this module is.
"""

from __future__ import annotations

from typing import Any

from nbtrack.integrations.scope import LazySubclass, RunScope
from nbtrack.recorder import warn


class NbtrackCallback(LazySubclass):
    """Record a Keras ``fit``.

    At the start, the optimizer's config becomes the run's params (``optimizer``: its name,
    ``optimizer/<key>``: each config entry, e.g. ``optimizer/learning_rate``). At the end of
    each epoch, the epoch's logs (``loss``, ``val_loss``, the compiled metrics: the keys of
    ``History.history``) are logged at step = the epoch. With ``log_freq=N``, every N-th
    training batch's logs are logged too, as ``batch/<key>`` at step = the batch's index
    counted over the whole training.

    Logs into the active run (left open) if there is one, else starts a run named ``name``
    and finishes it when training ends. Tracking failures are warnings, never errors.

    Parameters
    ----------
    log_freq : log the training batch metrics every ``log_freq`` batches (default: never).
    name : the run's name when the callback starts one.
    """

    _package, _base = "keras", "keras.callbacks:Callback"

    #: Set by Keras's ``Callback`` (declared here for type checkers).
    model: Any

    def __init__(self, log_freq: int | None = None, *, name: str | None = None) -> None:
        super().__init__()
        if log_freq is not None and (not isinstance(log_freq, int) or isinstance(log_freq, bool)
                                     or log_freq < 1):
            raise ValueError(f"log_freq must be a whole number of batches >= 1, not {log_freq!r}")
        self.log_freq = log_freq
        self.name = name
        self._scope = RunScope(name)
        self._batch = 0
        if log_freq is None:
            # Keep Keras's default (a no-op it can dispatch asynchronously) when batches are
            # not logged: overriding it would make Keras call it synchronously every batch.
            self.on_train_batch_end = super().on_train_batch_end  # type: ignore[method-assign,misc]

    def on_train_begin(self, logs: Any = None) -> None:
        scope = self._scope
        scope.release()
        self._batch = 0
        if scope.run() is None:
            return
        try:
            params = optimizer_params(self.model.optimizer)
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not read the optimizer's config: {exc!r}")
            return
        scope.config(params)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if logs:
            self._scope.log(dict(logs), step=epoch)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        step = self._batch
        self._batch = step + 1
        if logs and self.log_freq is not None and step % self.log_freq == 0:
            self._scope.log({f"batch/{k}": v for k, v in logs.items()}, step=step)

    def on_train_end(self, logs: Any = None) -> None:
        self._scope.release()


def optimizer_params(optimizer: Any) -> dict[str, Any]:
    """``{"optimizer": name, "optimizer/<key>": value}`` from ``optimizer.get_config()``."""
    if optimizer is None:
        return {}
    config = dict(optimizer.get_config())
    params: dict[str, Any] = {"optimizer": config.pop("name", type(optimizer).__name__)}
    for key, value in config.items():
        params[f"optimizer/{key}"] = value
    return params


__all__ = ["NbtrackCallback", "optimizer_params"]
