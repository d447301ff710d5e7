"""Input for ``LoadedModel.predict``, converted per the model's signature.

Column signatures give a DataFrame with the signature's columns in its order and types
(from a DataFrame, a dict of columns, a row dict, a list of row dicts, or rows/an array in
column order); extra columns are dropped, missing ones are an error. A tensor signature
gives a numpy array of its dtype whose fixed dimensions are checked. Without a signature
the data goes through as given (lists become arrays).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nbtrack.models.signature import Spec, as_array, is_dataframe, is_series, is_tensor

_PANDAS_TYPES = {"boolean": "bool", "integer": "int32", "long": "int64", "float": "float32",
                 "double": "float64"}


def prepare(data: Any, inputs: Sequence[Spec] | None) -> Any:
    """``data`` converted for a model whose input specs are ``inputs``."""
    if not inputs:
        return as_array(data) if isinstance(data, (list, tuple)) else data
    if len(inputs) == 1 and inputs[0]["type"] == "tensor":
        return _tensor(data, inputs[0])
    return _frame(data, inputs)


def _tensor(data: Any, spec: Spec) -> Any:
    if isinstance(data, Mapping) or (
            isinstance(data, (list, tuple)) and data and isinstance(data[0], Mapping)):
        raise ValueError("this model takes an array (a tensor of shape"
                         f" {spec.get('shape')}), not named columns")
    if is_dataframe(data) or is_series(data):
        data = data.to_numpy()
    if is_tensor(data) and not hasattr(data, "detach"):
        data = as_array(data)
    dtype = spec.get("dtype")
    try:
        array = as_array(data).astype(dtype, copy=False) if dtype else as_array(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot convert the input to a {dtype} tensor: {exc}") from None
    shape = spec.get("shape") or []
    if shape and (array.ndim != len(shape) or any(
            want not in (-1, got) for want, got in zip(shape, array.shape))):
        raise ValueError(f"this model takes a tensor of shape {shape} (-1: any size), got"
                         f" shape {list(array.shape)}")
    return array


def _frame(data: Any, inputs: Sequence[Spec]) -> Any:
    import pandas as pd

    names = [s.get("name") for s in inputs]
    if is_series(data):
        data = data.to_frame()
    if is_dataframe(data):
        frame = data
    elif isinstance(data, Mapping):
        scalar = all(not hasattr(v, "__len__") or isinstance(v, (str, bytes))
                     for v in data.values())
        frame = pd.DataFrame([data] if scalar else dict(data))
    elif isinstance(data, (list, tuple)) and data and all(isinstance(r, Mapping) for r in data):
        frame = pd.DataFrame(list(data))
    else:
        array = as_array(data)
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != len(inputs):
            raise ValueError(f"this model takes {len(inputs)} columns"
                             f" ({', '.join(str(n) for n in names)}); got an array of shape"
                             f" {list(array.shape)}")
        frame = pd.DataFrame(array, columns=[n if n is not None else i
                                             for i, n in enumerate(names)])
    if all(n is not None for n in names):
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise ValueError(f"missing input columns: {', '.join(map(str, missing))} (the model"
                             f" takes {', '.join(map(str, names))})")
        frame = frame[names]
    elif frame.shape[1] != len(inputs):
        raise ValueError(f"this model takes {len(inputs)} columns, got {frame.shape[1]}")
    converted = {}
    for column, spec in zip(frame.columns, inputs):
        converted[column] = _column(frame[column], spec)
    return pd.DataFrame(converted, index=frame.index)


def _column(values: Any, spec: Spec) -> Any:
    import pandas as pd

    kind = spec["type"]
    try:
        if kind in _PANDAS_TYPES and str(values.dtype) != _PANDAS_TYPES[kind]:
            return values.astype(_PANDAS_TYPES[kind])
        if kind == "datetime" and values.dtype.kind != "M":
            return pd.to_datetime(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {spec.get('name')!r} must be {kind}: {exc}") from None
    return values
