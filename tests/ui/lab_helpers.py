"""Steps the workspace browser tests share: open the lab, run a palette command, screenshot,
and check the contrast of what a region shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui_contrast import text_contrasts

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: WCAG 2 contrast for body text (1.4.3, level AA).
BODY_TEXT = 4.5


def shot(page: Any, name: str) -> None:
    """A screenshot to ``test-artifacts/<name>.png`` (to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def open_lab(page: Any, lab: Any, reset: bool = True) -> None:
    """Open JupyterLab (a fresh lab workspace unless ``reset=False``) and wait for nbtrack."""
    page.goto(lab.lab_url(reset))
    page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']").wait_for(timeout=60_000)


def run_from_palette(page: Any, search: str, command: str, shown: str | None = None) -> None:
    """Run the palette command ``command`` (found by ``search``); with ``shown``, wait until
    the first element it selects is visible.

    The palette closes when it loses the focus, which the lab takes now and then while it
    settles after loading: then the whole sequence is tried again.
    """
    palette = page.locator(".lm-CommandPalette-input")
    item = page.locator(f".lm-CommandPalette-item.lm-mod-active[data-command='{command}']")
    for attempt in range(8):
        try:
            page.keyboard.press("Control+Shift+C")
            palette.wait_for(state="visible", timeout=3000)
            palette.fill(search, timeout=3000)
            item.wait_for(timeout=3000)
            palette.press("Enter", timeout=3000)
            if shown is not None:
                page.locator(f"{shown}:visible").first.wait_for(state="visible",
                                                                timeout=10_000)
            return
        except Exception:
            if attempt == 7:
                raise
            page.keyboard.press("Escape")


def low_contrast(page: Any, region: str, least: int) -> list[str]:
    """The texts of ``region`` below :data:`BODY_TEXT` (at least ``least`` texts are read)."""
    seen = text_contrasts(page, region)
    assert len(seen) > least, seen
    return [str(t) for t in seen if t.ratio < BODY_TEXT]
