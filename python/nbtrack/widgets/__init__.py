"""Inline widgets: a live chart under a training cell, a run card, a runs table, a run diff.

Each function returns an anywidget in a notebook (a Jupyter kernel) and a :class:`TextView`
(plain text) anywhere else, so the same code runs in scripts.

>>> run = nbtrack.init()                          # doctest: +SKIP
>>> display(nbtrack.widgets.live_chart(run))      # doctest: +SKIP
>>> table = nbtrack.show_runs(); table.selected   # doctest: +SKIP

One module per widget (``live_chart``, ``run_card``, ``runs_table``, ``diff_view``), each with
its ES module in ``static/widgets/``; ``shared`` holds the offline Vega bundle's loader, the
text fallback and the helpers they all use.
"""

from __future__ import annotations

from nbtrack.widgets.diff_view import DiffView, diff_view, show_diff
from nbtrack.widgets.live_chart import LIVE_POINTS, LIVE_RATE, LiveChart, live_chart
from nbtrack.widgets.run_card import RunCard, run_card, show_run
from nbtrack.widgets.runs_table import RunsTable, runs_table, show_runs
from nbtrack.widgets.shared import (
    CHART_KEYS,
    CHART_POINTS,
    BundleMissingError,
    TextView,
    VegaLib,
    show,
    vega_lib,
)

__all__ = [
    "CHART_KEYS",
    "CHART_POINTS",
    "LIVE_POINTS",
    "LIVE_RATE",
    "BundleMissingError",
    "DiffView",
    "LiveChart",
    "RunCard",
    "RunsTable",
    "TextView",
    "VegaLib",
    "diff_view",
    "live_chart",
    "run_card",
    "runs_table",
    "show",
    "show_diff",
    "show_run",
    "show_runs",
    "vega_lib",
]
