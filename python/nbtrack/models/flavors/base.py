"""What every flavor is: how to recognise a model, save it natively, load it and predict.

Recognising a model never imports a framework: a flavor looks at the names of the modules
that define the classes in the model's MRO (a framework object exists only if its framework
is already in ``sys.modules``).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Protocol

#: Pickle protocol of the pickled formats (fixed, so the same model gives the same bytes).
PICKLE_PROTOCOL = 5


class Flavor(Protocol):
    """A model format: ``name`` (the ``flavor`` of ``nbtrack-model.json``)."""

    name: str

    def detects(self, model: Any) -> bool:
        """True when ``model`` is of this flavor."""

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        """Write ``model`` under ``folder`` (the artifact's ``model/``); the ``files`` entry
        of ``nbtrack-model.json`` (paths relative to the artifact's root)."""

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        """The native model from the artifact folder ``root``."""

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        """The native model's predictions for ``data`` (already converted per signature)."""

    def packages(self, model: Any) -> list[str]:
        """The distributions (pip names) the model needs besides Python."""

    def pickled(self, files: dict[str, Any]) -> bool:
        """True when loading runs code from the files (unpickling, imports): such a model
        loads only with this workspace's mark or ``trusted=True``."""


def class_modules(model: Any) -> list[str]:
    """The modules defining the classes of ``model``'s MRO, most derived first."""
    return [getattr(cls, "__module__", "") or "" for cls in type(model).__mro__]


def from_package(module: str, package: str) -> bool:
    """True when ``module`` is ``package`` or inside it."""
    return module == package or module.startswith(package + ".")


def in_mro(model: Any, package: str) -> bool:
    """True when a class of ``model``'s MRO is defined in ``package``."""
    return any(from_package(m, package) for m in class_modules(model))


def own_class(model: Any, package: str) -> bool:
    """True when ``model``'s own class is defined in ``package`` (not a user subclass)."""
    return from_package(type(model).__module__ or "", package)


def dump_pickle(model: Any, path: Path) -> None:
    """Pickle ``model`` to ``path`` (by reference to its classes, as pickle does)."""
    try:
        data = pickle.dumps(model, protocol=PICKLE_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TypeError(f"cannot pickle {type(model).__name__}: {exc}") from None
    path.write_bytes(data)


def load_pickle(path: Path) -> Any:
    """Unpickle ``path`` (only ever called once the model is trusted)."""
    with open(path, "rb") as f:
        return pickle.load(f)  # noqa: S301 - checked by nbtrack.models.trust first


def call_predict(model: Any, method: str, data: Any, params: dict[str, Any] | None) -> Any:
    """``model.<method>(data, **params)``."""
    return getattr(model, method)(data, **(params or {}))
