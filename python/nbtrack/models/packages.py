"""The packages a model needs: installed versions from ``importlib.metadata``.

Read once per process (reading package metadata costs milliseconds a call, and autolog logs a
model per fit), as the run's environment capture does: a package upgraded in a running kernel
shows its new version after a restart, which it needs anyway to be imported anew.
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
from collections.abc import Iterable, Mapping


@functools.lru_cache(maxsize=512)
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
    dists = _top_level_distributions().get(top)
    return dists[0] if dists else None


@functools.lru_cache(maxsize=1)
def _top_level_distributions() -> Mapping[str, list[str]]:
    try:
        return importlib.metadata.packages_distributions()
    except Exception:  # noqa: BLE001 - broken metadata must not stop logging a model
        return {}


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
