"""The report's Sweeps section: for each sweep the notebook's runs belong to (tag
``sweep=NAME``), its target, best config (as Python), parallel coordinates and every trial.

The sweep is read from its Optuna study the way the server reads it
(:func:`nbtrack.sweeps.responses.sweep_detail`: nothing is created or written); a sweep that
cannot be read is named with the reason. Every value is escaped with ``e()``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.model import SweepDetail
from nbtrack.report.assets import e
from nbtrack.report.data import StoreView
from nbtrack.report.parts import Page, fmt_duration, fmt_number, fmt_param, status_badge

#: The tag a sweep's trial runs carry (``sweep=<name>``; see nbtrack.sweeps.trial).
TAG_PREFIX = "sweep="


def sweep_names(view: StoreView) -> list[str]:
    """The sweeps the view's runs belong to, in the order their first run appears."""
    names: list[str] = []
    for run in view.runs:
        for tag in run.record["tags"]:
            if tag.startswith(TAG_PREFIX) and tag[len(TAG_PREFIX):] not in names:
                names.append(tag[len(TAG_PREFIX):])
    return names


def sweeps_section(view: StoreView, page: Page, workspace: Path) -> str:
    """The section (empty when no run of the report belongs to a sweep)."""
    names = sweep_names(view)
    if not names:
        return ""
    from nbtrack.sweeps.responses import sweep_detail

    page.toc.append((1, "sweeps", "Sweeps"))
    blocks = []
    for name in names:
        anchor = f"sweep-{name}"
        page.toc.append((2, anchor, name))
        try:
            detail = sweep_detail(config.db_path(workspace), name)
        except Exception as exc:  # noqa: BLE001 - a missing or unreadable study: say so
            blocks.append(f'<article class="sweep" id="{e(anchor)}"><h3>{e(name)}</h3>'
                          f'<p class="note sweep-unreadable">This sweep could not be read: '
                          f"{e(exc)}</p></article>")
            continue
        blocks.append(_sweep_block(detail, view, page, anchor))
    return f'<section id="sweeps"><h2>Sweeps</h2>{"".join(blocks)}</section>'


def _python(value: Any, as_float: bool) -> str:
    """``value`` as a Python literal (JSON's string escapes are Python's)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, (int, float)):
        return repr(float(value)) if as_float else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def config_code(detail: SweepDetail) -> str:
    """The best config as ``config = {...}`` Python ("" before any finished trial)."""
    best = detail["best"]
    if best is None:
        return ""
    types = {p["name"]: p["type"] for p in detail["space"]}
    order = [n for n in types if n in best["config"]] + [
        n for n in best["config"] if n not in types]
    items = [f"    {json.dumps(n, ensure_ascii=False)}: "
             f"{_python(best['config'][n], types.get(n) == 'uniform')}," for n in order]
    return "config = {\n" + "\n".join(items) + "\n}" if items else "config = {}"


def _param_names(detail: SweepDetail) -> list[str]:
    names = [p["name"] for p in detail["space"] if p["type"] != "constant"]
    for trial in detail["trials"]:
        names += [n for n in trial["params"] if n not in names]
    return names


def _run_cell(number: int | None, view: StoreView) -> str:
    if number is None:
        return "—"
    if number in view.by_number:  # a run of this report: link to its card
        return f'<a href="#run-{number}">#{number}</a>'
    return f"#{number}"


def _sweep_block(detail: SweepDetail, view: StoreView, page: Page, anchor: str) -> str:
    counts: dict[str, int] = {}
    for trial in detail["trials"]:
        counts[trial["status"]] = counts.get(trial["status"], 0) + 1
    size = f" of {detail['n_trials']}" if detail["n_trials"] is not None else ""
    facts = [
        ("Target", f"{e(detail['goal'])} <code>{e(detail['metric'])}</code>"),
        ("Method", e(detail["method"] or "—")),
        ("Trials", f"{len(detail['trials'])}{e(size)}: " + ", ".join(
            f"{n} {status_badge(s)}" for s, n in sorted(counts.items()))),
        ("Space", "<br>".join(f"<code>{e(p['name'])} = {e(p['description'])}</code>"
                              for p in detail["space"]) or "—"),
        ("Storage", f"<code>{e(detail['storage'])}</code>"),
    ]
    best = detail["best"]
    if best is not None:
        facts.append(("Best", f"{e(detail['metric'])} = <strong>{e(fmt_number(best['value']))}"
                              f"</strong> in trial {e(best['number'])} (run "
                              f"{_run_cell(best['run_number'], view)})"))
    facts_html = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    code = config_code(detail)
    best_html = (f'<h4>Best config</h4><pre class="sweep-config">{e(code)}</pre>' if code
                 else '<p class="note">No trial finished.</p>')
    params = _param_names(detail)
    head = "".join(f'<th scope="col">{e(n)}</th>' for n in params)
    rows = []
    for t in detail["trials"]:
        cells = "".join(f"<td>{e(fmt_param(t['params'][n]))}</td>" if n in t["params"]
                        else '<td class="empty">—</td>' for n in params)
        mark = ' class="sweep-best"' if best is not None and best["number"] == t["number"] \
            else ""
        rows.append(f"<tr{mark} data-trial=\"{t['number']}\"><td>{t['number']}</td>"
                    f"<td>{status_badge(t['status'])}</td><td>{e(fmt_number(t['value']))}</td>"
                    f"{cells}<td>{e(fmt_duration(t['duration']))}</td>"
                    f"<td>{_run_cell(t['run_number'], view)}</td></tr>")
    table = (f'<div class="scroll"><table class="grid sweep-trials"><thead><tr><th>trial</th>'
             f"<th>status</th><th>{e(detail['metric'])}</th>{head}<th>duration</th>"
             f'<th>run</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    return (f'<article class="sweep" id="{e(anchor)}"><h3>{e(detail["name"])}</h3>'
            f'<dl class="facts">{facts_html}</dl>{best_html}'
            f"{_parallel(detail, page)}<h4>Trials</h4>{table}</article>")


def _parallel(detail: SweepDetail, page: Page) -> str:
    """Parallel coordinates of the finished trials (nothing with fewer than two)."""
    finished = [t for t in detail["trials"] if t["status"] == "finished"
                and t["value"] is not None]
    if len(finished) < 2:
        return ""
    from nbtrack import charts

    metric = detail["metric"]
    records: list[Any] = [
        {"id": t["run_id"] or f"trial-{t['number']}", "number": t["run_number"] or t["number"],
         "name": f"trial {t['number']}", "params": t["params"],
         "summary": {metric: t["value"]}} for t in finished]
    params = [n for n in _param_names(detail) if any(n in t["params"] for t in finished)]
    spec = charts.parallel(records, params, metric).to_dict()
    return "<h4>Parallel coordinates</h4>" + page.chart(
        spec, label=f"parallel coordinates of sweep {detail['name']}")
