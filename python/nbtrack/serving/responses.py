"""Predictions and errors as MLflow's scoring server writes them.

Predictions: ``{"predictions": ...}`` where a numpy array becomes a (nested) list, a DataFrame
a list of records (``[{column: value}, ...]``), a Series a one-column DataFrame's records, and
numpy scalars, bytes (base64) and dates (ISO 8601) their JSON equivalents - MLflow's
``predictions_to_json`` with its ``NumpyEncoder``. Errors: ``{"error_code": "BAD_REQUEST",
"message": "..."}``, never a stack trace.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

BAD_REQUEST = "BAD_REQUEST"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
INTERNAL_ERROR = "INTERNAL_ERROR"


def jsonable(raw: Any) -> Any:
    """``raw`` predictions made JSON-able the way MLflow does (records for DataFrames)."""
    import numpy as np

    if isinstance(raw, np.ndarray):
        return raw.tolist()
    module = type(raw).__module__
    if module.startswith("pandas"):
        import pandas as pd

        if isinstance(raw, pd.DataFrame):
            return raw.to_dict(orient="records")
        if isinstance(raw, pd.Series):
            return pd.DataFrame(raw).to_dict(orient="records")
    return raw


class _Encoder(json.JSONEncoder):
    """MLflow's ``NumpyEncoder``: what ``json`` cannot write, numpy/pandas/bytes/dates."""

    def default(self, o: Any) -> Any:
        import numpy as np

        if isinstance(o, np.ndarray):
            if o.dtype == object:
                return [self.default(x) if not _plain(x) else x for x in o.tolist()]
            if o.dtype.kind == "S":
                encode = np.vectorize(lambda x: base64.encodebytes(x).decode("ascii"),
                                      otypes=[str])
                return encode(o).tolist()
            return o.tolist()
        if isinstance(o, np.datetime64):
            return np.datetime_as_string(o)
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, (bytes, bytearray)):
            return base64.encodebytes(bytes(o)).decode("ascii")
        if isinstance(o, (datetime.date, datetime.datetime, datetime.time)):
            return o.isoformat()  # pandas.Timestamp is a datetime
        return super().default(o)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


def predictions_body(raw: Any) -> bytes:
    """The JSON body of a successful ``/invocations``.

    Raises
    ------
    TypeError
        The predictions hold something JSON cannot represent.
    """
    return json.dumps({"predictions": jsonable(raw)}, cls=_Encoder).encode()


def error_body(message: str, error_code: str = BAD_REQUEST) -> bytes:
    """The JSON body of a failed request, as MLflow shapes it."""
    return json.dumps({"error_code": error_code, "message": message}).encode()
