"""The live chart: one run's curves, redrawn a few times a second while it logs.

>>> run = nbtrack.init()                                  # doctest: +SKIP
>>> display(nbtrack.widgets.live_chart(run))              # doctest: +SKIP
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

import traitlets as t

from nbtrack import charts, config
from nbtrack.model import MetricSeries
from nbtrack.recorder import TrackingWarning
from nbtrack.run import Run, media_series
from nbtrack.store import access, queries
from nbtrack.store.streaming import StreamDownsampler
from nbtrack.widgets.run_card import card_media
from nbtrack.widgets.shared import ChartWidget, TextView, esm, in_notebook, label

__all__ = ["LIVE_POINTS", "LIVE_RATE", "LiveChart", "live_chart"]

#: Updates per second a live chart sends at most.
LIVE_RATE = 4.0
#: Points per series a live chart keeps (min/max buckets beyond that).
LIVE_POINTS = 2000
#: Seconds between two refreshes of the rich values a live chart shows.
MEDIA_EVERY = 1.0

# Fields of a Run.tap() entry: (run number, step, time, cell, keys, values).
_STEP, _TIME, _KEYS, _VALUES = itemgetter(1), itemgetter(2), itemgetter(4), itemgetter(5)


class LiveChart(ChartWidget):
    """A chart of one run's metrics that follows ``log()`` until the run finishes.

    Updates are sent from a background thread at most :data:`LIVE_RATE` times a second;
    ``log()`` only appends to a list. :meth:`stop` freezes the chart (it stays shown);
    ``close()`` removes it. ``updates`` counts the updates sent.
    """

    _esm = esm("live_chart.js")
    run_id = t.Unicode().tag(sync=True)
    label = t.Unicode().tag(sync=True)
    status = t.Unicode("running").tag(sync=True)
    step = t.Int(None, allow_none=True).tag(sync=True)
    points = t.Int(0).tag(sync=True)
    metric_keys = t.List(t.Unicode()).tag(sync=True)
    spec = t.Dict().tag(sync=True)
    data_name = t.Unicode(charts.LIVE_DATA).tag(sync=True)
    #: ``{key: {"step": float64 bytes, "value": float64 bytes}}`` (binary buffers).
    series = t.Dict().tag(sync=True)
    #: The latest value of each rich key logged since the chart was shown, as the run card's
    #: ``media`` (refreshed at most every :data:`MEDIA_EVERY` seconds, once stored).
    media = t.List(t.Dict()).tag(sync=True)

    def __init__(self, run: Run, keys: Sequence[str] | None = None, *,
                 max_points: int = LIVE_POINTS, rate: float = LIVE_RATE) -> None:
        record = run.record()
        super().__init__(run_id=run.id, label=label(record), status=record["status"])
        self.updates = 0
        self._run = run
        self._wanted = list(keys) if keys is not None else None
        self._max_points = max_points
        self._interval = 1.0 / rate
        self._reducers: dict[str, StreamDownsampler] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._sink: list[Any] | None = None
        self._seen: Counter[tuple[str, float, float]] | None = None
        self._unchecked = 0
        self._failed = False
        self._spec_keys: tuple[str, ...] | None = None
        self._points = 0
        self._counts: dict[str, int] = {}
        self._step: int | None = None
        self._top: dict[str, float] = {}  # the highest step drawn, per key
        self._dirty: set[str] = set()  # keys given a step again: the store keeps the later point
        self._media_sink: list[tuple[str, int]] | None = None
        self._media_due: dict[str, int] = {}  # rich key -> the latest step logged, not shown
        self._media_shown: dict[str, dict[str, Any]] = {}
        self._media_next = 0.0
        live = run.live
        if live:  # tap first, so nothing logged while the history is read is missed
            self._sink = run.tap()
            self._media_sink = run.tap_media()
            run.on_finish(self._finished)
        self._seed(run)
        if live:
            self._thread = threading.Thread(target=self._follow, name="nbtrack-live-chart",
                                            daemon=True)
            self._thread.start()
        else:
            self._stopped.set()

    # The training loop's thread only appends to self._sink (in Run.log); the follower thread
    # drains it, folds the points into per-key downsamplers and sends the result.
    def _seed(self, run: Run) -> None:
        """Start from the points already stored (a chart shown on a run that has logged)."""
        history = run.history(self._wanted)
        # An entry logged (by another thread) between tap() and the read above is both in the
        # store and in the sink: the entries in the sink now are the only ones that can be.
        sink = self._sink if self._sink is not None else []
        self._unchecked = len(sink)
        if self._unchecked:
            since = min(map(_TIME, sink[:self._unchecked]))
            self._seen = Counter((s["key"], step, when) for s in history.values()
                                 for step, when in zip(s["step"], s["time"]) if when >= since)
        self._fold_history(history.values())
        self._push()

    def _fold_history(self, history: Iterable[MetricSeries]) -> None:
        """Draw stored series (one point per step, by step), replacing what was drawn of them."""
        for s in history:
            if not s["count"]:
                continue
            reducer = self._reducers[s["key"]] = StreamDownsampler(self._max_points)
            reducer.extend(s["step"], [math.nan if v is None else v for v in s["value"]])
            self._points += s["count"] - self._counts.get(s["key"], 0)
            self._counts[s["key"]] = s["count"]
            self._top[s["key"]] = s["step"][-1]
            self._step = max(self._step or 0, s["step"][-1])

    def _reducer(self, key: str) -> StreamDownsampler:
        reducer = self._reducers.get(key)
        if reducer is None:
            reducer = self._reducers[key] = StreamDownsampler(self._max_points)
        return reducer

    def _follow(self) -> None:
        while not self._stopped.wait(self._interval):
            self._update()

    def _update(self, status: str | None = None) -> None:
        with self._lock:
            try:
                if self._drain(self._sink) or status is not None:
                    self._push(status)
                self._drain_media(final=False)
            except Exception as exc:  # noqa: BLE001 - a view must never break the run
                self._fail(exc)

    def _drain_media(self, *, final: bool) -> None:
        """Show the latest stored value of each rich key logged since the last refresh."""
        sink = self._media_sink
        if sink:
            n = len(sink)
            for key, step in sink[:n]:
                if step >= self._media_due.get(key, step):
                    self._media_due[key] = step
            del sink[:n]
        if not self._media_due or (not final and time.monotonic() < self._media_next):
            return
        self._media_next = time.monotonic() + MEDIA_EVERY
        store = config.db_path(self._run.workspace)
        with access.reading(store) as db:  # after a flush: the values logged are stored
            rows = [row for key, step in sorted(self._media_due.items())
                    for row in queries.media_rows(db, self._run.number, [key], step=step)]
        self._media_due.clear()
        for entry in card_media(media_series(store.parent, rows)):
            self._media_shown[entry["key"]] = entry
        self.media = [self._media_shown[k] for k in sorted(self._media_shown)]

    def _drain(self, sink: list[Any] | None) -> bool:
        """Fold the entries logged since the last update into the downsamplers.

        Written for throughput (it shares the interpreter with the training loop): entries
        are taken apart with C-level ``map``/``itemgetter`` rather than Python loops.
        """
        if not sink:
            return False
        n = len(sink)
        batch = sink[:n]
        del sink[:n]
        if self._unchecked:
            batch = self._unseen(batch)
            if not batch:
                return True
            n = len(batch)
        key_tuples = list(map(_KEYS, batch))
        if key_tuples.count(key_tuples[0]) == n:  # the usual case: the same keys every call
            groups: dict[tuple[str, ...], list[Any]] = {key_tuples[0]: batch}
        else:
            groups = {}
            for keys, entry in zip(key_tuples, batch):
                groups.setdefault(keys, []).append(entry)
        wanted = self._wanted
        last_step = self._step
        count = 0
        counts, tops = self._counts, self._top
        for keys, entries in groups.items():
            steps = list(map(_STEP, entries))
            values = list(map(_VALUES, entries))
            low, top = min(steps), max(steps)
            unique = len(set(steps)) == len(steps)
            for j, key in enumerate(keys):
                if wanted is not None and key not in wanted:
                    continue
                self._reducer(key).extend(steps, list(map(itemgetter(j), values)))
                counts[key] = counts.get(key, 0) + len(steps)
                count += len(steps)
                if not unique or low <= tops.get(key, -math.inf):
                    # A step logged again: both points are drawn for now; the store keeps the
                    # later one, and the chart's last update re-reads this key to match it.
                    self._dirty.add(key)
                if top > tops.get(key, -math.inf):
                    tops[key] = top
            last_step = top if last_step is None else max(last_step, top)
        self._points += count
        self._step = last_step
        return True

    def _unseen(self, batch: list[Any]) -> list[Any]:
        """``batch`` without the values :meth:`_seed` already read from the store.

        Only the first ``_unchecked`` entries of the sink can be such duplicates; an entry is
        one when each of its values is in the store under the same key, step and time.
        """
        head, tail = batch[:self._unchecked], batch[self._unchecked:]
        self._unchecked -= len(head)
        seen = self._seen if self._seen is not None else Counter()
        out = []
        for entry in head:
            _, step, when, _, keys, values = entry
            fresh = []
            for k, v in zip(keys, values):
                if seen[(k, step, when)] > 0:
                    seen[(k, step, when)] -= 1  # this very point was read from the store
                else:
                    fresh.append((k, v))
            if len(fresh) == len(keys):
                out.append(entry)
            elif fresh:
                out.append((*entry[:4], tuple(k for k, _ in fresh), tuple(v for _, v in fresh)))
        if not self._unchecked:
            self._seen = None
        return out + tail

    def _push(self, status: str | None = None) -> None:
        keys = tuple(self._wanted if self._wanted is not None else self._reducers)
        series = {}
        for key, reducer in self._reducers.items():
            steps, values = reducer.view()
            series[key] = {"step": steps.tobytes(), "value": values.tobytes()}
        with self.hold_sync():
            if keys and keys != self._spec_keys:
                self._spec_keys = keys
                self.metric_keys = list(keys)
                self.spec = charts.live_curves(keys)
            self.series = series
            self.points = self._points
            self.step = self._step
            if status is not None:
                self.status = status
        self.updates += 1

    def _last_update(self, status: str | None = None) -> None:
        """Stop following: draw what is left in the tap, then (only when a step was logged
        again) the stored series of those keys, so the chart ends as the store reads."""
        with self._lock:
            try:
                sink = self._sink
                self._untap()  # first: nothing logged from now on is missed by the drain
                changed = self._drain(sink)
                self._drain_media(final=True)
                if self._dirty:
                    self._fold_history(self._run.history(sorted(self._dirty)).values())
                    self._dirty.clear()
                    changed = True
                if changed or status is not None:
                    self._push(status)
            except Exception as exc:  # noqa: BLE001 - a view must never break the run
                self._fail(exc)

    def _finished(self, run: Run) -> None:
        """Run.finish() callback: a last update with every point and the final status."""
        self._stopped.set()
        try:
            status = run.status
        except Exception:  # noqa: BLE001
            status = "finished"
        self._last_update(status)
        run.remove_on_finish(self._finished)

    def _fail(self, exc: BaseException) -> None:
        self._stopped.set()
        self._untap()
        if not self._failed:
            self._failed = True
            warnings.warn(f"nbtrack's live chart stopped: {exc!r}", TrackingWarning,
                          stacklevel=2)

    def _untap(self) -> None:
        if self._sink is not None:
            self._run.untap(self._sink)
            self._sink = None
        if self._media_sink is not None:
            self._run.untap(self._media_sink)

    def stop(self) -> None:
        """Stop following ``log()``: one last update, then the chart stays as it is.

        The run's final status is still shown when the run finishes.
        """
        if not hasattr(self, "_stopped"):  # closed while being built
            return
        self._stopped.set()
        if self._sink is not None:
            self._last_update()

    #: The name the ``%%track`` magic calls when its cell ends.
    close_live = stop

    def close(self) -> None:
        """Stop following the run and remove the chart from the page."""
        self.stop()
        run = getattr(self, "_run", None)
        if run is not None:
            run.remove_on_finish(self._finished)
        super().close()


def live_chart(run: Run | None = None, keys: Sequence[str] | None = None) -> LiveChart | TextView:
    """A chart of ``run``'s metrics (default: the active run) that grows as it logs.

    Shown with ``display()``, it redraws a few times a second while the run logs and freezes
    with the final curves and status when the run finishes. Outside a notebook: a text line.
    """
    if run is None:
        from nbtrack.session import active_run

        run = active_run()
        if run is None:
            raise RuntimeError("live_chart() needs a run: start one with nbtrack.init()")
    if not in_notebook():
        return TextView(f"{label(run.record())}: live chart (shown in notebooks)")
    return LiveChart(run, keys)
