"""W&B's artifacts on nbtrack's: ``wandb.Artifact`` (an :class:`nbtrack.Artifact` with W&B's
methods), what ``log_artifact``/``use_artifact`` return (:class:`LoggedArtifact`, over an
:class:`nbtrack.ArtifactVersion`), and the model calls: ``log_model`` logs a saved model file
or folder as an artifact of type ``model``; ``link_model`` logs it and registers it in the
nbtrack model registry (:func:`nbtrack.register_model`); ``use_model`` downloads it.

W&B names like ``entity/project/name:alias`` keep only ``name:alias``; a name without a
version means ``:latest``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from nbtrack.artifacts.artifact import Artifact as _NbArtifact
from nbtrack.wandb.errors import note_once

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.artifacts.artifact import ArtifactVersion
    from nbtrack.run import Run


def short_ref(ref: str) -> str:
    """``entity/project/name:alias`` -> ``name:alias``; ``name`` -> ``name:latest``."""
    ref = ref.rsplit("/", 1)[-1]
    return ref if ":" in ref else f"{ref}:latest"


class Artifact(_NbArtifact):
    """``wandb.Artifact(name, type, description=None, metadata=None, ...)``.

    ``add_file``, ``add_dir``, ``new_file``, ``add`` (a ``wandb.Table`` is stored as
    ``<name>.table.json``, as W&B does), ``add_reference`` for ``file://`` URIs (others are
    noted once and left out). Once logged, ``version``, ``aliases`` and ``download`` work.
    """

    def __init__(self, name: str, type: str, description: str | None = None,
                 metadata: Mapping[str, Any] | None = None, incremental: bool = False,
                 use_as: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, type, description=description or "", metadata=metadata)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._logged: LoggedArtifact | None = None
        for key in ("incremental", "use_as", *kwargs):
            if (key == "incremental" and incremental) or (key == "use_as" and use_as) or \
                    key in kwargs:
                note_once(f"Artifact.{key}", f"nbtrack.wandb: Artifact({key}=...) has no local "
                          "meaning; ignored")

    def add_file(self, local_path: str | os.PathLike[str], name: str | None = None,
                 is_tmp: bool | None = False, skip_cache: bool | None = False,
                 policy: str | None = None, overwrite: bool = False) -> None:
        """Add the file ``local_path`` as ``name`` (default: its file name)."""
        super().add_file(local_path, name)

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None,
                skip_cache: bool | None = False, policy: str | None = None,
                merge: bool = False) -> None:
        """Add every file under ``local_path``, under the folder ``name`` (default: at the
        top)."""
        super().add_dir(local_path, prefix=name or "")

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None
                 ) -> Iterator[IO[Any]]:
        """Open a new file ``name`` to write; it is added when the block ends."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="nbtrack-wandb-")
        path = Path(self._tmp.name, *name.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding=None if "b" in mode else (encoding or "utf-8")) as f:
            yield f
        super().add_file(path, name)

    def add_reference(self, uri: str, name: str | None = None, checksum: bool = True,
                      max_objects: int | None = None) -> None:
        """``file://`` references are added as files; others are noted and left out."""
        if uri.startswith("file://"):
            path = Path(uri[len("file://"):])
            if path.is_dir():
                super().add_dir(path, prefix=name or "")
            else:
                super().add_file(path, name)
            return
        note_once(f"Artifact.add_reference:{uri.split(':', 1)[0]}",
                  f"nbtrack.wandb: Artifact.add_reference({uri!r}) has no local meaning "
                  "(only file:// references are copied); left out")

    def add(self, obj: Any, name: str, overwrite: bool = False) -> None:
        """Add a value: a ``wandb.Table`` as ``<name>.table.json``; a DataFrame or JSON-able
        value as :meth:`nbtrack.Artifact.add` stores it."""
        from nbtrack.media.values import Table

        if isinstance(obj, Table):
            encoded = obj.prepared(name).encode()
            assert encoded.data is not None
            path = name if name.endswith(".table.json") else f"{name}.table.json"
            self._entries[path] = encoded.data
            return
        super().add(obj, name)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to upload: an artifact is stored by ``log_artifact``."""

    def wait(self, timeout: int | None = None) -> Artifact:
        """Logging is synchronous here: nothing to wait for."""
        return self

    def _require_logged(self) -> LoggedArtifact:
        if self._logged is None:
            from nbtrack.wandb.errors import Error

            raise Error("This artifact has not been logged yet: log it with run.log_artifact()")
        return self._logged

    @property
    def version(self) -> str:
        return self._require_logged().version

    @property
    def aliases(self) -> list[str]:
        return self._require_logged().aliases

    def download(self, root: str | None = None, **kwargs: Any) -> str:
        return self._require_logged().download(root)


class LoggedArtifact:
    """A logged artifact version the way W&B shows one: ``name`` (``"mnist:v0"``),
    ``version``, ``type``, ``aliases``, ``metadata``, ``download()`` (a path string),
    ``file()``, ``get_path(name)``, ``files()``. ``.version_obj`` is the nbtrack version."""

    def __init__(self, version: ArtifactVersion) -> None:
        self.version_obj = version

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return getattr(self.version_obj, key)

    @property
    def name(self) -> str:
        return self.version_obj.ref

    @property
    def source_name(self) -> str:
        return self.version_obj.ref

    @property
    def qualified_name(self) -> str:
        return self.version_obj.ref

    @property
    def version(self) -> str:
        return self.version_obj.version

    @property
    def aliases(self) -> list[str]:
        return list(self.version_obj.aliases)

    def download(self, root: str | None = None, **kwargs: Any) -> str:
        """Write the files under ``root`` and return that folder (a string, as W&B does)."""
        return str(self.version_obj.download(root))

    def file(self, root: str | None = None) -> str:
        """The path of the artifact's only file, downloaded."""
        files = self.version_obj.files()
        if len(files) != 1:
            raise ValueError("This method can only be called on artifacts with a single file")
        folder = Path(self.download(root))
        return str(folder.joinpath(*files[0]["path"].split("/")))

    def get_path(self, name: str) -> _Entry:
        """One file of the artifact (``.download()`` returns its local path)."""
        if name not in {f["path"] for f in self.version_obj.files()}:
            raise KeyError(f"Path not contained in artifact: {name}")
        return _Entry(self, name)

    def wait(self, timeout: int | None = None) -> LoggedArtifact:
        return self

    def __repr__(self) -> str:
        return f"<Artifact {self.name} ({self.version_obj.type})>"


class _Entry:
    def __init__(self, artifact: LoggedArtifact, path: str) -> None:
        self._artifact, self.path = artifact, path

    def download(self, root: str | None = None) -> str:
        folder = Path(self._artifact.download(root))
        return str(folder.joinpath(*self.path.split("/")))


def log_artifact(run: Run, artifact_or_path: Any, name: str | None = None,
                 type: str | None = None, aliases: Iterable[str] | None = None,
                 tags: Iterable[str] | None = None) -> Any:
    """``run.log_artifact``: an ``Artifact``, or a file/folder path (``name`` defaults to
    ``run-<run id>-<file name>`` and ``type`` to ``unspecified``, as in W&B)."""
    if tags:
        note_once("log_artifact.tags", "nbtrack.wandb: artifact tags have no local meaning "
                  "(use aliases or metadata); ignored")
    alias_list = [a for a in ([aliases] if isinstance(aliases, str) else (aliases or ()))
                  if a != "latest"]
    if isinstance(artifact_or_path, _NbArtifact):
        version = run.log_artifact(artifact_or_path, aliases=alias_list)
        logged = LoggedArtifact(version)
        if isinstance(artifact_or_path, Artifact):
            artifact_or_path._logged = logged
            return artifact_or_path
        return logged
    path = Path(str(artifact_or_path).removeprefix("file://"))
    art = _NbArtifact(name or f"run-{run.id}-{path.name}", type or "unspecified")
    if path.is_dir():
        art.add_dir(path)
    else:
        art.add_file(path)
    return LoggedArtifact(run.log_artifact(art, aliases=alias_list))


def log_model(run: Run, path: str | os.PathLike[str], name: str | None = None,
              aliases: Iterable[str] | None = None) -> LoggedArtifact:
    """W&B's ``log_model``: a saved model file or folder as an artifact of type ``model``."""
    source = Path(path)
    art = _NbArtifact(name or f"run-{run.id}-{source.name}", "model")
    if source.is_dir():
        art.add_dir(source)
    else:
        art.add_file(source)
    alias_list = [a for a in ([aliases] if isinstance(aliases, str) else (aliases or ()))
                  if a != "latest"]
    return LoggedArtifact(run.log_artifact(art, aliases=alias_list))


def link_model(run: Run, path: str | os.PathLike[str], registered_model_name: str,
               name: str | None = None, aliases: Iterable[str] | None = None) -> Any:
    """W&B's ``link_model``: log the model (``path``: a file, a folder, or an artifact
    reference) and register it as the next version of ``registered_model_name`` in the
    nbtrack model registry, with ``aliases``."""
    from nbtrack.registry import register_model

    if isinstance(path, str) and ":" in path and not Path(path).exists():
        version: Any = run.use_artifact(short_ref(path))
    else:
        version = log_model(run, path, name).version_obj
    target = registered_model_name.rsplit("/", 1)[-1]
    alias_list = [aliases] if isinstance(aliases, str) else list(aliases or ())
    return register_model(version, target, aliases=[a for a in alias_list if a != "latest"],
                          workspace=run.workspace)


def link_artifact(run: Run, artifact: Any, target_path: str,
                  aliases: Iterable[str] | None = None) -> Any:
    """Models are registered (as :func:`link_model`); other types have no local registry."""
    from nbtrack.registry import register_model

    version = artifact.version_obj if isinstance(artifact, LoggedArtifact) else (
        artifact._require_logged().version_obj if isinstance(artifact, Artifact) else artifact)
    if getattr(version, "type", None) != "model":
        note_once("link_artifact", "nbtrack.wandb: link_artifact registers only artifacts of "
                  "type 'model' (in the nbtrack model registry); others are left as they are")
        return None
    alias_list = [aliases] if isinstance(aliases, str) else list(aliases or ())
    return register_model(version, target_path.rsplit("/", 1)[-1],
                          aliases=[a for a in alias_list if a != "latest"],
                          workspace=run.workspace)


__all__ = ["Artifact", "LoggedArtifact", "link_artifact", "link_model", "log_artifact",
           "log_model", "short_ref"]
