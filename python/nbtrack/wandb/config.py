"""``wandb.config``: the run's params, with W&B's rules.

Attribute and item access (``config.lr``, ``config["lr"]``); ``update`` takes a dict, an
``argparse.Namespace`` or anything with a ``__dict__`` (absl flags too); ``setdefaults`` adds
only missing keys; changing a key's value raises :class:`ConfigError` unless
``allow_val_change`` (on by default in a notebook, as in W&B). Leading dashes are stripped
from keys (``--lr`` -> ``lr``). Every change is stored as the nbtrack run's params at once.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from nbtrack.wandb.errors import ConfigError, UsageError


def parse_config(params: Any, exclude: Sequence[str] | None = None,
                 include: Sequence[str] | None = None) -> dict[str, Any]:
    """A dict from what W&B takes as a config: a dict, a Config, an argparse Namespace,
    absl flags, a YAML file path, or any object with a ``__dict__``."""
    if exclude and include:
        raise UsageError("Expected at most only one of exclude or include")
    if isinstance(params, str):
        params = _yaml(params)
    out = _to_dict(params)
    if include:
        out = {k: v for k, v in out.items() if k in include}
    if exclude:
        out = {k: v for k, v in out.items() if k not in exclude}
    return out


def _yaml(path: str) -> dict[str, Any]:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError as exc:
        raise UsageError(f"a config file ({path}) needs PyYAML: pip install pyyaml") from exc
    try:
        with open(path, encoding="utf-8") as f:
            loaded = yaml.safe_load(f) or {}
    except OSError as exc:
        raise UsageError(f"Couldn't read config file: {path} ({exc})") from None
    # W&B's config-defaults.yaml form: {key: {"value": v, "desc": ...}}
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v)
            for k, v in dict(loaded).items() if k != "wandb_version"}


def _to_dict(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Config):
        return dict(params.items())
    if isinstance(params, Mapping):
        return dict(params)
    meta = inspect.getmodule(params)
    if isinstance(params, types.ModuleType) and getattr(params, "FLAGS", None) is not None:
        params = params.FLAGS
        meta = inspect.getmodule(params)
    if meta is not None and meta.__name__.startswith("absl.flags"):
        return {name: params[name].value for name in dir(params)}
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    if not hasattr(params, "__dict__"):
        raise TypeError("config must be a dict or have a __dict__ attribute.")
    return dict(vars(params))


def _friendly(value: Any) -> Any:
    """W&B's ``json_friendly_val``: dicts and sequences element-wise, numpy scalars as
    numbers, slices and dataclasses as dicts, other objects as their text."""
    if isinstance(value, Mapping):
        return {str(k): _friendly(v) for k, v in value.items()}
    if isinstance(value, slice):
        return {"slice_start": value.start, "slice_step": value.step,
                "slice_stop": value.stop}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _friendly(dataclasses.asdict(value))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_friendly(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars, torch tensors
    if callable(tolist):
        try:
            return _friendly(tolist())
        except Exception:  # noqa: BLE001
            pass
    return str(value)


class Config:
    """A run's config, kept here and stored as the nbtrack run's params on every change.

    Examples
    --------
    >>> run.config.update({"lr": 0.1}); run.config.lr  # doctest: +SKIP
    0.1
    """

    def __init__(self, persist: Callable[[dict[str, Any]], None] | None = None,
                 allow_val_change: bool = False) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_persist", persist)
        object.__setattr__(self, "_allow", allow_val_change)

    # -- reading -----------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"{type(self)!r} object has no attribute {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return [k for k in self._items if not k.startswith("_")]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self._items.items() if not k.startswith("_")]

    def values(self) -> list[Any]:
        return [v for _, v in self.items()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.items())

    def __repr__(self) -> str:
        return str(self.as_dict())

    # -- writing -----------------------------------------------------------------------
    def __setitem__(self, key: str, value: Any) -> None:
        self._store(self._sanitize({key: value}, None))

    __setattr__ = __setitem__

    def __delitem__(self, key: str) -> None:
        raise ConfigError("W&B's config keys cannot be deleted")

    def update(self, d: Any = None, allow_val_change: bool | None = None) -> None:
        """Set several keys (a dict, an argparse Namespace...); a changed value raises
        :class:`ConfigError` unless ``allow_val_change``."""
        self._store(self._sanitize(parse_config(d), allow_val_change))

    def setdefaults(self, d: Any) -> None:
        """Set the keys of ``d`` that are not set yet."""
        fresh = {k: v for k, v in parse_config(d).items() if k.strip("-") not in self._items}
        self._store(self._sanitize(fresh, None))

    def persist(self) -> None:
        """Store every key again (W&B's ``Config.persist``)."""
        self._store(dict(self._items))

    def _sanitize(self, data: Mapping[str, Any], allow: bool | None) -> dict[str, Any]:
        if allow is None:
            allow = self._allow
        out: dict[str, Any] = {}
        for raw, value in data.items():
            if not isinstance(raw, str):
                raise TypeError(f"config keys must be strings, not {raw!r}")
            key = raw.strip("-")
            if not key:
                raise ValueError(f"config key {raw!r} is empty once its dashes are stripped")
            if _is_media(value):
                raise TypeError("WBValue objects cannot be added to the run config")
            value = _friendly(value)
            if not allow and key in self._items and value != self._items[key]:
                raise ConfigError(
                    f'Attempted to change value of key "{key}" from {self._items[key]} to'
                    f" {value}\nIf you really want to do this, pass allow_val_change=True to"
                    " config.update()")
            out[key] = value
        return out

    def _store(self, data: dict[str, Any]) -> None:
        if not data:
            return
        self._items.update(data)
        if self._persist is not None:
            self._persist(data)


def _is_media(value: Any) -> bool:
    from nbtrack.media.values import Media

    return isinstance(value, Media)


__all__ = ["Config", "parse_config"]
