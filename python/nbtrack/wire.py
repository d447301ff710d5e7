"""JSON for the wire: the one place NaN and infinities become ``null``.

JSON has no NaN or infinity (browsers reject them), but metric values may be either. Every
response, ``--json`` output, widget trait and report payload goes through :func:`finite` (or
:func:`dumps`), so they all write non-finite numbers the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any


def finite(value: Any, default: Callable[[Any], Any] | None = None) -> Any:
    """A JSON-safe copy of ``value``: non-finite floats become None, tuples lists, mapping
    keys text; anything else is kept, or passed through ``default`` when given."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, float):
        return value if value - value == 0.0 else None  # inf - inf and nan - nan are NaN
    if isinstance(value, Mapping):
        return {k if type(k) is str else str(k): finite(v, default) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v, default) for v in value]
    if isinstance(value, int):  # an int subclass (not bool: handled above)
        return value
    return value if default is None else default(value)


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text of ``value`` with non-finite numbers as ``null`` (compact unless ``indent``)."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(finite(value), allow_nan=False, ensure_ascii=False, indent=indent,
                      separators=separators)
