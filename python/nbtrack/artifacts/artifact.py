"""``nbtrack.Artifact`` (what to log) and ``ArtifactVersion`` (a logged version), and the
two operations runs use: :func:`log_artifact` and :func:`use_artifact`."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nbtrack.artifacts import files as _files
from nbtrack.artifacts.names import check_alias, check_name, parse_ref
from nbtrack.store import access, blobs
from nbtrack.store import artifacts as _store
from nbtrack.store.artifacts import ManifestEntry


def _check_path(name: str) -> str:
    """A file's path inside an artifact: relative, ``/``-separated, no ``..``."""
    parts = name.replace(os.sep, "/").split("/")
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{name!r} is not a relative file path inside the artifact")
    return "/".join(parts)


class Artifact:
    """A set of files to log as one version of the artifact ``name`` of type ``type``.

    Examples
    --------
    >>> art = nbtrack.Artifact("mnist", "dataset")  # doctest: +SKIP
    >>> art.add_dir("data/mnist"); art.add({"classes": 10}, "info")
    >>> run.log_artifact(art, aliases=["baseline"])
    """

    def __init__(self, name: str, type: str = "dataset", *, description: str = "",
                 metadata: Mapping[str, Any] | None = None) -> None:
        self.name = check_name(name)
        self.type = check_name(type, "artifact type")
        self.description = description
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._entries: dict[str, Path | bytes] = {}

    def add_file(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        """Add the file ``path``, as ``name`` (default: its file name)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        self._entries[_check_path(name or path.name)] = path

    def add_dir(self, path: str | os.PathLike[str], prefix: str = "") -> None:
        """Add every file under the folder ``path``, as ``prefix/<relative path>``."""
        root = Path(path)
        if not root.is_dir():
            raise NotADirectoryError(f"no folder at {root}")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                file = Path(dirpath) / filename
                rel = file.relative_to(root).as_posix()
                self._entries[_check_path(f"{prefix.strip('/')}/{rel}" if prefix else rel)] = file

    def add(self, obj: Any, name: str) -> None:
        """Add a value as a file: a pandas DataFrame as ``name.parquet`` (with pyarrow) or
        ``name.csv``; anything JSON can encode as ``name.json``."""
        if type(obj).__name__ == "DataFrame" and hasattr(obj, "to_csv"):
            if importlib.util.find_spec("pyarrow") is not None:
                buf = io.BytesIO()
                obj.to_parquet(buf)
                data, suffix = buf.getvalue(), ".parquet"
            else:
                data, suffix = obj.to_csv(index=False).encode(), ".csv"
        else:
            try:
                data = json.dumps(obj, indent=2, sort_keys=True).encode()
            except TypeError as exc:
                raise TypeError(f"cannot add {type(obj).__name__} {name!r}: give a DataFrame or"
                                f" a JSON-able value ({exc})") from None
            suffix = ".json"
        self._entries[_check_path(name if name.endswith(suffix) else name + suffix)] = data

    def paths(self) -> list[str]:
        """The paths of the files added so far."""
        return sorted(self._entries)

    def __repr__(self) -> str:
        return f"<Artifact {self.name!r} ({self.type}), {len(self._entries)} files>"


class ArtifactVersion:
    """One logged version of an artifact: ``name``, ``version`` (``"v3"``), ``type``,
    ``aliases``, ``metadata``, :meth:`files` and :meth:`download`."""

    def __init__(self, path: Path, row: _store.VersionRow, aliases: list[str],
                 files: list[ManifestEntry]) -> None:
        self._path = path
        self._row = row
        self.id = row.id
        self.name = row.name
        self.type = row.type
        self.description = row.description
        self.version = f"v{row.number}"
        self.digest = row.digest
        self.metadata: dict[str, Any] = row.metadata
        self.size = row.size
        self.created = row.created
        self.run = row.run
        self.aliases = aliases
        self._files = files

    @classmethod
    def load(cls, path: Path, db: access.Connection, row: _store.VersionRow) -> ArtifactVersion:
        return cls(path, row, _store.aliases(db, row.id), _store.files(db, row.id))

    @property
    def ref(self) -> str:
        """``"name:v3"``."""
        return f"{self.name}:{self.version}"

    def files(self) -> list[dict[str, Any]]:
        """The files: ``{"path", "sha256", "size"}`` each, by path."""
        return [{"path": f.path, "sha256": f.blob, "size": f.size} for f in self._files]

    def download(self, root: str | os.PathLike[str] | None = None) -> Path:
        """Write the files under ``root`` (default ``.nbtrack/artifacts/<name>/<version>/``)
        and return that folder. Every file is checked against its SHA-256 (a mismatch raises
        :class:`ArtifactIntegrityError` naming the file); files already there that check out
        are kept as they are."""
        store = self._path.parent
        folder = Path(root) if root is not None else \
            store / "artifacts" / self.name / self.version
        folder.mkdir(parents=True, exist_ok=True)
        for f in self._files:
            _files.materialize(store, f.blob, f.size, folder.joinpath(*f.path.split("/")),
                               f"{self.ref} file {f.path!r}")
        return folder

    def __repr__(self) -> str:
        tags = f" [{', '.join(self.aliases)}]" if self.aliases else ""
        return (f"<ArtifactVersion {self.ref} ({self.type}) {len(self._files)} files,"
                f" {self.size} bytes{tags}>")


def _as_artifact(source: Any, name: str | None, type_: str | None) -> Artifact:
    if isinstance(source, Artifact):
        if name is not None and name != source.name:
            raise ValueError(f"the artifact is named {source.name!r}, not {name!r}")
        if type_ is not None and type_ != source.type:
            raise ValueError(f"the artifact has type {source.type!r}, not {type_!r}")
        return source
    path = Path(source)
    art = Artifact(name or path.name, type_ or "dataset")
    if path.is_dir():
        art.add_dir(path)
    else:
        art.add_file(path)
    return art


def manifest_digest(manifest: Iterable[ManifestEntry]) -> str:
    """SHA-256 of the sorted manifest, one ``path\\tblob\\tsize`` line per file."""
    text = "".join(f"{e.path}\t{e.blob}\t{e.size}\n" for e in sorted(manifest))
    return hashlib.sha256(text.encode()).hexdigest()


def log_artifact(
    db_path: Path, source: Any, *, name: str | None = None, type: str | None = None,
    aliases: Iterable[str] = (), metadata: Mapping[str, Any] | None = None,
    description: str | None = None, run: int | None = None, cell: int | None = None,
) -> ArtifactVersion:
    """Put the files of ``source`` in the blob store, then record the version in one
    transaction (see :meth:`nbtrack.Run.log_artifact`)."""
    art = _as_artifact(source, name, type)
    aliases = [check_alias(a) for a in ([aliases] if isinstance(aliases, str) else aliases)]
    meta = {**art.metadata, **dict(metadata or {})}
    json.dumps(meta)  # a TypeError here, before anything is stored
    if not art._entries:
        raise ValueError(f"artifact {art.name!r} has no files: add some first")
    with access.reading(db_path) as db:  # a wrong type fails before any bytes are stored
        known = _store.artifact_type(db, art.name)
    if known is not None and known != art.type:
        raise ValueError(f"artifact {art.name!r} has type {known!r}, not {art.type!r}")
    store = db_path.parent
    manifest: list[ManifestEntry] = []
    for path, entry in sorted(art._entries.items()):
        blob, size = (_files.put_bytes(store, entry) if isinstance(entry, bytes)
                      else _files.put_file(store, entry))
        manifest.append(ManifestEntry(path, blob, size))
    digest = manifest_digest(manifest)
    with access.writing(db_path) as db:
        version_id, _created = _store.write_version(
            db, name=art.name, type_=art.type, description=description or art.description,
            manifest=manifest, digest=digest, metadata=meta, run=run, cell=cell,
            aliases=aliases, now=time.time())
        version = ArtifactVersion.load(db_path, db, _store.version(db, version_id))
    _restore_collected(store, art, manifest)
    return version


def _restore_collected(store: Path, art: Artifact, manifest: list[ManifestEntry]) -> None:
    """Put back any blob of ``manifest`` a concurrent ``gc`` removed between this process
    reusing it and the version's commit (now that rows reference it, no later ``gc`` will)."""
    for entry in manifest:
        if blobs.path_of(store, entry.blob).exists():
            continue
        source = art._entries[entry.path]
        blob, _ = (_files.put_bytes(store, source) if isinstance(source, bytes)
                   else _files.put_file(store, source))
        if blob != entry.blob:
            raise _files.ArtifactIntegrityError(
                f"{art.name} file {entry.path!r}: changed while it was being logged, and its"
                " logged bytes were removed meanwhile; log it again")


def get_artifact(db_path: Path, ref: str) -> ArtifactVersion:
    """The version ``ref`` names (``"name"``, ``"name:v3"``, ``"name:alias"``)."""
    name, selector = parse_ref(ref)
    with access.reading(db_path) as db:
        return ArtifactVersion.load(db_path, db, _store.resolve(db, name, selector))


def use_artifact(db_path: Path, ref: str, *, run: int | None = None,
                 cell: int | None = None) -> ArtifactVersion:
    """The version ``ref`` names; with ``run``, record that the run used it (an input edge)."""
    name, selector = parse_ref(ref)
    if run is None:
        return get_artifact(db_path, ref)
    with access.writing(db_path, create=False) as db:
        row = _store.resolve(db, name, selector)
        _store.add_edge(db, run, row.id, "in", cell, time.time())
        return ArtifactVersion.load(db_path, db, row)
