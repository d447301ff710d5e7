"""A plain progress bar with a caption (ipywidgets' ``IntProgress``), for long commands run
from a notebook (``nbtrack.sync``, ``nbtrack.pull``)."""

from __future__ import annotations

from typing import Any

__all__ = ["ProgressBar"]


class ProgressBar:
    """An ``IntProgress`` bar and a label, displayed in the notebook when created."""

    def __init__(self) -> None:
        import ipywidgets
        from IPython.display import display

        self.bar: Any = ipywidgets.IntProgress(min=0, max=1, value=0)
        self.caption: Any = ipywidgets.Label("")
        display(ipywidgets.HBox([self.bar, self.caption]))  # type: ignore[no-untyped-call]

    def update(self, done: int, total: int, text: str) -> None:
        """Show ``done`` of ``total`` and ``text``."""
        self.bar.max = max(total, 1)
        self.bar.value = done
        self.caption.value = text

    def finish(self) -> None:
        """Mark the bar done."""
        self.bar.bar_style = "success"
