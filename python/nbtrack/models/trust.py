"""Which models may be loaded: those this workspace's own ``log_model`` wrote.

Loading most formats runs code (unpickling, importing a rebuild function, TorchScript, a
Keras config naming classes). So ``log_model`` stores in the version's metadata a *mark*:
an HMAC-SHA256, keyed by a secret of this workspace (``.nbtrack/model-key``, created with
mode 0600 the first time a model is logged), of the version's manifest digest (which covers
every file's SHA-256). Loading recomputes the digest from the stored manifest, checks the
mark, and checks each file against its SHA-256 while copying it out. An artifact logged by
plain ``log_artifact``, a store or model folder from elsewhere, or a changed file has no
valid mark: loading it raises :class:`UntrustedModelError` unless ``trusted=True``.

Formats parsed by the framework's own data reader without running code load without the
mark: XGBoost's ``.ubj`` (the wrapper class comes from a fixed list) and LightGBM's text
booster. Whoever can read the key (it sits in the store) can mark models: copying the key
along with a store carries its trust.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILENAME = "model-key"
MARK_KEY = "nbtrack_mark"


class UntrustedModelError(PermissionError):
    """The model's files would run code when loaded and this workspace did not log them."""


def _key_path(store: Path) -> Path:
    return store / KEY_FILENAME


def _read_key(store: Path) -> bytes | None:
    try:
        key = _key_path(store).read_bytes().strip()
    except FileNotFoundError:
        return None
    return key or None


def key(store: Path) -> bytes:
    """This workspace's secret (created, mode 0600, when missing; race-free)."""
    found = _read_key(store)
    if found is not None:
        return found
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".{KEY_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_hex(32).encode())
        try:
            os.link(tmp, _key_path(store))  # fails if another process made it first
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    found = _read_key(store)
    if found is None:
        raise OSError(f"could not create the model key in {store}")
    return found


def _hmac(secret: bytes, digest: str) -> str:
    return hmac.new(secret, f"nbtrack-model:{digest}".encode(), hashlib.sha256).hexdigest()


def mark(store: Path, digest: str) -> str:
    """The mark of a version whose manifest digest is ``digest``."""
    return _hmac(key(store), digest)


def verify(store: Path, digest: str, found: object) -> bool:
    """True when ``found`` is this workspace's mark of ``digest`` (never creates the key)."""
    secret = _read_key(store)
    if secret is None or not isinstance(found, str):
        return False
    return hmac.compare_digest(_hmac(secret, digest), found)
