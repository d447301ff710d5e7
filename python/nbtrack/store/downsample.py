"""Fewer points, same shape: reduce a metric series for drawing without losing its spikes.

The points between the first and the last are cut into buckets of consecutive points; each
bucket keeps its lowest and its highest point, in step order, and the first and last points of
the series are always kept. A curve drawn from the result has the envelope of the full curve:
a one-step spike stays visible however many points surround it. NaN values are never chosen as
extremes (a bucket of NaN only keeps nothing).

Large series are scanned with numpy when it is installed (about 25x faster); the points chosen
are the same either way.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from nbtrack.model import MetricSeries
from nbtrack.store import queries
from nbtrack.store.access import Connection
from nbtrack.store.points import PointArrays, unpack

#: Series with at least this many points are scanned with numpy when it is installed.
NUMPY_FROM = 20_000

#: ``(index of the lowest point, index of the highest point)`` of a bucket; None for all-NaN.
Extremes = tuple["int | None", "int | None"]


def select(values: Sequence[float], max_points: int) -> list[int]:
    """Indices (ascending) of the points to keep so that at most ``max_points`` remain.

    ``values`` may be a list or an ``array("d")``; NaN marks a missing value.
    """
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 2:
        raise ValueError(f"max_points must be an integer of at least 2, not {max_points!r}")
    n = len(values)
    if n <= max_points:
        return list(range(n))
    buckets = (max_points - 2) // 2
    inner = n - 2
    bounds = [
        (1 + b * inner // buckets, 1 + (b + 1) * inner // buckets) for b in range(buckets)
    ]
    extremes = _extremes_numpy if n >= NUMPY_FROM and _numpy() is not None else _extremes_python
    keep = [0]
    for low, high in extremes(values, bounds):
        if low is None or high is None:
            continue
        keep.extend((low,) if low == high else sorted((low, high)))
    keep.append(n - 1)
    return keep


def downsample(series: MetricSeries, max_points: int) -> MetricSeries:
    """``series`` with at most ``max_points`` points, each bucket's extremes kept.

    The first and last points are always kept; ``downsampled`` is True when points were
    dropped, and ``count`` stays the number of points of the full series.
    """
    values = [math.nan if v is None else v for v in series["value"]]
    keep = select(values, max_points)
    if len(keep) == len(values):
        return MetricSeries(**series)
    return MetricSeries(
        run_id=series["run_id"], key=series["key"],
        step=[series["step"][i] for i in keep],
        value=[series["value"][i] for i in keep],
        time=[series["time"][i] for i in keep],
        cell=[series["cell"][i] for i in keep],
        count=series["count"], step_min=series["step_min"], step_max=series["step_max"],
        downsampled=True,
    )


def series_of(run_id: str, key: str, points: PointArrays, max_points: int) -> MetricSeries:
    """The wire shape of ``points``, reduced to at most ``max_points`` points."""
    keep = select(points.values, max_points)
    n = len(points)
    if len(keep) == n:
        return queries.series_from_arrays(run_id, key, points)
    steps = [points.steps[i] for i in keep]
    return MetricSeries(
        run_id=run_id, key=key, step=steps, value=[points.values[i] for i in keep],
        time=[points.times[i] for i in keep], cell=[points.cells[i] or None for i in keep],
        count=n, step_min=steps[0], step_max=steps[-1], downsampled=True,
    )


def read_series(
    db: Connection,
    run: int,
    run_id: str,
    keys: Iterable[str] | None = None,
    *,
    max_points: int,
    after_step: int | None = None,
    cache: SeriesCache | None = None,
) -> list[MetricSeries]:
    """The given metrics (default: all) of one run, each reduced to ``max_points`` points.

    With ``after_step`` only the points after that step are read (and reduced): what a live
    view asks for to extend the curve it has. A ``cache`` answers a long series again without
    reading it while nothing was added to it.
    """
    wanted = list(keys) if keys is not None else queries.metric_keys(db, run)
    out = []
    for key in wanted:
        version = _version(db, run, key) if cache is not None else None
        cached = cache.get((run_id, key, max_points, after_step), version) if cache else None
        if cached is None:
            points = read_points(db, run, key, after_step=after_step)
            cached = series_of(run_id, key, points, max_points)
            if cache is not None and len(points) >= cache.min_points:
                cache.put((run_id, key, max_points, after_step), version, cached)
        out.append(cached)
    return out


class SeriesCache:
    """Reduced long series by (run id, key, max_points, after_step), most recent kept.

    Metric chunks are only ever appended, so a series is unchanged while the ``seq`` of its
    last chunk is; that is checked on every read. Entries are shared: callers must not change
    the series they get.
    """

    def __init__(self, size: int = 64, min_points: int = 20_000) -> None:
        self.size = size
        self.min_points = min_points
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, MetricSeries]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], version: Any) -> MetricSeries | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple[Any, ...], version: Any, series: MetricSeries) -> None:
        with self._lock:
            self._entries[key] = (version, series)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def read_points(
    db: Connection, run: int, key: str, *, after_step: int | None = None
) -> PointArrays:
    """One metric's points, as :func:`nbtrack.store.queries.metric_arrays` reads them.

    Chunks logged in step order (the usual case) are joined with one copy per column instead
    of growing each array chunk by chunk, which is about twice as fast for a long series.
    """
    rows = db.execute(
        'SELECT c.step_min, c.step_max, c.ordered, c.steps, c."values", c.times, c.cells'
        " FROM metric_chunks AS c JOIN metric_keys AS k ON k.id = c.key"
        " WHERE c.run = ? AND k.key = ? AND c.step_max > ? ORDER BY c.seq",
        (run, key, -(2**63) if after_step is None else after_step),
    ).fetchall()
    last_max: int | None = None
    for step_min, step_max, ordered, *_ in rows:
        if not ordered or (last_max is not None and step_min <= last_max):
            points = unpack(rows)  # steps logged twice or out of order: the general path
            break
        last_max = step_max
    else:
        columns: list[array[Any]] = [array(code) for code in "qddq"]
        for i, column in enumerate(columns, start=3):
            column.frombytes(b"".join(row[i] for row in rows))
        points = PointArrays(*columns)
    return points if after_step is None else points.after(after_step)


def _version(db: Connection, run: int, key: str) -> int | None:
    """The last chunk number of one series: chunks are only appended, so it marks a change."""
    row = db.execute(
        "SELECT c.seq FROM metric_chunks AS c JOIN metric_keys AS k ON k.id = c.key"
        " WHERE c.run = ? AND k.key = ? ORDER BY c.seq DESC LIMIT 1",
        (run, key),
    ).fetchone()
    return None if row is None else int(row[0])


def _extremes_python(values: Sequence[float], bounds: Sequence[tuple[int, int]]) -> list[Extremes]:
    out: list[Extremes] = []
    for lo, hi in bounds:
        part = values[lo:hi]
        low, high = min(part), max(part)
        # min()/max() return NaN only when the bucket starts with NaN: then skip every NaN.
        if low != low or high != high:
            numbers = [v for v in part if v == v]
            if not numbers:
                out.append((None, None))
                continue
            low, high = min(numbers), max(numbers)
        out.append((values.index(low, lo, hi), values.index(high, lo, hi)))
    return out


def _extremes_numpy(values: Sequence[float], bounds: Sequence[tuple[int, int]]) -> list[Extremes]:
    np = _numpy()
    assert np is not None
    if isinstance(values, array) and values.typecode == "d":
        data = np.frombuffer(values, dtype=np.float64)
    else:
        data = np.asarray(values, dtype=np.float64)
    out: list[Extremes] = []
    for lo, hi in bounds:
        part = data[lo:hi]
        low, high = int(part.argmin()), int(part.argmax())
        # argmin/argmax point at the first NaN when there is one: then skip every NaN.
        if math.isnan(part[low]) or math.isnan(part[high]):
            if np.isnan(part).all():
                out.append((None, None))
                continue
            low, high = int(np.nanargmin(part)), int(np.nanargmax(part))
        out.append((lo + low, lo + high))
    return out


_np: Any = None


def _numpy() -> Any:
    """numpy if it is installed (imported on first use), else None."""
    global _np
    if _np is None:
        try:
            import numpy
        except ImportError:
            _np = False
        else:
            _np = numpy
    return _np or None
