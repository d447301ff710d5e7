"""Request bodies of MLflow's scoring protocol -> what a model's ``predict`` receives.

``POST /invocations`` takes (as ``mlflow models serve`` does):

- ``Content-Type: application/json`` with exactly one of
  ``{"dataframe_split": {"columns": [...], "data": [[...]], "index": [...]}}``,
  ``{"dataframe_records": [{...}, ...]}`` (both -> a pandas DataFrame),
  ``{"instances": [...]}`` or ``{"inputs": ...}`` (-> a numpy array, or a dict of column name
  -> numpy array), plus an optional ``"params": {...}`` passed to ``predict(data, params=...)``;
- ``Content-Type: text/csv`` (a header row, then rows; -> a DataFrame);
- ``Content-Type: application/vnd.apache.parquet`` (-> a DataFrame; needs pyarrow).

Anything else raises :class:`PayloadError` with the message a client sees. One difference from
MLflow: unknown top-level JSON keys are an error here (MLflow ignores them when a format key is
present), so a typo such as ``"param"`` is reported instead of silently dropped.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

CSV = "text/csv"
JSON = "application/json"
PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (JSON, CSV, PARQUET)

DF_SPLIT = "dataframe_split"
DF_RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
FORMATS = (DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS)
PARAMS = "params"

REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields"
    f" {list(FORMATS)} (and optionally {PARAMS!r})"
)


class PayloadError(ValueError):
    """A request body or content type the server cannot read.

    ``status`` is 400 for a bad body and 415 for an unsupported content type; ``message`` is
    what the client is told.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Payload:
    """A parsed request: the model's input, its params, and the format it came in."""

    data: Any
    params: dict[str, Any] | None
    format: str


def parse(body: bytes, content_type: str | None) -> Payload:
    """Parse one ``/invocations`` body sent with ``content_type``.

    Raises
    ------
    PayloadError
        The content type is not supported (415) or the body is malformed (400).
    """
    mime = media_type(content_type)
    if mime == CSV:
        return Payload(_csv(body), None, "csv")
    if mime == PARQUET:
        return Payload(_parquet(body), None, "parquet")
    return _json(body)


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` header, checked as MLflow checks it (415 if not
    JSON, CSV or Parquet, if its charset is not UTF-8 or if it has other parameters)."""
    parts = [p.strip() for p in (content_type or "").split(";")]
    mime = parts[0].lower()
    if mime not in CONTENT_TYPES:
        got = f"Got {content_type!r}" if content_type else "Got no Content-Type header"
        raise PayloadError(
            f"This predictor only supports the following content types: {list(CONTENT_TYPES)}."
            f" {got}.", status=415)
    params = {k.strip().lower(): v.strip().strip('"')
              for k, _, v in (p.partition("=") for p in parts[1:] if p)}
    if params.get("charset", "utf-8").lower() != "utf-8":
        raise PayloadError("The scoring server only supports UTF-8", status=415)
    unexpected = sorted(set(params) - {"charset"})
    if unexpected:
        raise PayloadError(
            f"Unrecognized content type parameters: {', '.join(unexpected)}.", status=415)
    return mime


# -- JSON --------------------------------------------------------------------------------------

def _json(body: bytes) -> Payload:
    try:
        decoded = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as ex:
        raise PayloadError(
            f"Invalid input. Ensure that input is a valid JSON formatted string. Error: '{ex!r}'"
        ) from None
    if not isinstance(decoded, dict):
        kind = "a list" if isinstance(decoded, list) else f"a {type(decoded).__name__}"
        raise PayloadError(f"Invalid input. {REQUIRED_INPUT_FORMAT}. Received {kind}.")
    keys = list(decoded)
    formats = [k for k in keys if k in FORMATS]
    if len(formats) != 1:
        raise PayloadError(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {keys}.")
    unknown = [k for k in keys if k not in FORMATS and k != PARAMS]
    if unknown:
        raise PayloadError(
            f"Invalid input. Unknown field(s) {unknown} in the request. {REQUIRED_INPUT_FORMAT}.")
    params = decoded.get(PARAMS)
    if params is not None and not isinstance(params, dict):
        raise PayloadError(
            f"Invalid input. {PARAMS!r} must be a JSON object of parameter names to values,"
            f" got {_json_kind(params)}.")
    fmt = formats[0]
    value = decoded[fmt]
    if fmt == DF_SPLIT:
        data = _dataframe_split(value)
    elif fmt == DF_RECORDS:
        data = _dataframe_records(value)
    elif fmt == INSTANCES:
        data = _instances(value)
    else:
        data = _inputs(value)
    return Payload(data, params, fmt)


def _json_kind(value: object) -> str:
    return {list: "a list", dict: "an object", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null")


def _dataframe_split(value: Any) -> Any:
    import pandas as pd

    if not isinstance(value, dict):
        raise PayloadError(
            f"Invalid input. Dataframe split format must be a dictionary. Got {_json_kind(value)}.")
    keys = set(value)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise PayloadError(
            "Invalid input. Dataframe split format must have 'data' field and optionally"
            f" 'columns' and 'index' fields. Got {sorted(keys)}.")
    try:
        return pd.DataFrame(index=value.get("index"), columns=value.get("columns"),
                            data=value["data"])
    except Exception as ex:  # pandas raises ValueError, TypeError, AssertionError...
        raise PayloadError(
            "Invalid input. Provided dataframe_split field is not a valid dataframe"
            f" representation in 'split' format. Error: '{ex}'") from None


def _dataframe_records(value: Any) -> Any:
    import pandas as pd

    if not isinstance(value, list):
        raise PayloadError(
            "Invalid input. Dataframe records format must be a list of records."
            f" Got {_json_kind(value)}.")
    try:
        return pd.DataFrame(data=value)
    except Exception as ex:
        raise PayloadError(
            "Invalid input. Provided dataframe_records field is not a valid dataframe"
            f" representation in 'records' format. Error: '{ex}'") from None


def _instances(value: Any) -> Any:
    """TF-serving row format: a list of rows (-> array) or of ``{name: value}`` (-> columns)."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns: dict[str, list[Any]] = {}
        for row in value:
            for name, item in row.items():
                columns.setdefault(name, []).append(item)
        return _columns(columns)
    return _array(value)


def _inputs(value: Any) -> Any:
    """TF-serving column format: ``{name: values}`` (-> columns) or a tensor (-> array)."""
    if isinstance(value, dict):
        return _columns(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return _instances(value)
    return _array(value)


def _columns(columns: dict[str, Any]) -> dict[str, Any]:
    arrays = {name: _array(values) for name, values in columns.items()}
    lengths = {len(a) for a in arrays.values() if a.ndim > 0}
    if len(lengths) > 1:
        raise PayloadError(
            "Invalid input. The length of values for each input/column name are not the same")
    return arrays


def _array(value: Any) -> Any:
    import numpy as np

    try:
        return np.array(value)
    except ValueError as ex:  # ragged nested lists
        raise PayloadError(
            f"Invalid input. Ensure that the input is a valid JSON-formatted string.\nError: {ex}"
        ) from None


# -- CSV and Parquet ---------------------------------------------------------------------------

def _csv(body: bytes) -> Any:
    import pandas as pd

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise PayloadError(
            f"Invalid input. Ensure that input is a valid UTF-8 encoded string. Error: '{ex!r}'"
        ) from None
    try:
        return pd.read_csv(io.StringIO(text))
    except Exception as ex:
        raise PayloadError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid"
            " CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()`"
            f" method. Error: '{ex}'") from None


def _parquet(body: bytes) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(body))
    except Exception as ex:
        raise PayloadError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid"
            " Parquet Pandas DataFrame produced using the `pandas.DataFrame.to_parquet()`"
            f" method. Error: '{ex}'") from None
