"""The notebook section of the report: every cell, annotated with the runs it belonged to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nbtrack.model import CellExecution
from nbtrack.report import cells as nbcells
from nbtrack.report.assets import e
from nbtrack.report.data import StoreView
from nbtrack.report.parts import (
    Page,
    fmt_duration,
    fmt_number,
    fmt_time,
    run_link,
)

# -- the notebook -------------------------------------------------------------------------------

def notebook_section(nb: Mapping[str, Any], cells: Sequence[Mapping[str, Any]],
                      view: StoreView, page: Page) -> str:
    page.toc.append((1, "notebook", "Notebook"))
    meta = nb.get("metadata") or {}
    language = str((meta.get("language_info") or {}).get("name")
                   or (meta.get("kernelspec") or {}).get("language") or "python")
    match = nbcells.match_executions(cells, view.executions)
    parts = []
    for index, cell in enumerate(cells):
        anchor = f"cell-{index + 1}"
        kind = cell.get("cell_type")
        source = nbcells.text_of(cell.get("source"))
        if kind == "markdown":
            for level, text in nbcells.headings(source)[:3]:
                page.toc.append((2 if level == 1 else 3, anchor, text))
            parts.append(f'<div class="cell markdown-cell" id="{anchor}">'
                         f'{nbcells.markdown_html(source, cell.get("attachments") or {})}</div>')
        elif kind == "code":
            parts.append(_code_cell(cell, anchor, source, language,
                                    match.by_cell.get(index, []), view, page))
        else:
            parts.append(f'<div class="cell raw-cell" id="{anchor}"><pre>{e(source)}</pre></div>')
    if not cells:
        parts.append('<p class="note">The notebook has no cells.</p>')
    hint = '<p class="hint">Cells and outputs as last saved in the notebook file.</p>'
    return (f'<section id="notebook"><h2>Notebook</h2>{hint}{"".join(parts)}'
            f"{_unmatched(match.unmatched, view)}</section>")


def _code_cell(cell: Mapping[str, Any], anchor: str, source: str, language: str,
               executions: Sequence[CellExecution], view: StoreView, page: Page) -> str:
    count = cell.get("execution_count")
    prompt = f"[{count}]" if isinstance(count, int) else "[ ]"
    notes = _cell_notes(executions, view)
    outputs = nbcells.outputs_html(cell.get("outputs") or [],
                                   lambda spec, mode: page.chart(spec, mode, "chart output"))
    out_html = f'<div class="outputs">{outputs}</div>' if outputs else ""
    return (
        f'<div class="cell code-cell" id="{anchor}"><div class="cell-head">'
        f'<span class="prompt">{e(prompt)}</span>{notes}</div>'
        f'<pre class="source"><code>{nbcells.highlight(source, language)}</code></pre>'
        f"{out_html}</div>"
    )


def _cell_notes(executions: Sequence[CellExecution], view: StoreView) -> str:
    if not executions:
        return '<span class="cell-note muted">no recorded execution</span>'
    ids = {r.record["id"]: r.number for r in view.runs}
    logged = _logged(executions, view)
    numbers = {ids[x["run_id"]] for x in executions if x["run_id"] in ids} | set(logged)
    last = executions[-1]
    chips = " ".join(run_link(view.by_number[n]) for n in sorted(numbers))
    bits = [chips] if chips else ['<span class="muted">outside any run</span>']
    bits.append(f'<span class="when">last ran {e(fmt_time(last["started"]))} · '
                f'{e(fmt_duration(last["duration"]))}</span>')
    resources = nbcells.resources_note(last)
    if resources:
        bits.append(resources)
    if len(executions) > 1:
        bits.append(f'<span class="muted">{len(executions)} executions</span>')
    if last["outcome"] and last["outcome"] != "ok":
        what = last["error_type"] or last["outcome"]
        bits.append(f'<span class="outcome outcome-{e(last["outcome"])}">{e(what)}</span>')
    return f'<span class="cell-note">{" ".join(bits)}</span>{_logged_html(logged, view)}'


def _logged(executions: Sequence[CellExecution],
            view: StoreView) -> dict[int, dict[str, list[Any]]]:
    """``{run number: {key: [points, first step, last step, last value]}}`` the cell logged."""
    per_run: dict[int, dict[str, list[Any]]] = {}
    for x in executions:
        for (number, key), s in sorted((view.logged.get(x["id"]) or {}).items()):
            keys = per_run.setdefault(number, {})
            if key in keys:
                acc = keys[key]
                acc[0] += s.count
                acc[1] = min(acc[1], s.first_step)
                acc[2], acc[3] = s.last_step, s.last_value
            else:
                keys[key] = [s.count, s.first_step, s.last_step, s.last_value]
    return per_run


def _logged_html(per_run: Mapping[int, Mapping[str, list[Any]]], view: StoreView) -> str:
    """What the cell logged, per run: key, points, step range, last value."""
    if not per_run:
        return ""
    lines = []
    for number in sorted(per_run):
        items = []
        for key, (count, first, last_step, value) in sorted(per_run[number].items()):
            steps = f"step {first}" if first == last_step else f"steps {first}–{last_step}"
            items.append(f'<span class="logged-key"><b>{e(key)}</b> ×{count:,} ({e(steps)}) → '
                         f"{e(fmt_number(value))}</span>")
        run = view.by_number[number]
        lines.append(f'<li><a href="#{e(run.anchor)}">{e(run.label)}</a> logged '
                     f'{", ".join(items)}</li>')
    return f'<ul class="cell-logged">{"".join(lines)}</ul>'


def _unmatched(executions: Sequence[CellExecution], view: StoreView) -> str:
    ids = {r.record["id"]: r for r in view.runs}
    mine = [x for x in executions if x["run_id"] in ids]
    if not mine:
        return ""
    items = "".join(
        f'<li><span class="muted">{e(fmt_time(x["started"]))} · {e(ids[x["run_id"] or ""].label)}'
        f'</span><pre class="source">{e(x["source"])}</pre></li>'
        for x in mine[:100]
    )
    more = f"<p class=\"hint\">… and {len(mine) - 100} more.</p>" if len(mine) > 100 else ""
    return (
        f'<details class="unmatched"><summary>{len(mine)} recorded cell execution(s) of these '
        "runs match no cell of the saved notebook (edited or deleted since)</summary>"
        f"<ol>{items}</ol>{more}</details>"
    )
