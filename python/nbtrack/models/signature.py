"""Signatures (MLflow's column and tensor specs, as JSON) inferred from an input example and
the model's predictions on it, and input examples written as JSON.

A DataFrame (or a list of row dicts, or a dict of columns) gives one column spec per column
(``{"name", "type"}``, ``type`` one of ``boolean, integer, long, float, double, string,
binary, datetime``); an array (or a tensor, or a list of rows) gives one tensor spec
(``{"name": None, "type": "tensor", "dtype", "shape"}`` with ``-1`` for the batch size).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

#: Column types (MLflow's DataType names).
COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary",
                "datetime")


class Spec(TypedDict, total=False):
    """One input or output: a named column or a tensor."""

    name: str | None
    type: str
    dtype: str
    shape: list[int]


class Signature(TypedDict):
    """``inputs`` and ``outputs`` (None when unknown)."""

    inputs: list[Spec]
    outputs: list[Spec] | None


def is_dataframe(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "dtypes")


def is_series(data: Any) -> bool:
    return type(data).__name__ == "Series" and hasattr(data, "dtype")


def is_tensor(data: Any) -> bool:
    """A torch tensor (or anything array-like that converts with ``.numpy()``)."""
    return type(data).__module__.partition(".")[0] in ("torch", "jax", "jaxlib", "tensorflow")


def as_array(data: Any) -> Any:
    import numpy as np

    if is_tensor(data) and hasattr(data, "detach"):
        return data.detach().cpu().numpy()
    return np.asarray(data)


def column_type(dtype: Any) -> str:
    """The column type of a numpy/pandas dtype."""
    import numpy as np

    try:
        np_dtype = np.dtype(dtype)
    except TypeError:  # a pandas extension dtype
        name = str(dtype).lower()
        if name in ("string", "str", "category"):
            return "string"
        if name == "boolean":
            return "boolean"
        if name.startswith(("int", "uint")):
            return "long" if "64" in name else "integer"
        if name.startswith("float"):
            return "double" if "64" in name else "float"
        if name.startswith("datetime"):
            return "datetime"
        return "string"
    kind = np_dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer" if np_dtype.itemsize <= 4 and kind == "i" else "long"
    if kind == "f":
        return "float" if np_dtype.itemsize <= 4 else "double"
    if kind == "M":
        return "datetime"
    if kind == "S":
        return "binary"
    return "string"


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, bytes):
        return "binary"
    if hasattr(value, "dtype"):
        return column_type(value.dtype)
    return "string"


def _tensor(array: Any) -> Spec:
    shape = [-1, *(int(n) for n in array.shape[1:])] if array.ndim else []
    return Spec(name=None, type="tensor", dtype=str(array.dtype), shape=shape)


def _columns_of_records(rows: list[Mapping[str, Any]]) -> list[Spec]:
    names: dict[str, str] = {}
    for row in rows:
        for key, value in row.items():
            if value is not None and str(key) not in names:
                names[str(key)] = _value_type(value)
            names.setdefault(str(key), "string")
    return [Spec(name=k, type=t) for k, t in names.items()]


def infer_schema(data: Any) -> list[Spec] | None:
    """The specs of ``data``; None when its shape says nothing (a scalar, None)."""
    if data is None:
        return None
    if is_dataframe(data):
        return [Spec(name=str(c), type=column_type(t)) for c, t in data.dtypes.items()]
    if is_series(data):
        name = None if data.name is None else str(data.name)
        return [Spec(name=name, type=column_type(data.dtype))]
    if isinstance(data, Mapping):
        if _scalars(data):
            return _columns_of_records([data])
        return [Spec(name=str(k), type=column_type(as_array(v).dtype)) for k, v in data.items()]
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, Mapping) for r in data):
        return _columns_of_records(list(data))
    if isinstance(data, (str, bytes, int, float, bool)):
        return None
    try:
        array = as_array(data)
    except (TypeError, ValueError):
        return None
    if array.dtype == object or not array.ndim:
        return None
    return [_tensor(array)]


def infer_signature(example: Any, output: Any) -> Signature:
    """The signature of a model given ``example`` and its predictions on it."""
    inputs = infer_schema(example)
    if inputs is None:
        raise ValueError(
            f"cannot infer a signature from an input example of type {type(example).__name__}:"
            " give a DataFrame, an array, a list of rows or of row dicts, or a dict of columns")
    return Signature(inputs=inputs, outputs=infer_schema(output))


def check_signature(signature: Any) -> Signature:
    """``signature`` if it has the shape of :class:`Signature`, else a ValueError."""
    if not isinstance(signature, Mapping) or not isinstance(signature.get("inputs"), list):
        raise ValueError("signature must be a dict {'inputs': [specs], 'outputs': [specs] or"
                         " None}; see nbtrack.models.signature")
    outputs = signature.get("outputs")
    for spec in [*signature["inputs"], *(outputs or [])]:
        if not isinstance(spec, Mapping) or spec.get("type") not in (*COLUMN_TYPES, "tensor"):
            raise ValueError(f"signature spec {spec!r}: 'type' must be one of"
                             f" {', '.join(COLUMN_TYPES)}, tensor")
        if spec["type"] == "tensor" and ("dtype" not in spec or "shape" not in spec):
            raise ValueError(f"tensor spec {spec!r} needs 'dtype' and 'shape'")
    json.dumps(signature)
    return Signature(inputs=[Spec(**s) for s in signature["inputs"]],  # type: ignore[typeddict-item]
                     outputs=None if outputs is None else [Spec(**s) for s in outputs])  # type: ignore[typeddict-item]


def example_json(example: Any) -> dict[str, Any]:
    """``example`` as MLflow writes ``input_example.json``: ``{"columns", "data"}`` for
    tables, ``{"inputs": nested lists}`` for arrays."""
    if is_dataframe(example):
        split = json.loads(example.to_json(orient="split", index=False, date_format="iso"))
        return {"columns": split["columns"], "data": split["data"]}
    if is_series(example):
        return example_json(example.to_frame())
    if isinstance(example, Mapping) and not _scalars(example):  # a dict of columns
        columns = [str(k) for k in example]
        data = [list(r) for r in zip(*(as_array(v).tolist() for v in example.values()))]
        return _json({"columns": columns, "data": data})
    rows = [example] if isinstance(example, Mapping) else example
    if isinstance(rows, (list, tuple)) and rows and all(isinstance(r, Mapping) for r in rows):
        columns = [s["name"] or "" for s in _columns_of_records(list(rows))]
        return _json({"columns": columns, "data": [[r.get(c) for c in columns] for r in rows]})
    return {"inputs": as_array(example).tolist()}


def _scalars(row: Mapping[str, Any]) -> bool:
    return all(isinstance(v, (str, bytes, int, float, bool)) or v is None for v in row.values())


def _json(value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(value, default=_plain))
    return result


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
