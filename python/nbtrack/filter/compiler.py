"""The filter language compiled to a parameterized SQL condition on the ``runs`` table.

Every piece of SQL text comes from this module (whitelisted fragments); everything the user
typed (keys, values, patterns) goes into named parameters ``:w_0``, ``:w_1``, ...
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from typing import Any

from nbtrack.condition import SUMMARY_VALUE, Condition, status_sql
from nbtrack.filter.lexer import FilterError
from nbtrack.filter.parser import BoolOp, Compare, Field, InList, Literal, Node, Not, parse
from nbtrack.model import RUN_STATUSES

#: Prefix of every parameter name the compiled SQL uses (never clashes with the caller's).
PARAM_PREFIX = "w_"

# A param's value column has no type: numbers compare only with numbers, text with text.
_NUMERIC = "typeof(value) IN ('integer', 'real')"
_TEXT = "typeof(value) = 'text'"

_RUN_TEXT = {"name": "runs.name", "id": "runs.id", "notebook": "runs.notebook",
             "notes": "runs.notes"}
_ORDER = ("<", "<=", ">", ">=")


def compile_filter(text: str, *, now: float | None = None) -> Condition:
    """A :class:`~nbtrack.condition.Condition` on ``runs`` keeping the runs the filter
    ``text`` keeps (a ``(sql, params)`` named tuple).

    ``now`` (default: the current time) anchors relative times such as ``-7d``. Raises
    :class:`FilterError` (a ``ValueError``) with the column of the problem.
    """
    return _Compiler(text, time.time() if now is None else now).compile(parse(text))


class _Compiler:
    def __init__(self, text: str, now: float) -> None:
        self.text = text
        self.now = now
        self.params: dict[str, Any] = {}
        self.count = 0

    def compile(self, node: Node) -> Condition:
        return Condition(self.node(node), self.params)

    def bind(self, value: Any) -> str:
        name = f"{PARAM_PREFIX}{self.count}"
        self.count += 1
        self.params[name] = value
        return ":" + name

    def error(self, problem: str, pos: int, expected: str = "") -> FilterError:
        return FilterError(problem, self.text, pos, expected)

    # -- structure -----------------------------------------------------------------------
    def node(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op.upper()} ".join(self.node(n) for n in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item)})"
        if isinstance(node, InList):
            return self.in_list(node)
        return self.compare(node)

    def compare(self, c: Compare) -> str:
        kind = c.field.kind
        if c.op == "has" and kind != "tags":
            raise self.error(f"'has' works on tags only (tags has \"cnn\"), not {c.field.text}",
                             c.pos, "=, !=, <, <=, >, >=, ~ or in")
        if kind in ("params", "metrics") and c.value.kind == "null":
            return self.missing(c)
        if kind == "params":
            return self.keyed("params", c.field, lambda: self.value_cond(c))
        if kind == "metrics":
            return self.keyed("summary", c.field, lambda: self.metric_cond(c))
        if kind == "tags":
            return self.tags(c)
        if kind == "created":
            return self.created(c)
        if kind == "number":
            return self.number(c)
        return self.run_text(c)

    def in_list(self, node: InList) -> str:
        """``field in (a, b)`` is ``field = a or field = b``; ``not in`` its negation."""
        field = node.field
        eq = [Compare(field, "=", v, node.pos) for v in node.values]
        for c in eq:
            if c.value.kind == "null":
                raise self.error("null cannot be in a list; use = null", c.value.pos, "a value")
        if field.kind in ("params", "metrics"):
            table = "params" if field.kind == "params" else "summary"

            def cond() -> list[str]:
                parts = [
                    f"({alternative})"
                    for c in eq
                    for alternative in (
                        self.value_cond(c) if field.kind == "params" else self.metric_cond(c)
                    )
                ]
                joined = " OR ".join(parts)
                return [f"NOT ({joined})" if node.negated else f"({joined})"]

            # A run without the key is in neither ``x in (...)`` nor ``x not in (...)``.
            return self.keyed(table, field, cond)
        if field.kind == "tags":
            marks = ", ".join(self.bind(self.text_value(c.value, field)) for c in eq)
            exists = f"EXISTS (SELECT 1 FROM json_each(runs.tags) AS t WHERE t.value IN ({marks}))"
            return f"(NOT {exists})" if node.negated else exists
        if field.kind == "created":
            raise self.error("created takes =, !=, <, <=, >, >=; not in", node.pos,
                             "a comparison operator")
        joined = " OR ".join(self.compare(c) for c in eq)
        return f"(NOT ({joined}))" if node.negated else f"({joined})"

    # -- params and metrics ------------------------------------------------------------------
    def keyed(self, table: str, field: Field, cond: Callable[[], list[str]]) -> str:
        """Runs with a row of ``table`` for the field's key whose value meets one of the
        alternatives ``cond`` returns (each its own subquery, so each can use an index)."""
        key = self.bind(field.key)
        subqueries = [
            f"runs.number IN (SELECT run FROM {table} WHERE key = {key} AND {alternative})"
            for alternative in cond()
        ]
        return subqueries[0] if len(subqueries) == 1 else "(" + " OR ".join(subqueries) + ")"

    def missing(self, c: Compare) -> str:
        """``= null``: the run has no value for the key (no row, or a null / NaN value)."""
        self.only_equality(c, "null")
        table = "params" if c.field.kind == "params" else "summary"
        expr = "value" if table == "params" else (c.field.aggregate or SUMMARY_VALUE)
        key = self.bind(c.field.key)
        test = "NOT IN" if c.op == "=" else "IN"
        return (f"runs.number {test} (SELECT run FROM {table} WHERE key = {key}"
                f" AND {expr} IS NOT NULL)")

    def value_cond(self, c: Compare) -> list[str]:
        """Conditions (any may hold) on a param's ``value`` / ``kind`` for ``value op literal``.

        Written so that SQLite answers them from the ``(key, value)`` index: a range on
        ``value`` with a ``typeof`` test (numbers sort before text in an index).
        """
        op, lit = c.op, c.value
        self.check_operator(c, ("=", "!=", *_ORDER, "~"))
        if op == "~":
            return [f"value GLOB {self.pattern(lit)} AND {_TEXT}"]
        if lit.kind == "bool":
            self.only_equality(c, "true and false")
            mark = self.bind(int(lit.value))
            cond = f"kind = 'bool' AND value = {mark}"
            return [cond if op == "=" else f"NOT ({cond})"]
        if lit.kind == "duration":
            raise self.error("relative times such as -7d compare with created only",
                             lit.pos, "a number or a string")
        mark = self.bind(lit.value if lit.kind in ("string", "number") else lit.text)
        if op == "!=":
            return [f"value IS NOT {mark}"]
        if lit.kind != "number":
            return [f"value {op} {mark} AND {_TEXT}"]  # dates compare as their text
        alternatives = [f"value {op} {mark} AND {_NUMERIC}"]
        # Infinite params are stored as the text 'inf' / '-inf' (kind float_special).
        if op in ("<", "<="):
            alternatives.append("value = '-inf' AND kind = 'float_special'")
        elif op in (">", ">="):
            alternatives.append("value = 'inf' AND kind = 'float_special'")
        return alternatives

    def metric_cond(self, c: Compare) -> list[str]:
        """A condition on a ``summary`` row: the summary value, or its min / max / last."""
        op, lit = c.op, c.value
        self.check_operator(c, ("=", "!=", *_ORDER, "~"))
        column = c.field.aggregate  # min, max, last: REAL columns (NaN stored as NULL)
        if lit.kind in ("duration", "date"):
            raise self.error("metrics compare with numbers", lit.pos, "a number")
        if op == "~" or lit.kind == "string":
            if column:
                raise self.error(f"metrics.{c.field.key}.{column} is a number", lit.pos,
                                 "a number")
            text = f"typeof({SUMMARY_VALUE}) = 'text'"  # an explicit text summary value
            if op == "~":
                return [f"{SUMMARY_VALUE} GLOB {self.pattern(lit)} AND {text}"]
            mark = self.bind(lit.value)
            if op == "!=":
                return [f"{SUMMARY_VALUE} IS NOT {mark}"]
            return [f"{SUMMARY_VALUE} {op} {mark} AND {text}"]
        if lit.kind == "bool":
            self.only_equality(c, "true and false")
        mark = self.bind(int(lit.value) if lit.kind == "bool" else lit.value)
        if column:
            return [f"{column} IS NOT {mark}" if op == "!=" else f"{column} {op} {mark}"]
        if op == "!=":
            return [f"{SUMMARY_VALUE} IS NOT {mark}"]
        # A range on the summary_key_value index; text sorts after numbers, so only the
        # ranges reaching upwards need to leave text values out.
        cond = f"{SUMMARY_VALUE} {op} {mark}"
        if op in (">", ">="):
            cond += f" AND typeof({SUMMARY_VALUE}) IN ('integer', 'real')"
        return [cond]

    # -- run columns ---------------------------------------------------------------------
    def run_text(self, c: Compare) -> str:
        field, op, lit = c.field, c.op, c.value
        self.check_operator(c, ("=", "!=", *_ORDER, "~"))
        if field.kind == "status":
            column = self.status_expr()
            if lit.kind == "string" and op in ("=", "!=") and lit.value not in RUN_STATUSES:
                raise self.error(f"unknown status {lit.value!r}", lit.pos,
                                 "one of " + ", ".join(RUN_STATUSES))
        else:
            column = _RUN_TEXT[field.kind]
        if lit.kind == "null":
            self.only_equality(c, "null")
            return f"{column} IS {'' if op == '=' else 'NOT '}NULL"
        if op == "~":
            return f"{column} GLOB {self.pattern(lit)}"
        mark = self.bind(self.text_value(lit, field))
        return f"{column} IS NOT {mark}" if op == "!=" else f"{column} {op} {mark}"

    def number(self, c: Compare) -> str:
        lit = c.value
        self.check_operator(c, ("=", "!=", *_ORDER))
        if lit.kind != "number" or not isinstance(lit.value, int):
            raise self.error("a run's number is a whole number", lit.pos, "a whole number")
        return f"runs.number {c.op} {self.bind(lit.value)}"

    def tags(self, c: Compare) -> str:
        op, lit = c.op, c.value
        self.check_operator(c, ("has", "=", "!=", "~"))
        if lit.kind == "null":
            self.only_equality(c, "null")
            return f"runs.tags {'=' if op == '=' else '!='} '[]'"
        if op == "~":
            test = f"t.value GLOB {self.pattern(lit)}"
        else:
            test = f"t.value = {self.bind(self.text_value(lit, c.field))}"
        exists = f"EXISTS (SELECT 1 FROM json_each(runs.tags) AS t WHERE {test})"
        return f"(NOT {exists})" if op == "!=" else exists

    def created(self, c: Compare) -> str:
        """``created`` against a date (the whole day / minute / second), a time or -7d."""
        op, lit = c.op, c.value
        self.check_operator(c, ("=", "!=", *_ORDER))
        if lit.kind == "duration":
            start = end = self.now + lit.value
        elif lit.kind == "number":
            start = end = float(lit.value)  # seconds since the epoch
        elif lit.kind in ("date", "string"):
            start, end = self.date_range(lit)
        else:
            raise self.error("created compares with a date (2026-11-01, 2026-11-01T12:00)"
                             " or a relative time (-7d, -12h)", lit.pos, "a date")
        lo, hi = self.bind(start), (self.bind(end) if end != start else None)
        if hi is None:
            return f"runs.started {op} {lo}" if op != "!=" else f"runs.started != {lo}"
        return {
            "=": f"(runs.started >= {lo} AND runs.started < {hi})",
            "!=": f"(runs.started < {lo} OR runs.started >= {hi})",
            "<": f"runs.started < {lo}",
            "<=": f"runs.started < {hi}",
            ">": f"runs.started >= {hi}",
            ">=": f"runs.started >= {lo}",
        }[op]

    def date_range(self, lit: Literal) -> tuple[float, float]:
        """Seconds since the epoch where the date ``lit`` starts and ends (local time)."""
        text = str(lit.value).strip()
        try:
            moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.error(f"{text!r} is not a date", lit.pos,
                             "a date such as 2026-11-01 or 2026-11-01T12:00, or -7d") from None
        clock = text[10:].lstrip("T ")
        if not clock:
            step = _dt.timedelta(days=1)
        elif clock.count(":") == 1 or (clock.count(":") == 2 and len(clock.split(":")[1]) > 2):
            step = _dt.timedelta(minutes=1)
        else:
            step = _dt.timedelta(seconds=1)
        return moment.timestamp(), (moment + step).timestamp()

    # -- helpers -------------------------------------------------------------------------
    def status_expr(self) -> str:
        expr, args = status_sql(self.now, param=f"{PARAM_PREFIX}stale")
        self.params.update(args)
        return f"({expr})"

    def text_value(self, lit: Literal, field: Field) -> str:
        if lit.kind in ("string", "date"):
            return str(lit.value)
        if lit.kind == "number":
            return lit.text
        raise self.error(f"{field.text} is text: compare it with a quoted string",
                         lit.pos, "a string")

    def pattern(self, lit: Literal) -> str:
        if lit.kind not in ("string", "date"):
            raise self.error("~ takes a quoted glob pattern such as \"base*\"", lit.pos,
                             "a string")
        return self.bind(str(lit.value))

    def check_operator(self, c: Compare, allowed: tuple[str, ...]) -> None:
        if c.op not in allowed:
            raise self.error(f"{c.field.text} does not take {c.op}", c.pos,
                             "one of " + ", ".join(allowed))

    def only_equality(self, c: Compare, what: str) -> None:
        if c.op not in ("=", "!="):
            raise self.error(f"{what} compare with = or != only", c.pos, "= or !=")
