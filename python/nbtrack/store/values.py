"""How params and variable values are kept in SQLite columns with no type affinity."""

from __future__ import annotations

import json
import math
from typing import Any

#: A param value after encoding: (value for the column, kind).
Encoded = tuple[Any, str]


def to_jsonable(value: Any) -> Any:
    """Turn ``value`` into plain JSON data: numpy scalars via ``.item()``, tuples to lists.

    Anything that is not JSON data becomes its ``repr()`` string.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        try:
            return to_jsonable(item())
        except Exception:  # noqa: BLE001 - fall through to repr
            pass
    return repr(value)


def encode_param(value: Any) -> Encoded:
    """Encode one param value for the ``params`` table."""
    value = to_jsonable(value)
    if value is None:
        return None, "none"
    if isinstance(value, bool):
        return int(value), "bool"
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return value, "int"
        return str(value), "bigint"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan", "float_special"
        if math.isinf(value):
            return ("inf" if value > 0 else "-inf"), "float_special"
        return value, "float"
    if isinstance(value, str):
        return value, "str"
    return json.dumps(value, sort_keys=True), "json"


def decode_param(value: Any, kind: str) -> Any:
    """Inverse of :func:`encode_param`."""
    if kind == "none":
        return None
    if kind == "bool":
        return bool(value)
    if kind == "bigint":
        return int(value)
    if kind == "float_special":
        return float(value)
    if kind == "float":
        return float(value)
    if kind == "json":
        return json.loads(value)
    return value


def decode_metric(value: float | None) -> float:
    """SQLite keeps NaN as NULL; a metric value is never None, so NULL reads back as NaN."""
    return math.nan if value is None else value
