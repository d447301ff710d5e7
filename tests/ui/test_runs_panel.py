"""The Runs sidebar in a real JupyterLab, driven by Debian's Chromium.

Runs are logged with the Python API into the lab's workspace; the tests look at what the
sidebar shows: the table, the chart of the ticked runs, the diff, a run's details, and a live
run whose row and curve update while it logs. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ui_contrast import text_contrasts

import nbtrack

pytestmark = pytest.mark.ui

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"

ROWS = ".nbtrack-runs-table tr[data-run-id]"
CHART_LINES = ".nbtrack-chart svg .mark-line path"
#: Points drawn in the chart's lines (each point after the first adds an "L" command).
CHART_POINTS = """() => [...document.querySelectorAll('.nbtrack-chart svg .mark-line path')]
  .reduce((n, p) => n + ((p.getAttribute('d') || '').match(/L/g) || []).length + 1, 0)"""


def _log_run(root: Path, name: str, lr: float, steps: int = 40) -> str:
    with nbtrack.init(name=name, config={"lr": lr, "epochs": 3}, tags=["ui"],
                      workspace=root, capture_env=False) as run:
        for step in range(steps):
            run.log({"loss": math.exp(-lr * 10 * step / steps) + 0.02 * math.sin(step),
                     "acc": 1 - math.exp(-step / 15)})
    return str(run.id)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _open_panel(page: Any, lab: Any) -> None:
    page.goto(lab.lab_url())
    tab = page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']")
    tab.wait_for(timeout=60_000)
    tab.click()
    page.locator(".nbtrack-panel").wait_for(state="visible")
    _widen_sidebar(page, 560)


def _widen_sidebar(page: Any, width: int) -> None:
    """Drag the left sidebar's edge so the panel is ``width`` pixels wide."""
    panel = page.locator(".nbtrack-panel").bounding_box()
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    if not panel or not box:
        return
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(panel["x"] + width, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()


@pytest.fixture(scope="module")
def two_runs(runs_lab: Any) -> dict[str, str]:
    """Two finished runs that differ in their learning rate."""
    return {"small-lr": _log_run(runs_lab.root, "small-lr", 0.01),
            "big-lr": _log_run(runs_lab.root, "big-lr", 0.1)}


def _row(page: Any, run_id: str) -> Any:
    return page.locator(f".nbtrack-runs-table tr[data-run-id='{run_id}']")


def test_ticking_two_runs_plots_both_curves_and_compare_shows_the_changed_param(
    runs_lab: Any, two_runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    _open_panel(page, runs_lab)
    for run_id in two_runs.values():
        _row(page, run_id).wait_for(timeout=30_000)
    assert "small-lr" in _row(page, two_runs["small-lr"]).inner_text()
    assert _row(page, two_runs["big-lr"]).get_attribute("data-status") == "finished"

    for run_id in two_runs.values():
        _row(page, run_id).locator("input[type=checkbox]").check()
    page.wait_for_function(
        f"() => document.querySelectorAll({CHART_LINES!r}).length === 2", timeout=30_000)
    assert page.locator(".nbtrack-metric-picker").input_value() == "loss"
    _shot(page, "runs-panel-chart-light")

    page.locator(".nbtrack-compare").click()
    lr = page.locator(".nbtrack-diff-params tr[data-key='lr']")
    lr.wait_for(timeout=30_000)
    assert [c.strip() for c in lr.locator("td").all_inner_texts()[1:]] == ["0.01", "0.1"]
    # Only changed params by default; "epochs" is the same in both runs.
    assert page.locator(".nbtrack-diff-params tr[data-key='epochs']").count() == 0
    page.locator(".nbtrack-diff-show-all").check()
    page.locator(".nbtrack-diff-params tr[data-key='epochs']").wait_for()
    assert page.locator(".nbtrack-diff-metrics tr[data-key='loss']").count() == 1
    _shot(page, "runs-panel-diff-light")


def test_sorting_and_filtering_ask_the_server(
    runs_lab: Any, two_runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    _open_panel(page, runs_lab)
    rows = page.locator(ROWS)
    _row(page, two_runs["big-lr"]).wait_for(timeout=30_000)
    page.locator(".nbtrack-runs-table th[data-sort='name']").click()  # name, descending
    page.wait_for_function(
        "() => document.querySelector('.nbtrack-runs-table th.nbtrack-sorted')"
        "?.dataset.sort === 'name'")
    page.locator(".nbtrack-runs-table th[data-sort='name']").click()  # ascending
    page.wait_for_function(
        f"() => document.querySelector({ROWS!r})?.dataset.runId === {two_runs['big-lr']!r}")

    page.locator(".nbtrack-filter-input").fill("params.lr < 0.05")
    page.wait_for_function(f"() => document.querySelectorAll({ROWS!r}).length === 1")
    assert rows.first.get_attribute("data-run-id") == two_runs["small-lr"]
    assert page.locator(".nbtrack-filter-mode").inner_text() == "where"

    # The server answers a bad filter with 400, which the browser logs as a console error.
    page.errors.expect(r"/nbtrack/api/runs\?\S*where=params\.lr%20%3C(&|:|$)")
    page.locator(".nbtrack-filter-input").fill("params.lr <")
    page.locator(".nbtrack-runs-error").wait_for()  # the server's message for a bad filter
    page.locator(".nbtrack-filter-input").fill("big")
    page.wait_for_function(
        f"() => [...document.querySelectorAll({ROWS!r})].map(r => r.dataset.runId).join()"
        f" === {two_runs['big-lr']!r}")
    assert page.locator(".nbtrack-runs-error").count() == 0


def test_clicking_a_run_shows_its_params_metrics_and_cells_and_renames_it(
    runs_lab: Any, two_runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    _open_panel(page, runs_lab)
    row = _row(page, two_runs["small-lr"])
    row.wait_for(timeout=30_000)
    row.locator(".nbtrack-col-name").click()
    detail = page.locator(f".nbtrack-run-detail[data-run-id='{two_runs['small-lr']}']")
    detail.wait_for(timeout=30_000)
    assert detail.locator(".nbtrack-run-params tr[data-key='lr'] td").inner_text() == "0.01"
    assert detail.locator(".nbtrack-run-metrics tr[data-key='loss']").count() == 1
    _shot(page, "runs-panel-detail-light")

    detail.locator(".nbtrack-edit-name").fill("small-lr-renamed")
    detail.locator(".nbtrack-save").click()
    row.locator(".nbtrack-col-name", has_text="small-lr-renamed").wait_for(timeout=30_000)
    assert nbtrack.get_run(two_runs["small-lr"], workspace=runs_lab.root).name == (
        "small-lr-renamed")


@pytest.fixture
def live_run(runs_lab: Any) -> Iterator[tuple[Any, threading.Event]]:
    """A run logging a point every 50 ms in a background thread until the event is set."""
    stop = threading.Event()
    run = nbtrack.init(name="live", config={"lr": 0.05}, workspace=runs_lab.root,
                       capture_env=False)

    def loop() -> None:
        step = 0
        while not stop.is_set():
            run.log({"loss": 1 / (1 + 0.05 * step)})
            step += 1
            stop.wait(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield run, stop
    stop.set()
    thread.join()
    run.finish()


def test_a_live_run_appears_and_its_curve_grows_while_it_logs(
    runs_lab: Any, two_runs: dict[str, str], live_run: tuple[Any, threading.Event],
    lab_page: Any
) -> None:
    page = lab_page
    run, stop = live_run
    _open_panel(page, runs_lab)
    row = _row(page, str(run.id))
    row.wait_for(timeout=30_000)
    assert row.get_attribute("data-status") == "running"
    row.locator("input[type=checkbox]").check()
    page.wait_for_function(f"() => ({CHART_POINTS})() > 1", timeout=30_000)
    first = page.evaluate(CHART_POINTS)
    page.wait_for_function(f"() => ({CHART_POINTS})() > {first}", timeout=30_000)
    _shot(page, "runs-panel-live-light")
    stop.set()
    run.finish()
    page.locator(f".nbtrack-runs-table tr[data-run-id='{run.id}'][data-status='finished']") \
        .wait_for(timeout=30_000)


#: WCAG 2 contrast ratios: body text (1.4.3, level AA); chart labels are held to the bar for
#: large text and graphics (1.4.11), which Vega's grey axis labels meet in both themes.
BODY_TEXT, CHART_TEXT = 4.5, 3.0


def _hard_to_read(page: Any, view: str) -> list[str]:
    """The panel's texts whose contrast with what is behind them is too low, one line each."""
    seen = text_contrasts(page, ".nbtrack-panel")
    assert len(seen) > 10, f"{view}: found almost no text in the panel: {seen}"
    return [f"{view}: {t}" for t in seen if t.ratio < (CHART_TEXT if t.svg else BODY_TEXT)]


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=["dark", "light"])
def test_the_panel_reads_well_in_the_dark_and_light_themes(
    runs_lab: Any, two_runs: dict[str, str], lab_page: Any, theme: str
) -> None:
    page = lab_page
    slug = "dark" if theme == DARK else "light"
    runs_lab.set_theme(theme)
    try:
        _open_panel(page, runs_lab)
        page.wait_for_function(
            f"() => document.body.dataset.jpThemeLight === '{str(theme == LIGHT).lower()}'",
            timeout=30_000)
        for run_id in two_runs.values():
            _row(page, run_id).wait_for(timeout=30_000)
        # The table's headers and rows are among what is measured, not only the toolbar.
        table = {t.element.split(".")[0] for t in text_contrasts(page, ".nbtrack-runs-table")}
        assert {"th", "td", "span"} <= table, table
        low = _hard_to_read(page, "runs table")

        for run_id in two_runs.values():
            _row(page, run_id).locator("input[type=checkbox]").check()
        page.wait_for_function(
            f"() => document.querySelectorAll({CHART_LINES!r}).length === 2", timeout=30_000)
        assert any(t.svg for t in text_contrasts(page, ".nbtrack-chart")), "no axis labels"
        low += _hard_to_read(page, "ticked rows and chart")
        _shot(page, f"runs-panel-chart-{slug}")

        page.locator(".nbtrack-compare").click()
        page.locator(".nbtrack-diff-params tr[data-key='lr']").wait_for(timeout=30_000)
        low += _hard_to_read(page, "diff")
        _shot(page, f"runs-panel-diff-{slug}")

        _row(page, two_runs["big-lr"]).locator(".nbtrack-col-name").click()
        page.locator(".nbtrack-run-detail").wait_for(timeout=30_000)
        low += _hard_to_read(page, "run detail")  # the pointer still hovers the clicked row
        _shot(page, f"runs-panel-detail-{slug}")
    finally:
        runs_lab.set_theme(LIGHT)
    assert not low, (f"text below a WCAG contrast of {BODY_TEXT}:1 ({CHART_TEXT}:1 for chart "
                     f"labels) in the {theme} theme:\n" + "\n".join(low))


def test_a_run_opens_its_notebook_and_the_toolbar_exports_the_run_report(
    runs_lab: Any, lab_page: Any
) -> None:
    page = lab_page
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("import nbtrack")]
    nbformat.write(notebook, runs_lab.root / "reported.ipynb")
    with nbtrack.init(name="reported", config={"lr": 0.3}, notebook="reported.ipynb",
                      workspace=runs_lab.root, capture_env=False) as run:
        for step in range(5):
            run.log({"loss": 1 / (step + 1)})

    _open_panel(page, runs_lab)
    _row(page, str(run.id)).locator(".nbtrack-col-name").click()
    page.locator(".nbtrack-open-notebook").click()  # docmanager:open with the run's notebook
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.wait_for(timeout=60_000)
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text="reported.ipynb").wait_for()

    panel.locator(".nbtrack-report-button").click()
    page.locator(".lm-TabBar-tab", has_text="reported.report.html").wait_for(timeout=120_000)
    assert (runs_lab.root / "reported.report.html").is_file()
    # Opened trusted, so the report's own script draws its charts inside JupyterLab.
    viewer = page.frame_locator(".jp-HTMLViewer:visible iframe")
    viewer.locator(".chart-view svg").first.wait_for(timeout=60_000)
    _shot(page, "runs-panel-report-exported")
