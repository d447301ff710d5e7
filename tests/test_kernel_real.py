"""nbtrack inside a real Jupyter kernel: the quickstart notebook, interrupts, shutdown."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

import nbtrack

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_notebook_records_two_runs_with_cells_and_metrics(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = workspace / "quickstart.ipynb"
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", notebook)
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))  # as jupyter_server sets it
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(workspace)}}).execute()

    runs = {r.name: r for r in nbtrack.runs()}
    assert set(runs) == {"baseline", "higher-lr"}
    baseline, higher = runs["baseline"], runs["higher-lr"]
    assert baseline.status == higher.status == "finished"
    assert baseline.notebook == "quickstart.ipynb"
    assert baseline.params == {"epochs": 8, "lr": 0.001}
    assert higher.params["lr"] == 0.05
    assert baseline.tags == ["sgd", "digits"]
    history = baseline.history("val/acc")["val/acc"]
    assert history["step"] == list(range(8))
    assert 0.5 < history["value"][-1] <= 1.0
    cell_ids = {c["id"] for c in baseline.cells}
    assert set(history["cell"]) <= cell_ids  # every point knows the cell that logged it
    notebook_sources = {c.source for c in nb.cells}
    assert {c["source"] for c in baseline.cells} <= notebook_sources
    assert any("train_epochs(model, epochs)" in c["source"] for c in baseline.cells)
    assert "sklearn" in " ".join(baseline.env["packages"]).lower() or baseline.env["packages"]
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)
    assert "higher-lr" in outputs and "lr" in outputs  # %track list and the diff printed


@pytest.fixture
def kernel(workspace: Path) -> Iterator[tuple]:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(workspace))
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


def _execute(kc, code: str, timeout: float = 60) -> dict:
    return kc.execute_interactive(code, timeout=timeout, output_hook=lambda msg: None)


def test_interrupting_a_track_cell_marks_the_run_interrupted(kernel) -> None:
    km, kc = kernel
    _execute(kc, "%load_ext nbtrack")
    msg_id = kc.execute(
        "%%track long --no-plot\nimport time, nbtrack\n"
        "for i in range(100000):\n    nbtrack.log({'x': i})\n    time.sleep(0.01)"
    )
    time.sleep(2.0)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    run = nbtrack.get_run("long")
    assert run.status == "interrupted"
    assert run.history("x")["x"]["count"] > 10
    deadline = time.monotonic() + 10  # the cell's end is written by the kernel's next flush
    while not run.cells and time.monotonic() < deadline:
        time.sleep(0.2)
    cell = run.cells[-1]
    assert cell["outcome"] == "interrupted"
    assert cell["source"].startswith("%%track long")


def test_shutting_the_kernel_down_flushes_and_finishes_the_run(kernel) -> None:
    km, kc = kernel
    _execute(kc, "%load_ext nbtrack\n%track start short")
    _execute(kc, "import nbtrack\nfor i in range(1000):\n    nbtrack.log({'x': i})")
    km.shutdown_kernel(now=False)
    run = nbtrack.get_run("short")
    assert run.history("x")["x"]["count"] == 1000
    assert run.status == "finished"
