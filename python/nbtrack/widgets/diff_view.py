"""The diff view: what differs between runs (``nbtrack.diff(a, b).show()``)."""

from __future__ import annotations

from typing import Any

import traitlets as t

from nbtrack import text
from nbtrack.model import RunDiffRecord
from nbtrack.widgets.shared import TextView, Widget, esm, in_notebook, jsonable, show

__all__ = ["DiffView", "diff_view", "show_diff"]


class DiffView(Widget):
    """What differs between runs: params, metric deltas, code per cell, variables, env.

    Built from one :func:`nbtrack.diff` record; it draws no chart, so it needs no Vega.
    """

    _esm = esm("diff_view.js")
    diff = t.Dict().tag(sync=True)
    show_all = t.Bool(False).tag(sync=True)


def diff_view(diff: Any) -> DiffView | TextView:
    """A view of :func:`nbtrack.diff`'s result (a ``RunDiff`` or its record)."""
    record: RunDiffRecord = getattr(diff, "record", diff)
    if not in_notebook():
        return TextView(text.diff_text(record))
    return DiffView(diff=jsonable(record))


def show_diff(diff: Any) -> None:
    """Display a run diff (``RunDiff.show()``)."""
    show(diff_view(diff))
