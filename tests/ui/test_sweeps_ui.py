"""The Runs workspace's Sweeps view in a real JupyterLab, driven by Debian's Chromium.

A real five-trial sweep over two params (one a choice with markup in a value) is run into the
lab's workspace; the sidebar counts it, its button opens the workspace on the Sweeps view, the
sweep's trials are listed with their runs, the parallel-coordinates chart draws one line per
trial, the importances are drawn and the best config is copied as Python code.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from lab_helpers import BODY_TEXT, low_contrast, open_lab, shot

import nbtrack

pytestmark = pytest.mark.ui

WORKSPACE = ".nbtrack-workspace"
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
MARKUP = "<b>sgd</b>"


def objective(config: dict[str, Any]) -> float:
    return (config["x"] - 0.3) ** 2 + (0.5 if config["opt"] == MARKUP else 0.0)


@pytest.fixture(scope="module")
def searched(runs_lab: Any) -> nbtrack.Sweep:
    """``ui-search``: five random trials over ``x`` and ``opt``."""
    return nbtrack.sweep(objective, {"x": nbtrack.uniform(0, 1),
                                     "opt": nbtrack.choice("adam", MARKUP)},
                         n_trials=5, method="random", seed=7, name="ui-search",
                         progress=False, workspace=runs_lab.root)


def _open_sweeps_from_the_sidebar(page: Any) -> None:
    page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']").click()
    button = page.locator(".nbtrack-panel .nbtrack-open-sweeps")
    page.wait_for_function(
        "() => /Sweeps\\s*1/.test(document.querySelector('.nbtrack-open-sweeps')?.textContent"
        " ?? '')", timeout=30_000)
    button.click()
    page.locator(f"{WORKSPACE} .nbtrack-ws-view-sweeps[aria-selected='true']").wait_for(
        timeout=30_000)


def test_the_sweeps_view_shows_trials_parallel_coordinates_and_the_best_config(
    runs_lab: Any, searched: nbtrack.Sweep, lab_page: Any, tmp_path: Path
) -> None:
    page = lab_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=runs_lab.url)
    open_lab(page, runs_lab)
    _open_sweeps_from_the_sidebar(page)

    row = page.locator(f"{WORKSPACE} tr.nbtrack-sweep-row[data-sweep='ui-search']")
    row.wait_for(timeout=30_000)
    assert "5" in row.inner_text() and "val/loss" in row.inner_text()
    row.click()

    detail = page.locator(f"{WORKSPACE} .nbtrack-sweep-detail[data-sweep='ui-search']")
    trials = detail.locator("tr.nbtrack-trial-row")
    trials.first.wait_for(timeout=30_000)
    assert trials.count() == 5
    frame = searched.trials
    for i in range(5):
        cells = trials.nth(i).locator("td").all_inner_texts()
        assert cells[0] == str(i) and cells[1] == "finished"
        assert float(cells[2]) == pytest.approx(frame["value"][i], rel=1e-3)
        assert float(cells[3]) == pytest.approx(frame["params.x"][i], rel=1e-3)
        assert cells[4] == frame["params.opt"][i]  # markup shown as text
        assert cells[-1] == f"#{frame['run'][i]}"
    headers = detail.locator(".nbtrack-trials-table th").all_text_contents()
    assert headers[:5] == ["trial", "status", "val/loss", "x", "opt"]
    assert detail.locator(".nbtrack-status-finished").count() == 5

    chart = detail.locator("svg.nbtrack-parallel")
    chart.wait_for(timeout=30_000)
    assert chart.locator("path.nbtrack-pc-line").count() == 5
    axes = chart.locator("g.nbtrack-pc-axis")
    assert [axes.nth(i).get_attribute("data-axis") for i in range(axes.count())] == [
        "x", "opt", "val/loss"]
    best = searched.best_trial
    assert best is not None
    assert chart.locator(f"path.nbtrack-pc-best[data-trial='{best.number}']").count() == 1
    # Every line goes through the three axes.
    paths = chart.locator("path.nbtrack-pc-line").evaluate_all(
        "ps => ps.map(p => p.getAttribute('d'))")
    assert all(d.startswith("M") and d.count("L") == 2 for d in paths), paths

    bars = detail.locator(".nbtrack-importance")
    assert sorted(bars.nth(i).get_attribute("data-param") for i in range(bars.count())) == [
        "opt", "x"]

    code = detail.locator(".nbtrack-config-code").inner_text()
    x, opt = searched.best_config["x"], searched.best_config["opt"]
    assert code.startswith("config = {") and f'"opt": "{opt}"' in code
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the copied code is Python that gives the best config back
    assert namespace["config"]["opt"] == opt and math.isclose(namespace["config"]["x"], x)
    detail.locator("button.nbtrack-copy-config").click()
    page.wait_for_function(
        "() => document.querySelector('.nbtrack-copy-config').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == code.strip() + "\n"

    shot(page, "sweeps-view")
    page.screenshot(path=str(tmp_path / "sweeps-view.png"), full_page=True)
    detail.screenshot(path=str(tmp_path / "sweep-detail.png"))
    print("screenshots:", tmp_path)

    # A trial's run opens in the sidebar.
    run_id = str(frame["run_id"][2])
    trials.nth(2).locator("button.nbtrack-run-link").click()
    page.locator(f".nbtrack-panel .nbtrack-run-detail[data-run-id='{run_id}']").wait_for(
        timeout=30_000)


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=["dark", "light"])
def test_the_sweeps_view_reads_well_in_the_dark_and_light_themes(
    runs_lab: Any, searched: nbtrack.Sweep, lab_page: Any, theme: str
) -> None:
    page = lab_page
    runs_lab.set_theme(theme)
    try:
        open_lab(page, runs_lab)
        page.wait_for_function(
            f"() => document.body.dataset.jpThemeLight === '{str(theme == LIGHT).lower()}'",
            timeout=30_000)
        _open_sweeps_from_the_sidebar(page)
        page.locator(f"{WORKSPACE} svg.nbtrack-parallel").wait_for(timeout=30_000)
        page.locator(f"{WORKSPACE} .nbtrack-importance").first.wait_for(timeout=30_000)
        low = low_contrast(page, WORKSPACE, 20)
        shot(page, f"sweeps-view-{'dark' if theme == DARK else 'light'}")
    finally:
        runs_lab.set_theme(LIGHT)
    assert not low, f"text below a WCAG contrast of {BODY_TEXT}:1 in the {theme} theme:\n" + \
        "\n".join(low)
