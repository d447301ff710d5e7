"""Deleting runs: hide them (``rm``), then drop their rows for good (``gc``).

Only the store's rows are dropped: nbtrack writes no files of its own under ``.nbtrack/``
yet, so ``gc`` never deletes a file (a user's files put there stay).
"""

from __future__ import annotations

from collections.abc import Sequence

from nbtrack.store import queries
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
    ("runs", "DELETE FROM runs WHERE deleted != 0"),
)


def soft_delete(db: Connection, numbers: Sequence[int]) -> int:
    """Mark runs deleted (hidden from every list; ``gc`` drops them); return how many."""
    with atomic(db):
        return int(db.execute(
            f"UPDATE runs SET deleted = 1 WHERE deleted = 0 AND number {queries.IN_JSON}",
            (queries.json_numbers(numbers),),
        ).rowcount)


def collect_garbage(db: Connection) -> dict[str, int]:
    """Drop every row of deleted runs, then ``VACUUM``; the rows dropped per table."""
    dropped: dict[str, int] = {}
    with atomic(db):
        for table, sql in _DROPS:
            dropped[table] = db.execute(sql).rowcount
    db.execute("VACUUM")
    return dropped
