"""What an MLflow tracking server accepts, and how nbtrack's names and values are made to fit.

The limits are MLflow's own (``mlflow/utils/validation.py``; a test compares them with the
installed mlflow): a ``log-batch`` request carries at most 1,000 metrics, 100 params and 100
tags, 1,000 entities in all and 1 MB of JSON; a param value is at most 6,000 characters, a tag
value 8,000, a key 250. Names may only hold letters, digits, ``_ - . / :`` and spaces, and must
not read as another path (``a//b``, ``./a``, ``/a``, ``a/``).

Every name or value that had to change is returned as a :class:`Change`, so the sync reports
it instead of changing it silently.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = int(1e6)
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_ENTITY_KEY_LENGTH = 250

#: A name MLflow accepts on every platform but Windows (``validate_param_and_metric_name``).
_ALLOWED = re.compile(r"^[/\w.\- :]*$")
_BAD_CHAR = re.compile(r"[^/\w.\- :]")

#: What a shortened value ends with, so a reader sees it was cut.
ELLIPSIS = "..."

#: Bytes a metric costs in a log-batch request beyond its key (value, timestamp, step, JSON).
_METRIC_OVERHEAD = 96
#: Room kept in each request for the run id and the JSON around the lists.
_REQUEST_MARGIN = 4096


@dataclass(frozen=True)
class Change:
    """A name or value that was changed to fit the server: ``kind`` is ``metric``,
    ``param``, ``tag`` (a renamed key), ``value`` (a shortened param or tag value) or
    ``immutable`` (a param changed here after it was synced: the server keeps the old one)."""

    run: str
    kind: str
    key: str
    detail: str

    def text(self) -> str:
        noun = {"immutable": "param", "value": "value of"}.get(self.kind, self.kind)
        return f"run {self.run}: {noun} {self.key!r}: {self.detail}"


def valid_name(name: str) -> bool:
    """True when MLflow accepts ``name`` as a metric, param or tag key as it is."""
    return (
        bool(name) and len(name) <= MAX_ENTITY_KEY_LENGTH and _ALLOWED.match(name) is not None
        and not _path_not_unique(name)
    )


def _path_not_unique(name: str) -> bool:
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


def clean_name(name: str) -> str:
    """``name`` with every character MLflow refuses replaced by ``_`` and path forms it
    refuses (empty, ``.``/``..`` segments, leading, trailing or doubled ``/``) straightened;
    too long a name is cut and given a short hash of the original to stay distinct."""
    if valid_name(name):
        return name
    text = _BAD_CHAR.sub("_", name)
    parts = [p if p not in (".", "..") else p.replace(".", "_") for p in text.split("/") if p]
    text = "/".join(parts) or "_"
    if len(text) > MAX_ENTITY_KEY_LENGTH:
        tag = hashlib.sha256(name.encode()).hexdigest()[:8]
        text = f"{text[:MAX_ENTITY_KEY_LENGTH - 9]}_{tag}"
    return text


class Names:
    """Local names -> the names sent to the server, one-to-one within a run.

    ``known`` are mappings made earlier (kept as they were, so a name never changes between
    syncs); a new name that cleans to a name already taken gets a short hash suffix.
    """

    def __init__(self, run: str, kind: str, known: dict[str, str] | None = None) -> None:
        self.run, self.kind = run, kind
        self.remote: dict[str, str] = dict(known or {})
        self.taken = set(self.remote.values())
        self.changes: list[Change] = []

    def __call__(self, name: str) -> str:
        found = self.remote.get(name)
        if found is not None:
            return found
        sent = clean_name(name)
        if sent in self.taken:
            tag = hashlib.sha256(name.encode()).hexdigest()[:6]
            sent = f"{sent[:MAX_ENTITY_KEY_LENGTH - 7]}_{tag}"
        if sent != name:
            self.changes.append(Change(self.run, self.kind, name, f"sent as {sent!r}"))
        self.remote[name] = sent
        self.taken.add(sent)
        return sent


def param_text(value: Any) -> str:
    """A param as MLflow keeps it: text (``str()`` of the value, as ``mlflow.log_param``)."""
    return str(value)


def shorten(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters (ending with :data:`ELLIPSIS`) when longer."""
    if len(value) <= limit:
        return value
    return value[: limit - len(ELLIPSIS)] + ELLIPSIS


#: One metric point as sent: ``(key, value, timestamp in ms, step)``.
Point = tuple[str, float, int, int]


def metric_batches(points: Iterable[Point]) -> Iterator[list[Point]]:
    """``points`` in log-batch sized lists: at most 1,000 per request and under 1 MB."""
    batch: list[Point] = []
    size = _REQUEST_MARGIN
    for point in points:
        cost = len(point[0].encode()) + _METRIC_OVERHEAD
        if batch and (len(batch) >= MAX_METRICS_PER_BATCH
                      or size + cost > MAX_BATCH_LOG_REQUEST_SIZE):
            yield batch
            batch, size = [], _REQUEST_MARGIN
        batch.append(point)
        size += cost
    if batch:
        yield batch


def pair_batches(pairs: Iterable[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """Params or tags ``(key, value)`` in lists of at most 100 per request and under 1 MB."""
    batch: list[tuple[str, str]] = []
    size = _REQUEST_MARGIN
    for key, value in pairs:
        cost = len(key.encode()) + len(value.encode()) * 2 + 32  # JSON escapes: room for them
        if batch and (len(batch) >= MAX_PARAMS_TAGS_PER_BATCH
                      or size + cost > MAX_BATCH_LOG_REQUEST_SIZE):
            yield batch
            batch, size = [], _REQUEST_MARGIN
        batch.append((key, value))
        size += cost
    if batch:
        yield batch
