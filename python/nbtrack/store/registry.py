"""The store's model registry rows: registered models, their versions, tags and aliases.

Every function takes a connection from :mod:`nbtrack.store.access`; writers make their
statements one transaction (``access.atomic``: a savepoint inside the caller's
``access.writing`` transaction), so a version number, an alias move or a tag is never half
written. A model version points at an artifact version (``artifact_versions.id``); aliases and
version tags point at ``model_versions.id``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from nbtrack.store.access import Connection, atomic


class ModelNotFound(LookupError):
    """No registered model (or no such version or alias of it) in the store."""


class ModelRow(NamedTuple):
    """A registered model as stored."""

    id: int
    name: str
    description: str
    created: float
    updated: float


class VersionRow(NamedTuple):
    """A model version as stored (``version`` is its number: 1, 2, ...)."""

    id: int
    model: int
    version: int
    artifact_version: int
    run: int | None
    description: str
    created: float


_MODEL = "SELECT id, name, description, created, updated FROM registered_models"
_VERSION = ("SELECT id, model, version, artifact_version, run, description, created"
            " FROM model_versions")


# -- reading ---------------------------------------------------------------------------------

def model(db: Connection, name: str) -> ModelRow:
    """The registered model ``name``; :class:`ModelNotFound` when there is none."""
    row = db.execute(f"{_MODEL} WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise ModelNotFound(f"no registered model named {name!r}")
    return ModelRow(*row)


def models(db: Connection) -> list[ModelRow]:
    """Every registered model, by name."""
    return [ModelRow(*r) for r in db.execute(f"{_MODEL} ORDER BY name")]


def versions(db: Connection, model_id: int) -> list[VersionRow]:
    """A model's versions, oldest (1) first."""
    return [VersionRow(*r) for r in db.execute(f"{_VERSION} WHERE model = ? ORDER BY version",
                                               (model_id,))]


def version_count(db: Connection, model_id: int) -> tuple[int, int]:
    """``(how many versions, the latest version number)`` of a model (``(0, 0)``: none)."""
    count, latest = db.execute("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM model_versions"
                               " WHERE model = ?", (model_id,)).fetchone()
    return int(count), int(latest)


def version_by_number(db: Connection, model_id: int, number: int) -> VersionRow | None:
    """Version ``number`` of a model, or None."""
    row = db.execute(f"{_VERSION} WHERE model = ? AND version = ?", (model_id, number)).fetchone()
    return None if row is None else VersionRow(*row)


def latest_version(db: Connection, model_id: int) -> VersionRow | None:
    """A model's newest version, or None."""
    row = db.execute(f"{_VERSION} WHERE model = ? ORDER BY version DESC LIMIT 1",
                     (model_id,)).fetchone()
    return None if row is None else VersionRow(*row)


def version_by_alias(db: Connection, model_id: int, alias: str) -> VersionRow | None:
    """The version ``alias`` of a model names, or None."""
    row = db.execute(
        "SELECT v.id, v.model, v.version, v.artifact_version, v.run, v.description, v.created"
        " FROM model_versions v JOIN model_aliases a ON a.version = v.id"
        " WHERE a.model = ? AND a.alias = ?", (model_id, alias)).fetchone()
    return None if row is None else VersionRow(*row)


def aliases(db: Connection, model_id: int) -> dict[str, int]:
    """A model's aliases: ``{alias: version number}``, by alias."""
    return {r[0]: int(r[1]) for r in db.execute(
        "SELECT a.alias, v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version"
        " WHERE a.model = ? ORDER BY a.alias", (model_id,))}


def model_tags(db: Connection, model_id: int) -> dict[str, str]:
    """A model's tags, by key."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT key, value FROM model_tags WHERE model = ? ORDER BY key", (model_id,))}


def version_tags(db: Connection, version_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """The tags of model versions (row ids): ``{id: {key: value}}`` (every id present)."""
    ids = sorted(set(version_ids))
    out: dict[int, dict[str, str]] = {i: {} for i in ids}
    for version, key, value in db.execute(
            "SELECT version, key, value FROM model_version_tags WHERE version IN"
            " (SELECT value FROM json_each(?)) ORDER BY key", (json.dumps(ids),)):
        out[int(version)][key] = value
    return out


def registrations(db: Connection, artifact_version_ids: Iterable[int]) -> list[tuple[str, int]]:
    """``(model name, version number)`` of each model version pointing at these artifact
    versions."""
    return [(r[0], int(r[1])) for r in db.execute(
        "SELECT m.name, v.version FROM model_versions v JOIN registered_models m"
        " ON m.id = v.model WHERE v.artifact_version IN (SELECT value FROM json_each(?))"
        " ORDER BY m.name, v.version", (json.dumps(sorted(set(artifact_version_ids))),))]


# -- writing ---------------------------------------------------------------------------------

def register_version(
    db: Connection, *, name: str, artifact_version: int, run: int | None, description: str,
    now: float,
) -> tuple[VersionRow, bool]:
    """Make ``artifact_version`` the next version of model ``name`` (created when new);
    ``(version, created)``. An artifact version already registered under ``name`` gives its
    existing version (``created`` False). Numbers are taken under the write lock, so
    concurrent writers get distinct ones."""
    with atomic(db):
        row = db.execute("SELECT id FROM registered_models WHERE name = ?", (name,)).fetchone()
        if row is None:
            model_id = int(db.execute(
                "INSERT INTO registered_models (name, description, created, updated)"
                " VALUES (?, '', ?, ?)", (name, now, now)).lastrowid or 0)
        else:
            model_id = int(row[0])
        existing = db.execute(f"{_VERSION} WHERE model = ? AND artifact_version = ?",
                              (model_id, artifact_version)).fetchone()
        if existing is not None:
            return VersionRow(*existing), False
        number = int(db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions"
                                " WHERE model = ?", (model_id,)).fetchone()[0])
        # UNIQUE (model, version) backs this up; the write lock makes it never fire.
        version_id = int(db.execute(
            "INSERT INTO model_versions (model, version, artifact_version, run, description,"
            " created) VALUES (?, ?, ?, ?, ?, ?)",
            (model_id, number, artifact_version, run, description, now)).lastrowid or 0)
        touch(db, model_id, now)
        return VersionRow(version_id, model_id, number, artifact_version, run, description,
                          now), True


def touch(db: Connection, model_id: int, now: float) -> None:
    """Mark a model changed now."""
    db.execute("UPDATE registered_models SET updated = ? WHERE id = ?", (now, model_id))


def set_alias(db: Connection, model_id: int, alias: str, version_id: int, now: float) -> None:
    """Point ``alias`` of a model at a version (row id), moving it from any other, in one
    statement of one transaction: a reader sees the old version or the new, never none."""
    with atomic(db):
        db.execute("INSERT INTO model_aliases (model, alias, version) VALUES (?, ?, ?)"
                   " ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                   (model_id, alias, version_id))
        touch(db, model_id, now)


def delete_alias(db: Connection, model_id: int, alias: str, now: float) -> bool:
    """Remove ``alias`` from a model; False when it had no such alias."""
    with atomic(db):
        gone = db.execute("DELETE FROM model_aliases WHERE model = ? AND alias = ?",
                          (model_id, alias)).rowcount
        if gone:
            touch(db, model_id, now)
        return bool(gone)


def set_description(db: Connection, model_id: int, text: str, now: float,
                    version_id: int | None = None) -> None:
    """Set the description of a model, or of one of its versions (row id)."""
    with atomic(db):
        if version_id is None:
            db.execute("UPDATE registered_models SET description = ? WHERE id = ?",
                       (text, model_id))
        else:
            db.execute("UPDATE model_versions SET description = ? WHERE id = ?",
                       (text, version_id))
        touch(db, model_id, now)


def set_tag(db: Connection, model_id: int, key: str, value: str, now: float,
            version_id: int | None = None) -> None:
    """Set tag ``key`` of a model, or of one of its versions (row id)."""
    table, owner = (("model_tags", "model"), model_id) if version_id is None else \
        (("model_version_tags", "version"), version_id)
    with atomic(db):
        db.execute(f"INSERT INTO {table[0]} ({table[1]}, key, value) VALUES (?, ?, ?)"
                   f" ON CONFLICT ({table[1]}, key) DO UPDATE SET value = excluded.value",
                   (owner, key, value))
        touch(db, model_id, now)


def artifact_metadata(db: Connection, artifact_version: int) -> dict[str, Any]:
    """The metadata of the artifact version a model version points at (``{}`` if gone)."""
    row = db.execute("SELECT metadata FROM artifact_versions WHERE id = ?",
                     (artifact_version,)).fetchone()
    return {} if row is None else dict(json.loads(row[0]))
