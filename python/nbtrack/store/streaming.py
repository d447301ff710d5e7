"""Fewer points from an endless stream: min/max buckets that a live view keeps as points arrive.

The store's :mod:`nbtrack.store.downsample` reduces a series it has whole; a live chart gets its
points a few at a time and cannot keep them all. :class:`StreamDownsampler` keeps at most
``max_points`` with the same envelope idea (each bucket keeps its lowest and highest point, so a
one-step spike stays visible) at constant work per point.

>>> ds = StreamDownsampler(500)
>>> ds.extend([0, 1, 2], [1.0, 0.5, 0.25])
>>> steps, values = ds.view()
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

__all__ = ["StreamDownsampler"]


class StreamDownsampler:
    """Min/max buckets over an endless stream of points: keeps at most ``max_points``.

    Points are kept as they come until ``max_points``; after that, consecutive points are
    grouped in buckets of ``width`` and each bucket keeps its lowest and highest point, so
    spikes survive. When the kept points fill up again, neighbouring buckets merge (the
    width doubles). Work per point is constant and mostly C-level (``min``, ``max``,
    ``list.index`` over slices). NaN and infinite values are dropped.

    Parameters
    ----------
    max_points : the most points :meth:`view` returns (at least 16), plus the first and last.
    """

    __slots__ = ("max_points", "width", "steps", "values", "cur_steps", "cur_values",
                 "first", "last")

    def __init__(self, max_points: int) -> None:
        self.max_points = max(16, max_points)
        self.width = 1  # 1: every point kept as is
        self.steps = array("d")
        self.values = array("d")
        self.cur_steps: list[float] = []
        self.cur_values: list[float] = []
        self.first: tuple[float, float] | None = None
        self.last: tuple[float, float] | None = None

    def extend(self, steps: Sequence[float], values: Sequence[float]) -> None:
        """Add points (in the order they were logged)."""
        if not math.isfinite(sum(values)):  # a NaN or inf makes the sum non-finite (fast check)
            kept = [(s, v) for s, v in zip(steps, values) if math.isfinite(v)]
            steps, values = [p[0] for p in kept], [p[1] for p in kept]
        if not steps:
            return
        if self.first is None:
            self.first = (steps[0], values[0])
        self.last = (steps[-1], values[-1])
        if self.width == 1:
            if len(self.steps) + len(steps) <= self.max_points:
                self.steps.extend(steps)
                self.values.extend(values)
                return
            # Full: from here on, points go through buckets (starting with the kept ones).
            self.cur_steps = self.steps.tolist()
            self.cur_values = self.values.tolist()
            self.steps, self.values = array("d"), array("d")
            self.width = 2
        self.cur_steps.extend(steps)
        self.cur_values.extend(values)
        cs, cv = self.cur_steps, self.cur_values
        while len(self.steps) + 2 * (len(cs) // self.width) > self.max_points:
            self._coarsen()
            cs, cv = self.cur_steps, self.cur_values
        width = self.width
        full = len(cs) - len(cs) % width
        out_steps, out_values = self.steps, self.values
        for start in range(0, full, width):  # _emit, inlined: this loop is the hot one
            part = cv[start:start + width]
            lo = part.index(min(part))
            hi = part.index(max(part))
            if lo > hi:
                lo, hi = hi, lo
            out_steps.append(cs[start + lo])
            out_steps.append(cs[start + hi])
            out_values.append(part[lo])
            out_values.append(part[hi])
        del cs[:full], cv[:full]

    def _emit(self, steps: Sequence[float], values: Sequence[float]) -> None:
        lo = values.index(min(values))
        hi = values.index(max(values))
        a, b = (lo, hi) if lo <= hi else (hi, lo)
        self.steps.extend((steps[a], steps[b]))
        self.values.extend((values[a], values[b]))

    def _coarsen(self) -> None:
        """Double the bucket width: each two kept buckets (4 points) become one (2 points)."""
        steps, values = self.steps, self.values
        self.steps, self.values = array("d"), array("d")
        full = len(steps) - len(steps) % 4
        for start in range(0, full, 4):
            self._emit(steps[start:start + 4], values[start:start + 4])
        self.width *= 2
        if full < len(steps):  # an odd bucket out: its points go back into the open bucket
            self.cur_steps[:0] = steps[full:].tolist()
            self.cur_values[:0] = values[full:].tolist()

    def view(self) -> tuple[array[float], array[float]]:
        """The points to draw: kept buckets, the open bucket's extremes, first and last."""
        steps, values = array("d", self.steps), array("d", self.values)
        cs, cv = self.cur_steps, self.cur_values
        if cs:
            if len(cs) <= 2:
                steps.extend(cs)
                values.extend(cv)
            else:
                lo, hi = cv.index(min(cv)), cv.index(max(cv))
                for i in sorted({lo, hi}):
                    steps.append(cs[i])
                    values.append(cv[i])
        if self.first is not None and (not steps or steps[0] != self.first[0]):
            steps.insert(0, self.first[0])
            values.insert(0, self.first[1])
        if self.last is not None and steps[-1] != self.last[0]:
            steps.append(self.last[0])
            values.append(self.last[1])
        return steps, values
