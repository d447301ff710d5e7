"""The run card: one run's status, params, summary values, curves and the latest value of
each rich key (images, tables, histograms, audio, text, HTML, figures) (``run.show()``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import traitlets as t

from nbtrack import text
from nbtrack.media import inline
from nbtrack.media.inline import Budget, NotInlined
from nbtrack.media.items import MediaItem, MediaSeries
from nbtrack.model import MetricSeries, RunRecord
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

__all__ = ["RunCard", "card_media", "card_text", "run_card", "show_run"]

#: Bytes of media (data URIs, specs, text) one card sends to the page at most.
CARD_MEDIA_BYTES = 4 * 2**20
#: Values shown per key (of its latest step), table rows and columns, text characters.
CARD_VALUES = 8
CARD_TABLE_ROWS = 10
CARD_TABLE_COLUMNS = 20
CARD_CELL_CHARS = 100
CARD_TEXT_CHARS = 4000
#: What an HTML value's frame may load: nothing but inline styles and data: images.
_FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"


class RunCard(ChartWidget):
    """One run: status, params, summary values, its curves and its latest media."""

    _esm = esm("run_card.js")
    run = t.Dict().tag(sync=True)
    spec = t.Dict().tag(sync=True)
    #: Per rich key: ``{"key", "kind", "step", "steps", "more", "values"}``; each value holds
    #: one of ``image``/``audio`` (data URIs), ``table``, ``spec`` (Vega-Lite), ``text``,
    #: ``html`` (a document for a sandboxed frame) or ``note``, and maybe a ``caption``.
    media = t.List(t.Dict()).tag(sync=True)


def run_card(run: Run | int | str) -> RunCard | TextView:
    """A card of one run (a :class:`Run`, number, id or name); text outside a notebook."""
    run = as_run(run)
    record = run.record()
    if not in_notebook():
        return TextView(card_text(record))
    history = list(run.history().values())
    metrics: list[MetricSeries] = [s for s in history if not isinstance(s, MediaSeries)]
    rich = [s for s in history if isinstance(s, MediaSeries)]
    spec = curves_spec(metrics, {run.id: label(record)})
    return RunCard(run=jsonable(record), spec=spec, media=card_media(rich))


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


# -- the latest media of each key -------------------------------------------------------------

def card_media(series: Sequence[MediaSeries], limit: int | None = None) -> list[dict[str, Any]]:
    """The latest step of each rich key as plain data for the card, at most ``limit`` bytes
    of it (default :data:`CARD_MEDIA_BYTES`); what does not fit becomes a note."""
    budget = Budget(CARD_MEDIA_BYTES if limit is None else limit)
    out = []
    for s in series:
        if not s["count"]:
            continue
        last = s["step"][-1]
        latest = [item for step, item in zip(s["step"], s["value"]) if step == last]
        out.append({
            "key": s["key"], "kind": s["kind"], "step": last, "steps": len(set(s["step"])),
            "more": max(0, len(latest) - CARD_VALUES),
            "values": [_card_value(item, budget) for item in latest[:CARD_VALUES]],
        })
    return out


def _bytes(item: MediaItem, which: str, budget: Budget | None, *, encoded: bool) -> bytes:
    """``item``'s ``"blob"`` or ``"thumb"``, charged to ``budget`` (as base64 when
    ``encoded``)."""
    return inline.read(item, which, budget, encoded=encoded, page="a card")


def _uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _card_value(item: MediaItem, budget: Budget) -> dict[str, Any]:
    value: dict[str, Any] = {"caption": item.caption} if item.caption else {}
    fmt = item.meta.get("format")
    try:
        if fmt == "png":  # images (their thumbnail) and matplotlib figures
            which = "thumb" if item.thumb else "blob"
            value["image"] = _uri("image/png", _bytes(item, which, budget, encoded=True))
            value["width"], value["height"] = item.meta.get("width"), item.meta.get("height")
        elif item.kind == "audio":
            value["audio"] = _uri("audio/wav", _bytes(item, "blob", budget, encoded=True))
            value["duration"] = item.meta.get("duration")
        elif item.kind == "table":
            value["table"] = _table(json.loads(_bytes(item, "blob", None,
                                                      encoded=False)))
        elif item.kind == "histogram":
            value["spec"] = histogram_spec(item)
        elif item.kind == "text":
            text_ = _bytes(item, "blob", budget, encoded=False).decode("utf-8")
            value["text"] = text_[:CARD_TEXT_CHARS]
            value["more"] = max(0, len(text_) - CARD_TEXT_CHARS)
        elif item.kind == "html":
            body = _bytes(item, "blob", budget, encoded=False).decode("utf-8")
            value["html"] = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta '
                             f'http-equiv="Content-Security-Policy" content="{_FRAME_CSP}">'
                             f"</head><body>{body}</body></html>")
        elif fmt == "vega-lite":
            spec = json.loads(_bytes(item, "blob", budget, encoded=False))
            spec.pop("$schema", None)  # drawn by the bundled Vega-Lite, whatever it names
            value["spec"] = spec
        elif fmt == "plotly":
            figure = json.loads(_bytes(item, "blob", None, encoded=False))
            traces = figure.get("data") if isinstance(figure, dict) else None
            count = len(traces) if isinstance(traces, list) else 0
            value["note"] = (f"A Plotly figure with {count} trace{'s' if count != 1 else ''}: "
                             f"read it with run.history({item.key!r}).")
        else:
            value["note"] = f"A {item.kind} ({fmt}): not shown here."
    except NotInlined as why:
        reason = str(why)
        value["note"] = (f"This {item.kind} is {reason}." if reason.startswith("not shown")
                         else f"This {item.kind} is not shown: {reason}.")
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        value["note"] = f"This {item.kind} could not be read ({exc})."
    return value


def _short(cell: Any) -> Any:
    if cell is None or isinstance(cell, (bool, int, float)):
        return jsonable(cell)
    text_ = str(cell)
    return text_ if len(text_) <= CARD_CELL_CHARS else text_[:CARD_CELL_CHARS - 1] + "…"


def _table(table: dict[str, Any]) -> dict[str, Any]:
    columns, rows = table.get("columns", []), table.get("data", [])
    return {
        "columns": [_short(c) for c in columns[:CARD_TABLE_COLUMNS]],
        "rows": [[_short(v) for v in row[:CARD_TABLE_COLUMNS]] for row in rows[:CARD_TABLE_ROWS]],
        "total_rows": len(rows), "total_columns": len(columns),
    }


def histogram_spec(item: MediaItem) -> dict[str, Any]:
    """A small Vega-Lite bar chart of one histogram's bins."""
    edges, counts = item.meta.get("edges") or [], item.meta.get("counts") or []
    rows = [{"left": a, "right": b, "count": c} for a, b, c in zip(edges, edges[1:], counts)]
    return {
        "width": 260, "height": 90,
        "data": {"values": rows},
        "mark": {"type": "rect", "tooltip": True},
        "encoding": {
            "x": {"field": "left", "type": "quantitative", "title": item.key,
                  "scale": {"zero": False}},
            "x2": {"field": "right"},
            "y": {"field": "count", "type": "quantitative", "title": "count"},
        },
    }
