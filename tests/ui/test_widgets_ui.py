"""Inline widgets in a real JupyterLab, driven by Debian's Chromium.

Each test writes a notebook, opens it in JupyterLab, runs its cells with Shift+Enter and looks at
what renders. Screenshots go to test-artifacts/. The browser fixtures (``chromium``,
``lab_page``) and the lab (``runs_lab``, one per test module) come from conftest.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def widget_lab(runs_lab: Any) -> Any:
    """The shared real JupyterLab of conftest.py (token auth), its kernels importing nbtrack."""
    return runs_lab


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('#jp-main-statusbar')?.textContent.includes('| Idle')",
        timeout=60_000)


def _run_cells(page: Any, count: int) -> None:
    """Shift+Enter from the first cell, ``count`` times (without waiting for results)."""
    page.locator(".jp-Cell").first.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")
    for _ in range(count):
        page.keyboard.press("Shift+Enter")


def _wait_idle(page: Any, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.jp-Notebook .jp-InputPrompt')?.textContent"
        " || ![...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
        ".some(p => p.textContent.includes('*'))",
        timeout=timeout,
    )


LINE_LENGTH = """() => {
  const paths = [...document.querySelectorAll('.nbtrack-widget .mark-line path')];
  return paths.reduce((n, p) => n + (p.getAttribute('d') || '').length, 0);
}"""


def test_a_track_cell_draws_its_curves_while_it_runs_and_keeps_them(
    widget_lab: Any, lab_page: Any
) -> None:
    page = lab_page
    url = widget_lab.notebook("live.ipynb", [
        "%load_ext nbtrack",
        "%%track ui-live\nimport time, math, nbtrack, numpy as np\nfor i in range(120):\n"
        "    nbtrack.log({'loss': 1 / (i + 1) + 0.03 * math.sin(i / 3), 'acc': i / 120})\n"
        "    if i % 40 == 0:\n"
        "        nbtrack.log({'sample': nbtrack.Image(np.full((16, 16, 3), i, np.uint8),\n"
        "                                             caption=f'sample {i}')}, step=i)\n"
        "    time.sleep(0.08)",
    ])
    _open(page, url)
    _run_cells(page, 2)
    page.wait_for_selector(".nbtrack-widget .nbt-status-running", timeout=60_000)
    page.wait_for_function(f"() => ({LINE_LENGTH})() > 0", timeout=60_000)
    first = page.evaluate(LINE_LENGTH)
    page.wait_for_function(f"() => ({LINE_LENGTH})() > {first}", timeout=60_000)
    assert page.locator(".nbtrack-widget .nbt-status-running").count() == 1  # still running
    _shot(page, "widgets-live-running")
    page.wait_for_selector(".nbtrack-widget .nbt-status-finished", timeout=60_000)
    _wait_idle(page)
    final = page.evaluate(LINE_LENGTH)
    assert final > first
    head = page.locator(".nbtrack-widget .nbt-live-head").inner_text()
    assert "ui-live" in head and "240 points" in head and "step 119" in head
    assert page.locator(".nbtrack-widget .mark-line path").count() == 2  # loss and acc panels
    image = page.locator(".nbtrack-widget .nbt-media-image img")
    image.wait_for(timeout=30_000)
    assert page.locator(".nbtrack-widget .nbt-media-image figcaption").inner_text() == "sample 80"
    assert image.evaluate("img => img.naturalWidth") == 16
    page.locator(".nbtrack-widget").first.scroll_into_view_if_needed()
    _shot(page, "widgets-live-finished")


def test_runs_table_selects_runs_to_overlay_and_the_diff_renders_inline(
    widget_lab: Any, lab_page: Any
) -> None:
    page = lab_page
    url = widget_lab.notebook("table.ipynb", [
        "%load_ext nbtrack\nimport nbtrack\nfrom nbtrack import widgets",
        "%%track small-lr lr=0.01 --tag ui --no-plot --no-auto-params\n"
        "for i in range(50):\n    nbtrack.log({'loss': 1 / (1 + 0.1 * i)})",
        "%%track big-lr lr=0.1 --tag ui --no-plot --no-auto-params\n"
        "for i in range(50):\n    nbtrack.log({'loss': 1 / (1 + 1.0 * i)})\n"
        "    nbtrack.log({'acc': i / 50}, step=i)",
        "table = widgets.runs_table(tag='ui')\ntable",
        "print('selected:', [r.name for r in table.selected_runs])",
        "nbtrack.diff('small-lr', 'big-lr').show()",
    ])
    _open(page, url)
    _run_cells(page, 4)
    rows = page.locator(".nbtrack-widget .nbt-table tbody tr")
    rows.first.wait_for(timeout=60_000)
    assert rows.count() == 2
    lr_header = page.locator(".nbtrack-widget .nbt-table th[data-col='params.lr']")
    lr_header.click()  # ascending
    assert rows.first.locator("td").nth(2).inner_text() == "small-lr"
    lr_header.click()  # descending
    assert rows.first.locator("td").nth(2).inner_text() == "big-lr"
    page.locator(".nbtrack-widget .nbt-search").fill("small")
    assert rows.count() == 1
    page.locator(".nbtrack-widget .nbt-search").fill("")
    for i in range(2):
        rows.nth(i).locator("input[type=checkbox]").check()
    # Both runs' loss in one panel, big-lr's acc in another.
    page.wait_for_function(
        "() => document.querySelectorAll('.nbtrack-widget .nbt-chart .mark-line path')"
        ".length === 3", timeout=60_000)
    _shot(page, "widgets-runs-table")
    _run_cells_from(page, 4, 2)
    diff = page.locator(".nbtrack-widget").nth(1)
    diff.locator(".nbt-card-head").wait_for(timeout=60_000)
    diff.scroll_into_view_if_needed()
    page.wait_for_selector(".nbtrack-widget .nbt-diff-add", timeout=60_000)
    output = page.locator(".jp-Cell").nth(4).locator(".jp-OutputArea-output").inner_text()
    assert "selected: ['big-lr', 'small-lr']" in output  # in table order, newest first
    assert "lr" in diff.locator("table").first.inner_text()
    assert "0.01" in diff.inner_text() and "0.1" in diff.inner_text()
    assert "+    nbtrack.log({'acc': i / 50}, step=i)" in diff.locator(".nbt-code").inner_text()
    diff.scroll_into_view_if_needed()
    _shot(page, "widgets-diff")


def _run_cells_from(page: Any, index: int, count: int) -> None:
    page.locator(".jp-Cell").nth(index).locator(".jp-InputPrompt").click()
    for _ in range(count):
        page.keyboard.press("Shift+Enter")


def test_run_card_reads_well_in_the_dark_theme(widget_lab: Any, lab_page: Any) -> None:
    page = lab_page
    widget_lab.set_theme("JupyterLab Dark")
    try:
        url = widget_lab.notebook("card.ipynb", [
            "import math, nbtrack\n"
            "with nbtrack.init(name='dark', config={'lr': 0.05, 'opt': 'adam'}) as run:\n"
            "    for i in range(200):\n"
            "        run.log({'loss': math.exp(-i / 40) + 0.05 * math.sin(i),"
            " 'acc': 1 - math.exp(-i / 50)})\n"
            "run.show()",
        ])
        _open(page, url)
        _run_cells(page, 1)
        page.wait_for_function(
            "() => document.querySelectorAll('.nbtrack-widget .mark-line path').length === 2",
            timeout=60_000)
        card = page.locator(".nbtrack-widget").first
        assert "#" in card.locator(".nbt-card-head").inner_text()
        assert "adam" in card.inner_text()
        label = page.locator(".nbtrack-widget .role-axis-label text").first
        color = label.get_attribute("fill")
        assert color and color.lower() not in ("#000", "#000000", "black")
        card.scroll_into_view_if_needed()
        _shot(page, "widgets-card-dark")
    finally:
        widget_lab.set_theme("JupyterLab Light")


def test_run_card_shows_the_latest_media_of_the_run(widget_lab: Any, lab_page: Any) -> None:
    page = lab_page
    # The logged HTML's own script is refused by its sandboxed frame, as it must be.
    page.errors.expect(r"Blocked script execution in 'about:srcdoc'")
    url = widget_lab.notebook("card-media.ipynb", [
        "import numpy as np, nbtrack\n"
        "rng = np.random.default_rng(0)\n"
        "with nbtrack.init(name='media') as run:\n"
        "    for step in range(3):\n"
        "        img = np.zeros((64, 96, 3)); img[..., step] = 1.0\n"
        "        run.log({'loss': 1 / (step + 1),\n"
        "                 'samples': nbtrack.Image(img, caption=f'<b>step {step}</b>'),\n"
        "                 'w': nbtrack.Histogram(rng.normal(step, 1, 500))}, step=step)\n"
        "    run.log({'preds': nbtrack.Table(rows=[[i, f'<i>{i}</i>'] for i in range(30)],\n"
        "                                    columns=['id', 'label']),\n"
        "             'voice': nbtrack.Audio(np.sin(np.arange(8000) / 5) * 0.2, 8000),\n"
        "             'note': nbtrack.Text('<script>alert(1)</script> stays text'),\n"
        "             'page': nbtrack.Html('<p>framed</p><script>parent.alert(2)</script>')})\n"
        "run.show()",
    ])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, url)
    _run_cells(page, 1)
    page.wait_for_selector(".nbtrack-widget .nbt-media-chart[data-state=drawn]",
                           timeout=60_000)
    media = page.locator(".nbtrack-widget .nbt-media").first
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nbt-media img')]"
        ".every(i => i.complete && i.naturalWidth > 0) && "
        "document.querySelectorAll('.nbt-media img').length === 1", timeout=30_000)
    assert media.locator("figcaption").first.inner_text() == "<b>step 2</b>"  # as text
    assert media.locator(".nbt-media-table tbody tr").count() == 10
    assert "20 more rows" in media.inner_text()
    assert "<i>0</i>" in media.locator(".nbt-media-table").inner_text()
    assert media.locator("audio[controls]").count() == 1
    assert "<script>alert(1)</script> stays text" in media.locator(".nbt-media-text").inner_text()
    frame = media.locator("iframe.nbt-media-html")
    assert frame.get_attribute("sandbox") == ""
    assert page.frame_locator(".nbt-media-html").locator("p").inner_text() == "framed"
    assert page.locator(".nbtrack-widget .nbt-media-chart .mark-rect path").count() > 0
    assert dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    media.screenshot(path=str(ARTIFACTS / "widgets-card-media.png"))
