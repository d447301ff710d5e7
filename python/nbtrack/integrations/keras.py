"""Keras 3: a ``keras.callbacks.Callback`` recording epoch metrics, optionally batch metrics
every ``log_freq`` batches, the optimizer's config as params, and (with ``log_model=True``)
the trained model as a ``model`` artifact.

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
    counted over the whole training. With ``log_model=True``, at the end of training the
    model is logged with :meth:`nbtrack.Run.log_model` (the ``keras`` flavor: ``model.keras``)
    as ``model_name`` (default: the model's ``name``), with ``input_example`` when given
    (it also gives the signature); load it back with :func:`nbtrack.load_model`.

    Logs into the active run (left open) if there is one, else starts a run named ``name``
    and finishes it when training ends. Tracking failures are warnings, never errors.

    Parameters
    ----------
    log_freq : log the training batch metrics every ``log_freq`` batches (default: never).
    name : the run's name when the callback starts one.
    log_model : log the model as an artifact when training ends.
    model_name : the artifact's name (default: the model's ``name``).
    input_example : a few input rows stored with the model (and its signature).
    """

    _package, _base = "keras", "keras.callbacks:Callback"

    #: Set by Keras's ``Callback`` (declared here for type checkers).
    model: Any

    def __init__(self, log_freq: int | None = None, *, name: str | None = None,
                 log_model: bool = False, model_name: str | None = None,
                 input_example: Any = None) -> None:
        super().__init__()
        if log_freq is not None and (not isinstance(log_freq, int) or isinstance(log_freq, bool)
                                     or log_freq < 1):
            raise ValueError(f"log_freq must be a whole number of batches >= 1, not {log_freq!r}")
        self.log_freq = log_freq
        self.name = name
        self.log_model = log_model
        self.model_name = model_name
        self.input_example = input_example
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
        if self.log_model:
            self._log_model()
        self._scope.release()

    def _log_model(self) -> None:
        run = self._scope.run()
        if run is None:
            return
        try:
            run.log_model(self.model, self.model_name or self.model.name,
                          input_example=self.input_example)
        except Exception as exc:  # noqa: BLE001 - tracking never breaks training
            warn(f"nbtrack could not log the model: {exc!r}")


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
