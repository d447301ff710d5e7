"""MLflow runs, read with mlflow's own store classes: a file store (``mlruns/``,
``mlflow.store.tracking.file_store.FileStore``) or a SQLite database
(``mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore``).

What is kept: the run name, params (text that reads back exactly as a Python number, bool or
None becomes one: ``"0.01"`` -> 0.01, ``"007"`` stays text), tags (``key=value``, or ``key``
when the value is empty; ``mlflow.*`` system tags are left out except ``mlflow.runName``, the
name, and ``mlflow.note.content``, the notes), the experiment as the tag ``experiment=NAME``,
every metric point with its step and timestamp, status and start/end times. Deleted runs and
deleted experiments are not imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nbtrack.importers.source import Item, Problem, SourceRun, require, series

#: MLflow run statuses -> nbtrack statuses (a run still running at the source is imported
#: as running; with no heartbeat it reads as crashed until it is imported again).
STATUSES = {
    "FINISHED": "finished", "FAILED": "failed", "KILLED": "interrupted",
    "RUNNING": "running", "SCHEDULED": "running",
}

#: Runs per ``search_runs`` page.
_PAGE = 1000


def read_file_store(root: Path) -> Iterator[Item]:
    """Every active run of the MLflow file store at ``root`` (a run that cannot be read is
    a :class:`Problem`)."""
    file_store = require("mlflow", "mlflow.store.tracking.file_store")
    with _file_store_allowed():
        store = file_store.FileStore(str(root), str(root))
    for experiment in _experiments(store):
        exp_dir = root / str(experiment.experiment_id)
        # One run at a time (not search_runs), so one unreadable run does not hide the others.
        run_dirs = sorted(p for p in exp_dir.iterdir() if (p / "meta.yaml").is_file())
        for run_dir in run_dirs:
            try:
                run: Any = store.get_run(run_dir.name)
                if run.info.lifecycle_stage != "active":
                    continue
                yield _convert(store, experiment.name, run, str(run_dir))
            except Exception as exc:  # noqa: BLE001 - one bad run is reported, the rest read
                yield Problem(str(run_dir), f"cannot read this MLflow run: {_why(exc)}")


def read_database(path: Path) -> Iterator[Item]:
    """Every active run of the MLflow SQLite database at ``path``."""
    sql_store = require("mlflow", "mlflow.store.tracking.sqlalchemy_store")
    from mlflow.entities import ViewType

    uri = f"sqlite:///{path.resolve()}"
    _check_tables(uri)
    store = sql_store.SqlAlchemyStore(uri, str(path.resolve().parent / "mlartifacts"))
    try:
        for experiment in _experiments(store):
            token = None
            while True:
                page = store.search_runs(
                    [experiment.experiment_id], "", ViewType.ACTIVE_ONLY, _PAGE,
                    page_token=token,
                )
                for run in page:
                    where = f"{path}#{run.info.run_id}"
                    try:
                        yield _convert(store, experiment.name, run, where)
                    except Exception as exc:  # noqa: BLE001 - reported, the rest read
                        yield Problem(where, f"cannot read this MLflow run: {_why(exc)}")
                token = page.token
                if not token:
                    break
    finally:
        store.engine.dispose()


def _check_tables(uri: str) -> None:
    """Refuse a database whose MLflow schema is incomplete: mlflow's store would create the
    missing tables, and an import must not change the database it reads."""
    import sqlalchemy

    utils = require("mlflow", "mlflow.store.db.utils")
    engine = sqlalchemy.create_engine(uri)
    try:
        complete = utils._all_tables_exist(engine)
    finally:
        engine.dispose()
    if not complete:
        raise ValueError(
            "this MLflow database was made by another MLflow version (tables are missing);"
            " upgrade a copy with `mlflow db upgrade` and import that"
        )


@contextmanager
def _file_store_allowed() -> Iterator[None]:
    """mlflow >= 3.x refuses to open a file store unless ``MLFLOW_ALLOW_FILE_STORE`` is set:
    reading an existing one is what it is kept for."""
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = previous


def _experiments(store: Any) -> list[Any]:
    from mlflow.entities import ViewType

    out: list[Any] = []
    token = None
    while True:
        page = store.search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=_PAGE, page_token=token
        )
        out.extend(page)
        token = page.token
        if not token:
            return sorted(out, key=lambda e: str(e.experiment_id))


def _convert(store: Any, experiment: str, run: Any, where: str) -> SourceRun:
    info, data = run.info, run.data
    tags: dict[str, str] = dict(data.tags)
    metrics = {}
    for key in sorted(data.metrics):
        history = store.get_metric_history(info.run_id, key)
        metrics[key] = series((m.step, m.value, m.timestamp / 1000.0) for m in history)
    labels = [f"{k}={v}" if v else k for k, v in sorted(tags.items())
              if not k.startswith("mlflow.")]
    return SourceRun(
        source="mlflow",
        source_id=info.run_id,
        path=where,
        name=info.run_name or tags.get("mlflow.runName") or None,
        status=STATUSES.get(info.status, "finished"),
        started=info.start_time / 1000.0,
        ended=info.end_time / 1000.0 if info.end_time else None,
        params={k: param_value(v) for k, v in sorted(data.params.items())},
        tags=[*labels, f"experiment={experiment}"],
        notes=tags.get("mlflow.note.content", ""),
        metrics=metrics,
    )


def param_value(text: str) -> Any:
    """MLflow keeps params as text: give back the Python value that wrote exactly this text
    (an int, a float, a bool or None), else the text."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        return value if str(value) == text else text
    return text


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
