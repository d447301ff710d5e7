"""What the server answers about artifacts: the list, one artifact's versions, a version's
file, the lineage graph, and a run's inputs and outputs (for the run detail).

Plain functions of the store's path returning the shapes of :mod:`nbtrack.model`, so the
handlers in ``server/artifact_handlers.py`` only parse arguments and write. An unknown
artifact, version or file is :class:`~nbtrack.store.artifacts.ArtifactNotFound` (404); a
malformed name or reference is a ``ValueError`` (400).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from nbtrack.artifacts.names import check_name, parse_ref
from nbtrack.model import (
    ArtifactDetail,
    ArtifactFile,
    ArtifactLink,
    ArtifactRun,
    ArtifactsResponse,
    ArtifactSummary,
    ArtifactVersionRecord,
    Lineage,
    RunArtifacts,
)
from nbtrack.store import access, blobs
from nbtrack.store import artifacts as store
from nbtrack.store.access import Connection
from nbtrack.store.artifacts import ArtifactNotFound


def artifacts_list(path: Path, type_: str | None = None) -> ArtifactsResponse:
    """Every artifact name (of type ``type_``) with its version count, newest version,
    aliases, size and time of the newest version."""
    if type_ is not None:
        check_name(type_, "artifact type")
    with access.reading(path) as db:
        rows = store.versions(db, type_)
        aliases = _aliases_by_artifact(db)
    by_name: dict[str, list[store.VersionRow]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    out: list[ArtifactSummary] = []
    for name, versions in by_name.items():
        newest = max(versions, key=lambda v: v.number)
        out.append(ArtifactSummary(
            name=name, type=newest.type, versions=len(versions), latest=f"v{newest.number}",
            aliases=aliases.get(newest.artifact, {}), updated=newest.created,
            size=newest.size))
    return ArtifactsResponse(artifacts=out)


def _aliases_by_artifact(db: Connection) -> dict[int, dict[str, str]]:
    """``{artifact id: {alias: "vN"}}`` (``latest`` first)."""
    out: dict[int, dict[str, str]] = {}
    for artifact, alias, number in db.execute(
            "SELECT l.artifact, l.alias, v.number FROM artifact_aliases l"
            " JOIN artifact_versions v ON v.id = l.version"
            " ORDER BY l.artifact, l.alias != ?, l.alias", (store.LATEST,)):
        out.setdefault(int(artifact), {})[str(alias)] = f"v{number}"
    return out


def artifact_detail(path: Path, name: str) -> ArtifactDetail:
    """Every version of artifact ``name``, newest first, with files, aliases and runs."""
    check_name(name)
    with access.reading(path) as db:
        head = db.execute("SELECT id, type FROM artifacts WHERE name = ?", (name,)).fetchone()
        if head is None:
            raise ArtifactNotFound(f"no artifact named {name!r}")
        ids = [r[0] for r in db.execute(
            "SELECT id FROM artifact_versions WHERE artifact = ? ORDER BY number DESC",
            (head[0],))]
        versions = [_version_record(db, store.version(db, i)) for i in ids]
    return ArtifactDetail(name=name, type=str(head[1]), versions=versions)


def _run(db: Connection, number: int) -> ArtifactRun:
    row = db.execute("SELECT id, name FROM runs WHERE number = ?", (number,)).fetchone()
    return ArtifactRun(number=number, run_id=row[0] if row else None,
                       name=row[1] if row else None)


def _version_record(db: Connection, row: store.VersionRow) -> ArtifactVersionRecord:
    edges = store.edges_of_version(db, row.id)
    consumers = list(dict.fromkeys(e.run for e in edges if e.direction == "in"))
    producer = row.run if row.run is not None else next(
        (e.run for e in edges if e.direction == "out"), None)
    return ArtifactVersionRecord(
        version=f"v{row.number}", aliases=store.aliases(db, row.id),
        description=row.description, metadata=row.metadata, created=row.created,
        size=row.size,
        files=[ArtifactFile(path=f.path, size=f.size, digest=f.blob)
               for f in store.files(db, row.id)],
        producer=None if producer is None else _run(db, producer),
        consumers=[_run(db, number) for number in consumers])


class FileToServe(NamedTuple):
    """A version's file as the download handler streams it."""

    blob: Path
    size: int
    filename: str


def artifact_file(path: Path, name: str, selector: str, file_path: str) -> FileToServe:
    """The blob of file ``file_path`` of version ``selector`` (``v3`` or an alias) of
    ``name``: only a path of that version's manifest names a file, so no request reaches
    anything else in (or outside) the store."""
    check_name(name)
    with access.reading(path) as db:
        row = store.resolve(db, name, selector)
        entry = next((f for f in store.files(db, row.id) if f.path == file_path), None)
    if entry is None:
        raise ArtifactNotFound(f"{name}:v{row.number} has no file {file_path!r}")
    blob = blobs.path_of(path.parent, entry.blob)
    if not blob.is_file():
        raise ArtifactNotFound(f"the bytes of {name}:v{row.number} file {file_path!r} are"
                               " missing from the store")
    return FileToServe(blob=blob, size=entry.size, filename=file_path.rsplit("/", 1)[-1])


def lineage_response(path: Path, ref: str | None) -> Lineage:
    """``nbtrack.lineage(ref)`` for ``ref`` ``"name:vN"``/``"name:alias"`` or a run."""
    from nbtrack.artifacts.lineage import lineage

    if not ref:
        raise ValueError("lineage needs a reference: ref=<name>:<version> or ref=<run>")
    if ":" in ref and not ref.startswith("run:"):
        parse_ref(ref)  # a ValueError (400) for a malformed reference
    return lineage(path, ref)


def run_artifacts(db: Connection, number: int) -> RunArtifacts:
    """The versions run ``number`` used and produced, each once, oldest first."""
    links: dict[str, dict[int, ArtifactLink]] = {"in": {}, "out": {}}
    for edge in store.edges_of_run(db, number):
        if edge.version in links[edge.direction]:
            continue
        try:
            row = store.version(db, edge.version)
        except ArtifactNotFound:
            continue
        version = f"v{row.number}"
        links[edge.direction][edge.version] = ArtifactLink(
            ref=f"{row.name}:{version}", name=row.name, version=version, type=row.type,
            cell=edge.cell)
    return RunArtifacts(inputs=list(links["in"].values()), outputs=list(links["out"].values()))
