"""Which cell execution a logged point belongs to: the cell running in the thread that logs it.

The kernel hooks call :meth:`CurrentCell.enter` when a cell starts and :meth:`CurrentCell.exit`
when it ends, on the thread that executes the cell. A point logged from that thread is credited
to the cell; a point logged from any other thread (a data loader, a training thread started by
an earlier cell) is credited to no cell, rather than to whatever cell happens to be running.
"""

from __future__ import annotations

import threading

_get_ident = threading.get_ident


class CurrentCell:
    """The cell execution running now, and the thread running it."""

    __slots__ = ("cell", "thread")

    def __init__(self) -> None:
        self.cell: int | None = None
        self.thread: int | None = None

    def enter(self, cell: int) -> None:
        """``cell`` starts on the calling thread."""
        self.cell = None
        self.thread = _get_ident()
        self.cell = cell

    def exit(self) -> None:
        """The cell ended."""
        self.cell = None
        self.thread = None

    def get(self) -> int | None:
        """The cell running on the calling thread, or None."""
        cell = self.cell
        return cell if self.thread == _get_ident() else None


#: The process's one cell context (a kernel runs one cell at a time).
current_cell = CurrentCell()
