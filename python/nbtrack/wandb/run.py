"""``WandbRun``: W&B's ``Run`` over an nbtrack :class:`~nbtrack.run.Run`.

``log`` follows W&B's step and commit rules (:mod:`nbtrack.wandb.step`); each row W&B would
write becomes one nbtrack ``log(row, step=step)``, so the nbtrack step is W&B's ``_step``.
Values: numbers as metrics; ``wandb.Image``/``Table``/... (and nbtrack's) as rich values;
nested dicts flattened to ``a.b``; text as ``nbtrack.Text``; numpy arrays, tensors and lists
of numbers as histograms (W&B's conversion); None left out. A value nbtrack cannot store is
left out with a warning, never an exception in the training loop.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from glob import glob
from pathlib import Path
from typing import Any

from nbtrack.run import Run
from nbtrack.wandb import artifacts as _artifacts
from nbtrack.wandb.config import Config
from nbtrack.wandb.errors import UsageError, note_once, notice
from nbtrack.wandb.metrics import Metric, MetricDefinitions
from nbtrack.wandb.step import StepBuffer
from nbtrack.wandb.summary import Summary


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    from nbtrack.media.values import Media

    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError("Key values passed to `wandb.log` must be strings.")
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not isinstance(value, Media):
            _flatten(value, f"{name}.", out)
        else:
            out[name] = value


def _convert(value: Any) -> Any:
    """W&B's conversions of a logged value nbtrack would not take as it is."""
    from nbtrack.media.values import Histogram, Media, Text

    if value is None or isinstance(value, (bool, int, float, Media)):
        return value
    if isinstance(value, str):
        return Text(value)
    module = type(value).__module__
    if module.startswith(("numpy", "torch", "jax", "tensorflow")):
        numel = getattr(value, "numel", None)  # torch's count; numpy's and jax's is .size
        count = numel() if callable(numel) else getattr(value, "size", None)
        if isinstance(count, int) and count != 1:
            from nbtrack.wandb.data_types import _to_numpy

            return Histogram(_to_numpy(value).ravel(), bins=64)
        return value
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return Histogram(list(value), bins=64)
    return value


class WandbRun:
    """A run started by ``nbtrack.wandb.init``: W&B's ``Run`` surface over an nbtrack run
    (``.nbtrack_run``)."""

    def __init__(self, nb_run: Run, *, user_id: str | None = None, project: str | None = None,
                 group: str | None = None, job_type: str | None = None,
                 entity: str | None = None, root_dir: Path, allow_val_change: bool = False,
                 start_step: int = 0, resumed: bool = False,
                 on_close: Callable[[WandbRun], None] | None = None,
                 owns_run: bool = True) -> None:
        self.nbtrack_run = nb_run
        #: False for a sweep trial's run (``wandb.agent``): the sweep, not ``finish``, ends it.
        self.owns_run = owns_run
        self._id = user_id or nb_run.id
        self.project = project or "uncategorized"
        self.group = group or ""
        self.job_type = job_type or ""
        self.entity = entity or "local"
        self.resumed = resumed
        self.offline = True
        self.disabled = False
        self.url: str | None = None
        self.sweep_id: str | None = None
        self.start_time = nb_run.started
        self._lock = threading.RLock()
        self._buffer = StepBuffer(start_step)
        self._metrics = MetricDefinitions()
        self._closed = False
        self._on_close = on_close
        self._saved: list[tuple[Path, Path]] = []
        self._watched: list[Any] = []
        self.config = Config(self._persist_config, allow_val_change)
        self.summary = Summary(self._persist_summary)
        self._dir = root_dir / "wandb" / f"run-{nb_run.number}-{nb_run.id}" / "files"

    # -- identity ------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The ``id`` given to ``init``, else the nbtrack run's id."""
        return self._id

    @property
    def name(self) -> str:
        return self.nbtrack_run.name

    @name.setter
    def name(self, value: str) -> None:
        self.nbtrack_run.name = value

    display_name = name

    @property
    def notes(self) -> str:
        return self.nbtrack_run.notes

    @notes.setter
    def notes(self, value: str) -> None:
        self.nbtrack_run.notes = value

    @property
    def tags(self) -> tuple[str, ...]:
        """The user's tags (without the ``project:``/``group:``/``job_type:`` ones)."""
        return tuple(t for t in self.nbtrack_run.tags if not _is_meta_tag(t))

    @tags.setter
    def tags(self, value: Iterable[str]) -> None:
        meta = [t for t in self.nbtrack_run.tags if _is_meta_tag(t)]
        self.nbtrack_run.tags = [*value, *meta]

    @property
    def dir(self) -> str:
        """A folder for the run's files (``wandb.save`` copies into it)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        return str(self._dir)

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.id}"

    @property
    def step(self) -> int:
        """W&B's current step (the next row's ``_step``)."""
        return self._buffer.step

    @property
    def starting_step(self) -> int:
        return 0

    def get_url(self) -> None:
        return None

    def get_project_url(self) -> None:
        return None

    # -- logging -------------------------------------------------------------------------
    def log(self, data: Mapping[str, Any], step: int | None = None,
            commit: bool | None = None, sync: bool | None = None) -> None:
        """Log ``data`` with W&B's step and commit rules (see :mod:`nbtrack.wandb.step`)."""
        if self._closed:
            raise UsageError(f"Run ({self.id}) is finished. The call to `log` will be ignored."
                             " Please make sure that you are using an active run.")
        if not isinstance(data, Mapping):
            raise TypeError("wandb.log must be passed a dictionary")
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, int):
                try:
                    step = int(step)
                except (TypeError, ValueError):
                    raise TypeError(f"step must be an int, not {type(step).__name__}") from None
        flat: dict[str, Any] = {}
        _flatten(data, "", flat)
        with self._lock:
            rows, warning = self._buffer.log(flat, step, commit)
            self._write(rows)
        if warning:
            notice(warning)

    def _write(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        for step, row in rows:
            self._metrics.sync_steps(row)
            values = {k: v for k, v in ((k, _convert(v)) for k, v in row.items())
                      if v is not None}
            self.summary._logged({k: v if isinstance(v, (int, float)) else v.item()
                                  for k, v in values.items()
                                  if isinstance(v, (int, float)) or _scalar(v)})
            self.summary._logged(self._metrics.summarize(values))
            try:
                self.nbtrack_run.log(values, step=step)
            except (TypeError, ValueError):
                for key, value in values.items():  # keep what can be kept
                    try:
                        self.nbtrack_run.log({key: value}, step=step)
                    except (TypeError, ValueError) as exc:
                        note_once(f"log:{key}", f"nbtrack.wandb: {key!r} was not logged: {exc}")

    def define_metric(self, name: str, step_metric: str | Metric | None = None,
                      step_sync: bool | None = None, hidden: bool | None = None,
                      summary: str | None = None, goal: str | None = None,
                      overwrite: bool | None = None, **kwargs: Any) -> Metric:
        """W&B's ``define_metric``: ``step_metric`` (the x axis, filled in from its last
        value when a row lacks it), ``summary`` ops, ``goal`` (with ``summary="best"``)."""
        for key in kwargs:
            note_once(f"define_metric.{key}", f"nbtrack.wandb: define_metric({key}=...) has no "
                      "local meaning; ignored")
        with self._lock:
            return self._metrics.define(name, step_metric, step_sync, hidden, summary, goal,
                                        overwrite)

    # -- config and summary storage ------------------------------------------------------
    def _persist_config(self, data: dict[str, Any]) -> None:
        try:
            self.nbtrack_run.config.update(data)
        except Exception as exc:  # noqa: BLE001 - tracking never breaks training
            notice(f"nbtrack.wandb could not store the config {sorted(data)}: {exc!r}")

    def _persist_summary(self, key: str, value: Any) -> None:
        try:
            self.nbtrack_run._write_summary(key, value)
        except Exception as exc:  # noqa: BLE001
            notice(f"nbtrack.wandb could not store the summary {key!r}: {exc!r}")

    # -- files -------------------------------------------------------------------------
    def save(self, glob_str: str | Path | None = None, base_path: str | Path | None = None,
             policy: str = "live") -> bool | list[str]:
        """Copy the files ``glob_str`` matches into :attr:`dir` (under their path relative
        to ``base_path``); at finish they are copied again (``live``/``end``) and logged as
        the artifact ``run-<id>-files`` (type ``run_files``). Returns the copied paths."""
        if glob_str is None:
            note_once("save()", "nbtrack.wandb: save() without a path does nothing")
            return True
        pattern = str(glob_str)
        base = Path(base_path) if base_path is not None else Path(pattern).parent
        if "*" in base.as_posix():
            base = Path(".")
        copied: list[str] = []
        for match in sorted(glob(pattern, recursive=True)):
            source = Path(match)
            if not source.is_file():
                continue
            try:
                rel = source.resolve().relative_to(base.resolve())
            except ValueError:
                rel = Path(source.name)
            target = Path(self.dir) / rel
            if source.resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
            with self._lock:
                if policy != "now":
                    self._saved.append((source, target))
                elif (source, target) not in self._saved:
                    self._saved.append((target, target))
            copied.append(str(target))
        if not copied:
            notice(f"nbtrack.wandb: save({pattern!r}) matched no file")
        return copied

    def _log_saved(self) -> None:
        if not self._saved:
            return
        from nbtrack.artifacts.artifact import Artifact

        art = Artifact(f"run-{self.nbtrack_run.id}-files", "run_files")
        root = Path(self.dir)
        for source, target in self._saved:
            if source != target and source.is_file():
                shutil.copy2(source, target)
            if target.is_file():
                art.add_file(target, target.relative_to(root).as_posix())
        if art.paths():
            self.nbtrack_run.log_artifact(art)

    # -- artifacts ---------------------------------------------------------------------
    def log_artifact(self, artifact_or_path: Any, name: str | None = None,
                     type: str | None = None, aliases: Iterable[str] | None = None,
                     tags: Iterable[str] | None = None) -> Any:
        return _artifacts.log_artifact(self.nbtrack_run, artifact_or_path, name, type,
                                       aliases, tags)

    def use_artifact(self, artifact_or_name: Any, type: str | None = None,
                     aliases: Iterable[str] | None = None, use_as: str | None = None) -> Any:
        """The artifact version named (``"name:v1"``, ``"name:alias"``, ``"name"`` for
        latest), recorded as used by this run."""
        if isinstance(artifact_or_name, _artifacts.Artifact):
            artifact_or_name = artifact_or_name._require_logged().name
        elif isinstance(artifact_or_name, _artifacts.LoggedArtifact):
            artifact_or_name = artifact_or_name.name
        version = self.nbtrack_run.use_artifact(_artifacts.short_ref(str(artifact_or_name)))
        if type is not None and version.type != type:
            raise ValueError(f"Artifact {version.ref} is of type {version.type!r}, not {type!r}")
        return _artifacts.LoggedArtifact(version)

    def log_model(self, path: str | Path, name: str | None = None,
                  aliases: Iterable[str] | None = None) -> Any:
        return _artifacts.log_model(self.nbtrack_run, path, name, aliases)

    def use_model(self, name: str) -> str:
        """Download the model artifact ``name`` and return its folder."""
        artifact = self.use_artifact(name)
        if artifact.type != "model":
            raise ValueError(f"Artifact {artifact.name} is of type {artifact.type!r}, not "
                             "'model'")
        return str(artifact.download())

    def link_model(self, path: str | Path, registered_model_name: str,
                   name: str | None = None, aliases: Iterable[str] | None = None) -> Any:
        return _artifacts.link_model(self.nbtrack_run, path, registered_model_name, name,
                                     aliases)

    def link_artifact(self, artifact: Any, target_path: str,
                      aliases: Iterable[str] | None = None) -> Any:
        return _artifacts.link_artifact(self.nbtrack_run, artifact, target_path, aliases)

    # -- PyTorch -----------------------------------------------------------------------
    def watch(self, models: Any, criterion: Any = None, log: str | None = "gradients",
              log_freq: int = 1000, idx: int | None = None, log_graph: bool = False) -> None:
        """Log histograms of the gradients and/or parameters of ``models`` every
        ``log_freq`` steps (see :mod:`nbtrack.wandb.watching`)."""
        from nbtrack.wandb.watching import watch

        self._watched.extend(watch(self, models, log=log, log_freq=log_freq,
                                   log_graph=log_graph))

    def unwatch(self, models: Any = None) -> None:
        """Remove the hooks :meth:`watch` added (of ``models``, or all)."""
        from nbtrack.wandb.watching import unwatch

        self._watched = unwatch(self._watched, models)

    # -- no local meaning --------------------------------------------------------------
    def alert(self, title: str = "", text: str = "", level: Any = None,
              wait_duration: Any = None) -> None:
        note_once("alert", "nbtrack.wandb: alerts have no local meaning; ignored")

    def mark_preempting(self) -> None:
        note_once("mark_preempting", "nbtrack.wandb: mark_preempting has no local meaning")

    def log_code(self, root: str | None = ".", name: str | None = None,
                 include_fn: Any = None, exclude_fn: Any = None) -> None:
        note_once("log_code", "nbtrack.wandb: log_code does nothing: nbtrack records the "
                  "script, the git commit and diff of every run itself")

    def status(self) -> dict[str, Any]:
        return {"step": self.step, "finished": self._closed}

    def restore(self, name: str, *args: Any, **kwargs: Any) -> None:
        note_once("restore", "nbtrack.wandb: restore has no local meaning")

    def pin_config_keys(self, *args: Any, **kwargs: Any) -> None:
        note_once("pin_config_keys", "nbtrack.wandb: pin_config_keys has no local meaning")

    # -- finishing ---------------------------------------------------------------------
    def _close(self) -> None:
        """Write the pending row, the summaries the store does not keep itself, the saved
        files; remove watch hooks. Idempotent; leaves the nbtrack run open."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._write(self._buffer.flush())
                defined = {k for k, v in self.summary._values.items() if isinstance(v, dict)}
                defined |= {k for k in self._metrics._aggregates}
                for key, value in self.summary._to_store(defined).items():
                    self._persist_summary(key, value)
                self.unwatch()
                self._log_saved()
            except Exception as exc:  # noqa: BLE001 - finishing never raises tracking errors
                notice(f"nbtrack.wandb could not finish cleanly: {exc!r}")
        if self._on_close is not None:
            self._on_close(self)

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Write what is pending and finish the run (``exit_code`` other than 0: failed)."""
        self._close()
        if self.nbtrack_run.live and self.owns_run:
            self.nbtrack_run.finish("failed" if exit_code else "finished")

    def __enter__(self) -> WandbRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        return f"<Run {self.path} (nbtrack #{self.nbtrack_run.number})>"


def _scalar(value: Any) -> bool:
    item = getattr(value, "item", None)
    return callable(item) and getattr(value, "ndim", None) == 0


#: Tag prefixes that hold what W&B keeps as run fields.
META_TAGS = ("project:", "group:", "job_type:", "wandb_id:")


def _is_meta_tag(tag: str) -> bool:
    return tag.startswith(META_TAGS)


__all__ = ["META_TAGS", "WandbRun"]
