"""The Runs workspace (main area) in a real JupyterLab, driven by Debian's Chromium.

Runs are logged with the Python API (as a script logs them) into the lab's workspace, with
``train/``, ``val/`` and ``system/`` keys; the tests open the workspace from the palette, the
launcher and the sidebar and look at what it shows: a chart per key in sections by prefix, the
runs table with its columns, groups and eye toggles, the layout after a reload, a live run's
curve growing. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_helpers import BODY_TEXT, low_contrast, open_lab, run_from_palette, shot

import nbtrack

pytestmark = pytest.mark.ui

LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
WORKSPACE = ".nbtrack-workspace"
KEYS = ["train/loss", "train/lr", "val/acc", "system/cpu"]


def _log_run(root: Path, name: str, lr: float, opt: str, steps: int = 40) -> str:
    with nbtrack.init(name=name, config={"lr": lr, "opt": opt}, tags=["ui"], workspace=root,
                      capture_env=False) as run:
        for step in range(steps):
            run.log({"train/loss": math.exp(-lr * 30 * step / steps) + 0.02 * math.sin(step),
                     "train/lr": lr * 0.97 ** step,
                     "system/cpu": 40 + 10 * math.sin(step / 3 + lr * 50)})
            if step % 10 == 9:
                run.log({"val/acc": 1 - math.exp(-step / (15 + 100 * lr))})
    return str(run.id)


@pytest.fixture(scope="module")
def runs(runs_lab: Any) -> dict[str, str]:
    """Three finished runs: two with adam, one with sgd."""
    return {"adam-small": _log_run(runs_lab.root, "adam-small", 0.01, "adam"),
            "adam-big": _log_run(runs_lab.root, "adam-big", 0.1, "adam"),
            "sgd": _log_run(runs_lab.root, "sgd", 0.05, "sgd")}








def _open_from_palette(page: Any) -> None:
    for attempt in range(3):  # an Enter the palette lost (it closed on a focus change)
        run_from_palette(page, "Open Runs workspace", "nbtrack:open-workspace")
        try:
            page.locator(WORKSPACE).wait_for(state="visible", timeout=10_000)
            return
        except Exception:
            if attempt == 2:
                raise


def _panel(page: Any, key: str) -> Any:
    return page.locator(f"{WORKSPACE} .nbtrack-ws-panel[data-key='{key}']")


def _drawn_runs(page: Any, key: str) -> set[str]:
    """The run ids whose curves the panel of ``key`` draws now."""
    chart = _panel(page, key).locator(".nbtrack-ws-chart")
    return set((chart.get_attribute("data-runs") or "").split())


def _wait_drawn(page: Any, key: str, expected: set[str], exact: bool = True) -> None:
    """Wait until the panel of ``key`` draws the curves of ``expected`` (and no other run's)."""
    page.wait_for_function(
        """([key, ids, exact]) => {
          const el = document.querySelector(
            `.nbtrack-workspace .nbtrack-ws-panel[data-key="${key}"] .nbtrack-ws-chart`);
          const drawn = new Set((el?.dataset.runs || '').split(' ').filter(Boolean));
          return (!exact || drawn.size === ids.length) && ids.every(id => drawn.has(id));
        }""", arg=[key, sorted(expected), exact], timeout=30_000)


def _panel_keys(page: Any, section: str) -> list[str]:
    """The keys of the panels of ``section``, in the order shown."""
    panels = page.locator(f"{WORKSPACE} .nbtrack-ws-section[data-section='{section}'] "
                          ".nbtrack-ws-panel")
    return [p.get_attribute("data-key") for p in panels.all()]


def _row(page: Any, run_id: str) -> Any:
    return page.locator(f"{WORKSPACE} tr[data-run-id='{run_id}']")


def test_the_palette_opens_one_workspace_with_a_chart_per_key_in_sections_by_prefix(
    runs_lab: Any, runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    _open_from_palette(page)
    sections = page.locator(f"{WORKSPACE} .nbtrack-ws-section")
    page.wait_for_function(
        "() => document.querySelectorAll('.nbtrack-workspace .nbtrack-ws-section').length === 3",
        timeout=30_000)
    assert [s.get_attribute("data-section") for s in sections.all()] == ["train", "val", "system"]
    assert _panel_keys(page, "train") == ["train/loss", "train/lr"]
    assert _panel_keys(page, "val") == ["val/acc"]
    assert _panel_keys(page, "system") == ["system/cpu"]
    for key in KEYS:
        _wait_drawn(page, key, set(runs.values()))
    for run_id in runs.values():  # every run has its colour swatch in the table
        assert _row(page, run_id).locator(".nbtrack-ws-swatch").count() == 1
    shot(page, "runs-workspace-light")

    # The same command again (and the sidebar's button) re-activates the one workspace.
    page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']").click()
    page.locator(".nbtrack-open-workspace").click()
    _open_from_palette(page)
    assert page.locator(WORKSPACE).count() == 1


def test_the_launcher_card_opens_the_workspace(
    runs_lab: Any, runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    card = page.locator(".jp-LauncherCard:visible", has_text="Runs workspace").first
    card.wait_for(timeout=30_000)
    card.click()
    page.locator(WORKSPACE).wait_for(state="visible", timeout=30_000)
    _wait_drawn(page, "train/loss", set(runs.values()))


def test_hiding_a_run_takes_its_curve_out_of_every_chart(
    runs_lab: Any, runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    _open_from_palette(page)
    everyone = set(runs.values())
    _wait_drawn(page, "train/loss", everyone)
    _row(page, runs["sgd"]).locator(".nbtrack-ws-eye").click()
    for key in KEYS:
        _wait_drawn(page, key, everyone - {runs["sgd"]})
    assert _row(page, runs["sgd"]).get_attribute("class").find("nbtrack-ws-hidden-run") >= 0
    _row(page, runs["sgd"]).locator(".nbtrack-ws-eye").click()  # and back
    _wait_drawn(page, "train/loss", everyone)


def test_a_chosen_column_appears_and_grouping_by_a_param_groups_the_rows(
    runs_lab: Any, runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    _open_from_palette(page)
    _row(page, runs["sgd"]).wait_for(timeout=30_000)
    page.locator(f"{WORKSPACE} .nbtrack-ws-columns > summary").click()
    page.locator(f"{WORKSPACE} input[data-column='params.lr']").check()
    page.locator(f"{WORKSPACE} input[data-column='metrics.val/acc']").check()
    page.locator(f"{WORKSPACE} th[data-column='params.lr']").wait_for()
    assert _row(page, runs["sgd"]).locator("td[data-column='params.lr']").inner_text() == "0.05"
    assert _row(page, runs["sgd"]).locator("td[data-column='metrics.val/acc']").inner_text() \
        not in ("", "—")
    page.locator(f"{WORKSPACE} .nbtrack-ws-columns > summary").click()  # close the chooser

    page.locator(f"{WORKSPACE} .nbtrack-ws-group-by").select_option("params.opt")
    groups = page.locator(f"{WORKSPACE} tbody.nbtrack-ws-group")
    page.wait_for_function(
        "() => document.querySelectorAll('.nbtrack-workspace tbody.nbtrack-ws-group')"
        ".length === 2")
    labels = {g.get_attribute("data-group"): g for g in groups.all()}
    assert set(labels) == {"opt = adam", "opt = sgd"}
    adam = labels["opt = adam"]
    assert adam.locator("tr[data-run-id]").count() == 2
    assert labels["opt = sgd"].locator(f"tr[data-run-id='{runs['sgd']}']").count() == 1
    shot(page, "runs-workspace-grouped-light")
    adam.locator(".nbtrack-ws-group-toggle").click()  # fold a group
    page.wait_for_function(
        "() => document.querySelectorAll("
        "'.nbtrack-workspace tbody[data-group=\"opt = adam\"] tr[data-run-id]').length === 0")


def test_panels_move_with_the_arrows_and_by_drag_and_collapse(
    runs_lab: Any, runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    _open_from_palette(page)
    _wait_drawn(page, "train/lr", set(runs.values()))
    assert _panel_keys(page, "train") == ["train/loss", "train/lr"]
    assert _panel(page, "train/loss").locator(".nbtrack-ws-move-left").is_disabled()
    _panel(page, "train/loss").locator(".nbtrack-ws-move-right").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nbtrack-workspace .nbtrack-ws-panel')]"
        ".map(p => p.dataset.key).join() === 'train/lr,train/loss,val/acc,system/cpu'")
    # Drag the panel back by its header.
    _panel(page, "train/loss").locator(".nbtrack-ws-panel-header").drag_to(
        _panel(page, "train/lr").locator(".nbtrack-ws-panel-header"))
    page.wait_for_function(
        "() => document.querySelector('.nbtrack-workspace .nbtrack-ws-panel').dataset.key"
        " === 'train/loss'")
    # A panel across a section boundary is not a drop target: the order stays.
    _panel(page, "val/acc").locator(".nbtrack-ws-panel-header").drag_to(
        _panel(page, "train/loss").locator(".nbtrack-ws-panel-header"))
    assert _panel_keys(page, "train") == ["train/loss", "train/lr"]

    loss = _panel(page, "train/loss")
    loss.locator(".nbtrack-ws-collapse").click()
    loss.locator(".nbtrack-ws-chart").wait_for(state="detached")
    assert loss.get_attribute("class").find("nbtrack-ws-collapsed") >= 0
    loss.locator(".nbtrack-ws-size", has_text="M").click()
    assert loss.get_attribute("data-size") == "M"
    loss.locator(".nbtrack-ws-collapse").click()
    chart = loss.locator(".nbtrack-ws-chart")
    chart.wait_for()
    # Pointing near the curves' start (every run starts near 1 at step 0) names a run.
    chart.hover(position={"x": 40, "y": 12})
    tooltip = loss.locator(".nbtrack-ws-tooltip")
    tooltip.wait_for()
    text = tooltip.inner_text()
    assert text.startswith("#") and "\nstep " in text, text  # "#1 adam-small\nstep 1: 1.01"
    shot(page, "runs-workspace-moved-light")


def _saved_layout(lab: Any) -> dict[str, Any]:
    """The workspace layout as the lab saved it on the server (its default workspace)."""
    request = urllib.request.Request(f"{lab.url}/lab/api/workspaces/default",
                                     headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read())
    return dict(data.get("data", {}).get("nbtrack:workspace-layout") or {})


def test_the_layout_survives_a_page_reload(
    runs_lab: Any, runs: dict[str, str], lab_page: Any
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    _open_from_palette(page)
    _wait_drawn(page, "train/loss", set(runs.values()))
    _row(page, runs["adam-big"]).locator(".nbtrack-ws-eye").click()
    page.locator(f"{WORKSPACE} .nbtrack-ws-group-by").select_option("params.opt")
    panel = _panel(page, "train/loss")
    panel.locator(".nbtrack-ws-size", has_text="L").click()
    panel.locator(".nbtrack-ws-log").check()
    panel.locator(".nbtrack-ws-x").select_option("relative")
    page.locator(f"{WORKSPACE} .nbtrack-ws-section[data-section='system'] "
                 ".nbtrack-ws-section-header").click()
    page.locator(f"{WORKSPACE} .nbtrack-ws-columns > summary").click()
    page.locator(f"{WORKSPACE} input[data-column='params.lr']").check()

    deadline = time.monotonic() + 30  # the lab saves its workspace a moment after a change
    while time.monotonic() < deadline:
        saved = _saved_layout(runs_lab)
        if saved.get("hidden") and "params.lr" in saved.get("columns", []) and \
                "system" in saved.get("collapsedSections", []):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the layout was not saved: {_saved_layout(runs_lab)}")

    open_lab(page, runs_lab, reset=False)
    page.locator(WORKSPACE).wait_for(state="visible", timeout=30_000)  # restored, open
    panel = _panel(page, "train/loss")
    panel.wait_for(timeout=30_000)
    assert panel.get_attribute("data-size") == "L"
    assert panel.locator(".nbtrack-ws-log").is_checked()
    assert panel.locator(".nbtrack-ws-x").input_value() == "relative"
    system = page.locator(f"{WORKSPACE} .nbtrack-ws-section[data-section='system']")
    assert system.get_attribute("class").find("nbtrack-ws-collapsed") >= 0
    assert system.locator(".nbtrack-ws-panel").count() == 0
    page.locator(f"{WORKSPACE} th[data-column='params.lr']").wait_for()
    assert page.locator(f"{WORKSPACE} .nbtrack-ws-group-by").input_value() == "params.opt"
    _wait_drawn(page, "train/loss", set(runs.values()) - {runs["adam-big"]})
    shot(page, "runs-workspace-restored-light")


@pytest.fixture
def live_run(runs_lab: Any) -> Iterator[tuple[Any, threading.Event]]:
    """A run logging ``train/loss`` every 50 ms in a background thread until the event is set."""
    stop = threading.Event()
    run = nbtrack.init(name="live", config={"lr": 0.05, "opt": "adam"},
                       workspace=runs_lab.root, capture_env=False)

    def loop() -> None:
        step = 0
        while not stop.is_set():
            run.log({"train/loss": 1 / (1 + 0.05 * step), "system/cpu": 30.0 + step % 7})
            step += 1
            stop.wait(0.05)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield run, stop
    stop.set()
    thread.join()
    run.finish()


POINTS = """(key) => Number(document.querySelector(
  `.nbtrack-workspace .nbtrack-ws-panel[data-key="${key}"] .nbtrack-ws-chart`)
  ?.dataset.points || 0)"""


def test_a_running_runs_curve_grows_while_visible_and_nothing_polls_while_hidden(
    runs_lab: Any, runs: dict[str, str], live_run: tuple[Any, threading.Event], lab_page: Any
) -> None:
    page = lab_page
    run, stop = live_run
    open_lab(page, runs_lab)
    _open_from_palette(page)
    _row(page, str(run.id)).wait_for(timeout=30_000)
    page.wait_for_function(
        f"() => ({POINTS})('train/loss') > 0 && document.querySelector("
        f"'.nbtrack-workspace .nbtrack-ws-panel[data-key=\"train/loss\"] .nbtrack-ws-chart')"
        f".dataset.runs.includes('{run.id}')", timeout=30_000)
    first = page.evaluate(POINTS, "train/loss")
    page.wait_for_function(f"() => ({POINTS})('train/loss') > {first}", timeout=30_000)
    grown = page.evaluate(POINTS, "train/loss")
    page.wait_for_function(f"() => ({POINTS})('train/loss') > {grown}", timeout=30_000)
    shot(page, "runs-workspace-live-light")

    # Another tab in front: the workspace is hidden and asks the server nothing.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/nbtrack/api/" in r.url else None)
    run_from_palette(page, "New Launcher", "launcher:create")
    page.locator(WORKSPACE).wait_for(state="hidden", timeout=30_000)
    asked.clear()
    page.wait_for_timeout(3000)  # three poll intervals
    assert asked == [], asked
    _open_from_palette(page)  # visible again: it catches up
    page.wait_for_function(f"() => ({POINTS})('train/loss') > {grown}", timeout=30_000)
    stop.set()




@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=["dark", "light"])
def test_the_workspace_reads_well_in_the_dark_and_light_themes(
    runs_lab: Any, runs: dict[str, str], lab_page: Any, theme: str
) -> None:
    page = lab_page
    slug = "dark" if theme == DARK else "light"
    runs_lab.set_theme(theme)
    try:
        open_lab(page, runs_lab)
        page.wait_for_function(
            f"() => document.body.dataset.jpThemeLight === '{str(theme == LIGHT).lower()}'",
            timeout=30_000)
        _open_from_palette(page)
        _wait_drawn(page, "train/loss", set(runs.values()), exact=False)
        low = low_contrast(page, WORKSPACE, 20)
        shot(page, f"runs-workspace-{slug}")
    finally:
        runs_lab.set_theme(LIGHT)
    assert not low, f"text below a WCAG contrast of {BODY_TEXT}:1 in the {theme} theme:\n" + \
        "\n".join(low)
