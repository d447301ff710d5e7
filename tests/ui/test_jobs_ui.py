""""Run with parameters..." in a real JupyterLab, driven by Debian's Chromium.

A notebook with a cell tagged ``parameters`` (``lr = 0.1``, ``epochs = 2``) that logs a metric
is opened in the lab; the command's dialog shows both values (a broken literal brings the form
back, never sent), ``lr`` is changed to 0.5 and the
job runs in a real kernel in the background; the run appears in the sidebar with ``lr`` 0.5,
finishes, a notification's button shows it, and its executed notebook opens from its detail.
"""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from lab_helpers import low_contrast, open_lab, run_from_palette, shot

pytestmark = pytest.mark.ui

DIALOG = ".jp-Dialog .nbtrack-job-dialog"


def _write_notebook(lab: Any, name: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("lr = 0.1  # learning rate\nepochs = 2")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_code_cell("import nbtrack"),
        params,
        nbformat.v4.new_code_cell(
            "for step in range(epochs):\n"
            "    nbtrack.log({'loss': lr / (step + 1)}, step=step)\n"
            "print('trained with', lr)"),
    ]
    nbformat.write(nb, lab.root / name)


def test_run_with_parameters_runs_the_notebook_and_opens_the_executed_copy(
    runs_lab: Any, lab_page: Any
) -> None:
    page = lab_page
    _write_notebook(runs_lab, "train.ipynb")
    open_lab(page, runs_lab)
    page.goto(f"{runs_lab.url}/lab/tree/train.ipynb?token={runs_lab.token}&reset")
    page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']").wait_for(timeout=60_000)
    page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(2).wait_for(timeout=60_000)
    assert page.locator(".jp-NotebookPanel:visible .nbtrack-run-job-button").count() == 1

    run_from_palette(page, "Run with parameters", "nbtrack:run-with-parameters", DIALOG)
    dialog = page.locator(DIALOG)
    fields = dialog.locator("input.nbtrack-job-param")
    assert [fields.nth(i).get_attribute("data-param") for i in range(fields.count())] == [
        "lr", "epochs"]
    lr = dialog.locator("input[data-param='lr']")
    assert lr.input_value() == "0.1"
    assert dialog.locator("input[data-param='epochs']").input_value() == "2"
    dialog.locator("input.nbtrack-job-tags").fill("from-lab")

    # A broken literal is never sent: the form comes back as it was, the field marked.
    lr.fill("[0.5")
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    invalid = page.locator(f"{DIALOG} input.nbtrack-job-invalid[data-param='lr']")
    invalid.wait_for(timeout=10_000)
    assert invalid.input_value() == "[0.5"
    assert page.locator(f"{DIALOG} input.nbtrack-job-tags").input_value() == "from-lab"
    assert "not a Python literal" in page.locator(DIALOG).inner_text()
    shot(page, "jobs-dialog-invalid")
    assert low_contrast(page, ".jp-Dialog-content", 4) == []

    page.locator(f"{DIALOG} input[data-param='lr']").fill("0.5")
    assert page.locator(f"{DIALOG} .nbtrack-job-invalid").count() == 0  # cleared on input
    shot(page, "jobs-dialog")
    assert low_contrast(page, ".jp-Dialog-content", 4) == []
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)

    # The run shows in the sidebar while it runs, then finishes; a notification shows it.
    page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']").click()
    row = page.locator(".nbtrack-runs-table tr[data-run-id]").first
    row.wait_for(timeout=60_000)
    page.locator(".nbtrack-runs-table tr[data-status='finished']").wait_for(timeout=120_000)
    show = page.locator(".jp-toast-button, .Toastify__toast button", has_text="Show run")
    show.first.wait_for(timeout=30_000)
    assert "Job finished" in page.locator(".Toastify__toast", has_text="Job finished").first \
        .inner_text()
    show.first.click()

    detail = page.locator(".nbtrack-panel .nbtrack-run-detail")
    detail.locator(".nbtrack-run-params tr[data-key='lr'] td").wait_for(timeout=30_000)
    assert detail.locator(".nbtrack-run-params tr[data-key='lr'] td").inner_text() == "0.5"
    assert detail.locator(".nbtrack-run-params tr[data-key='epochs'] td").inner_text() == "2"
    assert detail.locator(".nbtrack-run-metrics tr[data-key='loss']").count() == 1
    button = detail.locator(".nbtrack-artifact-out[data-ref='train.ipynb:v0']"
                            " .nbtrack-open-executed")
    button.wait_for(timeout=30_000)
    shot(page, "jobs-run-detail")
    assert low_contrast(page, ".nbtrack-panel .nbtrack-run-artifacts", 2) == []

    button.click()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="train-run1.ipynb")
    tab.wait_for(timeout=30_000)
    executed = page.locator(".jp-NotebookPanel:visible")
    executed.locator(".jp-OutputArea-output", has_text="trained with 0.5").wait_for(
        timeout=30_000)
    assert "lr = 0.5" in executed.inner_text()
    assert (runs_lab.root / "train-run1.ipynb").exists()
    saved = nbformat.read(runs_lab.root / "train-run1.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in saved.cells)
    shot(page, "jobs-executed-notebook")


def test_a_failing_job_says_so_with_its_cell_and_shows_its_run(
    runs_lab: Any, lab_page: Any
) -> None:
    page = lab_page
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(nb, runs_lab.root / "broken.ipynb")
    open_lab(page, runs_lab)
    page.goto(f"{runs_lab.url}/lab/tree/broken.ipynb?token={runs_lab.token}&reset")
    page.locator(".jp-NotebookPanel:visible .jp-Cell", has_text="boom").wait_for(
        timeout=60_000)
    button = page.locator(".jp-NotebookPanel:visible .nbtrack-run-job-button")
    button.click()  # the toolbar's button
    page.locator(f"{DIALOG} input[data-param='x']").wait_for(timeout=10_000)
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()

    toast = page.locator(".Toastify__toast", has_text="Job failed")
    toast.wait_for(timeout=120_000)
    text = toast.inner_text()
    assert "in cell 2" in text and "broken.ipynb" in text and "boom" in text
    toast.locator("button", has_text="Show run").click()
    detail = page.locator(".nbtrack-panel .nbtrack-run-detail")
    detail.locator(".nbtrack-status-failed").first.wait_for(timeout=30_000)
    assert detail.locator(".nbtrack-artifact-out[data-ref^='broken.ipynb:'] "
                          ".nbtrack-open-executed").count() == 1
    shot(page, "jobs-failed")
