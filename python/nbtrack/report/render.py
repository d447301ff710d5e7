"""Notebook + its runs -> one self-contained HTML page.

The page is built from escaped pieces (``e()`` on every value that comes from the notebook or
the store); charts are Vega-Lite specs from :mod:`nbtrack.charts` drawn by the inlined Vega
bundle. Everything is sorted the same way every time, so two exports of the same notebook and
store differ only in the generation time.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nbtrack import config
from nbtrack.report import cells as nbcells
from nbtrack.report.assets import e, inline_css, inline_js, read_asset, vega_bundle_script
from nbtrack.report.data import StoreView, read_store
from nbtrack.report.notebook import notebook_section
from nbtrack.report.parts import Page, run_link
from nbtrack.report.sections import comparison_section, environment_section, runs_section
from nbtrack.report.sweeps import sweeps_section


def git_author(folder: Path) -> str | None:
    """``git config user.name`` in ``folder``, when git is there and it is set."""
    try:
        out = subprocess.run(
            ["git", "config", "user.name"], cwd=folder, capture_output=True, text=True,
            timeout=3, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip()
    return name if out.returncode == 0 and name else None


def render_report(
    nb: Mapping[str, Any],
    notebook: str | os.PathLike[str] | None,
    *,
    runs: Sequence[str | int] | None = None,
    workspace: str | os.PathLike[str] | None = None,
    generated: _dt.datetime | None = None,
    title: str | None = None,
) -> str:
    """The report of notebook ``nb`` (read from ``notebook``) as one HTML document.

    Runs are those recorded from ``notebook`` in the workspace's store, or exactly ``runs``;
    ``title`` replaces the notebook's name as the page's title (a batch report's group).
    """
    path = Path(notebook).expanduser().resolve() if notebook else None
    folder = path.parent if path is not None else Path.cwd()
    ws = Path(workspace).expanduser().resolve() if workspace else config.workspace_dir(folder)
    view = read_store(path, ws, runs) if path is not None or runs else StoreView()
    cells = list(nb.get("cells") or [])
    page = Page()
    run_html = runs_section(view, page)
    compare_html = comparison_section(view, page) if len(view.runs) > 1 else ""
    sweeps_html = sweeps_section(view, page, ws)
    notebook_html = notebook_section(nb, cells, view, page)
    env_html = environment_section(view, cells)
    if env_html:
        page.toc.append((1, "environment", "Environment"))
    title = title or (path.name if path is not None else
                      str(nb.get("metadata", {}).get("title") or "notebook"))
    header = _header(title, path, ws, view, folder, generated)
    bundle = (f'<script type="module">{vega_bundle_script()}</script>\n' if page.charts else "")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f'<meta name="generator" content="nbtrack {e(_version())}">\n'
        f"<title>Run report: {e(title)}</title>\n"
        f"<style>{inline_css(read_asset('report.css'))}\n"
        f"{inline_css(nbcells.pygments_css('.source'))}</style>\n"
        "</head>\n<body>\n<div class=\"layout\">\n"
        f"{header}\n{_toc(page)}\n<main>\n{run_html}\n{compare_html}\n{sweeps_html}\n"
        f"{notebook_html}\n"
        f"{env_html}\n</main>\n</div>\n"
        f'<footer class="report-footer">Made with nbtrack {e(_version())}: one file, no '
        "network needed.</footer>\n"
        f"{bundle}"
        f'<script type="module">{inline_js(read_asset("report.js"))}</script>\n'
        "</body>\n</html>\n"
    )


#: The page loads nothing from anywhere: scripts and styles are inline, images and logged audio
#: are data: URIs.
#: No 'unsafe-eval': notebook outputs' Vega specs are drawn in this page (which JupyterLab opens
#: trusted), so report.js has Vega interpret expressions instead of compiling them.
PAGE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; media-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)


def _version() -> str:
    try:
        from nbtrack import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return ""


def _header(title: str, path: Path | None, ws: Path, view: StoreView, folder: Path,
            generated: _dt.datetime | None) -> str:
    when = (generated or _dt.datetime.now().astimezone()).replace(microsecond=0)
    shown = "—"
    if path is not None:
        try:
            shown = path.relative_to(ws).as_posix()
        except ValueError:
            shown = str(path)
    author = git_author(folder) if folder.is_dir() else None
    rows = [("Notebook", e(shown))]
    if author:
        rows.append(("Author", e(author)))
    rows.append(("Generated", f'<time class="generated" datetime="{e(when.isoformat())}">'
                              f"{e(when.strftime('%Y-%m-%d %H:%M:%S %Z').strip())}</time>"))
    count = len(view.runs)
    chips = " ".join(run_link(r) for r in view.runs) or "none recorded"
    rows.append((f"Runs ({count})", chips))
    facts = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (f'<header class="report-header" id="top"><p class="kicker">Run report</p>'
            f"<h1>{e(title)}</h1><dl class=\"facts\">{facts}</dl></header>")


def _toc(page: Page) -> str:
    items = []
    for level, anchor, text in page.toc:
        items.append(f'<li class="toc-{level}"><a href="#{e(anchor)}">{e(text)}</a></li>')
    return (f'<nav class="toc" aria-label="Contents"><p class="toc-title">Contents</p>'
            f"<ol>{''.join(items)}</ol></nav>")
