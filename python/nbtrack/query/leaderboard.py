"""Runs ranked by a metric's best value, with their params and which of them differ."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.condition import Condition
from nbtrack.store import queries
from nbtrack.store.access import Connection

if TYPE_CHECKING:  # pragma: no cover
    import pandas

GOALS = ("min", "max")
#: Param columns the text table shows at most (differing ones first).
MAX_PARAM_COLUMNS = 8


def leaderboard_numbers(
    db: Connection, metric: str, goal: str = "min", where: Condition | None = None,
    n: int | None = 10,
) -> tuple[list[tuple[int, float]], int]:
    """``([(run number, best value)], total)``: the ``n`` best runs (``None``: all) that
    logged ``metric`` among those ``where`` (compiled by ``nbtrack.filter``) keeps."""
    if goal not in GOALS:
        raise ValueError(f"goal must be 'min' or 'max', not {goal!r}")
    if not isinstance(metric, str) or not metric:
        raise ValueError("leaderboard needs a metric name, e.g. leaderboard('val/loss')")
    column = "s.min" if goal == "min" else "s.max"  # whitelisted by GOALS
    args: dict[str, Any] = {"lb_key": metric}
    clause = f"runs.deleted = 0 AND {column} IS NOT NULL"
    if where is not None:
        clause += f" AND ({where.sql})"
        args.update(where.params)
    base = (f"FROM summary AS s JOIN runs ON runs.number = s.run"
            f" WHERE s.key = :lb_key AND {clause}")
    total = db.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
    page = ""
    if n is not None:
        page = " LIMIT :lb_n"
        args["lb_n"] = int(n)
    direction = "ASC" if goal == "min" else "DESC"
    rows = db.execute(
        f"SELECT runs.number, {column} {base} ORDER BY {column} {direction}, runs.number DESC"
        + page, args,
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows], int(total)


def leaderboard(
    db: Connection, metric: str, goal: str = "min", where: Condition | None = None,
    n: int | None = 10,
) -> Leaderboard:
    """The :class:`Leaderboard` of ``metric`` over the runs ``where`` keeps (all: ``None``)."""
    ranked, total = leaderboard_numbers(db, metric, goal, where, n)
    records = queries.run_records(db, [number for number, _ in ranked])
    by_number = {r["number"]: r for r in records}
    rows: list[dict[str, Any]] = []
    for rank, (number, best) in enumerate(ranked, start=1):
        r = by_number.get(number)
        if r is None:
            continue
        rows.append({
            "rank": rank, "number": number, "id": r["id"], "name": r["name"],
            "status": r["status"], "started": r["started"], "best": best,
            "value": r["summary"].get(metric), "params": r["params"],
        })
    return Leaderboard(metric, goal, rows, total)


class Leaderboard:
    """Runs ranked by the best (``goal``: min or max) value of ``metric``.

    ``records`` holds one dict per run (rank, number, id, name, status, started, best, value,
    params); ``differing`` names the params whose values differ among these runs (a missing
    param counts as different). Printing it shows a table whose differing param columns are
    marked ``*``.
    """

    def __init__(self, metric: str, goal: str, records: list[dict[str, Any]], total: int) -> None:
        self.metric = metric
        self.goal = goal
        self.records = records
        self.total = total
        keys = sorted({k for r in records for k in r["params"]})
        self.differing = [k for k in keys if _differs([r["params"] for r in records], k)]
        self.params = self.differing + [k for k in keys if k not in self.differing]

    def __len__(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape: metric, goal, total, differing, runs (see the README)."""
        return {"metric": self.metric, "goal": self.goal, "total": self.total,
                "differing": list(self.differing), "runs": [dict(r) for r in self.records]}

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run: rank, number, name, status, the best value, ``params.*`` columns."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("Leaderboard.to_pandas() needs pandas: pip install pandas") from exc
        best = f"metrics.{self.metric}.{self.goal}"
        rows = [
            {"rank": r["rank"], "number": r["number"], "id": r["id"], "name": r["name"],
             "status": r["status"], best: r["best"],
             **{f"params.{k}": r["params"].get(k) for k in self.params}}
            for r in self.records
        ]
        columns = ["rank", "number", "id", "name", "status", best,
                   *(f"params.{k}" for k in self.params)]
        return pd.DataFrame(rows, columns=columns)

    def _columns(self) -> tuple[list[str], list[list[str]], int]:
        from nbtrack.text import fmt_value

        shown = self.params[:MAX_PARAM_COLUMNS]
        headers = ["rank", "#", "name", "status", f"{self.metric} ({self.goal})",
                   *(k + ("*" if k in self.differing else "") for k in shown)]
        rows = [
            [str(r["rank"]), str(r["number"]), fmt_value(r["name"], 30), r["status"],
             fmt_value(r["best"], 14), *(fmt_value(r["params"].get(k), 16) for k in shown)]
            for r in self.records
        ]
        return headers, rows, len(self.params) - len(shown)

    def __repr__(self) -> str:
        from nbtrack.text import table

        if not self.records:
            return f"no runs have logged {self.metric!r}"
        headers, rows, hidden = self._columns()
        lines = [table(headers, rows)]
        notes = []
        if self.differing:
            notes.append("* differs among these runs")
        if hidden:
            notes.append(f"{hidden} more params not shown")
        if self.total > len(self.records):
            notes.append(f"top {len(self.records)} of {self.total} runs")
        if notes:
            lines.append("(" + "; ".join(notes) + ")")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.records:
            return f"<p>no runs have logged {html.escape(self.metric)}</p>"
        headers, rows, _ = self._columns()
        differ = [False] * 5 + [h.endswith("*") for h in headers[5:]]
        style = ' style="background:rgba(255,200,0,0.25)"'
        head = "".join(f"<th{style if d else ''}>{html.escape(h)}</th>"
                       for h, d in zip(headers, differ))
        body = "".join(
            "<tr>" + "".join(f"<td{style if d else ''}>{html.escape(c)}</td>"
                             for c, d in zip(row, differ)) + "</tr>"
            for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _differs(params: Sequence[dict[str, Any]], key: str) -> bool:
    missing = object()
    values = [p.get(key, missing) for p in params]
    first = values[0]
    return any(not _same(v, first) for v in values[1:])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b
