"""Where the store lives: one workspace, one ``.nbtrack/`` folder, read at call time.

The rule, the same for kernel, server and CLI:

1. ``$NBTRACK_DIR`` if set (the workspace folder; the store is ``$NBTRACK_DIR/.nbtrack``),
2. else the nearest ancestor of the working directory that holds a ``.nbtrack/`` folder,
3. else the working directory itself.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_DIRNAME = ".nbtrack"
DB_FILENAME = "nbtrack.db"
ARTIFACTS_DIRNAME = "artifacts"

#: Seconds between flushes of waiting points by the background writer.
FLUSH_INTERVAL = 0.5


def queue_max() -> int:
    """The most ``log()`` calls waiting for the writer (``$NBTRACK_QUEUE_MAX``, default 100,000);
    past it, ``log()`` waits for the writer to catch up."""
    return max(16, int(os.environ.get("NBTRACK_QUEUE_MAX", "100000")))


def media_queue_max() -> int:
    """The most rich values (images, tables...) waiting for the writer
    (``$NBTRACK_MEDIA_QUEUE_MAX``, default 1,000); past it, ``log()`` waits."""
    return max(4, int(os.environ.get("NBTRACK_MEDIA_QUEUE_MAX", "1000")))


def heartbeat_interval() -> float:
    """Seconds between heartbeats of a live run (``$NBTRACK_HEARTBEAT``, default 5)."""
    return float(os.environ.get("NBTRACK_HEARTBEAT", "5"))


def stale_after() -> float:
    """A running run whose heartbeat is this many seconds old reads as crashed
    (``$NBTRACK_STALE_AFTER``, default 30)."""
    return float(os.environ.get("NBTRACK_STALE_AFTER", "30"))


def workspace_dir(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the workspace folder by the rule above (``start`` defaults to the cwd)."""
    env = os.environ.get("NBTRACK_DIR")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(start) if start is not None else Path.cwd()
    here = here.resolve()
    for folder in (here, *here.parents):
        if (folder / STORE_DIRNAME).is_dir():
            return folder
    return here


def store_dir(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The ``.nbtrack/`` folder of ``workspace`` (default: :func:`workspace_dir`)."""
    base = Path(workspace).expanduser().resolve() if workspace else workspace_dir()
    return base / STORE_DIRNAME


def db_path(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The SQLite database file of ``workspace`` (default: :func:`workspace_dir`)."""
    return store_dir(workspace) / DB_FILENAME
