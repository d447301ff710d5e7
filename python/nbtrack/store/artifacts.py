"""The store's artifact rows: versions, their files, aliases and lineage edges.

Every function takes a connection from :mod:`nbtrack.store.access`; writers run inside the
caller's transaction (``access.writing``). The files' bytes are blobs, put in the blob store
*before* the transaction that references them (see :mod:`nbtrack.store.blobs`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from nbtrack.store.access import Connection

LATEST = "latest"


class ArtifactNotFound(LookupError):
    """No artifact (or no such version or alias of it) in the store."""


class ManifestEntry(NamedTuple):
    """One file of a version: its path inside the artifact, blob name and size."""

    path: str
    blob: str
    size: int


class VersionRow(NamedTuple):
    """A version as stored, with its artifact's name, type and description."""

    id: int
    artifact: int
    name: str
    type: str
    description: str
    number: int
    digest: str
    metadata: dict[str, Any]
    size: int
    file_count: int
    created: float
    run: int | None
    cell: int | None


_VERSION = (
    "SELECT v.id, v.artifact, a.name, a.type, a.description, v.number, v.digest, v.metadata,"
    " v.size, v.file_count, v.created, v.run, v.cell"
    " FROM artifact_versions v JOIN artifacts a ON a.id = v.artifact"
)


def _row(row: Sequence[Any]) -> VersionRow:
    values = list(row)
    values[7] = json.loads(values[7])
    return VersionRow(*values)


def version(db: Connection, version_id: int) -> VersionRow:
    """The version with row id ``version_id``."""
    row = db.execute(f"{_VERSION} WHERE v.id = ?", (version_id,)).fetchone()
    if row is None:
        raise ArtifactNotFound(f"artifact version {version_id} is no longer in the store")
    return _row(row)


def resolve(db: Connection, name: str, selector: str = LATEST) -> VersionRow:
    """The version of artifact ``name`` that ``selector`` names: ``v3`` or an alias."""
    art = db.execute("SELECT id FROM artifacts WHERE name = ?", (name,)).fetchone()
    if art is None:
        raise ArtifactNotFound(f"no artifact named {name!r}")
    if selector[:1] == "v" and selector[1:].isdigit():
        row = db.execute(f"{_VERSION} WHERE v.artifact = ? AND v.number = ?",
                         (art[0], int(selector[1:]))).fetchone()
    else:
        row = db.execute(
            f"{_VERSION} JOIN artifact_aliases l ON l.version = v.id"
            " WHERE l.artifact = ? AND l.alias = ?", (art[0], selector)).fetchone()
    if row is None:
        raise ArtifactNotFound(f"artifact {name!r} has no version or alias {selector!r}")
    return _row(row)


def artifact_type(db: Connection, name: str) -> str | None:
    """The type of artifact ``name``, or None when there is none."""
    row = db.execute("SELECT type FROM artifacts WHERE name = ?", (name,)).fetchone()
    return None if row is None else str(row[0])


def files(db: Connection, version_id: int) -> list[ManifestEntry]:
    """A version's files, by path."""
    return [ManifestEntry(*r) for r in db.execute(
        "SELECT path, blob, size FROM artifact_files WHERE version = ? ORDER BY path",
        (version_id,))]


def aliases(db: Connection, version_id: int) -> list[str]:
    """The aliases on a version (``latest`` first when it is one)."""
    names = [r[0] for r in db.execute(
        "SELECT alias FROM artifact_aliases WHERE version = ? ORDER BY alias", (version_id,))]
    return sorted(names, key=lambda a: (a != LATEST, a))


def versions(db: Connection, type_: str | None = None) -> list[VersionRow]:
    """Every version of every artifact (of type ``type_``), by name then number."""
    where, args = ("WHERE a.type = ?", (type_,)) if type_ else ("", ())
    return [_row(r) for r in db.execute(
        f"{_VERSION} {where} ORDER BY a.name, v.number", args)]


def write_version(
    db: Connection, *, name: str, type_: str, description: str,
    manifest: Sequence[ManifestEntry], digest: str, metadata: dict[str, Any],
    run: int | None, cell: int | None, aliases: Iterable[str], now: float,
) -> tuple[int, bool]:
    """Record a version of ``name`` with ``manifest`` (in the caller's transaction), set its
    aliases and move ``latest`` to it when it is new; ``(version id, created)``. The same
    manifest again gives the existing version (``created`` False)."""
    art = db.execute("SELECT id, type FROM artifacts WHERE name = ?", (name,)).fetchone()
    if art is None:
        art_id = int(db.execute(
            "INSERT INTO artifacts (name, type, description, created) VALUES (?, ?, ?, ?)",
            (name, type_, description, now)).lastrowid or 0)
    else:
        art_id = int(art[0])
        if art[1] != type_:
            raise ValueError(f"artifact {name!r} has type {art[1]!r}, not {type_!r}")
        if description:
            db.execute("UPDATE artifacts SET description = ? WHERE id = ?", (description, art_id))
    existing = db.execute("SELECT id FROM artifact_versions WHERE artifact = ? AND digest = ?",
                          (art_id, digest)).fetchone()
    created = existing is None
    if existing is not None:
        version_id = int(existing[0])
    else:
        number = db.execute("SELECT COALESCE(MAX(number) + 1, 0) FROM artifact_versions"
                            " WHERE artifact = ?", (art_id,)).fetchone()[0]
        try:
            version_id = int(db.execute(
                "INSERT INTO artifact_versions (artifact, number, digest, metadata, size,"
                " file_count, created, run, cell) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (art_id, number, digest, json.dumps(metadata), sum(e.size for e in manifest),
                 len(manifest), now, run, cell)).lastrowid or 0)
        except sqlite3.IntegrityError:  # another writer got there first (same content)
            row = db.execute("SELECT id FROM artifact_versions WHERE artifact = ? AND digest = ?",
                             (art_id, digest)).fetchone()
            if row is None:
                raise
            version_id, created = int(row[0]), False
        else:
            db.executemany(
                "INSERT INTO artifact_files (version, path, blob, size) VALUES (?, ?, ?, ?)",
                [(version_id, e.path, e.blob, e.size) for e in manifest])
            set_alias(db, art_id, LATEST, version_id)
    for alias in aliases:
        set_alias(db, art_id, alias, version_id)
    if run is not None:
        add_edge(db, run, version_id, "out", cell, now)
    return version_id, created


def merge_metadata(db: Connection, version_id: int, metadata: dict[str, Any]) -> None:
    """Add ``metadata``'s keys to a version's metadata (its files, and so its identity, stay
    as they are)."""
    (current,) = db.execute("SELECT metadata FROM artifact_versions WHERE id = ?",
                            (version_id,)).fetchone()
    merged = {**json.loads(current or "{}"), **metadata}
    db.execute("UPDATE artifact_versions SET metadata = ? WHERE id = ?",
               (json.dumps(merged), version_id))


def set_alias(db: Connection, artifact: int, alias: str, version_id: int) -> None:
    """Point ``alias`` of ``artifact`` at a version (moving it from any other)."""
    db.execute("INSERT INTO artifact_aliases (artifact, alias, version) VALUES (?, ?, ?)"
               " ON CONFLICT (artifact, alias) DO UPDATE SET version = excluded.version",
               (artifact, alias, version_id))


def add_edge(db: Connection, run: int, version_id: int, direction: str, cell: int | None,
             now: float) -> None:
    """Record that ``run`` produced (``out``) or used (``in``) a version (first time kept)."""
    db.execute("INSERT OR IGNORE INTO artifact_edges (run, version, direction, cell, time)"
               " VALUES (?, ?, ?, ?, ?)", (run, version_id, direction, cell, now))


class Edge(NamedTuple):
    """A lineage edge as stored, with the run's id."""

    run: int
    run_id: str | None
    version: int
    direction: str
    cell: int | None
    time: float


_EDGE = ("SELECT e.run, r.id, e.version, e.direction, e.cell, e.time FROM artifact_edges e"
         " LEFT JOIN runs r ON r.number = e.run")


def edges_of_version(db: Connection, version_id: int) -> list[Edge]:
    """The runs that produced or used a version."""
    return [Edge(*r) for r in db.execute(f"{_EDGE} WHERE e.version = ? ORDER BY e.time",
                                         (version_id,))]


def edges_of_run(db: Connection, run: int) -> list[Edge]:
    """The versions a run produced or used."""
    return [Edge(*r) for r in db.execute(f"{_EDGE} WHERE e.run = ? ORDER BY e.time", (run,))]


def delete_versions(db: Connection, version_ids: Iterable[int]) -> int:
    """Delete versions' rows (files, aliases, edges), move ``latest`` to the newest version
    left and drop artifacts with no version left; their blobs go at the next ``gc``. A
    version a registered model version points at is not deleted (``ValueError``)."""
    ids = json.dumps(sorted(set(version_ids)))
    held = db.execute(
        "SELECT m.name, r.version FROM model_versions r JOIN registered_models m"
        " ON m.id = r.model WHERE r.artifact_version IN (SELECT value FROM json_each(?))"
        " ORDER BY m.name, r.version", (ids,)).fetchall()
    if held:
        raise ValueError("registered as " + ", ".join(f"model {n!r} version {v}" for n, v in held)
                         + ": a registered model version keeps its artifact version")
    arts = [r[0] for r in db.execute(
        "SELECT DISTINCT artifact FROM artifact_versions WHERE id IN"
        " (SELECT value FROM json_each(?))", (ids,))]
    for table, column in (("artifact_files", "version"), ("artifact_aliases", "version"),
                          ("artifact_edges", "version"), ("artifact_versions", "id")):
        db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))",
                   (ids,))
    count = int(db.execute("SELECT changes()").fetchone()[0])
    for art in arts:
        newest = db.execute("SELECT id FROM artifact_versions WHERE artifact = ?"
                            " ORDER BY number DESC LIMIT 1", (art,)).fetchone()
        if newest is None:
            db.execute("DELETE FROM artifacts WHERE id = ?", (art,))
        else:
            set_alias(db, art, LATEST, int(newest[0]))
    return count


_LIVE = "SELECT number FROM runs WHERE deleted = 0"
#: Versions no registered model version points at (those are kept whatever the policy).
_UNREGISTERED = "v.id NOT IN (SELECT artifact_version FROM model_versions)"
#: Versions nothing live holds: no user alias, no registered model version, and no edge (in
#: or out) of a live run.
_UNHELD = (
    f"v.id NOT IN (SELECT version FROM artifact_aliases WHERE alias != '{LATEST}')"
    f" AND {_UNREGISTERED}"
    f" AND v.id NOT IN (SELECT version FROM artifact_edges WHERE run IN ({_LIVE}))"
)


def reclaimable(db: Connection, keep_last: int | None = None) -> list[int]:
    """Versions ``gc`` may delete: those logged by runs that are deleted (or gone) that no
    live run produced or used, no alias other than ``latest`` names and no registered model
    version points at; with ``keep_last``, also every version older than the newest
    ``keep_last`` of its artifact that no alias names, no live run used and no registered
    model version points at."""
    ids = {r[0] for r in db.execute(
        f"SELECT v.id FROM artifact_versions v WHERE v.run IS NOT NULL"
        f" AND v.run NOT IN ({_LIVE}) AND {_UNHELD}")}
    if keep_last is not None:
        ids.update(r[0] for r in db.execute(
            "SELECT v.id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY artifact"
            " ORDER BY number DESC) AS newer FROM artifact_versions) v WHERE v.newer > ?"
            f" AND v.id NOT IN (SELECT version FROM artifact_aliases WHERE alias != '{LATEST}')"
            f" AND {_UNREGISTERED}"
            " AND v.id NOT IN (SELECT version FROM artifact_edges WHERE direction = 'in'"
            f"  AND run IN ({_LIVE}))", (keep_last,)))
    return sorted(ids)


def drop_dead_edges(db: Connection) -> int:
    """Delete the lineage edges of runs that are deleted or gone."""
    return int(db.execute(f"DELETE FROM artifact_edges WHERE run NOT IN ({_LIVE})").rowcount)


def referenced_blobs(db: Connection) -> set[str]:
    """Every blob a version's file references."""
    return {r[0] for r in db.execute("SELECT DISTINCT blob FROM artifact_files")}
