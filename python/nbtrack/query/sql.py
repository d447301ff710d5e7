"""Read-only SQL over the store: ``nbtrack.sql("select ...")``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas


class SqlResult(list[dict[str, Any]]):
    """The rows of a query as dicts (a ``list``), with ``columns`` and :meth:`to_pandas`."""

    def __init__(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        super().__init__(rows)
        self.columns = list(columns)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame with the query's columns (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("SqlResult.to_pandas() needs pandas: pip install pandas") from exc
        return pd.DataFrame(list(self), columns=self.columns)

    def __repr__(self) -> str:
        from nbtrack.text import fmt_value, table

        if not self:
            return "(no rows)"
        shown = self[:50]
        text = table(self.columns, [[fmt_value(r[c], 40) for c in self.columns] for r in shown])
        return text + (f"\n({len(shown)} of {len(self)} rows)" if len(self) > len(shown) else "")


@contextmanager
def readonly_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that cannot write: opened with ``mode=ro`` and ``PRAGMA query_only``.

    A workspace that has recorded nothing yet reads as an empty store with the schema.
    """
    from nbtrack.store import access

    conn = access.connect(path, readonly=True) if path.exists() else access.empty()
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_deny_escapes)
        yield conn
    finally:
        conn.close()


def _deny_escapes(action: int, arg1: Any, arg2: Any, db: Any, trigger: Any) -> int:
    """Refuse what could lift read-only: turning query_only off, attaching other files."""
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and str(arg1).lower() in _WRITE_PRAGMAS and arg2:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


_WRITE_PRAGMAS = {"query_only", "writable_schema", "journal_mode", "schema_version",
                  "user_version", "application_id", "wal_checkpoint"}


def iter_query(
    conn: sqlite3.Connection, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """``(columns, rows)`` of one statement; rows are fetched as they are read."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError("sql() needs a query, e.g. sql('select name, status from runs')")
    cursor = conn.execute(query, params)
    columns = [d[0] for d in cursor.description or ()]
    return columns, iter(cursor)


def run_sql(
    path: Path, query: str, params: Sequence[Any] | Mapping[str, Any] = ()
) -> SqlResult:
    """All rows of ``query`` on the store at ``path``, read-only."""
    with readonly_connection(path) as conn:
        columns, rows = iter_query(conn, query, params)
        return SqlResult(columns, [dict(zip(columns, row)) for row in rows])
