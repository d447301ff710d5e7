"""The MLflow tracking server, through MLflow's own client (``mlflow.tracking.MlflowClient``).

Credentials are MLflow's usual ones, read by its client from the environment
(``MLFLOW_TRACKING_TOKEN``, ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``...).
Every failure of a request becomes one :class:`SyncError` with a message saying what to do:
the server unreachable, credentials refused (401/403), or a request rejected (a batch).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

#: MLflow client settings while syncing, unless the user set them: few retries of a failed
#: request (MLflow's default, 7 with a backoff factor of 2, waits minutes before saying a
#: server is down), and no "View run at" lines printed (and fetched) per finished run.
_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}

_STATUS = re.compile(r"error code (\d{3})")
_UNREACHABLE = ("Max retries exceeded", "Connection refused", "ConnectionError",
                "NewConnectionError", "Failed to establish", "Name or service not known",
                "timed out")


class SyncError(Exception):
    """Syncing with the server failed; the message says why and what to do."""


def check_url(url: str) -> str:
    """``url`` without a trailing slash; a ``ValueError`` unless it is ``http(s)://host...``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an MLflow tracking server URL: {url!r} (expected http(s)://host:port)")
    return url.rstrip("/")


class Server:
    """One tracking server: ``call`` runs a client method and translates its errors."""

    def __init__(self, url: str) -> None:
        from mlflow.tracking import MlflowClient

        self.url = check_url(url)
        self.client: Any = MlflowClient(tracking_uri=self.url, registry_uri=self.url)
        self.requests = 0

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``; any failure raised as a :class:`SyncError` about ``what``."""
        self.requests += 1
        try:
            return fn(*args, **kwargs)
        except SyncError:
            raise
        except Exception as exc:  # noqa: BLE001 - every client failure becomes one SyncError
            raise SyncError(explain(self.url, what, exc)) from exc

    def find_error(self, exc: BaseException) -> str | None:
        """The MLflow error code of ``exc`` (``RESOURCE_DOES_NOT_EXIST``...), if it has one."""
        cause = exc.__cause__ if isinstance(exc, SyncError) else exc
        code = getattr(cause, "error_code", None)
        return str(code) if code else None


def explain(url: str, what: str, exc: BaseException) -> str:
    """One clear sentence for a failed request."""
    text = str(exc).strip()
    status = _http_status(exc, text)
    if status in (401, 403):
        return (
            f"the MLflow server at {url} refused the credentials ({status} while {what}):"
            " set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or"
            " MLFLOW_TRACKING_TOKEN) to an account allowed to write there"
        )
    if status is None and any(marker in text for marker in _UNREACHABLE):
        return f"cannot reach the MLflow server at {url} ({what}): is it running? ({_first(text)})"
    code = getattr(exc, "error_code", None)
    detail = f"{code}: {_first(text)}" if code else _first(text)
    return f"the MLflow server at {url} rejected {what}: {detail}"


def _http_status(exc: BaseException, text: str) -> int | None:
    code = getattr(exc, "error_code", None)
    if code in ("UNAUTHENTICATED",):
        return 401
    if code in ("PERMISSION_DENIED",):
        return 403
    found = _STATUS.search(text)
    if found:
        return int(found.group(1))
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _first(text: str) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 300 else line[:297] + "..."


@contextmanager
def quick_failures() -> Iterator[None]:
    """Within the block, a server that is down is reported in seconds (few retries) and the
    client prints nothing, unless the user set these MLflow variables; the environment is
    restored afterwards."""
    previous = {name: os.environ.get(name) for name in _RETRIES}
    for name, value in _RETRIES.items():
        if previous[name] is None:
            os.environ[name] = value
    try:
        yield
    finally:
        for name in _RETRIES:
            if previous[name] is None:
                os.environ.pop(name, None)
