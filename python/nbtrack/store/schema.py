"""The store's schema, changed only through named migrations, and how connections are opened.

Every migration is one function registered on :data:`MIGRATIONS`; its name is recorded in the
``_sqlite_migrations`` table by sqlite-utils, and :func:`schema_version` counts them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("nbtrack")

#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT = 60.0


@MIGRATIONS()
def m001_initial(db: sqlite_utils.Database) -> None:
    """Runs, params, metric points, summaries, cell executions, variables, environments.

    Metric points are stored in chunks: one row holds up to ``CHUNK_POINTS`` consecutive points
    of one key of one run as packed arrays (steps int64, values float64, times float64, cells
    int64 with 0 for none; native byte order), so a million points are a few hundred rows.
    ``nbtrack.store.points`` packs and unpacks them.
    """
    db.executescript(
        """
        CREATE TABLE runs (
            number INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            notebook TEXT,
            session TEXT,
            host TEXT,
            pid INTEGER,
            started REAL NOT NULL,
            ended REAL,
            heartbeat REAL,
            tags TEXT NOT NULL DEFAULT '[]',
            notes TEXT NOT NULL DEFAULT '',
            deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_started ON runs (started);
        CREATE INDEX runs_name ON runs (name, number);
        CREATE TABLE params (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            value,  -- no declared type: values keep their own type
            kind TEXT NOT NULL,
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID;
        CREATE INDEX params_key_value ON params (key, value);
        CREATE TABLE metric_keys (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE
        );
        CREATE TABLE metric_chunks (
            run INTEGER NOT NULL,
            key INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            step_min INTEGER NOT NULL,
            step_max INTEGER NOT NULL,
            count INTEGER NOT NULL,
            ordered INTEGER NOT NULL,
            steps BLOB NOT NULL,
            "values" BLOB NOT NULL,
            times BLOB NOT NULL,
            cells BLOB NOT NULL,
            PRIMARY KEY (run, key, seq)
        ) WITHOUT ROWID;
        CREATE TABLE summary (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            last REAL,
            last_step INTEGER,
            min REAL,
            max REAL,
            count INTEGER NOT NULL DEFAULT 0,
            override,  -- JSON text of an explicit summary value
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID;
        CREATE INDEX summary_key_last ON summary (key, last);
        CREATE TABLE cells (
            id INTEGER PRIMARY KEY,
            run INTEGER,
            session TEXT,
            execution_count INTEGER,
            cell_id TEXT,
            source TEXT NOT NULL,
            started REAL NOT NULL,
            duration REAL,
            outcome TEXT,
            error_type TEXT,
            error_message TEXT
        );
        CREATE INDEX cells_run ON cells (run, started);
        CREATE TABLE variables (
            cell INTEGER NOT NULL,
            name TEXT NOT NULL,
            change TEXT NOT NULL,
            type TEXT,
            shape TEXT,
            dtype TEXT,
            length INTEGER,
            repr TEXT,
            value  -- no declared type: scalars keep their own type
        );
        CREATE INDEX variables_cell ON variables (cell);
        CREATE TABLE environments (
            run INTEGER PRIMARY KEY,
            data TEXT NOT NULL
        );
        """
    )


@MIGRATIONS()
def m002_summary_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for filtering and ranking runs by metric (``nbtrack.query``).

    ``summary_key_value`` indexes each metric's summary value (the explicit one if set, else the
    last); its expression must stay identical to ``nbtrack.query.compiler.SUMMARY_VALUE`` for
    SQLite to use it. ``summary_key_min`` / ``summary_key_max`` serve the leaderboard.
    """
    db.executescript(
        """
        CREATE INDEX summary_key_value ON summary (
            key, (CASE WHEN override IS NOT NULL THEN json_extract(override, '$') ELSE last END)
        );
        CREATE INDEX summary_key_min ON summary (key, min);
        CREATE INDEX summary_key_max ON summary (key, max);
        """
    )


def connect(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open the store at ``path``; a writable open creates it and applies pending migrations.

    Read-only opens never create or migrate anything and fail with :class:`FileNotFoundError`
    when the file does not exist.
    """
    path = Path(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no nbtrack store at {path}")
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT,
            check_same_thread=False,
        )
        db = sqlite_utils.Database(conn, execute_plugins=False)
        return db
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT, check_same_thread=False)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    if MIGRATIONS.pending(db):
        _migrate(db)
    return db


def _migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations under the write lock, so two processes never race on them.

    ``Migrations.apply`` re-reads what is applied inside the lock and nests each migration's
    ``atomic()`` as a savepoint of this transaction.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        MIGRATIONS.apply(db)
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def schema_version(db: sqlite_utils.Database) -> int:
    """The number of migrations applied to ``db``."""
    return len(MIGRATIONS.applied(db))
