"""Compiled conditions: what the filter compiler (``nbtrack.filter``) produces and the store
(``nbtrack.store``) takes, and the SQL expressions both must agree on.

Neither package imports the other: callers (the API, the server's answers, the CLI) compile
a filter or a sort name with ``nbtrack.filter`` and hand the result to ``nbtrack.store``.
The SQL text of a :class:`Condition` or :class:`Ordering` is whitelisted fragments only;
everything a user typed travels in ``params`` as bound named parameters.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from nbtrack import config


class Condition(NamedTuple):
    """A SQL condition on the ``runs`` table and its named parameters (``:name`` in ``sql``)."""

    sql: str
    params: Mapping[str, Any]


class Ordering(NamedTuple):
    """An expression runs sort by, the ``LEFT JOIN`` clauses it needs (or ``""``), and its
    named parameters. Runs whose expression is NULL sort last."""

    expr: str
    join: str
    params: Mapping[str, Any]


#: The summary value of a metric: an explicit value (JSON text) overrides the last one. The
#: index ``summary_key_value`` (migration m002) is on exactly this expression.
SUMMARY_VALUE = "(CASE WHEN override IS NOT NULL THEN json_extract(override, '$') ELSE last END)"


def status_sql(now: float | None = None, param: str = "stale") -> tuple[str, dict[str, float]]:
    """``(SQL, params)``: a run's status as readers see it (a running run whose heartbeat is
    older than ``config.stale_after()`` seconds before ``now`` crashed). ``param`` names the
    bound parameter, so several expressions can share one statement."""
    stale = (time.time() if now is None else now) - config.stale_after()
    return (
        f"CASE WHEN runs.status = 'running' AND COALESCE(runs.heartbeat, runs.started) < :{param}"
        " THEN 'crashed' ELSE runs.status END",
        {param: stale},
    )
