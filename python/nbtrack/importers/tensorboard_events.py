"""TensorBoard runs from event files (``events.out.tfevents.*``), read with the
``tensorboard`` package's record reader and its ``Event`` protobuf.

A run is a folder holding event files, as TensorBoard itself sees it: ``logs/a`` and
``logs/b/eval`` are two runs, named by their path below the folder imported. What is kept:
every scalar (``add_scalar``: ``simple_value``, or a ``scalars``-plugin tensor as TF2 writes
it) with its step and wall time, the hyperparameters of ``add_hparams`` (the ``hparams``
plugin's session start) as params, and start/end times (the first and last event). Event files
say nothing of a run's outcome: runs are imported as finished. A folder whose files hold no
scalar and no hyperparameter (a writer opened and closed) is not a run. Histograms, images, text and
other summaries are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbtrack.importers.source import Item, Problem, SourceRun, require, series

#: What marks a TensorBoard event file's name.
MARK = "tfevents"


def is_event_file(path: Path) -> bool:
    return MARK in path.name and path.is_file()


def event_files(root: Path) -> dict[Path, list[Path]]:
    """``{run folder: its event files in order}`` below ``root`` (or of one file)."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob(f"*{MARK}*")
                                                  if p.is_file())
    runs: dict[Path, list[Path]] = {}
    for path in files:
        runs.setdefault(path.parent, []).append(path)
    return runs


def read(root: Path) -> Iterator[Item]:
    """One run per folder of event files below ``root``; a folder with an unreadable file is
    a :class:`Problem` (its other runs are read)."""
    base = root.parent if root.is_file() else root
    for folder, files in event_files(root).items():
        name = folder.relative_to(base).as_posix()
        if name == ".":
            name = folder.resolve().name
        try:
            run = read_run(folder, name, files)
        except (OSError, ValueError) as exc:
            yield Problem(str(folder), f"cannot read these TensorBoard events: {exc}")
            continue
        if run.metrics or run.params:  # a writer that logged nothing leaves an empty file
            yield run


def read_run(folder: Path, name: str, files: list[Path]) -> SourceRun:
    """The run of one folder's event files."""
    require("tensorboard", "tensorboard")
    state = _State()
    for path in files:
        for event in _events(path):
            state.add(event)
    if state.first is None:
        raise ValueError("no events")
    return SourceRun(
        source="tensorboard", source_id=str(folder.resolve()), path=str(folder), name=name,
        status="finished", started=state.first, ended=state.last, params=state.hparams,
        metrics={k: series(points) for k, points in state.scalars.items()},
        skipped=state.skipped,
    )


def _events(path: Path) -> Iterator[Any]:
    """The events of one file; a damaged record raises, a truncated tail ends the file."""
    loader = require("tensorboard", "tensorboard.backend.event_processing.event_file_loader")
    tf = require("tensorboard", "tensorboard.compat").tf
    event_pb2 = require("tensorboard", "tensorboard.compat.proto.event_pb2")
    records = loader._make_tf_record_iterator(str(path))
    count = 0
    while True:
        try:
            raw = next(records)
        except StopIteration:
            break
        except tf.errors.DataLossError as exc:
            if "crc" in str(exc):
                raise ValueError(f"{path.name}: damaged record ({exc.message})") from None
            if count == 0:
                raise ValueError(f"{path.name}: not an event file") from None
            break  # the writer was stopped mid-record: the events before it stand
        try:
            event = event_pb2.Event.FromString(raw)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError
            raise ValueError(f"{path.name}: undecodable event ({exc})") from None
        count += 1
        yield event
    if count == 0 and path.stat().st_size:
        raise ValueError(f"{path.name}: not an event file")


class _State:
    """What a run's events add up to."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.plugins: dict[str, str] = {}
        self.scalars: dict[str, list[tuple[int, float, float]]] = {}
        self.hparams: dict[str, Any] = {}
        self.skipped = 0

    def add(self, event: Any) -> None:
        when = float(event.wall_time)
        self.first = when if self.first is None else min(self.first, when)
        self.last = when if self.last is None else max(self.last, when)
        if not event.HasField("summary"):
            return
        for value in event.summary.value:
            if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
                self.plugins[value.tag] = value.metadata.plugin_data.plugin_name
            plugin = self.plugins.get(value.tag, "")
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                self._point(value.tag, event.step, value.simple_value, when)
            elif kind == "tensor" and plugin == "scalars":
                self._point(value.tag, event.step, _tensor_scalar(value.tensor), when)
            elif plugin == "hparams":
                self._hparams(value.metadata.plugin_data.content)
            else:
                self.skipped += 1

    def _point(self, tag: str, step: int, value: float, when: float) -> None:
        self.scalars.setdefault(tag, []).append((int(step), float(value), when))

    def _hparams(self, content: bytes) -> None:
        plugin_data_pb2 = require("tensorboard", "tensorboard.plugins.hparams.plugin_data_pb2")
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.WhichOneof("data") != "session_start_info":
            return
        for key, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            self.hparams[key] = None if kind == "null_value" else getattr(value, kind)


def _tensor_scalar(tensor: Any) -> float:
    tensor_util = require("tensorboard", "tensorboard.util.tensor_util")
    return float(tensor_util.make_ndarray(tensor).item())
