"""Which reader a PATH needs, from what PATH is (nothing is imported from a tracker here).

- ``sqlite:///FILE`` or a SQLite file with MLflow's tables: an MLflow database;
- a folder with experiment folders (``0/meta.yaml``...): an MLflow file store (``mlruns/``);
- a ``.wandb`` file, a W&B run folder (``offline-run-*``, ``run-*``) or a folder of them
  (``wandb/``): W&B runs;
- an event file (``*tfevents*``) or a folder with event files below it: TensorBoard runs.

Anything else is a :class:`PathError` saying what was expected.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nbtrack.importers import tensorboard_events, wandb_offline
from nbtrack.importers.source import Item

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables every MLflow tracking database has.
_MLFLOW_TABLES = {"experiments", "runs", "metrics", "params", "tags", "alembic_version"}


class PathError(ValueError):
    """PATH is missing or is none of the formats nbtrack imports."""


@dataclass(frozen=True)
class Source:
    """A PATH and the format it holds."""

    kind: str  # "mlflow-files", "mlflow-sqlite", "wandb", "tensorboard"
    path: Path
    #: For W&B: the transaction logs found.
    logs: tuple[Path, ...] = ()

    @property
    def package(self) -> str:
        """The tracker (and nbtrack extra) this format belongs to."""
        return self.kind.split("-")[0]

    def read(self) -> Iterator[Item]:
        """The runs (and problems) this source holds, read lazily, one run at a time."""
        if self.kind == "mlflow-files":
            from nbtrack.importers import mlflow_store

            return mlflow_store.read_file_store(self.path)
        if self.kind == "mlflow-sqlite":
            from nbtrack.importers import mlflow_store

            return mlflow_store.read_database(self.path)
        if self.kind == "wandb":
            return wandb_offline.read(list(self.logs))
        return tensorboard_events.read(self.path)


def detect(text: str) -> Source:
    """The :class:`Source` that ``text`` (a path or ``sqlite:///`` URI) names."""
    if text.startswith("sqlite:///"):
        path = Path(text[len("sqlite:///"):])
        if not path.is_file():
            raise PathError(f"{text}: no such database file")
        return _sqlite(path)
    path = Path(text).expanduser()
    if not path.exists():
        raise PathError(f"{text}: no such file or folder")
    if path.is_file():
        if tensorboard_events.MARK in path.name:
            return Source("tensorboard", path)
        if path.suffix == ".wandb":
            return Source("wandb", path, (path,))
        with path.open("rb") as f:
            if f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                return _sqlite(path)
        raise PathError(
            f"{text}: not an MLflow database, a W&B run log (.wandb) or a TensorBoard event file"
        )
    logs = _wandb_logs(path)
    if logs:
        return Source("wandb", path, tuple(logs))
    if any((child / "meta.yaml").is_file() for child in path.iterdir() if child.is_dir()):
        return Source("mlflow-files", path)
    if tensorboard_events.event_files(path):
        return Source("tensorboard", path)
    raise PathError(
        f"{text}: found no runs to import: expected an MLflow store (mlruns/ or a .db file),"
        " W&B run folders (wandb/offline-run-*) or TensorBoard event files (*tfevents*)"
    )


def _wandb_logs(path: Path) -> list[Path]:
    """The ``.wandb`` logs of a run folder, or of the run folders in ``path`` (``wandb/``,
    or a folder holding ``wandb/``)."""
    own = wandb_offline.log_files(path)
    if own:
        return own
    for folder in (path, path / "wandb"):
        if not folder.is_dir():
            continue
        runs = sorted(p for p in folder.iterdir()
                      if p.is_dir() and p.name.startswith(("offline-run-", "run-")))
        logs = [log for run in runs for log in wandb_offline.log_files(run)]
        if logs:
            return logs
    return []


def _sqlite(path: Path) -> Source:
    """An MLflow database, or a PathError naming what the SQLite file is not."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise PathError(f"{path}: cannot read this SQLite file ({exc})") from None
    if not _MLFLOW_TABLES <= tables:
        raise PathError(f"{path}: a SQLite database, but not an MLflow tracking database")
    return Source("mlflow-sqlite", path)
