"""A sweep's live progress in the notebook: trial i of N, elapsed time, the best value so far
and a small leaderboard (fed by :mod:`nbtrack.sweeps.widget`)."""

from __future__ import annotations

import traitlets as t

from nbtrack.widgets.shared import Widget, esm

__all__ = ["SweepProgress"]


class SweepProgress(Widget):
    """The progress of one sweep; ``state`` is :meth:`nbtrack.sweeps.widget.Progress.state_dict`."""

    _esm = esm("sweep_progress.js")
    state = t.Dict().tag(sync=True)
