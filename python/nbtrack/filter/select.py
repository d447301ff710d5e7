"""One :class:`~nbtrack.condition.Condition` from a filter expression and the exact-match
shortcuts the API and the sidebar offer (status, tag, notebook, name, plain-text search)."""

from __future__ import annotations

import time
from typing import Any

from nbtrack.condition import Condition, status_sql
from nbtrack.filter.compiler import compile_filter
from nbtrack.model import RUN_STATUSES

_SEARCH = (
    "(instr(lower(runs.name), :sel_search) OR instr(lower(runs.id), :sel_search)"
    " OR instr(lower(runs.notes), :sel_search)"
    " OR instr(lower(COALESCE(runs.notebook, '')), :sel_search)"
    # the raw JSON text first: json_each only runs for the rows that may match
    " OR (instr(lower(runs.tags), :sel_search) AND EXISTS (SELECT 1 FROM json_each(runs.tags)"
    " WHERE instr(lower(json_each.value), :sel_search))))"
)


def compile_selection(
    where: str | None = None,
    *,
    status: str | None = None,
    tag: str | None = None,
    notebook: str | None = None,
    name: str | None = None,
    search: str | None = None,
    now: float | None = None,
) -> Condition | None:
    """The runs that match every argument given, as one condition (``None``: all runs).

    ``where`` is a filter expression (a bad one raises :class:`~nbtrack.filter.FilterError`);
    ``status``, ``tag``, ``notebook`` and ``name`` are exact matches (an unknown status raises
    ``ValueError``); ``search`` is a case-insensitive substring of the name, id, notes,
    notebook or a tag.
    """
    now = time.time() if now is None else now
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if status:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(RUN_STATUSES)}")
        expr, args = status_sql(now, param="sel_stale")
        clauses.append(f"({expr}) = :sel_status")
        params.update(args, sel_status=status)
    if tag:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = :sel_tag)"
        )
        params["sel_tag"] = tag
    if notebook:
        clauses.append("runs.notebook = :sel_notebook")
        params["sel_notebook"] = notebook
    if name:
        clauses.append("runs.name = :sel_name")
        params["sel_name"] = name
    if search:
        clauses.append(_SEARCH)
        params["sel_search"] = search.lower()
    if where and where.strip():
        compiled = compile_filter(where, now=now)  # its parameters are all named w_*
        clauses.append(f"({compiled.sql})")
        params.update(compiled.params)
    if not clauses:
        return None
    return Condition(" AND ".join(clauses), params)
