"""Where ``nbtrack serve`` gets its model: :class:`StoreSource` (a model ref in the store), or
:class:`PickleSource` (a pickled object with ``predict``; development and benchmarks only).

``StoreSource`` keys are artifact version ids. Its refs are registered versions
(``name@alias``, ``name/3``, ``models:/name@alias``, ``models:/name/3``), artifacts of type
``model`` (``name``, ``name:v3``, ``name:alias``) and ``runs:/<run>/<name>``, all resolved by
``nbtrack.models.refs.resolve``. The model is loaded with ``nbtrack.models.load_version(db_path,
version_id, trusted=...)``. Both are imported when used (they bring in the frameworks).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from nbtrack.serving.holder import Predictor
from nbtrack.store import access

MODEL_TYPE = "model"


def is_fixed_ref(ref: str) -> bool:
    """Whether ``ref`` names one version for good (nothing to follow)."""
    tail = ref.removeprefix("models:/")
    if ref.startswith("runs:/"):
        return True
    if "@" in tail:
        return False
    if "/" in tail:
        return tail.rsplit("/", 1)[1].isdigit()
    selector = tail.partition(":")[2]
    return selector[:1] == "v" and selector[1:].isdigit()


def resolve_version_id(db: Any, ref: str) -> int:
    """The artifact version id ``ref`` names now, checked to be a model (``LookupError`` when
    it names nothing, ``ValueError`` when it is no model or not a reference)."""
    from nbtrack.models.refs import resolve
    from nbtrack.store import artifacts as stored

    row = stored.version(db, resolve(db, ref))
    if row.type != MODEL_TYPE:
        raise ValueError(f"{row.name}:v{row.number} is a {row.type!r} artifact, not a model")
    return row.id


class StoreSource:
    """The model ``ref`` names in the store at ``db_path``."""

    def __init__(self, db_path: Path, ref: str, *, trusted: bool = False) -> None:
        self.db_path = db_path
        self.ref = ref
        self.trusted = trusted

    def current_key(self) -> str:
        with access.reading(self.db_path) as db:
            return str(resolve_version_id(db, self.ref))

    def load(self, key: str) -> Predictor:
        from nbtrack.models import load_version

        return load_version(self.db_path, int(key), trusted=self.trusted)


class PickleSource:
    """A pickled object with ``predict`` at ``path``; a new file there is a new model.

    Unpickling runs code from the file: for your own files only (``--model-pickle`` is a hidden
    development option).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def current_key(self) -> str:
        stat = os.stat(self.path)
        return f"{self.path.name}@{stat.st_mtime_ns}-{stat.st_size}-{stat.st_ino}"

    def load(self, key: str) -> Predictor:
        with open(self.path, "rb") as f:
            model: Predictor = pickle.load(f)  # noqa: S301 - the user's own file, see above
        return model
