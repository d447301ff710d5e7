"""Where ``nbtrack serve`` gets its model: :class:`StoreSource` (a model ref in the store), or
:class:`PickleSource` (a pickled object with ``predict``; development and benchmarks only).

``StoreSource`` keys are artifact version ids. Refs:

- registry refs ``name@alias``, ``name/3``, ``models:/name@alias``, ``models:/name/3``:
  ``nbtrack.registry.resolve_version(db, ref)``;
- ``runs:/<run>/<name>``: ``nbtrack.models.refs.resolve_run_ref(db, ref)``;
- artifact refs ``name``, ``name:v3``, ``name:alias`` (an artifact of type ``model``): the
  artifact store.

The model is loaded with ``nbtrack.models.load_version(db_path, version_id, trusted=...)``.
Those modules are imported when used.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbtrack.serving.holder import Predictor
from nbtrack.store import access

MODEL_TYPE = "model"


def is_registry_ref(ref: str) -> bool:
    """``models:/...``, ``name@alias`` and ``name/3`` name registered model versions."""
    if ref.startswith("runs:/"):
        return False
    return ref.startswith("models:/") or "@" in ref or "/" in ref


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


def _provided(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported now (the model and registry packages load heavy frameworks)."""
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def resolve_version_id(db: Any, ref: str) -> int:
    """The artifact version id ``ref`` names now (raises ``LookupError`` or ``ValueError``)."""
    if ref.startswith("runs:/"):
        return int(_provided("nbtrack.models.refs", "resolve_run_ref")(db, ref))
    if is_registry_ref(ref):
        return int(_provided("nbtrack.registry", "resolve_version")(db, ref))
    from nbtrack.artifacts.names import parse_ref
    from nbtrack.store import artifacts as stored

    row = stored.resolve(db, *parse_ref(ref))
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
        load_version = _provided("nbtrack.models", "load_version")
        model: Predictor = load_version(self.db_path, int(key), trusted=self.trusted)
        return model


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
