"""Notebooks as jobs (issue 15): ``nbtrack run``, ``run_notebook``/``run_notebooks`` and the
batch report, with real kernels through papermill (the tests marked ``slow``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack.artifacts.artifact import get_artifact
from nbtrack.cli import main
from nbtrack.jobs import notebook as nbmod
from nbtrack.jobs.batch import BatchInterrupted
from nbtrack.jobs.group import group_filter, group_of, group_tag
from nbtrack.jobs.params import (
    combinations,
    expand_grid,
    parse_grid,
    parse_params,
    read_rows,
    split_values,
)
from nbtrack.kernel.magics import parse_assignments

ROOT = Path(__file__).resolve().parents[1]

TRAIN = [
    ("code", "import nbtrack", None),
    ("code", "lr = 0.01\nepochs = 3\noptimizer = 'sgd'", "parameters"),
    ("code", "for step in range(epochs):\n    nbtrack.log({'loss': lr * (epochs - step)})\n"
             "print('trained with', lr, optimizer)", None),
]


def write_notebook(path: Path, cells: list[tuple[str, str, str | None]],
                   kernel: str = "python3") -> Path:
    """A notebook of ``(type, source, tag)`` cells."""
    nb = nbformat.v4.new_notebook()
    for kind, source, tag in cells:
        cell = (nbformat.v4.new_code_cell(source) if kind == "code"
                else nbformat.v4.new_markdown_cell(source))
        if tag:
            cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def train(workspace: Path) -> Path:
    return write_notebook(workspace / "train.ipynb", TRAIN)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def outputs_text(nb: Any) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


# -- parameter sets (no kernel) --------------------------------------------------------------

def test_p_values_follow_the_track_start_rules() -> None:
    words = ["lr=0.1", "epochs=3", "opt=adam", "flag=True", "sizes=[32, 64]", "name='a b'",
             "expr=1+", "empty="]
    assert parse_params(words) == parse_assignments(words) == {
        "lr": 0.1, "epochs": 3, "opt": "adam", "flag": True, "sizes": [32, 64],
        "name": "a b", "expr": "1+", "empty": ""}
    with pytest.raises(ValueError, match="-p expected key=value"):
        parse_params(["lr"])


def test_grid_values_split_on_top_level_commas() -> None:
    assert split_values("0.1,0.01") == ["0.1", "0.01"]
    assert split_values("[1, 2],[3]") == ["[1, 2]", "[3]"]
    assert split_values("'a,b',c") == ["'a,b'", "c"]
    assert parse_grid(["lr=0.1,0.01", "opt=adam,sgd", "shape=[1, 2]"]) == {
        "lr": [0.1, 0.01], "opt": ["adam", "sgd"], "shape": [[1, 2]]}
    with pytest.raises(ValueError, match="given twice"):
        parse_grid(["lr=1", "lr=2"])
    with pytest.raises(ValueError, match="empty value"):
        parse_grid(["lr=1,"])


def test_grid_is_the_cartesian_product_over_rows_and_fixed_params() -> None:
    assert expand_grid({"lr": [0.1, 0.01], "batch": [32, 64]}) == [
        {"lr": 0.1, "batch": 32}, {"lr": 0.1, "batch": 64},
        {"lr": 0.01, "batch": 32}, {"lr": 0.01, "batch": 64}]
    assert expand_grid({}) == [{}]
    with pytest.raises(ValueError, match="non-empty list"):
        expand_grid({"lr": []})
    assert combinations({"epochs": 2, "lr": 1}, {"lr": [3]}, [{"seed": 1}, {"seed": 2}]) == [
        {"epochs": 2, "lr": 3, "seed": 1}, {"epochs": 2, "lr": 3, "seed": 2}]


def test_rows_from_csv_and_jsonl(tmp_path: Path) -> None:
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("lr,opt,epochs\n0.1,adam,2\n0.01,'sgd',\n", encoding="utf-8")
    assert read_rows(csv_file) == [{"lr": 0.1, "opt": "adam", "epochs": 2},
                                   {"lr": 0.01, "opt": "sgd"}]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"lr": 0.1, "layers": [1, 2]}\n\n{"lr": 0.5}\n', encoding="utf-8")
    assert read_rows(jsonl) == [{"lr": 0.1, "layers": [1, 2]}, {"lr": 0.5}]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"lr": 0.1}\n[1]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_rows(bad)
    with pytest.raises(ValueError, match=".csv or .jsonl"):
        read_rows(tmp_path / "p.yaml")


def test_group_is_a_tag() -> None:
    assert group_tag("lr-sweep") == "group=lr-sweep"
    assert group_of(["cnn", "group=lr-sweep"]) == "lr-sweep"
    assert group_of(["cnn"]) is None
    assert group_filter('a"b') == 'tags has "group=a\\"b"'


def test_parameters_are_injected_after_the_parameters_cell(train: Path) -> None:
    nb = nbmod.read_notebook(train)
    prepared = nbmod.prepare(nb, "python3", {"lr": 0.5}, "# prologue\n")
    tags = [c.metadata.get("tags", []) for c in prepared.nb.cells]
    assert tags == [[nbmod.PROLOGUE_TAG], [], ["parameters"], [nbmod.INJECTED_TAG], []]
    assert "lr = 0.5" in prepared.nb.cells[3].source
    assert prepared.defaults == ["epochs", "lr", "optimizer"]
    assert [prepared.source_index(i) for i in range(5)] == [None, 0, 1, None, 2]
    assert len(nb.cells) == 3  # the source notebook is left as it was
    assert nbmod.parameter_defaults(nb) == {"lr": "0.01", "epochs": "3", "optimizer": "'sgd'"}
    assert nbmod.unknown_names(nb, ["lr", "nope"]) == ["nope"]


# -- one notebook, real kernels ---------------------------------------------------------------

@pytest.mark.slow
def test_run_with_params_records_them_and_keeps_the_executed_notebook(
        train: Path, workspace: Path) -> None:
    out = workspace / "out" / "train-out.ipynb"
    result = invoke("run", str(train), "-p", "lr=0.1", "-p", "optimizer=adam", "--tag", "exp",
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "finished" in result.output and "loss=0.1" in result.output
    run = nbtrack.get_run("train")
    assert run.status == "finished"
    # -p values as given, the parameters cell's other setting as the notebook had it
    assert run.params == {"lr": 0.1, "optimizer": "adam", "epochs": 3}
    assert run.notebook == "train.ipynb" and run.tags == ["exp"]
    assert run.history("loss")["loss"]["value"] == pytest.approx([0.3, 0.2, 0.1])
    sources = [c["source"] for c in run.cells]
    assert sources[0] == "import nbtrack" and sources[-1].startswith("for step in")
    assert any(s.startswith("# Parameters\nlr = 0.1") for s in sources)
    version = get_artifact(nbtrack.config.db_path(workspace), "train.ipynb:latest")
    assert version.type == "notebook" and version.run == run.number
    assert version.metadata["parameters"] == {"lr": 0.1, "optimizer": "adam"}
    assert version.metadata["source"] == "train.ipynb"
    kept = nbformat.read(version.download(workspace / "dl") / "train.ipynb", as_version=4)
    assert "trained with 0.1 adam" in outputs_text(kept)
    written = nbformat.read(out, as_version=4)
    assert "trained with 0.1 adam" in outputs_text(written)
    assert nbformat.read(train, as_version=4).cells[2].outputs == []  # the source is untouched


@pytest.mark.slow
def test_a_cell_that_raises_fails_the_run_with_the_cell_and_error(workspace: Path) -> None:
    nb = write_notebook(workspace / "broken.ipynb", [
        ("code", "x = 1", "parameters"),
        ("markdown", "# step two", None),
        ("code", "import nbtrack\nnbtrack.log({'before': 1.0})\n1 / (x - 1)", None),
        ("code", "print('never')", None),
    ])
    result = invoke("run", str(nb))
    assert result.exit_code == 1, result.output
    assert "failed in cell 3" in result.output and "ZeroDivisionError" in result.output
    run = nbtrack.get_run("broken")
    assert run.status == "failed"
    assert "failed in cell 3" in run.notes and "ZeroDivisionError: division by zero" in run.notes
    assert run.summary["before"] == 1.0
    failing = [c for c in run.cells if c["outcome"] == "error"]
    assert [c["error_type"] for c in failing] == ["ZeroDivisionError"]
    assert not any("never" in c["source"] for c in run.cells)
    version = get_artifact(nbtrack.config.db_path(workspace), "broken.ipynb:latest")
    assert version.run == run.number and version.metadata["status"] == "failed"
    assert version.metadata["cell"] == 3


@pytest.mark.slow
def test_a_cell_past_the_timeout_fails_the_run(workspace: Path) -> None:
    nb = write_notebook(workspace / "slow.ipynb", [
        ("code", "import time\ntime.sleep(60)", None),
        ("code", "print('never')", None),
    ])
    result = invoke("run", str(nb), "--timeout", "2")
    assert result.exit_code == 1, result.output
    run = nbtrack.get_run("slow")
    assert run.status == "failed" and "--timeout of 2 s" in run.notes
    assert [c["outcome"] for c in run.cells] == ["interrupted"]  # the kernel was interrupted


@pytest.mark.slow
def test_a_notebook_without_parameters_cell_gets_them_at_the_top(workspace: Path) -> None:
    nb = write_notebook(workspace / "plain.ipynb", [
        ("code", "print('size is', size)", None),
    ])
    result = invoke("run", str(nb), "-p", "size=7")
    assert result.exit_code == 0, result.output
    assert "no cell tagged 'parameters'" in result.output
    run = nbtrack.get_run("plain")
    assert run.status == "finished" and run.params == {"size": 7}
    kept = nbformat.read(get_artifact(nbtrack.config.db_path(workspace), "plain.ipynb:v0")
                         .download(workspace / "dl") / "plain.ipynb", as_version=4)
    injected = [c for c in kept.cells if nbmod.INJECTED_TAG in c.metadata.get("tags", [])]
    assert "injected at the top" in injected[0].source
    assert "size is 7" in outputs_text(kept)


@pytest.mark.slow
def test_a_param_the_notebook_never_uses_is_reported(train: Path) -> None:
    result = invoke("run", str(train), "-p", "dropout=0.5", "--json")
    assert result.exit_code == 0, result.output
    assert "warning: train.ipynb never uses dropout" in result.output
    run = nbtrack.get_run("train")
    assert run.status == "finished" and run.params["dropout"] == 0.5


def test_missing_notebook_or_kernel_exits_2(train: Path, workspace: Path) -> None:
    result = invoke("run", str(workspace / "nope.ipynb"))
    assert result.exit_code == 2 and "no notebook at" in result.output
    result = invoke("run", str(train), "--kernel", "no-such-kernel")
    assert result.exit_code == 2
    assert "no kernel named 'no-such-kernel'" in result.output
    write_notebook(workspace / "other.ipynb", TRAIN, kernel="no-such-kernel")
    assert invoke("run", str(workspace / "other.ipynb")).exit_code == 2
    assert invoke("run", str(train), "-p", "lr").exit_code == 2
    assert not nbtrack.runs()  # nothing ran


# -- batches ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_grid_2x2_with_2_jobs_runs_4_runs_in_one_group(train: Path) -> None:
    result = invoke("run", str(train), "--grid", "lr=0.1,0.01", "--grid", "epochs=2,3",
                    "-j", "2", "--group", "g1")
    assert result.exit_code == 0, result.output
    runs = nbtrack.runs(where=group_filter("g1"), sort="number")
    assert len(runs) == 4
    assert sorted((r.params["lr"], r.params["epochs"]) for r in runs) == [
        (0.01, 2), (0.01, 3), (0.1, 2), (0.1, 3)]
    assert {r.status for r in runs} == {"finished"}
    assert sorted(r.name for r in runs) == ["train-1", "train-2", "train-3", "train-4"]
    for r in runs:  # each run logged with its own params
        assert r.summary["loss"] == pytest.approx(r.params["lr"])
    table = result.output.splitlines()
    header = next(line for line in table if line.split()[:1] == ["#"])
    assert header.split() == ["#", "name", "status", "lr", "epochs", "loss", "duration"]
    assert "4 runs: 4 finished" in result.output


@pytest.mark.slow
def test_batch_from_csv_and_jsonl(train: Path, workspace: Path) -> None:
    csv_file = workspace / "params.csv"
    csv_file.write_text("lr,optimizer\n0.5,adam\n0.25,\n", encoding="utf-8")
    result = invoke("run", str(train), "--from", str(csv_file), "--group", "csv")
    assert result.exit_code == 0, result.output
    runs = nbtrack.runs(where=group_filter("csv"), sort="number")
    assert [(r.params["lr"], r.params["optimizer"]) for r in runs] == [
        (0.5, "adam"), (0.25, "sgd")]  # an empty cell leaves the notebook's value
    jsonl = workspace / "params.jsonl"
    jsonl.write_text('{"lr": 0.125, "epochs": 1}\n', encoding="utf-8")
    result = invoke("run", str(train), "--from", str(jsonl), "--group", "jl", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["group"] == "jl" and len(data["runs"]) == 1
    assert data["runs"][0]["params"] == {"lr": 0.125, "epochs": 1}
    assert data["runs"][0]["status"] == "finished"
    assert data["runs"][0]["summary"]["loss"] == 0.125


SLEEPY = [
    ("code", "i = 0", "parameters"),
    ("code", "import pathlib, time\npathlib.Path(f'started-{i}').write_text('x')\n"
             "time.sleep(120)", None),
    ("code", "print('done')", None),
]


@pytest.mark.slow
def test_ctrl_c_stops_the_batch_and_marks_running_runs_interrupted(workspace: Path) -> None:
    import psutil

    nb = write_notebook(workspace / "sleepy.ipynb", SLEEPY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "python"), os.environ.get("PYTHONPATH")) if p)}
    process = subprocess.Popen(
        [sys.executable, "-m", "nbtrack", "run", str(nb), "--grid", "i=1,2,3", "-j", "2",
         "--group", "stopped"], env=env, cwd=workspace,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ((workspace / "started-1").exists() and (workspace / "started-2").exists()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the runs never reached their sleeping cell"
        time.sleep(0.2)
    kernels = [c for c in psutil.Process(process.pid).children(recursive=True)
               if "ipykernel" in " ".join(c.cmdline())]
    assert len(kernels) == 2
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=90)
    assert process.returncode == 130, (out, err)
    runs = nbtrack.runs(where=group_filter("stopped"), sort="number")
    assert sorted(r.params["i"] for r in runs) == [1, 2]  # the third never started
    assert {r.status for r in runs} == {"interrupted"}
    assert "not started" in out and "interrupted" in out
    assert not (workspace / "started-3").exists()
    gone, alive = psutil.wait_procs(kernels, timeout=10)
    assert not alive  # the kernels were shut down


# -- the Python API ---------------------------------------------------------------------------

@pytest.mark.slow
def test_run_notebook_returns_the_run(train: Path, workspace: Path) -> None:
    with pytest.warns(nbtrack.jobs.JobWarning, match="never uses nope"):
        run = nbtrack.run_notebook(train, params={"lr": 0.2, "nope": 1}, name="api",
                                   tags=["t"], output=workspace / "api.ipynb")
    assert isinstance(run, nbtrack.Run)
    assert (run.name, run.status, run.tags) == ("api", "finished", ["t"])
    assert run.params["lr"] == 0.2 and run.summary["loss"] == pytest.approx(0.2)
    assert "trained with 0.2" in outputs_text(nbformat.read(workspace / "api.ipynb", 4))
    with pytest.raises(ValueError, match="no notebook at"):
        nbtrack.run_notebook(workspace / "missing.ipynb")


@pytest.mark.slow
def test_run_notebooks_runs_a_grid_and_rows(train: Path, workspace: Path) -> None:
    runs = nbtrack.run_notebooks(train, grid={"lr": [0.5, 0.25]}, params={"epochs": 1},
                                 group="api-grid", output=workspace / "executed")
    assert [(r.params["lr"], r.params["epochs"], r.status) for r in runs] == [
        (0.5, 1, "finished"), (0.25, 1, "finished")]
    assert {group_of(r.tags) for r in runs} == {"api-grid"}
    assert sorted(p.name for p in (workspace / "executed").iterdir()) == [
        "train-1.ipynb", "train-2.ipynb"]
    runs = nbtrack.run_notebooks(train, rows=[{"optimizer": "adam"}], name="rows")
    assert [(r.name, r.params["optimizer"]) for r in runs] == [("rows-1", "adam")]


@pytest.mark.slow
def test_run_notebooks_interrupted_raises_with_every_result(workspace: Path) -> None:
    nb = write_notebook(workspace / "sleepy.ipynb", SLEEPY)
    import threading

    def interrupt_when_sleeping() -> None:
        while not (workspace / "started-1").exists():
            time.sleep(0.1)
        time.sleep(0.5)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # type: ignore[arg-type]

    threading.Thread(target=interrupt_when_sleeping, daemon=True).start()
    with pytest.raises(BatchInterrupted) as caught:
        nbtrack.run_notebooks(nb, grid={"i": [1, 2]}, group="api-stop")
    assert [r.status for r in caught.value.results] == ["interrupted", "not started"]
    run = nbtrack.get_run(caught.value.results[0].number)
    assert run.status == "interrupted"


# -- the batch report -------------------------------------------------------------------------

@pytest.mark.slow
def test_report_group_compares_the_runs_of_a_batch(train: Path, workspace: Path) -> None:
    nbtrack.run_notebooks(train, grid={"lr": [0.5, 0.25]}, group="cmp")
    out = workspace / "cmp.html"
    result = invoke("report", "--group", "cmp", "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<title>Run report: Batch cmp</title>" in html
    assert 'id="comparison"' in html and "Params that differ" in html
    assert "Curves, overlaid" in html
    assert "train-1" in html and "train-2" in html
    assert "lr = 0.5" in html or "0.5" in html
    assert invoke("report", "--group", "nope").exit_code == 1
    assert invoke("report").exit_code == 2


# -- the server's jobs API --------------------------------------------------------------------

@pytest.mark.slow
def test_server_starts_a_job_and_reports_its_run(workspace: Path, jupyter_server) -> None:
    import typing

    from nbtrack import model

    folder = workspace / "experiments"
    folder.mkdir()
    write_notebook(folder / "train.ipynb", TRAIN)
    body = {"path": "experiments/train.ipynb", "params": {"lr": 0.5, "nope": 1},
            "tags": ["from-lab"]}
    status, answer = jupyter_server.request("POST", "jobs", body=body, token=None)
    assert status == 403  # behind Jupyter's auth
    status, job = jupyter_server.request("POST", "jobs", body=body)
    assert status == 202, job
    assert set(job) == set(typing.get_type_hints(model.JobRecord))
    assert job["status"] == "running" and job["notebook"] == "experiments/train.ipynb"
    assert any("never uses nope" in w for w in job["warnings"])
    deadline = time.monotonic() + 120
    while job["status"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
        status, job = jupyter_server.request("GET", f"jobs/{job['id']}")
        assert status == 200, job
    assert job["status"] == "finished", job
    run = nbtrack.get_run(job["run"])
    assert run.id == job["run_id"] and run.tags == ["from-lab"]
    assert run.params["lr"] == 0.5 and run.summary["loss"] == pytest.approx(0.5)
    assert run.notebook == "experiments/train.ipynb"
    assert job["artifact"] == "train.ipynb:v0"

    status, answer = jupyter_server.request("GET", "jobs/unknown")
    assert status == 404 and "unknown" in answer["error"]
    for bad in ({"path": "experiments/missing.ipynb"}, {"path": "../outside.ipynb"},
                {"path": "experiments/train.ipynb", "params": [1]},
                {"path": "experiments/train.ipynb", "kernel": "no-such-kernel"}):
        status, answer = jupyter_server.request("POST", "jobs", body=bad)
        assert status == 400, (bad, answer)
