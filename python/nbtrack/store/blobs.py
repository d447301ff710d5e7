"""Content-addressed files beside the database: ``.nbtrack/blobs/<2 hex>/<sha256 hex>``.

A blob's name is the SHA-256 of its bytes, so identical content (the same image logged twice,
the same model file saved by two runs) is stored once. A blob is written under a temporary
name in its folder and renamed into place, so a crash never leaves a partial file under a real
name. Blobs are shared by rich values (images, tables, audio...) and, later, artifacts.

Garbage collection (:func:`collect`) deletes only blobs that no row references *and* that have
not been written or reused for :data:`GRACE_SECONDS`: a writer puts a blob in place before the
transaction that references it commits, and touches a blob it reuses, so a collection running
while another process logs never removes a blob that is about to be referenced.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

BLOBS_DIRNAME = "blobs"
#: Seconds a blob stays safe from collection after it was written or reused.
GRACE_SECONDS = 3600.0

_NAME = re.compile(r"^[0-9a-f]{64}$")


class BlobNotFound(LookupError):
    """No blob with that name in the store."""


def digest(data: bytes) -> str:
    """The name a blob of ``data`` gets: its SHA-256 as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def blob_dir(store: Path) -> Path:
    """The folder of the blobs of the store folder ``store`` (``.nbtrack``)."""
    return store / BLOBS_DIRNAME


def path_of(store: Path, name: str) -> Path:
    """Where blob ``name`` lives; a ``ValueError`` for anything that is not a blob name, so no
    name a caller passes can point outside the blob folder."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"not a blob name: {name!r}")
    return blob_dir(store) / name[:2] / name


def touch(target: Path) -> bool:
    """Mark an existing blob reused (safe from collection for another grace period); False
    when it is not there (then the caller writes it)."""
    try:
        os.utime(target)
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return target.exists()


def put(store: Path, data: bytes) -> str:
    """Store ``data`` (once) and return its name."""
    name = digest(data)
    target = path_of(store, name)
    if touch(target):
        return name
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return name


def read(store: Path, name: str) -> bytes:
    """The bytes of blob ``name``; :class:`BlobNotFound` when it is not there."""
    try:
        return path_of(store, name).read_bytes()
    except FileNotFoundError:
        raise BlobNotFound(f"no blob {name} in {blob_dir(store)}") from None


def names(store: Path) -> Iterator[tuple[str, Path]]:
    """Every blob in the store: ``(name, path)``; temporary files are not listed."""
    root = blob_dir(store)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if not folder.is_dir() or len(folder.name) != 2:
            continue
        for file in folder.iterdir():
            if _NAME.match(file.name) and file.name.startswith(folder.name):
                yield file.name, file


def collect(store: Path, referenced: Iterable[str], *, now: float | None = None) -> int:
    """Delete blobs that nothing references and that are older than the grace period, and
    temporary files left by a crash; return how many blobs were deleted.

    A blob is first renamed aside (atomic), then its age is read again: a writer that reused it
    just before (and touched it) gets it back, and a writer that comes after finds it missing
    and writes it again, so no check-then-delete race loses a blob a row is about to reference.
    """
    keep = set(referenced)
    cutoff = (time.time() if now is None else now) - GRACE_SECONDS
    removed = 0
    for name, file in list(names(store)):
        if name in keep:
            continue
        try:
            if file.stat().st_mtime >= cutoff:
                continue
            aside = file.with_name(f".gc-{name}")
            os.rename(file, aside)
        except FileNotFoundError:
            continue
        try:
            if aside.stat().st_mtime >= cutoff and not file.exists():
                os.rename(aside, file)  # reused meanwhile: put it back
                continue
            aside.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    root = blob_dir(store)
    if root.is_dir():
        for leftover in (*root.glob("*/.tmp-*"), *root.glob("*/.gc-*")):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except FileNotFoundError:
                pass
    return removed
