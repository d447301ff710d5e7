"""Sort names (``started``, ``metrics.val/loss.min``, ``params.lr``) compiled to an
:class:`~nbtrack.condition.Ordering` the store sorts runs by.

The SQL is whitelisted text; the metric or param name the user typed is a bound parameter.
"""

from __future__ import annotations

import time

from nbtrack.condition import Ordering, status_sql
from nbtrack.filter.parser import AGGREGATES

#: Run columns runs sort by, and their SQL (``{status}``: the status readers see).
SORT_COLUMNS: dict[str, str] = {
    "number": "runs.number",
    "name": "runs.name",
    "status": "({status})",
    "notebook": "runs.notebook",
    "started": "runs.started",
    "ended": "runs.ended",
    "duration": (
        "(COALESCE(runs.ended, CASE WHEN ({status}) = 'running' THEN :sort_now"
        " ELSE COALESCE(runs.heartbeat, runs.started) END) - runs.started)"
    ),
}

_SUMMARY_VALUE = (
    "CASE WHEN sort_s.override IS NOT NULL THEN json_extract(sort_s.override, '$')"
    " ELSE sort_s.last END"
)
_SUMMARY_JOIN = " LEFT JOIN summary AS sort_s ON sort_s.run = runs.number AND sort_s.key = {key}"
#: Does a metric named exactly like the whole sort key exist (``loss.min`` may be a name)?
_EXACT = "EXISTS (SELECT 1 FROM summary WHERE key = :sort_key)"


def compile_sort(name: str, *, now: float | None = None) -> Ordering:
    """The :class:`~nbtrack.condition.Ordering` of a sort name.

    ``name`` is a run column (:data:`SORT_COLUMNS`), ``metrics.<key>`` (the summary value),
    ``metrics.<key>.min`` / ``.max`` / ``.last`` (unless a metric is named ``<key>.min``
    itself) or ``params.<key>``. Anything else raises ``ValueError``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("sort must be a run column, metrics.<key> or params.<key>")
    if name in SORT_COLUMNS:
        now = time.time() if now is None else now
        status, params = status_sql(now, param="sort_stale")
        return Ordering(SORT_COLUMNS[name].format(status=status), "",
                        {**params, "sort_now": now})
    kind, _, key = name.partition(".")
    if kind == "params" and key:
        join = (" LEFT JOIN params AS sort_p ON sort_p.run = runs.number"
                " AND sort_p.key = :sort_key")
        return Ordering("sort_p.value", join, {"sort_key": key})
    if kind == "metrics" and key:
        base, _, aggregate = key.rpartition(".")
        if not base or aggregate not in AGGREGATES:
            return Ordering(_SUMMARY_VALUE, _SUMMARY_JOIN.format(key=":sort_key"),
                            {"sort_key": key})
        # ``metrics.loss.min`` is the min of ``loss``, unless a metric is named ``loss.min``.
        join = _SUMMARY_JOIN.format(key=f"CASE WHEN {_EXACT} THEN :sort_key ELSE :sort_base END")
        expr = f"CASE WHEN {_EXACT} THEN {_SUMMARY_VALUE} ELSE sort_s.{aggregate} END"
        return Ordering(expr, join, {"sort_key": key, "sort_base": base})
    raise ValueError(
        f"cannot sort by {name!r}: use one of {', '.join(SORT_COLUMNS)},"
        " metrics.<key>[.min|.max|.last] or params.<key>"
    )
