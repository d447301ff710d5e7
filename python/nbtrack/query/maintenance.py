"""Deleting runs: hide them (``rm``), then drop their rows for good (``gc``).

``gc`` drops the rows of deleted runs (and the artifact versions only they held, see
:func:`nbtrack.store.artifacts.reclaimable`), then the blobs (``.nbtrack/blobs/``) that no row
references any more (and only those, and only once they are older than the blob store's grace
period, so a process logging meanwhile loses nothing). It deletes no other file: a user's files
put under ``.nbtrack/`` stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nbtrack.store import artifacts, blobs, queries
from nbtrack.store.access import Connection, atomic

#: Rows of runs that are gone (deleted, or with no run row at all), per table, in the order
#: ``gc`` drops them: variables go before the cells they belong to.
_GONE = "SELECT number FROM runs WHERE deleted = 0"
_DROPS = (
    ("variables", "DELETE FROM variables WHERE cell IN"
                  f" (SELECT id FROM cells WHERE run IS NOT NULL AND run NOT IN ({_GONE}))"),
    ("cells", f"DELETE FROM cells WHERE run IS NOT NULL AND run NOT IN ({_GONE})"),
    ("params", f"DELETE FROM params WHERE run NOT IN ({_GONE})"),
    ("metric_chunks", f"DELETE FROM metric_chunks WHERE run NOT IN ({_GONE})"),
    ("summary", f"DELETE FROM summary WHERE run NOT IN ({_GONE})"),
    ("environments", f"DELETE FROM environments WHERE run NOT IN ({_GONE})"),
    ("media", f"DELETE FROM media WHERE run NOT IN ({_GONE})"),
    ("run_sources", f"DELETE FROM run_sources WHERE run NOT IN ({_GONE})"),
    ("runs", "DELETE FROM runs WHERE deleted != 0"),
)


def soft_delete(db: Connection, numbers: Sequence[int]) -> int:
    """Mark runs deleted (hidden from every list; ``gc`` drops them); return how many."""
    with atomic(db):
        return int(db.execute(
            f"UPDATE runs SET deleted = 1 WHERE deleted = 0 AND number {queries.IN_JSON}",
            (queries.json_numbers(numbers),),
        ).rowcount)


def collect_garbage(db: Connection, store: Path, *, keep_last: int | None = None,
                    ) -> dict[str, int]:
    """Drop every row of deleted runs and the artifact versions nothing live holds (with
    ``keep_last``: also all but the newest ``keep_last`` versions of each artifact, aliased
    and used ones kept), then the unreferenced blobs of the store folder ``store``, then
    ``VACUUM``; the rows dropped per table, ``artifact_versions``, and ``blobs``: files
    deleted."""
    dropped: dict[str, int] = {}
    with atomic(db):
        dropped["artifact_versions"] = artifacts.delete_versions(
            db, artifacts.reclaimable(db, keep_last))
        dropped["artifact_edges"] = artifacts.drop_dead_edges(db)
        for table, sql in _DROPS:
            dropped[table] = db.execute(sql).rowcount
    referenced = {name for (name,) in db.execute(
        "SELECT blob FROM media WHERE blob IS NOT NULL"
        " UNION SELECT thumb FROM media WHERE thumb IS NOT NULL")}
    referenced |= artifacts.referenced_blobs(db)
    dropped["blobs"] = blobs.collect(store, referenced)
    db.execute("VACUUM")
    return dropped
