"""A real PostgreSQL server for tests: Debian's postgresql started in a temporary data folder.

Use it from a test module with ``from postgres_fixture import postgres  # noqa: F401`` (or
list it in ``pytest_plugins``). The fixture is session-scoped: one server for the whole run,
each caller creating its own database with :func:`create_database`. When PostgreSQL is not
installed the fixture fails (it does not skip), saying how to install it.

``initdb`` refuses to run as root, so when the tests run as root the server is run as the
``postgres`` user (``runuser -u postgres --``) on a data folder owned by that user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Where Debian's postgresql packages put the server binaries (newest first).
_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@dataclass
class Postgres:
    """A running server: connect as ``user`` (no password) to ``host``:``port``."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        """A SQLAlchemy URL of ``database`` on this server (psycopg2 driver)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def _bin(name: str) -> str:
    for folder in _BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"PostgreSQL is not installed ({name} not found under /usr/lib/postgresql/*/bin):"
            " apt-get install postgresql", pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> tuple[list[str], str]:
    """The command prefix that runs the server tools, and the user they run as."""
    if os.geteuid() != 0:
        import getpass

        return [], getpass.getuser()
    if shutil.which("runuser") is None:
        pytest.fail("running as root needs runuser (util-linux) to start PostgreSQL",
                    pytrace=False)
    return ["runuser", "-u", "postgres", "--"], "postgres"


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A PostgreSQL server on 127.0.0.1 and a free port for the block (benchmarks use it)."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    prefix, user = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="nbtrack-pg-"))
    data = root / "data"
    data.mkdir()
    if prefix:
        shutil.chown(root, user="postgres")
        shutil.chown(data, user="postgres")
    run = dict(check=True, capture_output=True, text=True, cwd=str(root))
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", user, "--auth=trust",
                        "-E", "UTF8", "--no-sync"], **run)  # type: ignore[call-overload]
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", options, "-l",
                        str(root / "log"), "-w", "start"], **run)  # type: ignore[call-overload]
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.cmd[len(prefix)]}: {exc.stderr}",
                    pytrace=False)
    try:
        yield Postgres("127.0.0.1", port, user)
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server for the whole test session (see :func:`running_postgres`)."""
    with running_postgres() as server:
        yield server


def create_database(server: Postgres, name: str) -> str:
    """Create database ``name`` on ``server``; returns its SQLAlchemy URL."""
    import psycopg2

    conn = psycopg2.connect(host=server.host, port=server.port, user=server.user,
                            dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')  # a test's own constant name
    finally:
        conn.close()
    return server.url(name)
