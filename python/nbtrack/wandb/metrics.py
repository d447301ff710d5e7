"""``define_metric``: a metric's x axis (``step_metric``) and what its summary keeps
(``summary="min"``, ``"max"``, ``"mean"``, ``"first"``, ``"last"``, ``"none"``, or several
joined by commas).

W&B's summary of a metric with summary ops is a dict of them (``{"min": 0.1}``); a metric
without any keeps its last value; ``"none"`` keeps none. Names may end in ``*`` (a glob on
the prefix: ``"val/*"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nbtrack.wandb.errors import Error

#: The summary ops W&B accepts (``copy`` is W&B's deprecated alias of ``last``; ``best``
#: with ``goal`` is what W&B versions before 0.17 offered).
SUMMARY_OPS = ("min", "max", "mean", "first", "last", "none", "copy", "best")
GOALS = ("minimize", "maximize")


@dataclass
class Metric:
    """What one ``define_metric`` call said (W&B's ``wandb_metric.Metric``)."""

    name: str
    step_metric: str | None = None
    step_sync: bool | None = None
    hidden: bool | None = None
    summary: tuple[str, ...] | None = None
    goal: str | None = None
    overwrite: bool | None = None


def _check(name: Any, step_metric: Any, summary: Any, goal: Any,
           flags: Mapping[str, Any]) -> tuple[str, ...] | None:
    if not name:
        raise Error("define_metric() requires non-empty name argument")
    for arg, value, kind in (("name", name, str), ("step_metric", step_metric, str),
                             ("summary", summary, str), ("goal", goal, str),
                             *((k, v, bool) for k, v in flags.items())):
        if value is not None and not isinstance(value, kind):
            raise Error(f"Unhandled define_metric() arg: {arg} type: {type(value).__name__}")
    stripped = name[:-1] if name.endswith("*") else name
    if "*" in stripped:
        raise Error(f"Unhandled define_metric() arg: name (glob suffixes only): {name}")
    if goal is not None and goal.lower() not in GOALS:
        raise Error(f"Unhandled define_metric() arg: goal: {goal}")
    if not summary:
        return None
    ops = tuple(s.strip().lower() for s in summary.split(","))
    for op in ops:
        if op not in SUMMARY_OPS:
            raise Error(f"Unhandled define_metric() arg: summary op: {op}")
    return ops


class MetricDefinitions:
    """The ``define_metric`` calls of one run, and the summaries they ask for."""

    def __init__(self) -> None:
        self._exact: dict[str, Metric] = {}
        self._globs: dict[str, Metric] = {}
        self._last: dict[str, Any] = {}  # last value of each key (for step_sync)
        self._aggregates: dict[str, dict[str, Any]] = {}

    def define(self, name: str, step_metric: Any = None, step_sync: bool | None = None,
               hidden: bool | None = None, summary: str | None = None, goal: str | None = None,
               overwrite: bool | None = None) -> Metric:
        """Record one ``define_metric`` call (merged with earlier ones unless ``overwrite``)."""
        if isinstance(step_metric, Metric):
            step_metric = step_metric.name
        ops = _check(name, step_metric, summary, goal,
                     {"step_sync": step_sync, "hidden": hidden, "overwrite": overwrite})
        table = self._globs if name.endswith("*") else self._exact
        key = name[:-1] if name.endswith("*") else name
        new = Metric(name, step_metric, step_sync, hidden, ops,
                     goal.lower() if goal else None, overwrite)
        old = table.get(key)
        if old is not None and not overwrite:
            for field in ("step_metric", "step_sync", "hidden", "summary", "goal"):
                if getattr(new, field) is None:
                    setattr(new, field, getattr(old, field))
        table[key] = new
        return new

    def find(self, key: str) -> Metric | None:
        """The definition that applies to ``key``: its own, else the longest glob matching."""
        found = self._exact.get(key)
        if found is not None:
            return found
        best: Metric | None = None
        for prefix, metric in self._globs.items():
            if key.startswith(prefix) and (best is None or len(prefix) > len(best.name) - 1):
                best = metric
        return best

    @property
    def defined(self) -> bool:
        return bool(self._exact or self._globs)

    def sync_steps(self, row: dict[str, Any]) -> None:
        """Add to ``row`` the last value of the step metric of each key that has one and
        lacks it (W&B's ``step_sync``, on by default), and remember the row's values."""
        if self.defined:
            for key in list(row):
                metric = self.find(key)
                if metric is None or metric.step_metric is None or metric.step_sync is False:
                    continue
                axis = metric.step_metric
                if axis not in row and axis in self._last:
                    row[axis] = self._last[axis]
        self._last.update(row)

    def summarize(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Fold one written row into the summaries; return the summary values it changes
        (``{key: value}``; a value of None means "no summary" for that key)."""
        changed: dict[str, Any] = {}
        for key, value in row.items():
            metric = self.find(key) if self.defined else None
            ops = metric.summary if metric is not None else None
            if metric is None or not ops:
                continue
            number = _number(value)
            agg = self._aggregates.setdefault(key, {})
            for op in ops:
                if op == "none" or number is None:
                    continue
                if op == "best":
                    op_fn = min if (metric.goal or "minimize") == "minimize" else max
                    agg["best"] = number if "best" not in agg else op_fn(agg["best"], number)
                elif op == "min":
                    agg["min"] = number if "min" not in agg else min(agg["min"], number)
                elif op == "max":
                    agg["max"] = number if "max" not in agg else max(agg["max"], number)
                elif op == "mean":
                    total, count = agg.get("_sum", 0.0) + number, agg.get("_count", 0) + 1
                    agg["_sum"], agg["_count"], agg["mean"] = total, count, total / count
                elif op == "first":
                    agg.setdefault("first", number)
                else:  # last, copy
                    agg["last"] = number
            shown = {k: v for k, v in agg.items() if not k.startswith("_")}
            changed[key] = shown if shown and "none" not in ops else None
        return changed


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            number = item()
        except Exception:  # noqa: BLE001
            return None
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            return number
    return None


__all__ = ["GOALS", "SUMMARY_OPS", "Metric", "MetricDefinitions"]
