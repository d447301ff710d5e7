"""W&B's step and commit rules, apart from any store.

W&B keeps a *current step* and the values logged at it that are not yet written (the
pending row). ``log(data, step, commit)``:

- ``step`` larger than the current one: the pending row is written at the current step,
  then the current step becomes ``step``;
- ``step`` smaller than the current one: the call is ignored, with W&B's warning;
- ``data`` joins the pending row (a key logged twice at one step keeps the later value);
- the row is written when ``commit`` is true, or when ``commit`` is None and no ``step`` was
  given; writing it moves the current step one on (even when the row is empty, so a bare
  ``log({})`` only commits).

This is the rule of W&B's own handler (``handlePartialHistorySync`` in wandb-core).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: W&B's warning for a step smaller than the current one (its exact text).
STALE_STEP = ("Tried to log to step {step} that is less than the current step {current}."
              " Steps must be monotonically increasing, so this data will be ignored."
              " See https://wandb.me/define-metric to log data out of order.")


class StepBuffer:
    """The current step and its pending row; :meth:`log` returns the rows to write."""

    __slots__ = ("step", "pending")

    def __init__(self, start: int = 0) -> None:
        self.step = start
        self.pending: dict[str, Any] = {}

    def log(self, data: Mapping[str, Any], step: int | None = None,
            commit: bool | None = None) -> tuple[list[tuple[int, dict[str, Any]]], str | None]:
        """Apply one ``log()`` call: ``(rows to write as (step, row), a warning or None)``."""
        rows: list[tuple[int, dict[str, Any]]] = []
        if step is not None:
            if step > self.step:
                self._flush(rows, step)
            elif step < self.step:
                return rows, STALE_STEP.format(step=step, current=self.step)
        self.pending.update(data)
        flush = (step is None) if commit is None else bool(commit)
        if flush:
            self._flush(rows, self.step + 1)
        return rows, None

    def flush(self) -> list[tuple[int, dict[str, Any]]]:
        """Write the pending row (at finish); the current step moves on if there was one."""
        rows: list[tuple[int, dict[str, Any]]] = []
        if self.pending:
            self._flush(rows, self.step + 1)
        return rows

    def _flush(self, rows: list[tuple[int, dict[str, Any]]], next_step: int) -> None:
        if self.pending:
            rows.append((self.step, self.pending))
            self.pending = {}
        self.step = next_step


__all__ = ["STALE_STEP", "StepBuffer"]
