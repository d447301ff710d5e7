"""Reading the workspace: find runs, compare them, rank them, query the store.

Starting, logging to and finishing runs is :mod:`nbtrack.session`'s job.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import config as _config
from nbtrack import session
from nbtrack.filter import compile_selection, compile_sort
from nbtrack.model import RunDiffRecord, RunRecord
from nbtrack.run import Run
from nbtrack.store import access, queries
from nbtrack.store import diff as _diff

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from nbtrack.query.leaderboard import Leaderboard
    from nbtrack.query.sql import SqlResult


def _store_path(workspace: str | os.PathLike[str] | None) -> Path:
    return _config.db_path(workspace)


class RunList(Sequence[Run]):
    """Runs, newest first. Index it for :class:`Run` objects; ``records()`` for plain data."""

    def __init__(self, path: Path, records: list[RunRecord], total: int | None = None) -> None:
        self._path = path
        self._records = records
        self.total = len(records) if total is None else total

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return RunList(self._path, self._records[index])
        return self._run(self._records[index])

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Run]:
        for r in self._records:
            yield self._run(r)

    def _run(self, record: RunRecord) -> Run:
        active = session.active_run()
        if active is not None and active.id == record["id"]:
            return active
        return Run(self._path, record["number"], record["id"], record=record)

    def records(self) -> list[RunRecord]:
        """The runs as plain dicts (:class:`nbtrack.model.RunRecord`)."""
        return list(self._records)

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run with ``params.*`` and ``metrics.*`` columns (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("RunList.to_pandas() needs pandas: pip install pandas") from exc
        rows = []
        for r in self._records:
            row: dict[str, Any] = {
                k: r[k]
                for k in ("number", "id", "name", "status", "notebook", "started", "ended",
                          "duration", "tags", "notes")
            }
            row["started"] = pd.to_datetime(row["started"], unit="s")
            row["ended"] = pd.to_datetime(row["ended"], unit="s") if row["ended"] else pd.NaT
            row.update({f"params.{k}": v for k, v in r["params"].items()})
            row.update({f"metrics.{k}": v for k, v in r["summary"].items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        from nbtrack.text import runs_table

        return runs_table(self._records, total=self.total)


def runs(
    *,
    where: str | None = None,
    sort: str | None = None,
    descending: bool | None = None,
    status: str | None = None,
    tag: str | None = None,
    notebook: str | None = None,
    name: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    workspace: str | os.PathLike[str] | None = None,
) -> RunList:
    """The workspace's runs, newest first unless ``sort`` says otherwise, optionally filtered.

    Parameters
    ----------
    where : a filter such as ``'params.lr < 0.01 and metrics.loss < 0.5'`` (see the README's
        filter language); a bad filter raises ``nbtrack.FilterError`` naming the column.
    sort : ``number``, ``name``, ``status``, ``notebook``, ``started``, ``ended``, ``duration``,
        ``metrics.<key>[.min|.max|.last]`` or ``params.<key>``; ascending, or descending with a
        leading ``-`` (``"-metrics.val/acc"``) or ``descending=True``. Runs without a value
        come last.
    status, tag, notebook, name : exact matches, combined with ``where``.
    limit, offset : one page of the result; ``RunList.total`` counts every match.

    Examples
    --------
    >>> nbtrack.runs(where='tags has "cnn" and metrics.val/acc > 0.9',
    ...              sort="-metrics.val/acc", limit=10).to_pandas()  # doctest: +SKIP
    """
    order, desc = "number", True
    if sort:
        order, desc = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if descending is not None:
        desc = descending
    selection = compile_selection(where, status=status, tag=tag, notebook=notebook, name=name)
    with access.reading(_store_path(workspace)) as db:
        numbers, total = queries.list_run_numbers(
            db, selection, compile_sort(order), descending=desc, limit=limit, offset=offset,
        )
        records = queries.run_records(db, numbers)
    return RunList(_store_path(workspace), records, total)


def leaderboard(
    metric: str,
    goal: str = "min",
    *,
    where: str | None = None,
    n: int | None = 10,
    workspace: str | os.PathLike[str] | None = None,
) -> Leaderboard:
    """The ``n`` runs with the best value of ``metric`` (lowest for ``goal="min"``, highest
    for ``"max"``), with their params; ``.differing`` names the params that differ.

    Examples
    --------
    >>> nbtrack.leaderboard("val/loss", where='tags has "cnn"', n=5)  # doctest: +SKIP
    >>> nbtrack.leaderboard("val/acc", goal="max").to_pandas()  # doctest: +SKIP
    """
    from nbtrack.query.leaderboard import leaderboard as _leaderboard

    selection = compile_selection(where)
    with access.reading(_store_path(workspace)) as db:
        return _leaderboard(db, metric, goal, selection, n)


def sql(
    query: str,
    params: Sequence[Any] | Mapping[str, Any] = (),
    *,
    workspace: str | os.PathLike[str] | None = None,
) -> SqlResult:
    """Run one read-only SQL statement over the store; the rows as a list of dicts.

    The store is opened read-only (``mode=ro`` and ``PRAGMA query_only``), so a statement that
    writes raises ``sqlite3.OperationalError``. The tables are documented in docs/schema.md.
    The result has ``.columns`` and ``.to_pandas()``.

    Examples
    --------
    >>> nbtrack.sql("select key, count(*) as runs from params group by key")  # doctest: +SKIP
    >>> nbtrack.sql("select name from runs where started > ?", [1.7e9])  # doctest: +SKIP
    """
    from nbtrack.query.sql import run_sql

    path = _store_path(workspace)
    access.flush_writer(path)
    return run_sql(path, query, params)


def get_run(ref: int | str | Run, *, workspace: str | os.PathLike[str] | None = None) -> Run:
    """A run by number (``3``, ``"3"``, ``"#3"``), id, or name (the newest of that name).

    Raises ``LookupError`` (``nbtrack.RunNotFound``) when no run matches.
    """
    if isinstance(ref, Run):
        return ref
    path = _store_path(workspace)
    with access.reading(path) as db:
        number = queries.resolve_run(db, ref)
        record = queries.run_records(db, [number])[0]
    active = session.active_run()
    if active is not None and active.id == record["id"]:
        return active
    return Run(path, number, record["id"], record=record)


class RunDiff:
    """What differs between runs: ``params``, ``metrics``, ``cells``, ``variables``, ``env``."""

    def __init__(self, record: RunDiffRecord) -> None:
        self.record = record
        self.runs = record["runs"]
        self.params = record["params"]
        self.metrics = record["metrics"]
        self.cells = record["cells"]
        self.variables = record["variables"]
        self.env = record["env"]

    def changed_params(self) -> dict[str, list[Any]]:
        """``{param: [value in each run]}`` for the params that differ."""
        return {d["key"]: d["values"] for d in self.params if not d["equal"]}

    def __repr__(self) -> str:
        from nbtrack.text import diff_text

        return diff_text(self.record)

    def show(self) -> None:
        """Display the diff in the notebook: params, metric deltas, code per cell."""
        from nbtrack.widgets import show_diff

        show_diff(self)


def diff(*refs: int | str | Run, workspace: str | os.PathLike[str] | None = None) -> RunDiff:
    """Compare two or more runs: params, summary metrics, cells (code), variables, env."""
    if len(refs) < 2:
        raise ValueError("diff() needs at least two runs, e.g. nbtrack.diff('baseline', 'wide')")
    with access.reading(_store_path(workspace)) as db:
        numbers = [
            r.number if isinstance(r, Run) else queries.resolve_run(db, r) for r in refs
        ]
        record = _diff.diff_runs(db, numbers)
    return RunDiff(record)
