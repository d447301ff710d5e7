"""The packages a model needs: installed versions from ``importlib.metadata``."""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Iterable


def version_of(distribution: str) -> str | None:
    """The installed version of ``distribution`` (a pip name), or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def distribution_of(module: str) -> str | None:
    """The distribution that provides the top-level package of ``module`` (None for the
    standard library, ``__main__`` and modules no installed distribution provides)."""
    top = module.partition(".")[0]
    if not top or top == "__main__":
        return None
    try:
        dists = importlib.metadata.packages_distributions().get(top)
    except Exception:  # noqa: BLE001 - broken metadata must not stop logging a model
        return None
    return dists[0] if dists else None


def versions(distributions: Iterable[str]) -> dict[str, str]:
    """``{distribution: version}`` of those installed, in the given order."""
    found: dict[str, str] = {}
    for dist in distributions:
        version = version_of(dist)
        if version is not None and dist not in found:
            found[dist] = version
    return found


def python_version() -> str:
    """``"3.11.7"``."""
    return platform.python_version()
