"""``run.summary``: one value per key, W&B's way.

A logged number's summary is its last value, or the dict of ``define_metric`` summary ops
(``{"min": 0.1, "mean": 0.3}``); a key set here (``summary["best_acc"] = 0.9``) keeps that
value until the key is logged again. Values set here are stored at once as the nbtrack run's
explicit summary values; the ops dicts (and any key whose set value a later log replaced) are
stored when the run finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class Summary:
    """Dict-like summary of a W&B-style run (``summary[key]``, ``summary.key``,
    ``update``, ``get``, ``keys``, ``items``)."""

    def __init__(self, persist: Callable[[str, Any], None] | None = None) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_explicit", set())
        object.__setattr__(self, "_persist", persist)

    # -- fed by the run --------------------------------------------------------------------
    def _logged(self, values: Mapping[str, Any]) -> None:
        """Values a written row changed (None: the key has no summary)."""
        for key, value in values.items():
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value

    def _to_store(self, defined: set[str]) -> dict[str, Any]:
        """What the store's own summary (last values) does not already say."""
        out = {k: self._values.get(k) for k in defined}
        for key in self._explicit:
            if key in self._values:
                out[key] = self._values[key]
        return out

    # -- the user's side -----------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __setattr__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        del self._values[key]
        self._explicit.discard(key)
        if self._persist is not None:
            self._persist(key, None)

    __delattr__ = __delitem__

    def update(self, d: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Set several summary values."""
        data = {**dict(d or {}), **kwargs}
        for key, value in data.items():
            if not isinstance(key, str) or not key:
                raise TypeError(f"summary keys must be non-empty strings, not {key!r}")
            self._values[key] = value
            self._explicit.add(key)
            if self._persist is not None:
                self._persist(key, value)

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def keys(self) -> list[str]:
        return [k for k in self._values if not k.startswith("_")]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, self._values[k]) for k in self.keys()]

    def values(self) -> list[Any]:
        return [self._values[k] for k in self.keys()]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __repr__(self) -> str:
        return repr(dict(self.items()))


__all__ = ["Summary"]
