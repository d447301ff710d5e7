"""The batch report: one HTML page comparing the runs of a group (``nbtrack report --group``).

It is the run report (:mod:`nbtrack.report`) over the group's runs: a card per run, the
comparison (params that differ, final metrics, the curves overlaid) and the source notebook
with each cell's executions.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.filter import compile_selection
from nbtrack.jobs.group import group_filter
from nbtrack.store import access, queries

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def group_runs(db_path: Path, group: str) -> list[int]:
    """The numbers of the group's runs, oldest first."""
    if not db_path.exists():
        return []
    with access.reading(db_path) as db:
        numbers, _ = queries.list_run_numbers(db, compile_selection(group_filter(group)),
                                              descending=False)
    return list(numbers)


def export_group_report(
    group: str,
    out: str | os.PathLike[str] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    workspace: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the batch report of ``group`` and return the HTML file's path.

    ``notebook`` is the notebook shown (default: the source notebook the runs recorded, when
    it is still there); ``out`` defaults to ``<group>.report.html`` in the workspace. Raises
    :class:`nbtrack.RunNotFound` when the group has no runs.
    """
    from nbtrack.report import read_notebook, render_report, write_html

    ws = Path(workspace).expanduser().resolve() if workspace else config.workspace_dir()
    path = config.db_path(ws)
    numbers = group_runs(path, group)
    if not numbers:
        raise queries.RunNotFound(f"no runs in group {group!r} (runs tagged group={group})")
    source = Path(notebook).expanduser().resolve() if notebook is not None else \
        _source_notebook(path, numbers, ws)
    nb: dict[str, Any] = read_notebook(source) if source is not None and source.is_file() \
        else {"cells": [], "metadata": {}}
    html = render_report(nb, source if source is not None and source.is_file() else None,
                         runs=numbers, workspace=ws, title=f"Batch {group}")
    target = Path(out).expanduser() if out is not None else \
        ws / f"{_SAFE.sub('_', group)}.report.html"
    if target.is_dir():
        target = target / f"{_SAFE.sub('_', group)}.report.html"
    return write_html(target, html)


def _source_notebook(path: Path, numbers: list[int], workspace: Path) -> Path | None:
    with access.reading(path) as db:
        records = queries.run_records(db, numbers[:1])
    recorded = records[0]["notebook"] if records else None
    if not recorded:
        return None
    candidate = Path(recorded)
    return candidate if candidate.is_absolute() else workspace / candidate


__all__ = ["export_group_report", "group_runs"]
