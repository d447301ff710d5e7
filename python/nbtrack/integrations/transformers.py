"""Hugging Face Transformers: a ``TrainerCallback`` recording the ``TrainingArguments`` and the
model's config as params, everything the ``Trainer`` logs (training and evaluation metrics) at
the global step, and optionally each saved checkpoint as a ``model`` artifact.

>>> from nbtrack.integrations.transformers import NbtrackCallback
>>> trainer = Trainer(model=model, args=TrainingArguments("out", report_to="none"),
...                   train_dataset=train, eval_dataset=valid,
...                   callbacks=[NbtrackCallback()])  # doctest: +SKIP

transformers is imported when the callback is made, not when this module is.
"""

from __future__ import annotations

import os
from typing import Any

from nbtrack.integrations.scope import LazySubclass, RunScope
from nbtrack.recorder import warn


class NbtrackCallback(LazySubclass):
    """Record a Transformers ``Trainer.train()``: ``Trainer(callbacks=[NbtrackCallback()])``.

    - ``on_train_begin``: the model's config (``model.config.to_dict()``: ``hidden_size``,
      ``num_hidden_layers``...) and the ``TrainingArguments`` (``args.to_dict()``, which
      masks tokens: ``learning_rate``, ``per_device_train_batch_size``...) become the run's
      params, in one flat dict where an argument wins over a config entry of the same name
      (as the Trainer's W&B and MLflow callbacks merge them).
    - ``on_log``: each numeric value the Trainer logs (``loss``, ``grad_norm``,
      ``learning_rate``, ``epoch``, the ``eval_*`` metrics, the final ``train_*`` figures:
      the entries of ``trainer.state.log_history``) at step = ``state.global_step``.
    - ``on_save`` with ``log_checkpoints=True``: the checkpoint folder just saved
      (``<output_dir>/checkpoint-<step>``) as a version of the ``model`` artifact
      ``checkpoint_name`` (default ``checkpoint-<run id>``), with the alias ``best`` on the
      Trainer's best checkpoint when it tracks one.
    - ``on_train_end``: a run the callback started is finished.

    Logs into the active run (left open) if there is one, else starts a run named ``name``.
    A training that raises leaves the run it started open (Transformers does not tell
    callbacks); the callback's next training marks it ``failed``. Metrics logged outside
    ``train()`` (``trainer.evaluate()`` afterwards) go to the active run, else to a run of
    their own, finished at once. Only the main process (``state.is_world_process_zero``)
    records. Tracking failures are warnings, never errors.

    Parameters
    ----------
    name : the run's name when the callback starts one.
    log_checkpoints : log each saved checkpoint as a ``model`` artifact.
    checkpoint_name : the artifact the checkpoints are logged as.
    """

    _package, _base = "transformers", "transformers:TrainerCallback"

    def __init__(self, name: str | None = None, *, log_checkpoints: bool = False,
                 checkpoint_name: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.log_checkpoints = log_checkpoints
        self.checkpoint_name = checkpoint_name
        self._scope = RunScope(name)
        self._training = False
        self._skipped: set[str] = set()

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None,
                       **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        scope = self._scope
        # Still training: the previous train() raised before on_train_end.
        scope.release("failed" if self._training else "finished")
        self._training = True
        if scope.run() is None:
            return
        try:
            params = training_params(args, model)
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not read the training arguments: {exc!r}")
            return
        scope.config(params)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
               **kwargs: Any) -> None:
        if not logs or not state.is_world_process_zero:
            return
        data: dict[str, Any] = {}
        for key, value in logs.items():
            number = _number(value)
            if number is not None:
                data[key] = number
            elif key not in self._skipped:
                self._skipped.add(key)
                warn(f"nbtrack records only numbers from the Trainer's logs: {key!r} is a"
                     f" {type(value).__name__}, not recorded")
        if not data:
            return
        self._scope.log(data, step=state.global_step)
        if not self._training:  # trainer.evaluate() outside train(): a run it started ends
            self._scope.release()

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self.log_checkpoints or not state.is_world_process_zero:
            return
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        run = self._scope.run()
        if run is None or not os.path.isdir(folder):
            return
        try:
            from nbtrack.artifacts import Artifact

            artifact = Artifact(self.checkpoint_name or f"checkpoint-{run.id}", type="model",
                                metadata={"global_step": state.global_step,
                                          "epoch": state.epoch,
                                          "original_folder": os.path.basename(folder)})
            artifact.add_dir(folder)
            best = state.best_model_checkpoint
            is_best = best is not None and os.path.abspath(best) == os.path.abspath(folder)
            run.log_artifact(artifact, aliases=["best"] if is_best else [])
        except Exception as exc:  # noqa: BLE001 - tracking never breaks training
            warn(f"nbtrack could not log the checkpoint {folder}: {exc!r}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._training = False
        self._scope.release()


def _number(value: Any) -> float | int | None:
    """``value`` as a number (a Python or numpy number, a one-element tensor), else None."""
    if type(value) is float or type(value) is int:
        return value
    if isinstance(value, (bool, str, bytes)):
        return None
    if isinstance(value, (int, float)):
        return value
    item = getattr(value, "item", None)
    if not callable(item):
        return None
    try:
        number = item()  # raises for more than one element
    except Exception:  # noqa: BLE001
        return None
    return number if isinstance(number, (int, float)) and not isinstance(number, bool) else None


def training_params(args: Any, model: Any = None) -> dict[str, Any]:
    """The params of a training: ``model.config.to_dict()`` then ``args.to_dict()`` over it.

    Values that are not JSON data are kept as their ``repr()``; any ``*_token`` argument is
    masked (``to_dict`` masks them already; this holds for older versions too).
    """
    from nbtrack.store.values import to_jsonable

    params: dict[str, Any] = {}
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        params.update(config.to_dict())
    params.update(args.to_dict())
    for key in params:
        if key.endswith("_token") and params[key] is not None:
            params[key] = f"<{key.upper()}>"
    return {str(k): to_jsonable(v) for k, v in params.items()}


__all__ = ["NbtrackCallback", "training_params"]
