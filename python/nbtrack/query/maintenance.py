"""Deleting runs: hide them (``rm``), then drop their rows and files for good (``gc``)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from nbtrack import config
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
        count = 0
        for number in numbers:
            count += db.execute(
                "UPDATE runs SET deleted = 1 WHERE number = ? AND deleted = 0", (number,)
            ).rowcount
    return count


def collect_garbage(db: Connection, workspace: Path | None = None) -> dict[str, int]:
    """Drop every row of deleted runs, orphan artifact files, then ``VACUUM``.

    Returns the number of rows dropped per table and ``files``: artifact entries removed
    (entries of ``.nbtrack/artifacts/`` named after no live run's id or number).
    """
    dropped: dict[str, int] = {}
    with atomic(db):
        for table, sql in _DROPS:
            dropped[table] = db.execute(sql).rowcount
    dropped["files"] = _drop_orphan_artifacts(db, config.store_dir(workspace))
    db.execute("VACUUM")
    return dropped


def _drop_orphan_artifacts(db: Connection, store: Path) -> int:
    folder = store / config.ARTIFACTS_DIRNAME
    if not folder.is_dir():
        return 0
    live: set[str] = set()
    for number, run_id in db.execute("SELECT number, id FROM runs WHERE deleted = 0"):
        live.update((str(number), run_id))
    removed = 0
    for entry in folder.iterdir():
        if entry.name.split(".")[0] in live:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed += 1
    return removed
