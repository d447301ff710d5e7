"""The "Media" part of a run card: the rich values a run logged, inlined so the file opens offline.

Per key, the latest step is shown: images and PNG figures as ``data:`` URIs (with a step
slider over the last :data:`SLIDER_STEPS` steps, thumbnails for the earlier ones), tables as
their first :data:`TABLE_ROWS` rows, histograms as a Vega-Lite bar chart (and a heatmap over
steps), audio as an ``<audio>`` player, text in ``<pre>``, HTML in a sandboxed frame, Altair
figures drawn with the report's Vega, Plotly figures as a note. Everything from the store is
escaped with :func:`~nbtrack.report.assets.e` or embedded with
:func:`~nbtrack.report.assets.json_for_script`; the bytes inlined per report are capped
(:data:`MAX_INLINE_BYTES`, shared by every card through one budget, :func:`report_budget`).

This module imports neither ``data`` nor ``parts`` at run time (``data`` imports it).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack.media import inline
from nbtrack.media.inline import Budget, NotInlined
from nbtrack.media.items import MediaItem, MediaSeries
from nbtrack.report.assets import e
from nbtrack.store import queries
from nbtrack.store.access import Connection

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.report.parts import Page

#: Bytes of media inlined in one report at most (as base64 text), over every run.
MAX_INLINE_BYTES = 20 * 2**20
#: Rows of a table shown (the rest are counted in a note).
TABLE_ROWS = 50
#: Columns of a table shown, and characters of one cell.
TABLE_COLUMNS = 40
CELL_CHARS = 200
#: Characters of a text value shown.
TEXT_CHARS = 20_000
#: Steps an image key's slider goes back over (the latest and the ones before it).
SLIDER_STEPS = 20
#: Values shown of one key at one step (a list logged under one key).
PER_STEP = 16
#: Steps of a histogram's heatmap (the latest ones).
HEATMAP_STEPS = 100
#: Images smaller than this (longest side, pixels) are drawn larger, pixel for pixel.
MIN_SHOWN = 128
_IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def read_media(db: Connection, run: int, store: Path) -> list[MediaSeries]:
    """The rich values of run ``run`` by key (no bytes are read: they are read when shown)."""
    from nbtrack.run import media_series

    return media_series(store, queries.media_rows(db, run))


def report_budget() -> Budget:
    """The media budget of one report: :data:`MAX_INLINE_BYTES` (read at call time)."""
    return Budget(MAX_INLINE_BYTES)


def _blob(item: MediaItem, which: str, budget: Budget | None) -> bytes:
    """The bytes of ``item``'s ``"blob"`` or ``"thumb"``, charged to ``budget``."""
    return inline.read(item, which, budget, page="the report")


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _note(text: str) -> str:
    return f'<p class="media-note">{e(text)}</p>'


# -- the part of a run card -------------------------------------------------------------------

def media_part(media: Sequence[MediaSeries], label: str, page: Page,
               budget: Budget) -> str:
    """The "Media" part of one run's card ('' when the run logged none)."""
    if not media:
        return ""
    blocks = [_key_block(series, page, budget) for series in media if series["count"]]
    return (f'<section class="media-part" aria-label="{e(f"media of {label}")}">'
            f'<h4>Media</h4>{"".join(blocks)}</section>')


def _by_step(series: MediaSeries) -> list[tuple[int, list[MediaItem]]]:
    """``(step, values)`` in step order (values logged as a list share their step)."""
    steps: dict[int, list[MediaItem]] = {}
    for step, item in zip(series["step"], series["value"]):
        steps.setdefault(step, []).append(item)
    return sorted(steps.items())


def _key_block(series: MediaSeries, page: Page, budget: Budget) -> str:
    steps = _by_step(series)
    last_step, latest = steps[-1]
    kind = series["kind"]
    if kind == "image" or (kind == "figure" and all(_is_png(i) for i in latest)):
        body = _image_steps(steps, budget)
    elif kind == "histogram":
        body = _histograms(series["key"], steps, page)
    else:
        body = "".join(_value(item, page, budget) for item in latest[:PER_STEP])
        body += _more(len(latest))
    count = len(steps)
    where = (f"step {last_step:,}" if count == 1 else
             f"step {last_step:,} (latest of {count:,} steps)")
    return (f'<div class="media-key" data-kind="{e(kind)}">'
            f'<h5><span class="media-name">{e(series["key"])}</span> '
            f'<span class="media-kind">{e(kind)}</span> <span class="step">{e(where)}</span>'
            f"</h5>{body}</div>")


def _more(count: int) -> str:
    more = count - PER_STEP
    return _note(f"{more:,} more values at this step are not shown.") if more > 0 else ""


def _is_png(item: MediaItem) -> bool:
    return item.meta.get("format") == "png"


def _value(item: MediaItem, page: Page, budget: Budget) -> str:
    try:
        if item.kind == "table":
            return _table(item)
        if item.kind == "audio":
            return _audio(item, budget)
        if item.kind == "text":
            return _text(item)
        if item.kind == "html":
            return _html(item, budget)
        if item.kind == "figure":
            return _figure(item, page, budget)
        if item.kind == "image":
            return _image(item, budget, thumb=False)
    except NotInlined as why:
        return _note(f"This {item.kind} is not shown: {why}.")
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        return _note(f"This {item.kind} could not be read ({exc}).")
    return _note(f"A value of kind {item.kind} (not shown in reports).")


# -- images -----------------------------------------------------------------------------------

def _image_steps(steps: Sequence[tuple[int, list[MediaItem]]], budget: Budget) -> str:
    """The latest step's images at full size; with earlier steps, a slider over the last
    :data:`SLIDER_STEPS` steps (thumbnails for those)."""
    shown = list(steps[-SLIDER_STEPS:])
    # The latest step first: it is charged to the budget before the slider's thumbnails.
    last = _frame(shown[-1], budget, thumb=False, hidden=False)
    earlier = [_frame(s, budget, thumb=True, hidden=True) for s in shown[:-1]]
    if not earlier:
        return last
    n = len(shown)
    first_shown = shown[0][0]
    older = len(steps) - n
    hint = (f"Slide to see steps {first_shown:,} to {shown[-1][0]:,}"
            + (f" ({older:,} earlier steps are not in the report)" if older else "") +
            "; earlier steps are thumbnails.")
    return (f'<div class="media-steps">{"".join(earlier)}{last}'
            f'<label class="media-slider" hidden>step <input type="range" min="0" '
            f'max="{n - 1}" value="{n - 1}" step="1" aria-label="step"> '
            f'<output>{shown[-1][0]}</output></label><p class="hint">{e(hint)}</p></div>')


def _frame(step_items: tuple[int, list[MediaItem]], budget: Budget, *, thumb: bool,
           hidden: bool) -> str:
    step, items = step_items
    images = []
    for item in items[:PER_STEP]:
        try:
            images.append(_image(item, budget, thumb=thumb))
        except NotInlined as why:
            images.append(_note(f"Step {step:,}: this image is not shown: {why}."))
    return (f'<div class="media-frame" data-step="{step}"{" hidden" if hidden else ""}>'
            f'{"".join(images)}{_more(len(items))}</div>')


def _shown_size(meta: dict[str, Any]) -> str:
    width, height = meta.get("width"), meta.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        return ""
    scale = max(1, MIN_SHOWN // max(width, height))
    small = ' class="pixelated"' if scale > 1 else ""
    return f' width="{width * scale}" height="{height * scale}"{small}'


def _image(item: MediaItem, budget: Budget, *, thumb: bool) -> str:
    mime = str(item.meta.get("mime") or "image/png")
    if mime not in _IMAGE_MIMES:
        raise NotInlined(f"{mime} is not an image format the report inlines")
    which = "thumb" if thumb and item.thumb else "blob"
    data = _blob(item, which, budget)
    caption = item.caption
    alt = caption or f"{item.key} at step {item.step}"
    figcaption = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    return (f'<figure class="media-image"><img alt="{e(alt)}"{_shown_size(item.meta)} '
            f'src="{e(_data_uri("image/png" if which == "thumb" else mime, data))}">'
            f"{figcaption}</figure>")


# -- tables, text, HTML, audio, figures -------------------------------------------------------

def _cell(value: Any) -> str:
    text = "" if value is None else (json.dumps(value) if isinstance(value, bool)
                                     else str(value))
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 1] + "…"


def _table(item: MediaItem) -> str:
    table = json.loads(_blob(item, "blob", None))
    columns = [str(c) for c in table.get("columns", [])]
    rows = table.get("data", [])
    cut = columns[:TABLE_COLUMNS]
    head = "".join(f'<th scope="col">{e(_cell(c))}</th>' for c in cut)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row[:TABLE_COLUMNS]) + "</tr>"
        for row in rows[:TABLE_ROWS]
    )
    notes = []
    if len(rows) > TABLE_ROWS:
        notes.append(f"{len(rows) - TABLE_ROWS:,} more rows")
    if len(columns) > TABLE_COLUMNS:
        notes.append(f"{len(columns) - TABLE_COLUMNS:,} more columns")
    note = (f'<p class="hint table-more">{e(", ".join(notes))} (of {len(rows):,} rows and '
            f"{len(columns):,} columns); read them all with "
            f"<code>run.history({e(repr(item.key))})</code>.</p>" if notes else "")
    return (f'<div class="scroll media-table-box"><table class="grid media-table"><thead>'
            f"<tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}")


def _text(item: MediaItem) -> str:
    text = _blob(item, "blob", None).decode("utf-8")
    note = ""
    if len(text) > TEXT_CHARS:
        note = _note(f"{len(text) - TEXT_CHARS:,} more characters are not shown.")
        text = text[:TEXT_CHARS]
    return f'<pre class="media-text">{e(text)}</pre>{note}'


def _html(item: MediaItem, budget: Budget) -> str:
    from nbtrack.report.cells import sandboxed  # the frame every HTML output is shown in

    return sandboxed(_blob(item, "blob", budget).decode("utf-8"))


def _audio(item: MediaItem, budget: Budget) -> str:
    data = _blob(item, "blob", budget)
    caption = item.caption
    duration = item.meta.get("duration")
    facts = []
    if isinstance(duration, (int, float)):
        facts.append(f"{duration:.2f} s")
    if isinstance(item.meta.get("rate"), int):
        facts.append(f"{item.meta['rate']:,} Hz")
    label = " · ".join(facts)
    text = " ".join(p for p in (caption or "", f"({label})" if label else "") if p)
    return (f'<figure class="media-audio"><audio controls preload="metadata" '
            f'aria-label="{e(caption or item.key)}" src="{e(_data_uri("audio/wav", data))}">'
            f"</audio><figcaption>{e(text)}</figcaption></figure>")


def _figure(item: MediaItem, page: Page, budget: Budget) -> str:
    fmt = item.meta.get("format")
    if fmt == "png":
        return _image(item, budget, thumb=False)
    if fmt == "vega-lite":
        spec = json.loads(_blob(item, "blob", budget))
        if not isinstance(spec, dict):
            raise ValueError("the spec is not a JSON object")
        # Drawn by the bundled Vega-Lite whatever version the spec names: without its
        # $schema, vega-embed does not warn about an older one.
        spec.pop("$schema", None)
        return page.chart(spec, "vega-lite", label=f"figure {item.key}")
    if fmt == "plotly":
        figure = json.loads(_blob(item, "blob", None))
        traces = figure.get("data") if isinstance(figure, dict) else None
        count = len(traces) if isinstance(traces, list) else 0
        return _note(f"A Plotly figure with {count} trace{'s' if count != 1 else ''}: Plotly "
                     f"is not bundled in the offline report; open it with "
                     f"run.history({item.key!r}) and .spec in a notebook.")
    return _note(f"A figure of format {fmt} (not shown in reports).")


# -- histograms -------------------------------------------------------------------------------

def histogram_rows(item: MediaItem) -> list[dict[str, float]]:
    """One row per bin: ``left``, ``right``, ``count``."""
    edges, counts = item.meta.get("edges") or [], item.meta.get("counts") or []
    return [{"left": a, "right": b, "count": c}
            for a, b, c in zip(edges, edges[1:], counts)]


def _histograms(key: str, steps: Sequence[tuple[int, list[MediaItem]]], page: Page) -> str:
    last_step, latest = steps[-1]
    item = latest[-1]
    rows = histogram_rows(item)
    nonfinite = item.meta.get("nonfinite") or 0
    bar = {
        "width": 420, "height": 150,
        "data": {"values": rows},
        "mark": {"type": "rect", "tooltip": True},
        "encoding": {
            "x": {"field": "left", "type": "quantitative", "title": key,
                  "scale": {"zero": False}},
            "x2": {"field": "right"},
            "y": {"field": "count", "type": "quantitative", "title": f"count at step {last_step}"},
        },
    }
    html = page.chart(bar, "vega-lite", label=f"histogram of {key} at step {last_step}")
    if nonfinite:
        html += _note(f"{nonfinite:,} NaN or infinite values were left out.")
    if len(steps) > 1:
        recent = steps[-HEATMAP_STEPS:]
        cells = [{"step": step, **row} for step, items in recent
                 for row in histogram_rows(items[-1])]
        heat = {
            "width": 420, "height": {"step": max(3, min(16, 240 // len(recent)))},
            "data": {"values": cells},
            "mark": {"type": "rect", "tooltip": True},
            "encoding": {
                "x": {"field": "left", "type": "quantitative", "title": key,
                      "scale": {"zero": False}},
                "x2": {"field": "right"},
                "y": {"field": "step", "type": "ordinal", "sort": "descending"},
                "color": {"field": "count", "type": "quantitative",
                          "scale": {"scheme": "blues"}},
            },
        }
        html += "<p class=\"hint\">Over steps (latest at the top"
        html += f", the last {len(recent):,} of {len(steps):,}" if len(recent) < len(steps) else ""
        html += "):</p>"
        html += page.chart(heat, "vega-lite", label=f"histograms of {key} over steps")
    return html


def budget_note(budget: Budget) -> str:
    """A note for the end of the runs section when the budget left values out ('' if not)."""
    if not budget.skipped:
        return ""
    return _note(f"{budget.skipped:,} media values were not inlined: a report holds at most "
                 f"{budget.limit / 2**20:g} MB of media. Read them with run.history(key).")
