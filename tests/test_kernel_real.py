"""nbtrack inside a real Jupyter kernel: the quickstart notebook, interrupts, shutdown."""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

import nbtrack

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = (
    "import importlib.metadata, json, sys\n"
    "print(json.dumps({'python': sys.executable, **{name: importlib.metadata.version(name) for "
    "name in ('nbtrack', 'ipykernel', 'scikit-learn', 'numpy')}}))"
)


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def test_quickstart_notebook_records_two_runs_with_cells_and_metrics(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = workspace / "quickstart.ipynb"
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", notebook)
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))  # as jupyter_server sets it
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(VERSIONS))  # what the kernel itself sees
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
    # The environment is the kernel's: its python and the versions of the packages it imports,
    # as importlib.metadata gives them there.
    kernel_versions = json.loads(_stdout(nb.cells[-1]))
    packages = baseline.env["packages"]
    for name in ("nbtrack", "ipykernel", "scikit-learn", "numpy"):
        assert packages.get(name) == kernel_versions[name], name
    assert baseline.env["executable"] == kernel_versions["python"]
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


SEEDED_CELLS = [
    "import random\nimport numpy as np\nrandom.seed(0)\nnp.random.seed(0)",
    "a = random.random()",
    "b = float(np.random.rand())",
    "print(repr((a, b, random.random(), float(np.random.rand()))))",
]


def _printed(kc, code: str) -> str:
    out: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, timeout=60, output_hook=hook)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


def test_a_seeded_notebook_gives_the_same_numbers_and_keeps_every_cell_when_rerun(
    kernel,
) -> None:
    _km, kc = kernel
    random.seed(0)
    np.random.seed(0)
    a, b = random.random(), float(np.random.rand())
    expected = repr((a, b, random.random(), float(np.random.rand()))) + "\n"
    assert [_printed(kc, cell) for cell in SEEDED_CELLS][-1] == expected  # without nbtrack
    _printed(kc, "%load_ext nbtrack\n%track start seeded")
    for _ in range(2):  # Run All, twice
        assert [_printed(kc, cell) for cell in SEEDED_CELLS][-1] == expected
    _printed(kc, "%track stop")
    cells = nbtrack.get_run("seeded").cells
    assert [c["source"] for c in cells if c["source"] in SEEDED_CELLS] == SEEDED_CELLS * 2
    assert len({c["id"] for c in cells}) == len(cells)


VIEW = "application/vnd.jupyter.widget-view+json"


def test_track_list_widget_shows_the_table_once_and_returns_it(kernel) -> None:
    _km, kc = kernel
    _printed(kc, "%load_ext nbtrack\nimport nbtrack\nfor name in 'ab':\n"
                 "    nbtrack.init(name=name, capture_env=False).finish()")

    def outputs(code: str) -> tuple[dict, list[dict]]:
        messages: list[dict] = []
        reply = kc.execute_interactive(code, timeout=60, output_hook=messages.append)
        return reply["content"], messages

    def views(messages: list[dict]) -> list[str]:
        return [m["content"]["data"][VIEW]["model_id"] for m in messages
                if m["msg_type"] in ("display_data", "execute_result")
                and VIEW in m["content"]["data"]]

    status, messages = outputs("%track list --widget")
    assert status["status"] == "ok" and len(views(messages)) == 1
    status, messages = outputs("table = %track list --widget --where 'name = \"b\"'\n"
                               "print([row['name'] for row in table.runs])")
    assert status["status"] == "ok" and len(views(messages)) == 1
    assert "['b']" in "".join(m["content"].get("text", "") for m in messages
                              if m["msg_type"] == "stream")
    status, _ = outputs("%track list --widget --where 'params.lr <'")
    assert (status["status"], status["ename"]) == ("error", "UsageError")
