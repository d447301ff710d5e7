"""The nbtrack command line, through click's runner and as a real process."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack import config
from nbtrack.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def recorded(workspace: Path) -> Path:
    """Three finished runs with params, metrics (one NaN point) and tags."""
    for name, lr, losses in (("baseline", 0.01, [0.9, 0.6, 0.4]),
                             ("wide", 0.001, [0.8, math.nan, 0.3]),
                             ("deep", 0.1, [1.2, 1.0, 0.9])):
        tags = ["cnn"] if name != "deep" else ["rnn"]
        with nbtrack.init(name=name, config={"lr": lr, "depth": 3}, tags=tags,
                          capture_env=False) as run:
            for step, loss in enumerate(losses):
                run.log({"loss": loss}, step=step)
    nbtrack.get_run("deep").config["depth"] = 5
    return workspace


def invoke(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def test_list_prints_an_aligned_table_newest_first(runner, recorded) -> None:
    result = invoke(runner, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["#", "name", "status"]
    assert [line.split()[1] for line in lines[1:]] == ["deep", "wide", "baseline"]
    starts = {line.index("finished") for line in lines[1:]}
    assert len(starts) == 1  # the status column is aligned


def test_list_filters_sorts_and_limits(runner, recorded) -> None:
    result = invoke(runner, "list", "--where", 'params.lr < 0.05 and tags has "cnn"',
                    "--sort", "metrics.loss")
    assert result.exit_code == 0
    assert [line.split()[1] for line in result.output.splitlines()[1:]] == ["wide", "baseline"]
    result = invoke(runner, "list", "--sort", "-params.lr", "-n", "1")
    assert result.output.splitlines()[1].split()[1] == "deep"
    assert "(1 of 3 runs)" in result.output


def test_list_json_is_the_runs_page_shape(runner, recorded) -> None:
    result = invoke(runner, "list", "--json", "--where", 'name = "wide"')
    page = json.loads(result.output)
    assert set(page) == {"runs", "total", "limit", "offset"}
    assert page["total"] == 1 and page["limit"] == 20 and page["offset"] == 0
    run = page["runs"][0]
    assert set(run) == set(nbtrack.model.RunRecord.__annotations__)
    assert run["name"] == "wide" and run["params"] == {"depth": 3, "lr": 0.001}
    assert run["summary"] == {"loss": 0.3}


def test_list_csv_has_params_and_metrics_columns(runner, recorded) -> None:
    result = invoke(runner, "list", "--csv", "--sort", "name")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["name"] for r in rows] == ["baseline", "deep", "wide"]
    assert rows[1]["params.depth"] == "5" and rows[1]["params.lr"] == "0.1"
    assert float(rows[0]["metrics.loss"]) == pytest.approx(0.4)
    assert json.loads(rows[0]["tags"]) == ["cnn"]


def test_list_exits_1_when_nothing_matches_and_2_on_a_bad_filter(runner, recorded) -> None:
    result = invoke(runner, "list", "--where", 'name = "nope"')
    assert result.exit_code == 1 and "no runs match" in result.output
    result = invoke(runner, "list", "--where", "params.lr <")
    assert result.exit_code == 2
    assert "column 12" in result.output and "^" in result.output
    assert invoke(runner, "list", "--sort", "bogus").exit_code == 2
    assert invoke(runner, "list", "--json", "--csv").exit_code == 2


def test_list_on_an_empty_workspace_exits_1(runner, workspace) -> None:
    result = invoke(runner, "list")
    assert result.exit_code == 1 and "no runs recorded" in result.output
    assert not (workspace / ".nbtrack").exists()


def test_workspace_option_points_at_another_workspace(runner, recorded, tmp_path,
                                                      monkeypatch) -> None:
    monkeypatch.setenv("NBTRACK_DIR", str(tmp_path / "elsewhere"))
    assert invoke(runner, "list").exit_code == 1
    result = invoke(runner, "list", "--workspace", str(recorded))
    assert result.exit_code == 0 and "baseline" in result.output
    result = invoke(runner, "--workspace", str(recorded), "show", "wide")
    assert result.exit_code == 0 and "wide" in result.output


def test_show_prints_params_and_metrics_and_json(runner, recorded) -> None:
    result = invoke(runner, "show", "baseline")
    assert result.exit_code == 0
    assert result.output.startswith("#1 baseline  (finished)")
    assert "lr" in result.output and "loss" in result.output
    detail = json.loads(invoke(runner, "show", "2", "--json").output)
    assert detail["name"] == "wide"
    assert {"metrics", "env", "cells", "params", "summary"} <= set(detail)
    loss = detail["metrics"][0]
    assert loss["key"] == "loss" and loss["min"] == pytest.approx(0.3) and loss["count"] == 3
    result = invoke(runner, "show", "nope")
    assert result.exit_code == 1 and "no run named or numbered 'nope'" in result.output


def test_diff_shows_differing_params_and_all_with_all(runner, recorded) -> None:
    result = invoke(runner, "diff", "baseline", "deep")
    assert result.exit_code == 0
    assert "depth" in result.output and "lr" in result.output
    record = json.loads(invoke(runner, "diff", "baseline", "wide", "--json").output)
    assert [p["key"] for p in record["params"]] == ["lr"]  # depth is equal
    record = json.loads(invoke(runner, "diff", "baseline", "wide", "--json", "--all").output)
    assert [p["key"] for p in record["params"]] == ["depth", "lr"]
    assert invoke(runner, "diff", "baseline").exit_code == 2
    assert invoke(runner, "diff", "baseline", "nope").exit_code == 1


def test_leaderboard_command(runner, recorded) -> None:
    result = invoke(runner, "leaderboard", "loss")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[2] for line in lines[1:4]] == ["wide", "baseline", "deep"]
    assert "lr*" in lines[0] and "depth*" in lines[0]
    result = invoke(runner, "leaderboard", "loss", "--max", "-n", "1", "--json")
    board = json.loads(result.output)
    assert board["goal"] == "max" and board["runs"][0]["name"] == "deep"
    assert board["runs"][0]["best"] == pytest.approx(1.2) and board["total"] == 3
    result = invoke(runner, "leaderboard", "loss", "--where", 'tags has "cnn"', "--json")
    assert [r["name"] for r in json.loads(result.output)["runs"]] == ["wide", "baseline"]
    assert invoke(runner, "leaderboard", "acc").exit_code == 1


def test_export_to_a_folder_then_read_it_back(runner, recorded, tmp_path) -> None:
    out = tmp_path / "csv"
    result = invoke(runner, "export", "--out", str(out))
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "cells.csv", "metrics.csv", "params.csv", "runs.csv", "summary.csv"]
    runs = list(csv.DictReader(open(out / "runs.csv")))
    assert [r["name"] for r in runs] == ["baseline", "wide", "deep"]
    points = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(points) == 9
    wide = [p for p in points if p["run_id"] == runs[1]["id"]]
    assert [p["step"] for p in wide] == ["0", "1", "2"]
    assert math.isnan(float(wide[1]["value"])) and float(wide[2]["value"]) == 0.3
    params = {(p["run"], p["key"]): p["value"] for p in csv.DictReader(open(out / "params.csv"))}
    assert params[("3", "depth")] == "5" and params[("1", "lr")] == "0.01"

    import pandas as pd

    frame = pd.read_csv(out / "metrics.csv")
    assert frame["value"].isna().sum() == 1 and len(frame) == 9


def test_export_json_lines_to_stdout_and_by_filter(runner, recorded, tmp_path) -> None:
    result = invoke(runner, "export", "metrics", "--format", "jsonl", "--runs", "wide")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert rows[1]["value"] is None  # NaN is not JSON
    assert set(rows[0]) == {"run", "run_id", "key", "step", "value", "time", "cell"}
    out = tmp_path / "jsonl"
    invoke(runner, "export", "runs", "params", "--format", "jsonl", "--out", str(out),
           "--where", 'tags has "cnn"')
    runs = [json.loads(line) for line in open(out / "runs.jsonl")]
    assert [r["name"] for r in runs] == ["baseline", "wide"] and runs[0]["tags"] == ["cnn"]
    params = [json.loads(line) for line in open(out / "params.jsonl")]
    assert {p["value"] for p in params if p["key"] == "lr"} == {0.01, 0.001}
    assert invoke(runner, "export").exit_code == 2  # stdout takes one table


def _counts(ws: Path) -> dict[str, int]:
    conn = sqlite3.connect(config.db_path(ws))
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("runs", "params", "summary", "metric_chunks")}
    finally:
        conn.close()


def test_rm_asks_first_then_hides_the_run(runner, recorded) -> None:
    result = invoke(runner, "rm", "wide", input="n\n")
    assert result.exit_code == 1 and "Delete 1 run?" in result.output
    assert nbtrack.runs().total == 3
    result = invoke(runner, "rm", "wide", input="y\n")
    assert result.exit_code == 0 and "deleted 1 run" in result.output
    assert [r.name for r in nbtrack.runs()] == ["deep", "baseline"]
    assert invoke(runner, "show", "wide").exit_code == 1
    result = invoke(runner, "rm", "--where", 'tags has "rnn"', "--yes")
    assert result.exit_code == 0 and [r.name for r in nbtrack.runs()] == ["baseline"]
    assert invoke(runner, "rm").exit_code == 2
    assert invoke(runner, "rm", "nope", "--yes").exit_code == 1


def test_gc_drops_deleted_runs_rows(runner, recorded) -> None:
    invoke(runner, "rm", "wide", "--yes")
    before = _counts(recorded)
    result = invoke(runner, "gc")
    assert result.exit_code == 0, result.output
    assert "dropped 1 deleted run and 4 rows of theirs" in result.output
    after = _counts(recorded)
    assert after["runs"] == before["runs"] - 1
    assert after["params"] == before["params"] - 2
    assert after["summary"] == before["summary"] - 1
    assert after["metric_chunks"] < before["metric_chunks"]
    assert [r.name for r in nbtrack.runs()] == ["deep", "baseline"]


def test_gc_keeps_files_a_user_put_under_the_store_folder(runner, recorded) -> None:
    # nbtrack writes no artifacts yet: whatever is in .nbtrack/artifacts/ is the user's.
    artifacts = config.store_dir(recorded) / "artifacts"
    wide_id = nbtrack.get_run("wide").id
    mine = {
        artifacts / wide_id / "model.pt": b"weights of a deleted run",
        artifacts / "1" / "notes.txt": b"named like a run number",
        artifacts / "stray.bin": b"named after no run",
        config.store_dir(recorded) / "elsewhere.txt": b"beside the store",
    }
    for path, data in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    invoke(runner, "rm", "wide", "--yes")
    result = invoke(runner, "gc")
    assert result.exit_code == 0, result.output
    assert {path: path.read_bytes() for path in mine} == mine


def test_sql_command_prints_a_table_json_lines_or_csv(runner, recorded) -> None:
    result = invoke(runner, "sql", "select name, status from runs order by number")
    assert result.exit_code == 0
    assert result.output.splitlines()[0].split() == ["name", "status"]
    result = invoke(runner, "sql", "select name from runs order by number", "--json")
    assert [json.loads(line)["name"] for line in result.output.splitlines()] == [
        "baseline", "wide", "deep"]
    result = invoke(runner, "sql", "delete from runs")
    assert result.exit_code == 1 and "readonly" in result.output
    assert nbtrack.runs().total == 3


def test_report_writes_the_notebooks_report_and_prints_its_path(runner, recorded) -> None:
    notebook = recorded / "empty.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}))
    result = invoke(runner, "report", str(notebook), "-o", str(recorded / "r.html"))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(recorded / "r.html")
    assert "<title>Run report: empty.ipynb</title>" in (recorded / "r.html").read_text()


def test_every_command_has_help(runner) -> None:
    for name in main.commands:
        result = invoke(runner, name, "--help")
        assert result.exit_code == 0 and "Example:" in result.output, name
    assert invoke(runner, "nope").exit_code == 2
    assert invoke(runner, "--version").output.strip() == f"nbtrack {nbtrack.__version__}"


def _nbtrack(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbtrack", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_python_m_nbtrack_runs_as_a_real_process(recorded, tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    env.pop("NBTRACK_DIR", None)
    done = _nbtrack("list", "--where", "params.lr < 0.05", cwd=recorded, env=env)
    assert done.returncode == 0, done.stderr
    assert [line.split()[1] for line in done.stdout.splitlines()[1:]] == ["wide", "baseline"]
    done = _nbtrack("leaderboard", "loss", "--json", "--workspace", str(recorded),
                    cwd=tmp_path, env=env)
    assert json.loads(done.stdout)["runs"][0]["name"] == "wide"
    done = _nbtrack("list", "--where", "params.lr <", cwd=recorded, env=env)
    assert done.returncode == 2 and "column 12" in done.stderr
    done = _nbtrack("show", "nope", cwd=recorded, env=env)
    assert done.returncode == 1


@pytest.mark.slow
def test_demo_runs_the_quickstart_in_a_real_kernel(runner, tmp_path) -> None:
    ws = tmp_path / "demo"
    result = runner.invoke(main, ["demo", "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    names = [line.split()[1] for line in result.stdout.splitlines()[1:3]]
    assert names == ["higher-lr", "baseline"]
    assert (ws / "quickstart.ipynb").exists()
    runs = nbtrack.runs(workspace=ws).records()
    assert {r["notebook"] for r in runs} == {"quickstart.ipynb"}
    assert all(r["status"] == "finished" for r in runs)


def test_list_shows_the_metrics_it_filters_or_sorts_by(runner, workspace) -> None:
    with nbtrack.init(name="many", capture_env=False) as run:
        run.log({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "val/loss": 0.5})
    header = invoke(runner, "list").output.splitlines()[0].split()
    assert "val/loss" not in header  # three metric columns by default
    header = invoke(runner, "list", "--where", "metrics.val/loss < 1").output.splitlines()[0]
    assert header.split()[6] == "val/loss"
    header = invoke(runner, "list", "--sort", "-metrics.d.max").output.splitlines()[0]
    assert header.split()[6] == "d"
