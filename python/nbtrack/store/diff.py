"""Compare runs: params, summary metrics, the code of their cells, variables, environment."""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Sequence
from typing import Any

from nbtrack.model import (
    CellDiff,
    CellExecution,
    MetricDelta,
    RunDiffRecord,
    ValueDelta,
    VariableDelta,
)
from nbtrack.store import queries
from nbtrack.store.access import Connection

_MISSING = "<missing>"


def diff_runs(db: Connection, numbers: Sequence[int]) -> RunDiffRecord:
    """Compare two or more runs; cells and variables compare the first run with the last."""
    if len(numbers) < 2:
        raise ValueError("diff needs at least two runs")
    records = queries.run_records(db, numbers)  # params and summary values, batched
    first, last = numbers[0], numbers[-1]
    cells_a = queries.cell_executions(db, first)
    cells_b = queries.cell_executions(db, last)
    environments = queries.environments_of(db, numbers)
    envs = [environments[n] for n in numbers]
    return RunDiffRecord(
        runs=records,
        params=_value_deltas([r["params"] for r in records]),
        metrics=_metric_deltas([r["summary"] for r in records]),
        cells=diff_cells(cells_a, cells_b),
        variables=_variable_deltas(cells_a, cells_b),
        # A run whose environment was never captured has nothing to compare.
        env=_value_deltas([_flatten_env(e) for e in envs], only_different={"packages."})
        if all(envs) else [],
    )


def _value_deltas(
    dicts: Sequence[dict[str, Any]], only_different: Collection[str] = frozenset()
) -> list[ValueDelta]:
    keys = sorted(set().union(*dicts))
    out: list[ValueDelta] = []
    for key in keys:
        values = [d.get(key, None) for d in dicts]
        present = [key in d for d in dicts]
        equal = all(present) and all(_same(v, values[0]) for v in values)
        if equal and any(key.startswith(p) for p in only_different):
            continue
        out.append(ValueDelta(key=key, values=values, equal=equal))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b
    )


def _metric_deltas(dicts: Sequence[dict[str, Any]]) -> list[MetricDelta]:
    keys = sorted(set().union(*dicts))
    out: list[MetricDelta] = []
    for key in keys:
        values = [d.get(key) for d in dicts]
        a, b = values[0], values[-1]
        delta = None
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            delta = float(b) - float(a)
        out.append(MetricDelta(key=key, values=values, delta=delta))
    return out


def _cell_key(cell: CellExecution, index: int) -> str:
    return f"id:{cell['cell_id']}" if cell["cell_id"] else f"src:{cell['source']}"


def _latest_per_cell(cells: Sequence[CellExecution]) -> list[CellExecution]:
    """One execution per cell (the last), in order of the cell's first execution."""
    order: list[str] = []
    latest: dict[str, CellExecution] = {}
    for i, cell in enumerate(cells):
        key = _cell_key(cell, i)
        if key not in latest:
            order.append(key)
        latest[key] = cell
    return [latest[k] for k in order]


def diff_cells(a: Sequence[CellExecution], b: Sequence[CellExecution]) -> list[CellDiff]:
    """Align the cells of two runs (by cell id, else by source and order) and diff their code."""
    cells_a, cells_b = _latest_per_cell(a), _latest_per_cell(b)
    keys_a = [_cell_key(c, i) for i, c in enumerate(cells_a)]
    keys_b = [_cell_key(c, i) for i, c in enumerate(cells_b)]
    pairs: list[tuple[CellExecution | None, CellExecution | None]] = []
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend(zip(cells_a[i1:i2], cells_b[j1:j2]))
            continue
        left, right = cells_a[i1:i2], cells_b[j1:j2]
        for k in range(max(len(left), len(right))):
            pairs.append((left[k] if k < len(left) else None, right[k] if k < len(right) else None))
    out: list[CellDiff] = []
    for index, (ca, cb) in enumerate(pairs):
        either = ca or cb
        sa = ca["source"] if ca else None
        sb = cb["source"] if cb else None
        text = "".join(
            difflib.unified_diff(
                _lines(sa), _lines(sb),
                fromfile=f"a/cell[{ca['execution_count'] if ca else '-'}]",
                tofile=f"b/cell[{cb['execution_count'] if cb else '-'}]",
            )
        )
        out.append(
            CellDiff(
                index=index, cell_id=either["cell_id"] if either else None,
                a_source=sa, b_source=sb, diff=text, equal=sa == sb,
            )
        )
    return out


def _lines(source: str | None) -> list[str]:
    """Lines that all end in a newline, so a last line without one diffs cleanly."""
    return [line + "\n" for line in (source or "").splitlines()]


def final_variables(cells: Sequence[CellExecution]) -> dict[str, str | None]:
    """Each variable's last recorded repr across a run's cells (None once deleted)."""
    state: dict[str, str | None] = {}
    for cell in cells:
        for var in cell["variables"]:
            state[var["name"]] = None if var["change"] == "deleted" else var["repr"]
    return state


def _variable_deltas(a: Sequence[CellExecution], b: Sequence[CellExecution]) -> list[VariableDelta]:
    va, vb = final_variables(a), final_variables(b)
    return [
        VariableDelta(name=n, a=va.get(n), b=vb.get(n), equal=va.get(n) == vb.get(n))
        for n in sorted(set(va) | set(vb))
    ]


def _flatten_env(env: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key in ("python_version", "platform", "host", "cpu_count", "memory_bytes", "gpu"):
        if key in env:
            flat[key] = env[key]
    git = env.get("git") or {}
    for key in ("commit", "branch", "dirty"):
        if key in git:
            flat[f"git.{key}"] = git[key]
    if git.get("diff"):
        flat["git.diff"] = git["diff"]
    for name, version in sorted((env.get("packages") or {}).items()):
        flat[f"packages.{name}"] = version
    return flat
