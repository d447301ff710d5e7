"""Finding runs: the filter language, the leaderboard, read-only SQL, export and clean-up.

The filter language (``params.lr < 0.01 and metrics.loss < 0.5``) is the same in
``nbtrack.runs(where=...)``, ``nbtrack list --where``, the sidebar's filter box and the server's
``GET runs?where=``. :func:`compile_filter` turns it into a parameterized SQL condition on the
``runs`` table; :class:`FilterError` reports a bad filter with the column of the problem.
"""

from __future__ import annotations

from nbtrack.query.compiler import compile_filter
from nbtrack.query.lexer import FilterError
from nbtrack.query.parser import parse

__all__ = ["FilterError", "compile_filter", "parse"]
