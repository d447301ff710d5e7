"""What every reader hands the writer: a run read from another tracker, in nbtrack's terms.

A reader (``mlflow_store``, ``wandb_offline``, ``tensorboard_events``) yields one
:class:`SourceRun` per run it could read and one :class:`Problem` per file or run it could not;
:mod:`nbtrack.importers.write` stores the runs. Nothing here imports a tracker's package.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from nbtrack.store.values import to_jsonable


@dataclass
class Series:
    """One metric's points, ordered by step with unique steps (the later point of a step
    logged twice wins, as in nbtrack's own store)."""

    steps: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))
    times: array[float] = field(default_factory=lambda: array("d"))

    def __len__(self) -> int:
        return len(self.steps)


def series(points: Iterable[tuple[int, float, float]]) -> Series:
    """A :class:`Series` from ``(step, value, time)`` in the order they were logged."""
    latest: dict[int, tuple[float, float]] = {}
    for step, value, time in points:
        latest[step] = (value, time)
    steps = sorted(latest)
    out = Series(array("q", steps))
    out.values = array("d", (latest[s][0] for s in steps))
    out.times = array("d", (latest[s][1] for s in steps))
    return out


@dataclass
class SourceRun:
    """A run read from another tracker.

    ``source`` names the tracker (``mlflow``, ``wandb``, ``tensorboard``) and ``source_id`` the
    run within it (an MLflow run id, a W&B run id, a TensorBoard run folder): together they
    are what makes importing the same run again change nothing. ``status`` is an nbtrack
    status (``running``, ``finished``, ``failed``, ``interrupted``); times are seconds since
    the epoch. ``summary`` holds explicit summary values (W&B summary keys with no history);
    ``skipped`` counts values that are not scalars (images, tables, text...) and were left out.
    """

    source: str
    source_id: str
    path: str
    name: str | None
    status: str
    started: float
    ended: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    host: str | None = None
    metrics: dict[str, Series] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0

    @property
    def points(self) -> int:
        return sum(len(s) for s in self.metrics.values())

    def last_activity(self) -> float:
        """The latest time this run is known to have done something."""
        times = [s.times[-1] for s in self.metrics.values() if len(s)]
        return max([self.started, *([self.ended] if self.ended is not None else []), *times])

    def digest(self) -> str:
        """SHA-256 of everything imported from this run: equal digests, nothing to update."""
        h = hashlib.sha256()
        head = {
            "name": self.name, "status": self.status, "started": self.started,
            "ended": self.ended, "params": to_jsonable(self.params), "tags": self.tags,
            "notes": self.notes, "host": self.host, "summary": to_jsonable(self.summary),
            "keys": sorted(self.metrics),
        }
        h.update(json.dumps(head, sort_keys=True, default=repr).encode())
        for key in sorted(self.metrics):
            s = self.metrics[key]
            h.update(key.encode())
            for column in (s.steps, s.values, s.times):
                h.update(column.tobytes())
        return h.hexdigest()


@dataclass
class Problem:
    """A file or run that could not be read: reported, skipped, the rest imported."""

    path: str
    message: str


#: What a reader yields.
Item = SourceRun | Problem


def scalar(value: Any) -> float | None:
    """``value`` as a float when it is a number (bools count as 0/1), else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return None


def require(extra: str, module: str) -> ModuleType:
    """Import ``module``, or raise an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"importing {extra} runs needs the {extra} package: pip install 'nbtrack[{extra}]'"
            f" ({exc})"
        ) from exc
