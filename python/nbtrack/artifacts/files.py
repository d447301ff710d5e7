"""Artifact files in and out of the blob store: streamed, hashed, verified.

Large files are never read into memory: :func:`put_file` hashes a file, and only when the
blob store lacks those bytes copies it (hashing again while copying) under a temporary name
that is renamed to its SHA-256, so a crash never leaves a partial blob under a real name.
:func:`materialize` copies a blob out, checking its SHA-256 on the way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from nbtrack.store import blobs

CHUNK = 1 << 20


class ArtifactIntegrityError(OSError):
    """A stored file's bytes no longer match their SHA-256 (the blob was changed or lost)."""


def hash_file(path: Path) -> tuple[str, int]:
    """``(sha256 hex, size)`` of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def _copy_hashing(src: Path, dst_dir: Path) -> tuple[str, int, str]:
    """Copy ``src`` into a temporary file in ``dst_dir``; ``(sha256, size, temp path)``."""
    h = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dst_dir)
    try:
        with open(src, "rb", buffering=0) as f, os.fdopen(fd, "wb", buffering=0) as out:
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while n := f.readinto(buf):
                h.update(view[:n])
                out.write(view[:n])
                size += n
    except BaseException:
        _unlink(tmp)
        raise
    return h.hexdigest(), size, tmp


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def put_file(store: Path, path: Path) -> tuple[str, int]:
    """Put the bytes of the file ``path`` in the blob store (once); ``(blob name, size)``."""
    name, size = hash_file(path)
    target = blobs.path_of(store, name)
    if blobs.touch(target):
        return name, size
    target.parent.mkdir(parents=True, exist_ok=True)
    name, size, tmp = _copy_hashing(path, target.parent)  # the file may have changed since
    target = blobs.path_of(store, name)
    try:
        if target.parent != Path(tmp).parent:
            target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise
    return name, size


def put_bytes(store: Path, data: bytes) -> tuple[str, int]:
    """Put ``data`` in the blob store; ``(blob name, size)``."""
    return blobs.put(store, data), len(data)


def verify(path: Path, blob: str, size: int) -> bool:
    """True when the file at ``path`` has ``size`` bytes whose SHA-256 is ``blob``."""
    try:
        if path.stat().st_size != size:
            return False
        return hash_file(path)[0] == blob
    except OSError:
        return False


def materialize(store: Path, blob: str, size: int, dest: Path, label: str) -> None:
    """Write blob ``blob`` to ``dest`` (via a temporary file), checking its SHA-256; an
    :class:`ArtifactIntegrityError` naming ``label`` when the bytes do not match."""
    if verify(dest, blob, size):
        return  # already there and intact
    source = blobs.path_of(store, blob)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        name, got, tmp = _copy_hashing(source, dest.parent)
    except FileNotFoundError:
        raise ArtifactIntegrityError(
            f"{label}: its bytes (blob {blob}) are missing from {blobs.blob_dir(store)}") from None
    if name != blob or got != size:
        _unlink(tmp)
        raise ArtifactIntegrityError(
            f"{label}: the stored bytes do not match their SHA-256 (expected {blob}, read"
            f" {name}, {got} bytes); the blob store was changed")
    os.replace(tmp, dest)
