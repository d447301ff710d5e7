"""W&B runs from their transaction logs (``wandb/offline-run-*/run-ID.wandb``; online run
folders ``run-*`` hold the same log).

The log is a LevelDB-style record log (a 7-byte header ``:W&B`` + magic + version, then 32 KiB
blocks of records, each ``crc32 | length | type | data``, a protobuf split over FIRST / MIDDLE /
LAST records when it does not fit a block). wandb >= 0.19 writes it from its Go core and no
longer ships a Python reader, so the framing is read here and every record is decoded with
wandb's own protobuf, ``wandb.proto.wandb_internal_pb2.Record``.

What is kept: the display name, config (as params, without W&B's ``_wandb``), tags, notes, the
project, group and job type (as tags ``project=NAME``...), host, every scalar in the history
(step ``_step``, time ``_timestamp``), W&B's system metrics (``stats`` records) as
``system/<key>`` points numbered by sample, summary values of keys with no history (as
explicit summary values), the exit code (0: finished, else failed; no exit record: the run
was still running or died, and reads as crashed) and times. Images, tables and other rich
values are counted as skipped.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbtrack.importers.source import Item, Problem, SourceRun, require, scalar, series

_HEADER = struct.Struct("<4sHB")
_RECORD = struct.Struct("<IHB")
_BLOCK = 32768
_IDENT, _MAGIC, _VERSION = b":W&B", 0xBEE1, 0
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
#: The crc32 of each record type's byte: a record's checksum covers its type, then its data.
_TYPE_CRC = [zlib.crc32(bytes([t])) for t in range(5)]


class CorruptLog(ValueError):
    """The transaction log is damaged (not a truncated tail: a write cut short is normal)."""


def log_files(path: Path) -> list[Path]:
    """The transaction logs of a run folder (``run-ID.wandb``)."""
    return sorted(path.glob("*.wandb"))


def read(paths: list[Path]) -> Iterator[Item]:
    """One run per transaction log in ``paths`` (an unreadable one is a :class:`Problem`)."""
    for path in paths:
        try:
            yield read_log(path)
        except (OSError, CorruptLog) as exc:
            yield Problem(str(path), f"cannot read this W&B run log: {exc}")


def records(path: Path) -> Iterator[bytes]:
    """The serialized records of one log, in order; stops quietly at a truncated tail."""
    data = path.read_bytes()
    if len(data) < _HEADER.size or _HEADER.unpack_from(data) != (_IDENT, _MAGIC, _VERSION):
        raise CorruptLog("not a W&B transaction log (bad header)")
    pos, pending = _HEADER.size, b""
    while True:
        left = _BLOCK - pos % _BLOCK
        if left < _RECORD.size:  # a block's tail too short for a header is zero padding
            pos += left
        if pos + _RECORD.size > len(data):
            return
        checksum, length, kind = _RECORD.unpack_from(data, pos)
        start = pos + _RECORD.size
        if start + length > len(data):
            return  # the last write was cut short
        chunk = data[start:start + length]
        if kind not in (_FULL, _FIRST, _MIDDLE, _LAST) or (
            zlib.crc32(chunk, _TYPE_CRC[kind]) != checksum
        ):
            if not any(data[pos:start + length]):
                return  # zeros after the last record: preallocated, never written
            raise CorruptLog(f"damaged record at byte {pos}")
        pos = start + length
        if kind == _FULL:
            yield chunk
        elif kind == _FIRST:
            pending = chunk
        elif kind == _MIDDLE:
            pending += chunk
        else:
            yield pending + chunk
            pending = b""


def read_log(path: Path) -> SourceRun:
    """The run one transaction log holds."""
    pb = require("wandb", "wandb.proto.wandb_internal_pb2")
    state = _State(path)
    for raw in records(path):
        record = pb.Record()
        try:
            record.ParseFromString(raw)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError
            raise CorruptLog(f"undecodable record ({exc})") from exc
        kind = record.WhichOneof("record_type")
        handler = getattr(state, f"on_{kind}", None)
        if handler is not None:
            handler(getattr(record, kind))
    return state.run()


def _key(item: Any) -> str:
    return item.key or ".".join(item.nested_key)


def _flat(items: Any) -> dict[str, Any]:
    """Items (``key`` or ``nested_key`` paths, JSON values) as flat ``a.b`` keys; a nested
    dict with a ``_type`` (an image, histogram, table...) stays one value."""
    tree: dict[str, Any] = {}
    for item in items:
        path = [item.key] if item.key else list(item.nested_key)
        node = tree
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = json.loads(item.value_json)
    out: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict) and "_type" not in value and value:
                walk(value, f"{prefix}{key}.")
            else:
                out[prefix + key] = value

    walk(tree, "")
    return out


class _State:
    """What the records of one log add up to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.run_id = path.stem.removeprefix("run-")
        self.name: str | None = None
        self.tags: list[str] = []
        self.labels: dict[str, str] = {}
        self.notes = ""
        self.host: str | None = None
        self.started: float | None = None
        self.config: dict[str, Any] = {}
        self.history: dict[str, list[tuple[int, float, float]]] = {}
        self.summary: dict[str, Any] = {}
        self.exit_code: int | None = None
        self.runtime = 0.0
        self.last_time: float | None = None
        self.samples = 0
        self.skipped = 0

    def on_run(self, run: Any) -> None:
        self.run_id = run.run_id or self.run_id
        self.name = run.display_name or self.name
        self.tags = list(run.tags) or self.tags
        self.notes = run.notes or self.notes
        self.host = run.host or self.host
        for label, field in (("project", "project"), ("group", "run_group"),
                             ("job_type", "job_type")):
            if getattr(run, field):
                self.labels[label] = getattr(run, field)
        if run.HasField("start_time") and self.started is None:
            self.started = run.start_time.seconds + run.start_time.nanos / 1e9
        self.on_config(run.config)

    def on_config(self, config: Any) -> None:
        for item in config.update:
            self.config[_key(item)] = json.loads(item.value_json)
        for item in config.remove:
            self.config.pop(_key(item), None)

    def on_history(self, history: Any) -> None:
        row = _flat(history.item)
        step = history.step.num if history.HasField("step") else row.get("_step", 0)
        when = row.get("_timestamp")
        if isinstance(when, (int, float)):
            self._seen(float(when))
        for key, value in row.items():
            if key.startswith("_"):
                continue
            number = scalar(value)
            if number is None:
                self.skipped += 1
                continue
            self.history.setdefault(key, []).append(
                (int(step), number, float(when) if isinstance(when, (int, float)) else 0.0)
            )

    def on_stats(self, stats: Any) -> None:
        when = stats.timestamp.seconds + stats.timestamp.nanos / 1e9
        self._seen(when)
        for item in stats.item:
            number = scalar(json.loads(item.value_json))
            if number is not None:
                self.history.setdefault(f"system/{item.key}", []).append(
                    (self.samples, number, when))
        self.samples += 1

    def on_summary(self, summary: Any) -> None:
        self.summary.update(_flat(summary.update))
        for item in summary.remove:
            self.summary.pop(_key(item), None)

    def on_exit(self, exit_: Any) -> None:
        self.exit_code = exit_.exit_code
        self.runtime = float(exit_.runtime)

    def _seen(self, when: float) -> None:
        self.last_time = when if self.last_time is None else max(self.last_time, when)

    def run(self) -> SourceRun:
        if self.started is None:
            raise CorruptLog("no run record (the run's start was never written)")
        ended = None
        if self.exit_code is not None:
            ended = max(self.last_time or self.started, self.started + self.runtime)
        summary = {  # what has no history: scalars and text (rich values are skipped)
            k: v for k, v in self.summary.items()
            if not k.startswith("_") and k not in self.history
            and (scalar(v) is not None or isinstance(v, str))
        }
        config = {k: v for k, v in self.config.items() if k != "_wandb"}
        tags = [*self.tags, *(f"{k}={v}" for k, v in self.labels.items())]
        return SourceRun(
            source="wandb", source_id=self.run_id, path=str(self.path),
            name=self.name or self.run_id,
            status=("running" if self.exit_code is None
                    else "finished" if self.exit_code == 0 else "failed"),
            started=self.started, ended=ended, params=config, tags=tags, notes=self.notes,
            host=self.host,
            metrics={k: series(points) for k, points in self.history.items()},
            summary=summary, skipped=self.skipped,
        )
