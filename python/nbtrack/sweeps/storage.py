"""Where a sweep's Optuna study lives: Optuna's own storage, never nbtrack's SQLite store.

By default one journal file per sweep, ``.nbtrack/sweeps/<name>.journal`` (Optuna's
``JournalStorage``: an append-only log several processes on this machine, or on a shared
filesystem, can share). ``storage="postgresql://..."`` (or any URL Optuna's ``RDBStorage``
takes, ``sqlite:///...`` included) and ``storage="path/to/file.journal"`` are passed to Optuna;
so is an Optuna storage object. A sweep on a URL leaves a small pointer,
``.nbtrack/sweeps/<name>.json``, holding the URL without its password, so ``get_sweep(name)``
and ``nbtrack sweeps list`` find it again (the password comes from ``$PGPASSWORD`` or
``~/.pgpass``, or pass ``storage=`` again).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nbtrack import config

SWEEPS_DIRNAME = "sweeps"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_name(name: Any) -> str:
    """A sweep name: 1-128 letters, digits, ``_``, ``-`` and ``.`` (it names a file)."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith((".journal", ".json")):
        raise ValueError(f"a sweep name is 1-128 letters, digits, '_', '-' and '.', starting "
                         f"with a letter or digit, not {name!r}")
    return name


def sweeps_dir(workspace: str | os.PathLike[str] | None = None) -> Path:
    """``.nbtrack/sweeps/`` of the workspace."""
    return config.store_dir(workspace) / SWEEPS_DIRNAME


def journal_path(name: str, workspace: str | os.PathLike[str] | None = None) -> Path:
    """The default journal file of sweep ``name``."""
    return sweeps_dir(workspace) / f"{check_name(name)}.journal"


def redact(url: str) -> str:
    """``url`` without its password (``postgresql://me:***@host/db`` -> ``postgresql://me@host/db``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def describe(storage: Any) -> str:
    """How to name ``storage`` to a user (a URL without its password, a path, a class)."""
    if isinstance(storage, (str, os.PathLike)):
        text = os.fspath(storage)
        return redact(text) if "://" in text else text
    return type(storage).__name__


def open_storage(name: str, storage: Any = None,
                 workspace: str | os.PathLike[str] | None = None) -> tuple[Any, str]:
    """The Optuna storage of sweep ``name`` and a label for it (a path or a redacted URL).

    ``storage``: None (the default journal), a ``*.journal`` path, a database URL, or an
    Optuna storage object (returned as it is).
    """
    if storage is None:
        path = journal_path(name, workspace)
        return journal(path), str(path)
    if isinstance(storage, (str, os.PathLike)):
        text = os.fspath(storage)
        if "://" in text:
            return _rdb(text), redact(text)
        path = Path(text).expanduser().resolve()
        return journal(path), str(path)
    return storage, describe(storage)


def journal(path: Path) -> Any:
    """An Optuna JournalStorage on the file ``path`` (its folder made if missing)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    path.parent.mkdir(parents=True, exist_ok=True)
    # The open(O_EXCL) lock works on every filesystem (NFS included), unlike symlinks.
    lock = JournalFileOpenLock(str(path))
    return JournalStorage(JournalFileBackend(str(path), lock_obj=lock))


def _rdb(url: str) -> Any:
    from optuna.storages import RDBStorage

    # A dead worker's trial is failed by the others after its heartbeat goes stale.
    return RDBStorage(url, heartbeat_interval=30, grace_period=120)


def remember(name: str, storage: Any, workspace: str | os.PathLike[str] | None = None) -> None:
    """Leave ``.nbtrack/sweeps/<name>.json`` pointing at a sweep's URL storage (no password)."""
    if storage is None or not isinstance(storage, (str, os.PathLike)):
        return
    text = os.fspath(storage)
    folder = sweeps_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{check_name(name)}.json"
    data = {"name": name, "storage": redact(text) if "://" in text
            else str(Path(text).expanduser().resolve()), "created": time.time()}
    tmp = target.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, target)


def remembered(name: str, workspace: str | os.PathLike[str] | None = None) -> str | None:
    """The storage a sweep's pointer names, if it has one."""
    target = sweeps_dir(workspace) / f"{check_name(name)}.json"
    try:
        value = json.loads(target.read_text(encoding="utf-8")).get("storage")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def known(workspace: str | os.PathLike[str] | None = None) -> list[tuple[str, str | None]]:
    """Every sweep this workspace knows: ``(name, storage)`` (None: the default journal),
    newest first."""
    folder = sweeps_dir(workspace)
    found: dict[str, tuple[float, str | None]] = {}
    if folder.is_dir():
        for path in folder.iterdir():
            if path.suffix == ".journal":
                found.setdefault(path.stem, (path.stat().st_mtime, None))
            elif path.suffix == ".json":
                pointer = remembered(path.stem, workspace)
                if pointer is not None:
                    found[path.stem] = (path.stat().st_mtime, pointer)
    ordered = sorted(found.items(), key=lambda item: -item[1][0])
    return [(name, where) for name, (_when, where) in ordered]


def next_name(workspace: str | os.PathLike[str] | None = None) -> str:
    """``sweep-<n>``: the first such name no sweep of the workspace has."""
    taken = {name for name, _ in known(workspace)}
    n = 1
    while f"sweep-{n}" in taken:
        n += 1
    return f"sweep-{n}"
