"""The one way into the store: every module reads and writes ``nbtrack.db`` through here.

- :func:`reading` gives a connection holding one consistent view: when this process records
  to the store, the recorder's own connection after a flush (so a reader sees everything
  logged so far); otherwise a read-only snapshot. A workspace with no store reads as empty.
- :func:`writing` gives one short write transaction: on the recorder's connection when this
  process has one (serialized with its writer), otherwise on a connection of its own.
- :func:`connect` opens a connection (writable opens create the store and migrate it) and
  :func:`atomic` makes a block one transaction.

Connections are plain :class:`sqlite3.Connection` objects in autocommit mode
(``isolation_level=None``): transactions are always explicit, through :func:`atomic`.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from nbtrack.store import schema

#: The connection type every store function takes.
Connection = sqlite3.Connection

#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT = 60.0


class StoreUnavailableError(OSError):
    """The workspace's store cannot be created or opened for writing."""


class Writer(Protocol):
    """What this process's recorder offers readers and writers of its store."""

    conn: Connection
    lock: threading.RLock

    def flush(self, timeout: float = 60.0) -> bool: ...


_writers: dict[Path, Writer] = {}


def register_writer(path: Path, writer: Writer) -> None:
    """Make ``writer`` the connection this process reads and writes ``path`` through."""
    _writers[path.resolve()] = writer


def unregister_writer(path: Path, writer: Writer) -> None:
    """Forget ``writer`` (it is closing)."""
    if _writers.get(path.resolve()) is writer:
        del _writers[path.resolve()]


def flush_writer(path: Path) -> None:
    """Write what this process has queued for ``path``, so other connections see it."""
    writer = _writers.get(path.resolve())
    if writer is not None:
        writer.flush()


def connect(path: str | Path, *, readonly: bool = False) -> Connection:
    """Open the store at ``path``; a writable open creates it and applies pending migrations.

    Read-only opens (``mode=ro`` and ``PRAGMA query_only``) never create or migrate anything
    and raise :class:`FileNotFoundError` when the file does not exist.
    """
    path = Path(path)
    if readonly:
        if not path.exists():
            raise FileNotFoundError(f"no nbtrack store at {path}")
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT,
            check_same_thread=False, isolation_level=None,
        )
        conn.execute("PRAGMA query_only = ON")
        return conn
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT, check_same_thread=False, isolation_level=None
    )
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if schema.pending(conn):
            schema.migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def empty() -> Connection:
    """An in-memory store with the schema: what a workspace that recorded nothing reads as."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    schema.migrate(conn)
    return conn


@contextmanager
def atomic(conn: Connection) -> Iterator[Connection]:
    """Make the block one transaction (a savepoint when one is already open).

    The outermost transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at once
    (waiting up to the busy timeout) instead of failing later on a lock upgrade.
    """
    if conn.in_transaction:
        name = f"nbtrack_{secrets.token_hex(8)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def reading(path: Path) -> Iterator[Connection]:
    """A connection to the store at ``path`` that sees one consistent state of it.

    In a process that records to ``path``: the recorder's connection, after everything queued
    so far is written, held for the block (the writer waits). Elsewhere: a read-only snapshot.
    A missing store reads as an empty one, and so does one another process is creating (the
    file exists, its tables not yet: the migrations commit in one transaction).
    """
    writer = _writers.get(path.resolve())
    if writer is not None:
        writer.flush()
        with writer.lock:
            yield writer.conn
        return
    if not path.exists():
        conn = empty()
    else:
        conn = connect(path, readonly=True)
        conn.execute("BEGIN")  # every query of the block sees the same snapshot
        if not schema.applied(conn):
            conn.close()
            conn = empty()
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def writing(path: Path, *, create: bool = True) -> Iterator[Connection]:
    """One short write transaction on the store at ``path``.

    Goes through this process's recorder connection when there is one (serialized with its
    writer thread). ``create=False`` raises :class:`FileNotFoundError` instead of creating a
    store that does not exist yet. Raises :class:`StoreUnavailableError` when the store cannot
    be opened for writing.
    """
    writer = _writers.get(path.resolve())
    if writer is not None:
        with writer.lock, atomic(writer.conn):
            yield writer.conn
        return
    if not create and not path.exists():
        raise FileNotFoundError(f"no nbtrack store at {path}")
    conn = open_writable(path)
    try:
        with atomic(conn):
            yield conn
    finally:
        conn.close()


def open_writable(path: Path) -> Connection:
    """:func:`connect` for writing, with a :class:`StoreUnavailableError` saying what to do."""
    try:
        return connect(path)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailableError(
            f"nbtrack cannot open its store at {path} ({exc}); set NBTRACK_DIR to a "
            "writable folder, or start from a folder you can write to"
        ) from exc
