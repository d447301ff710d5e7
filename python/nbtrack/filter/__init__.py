"""The filter language, compiled to parameterized SQL conditions the store takes.

``params.lr < 0.01 and metrics.loss < 0.5`` reads the same in ``nbtrack.runs(where=...)``,
``nbtrack list --where``, the sidebar's filter box and the server's ``GET runs?where=``.
:func:`compile_filter` turns a filter into a :class:`~nbtrack.condition.Condition` on the
``runs`` table, :func:`compile_selection` adds the exact-match shortcuts (status, tag, ...),
:func:`compile_sort` turns a sort name into an :class:`~nbtrack.condition.Ordering`;
:class:`FilterError` reports a bad filter with the column of the problem.

This package knows the store's schema but never imports ``nbtrack.store``; the store never
imports it either: callers compile and hand the result to ``nbtrack.store.queries``.
"""

from __future__ import annotations

from nbtrack.filter.compiler import compile_filter
from nbtrack.filter.lexer import FilterError
from nbtrack.filter.parser import AGGREGATES, fields_of, parse
from nbtrack.filter.select import compile_selection
from nbtrack.filter.sort import SORT_COLUMNS, compile_sort

__all__ = [
    "AGGREGATES",
    "SORT_COLUMNS",
    "FilterError",
    "compile_filter",
    "compile_selection",
    "compile_sort",
    "fields_of",
    "parse",
]
