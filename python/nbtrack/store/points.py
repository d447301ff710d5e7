"""Metric points packed in chunks: many points of one key of one run per row.

A chunk holds parallel arrays (``array`` module, native byte order): steps (int64), values
(float64; NaN and infinities kept as they are), wall times (float64) and the cell execution
that logged each point (int64, 0 for none). A run's series is its chunks in ``seq`` order;
when a step was logged twice the later point wins.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import lt
from typing import Any

#: The most points one chunk row holds.
CHUNK_POINTS = 8192


@dataclass
class PointArrays:
    """One metric's points as parallel arrays, ordered by step with unique steps."""

    steps: array[int]
    values: array[float]
    times: array[float]
    cells: array[int]

    def __len__(self) -> int:
        return len(self.steps)

    def after(self, step: int) -> PointArrays:
        """Only the points with a step greater than ``step``."""
        i = bisect_right(self.steps, step)
        return PointArrays(self.steps[i:], self.values[i:], self.times[i:], self.cells[i:])


def empty() -> PointArrays:
    return PointArrays(array("q"), array("d"), array("d"), array("q"))


def is_ordered(steps: Sequence[int]) -> bool:
    """True when steps strictly increase."""
    return all(map(lt, steps, islice(steps, 1, None)))  # C-level: no Python loop


def floats(values: Sequence[float]) -> array[float]:
    """Values as float64; an int too large for a float becomes +/-inf instead of failing."""
    try:
        return array("d", values)
    except OverflowError:
        return array("d", (_to_float(v) for v in values))


def _to_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


#: The parts of a chunk that every key logged by the same calls shares:
#: ``(step_min, step_max, count, ordered, steps, times, cells)``, the last three packed.
SharedChunk = tuple[int, int, int, int, bytes, bytes, bytes]


def pack_shared(
    steps: Sequence[int], times: Sequence[float], cells: Sequence[int | None],
) -> tuple[bool, list[SharedChunk]]:
    """``(ordered, chunks)``: the step, time and cell columns packed chunk by chunk, once for
    every key that the same calls logged; ``ordered`` says the steps strictly increase."""
    cells_int = [c or 0 for c in cells]
    chunks: list[SharedChunk] = []
    all_ordered = True
    for lo in range(0, len(steps), CHUNK_POINTS):
        hi = lo + CHUNK_POINTS
        s = steps[lo:hi]
        ordered = is_ordered(s)
        all_ordered = all_ordered and ordered and (lo == 0 or steps[lo - 1] < s[0])
        chunks.append((
            s[0] if ordered else min(s), s[-1] if ordered else max(s), len(s), int(ordered),
            array("q", s).tobytes(), array("d", times[lo:hi]).tobytes(),
            array("q", cells_int[lo:hi]).tobytes(),
        ))
    return all_ordered, chunks


def pack(
    shared: Sequence[SharedChunk], values: Sequence[float],
) -> Iterable[tuple[int, int, int, int, bytes, bytes, bytes, bytes]]:
    """Yield ``(step_min, step_max, count, ordered, steps, values, times, cells)`` per chunk:
    the shared columns (:func:`pack_shared`) with one key's values."""
    for i, (step_min, step_max, count, ordered, steps, times, cells) in enumerate(shared):
        lo = i * CHUNK_POINTS
        yield (step_min, step_max, count, ordered, steps,
               floats(values[lo:lo + count]).tobytes(), times, cells)


def unpack(rows: Iterable[Sequence[Any]]) -> PointArrays:
    """Join chunk rows in seq order.

    Each row is ``(step_min, step_max, ordered, steps, values, times, cells)``.
    """
    columns: tuple[list[bytes], ...] = ([], [], [], [])
    in_order = True
    last_max: int | None = None
    for step_min, step_max, ordered, *blobs in rows:
        if not ordered or (last_max is not None and step_min <= last_max):
            in_order = False
        last_max = step_max if last_max is None else max(last_max, step_max)
        for column, blob in zip(columns, blobs):
            column.append(blob)
    out = empty()
    targets: tuple[array[Any], ...] = (out.steps, out.values, out.times, out.cells)
    for target, column in zip(targets, columns):
        target.frombytes(b"".join(column))  # one copy per column
    if in_order:
        return out
    # A step logged more than once, or steps logged out of order: the later point wins.
    latest = {step: i for i, step in enumerate(out.steps)}
    order = sorted(latest)
    idx = [latest[s] for s in order]
    return PointArrays(
        array("q", order), array("d", (out.values[i] for i in idx)),
        array("d", (out.times[i] for i in idx)), array("q", (out.cells[i] for i in idx)),
    )
