"""The notebook part of the report: cells, their outputs, and which recorded runs they belong to.

Every piece of notebook text is escaped. Outputs that are HTML by design go into a sandboxed
``<iframe srcdoc>`` (no scripts, no network); SVG is shown through ``<img>``, where it cannot run
script; images keep the notebook's own base64 data; Vega and Vega-Lite outputs are drawn by the
report's inlined Vega.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nbtrack.model import CellExecution
from nbtrack.report.assets import e
from nbtrack.text import fmt_bytes, fmt_duration

#: ``chart(spec, mode) -> html``: how a Vega(-Lite) output becomes a chart figure.
ChartMaker = Callable[[Mapping[str, Any], str], str]

_VEGALITE = re.compile(r"^application/vnd\.vegalite\.v\d+\+json$")
_VEGA = re.compile(r"^application/vnd\.vega\.v\d+\+json$")
_WIDGET = "application/vnd.jupyter.widget-view+json"
_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]")

#: What a sandboxed HTML output may load: nothing from a network; inline styles and data: images.
_FRAME_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
)
_FRAME_STYLE = (
    "body{margin:0;padding:4px 2px;font:13px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif;color:#1f2328;background:transparent}"
    "table{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}"
    "th,td{padding:3px 8px;border-bottom:1px solid #e3e6ea;text-align:right}"
    "thead th{border-bottom:1px solid #8a8f98}tbody tr:nth-child(odd){background:#f6f8fa}"
)


def text_of(value: Any) -> str:
    """Notebook text fields are a string or a list of strings."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def _norm_source(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


# -- which executions belong to which cell ------------------------------------------------------

@dataclass
class CellMatch:
    """The recorded executions of each code cell (by index) and those matching no cell."""

    by_cell: dict[int, list[CellExecution]] = field(default_factory=dict)
    unmatched: list[CellExecution] = field(default_factory=list)


def match_executions(cells: Sequence[Mapping[str, Any]],
                     executions: Sequence[CellExecution]) -> CellMatch:
    """Match executions to code cells by nbformat cell id, else by identical source text.

    Two cells with the same source both get an execution matched only by text; an id that
    names a cell of this notebook always wins.
    """
    by_id: dict[str, int] = {}
    by_source: dict[str, list[int]] = {}
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("id"):
            by_id[str(cell["id"])] = index
        by_source.setdefault(_norm_source(text_of(cell.get("source"))), []).append(index)
    match = CellMatch()
    for execution in executions:
        cell_id = execution["cell_id"]
        if cell_id and cell_id in by_id:
            targets = [by_id[cell_id]]
        else:
            targets = by_source.get(_norm_source(execution["source"]), [])
        if not targets:
            match.unmatched.append(execution)
        for index in targets:
            match.by_cell.setdefault(index, []).append(execution)
    return match


def resources_note(execution: CellExecution) -> str:
    """What the execution cost, as escaped HTML: CPU time and the peak memory it added."""
    parts = []
    if execution["cpu_time"] is not None:
        parts.append(f"{fmt_duration(execution['cpu_time'])} CPU")
    peak = execution["peak_memory_delta"]
    if peak:
        parts.append(f"peak memory {fmt_bytes(peak, sign=True)}")
    if not parts:
        return ""
    return f'<span class="muted cell-resources">{e(" · ".join(parts))}</span>'


# -- markdown -----------------------------------------------------------------------------------

def _markdown_renderer(attachments: Mapping[str, Any]) -> Any:
    import mistune

    class Renderer(mistune.HTMLRenderer):
        """Raw HTML escaped; images only from the notebook itself; links open elsewhere."""

        def link(self, text: str, url: str, title: str | None = None) -> str:
            href = self.sanitize_url(url) if hasattr(self, "sanitize_url") else url
            if href.lower().lstrip().startswith(("javascript:", "vbscript:", "data:")):
                href = "#harmful-link"
            extra = f' title="{e(title)}"' if title else ""
            return f'<a href="{e(href)}" rel="noopener noreferrer"{extra}>{text}</a>'

        def image(self, text: str, url: str, title: str | None = None) -> str:
            alt = re.sub(r"<[^>]*>", "", text)
            src = _attachment_uri(attachments, url)
            if src is None and url.lower().startswith(("data:image/png;", "data:image/jpeg;",
                                                      "data:image/gif;", "data:image/webp;")):
                src = url
            if src is None:
                what = f"{alt} ({url})" if alt else url
                return f'<span class="missing-image">[image not embedded: {e(what)}]</span>'
            return f'<img src="{e(src)}" alt="{e(alt)}">'

    return mistune.create_markdown(
        renderer=Renderer(escape=True), plugins=["strikethrough", "table"]
    )


def _attachment_uri(attachments: Mapping[str, Any], url: str) -> str | None:
    if not url.startswith("attachment:"):
        return None
    bundle = attachments.get(url[len("attachment:"):]) or {}
    for mime in _IMAGES:
        if mime in bundle:
            return f"data:{mime};base64,{_b64(bundle[mime])}"
    return None


def markdown_html(source: str, attachments: Mapping[str, Any] | None = None) -> str:
    """Markdown as HTML with raw HTML escaped (never passed through)."""
    try:
        return str(_markdown_renderer(attachments or {})(source))
    except Exception:  # noqa: BLE001 - a markdown edge case must not lose the cell
        return f'<pre class="markdown-source">{e(source)}</pre>'


_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def headings(source: str) -> list[tuple[int, str]]:
    """``(level, text)`` of the level 1-2 ATX headings of a markdown cell (not in code)."""
    out, fenced = [], False
    for line in source.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            text = re.sub(r"[*_`]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "",
                          match.group(2))
            out.append((len(match.group(1)), text.strip()))
    return out


# -- code and outputs ---------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _lexer(language: str) -> Any:
    """A pygments lexer for ``language``, or None (no pygments, or no lexer for it)."""
    try:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound
    except ImportError:  # pragma: no cover - pygments comes with nbconvert
        return None
    try:
        return get_lexer_by_name(language or "python", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=512)
def _token_class(ttype: Any) -> str:
    from pygments.token import STANDARD_TYPES

    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return str(STANDARD_TYPES[ttype])


def highlight(source: str, language: str) -> str:
    """Code as highlighted, escaped HTML (plain escaped text without a lexer for it).

    The spans carry pygments' short class names (styled by :func:`pygments_css`); written here
    rather than with ``HtmlFormatter``, which is about ten times slower.
    """
    lexer = _lexer(language)
    if lexer is None:
        return e(source)
    from pygments import lex

    out = []
    for ttype, value in lex(source, lexer):
        css = _token_class(ttype)
        out.append(f'<span class="{css}">{e(value)}</span>' if css else e(value))
    return "".join(out)


def pygments_css(scope: str) -> str:
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:  # pragma: no cover
        return ""
    return str(HtmlFormatter(style="default").get_style_defs(scope))


def _b64(data: Any) -> str:
    return re.sub(r"\s+", "", text_of(data))


def _terminal_text(text: str) -> str:
    """Stream text as a terminal shows it: carriage returns overwrite, no color codes."""
    text = _ANSI.sub("", text)
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            parts = [p for p in line.split("\r") if p]
            line = parts[-1] if parts else ""
        lines.append(line)
    return "\n".join(lines)


def _ansi_html(text: str) -> str:
    try:
        from nbconvert.filters.ansi import ansi2html
    except ImportError:  # pragma: no cover - nbconvert is a dependency
        return e(_ANSI.sub("", text))
    return str(ansi2html(text))  # type: ignore[no-untyped-call]  # nbconvert's filters are untyped


def _image_size(metadata: Mapping[str, Any], mime: str) -> str:
    meta = metadata.get(mime) if isinstance(metadata.get(mime), Mapping) else metadata
    attrs = ""
    for dim in ("width", "height"):
        value = meta.get(dim) if isinstance(meta, Mapping) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            attrs += f' {dim}="{int(value)}"'
    return attrs


def sandboxed(html_text: str) -> str:
    """An HTML output in an iframe that cannot run script, load anything or reach the page."""
    doc = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_FRAME_CSP}">'
        f"<style>{_FRAME_STYLE}</style></head><body>{html_text}</body></html>"
    )
    # allow-same-origin without allow-scripts: nothing in it runs, and the report's own script
    # can read its height to size the frame.
    return (
        '<iframe class="html-output" sandbox="allow-same-origin" referrerpolicy="no-referrer"'
        f' loading="eager" title="HTML output" srcdoc="{e(doc)}"></iframe>'
    )


def _pick(data: Mapping[str, Any]) -> str | None:
    """The mime type of a display bundle to show, richest first."""
    for mime in sorted(data, reverse=True):
        if _VEGALITE.match(mime) or _VEGA.match(mime):
            return mime
    for mime in (_WIDGET, "text/html", "image/svg+xml", *_IMAGES, "text/markdown",
                 "text/latex", "application/json", "text/plain"):
        if mime in data:
            return mime
    return next(iter(sorted(data)), None)


def display_html(data: Mapping[str, Any], metadata: Mapping[str, Any], chart: ChartMaker) -> str:
    """One display_data / execute_result bundle as HTML."""
    mime = _pick(data)
    if mime is None:
        return ""
    value = data[mime]
    if _VEGALITE.match(mime) or _VEGA.match(mime):
        spec = value if isinstance(value, Mapping) else json.loads(text_of(value))
        return chart(spec, "vega-lite" if _VEGALITE.match(mime) else "vega")
    if mime == _WIDGET:
        return ('<div class="output widget-output">An interactive widget: it is shown in the '
                "live notebook only.</div>")
    if mime == "text/html":
        return sandboxed(text_of(value))
    if mime == "image/svg+xml":
        svg = base64.b64encode(text_of(value).encode("utf-8")).decode("ascii")
        return (f'<img class="output image-output" alt="SVG output"'
                f'{_image_size(metadata, mime)} src="data:image/svg+xml;base64,{svg}">')
    if mime in _IMAGES:
        return (f'<img class="output image-output" alt="image output"'
                f'{_image_size(metadata, mime)} src="data:{mime};base64,{e(_b64(value))}">')
    if mime == "text/markdown":
        return f'<div class="output markdown-output">{markdown_html(text_of(value))}</div>'
    if mime == "application/json":
        text = json.dumps(value, indent=2, sort_keys=True, default=str)
        return f'<pre class="output json-output">{e(text)}</pre>'
    if mime.startswith("text/"):
        return f'<pre class="output text-output">{e(_terminal_text(text_of(value)))}</pre>'
    return f'<div class="output omitted-output">Output of type {e(mime)} is not shown.</div>'


def outputs_html(outputs: Sequence[Mapping[str, Any]], chart: ChartMaker) -> str:
    """All outputs of a code cell; consecutive stream outputs of one stream are joined."""
    parts: list[str] = []
    stream: tuple[str, list[str]] | None = None

    def flush() -> None:
        nonlocal stream
        if stream is not None:
            name, texts = stream
            parts.append(f'<pre class="output stream-output stream-{e(name)}">'
                         f"{e(_terminal_text(''.join(texts)))}</pre>")
            stream = None

    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            name = str(output.get("name", "stdout"))
            if stream is None or stream[0] != name:
                flush()
                stream = (name, [])
            stream[1].append(text_of(output.get("text")))
            continue
        flush()
        if kind in ("display_data", "execute_result"):
            parts.append(display_html(output.get("data") or {}, output.get("metadata") or {},
                                      chart))
        elif kind == "error":
            traceback = "\n".join(text_of(line) for line in output.get("traceback") or [])
            if not traceback:
                traceback = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
            parts.append(f'<pre class="output error-output">{_ansi_html(traceback)}</pre>')
    flush()
    return "".join(parts)
