"""The registry's Python API: register model artifacts as versions 1, 2, ... of a named
model, point aliases at versions, describe and tag them, read them back.

Every function takes ``workspace=`` (default: the active run's store, else the current
workspace's, as :func:`nbtrack.use_artifact` does). Writes are one short transaction each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.artifacts.names import MAX_LENGTH, check_alias, check_name
from nbtrack.registry import refs
from nbtrack.registry.models import ModelVersion, RegisteredModel
from nbtrack.store import access
from nbtrack.store import artifacts as _artifacts
from nbtrack.store import registry as _store
from nbtrack.store.artifacts import ArtifactNotFound
from nbtrack.store.registry import ModelNotFound

Workspace = str | os.PathLike[str] | None

#: The longest tag value (MLflow's limit for model version tags).
MAX_TAG_VALUE = 5000


# -- where, and who ---------------------------------------------------------------------------

def _target(workspace: Workspace, source: Any = None) -> tuple[Path, int | None]:
    """The store to use and the live run of this process recording to it (if any)."""
    from nbtrack.artifacts.artifact import ArtifactVersion
    from nbtrack.session import active_run

    run = active_run()
    live = run if run is not None and run.live else None
    if workspace is not None:
        path = config.db_path(workspace)
    elif isinstance(source, ArtifactVersion):
        path = source._path
    elif live is not None:
        path = live._path
    else:
        path = config.db_path()
    same = live is not None and live._path.resolve() == path.resolve()
    return path, (live.number if same and live is not None else None)


@contextmanager
def _writing(path: Path, missing: LookupError) -> Iterator[access.Connection]:
    """A write transaction on an existing store (``missing`` raised when there is none)."""
    try:
        with access.writing(path, create=False) as db:
            yield db
    except FileNotFoundError:
        if path.exists():
            raise
        raise missing from None


def _no_store(path: Path, what: str) -> ModelNotFound:
    return ModelNotFound(f"no registered model {what!r}: there is no nbtrack store at {path}")


# -- checks -----------------------------------------------------------------------------------

def _check_version(version: object) -> int:
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"a model version is a number 1, 2, ..., not {version!r}")
    return version


def _check_tag(key: object, value: object) -> tuple[str, str]:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_LENGTH:
        raise ValueError(f"tag key {key!r} is not allowed: use 1 to {MAX_LENGTH} characters")
    if isinstance(value, (bool, int, float)):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
        raise ValueError(f"tag {key!r}: the value must be a string (or a number) of at most"
                         f" {MAX_TAG_VALUE} characters, not {type(value).__name__}")
    return key, value


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError(f"a description is a string, not {type(text).__name__}")
    return text


# -- reading rows into objects ----------------------------------------------------------------

def _versions(db: access.Connection, model: _store.ModelRow,
              rows: Iterable[_store.VersionRow]) -> list[ModelVersion]:
    rows = list(rows)
    tags = _store.version_tags(db, [r.id for r in rows])
    named: dict[int, list[str]] = {}
    for alias, number in _store.aliases(db, model.id).items():
        named.setdefault(number, []).append(alias)
    out = []
    for r in rows:
        art = _artifacts.version(db, r.artifact_version)
        signature = art.metadata.get("signature")
        flavor = art.metadata.get("flavor")
        out.append(ModelVersion(
            name=model.name, version=r.version, artifact=f"{art.name}:v{art.number}",
            artifact_version_id=art.id, description=r.description, created=r.created,
            source_run=art.run, registered_by=r.run, aliases=named.get(r.version, []),
            tags=tags[r.id], flavor=flavor if isinstance(flavor, str) else None,
            signature=signature if isinstance(signature, dict) else None))
    return out


def read_model(db: access.Connection, model: _store.ModelRow) -> RegisteredModel:
    """A registered model's row with its tags, aliases and versions, as a RegisteredModel."""
    return RegisteredModel(
        name=model.name, description=model.description, created=model.created,
        updated=model.updated, tags=_store.model_tags(db, model.id),
        aliases=_store.aliases(db, model.id),
        versions=_versions(db, model, _store.versions(db, model.id)))


# -- the API ----------------------------------------------------------------------------------

def register_model(
    model: Any, name: str, *, aliases: Iterable[str] = (),
    tags: Mapping[str, Any] | None = None, description: str = "",
    workspace: Workspace = None,
) -> ModelVersion:
    """Register a logged model as the next version (1, 2, ...) of the registered model
    ``name`` (created on first use), recording the active run as the one registering it.

    Parameters
    ----------
    model
        The model artifact: an :class:`~nbtrack.ArtifactVersion` (what ``log_model`` and
        ``log_artifact`` return), an artifact ref (``"clf:v2"``, ``"clf:latest"``,
        ``"clf:best"``) or ``"runs:/<run>/<name>"`` (the model that run logged under ``name``).
        It must be an artifact of type ``model``.
    name
        The registered model's name (letters, digits, ``_``, ``-``, ``.``).
    aliases
        Aliases to point at the version (``production``...; moved from any other version).
    tags
        Tags of the version (``{key: value}``).
    description
        The version's description.

    Returns
    -------
    ModelVersion
        The new version; registering the same artifact version under ``name`` again returns
        the existing one (its aliases, tags and description updated with what is given).

    Examples
    --------
    >>> nbtrack.register_model("clf:latest", "iris", aliases=["staging"])  # doctest: +SKIP
    <ModelVersion iris/1 -> clf:v0 [staging]>
    """
    name = check_name(name, "model name")
    alias_list = [check_alias(a) for a in ([aliases] if isinstance(aliases, str) else aliases)]
    tag_items = [_check_tag(k, v) for k, v in (tags or {}).items()]
    description = _check_text(description)
    path, run = _target(workspace, model)
    missing = ArtifactNotFound(f"nothing to register: there is no nbtrack store at {path}")
    with _writing(path, missing) as db:
        version_id = refs.artifact_version_of(db, model, path)
        now = time.time()
        row, created = _store.register_version(
            db, name=name, artifact_version=version_id, run=run, description=description,
            now=now)
        if description and not created:
            _store.set_description(db, row.model, description, now, version_id=row.id)
        for alias in alias_list:
            _store.set_alias(db, row.model, alias, row.id, now)
        for key, value in tag_items:
            _store.set_tag(db, row.model, key, value, now, version_id=row.id)
        fresh = _store.version_by_number(db, row.model, row.version) or row
        (version,) = _versions(db, _store.model(db, name), [fresh])
    return version


def set_alias(name: str, alias: str, version: int, *, workspace: Workspace = None,
              ) -> ModelVersion:
    """Point ``alias`` of model ``name`` at ``version`` (moving it atomically from the version
    it named: a reader sees one or the other, never neither); return that version.

    Examples
    --------
    >>> nbtrack.set_alias("iris", "production", 2)  # doctest: +SKIP
    """
    check_name(name, "model name")
    alias = check_alias(alias)
    number = _check_version(version)
    path, _ = _target(workspace)
    with _writing(path, _no_store(path, name)) as db:
        model = _store.model(db, name)
        row = _store.version_by_number(db, model.id, number)
        if row is None:
            raise ModelNotFound(f"registered model {name!r} has no version {number}")
        _store.set_alias(db, model.id, alias, row.id, time.time())
        (result,) = _versions(db, model, [row])
    return result


def delete_alias(name: str, alias: str, *, workspace: Workspace = None) -> None:
    """Remove ``alias`` from model ``name`` (``ModelNotFound`` when it has no such alias)."""
    check_name(name, "model name")
    alias = check_alias(alias)
    path, _ = _target(workspace)
    with _writing(path, _no_store(path, name)) as db:
        model = _store.model(db, name)
        if not _store.delete_alias(db, model.id, alias, time.time()):
            raise ModelNotFound(f"registered model {name!r} has no alias {alias!r}")


def get_model(name: str, *, workspace: Workspace = None) -> RegisteredModel:
    """The registered model ``name`` with its versions, aliases, tags and descriptions."""
    check_name(name, "model name")
    path, _ = _target(workspace)
    with access.reading(path) as db:
        return read_model(db, _store.model(db, name))


def get_version(ref: str, *, workspace: Workspace = None) -> ModelVersion:
    """The model version a registry ref names (``"name@alias"``, ``"name/3"``, ``"name"``,
    ``"models:/..."``)."""
    path, _ = _target(workspace)
    with access.reading(path) as db:
        model, row = refs.resolve(db, ref)
        (version,) = _versions(db, model, [row])
    return version


def list_models(*, workspace: Workspace = None) -> list[RegisteredModel]:
    """Every registered model, by name."""
    path, _ = _target(workspace)
    with access.reading(path) as db:
        return [read_model(db, m) for m in _store.models(db)]


def set_model_description(name: str, text: str, version: int | None = None, *,
                          workspace: Workspace = None) -> None:
    """Set the description of model ``name``, or of its version ``version``."""
    check_name(name, "model name")
    text = _check_text(text)
    number = None if version is None else _check_version(version)
    path, _ = _target(workspace)
    with _writing(path, _no_store(path, name)) as db:
        model = _store.model(db, name)
        _store.set_description(db, model.id, text, time.time(),
                               version_id=_version_id(db, model, number))


def set_model_tag(name: str, key: str, value: Any, version: int | None = None, *,
                  workspace: Workspace = None) -> None:
    """Set tag ``key`` to ``value`` on model ``name``, or on its version ``version``."""
    check_name(name, "model name")
    key, text = _check_tag(key, value)
    number = None if version is None else _check_version(version)
    path, _ = _target(workspace)
    with _writing(path, _no_store(path, name)) as db:
        model = _store.model(db, name)
        _store.set_tag(db, model.id, key, text, time.time(),
                       version_id=_version_id(db, model, number))


def _version_id(db: access.Connection, model: _store.ModelRow, number: int | None) -> int | None:
    if number is None:
        return None
    row = _store.version_by_number(db, model.id, number)
    if row is None:
        raise ModelNotFound(f"registered model {model.name!r} has no version {number}")
    return row.id
