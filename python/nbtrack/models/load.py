"""Loading a logged model: its files copied out of the blob store into a temporary folder
(each checked against its SHA-256), its mark checked (:mod:`nbtrack.models.trust`), then
the flavor's native loader."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.models import flavors, refs, trust
from nbtrack.models import spec as _spec
from nbtrack.models.loaded import LoadedModel
from nbtrack.store import access


def _untrusted(label: str, why: str) -> trust.UntrustedModelError:
    return trust.UntrustedModelError(
        f"{label} was not logged by this workspace's nbtrack.log_model ({why}); loading it"
        " would run code from its files (unpickling). Load it only if you trust where it came"
        " from, with trusted=True (nbtrack.load_model(ref, trusted=True))")


def _from_folder(folder: Path, label: str, metadata: dict[str, Any],
                 trusted_by: str | None) -> LoadedModel:
    """Load the model files in ``folder``; ``trusted_by`` is None when nothing vouches for
    them, else why they may run code."""
    spec = _spec.read(folder, label)
    flavor = flavors.get(spec["flavor"])
    if flavor.pickled(spec["files"]) and trusted_by is None:
        raise _untrusted(label, "it carries no valid mark of this workspace")
    raw = flavor.load(folder, spec["files"])
    example = None
    if spec.get("input_example"):
        example = json.loads((folder / str(spec["input_example"])).read_text())
    return LoadedModel(raw, flavor, signature=spec.get("signature"), ref=label,
                       metadata=metadata, packages=dict(spec.get("packages") or {}),
                       example=example)


def _open(db_path: Path, version_id: int) -> tuple[Any, _spec.ModelSpec, bool]:
    """``(ArtifactVersion, its model spec, marked)``: the spec read from the blob store
    (checked against its SHA-256), ``marked`` when this workspace's mark is valid."""
    from nbtrack.artifacts.artifact import ArtifactVersion, manifest_digest
    from nbtrack.artifacts.files import ArtifactIntegrityError
    from nbtrack.store import artifacts as _store
    from nbtrack.store import blobs

    with access.reading(db_path) as db:
        version = ArtifactVersion.load(db_path, db, _store.version(db, version_id))
    manifest = [_store.ManifestEntry(f["path"], f["sha256"], f["size"])
                for f in version.files()]
    entry = next((m for m in manifest if m.path == _spec.SPEC_FILENAME), None)
    if entry is None:
        raise ValueError(f"{version.ref} is not a model: it has no {_spec.SPEC_FILENAME}"
                         " (log models with nbtrack.log_model)")
    data = blobs.read(db_path.parent, entry.blob)
    if blobs.digest(data) != entry.blob:
        raise ArtifactIntegrityError(f"{version.ref} file {entry.path!r}: the stored bytes"
                                     " do not match their SHA-256")
    spec = _spec.parse(data, version.ref)
    marked = trust.verify(db_path.parent, manifest_digest(manifest),
                          version.metadata.get(trust.MARK_KEY))
    return version, spec, marked


def load_version(db_path: Path, version_id: int, *, trusted: bool = False) -> LoadedModel:
    """The model logged as artifact version ``version_id`` of the store ``db_path``.

    Raises :class:`nbtrack.models.UntrustedModelError` when its files would run code and
    this workspace did not log them (unless ``trusted``), ``ValueError`` when the version
    is not a model, :class:`nbtrack.ArtifactIntegrityError` when a file changed.
    """
    version, spec, marked = _open(db_path, version_id)
    if flavors.get(spec["flavor"]).pickled(spec["files"]) and not (marked or trusted):
        raise _untrusted(version.ref, "it carries no valid mark of this workspace")
    with tempfile.TemporaryDirectory(prefix="nbtrack-load-") as tmp:
        folder = version.download(tmp)
        return _from_folder(folder, version.ref, dict(version.metadata),
                            "marked" if marked else "trusted" if trusted else None)


def load_folder(path: str | os.PathLike[str], *, trusted: bool = False) -> LoadedModel:
    """A model from a folder holding ``nbtrack-model.json`` (a downloaded or exported
    model): nothing vouches for such files, so formats that run code need ``trusted``."""
    folder = Path(path)
    return _from_folder(folder, str(folder), {}, "trusted" if trusted else None)


def load_model(ref: str | os.PathLike[str], *, trusted: bool = False,
               workspace: str | os.PathLike[str] | None = None) -> LoadedModel:
    """Load a logged model; see :func:`nbtrack.load_model`."""
    if isinstance(ref, os.PathLike) or (
            isinstance(ref, str) and (Path(ref) / _spec.SPEC_FILENAME).is_file()):
        return load_folder(ref, trusted=trusted)
    db_path = config.db_path(workspace)
    with access.reading(db_path) as db:
        version_id = refs.resolve(db, ref)
    return load_version(db_path, version_id, trusted=trusted)


def materialize(db_path: Path, version_id: int, dest: Path, *,
                trusted: bool = False) -> tuple[Any, _spec.ModelSpec]:
    """Copy a model's files to ``dest`` (each checked); ``(ArtifactVersion, spec)``. The
    same trust rule as :func:`load_version`: files that run code need the mark or
    ``trusted``."""
    version, spec, marked = _open(db_path, version_id)
    if flavors.get(spec["flavor"]).pickled(spec["files"]) and not (marked or trusted):
        raise _untrusted(version.ref, "it carries no valid mark of this workspace")
    version.download(dest)
    return version, spec
