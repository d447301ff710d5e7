"""The run card: one run's status, params, summary values and curves (``run.show()``)."""

from __future__ import annotations

import traitlets as t

from nbtrack import text
from nbtrack.model import RunRecord
from nbtrack.run import Run
from nbtrack.widgets.shared import (
    ChartWidget,
    TextView,
    curves_spec,
    esm,
    in_notebook,
    jsonable,
    label,
    show,
)

__all__ = ["RunCard", "card_text", "run_card", "show_run"]


class RunCard(ChartWidget):
    """One run: status, params, summary values and its curves."""

    _esm = esm("run_card.js")
    run = t.Dict().tag(sync=True)
    spec = t.Dict().tag(sync=True)


def run_card(run: Run | int | str) -> RunCard | TextView:
    """A card of one run (a :class:`Run`, number, id or name); text outside a notebook."""
    run = as_run(run)
    record = run.record()
    if not in_notebook():
        return TextView(card_text(record))
    spec = curves_spec(list(run.history().values()), {run.id: label(record)})
    return RunCard(run=jsonable(record), spec=spec)


def show_run(run: Run | int | str) -> None:
    """Display a run's card (``Run.show()``)."""
    show(run_card(run))


def as_run(ref: Run | int | str) -> Run:
    """``ref`` as a :class:`Run` (a number, id or name is looked up)."""
    if isinstance(ref, Run):
        return ref
    from nbtrack.api import get_run

    return get_run(ref)


def card_text(record: RunRecord) -> str:
    """The card as plain text: status line, params, summary."""
    lines = [f"{label(record)}  [{record['status']}]  started {text.fmt_time(record['started'])}"
             f"  duration {text.fmt_duration(record['duration'])}"]
    if record["params"]:
        lines.append("params:  " + ", ".join(
            f"{k}={text.fmt_value(v)}" for k, v in record["params"].items()))
    if record["summary"]:
        lines.append("summary: " + ", ".join(
            f"{k}={text.fmt_value(v)}" for k, v in record["summary"].items()))
    return "\n".join(lines)
