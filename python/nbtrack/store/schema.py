"""The store's schema, changed only through named migrations.

Every migration is one function listed in :data:`MIGRATIONS`, applied by sqlite-utils'
``Migrations`` (which records each name in the ``_sqlite_migrations`` table); sqlite-utils is
imported only when a store is created or migrated, since importing it costs a few hundred
milliseconds (it imports pandas and numpy when they are installed). :func:`schema_version` counts
the applied migrations. Connections are opened by :mod:`nbtrack.store.access`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily at run time (see above)
    from sqlite_utils import Database

#: The name of this store's migration set in ``_sqlite_migrations``.
MIGRATION_SET = "nbtrack"


def m001_initial(db: Database) -> None:
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


def m002_summary_indexes(db: Database) -> None:
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


def m003_lost_items(db: Database) -> None:
    """``runs.lost``: how many of the run's items (metric points, cells, params...) the
    recorder could not store."""
    db.executescript("ALTER TABLE runs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;")


def m004_media(db: Database) -> None:
    """Rich values (images, tables, histograms, audio, text, HTML, figures).

    One row per value: several values logged under one key at one step (a list) are ``idx``
    0, 1, ...; a step logged again replaces its rows. The bytes live in the blob store
    (``.nbtrack/blobs/``), named by their SHA-256 in ``blob`` (and ``thumb``, an image's
    thumbnail); ``meta`` is JSON describing them (size, caption, columns, bins...).
    """
    db.executescript(
        """
        CREATE TABLE media (
            run INTEGER NOT NULL,
            key TEXT NOT NULL,
            step INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            kind TEXT NOT NULL,
            blob TEXT,
            thumb TEXT,
            meta TEXT NOT NULL,
            time REAL NOT NULL,
            cell INTEGER,
            PRIMARY KEY (run, key, step, idx)
        ) WITHOUT ROWID;
        CREATE INDEX media_blob ON media (blob);
        CREATE INDEX media_thumb ON media (thumb);
        """
    )


def m005_cell_resources(db: Database) -> None:
    """``cells.cpu_time`` (the process's CPU seconds while the cell ran) and
    ``cells.peak_memory_delta`` (how many bytes the cell raised the process's peak resident
    memory by; 0 when it stayed under an earlier peak)."""
    db.executescript(
        """
        ALTER TABLE cells ADD COLUMN cpu_time REAL;
        ALTER TABLE cells ADD COLUMN peak_memory_delta INTEGER;
        """
    )


def m006_artifacts(db: Database) -> None:
    """Artifacts: named, typed, versioned sets of files, their aliases and their lineage.

    A version's files live in the blob store (named by their SHA-256, so a file unchanged
    between versions is stored once); ``digest`` is the SHA-256 of the sorted manifest of
    (path, blob, size), and ``UNIQUE (artifact, digest)`` makes logging identical content
    again (from any process) return the existing version. ``latest`` is an alias kept on the
    newest version. Edges tie runs to the versions they produced (``out``) and used (``in``),
    with the cell execution that did it.
    """
    db.executescript(
        """
        CREATE TABLE artifacts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL
        );
        CREATE TABLE artifact_versions (
            id INTEGER PRIMARY KEY,
            artifact INTEGER NOT NULL,
            number INTEGER NOT NULL,
            digest TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            size INTEGER NOT NULL,
            file_count INTEGER NOT NULL,
            created REAL NOT NULL,
            run INTEGER,
            cell INTEGER,
            UNIQUE (artifact, number),
            UNIQUE (artifact, digest)
        );
        CREATE INDEX artifact_versions_run ON artifact_versions (run);
        CREATE TABLE artifact_files (
            version INTEGER NOT NULL,
            path TEXT NOT NULL,
            blob TEXT NOT NULL,
            size INTEGER NOT NULL,
            PRIMARY KEY (version, path)
        ) WITHOUT ROWID;
        CREATE INDEX artifact_files_blob ON artifact_files (blob);
        CREATE TABLE artifact_aliases (
            artifact INTEGER NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (artifact, alias)
        ) WITHOUT ROWID;
        CREATE INDEX artifact_aliases_version ON artifact_aliases (version);
        CREATE TABLE artifact_edges (
            run INTEGER NOT NULL,
            version INTEGER NOT NULL,
            direction TEXT NOT NULL,
            cell INTEGER,
            time REAL NOT NULL,
            PRIMARY KEY (run, version, direction)
        ) WITHOUT ROWID;
        CREATE INDEX artifact_edges_version ON artifact_edges (version);
        """
    )


def m007_registry(db: Database) -> None:
    """The model registry: registered models, their versions 1, 2, ..., tags and aliases.

    A model version points at an artifact version (of type ``model``); ``UNIQUE (model,
    artifact_version)`` makes registering the same artifact version again return the existing
    model version. ``run`` is the run that registered it (null outside a run). Aliases
    (``production``...) name one version of their model each; ``version`` columns of aliases
    and version tags are ``model_versions.id``.
    """
    db.executescript(
        """
        CREATE TABLE registered_models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL,
            updated REAL NOT NULL
        );
        CREATE TABLE model_versions (
            id INTEGER PRIMARY KEY,
            model INTEGER NOT NULL,
            version INTEGER NOT NULL,
            artifact_version INTEGER NOT NULL,
            run INTEGER,
            description TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL,
            UNIQUE (model, version),
            UNIQUE (model, artifact_version)
        );
        CREATE INDEX model_versions_artifact_version ON model_versions (artifact_version);
        CREATE TABLE model_tags (
            model INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model, key)
        ) WITHOUT ROWID;
        CREATE TABLE model_version_tags (
            version INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (version, key)
        ) WITHOUT ROWID;
        CREATE TABLE model_aliases (
            model INTEGER NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (model, alias)
        ) WITHOUT ROWID;
        CREATE INDEX model_aliases_version ON model_aliases (version);
        """
    )


def m008_imports(db: Database) -> None:
    """Where imported runs came from (``nbtrack import``).

    One row per run read from another tracker: ``source`` names the tracker (``mlflow``,
    ``wandb``, ``tensorboard``) and ``source_id`` the run there; ``UNIQUE (source,
    source_id)`` is what makes importing the same run again change nothing. ``digest`` (a
    SHA-256 of everything imported) tells an unchanged run from one that changed since.
    """
    db.executescript(
        """
        CREATE TABLE run_sources (
            run INTEGER NOT NULL,
            source TEXT NOT NULL,
            source_id TEXT NOT NULL,
            path TEXT NOT NULL,
            digest TEXT NOT NULL,
            imported REAL NOT NULL,
            PRIMARY KEY (source, source_id)
        ) WITHOUT ROWID;
        CREATE INDEX run_sources_run ON run_sources (run);
        """
    )


def m009_sync(db: Database) -> None:
    """What an MLflow tracking server has accepted of each run (``nbtrack sync``).

    ``server`` is the server's URL. ``sync_runs`` maps a run to its MLflow run (``remote_id``,
    in experiment ``experiment_id``) and keeps a digest of the name, status, times, tags and
    notes last sent (``head``), the tag keys sent (``tags``, JSON) and ``pending``: set while
    metric points are on their way, so a sync that was killed asks the server what it got.
    ``sync_params`` holds each param sent with the name and value the server has;
    ``sync_metrics`` the last step the server has of each metric key (null: none yet);
    ``sync_items`` the files (cells, environment, media, artifact versions) and registered
    model versions and aliases sent, with a digest of what was sent. A row is written only
    after the server accepted what it records.
    """
    db.executescript(
        """
        CREATE TABLE sync_runs (
            run INTEGER NOT NULL,
            server TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            experiment_id TEXT NOT NULL,
            head TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]',
            pending INTEGER NOT NULL DEFAULT 0,
            synced REAL NOT NULL,
            PRIMARY KEY (run, server)
        ) WITHOUT ROWID;
        CREATE INDEX sync_runs_remote ON sync_runs (server, remote_id);
        CREATE TABLE sync_params (
            run INTEGER NOT NULL,
            server TEXT NOT NULL,
            key TEXT NOT NULL,
            remote TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run, server, key)
        ) WITHOUT ROWID;
        CREATE TABLE sync_metrics (
            run INTEGER NOT NULL,
            server TEXT NOT NULL,
            key TEXT NOT NULL,
            remote TEXT NOT NULL,
            step INTEGER,
            PRIMARY KEY (run, server, key)
        ) WITHOUT ROWID;
        CREATE TABLE sync_items (
            run INTEGER NOT NULL,
            server TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            digest TEXT NOT NULL,
            PRIMARY KEY (run, server, kind, name)
        ) WITHOUT ROWID;
        """
    )


#: Every migration, in the order they apply. Append new ones; never edit an applied one.
MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    m001_initial, m002_summary_indexes, m003_lost_items, m004_media, m005_cell_resources,
    m006_artifacts, m007_registry, m008_imports, m009_sync,
)


def applied(conn: sqlite3.Connection) -> list[str]:
    """The names of the migrations applied to the store, in the order they were applied."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not exists:
        return []
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
        (MIGRATION_SET,),
    )
    return [row[0] for row in rows]


def pending(conn: sqlite3.Connection) -> list[str]:
    """The names of the migrations not yet applied (a read; writes nothing)."""
    done = set(applied(conn))
    return [m.__name__ for m in MIGRATIONS if m.__name__ not in done]


def migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations under the write lock, so two processes never race on them.

    ``Migrations.apply`` re-reads what is applied inside the lock and nests each migration's
    transaction as a savepoint of this one.
    """
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for migration in MIGRATIONS:
        migrations()(migration)
    conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.apply(Database(conn, execute_plugins=False))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of migrations applied to the store."""
    return len(applied(conn))
