"""PyTorch Lightning: a ``Logger`` recording hyperparameters, metrics at the global step, the
run's final status and (with ``log_model``) the checkpoints as ``model`` artifacts.

>>> from nbtrack.integrations.lightning import NbtrackLogger
>>> trainer = L.Trainer(max_epochs=5, logger=NbtrackLogger(log_model=True))  # doctest: +SKIP
>>> trainer.fit(model, datamodule=dm)  # doctest: +SKIP

Lightning is imported when the logger is made, not when this module is. The logger subclasses
``lightning.pytorch.loggers.Logger`` (the ``lightning`` package); when the process has
imported ``pytorch_lightning`` and not ``lightning``, or only ``pytorch_lightning`` is
installed, it subclasses ``pytorch_lightning.loggers.Logger`` instead, so ``isinstance`` checks
against the namespace the user trains with hold. With neither installed, making it is an
``ImportError`` naming ``lightning``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from nbtrack.integrations.scope import LazySubclass, RunScope
from nbtrack.recorder import warn
from nbtrack.run import Run

#: Lightning's status for ``finalize`` -> nbtrack's final status.
_STATUS = {"success": "finished", "failed": "failed"}

#: ``ModelCheckpoint`` settings kept in a checkpoint artifact's metadata (as W&B's logger does).
_CHECKPOINT_SETTINGS = ("monitor", "mode", "save_last", "save_top_k", "save_weights_only",
                        "_every_n_train_steps")


def namespace() -> str:
    """``"lightning"`` or ``"pytorch_lightning"``: the package whose ``Logger`` to subclass."""
    if "pytorch_lightning" in sys.modules and "lightning" not in sys.modules:
        return "pytorch_lightning"
    if _installed("lightning") or not _installed("pytorch_lightning"):
        return "lightning"
    return "pytorch_lightning"


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class NbtrackLogger(LazySubclass):
    """A Lightning logger writing to nbtrack: ``Trainer(logger=NbtrackLogger())``.

    - ``log_hyperparams``: the LightningModule's (and DataModule's) ``save_hyperparameters``
      become the run's params, nested dicts flattened with ``/`` as Lightning's loggers do
      (``optim/lr``); callables are replaced as Lightning's loggers replace them.
    - ``log_metrics``: everything ``self.log`` records (and Lightning's ``epoch``), at step =
      the step Lightning gives (the global step: optimizer steps taken).
    - ``finalize``: a run this logger started ends ``finished`` when Lightning reports
      ``success``, ``failed`` on an error, ``interrupted`` on Ctrl+C.
    - ``after_save_checkpoint``: with ``log_model=True``, the checkpoints a ``ModelCheckpoint``
      kept are logged when training ends successfully; with ``log_model="all"`` (or
      ``save_top_k=-1``) each as soon as it is saved. Each is a version of the ``model``
      artifact ``checkpoint_name`` (default ``model-<run id>``) holding ``model.ckpt``, with
      the score and the checkpoint settings as metadata and the alias ``best`` on the best
      one (``latest`` always points at the newest).

    Logs into the active run (left open) if there is one, else starts a run named ``name``
    (when Lightning first asks for the experiment) and finishes it in ``finalize``. Each
    ``fit``/``validate``/``test`` ends with ``finalize``: to keep them in one run, start it
    yourself (``with nbtrack.init(): trainer.fit(...); trainer.test(...)``). Only global rank
    0 records. Tracking failures are warnings, never errors.

    Parameters
    ----------
    name : the run's name when the logger starts one (default: nbtrack's ``run-<number>``).
    log_model : ``False``, ``True`` (the kept checkpoints, at the end) or ``"all"``.
    checkpoint_name : the artifact the checkpoints are logged as (default ``model-<run id>``).
    save_dir : where Lightning puts this logger's files (the checkpoints, in
        ``<save_dir>/<name>/<version>/checkpoints``); default: the Trainer's
        ``default_root_dir``. nbtrack's own records are in the workspace store.
    prefix : put before each metric key, joined with ``-`` (as Lightning's loggers do).
    """

    _package, _base = "lightning", "lightning.pytorch.loggers:Logger"
    #: The Lightning Fabric package of this namespace (rank-zero state, param helpers).
    _fabric: ClassVar[str] = "lightning.fabric"
    #: The namespace's ``loggers`` package (its checkpoint scanner).
    _loggers: ClassVar[str] = "lightning.pytorch.loggers"

    LOGGER_JOIN_CHAR = "-"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is NbtrackLogger and namespace() == "pytorch_lightning":
            cls = PytorchLightningLogger
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, name: str | None = None, *,
                 log_model: bool | Literal["all"] = False, checkpoint_name: str | None = None,
                 save_dir: str | os.PathLike[str] | None = None, prefix: str = "") -> None:
        super().__init__()
        if log_model not in (False, True, "all"):
            raise ValueError(f"log_model must be False, True or 'all', not {log_model!r}")
        self._name = name
        self._log_model = log_model
        self._checkpoint_name = checkpoint_name
        self._save_dir = None if save_dir is None else os.fspath(save_dir)
        self._prefix = prefix
        self._scope = RunScope(name)
        #: The run last logged into (still answers ``name``/``version`` once finished).
        self._seen: Run | None = None
        #: Checkpoint callbacks whose checkpoints are logged at the end (``log_model=True``).
        self._checkpoint_callbacks: dict[int, Any] = {}
        #: Checkpoint path -> modification time when logged (a re-saved file is logged again).
        self._logged: dict[str, float] = {}
        fabric = self._fabric
        self._rank_zero = importlib.import_module(f"{fabric}.utilities.rank_zero").rank_zero_only
        self._params = importlib.import_module(f"{fabric}.utilities.logger")

    # -- the run -----------------------------------------------------------------------------
    def _on_rank_zero(self) -> bool:
        return getattr(self._rank_zero, "rank", 0) == 0

    def _run(self) -> Run | None:
        run = self._scope.run()
        if run is not None:
            self._seen = run
        return run

    def _known_run(self) -> Run | None:
        """The run last logged into, else (on rank 0) the run to log into."""
        if self._seen is not None:
            return self._seen
        return self._run() if self._on_rank_zero() else None

    @property
    def experiment(self) -> Any:
        """The nbtrack :class:`~nbtrack.Run` this logger records to (started if needed; on
        other ranks than 0, an object whose every method does nothing)."""
        if not self._on_rank_zero():
            return importlib.import_module(f"{self._fabric}.loggers.logger")._DummyExperiment()
        return self._run()

    @property
    def name(self) -> str:
        """The run's name."""
        run = self._known_run()
        if run is not None:
            try:
                return run.name
            except Exception:  # noqa: BLE001 - the store unreadable: fall back
                pass
        return self._name or "nbtrack"

    @property
    def version(self) -> str | None:
        """The run's id."""
        run = self._known_run()
        return None if run is None else run.id

    @property
    def save_dir(self) -> str | None:
        return self._save_dir

    @property
    def root_dir(self) -> str | None:
        return None if self._save_dir is None else os.path.join(self._save_dir, self.name)

    @property
    def log_dir(self) -> str | None:
        if self._save_dir is None:
            return None
        return os.path.join(self._save_dir, self.name, str(self.version))

    # -- Lightning's calls -------------------------------------------------------------------
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        if not self._on_rank_zero():
            return
        try:
            helpers = self._params
            flat = helpers._flatten_dict(helpers._sanitize_callable_params(
                helpers._convert_params(params)))
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not read the hyperparameters: {exc!r}")
            return
        if self._run() is not None:
            self._scope.config(flat)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if not self._on_rank_zero():
            return
        prefix = self._prefix
        data: dict[str, Any] = {}
        for key, value in metrics.items():
            if type(value) is not float and type(value) is not int and hasattr(value, "item"):
                value = value.item()
            data[f"{prefix}{self.LOGGER_JOIN_CHAR}{key}" if prefix else key] = value
        if self._run() is not None:
            self._scope.log(data, step)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if not self._on_rank_zero() or not self._log_model:
            return
        if self._log_model == "all" or getattr(checkpoint_callback, "save_top_k", None) == -1:
            self._log_checkpoints(checkpoint_callback)
        else:
            self._checkpoint_callbacks[id(checkpoint_callback)] = checkpoint_callback

    def finalize(self, status: str) -> None:
        if not self._on_rank_zero():
            return
        if status == "success":
            for callback in self._checkpoint_callbacks.values():
                self._log_checkpoints(callback)
        self._checkpoint_callbacks.clear()
        final = _STATUS.get(status, "failed")
        if isinstance(sys.exc_info()[1], KeyboardInterrupt):  # Lightning says "failed"
            final = "interrupted"
        self._scope.release(final)

    # -- checkpoints -------------------------------------------------------------------------
    def _log_checkpoints(self, checkpoint_callback: Any) -> None:
        """Log each checkpoint of ``checkpoint_callback`` not logged yet (or saved again)."""
        try:
            scan = importlib.import_module(f"{self._loggers}.utilities")._scan_checkpoints
            checkpoints = scan(checkpoint_callback, self._logged)
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not list the checkpoints: {exc!r}")
            return
        run = self._run() if checkpoints else None
        if run is None:
            return
        from nbtrack.artifacts import Artifact

        best = getattr(checkpoint_callback, "best_model_path", None)
        settings = {k: getattr(checkpoint_callback, k) for k in _CHECKPOINT_SETTINGS
                    if hasattr(checkpoint_callback, k)}
        for mtime, path, score, _tag in checkpoints:
            try:
                artifact = Artifact(
                    self._checkpoint_name or f"model-{run.id}", type="model",
                    metadata={"score": score.item() if hasattr(score, "item") else score,
                              "original_filename": os.path.basename(path),
                              # a weakref proxy: its __class__ is the callback's
                              checkpoint_callback.__class__.__name__: settings})
                artifact.add_file(path, "model.ckpt")
                run.log_artifact(artifact, aliases=["best"] if path == best else [])
            except Exception as exc:  # noqa: BLE001 - tracking never breaks training
                warn(f"nbtrack could not log the checkpoint {path}: {exc!r}")
            else:
                self._logged[path] = mtime


class PytorchLightningLogger(NbtrackLogger):
    """:class:`NbtrackLogger` on the ``pytorch_lightning`` namespace (``NbtrackLogger()``
    makes one when that is the namespace in use; see the module's docstring)."""

    _package, _base = "pytorch_lightning", "pytorch_lightning.loggers:Logger"
    _fabric = "lightning_fabric"
    _loggers = "pytorch_lightning.loggers"


__all__ = ["NbtrackLogger", "PytorchLightningLogger", "namespace"]
