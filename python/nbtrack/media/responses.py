"""What the REST API answers about rich values: media lists, and blob bytes with their type.

Plain functions of the store's path, like :mod:`nbtrack.responses`; the handlers in
:mod:`nbtrack.server.media_handlers` only parse arguments and write the answers. A blob is
served only when a ``media`` row of this store references it, so no name a client sends can
reach a file that nbtrack did not store for a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbtrack.model import MediaKey, MediaRecord, MediaResponse
from nbtrack.store import access, blobs, queries

#: The most values one ``all=1`` page holds.
MAX_ITEMS = 1000


def run_media(
    path: Path, ref: str, *, key: str | None = None, step: int | None = None,
    all_steps: bool = False, offset: int = 0, limit: int = 200,
) -> MediaResponse:
    """The run's media keys; with ``key``: its steps and the values at ``step`` (default: the
    last step), or with ``all_steps`` a page of the values of every step (``offset``,
    ``limit``), in step order."""
    if not 1 <= limit <= MAX_ITEMS:
        raise ValueError(f"limit must be between 1 and {MAX_ITEMS}")
    if offset < 0:
        raise ValueError("offset must be 0 or more")
    with access.reading(path) as db:
        number = queries.resolve_run(db, ref)
        run_id = str(db.execute("SELECT id FROM runs WHERE number = ?", (number,)).fetchone()[0])
        keys = [
            MediaKey(key=k, kind=kind, count=count, first_step=lo, last_step=hi)
            for k, kind, count, lo, hi in db.execute(
                "SELECT key, MIN(kind), COUNT(*), MIN(step), MAX(step) FROM media"
                " WHERE run = ? GROUP BY key ORDER BY key", (number,))
        ]
        if key is None:
            return MediaResponse(run_id=run_id, keys=keys, key=None, steps=[], items=[])
        steps = [s for (s,) in db.execute(
            "SELECT DISTINCT step FROM media WHERE run = ? AND key = ? ORDER BY step",
            (number, key))]
        if not steps:
            raise ValueError(f"run {ref} logged no rich values under {key!r}")
        if all_steps:
            rows = db.execute(
                "SELECT key, step, idx, kind, blob, thumb, meta, time, cell FROM media"
                " WHERE run = ? AND key = ? ORDER BY step, idx LIMIT ? OFFSET ?",
                (number, key, limit, offset)).fetchall()
        else:
            chosen = steps[-1] if step is None else step
            if chosen not in set(steps):
                raise ValueError(f"{key!r} has no value at step {chosen}")
            rows = queries.media_rows(db, number, [key], step=chosen)
    return MediaResponse(run_id=run_id, keys=keys, key=key, steps=steps,
                         items=[_record(row) for row in rows])


def _record(row: Any) -> MediaRecord:
    key, step, idx, kind, blob, thumb, meta, when, cell = row
    return MediaRecord(key=key, step=step, idx=idx, kind=kind, blob=blob, thumb=thumb,
                       meta=json.loads(meta), time=when, cell=cell)


def blob_bytes(path: Path, name: str) -> tuple[bytes, str]:
    """``(bytes, content type)`` of blob ``name`` if a media row of this store references it
    (as its bytes or its thumbnail); :class:`nbtrack.store.blobs.BlobNotFound` otherwise."""
    blobs.path_of(path.parent, name)  # a ValueError for anything that is not a blob name
    with access.reading(path) as db:
        row = db.execute("SELECT meta FROM media WHERE blob = ? LIMIT 1", (name,)).fetchone()
        thumb = None if row else db.execute(
            "SELECT 1 FROM media WHERE thumb = ? LIMIT 1", (name,)).fetchone()
    if row is None and thumb is None:
        raise blobs.BlobNotFound(f"no stored value has the blob {name}")
    mime = "image/png" if row is None else str(json.loads(row[0]).get("mime")
                                              or "application/octet-stream")
    return blobs.read(path.parent, name), mime
