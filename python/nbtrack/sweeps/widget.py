"""A sweep's live progress: trial i of N, elapsed time, the best value so far and a small
leaderboard. In a notebook an inline widget (:mod:`nbtrack.widgets.sweep_progress`), elsewhere
one line per finished trial."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable
from typing import Any

from nbtrack import text
from nbtrack.recorder import warn
from nbtrack.sweeps.space import Plan
from nbtrack.sweeps.trial import Outcome

__all__ = ["LEADERBOARD_ROWS", "Progress", "progress_view"]

#: Trials in the widget's leaderboard.
LEADERBOARD_ROWS = 5
_DONE = ("finished", "pruned", "failed", "interrupted")


class Progress:
    """What the views show, from the trials seen so far (whatever process ran them)."""

    def __init__(self, name: str, plan: Plan, total: int | None) -> None:
        self.name = name
        self.metric = plan.metric
        self.goal = plan.goal
        self.total = total
        self.started = time.time()
        self.trials: dict[int, Outcome] = {}
        self.reason: str | None = None
        self.state = "running"

    def add(self, outcome: Outcome) -> None:
        """A trial ended (or changed)."""
        self.trials[outcome.number] = outcome

    def done(self) -> list[Outcome]:
        return [o for o in self.trials.values() if o.status in _DONE]

    def ranked(self) -> list[Outcome]:
        """Trials with a value, best first (pruned trials count with their last value)."""
        scored = [o for o in self.trials.values()
                  if o.status in ("finished", "pruned") and o.value is not None
                  and math.isfinite(o.value)]
        return sorted(scored, key=lambda o: (o.status != "finished",
                                             o.value if self.goal == "minimize"
                                             else -(o.value or 0.0)))

    def best(self) -> Outcome | None:
        finished = [o for o in self.ranked() if o.status == "finished"]
        return finished[0] if finished else None

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.trials.values():
            out[o.status] = out.get(o.status, 0) + 1
        return out

    def state_dict(self) -> dict[str, Any]:
        """The widget's data (plain JSON)."""
        best = self.best()
        return {
            "name": self.name, "metric": self.metric, "goal": self.goal,
            "done": len(self.done()), "total": self.total, "started": self.started,
            "elapsed": time.time() - self.started, "state": self.state, "reason": self.reason,
            "counts": self.counts(),
            "best": None if best is None else _row(best),
            "leaderboard": [_row(o) for o in self.ranked()[:LEADERBOARD_ROWS]],
        }

    def line(self, outcome: Outcome) -> str:
        """One finished trial as a line of text."""
        total = "?" if self.total is None else str(self.total)
        value = "" if outcome.value is None else f" {self.metric}={text.fmt_value(outcome.value)}"
        best = self.best()
        best_text = "" if best is None else (
            f"; best {text.fmt_value(best.value)} (trial {best.number})")
        error = f" ({outcome.error})" if outcome.error and outcome.status == "failed" else ""
        return (f"[{self.name}] trial {outcome.number} {outcome.status}{value}{error} in "
                f"{text.fmt_duration(outcome.duration)}; {len(self.done())}/{total} done"
                f"{best_text}; elapsed {text.fmt_duration(time.time() - self.started)}")


def _row(o: Outcome) -> dict[str, Any]:
    return {"trial": o.number, "run": o.run_number, "status": o.status,
            "value": o.value if o.value is not None and math.isfinite(o.value) else None,
            "params": {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v)
                       for k, v in o.params.items()}}


class _View:
    """The base view: keeps the :class:`Progress`; subclasses draw it."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def add(self, outcome: Outcome) -> None:
        self.progress.add(outcome)
        self.draw(outcome)

    def sync(self, outcomes: Iterable[Outcome]) -> None:
        """Trials read from the study (other processes' too): draw those that ended since the
        last call (the first call only takes in a resumed sweep's earlier trials)."""
        first = not self._synced
        for outcome in outcomes:
            seen = self.progress.trials.get(outcome.number)
            if seen is not None and seen.status == outcome.status:
                continue
            self.progress.add(outcome)
            if not first and outcome.status in _DONE:
                self.draw(outcome)
        self._synced = True
        self.draw(None)

    _synced = False

    def close(self, reason: str | None) -> None:
        self.progress.reason = reason
        self.progress.state = "interrupted" if reason == "interrupted" else (
            "stopped" if reason else "done")
        self.draw(None)

    def draw(self, outcome: Outcome | None) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class _Silent(_View):
    def draw(self, outcome: Outcome | None) -> None:
        pass


class _Text(_View):
    """One line per finished trial, and a closing line."""

    def draw(self, outcome: Outcome | None) -> None:
        p = self.progress
        if outcome is not None and outcome.status in _DONE:
            print(p.line(outcome), flush=True)
        elif outcome is None and p.state != "running":
            best = p.best()
            best_text = "no finished trial" if best is None else (
                f"best {p.metric}={text.fmt_value(best.value)} (trial {best.number}, "
                f"run #{best.run_number}) {best.params}")
            why = f" ({p.reason})" if p.reason else ""
            print(f"[{p.name}] {p.state}{why}: {len(p.done())} trials; {best_text}",
                  file=sys.stderr if p.reason else sys.stdout, flush=True)


class _Widget(_View):
    """The inline widget, redrawn after each trial."""

    def __init__(self, progress: Progress, widget: Any) -> None:
        super().__init__(progress)
        self.widget = widget

    def draw(self, outcome: Outcome | None) -> None:
        try:
            self.widget.state = self.progress.state_dict()
        except Exception as exc:  # noqa: BLE001 - a view never stops the sweep
            warn(f"nbtrack could not update the sweep's progress: {exc!r}")


def progress_view(name: str, plan: Plan, total: int | None, *, enabled: bool = True) -> _View:
    """The progress view for this process: a widget in a notebook, text elsewhere, nothing
    when not ``enabled``."""
    progress = Progress(name, plan, total)
    if not enabled:
        return _Silent(progress)
    try:
        from nbtrack.widgets.shared import in_notebook
    except ImportError:  # anywidget missing: text is enough
        return _Text(progress)
    if not in_notebook():
        return _Text(progress)
    try:
        from nbtrack.widgets.shared import show
        from nbtrack.widgets.sweep_progress import SweepProgress

        widget = SweepProgress(state=progress.state_dict())
        show(widget)
        return _Widget(progress, widget)
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not show the sweep's progress widget: {exc!r}")
        return _Text(progress)
