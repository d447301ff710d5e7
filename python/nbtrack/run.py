"""The public :class:`Run`: a live run being recorded, or a view of one in the store."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import recorder as _recorder
from nbtrack.current_cell import current_cell
from nbtrack.media.items import MediaItem, MediaSeries
from nbtrack.media.values import Media
from nbtrack.media.values import prepare as prepare_media
from nbtrack.model import CellExecution, MetricSeries, RunRecord
from nbtrack.store import access, queries, writes
from nbtrack.store.values import to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from nbtrack.artifacts.artifact import ArtifactVersion


class RunFinishedError(RuntimeError):
    """The run was finished; start a new one to log more."""


_get_ident = threading.get_ident
_time = time.time
_NUMBER_TYPES = (float, int)
_STEP_MIN, _STEP_MAX = -(2**63), 2**63 - 1


def _coerce_value(key: Any, value: Any) -> float | int:
    """Turn an accepted metric value into a float or int, or raise TypeError naming the key."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value if type(value) in _NUMBER_TYPES else float(value)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes, Mapping)):
        size = getattr(value, "size", None)
        numel = getattr(value, "numel", None)
        if size == 1 or (callable(numel) and numel() == 1) or getattr(value, "ndim", None) == 0:
            try:
                number = item()
            except Exception as exc:  # noqa: BLE001
                raise TypeError(f"metric {key!r}: cannot read a number from {value!r}") from exc
            if isinstance(number, (bool, int, float)) and not isinstance(number, complex):
                return _coerce_value(key, number)
    raise TypeError(
        f"metric {key!r} has a value of type {type(value).__name__}; log numbers (int, float,"
        " bool, numpy scalars or 0-d arrays/tensors) or rich values (nbtrack.Image, Table,"
        " Histogram, Audio, Text, Html; a matplotlib, Altair or Plotly figure)"
    )


def media_series(store: Path, rows: Iterable[queries.MediaRecordRow]) -> list[MediaSeries]:
    """Stored rich values as one :class:`MediaSeries` per key."""
    out: dict[str, MediaSeries] = {}
    for key, step, _idx, kind, blob, thumb, meta, when, cell in rows:
        series = out.get(key)
        if series is None:
            series = out[key] = MediaSeries(key=key, kind=kind, step=[], value=[], time=[],
                                            cell=[], count=0)
        series["step"].append(step)
        series["value"].append(MediaItem(store, kind, json.loads(meta), blob, thumb,
                                         key=key, step=step))
        series["time"].append(when)
        series["cell"].append(cell)
        series["count"] += 1
    return list(out.values())


def _nothing() -> None:
    pass


def _sorted_values(
    keys: tuple[str, ...], values: tuple[Any, ...]
) -> tuple[tuple[str, ...], tuple[float | int, ...], list[tuple[str, list[Media]]]]:
    """Split a call's values into numbers and rich values (checked and copied); any bad value
    raises here, before anything of the call is queued."""
    scalar_keys: list[str] = []
    scalars: list[float | int] = []
    media: list[tuple[str, list[Media]]] = []
    for key, value in zip(keys, values):
        if type(value) is float or type(value) is int:
            scalar_keys.append(key)
            scalars.append(value)
            continue
        items = prepare_media(key, value)
        if items is not None:
            media.append((key, items))
        else:
            scalar_keys.append(key)
            scalars.append(_coerce_value(key, value))
    return tuple(scalar_keys), tuple(scalars), media


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise TypeError(f"metric keys must be non-empty strings, not {key!r}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"metric key {key!r} is not valid Unicode text") from None
    return key


class Run:
    """A run in the workspace store.

    Runs returned by :func:`nbtrack.init` are *live*: :meth:`log` records to them,
    :meth:`finish` ends them, and their attributes are read from the store when asked.
    Runs returned by :func:`nbtrack.get_run` and :func:`nbtrack.runs` hold the run's record
    (name, status, tags, notes, params, summary) as it was read; :meth:`refresh` reads it
    again (e.g. to follow a run another process records). Their :meth:`history`, :attr:`cells`
    and :attr:`env` are read when asked.
    """

    def __init__(
        self, path: Path, number: int, run_id: str, *, live: bool = False,
        record: RunRecord | None = None,
    ) -> None:
        self._path = path if isinstance(path, Path) else Path(path)
        self.number = number
        self.id = run_id
        self._live = live
        self._done = not live
        self._record = record
        self._next_step = 0
        self._known_keys: set[tuple[str, ...]] = set()
        self._rec = _recorder.recorder_for(self._path) if live else None
        #: The recorder's queue of ``log()`` calls (when not live: an empty one, never used).
        self._points: deque[writes.PointsCall] = (
            self._rec.points if self._rec is not None else deque()
        )
        self._soon = self._rec.soon if self._rec is not None else 0
        self._make_room: Callable[[], None] = (
            self._rec.make_room if self._rec is not None else _nothing)
        self._on_finish: list[Callable[[Run], None]] = []
        self._taps: tuple[list[Any], ...] = ()
        self._media_taps: tuple[list[tuple[str, int]], ...] = ()
        #: The thread capturing this run's environment, while it runs.
        self.env_pending: threading.Thread | None = None

    @property
    def workspace(self) -> Path:
        """The workspace folder whose store holds this run."""
        return self._path.parent.parent

    @property
    def recorder(self) -> _recorder.Recorder:
        """The recorder this live run writes through."""
        if self._rec is None:
            raise RunFinishedError(f"run {self.number} ({self.id}) is not recorded here")
        return self._rec

    # -- reading -----------------------------------------------------------------------------
    def record(self) -> RunRecord:
        """This run as a :class:`nbtrack.model.RunRecord` (live runs: read now; others: as
        last read, see :meth:`refresh`)."""
        if self._record is not None and self._done:
            return self._record
        return self.refresh()

    def refresh(self) -> RunRecord:
        """Read this run's record from the store again and return it."""
        with access.reading(self._path) as db:
            records = queries.run_records(db, [self.number])
        if not records:
            raise queries.RunNotFound(f"run {self.number} is no longer in the store")
        self._record = records[0]
        return self._record

    @property
    def name(self) -> str:
        return self.record()["name"]

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("a run's name must be a non-empty string")
        self._update({"name": value})

    @property
    def status(self) -> str:
        return self.record()["status"]

    @property
    def tags(self) -> list[str]:
        return self.record()["tags"]

    @tags.setter
    def tags(self, value: Iterable[str]) -> None:
        self._update({"tags": check_tags(value)})

    @property
    def notes(self) -> str:
        return self.record()["notes"]

    @notes.setter
    def notes(self, value: str) -> None:
        self._update({"notes": str(value)})

    @property
    def notebook(self) -> str | None:
        return self.record()["notebook"]

    @property
    def started(self) -> float:
        return self.record()["started"]

    @property
    def ended(self) -> float | None:
        return self.record()["ended"]

    @property
    def params(self) -> dict[str, Any]:
        """The run's params (config) as a plain dict."""
        return self.record()["params"]

    @property
    def config(self) -> RunConfig:
        """The run's params, dict-like: assigning a key stores it as a param."""
        return RunConfig(self)

    @property
    def summary(self) -> RunSummary:
        """Each metric's summary value (last by default; explicit values override)."""
        return RunSummary(self)

    @property
    def env(self) -> dict[str, Any]:
        """The environment recorded at the start of the run (waits for its capture)."""
        pending = self.env_pending
        if pending is not None:
            pending.join(timeout=10)
        with access.reading(self._path) as db:
            return queries.environment_of(db, self.number)

    @property
    def cells(self) -> list[CellExecution]:
        """The cell executions of this run in order, with their code and changed variables."""
        with access.reading(self._path) as db:
            return queries.cell_executions(db, self.number)

    def metric_keys(self) -> list[str]:
        """The keys this run has logged (metrics, then rich values)."""
        with access.reading(self._path) as db:
            return queries.metric_keys(db, self.number) + queries.media_keys(db, self.number)

    def history(self, keys: str | Iterable[str] | None = None) -> History:
        """The logged values of ``keys`` (a key, several, or all by default), by step.

        A metric's series holds numbers; a rich value's (images, tables...) holds
        :class:`nbtrack.media.MediaItem` objects (``.to_numpy()``, ``.to_pil()``,
        ``.to_pandas()``, ``.bytes``).
        """
        wanted = [keys] if isinstance(keys, str) else (list(keys) if keys is not None else None)
        with access.reading(self._path) as db:
            media = set(queries.media_keys(db, self.number))
            scalar = None if wanted is None else [k for k in wanted if k not in media]
            series: list[Any] = queries.metric_series(db, self.number, self.id, scalar)
            media_wanted = sorted(media) if wanted is None else [k for k in wanted if k in media]
            if media_wanted:
                rows = queries.media_rows(db, self.number, media_wanted)
        if media_wanted:
            series += media_series(self._path.parent, rows)
        return History(series)

    # -- writing -----------------------------------------------------------------------------
    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Record metrics ``{key: number}`` at ``step`` (default: one more than the last step).

        Values are numbers, or rich values: ``nbtrack.Image``, ``Table``, ``Histogram``,
        ``Audio``, ``Text``, ``Html`` (or a list of one kind), a matplotlib, Altair or Plotly
        figure, a PIL image. Returns at once: rich values are copied, and everything is encoded
        and written by a background thread. A bad value raises ``TypeError``/``ValueError``
        naming the key, and nothing of the call is recorded.
        """
        if self._done:
            raise RunFinishedError(
                f"run {self.number} ({self.id}) is not live; start a run with nbtrack.init()"
            )
        try:
            keys = tuple(data)
            values = tuple(data.values())
        except AttributeError:
            raise TypeError(
                f"log() takes a dict of metrics, not {type(data).__name__}"
            ) from None
        if keys not in self._known_keys:
            for key in keys:
                _check_key(key)
            if len(self._known_keys) < 1024:
                self._known_keys.add(keys)
        media = None
        for value in values:
            if type(value) is not float and type(value) is not int:
                keys, values, media = _sorted_values(keys, values)
                break
        if step is None:
            step = self._next_step
            self._next_step = step + 1
        else:
            if type(step) is not int:
                step = _coerce_step(step)
            if not _STEP_MIN <= step <= _STEP_MAX:
                raise ValueError(f"step {step} is outside the 64-bit range steps are stored in")
            if step >= self._next_step:
                self._next_step = step + 1
        if keys:
            cell = current_cell.cell
            if cell is not None and current_cell.thread != _get_ident():
                cell = None  # logged from another thread than the cell's: no cell
            entry = (self.number, step, _time(), cell, keys, values)
            points = self._points
            points.append(entry)
            if len(points) >= self._soon:
                self._make_room()
            if self._taps:
                for tap in self._taps:
                    tap.append(entry)
        if media:
            cell = current_cell.cell if current_cell.thread == _get_ident() else None
            now = time.time()
            for key, items in media:
                self.recorder.add_media((self.number, step, now, cell, key, items))
                for media_tap in self._media_taps:
                    media_tap.append((key, step))

    def tap(self, sink: list[Any] | None = None) -> list[Any]:
        """A list that receives every future ``log()`` entry of this live run (for live views).

        Entries are ``(run number, step, time, cell, keys, values)``; the consumer pops them
        (``list.pop(0)`` or swap-and-clear) from its own thread. :meth:`untap` stops it.
        ``sink`` (a list subclass) is appended to in the logging thread, after the entry is
        queued: a sweep trial reports its metric to Optuna there.
        """
        sink = [] if sink is None else sink
        self._taps = (*self._taps, sink)
        return sink

    def untap(self, sink: list[Any]) -> None:
        """Stop feeding ``sink``."""
        self._taps = tuple(t for t in self._taps if t is not sink)
        self._media_taps = tuple(t for t in self._media_taps if t is not sink)

    def tap_media(self) -> list[tuple[str, int]]:
        """A list that receives ``(key, step)`` for every rich value this live run logs from
        now on (their bytes are in the store once the writer has written them); see
        :meth:`tap`."""
        sink: list[tuple[str, int]] = []
        self._media_taps = (*self._media_taps, sink)
        return sink

    def finish(self, status: str = "finished") -> None:
        """Write every point still queued and mark the run ``status``; idempotent."""
        if self._done:
            return
        if status not in ("finished", "failed", "interrupted", "crashed", "pruned"):
            raise ValueError(f"unknown final status {status!r}")
        self._done = True
        rec = self.recorder
        rec.discard_live(self.number)
        ended = time.time()
        rec.enqueue("run", (self.number, {"status": status, "ended": ended, "heartbeat": ended}))
        rec.flush()
        self._record = None  # read as finished from now on
        # A callback may remove itself from the list (a live chart does): iterate a copy.
        for callback in list(self._on_finish):
            callback(self)

    def log_artifact(
        self, artifact: Any, name: str | None = None, type: str | None = None, *,
        aliases: Iterable[str] = (), metadata: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> ArtifactVersion:
        """Log a file, a folder or an :class:`nbtrack.Artifact` as a version of an artifact
        produced by this run (and the cell logging it); return the version.

        Each file is hashed and put in the blob store once (unchanged files take no new
        space); identical content returns the existing version. ``name`` defaults to the
        file or folder name, ``type`` to ``dataset``; ``aliases`` point at the version
        (``latest`` always moves to a new one).

        Examples
        --------
        >>> run.log_artifact("data/", "mnist", "dataset", aliases=["raw"])  # doctest: +SKIP
        <ArtifactVersion mnist:v0 (dataset) 3 files, 5120 bytes [latest, raw]>
        """
        from nbtrack.artifacts.artifact import log_artifact

        if self._done:
            raise RunFinishedError(f"run {self.number} ({self.id}) is not recorded here")
        return log_artifact(self._path, artifact, name=name, type=type, aliases=aliases,
                            metadata=metadata, description=description, run=self.number,
                            cell=current_cell.get())

    def log_model(
        self, model: Any, name: str, *, input_example: Any = None,
        signature: Mapping[str, Any] | None = None, flavor: str | None = None,
        aliases: Iterable[str] | None = None, metadata: Mapping[str, Any] | None = None,
        description: str = "", rebuild: Any = None,
    ) -> ArtifactVersion:
        """Log ``model`` in its native format as a version of the artifact ``name`` (type
        ``model``) produced by this run; return the version.

        The flavor is detected (``sklearn``, ``xgboost``, ``lightgbm``, ``pytorch``,
        ``torchscript``, ``keras``, or ``python`` for any object with ``predict``) unless
        ``flavor`` names one. ``input_example`` is stored and gives the signature (inputs,
        and outputs from predicting on it). A PyTorch ``nn.Module`` needs ``rebuild``: a
        module-level function returning the untrained module. Logging the same model again
        returns the existing version. Load it back with :func:`nbtrack.load_model`.

        Examples
        --------
        >>> run.log_model(clf, "iris-clf", input_example=X[:5])  # doctest: +SKIP
        <ArtifactVersion iris-clf:v0 (model) 2 files, 1843 bytes [latest]>
        """
        from nbtrack.models.log import log_model

        if self._done:
            raise RunFinishedError(f"run {self.number} ({self.id}) is not recorded here")
        return log_model(self._path, model, name, input_example=input_example,
                         signature=signature, flavor=flavor, aliases=aliases,
                         metadata=metadata, description=description, rebuild=rebuild,
                         run=self.number, cell=current_cell.get())

    def use_artifact(self, ref: str) -> ArtifactVersion:
        """The artifact version ``ref`` names (``"name:latest"``, ``"name:v3"``,
        ``"name:alias"``), recorded as used by this run (and the cell asking)."""
        from nbtrack.artifacts.artifact import get_artifact, use_artifact

        if self._done:
            return get_artifact(self._path, ref)
        return use_artifact(self._path, ref, run=self.number, cell=current_cell.get())

    def on_finish(self, callback: Callable[[Run], None]) -> None:
        """Call ``callback(run)`` when this live run finishes."""
        self._on_finish.append(callback)

    def remove_on_finish(self, callback: Callable[[Run], None]) -> None:
        """Stop calling ``callback`` at finish."""
        if callback in self._on_finish:
            self._on_finish.remove(callback)

    @property
    def live(self) -> bool:
        """True while this process records the run."""
        return not self._done

    def _update(self, fields: dict[str, Any]) -> None:
        with access.writing(self._path, create=False) as conn:
            writes.update_run(conn, self.number, fields)
        self._record = None

    def _write_params(self, params: dict[str, Any], removed: Iterable[str] = ()) -> None:
        with access.writing(self._path, create=False) as conn:
            writes.write_params(conn, self.number, params)
            writes.delete_params(conn, self.number, removed)
        self._record = None

    def _write_summary(self, key: str, value: Any) -> None:
        batch = writes.Batch(summary_overrides=[(self.number, key, value)])
        with access.writing(self._path, create=False) as conn:
            writes.write_batch(conn, batch)
        self._record = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish("finished")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("interrupted")
        else:
            self.finish("failed")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and (other._path, other.id) == (self._path, self.id)

    def __hash__(self) -> int:
        return hash((self._path, self.id))

    def __repr__(self) -> str:
        try:
            r = self.record()
            return f"<Run #{r['number']} {r['name']!r} {r['status']} id={r['id']}>"
        except Exception:  # noqa: BLE001 - repr must not fail
            return f"<Run #{self.number} id={self.id}>"

    def show(self) -> None:
        """Display this run's card in the notebook (status, params, summary, curves)."""
        from nbtrack.widgets import show_run

        show_run(self)

    def plot(self, keys: str | Iterable[str] | None = None, **options: Any) -> Any:
        """An Altair chart of ``keys`` (default: all); options as :func:`nbtrack.plot`."""
        from nbtrack.charts import plot

        return plot(self, keys, **options)


def _coerce_step(step: Any) -> int:
    if isinstance(step, bool):
        raise TypeError("step must be an int, not bool")
    item = getattr(step, "item", None)
    if callable(item):
        step = item()
    if isinstance(step, float) and step.is_integer():
        step = int(step)
    if not isinstance(step, int):
        raise TypeError(f"step must be an int, not {type(step).__name__}")
    return step


def check_tags(tags: Iterable[str]) -> list[str]:
    """Tags as a list of unique non-empty strings (a ValueError names a bad one)."""
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ValueError(f"tags must be non-empty strings, not {tag!r}")
        if tag not in out:
            out.append(tag)
    return out


class RunConfig(MutableMapping[str, Any]):
    """A run's params, dict-like. Writes persist at once."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def _data(self) -> dict[str, Any]:
        return self._run.params

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._data()[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Store several params at once."""
        params = dict(other, **kwargs)
        for key in params:
            if not isinstance(key, str) or not key:
                raise TypeError(f"param names must be non-empty strings, not {key!r}")
        self._run._write_params(params)

    def __delitem__(self, key: str) -> None:
        if key not in self._data():
            raise KeyError(key)
        self._run._write_params({}, removed=[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"RunConfig({self._data()!r})"


class RunSummary(MutableMapping[str, Any]):
    """Each metric's summary value: the last logged, unless set explicitly here."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def _data(self) -> dict[str, Any]:
        return self._run.record()["summary"]

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key:
            raise TypeError(f"summary keys must be non-empty strings, not {key!r}")
        self._run._write_summary(key, to_jsonable(value))

    def __delitem__(self, key: str) -> None:
        raise TypeError("summary values cannot be deleted; set a new value instead")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"RunSummary({self._data()!r})"


class History(Mapping[str, "MetricSeries | MediaSeries"]):
    """Logged values of one run, per key: ``history["loss"]["value"]`` (numbers for metrics,
    :class:`~nbtrack.media.MediaItem` objects for rich values)."""

    def __init__(self, series: Sequence[MetricSeries | MediaSeries]) -> None:
        self._series: dict[str, MetricSeries | MediaSeries] = {s["key"]: s for s in series}

    def __getitem__(self, key: str) -> MetricSeries | MediaSeries:
        return self._series[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._series)

    def __len__(self) -> int:
        return len(self._series)

    def steps(self, key: str) -> list[int]:
        """The steps of ``key``, in order."""
        steps: list[int] = self._series[key]["step"]
        return steps

    def values(self, key: str | None = None) -> Any:
        """The values of ``key`` (or, with no key, the Mapping's values)."""
        if key is None:
            return self._series.values()
        return self._series[key]["value"]

    def rows(self) -> list[dict[str, Any]]:
        """Long form: one dict per point with key, step, value, time, cell."""
        out = []
        for s in self._series.values():
            for step, value, t, cell in zip(s["step"], s["value"], s["time"], s["cell"]):
                out.append({"key": s["key"], "step": step, "value": value, "time": t,
                            "cell": cell})
        return out

    def to_pandas(self, wide: bool = True) -> pandas.DataFrame:
        """A DataFrame indexed by step with one column per key (``wide=False``: long form)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("History.to_pandas() needs pandas: pip install pandas") from exc
        long = pd.DataFrame(self.rows(), columns=["key", "step", "value", "time", "cell"])
        if not wide:
            return long
        return long.pivot_table(index="step", columns="key", values="value", aggfunc="last",
                                dropna=False)

    def __repr__(self) -> str:
        parts = []
        for s in self._series.values():
            if isinstance(s, MediaSeries):
                parts.append(f"{s['key']}: {s['count']} {s['kind']} values")
                continue
            last = s["value"][-1] if s["value"] else math.nan
            parts.append(f"{s['key']}: {s['count']} points, last {last:g}")
        return "History(" + "; ".join(parts) + ")"
