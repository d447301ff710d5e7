"""Services for finding runs: the leaderboard, read-only SQL, export, clean-up and generated
runs for tests and benchmarks.

The filter language lives in :mod:`nbtrack.filter`; its public names are re-exported here
(``from nbtrack.query import FilterError, compile_filter`` keeps working).
"""

from __future__ import annotations

from nbtrack.filter import FilterError, compile_filter, parse

__all__ = ["FilterError", "compile_filter", "parse"]
