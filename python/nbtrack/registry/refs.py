"""References the registry understands, and what they name in the store.

- Registry refs (:func:`resolve_version`): ``"name@alias"``, ``"name/3"``,
  ``"models:/name@alias"``, ``"models:/name/3"``, and a plain ``"name"`` for the latest version
  (``name/latest`` and ``name@latest`` too).
- What :func:`nbtrack.register_model` registers (:func:`artifact_version_of`): an
  :class:`~nbtrack.ArtifactVersion`, an artifact ref (``"clf:v2"``, ``"clf:latest"``,
  ``"clf:best"``) or ``"runs:/<run>/<name>"``: the model artifact that run logged under that
  name (``runs:/<run>/model``, when it logged none named ``model``: its newest model).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nbtrack.artifacts.names import check_alias, check_name, parse_ref
from nbtrack.store import artifacts as _artifacts
from nbtrack.store import registry as _store
from nbtrack.store.access import Connection
from nbtrack.store.registry import ModelNotFound

MODELS_PREFIX = "models:/"
RUNS_PREFIX = "runs:/"
MODEL_TYPE = "model"
_LATEST = "latest"


class ModelRef(NamedTuple):
    """A parsed registry ref: ``alias`` or ``version`` (neither: the latest version)."""

    name: str
    alias: str | None = None
    version: int | None = None


def is_model_ref(ref: str) -> bool:
    """True when ``ref`` is written as a registry ref (``models:/...``, ``name@alias``,
    ``name/3``) rather than an artifact ref (``name:v3``) or a run ref (``runs:/...``)."""
    if ref.startswith(MODELS_PREFIX):
        return True
    return not ref.startswith(RUNS_PREFIX) and ":" not in ref and ("@" in ref or "/" in ref)


def parse_model_ref(ref: object) -> ModelRef:
    """``"name@alias"`` / ``"name/3"`` / ``"models:/..."`` / ``"name"`` -> :class:`ModelRef`;
    a ``ValueError`` saying what is allowed when it is none of them."""
    if not isinstance(ref, str):
        raise ValueError(f"a model reference is a string like 'name@alias' or 'name/3', not"
                         f" {ref!r}")
    body = ref.removeprefix(MODELS_PREFIX)
    if "@" in body:
        name, _, alias = body.partition("@")
        check_name(name, "model name")
        if alias.lower() == _LATEST:
            return ModelRef(name)
        return ModelRef(name, alias=check_alias(alias))
    if "/" in body:
        name, _, selector = body.partition("/")
        check_name(name, "model name")
        if selector.lower() == _LATEST:
            return ModelRef(name)
        if not selector.isdigit() or int(selector) < 1:
            raise ValueError(f"{ref!r}: after '/' give a version number (name/3), or use"
                             " name@alias")
        return ModelRef(name, version=int(selector))
    return ModelRef(check_name(body, "model name"))


def resolve(db: Connection, ref: str) -> tuple[_store.ModelRow, _store.VersionRow]:
    """The registered model and the version that ``ref`` names; :class:`ModelNotFound`
    saying what exists when there is no such model, alias or version."""
    parsed = parse_model_ref(ref)
    model = _store.model(db, parsed.name)
    if parsed.alias is not None:
        row = _store.version_by_alias(db, model.id, parsed.alias)
        if row is None:
            known = ", ".join(_store.aliases(db, model.id)) or "none"
            raise ModelNotFound(f"registered model {model.name!r} has no alias"
                                f" {parsed.alias!r} (its aliases: {known})")
        return model, row
    if parsed.version is not None:
        row = _store.version_by_number(db, model.id, parsed.version)
        if row is None:
            _count, latest = _store.version_count(db, model.id)
            raise ModelNotFound(f"registered model {model.name!r} has no version"
                                f" {parsed.version} (its versions: 1 to {latest})")
        return model, row
    row = _store.latest_version(db, model.id)
    if row is None:
        raise ModelNotFound(f"registered model {model.name!r} has no version")
    return model, row


def resolve_version(db: Connection, ref: str) -> int:
    """The artifact version id (``artifact_versions.id``) the registry ref ``ref`` names.

    Parameters
    ----------
    db
        A connection from :mod:`nbtrack.store.access`.
    ref
        ``"name@alias"``, ``"name/3"``, ``"models:/name@alias"``, ``"models:/name/3"`` or
        ``"name"`` (the latest version).

    Raises
    ------
    ModelNotFound
        No such registered model, alias or version (the message says what there is).
    ValueError
        ``ref`` is not written as a registry ref.
    """
    return resolve(db, ref)[1].artifact_version


def artifact_version_of(db: Connection, source: Any, store_path: Any = None) -> int:
    """The id of the artifact version ``source`` names (what ``register_model`` takes: an
    ``ArtifactVersion``, an artifact ref, ``runs:/...`` or a registry ref ``models:/...``),
    checked to be a model; ``ArtifactNotFound`` / ``ModelNotFound`` / ``RunNotFound`` when it
    names nothing, ``ValueError`` when it is no model."""
    from nbtrack.artifacts.artifact import ArtifactVersion
    from nbtrack.models.refs import resolve_run_ref

    if isinstance(source, ArtifactVersion):
        if store_path is not None and source._path.resolve() != store_path.resolve():
            raise ValueError(f"{source.ref} was logged in the store at {source._path}, not in"
                             f" this workspace's ({store_path})")
        version_id = source.id
    elif isinstance(source, str) and source.startswith(RUNS_PREFIX):
        version_id = resolve_run_ref(db, source)
    elif isinstance(source, str) and source.startswith(MODELS_PREFIX):
        version_id = resolve_version(db, source)
    elif isinstance(source, str):
        name, selector = parse_ref(source)
        version_id = _artifacts.resolve(db, name, selector).id
    else:
        raise TypeError(f"register_model takes a model artifact version, an artifact reference"
                        f" ('clf:v2') or 'runs:/<run>/<name>', not {type(source).__name__}")
    row = _artifacts.version(db, version_id)
    if row.type != MODEL_TYPE:
        raise ValueError(f"{row.name}:v{row.number} is an artifact of type {row.type!r}: only"
                         f" artifacts of type {MODEL_TYPE!r} (as nbtrack.log_model logs them) can"
                         " be registered")
    return row.id
