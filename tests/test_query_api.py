"""The leaderboard, read-only SQL and DataFrames, on runs recorded through the public API."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import nbtrack


def _record(name: str, lr: float, losses: list[float], **extra: object) -> nbtrack.Run:
    config = {"lr": lr, "epochs": 3, **extra}
    with nbtrack.init(name=name, config=config, tags=["sweep"], capture_env=False) as run:
        for step, loss in enumerate(losses):
            run.log({"loss": loss, "acc": 1 - loss}, step=step)
    return run


@pytest.fixture
def sweep(workspace: Path) -> Path:
    _record("a", 0.1, [0.9, 0.5, 0.6])          # best loss 0.5
    _record("b", 0.01, [0.8, 0.3, 0.4], opt="sgd")  # best 0.3
    _record("c", 0.001, [0.7, 0.45, 0.2])       # best 0.2
    _record("d", 0.01, [math.nan, 0.95])        # best 0.95
    with nbtrack.init(name="no-loss", config={"lr": 0.5}, capture_env=False) as run:
        run.log({"acc": 0.1})
    return workspace


def test_leaderboard_ranks_runs_by_the_best_value_of_a_metric(sweep: Path) -> None:
    board = nbtrack.leaderboard("loss")
    assert [r["name"] for r in board.records] == ["c", "b", "a", "d"]
    assert [r["rank"] for r in board.records] == [1, 2, 3, 4]
    assert [r["best"] for r in board.records] == pytest.approx([0.2, 0.3, 0.5, 0.95])
    assert board.total == 4  # "no-loss" never logged loss
    first = board.records[0]
    assert first["params"] == {"epochs": 3, "lr": 0.001}
    assert first["value"] == pytest.approx(0.2) and first["status"] == "finished"


def test_leaderboard_maximizes_filters_and_cuts_to_n(sweep: Path) -> None:
    board = nbtrack.leaderboard("acc", goal="max", n=2)
    assert [r["name"] for r in board.records] == ["c", "b"]
    assert board.total == 5 and len(board) == 2
    board = nbtrack.leaderboard("loss", where="params.lr = 0.01")
    assert [r["name"] for r in board.records] == ["b", "d"]
    with pytest.raises(ValueError, match="goal"):
        nbtrack.leaderboard("loss", goal="best")
    with pytest.raises(nbtrack.FilterError):
        nbtrack.leaderboard("loss", where="params.lr <")


def test_leaderboard_highlights_the_params_that_differ(sweep: Path) -> None:
    board = nbtrack.leaderboard("loss", n=3)
    assert board.differing == ["lr", "opt"]  # epochs is the same in all three
    text = repr(board)
    header = text.splitlines()[0].split()
    assert "lr*" in header and "opt*" in header and "epochs" in header
    assert "epochs*" not in header
    assert "* differs among these runs" in text and "top 3 of 4 runs" in text
    html = board._repr_html_()
    assert "<table>" in html and "lr*" in html
    assert nbtrack.leaderboard("loss", where='name = "c"').differing == []


def test_leaderboard_of_a_metric_nobody_logged_is_empty(sweep: Path) -> None:
    board = nbtrack.leaderboard("nope")
    assert board.records == [] and board.total == 0
    assert "no runs have logged 'nope'" in repr(board)


def test_leaderboard_to_pandas(sweep: Path) -> None:
    frame = nbtrack.leaderboard("loss").to_pandas()
    assert list(frame.columns[:6]) == ["rank", "number", "id", "name", "status",
                                       "metrics.loss.min"]
    assert {"params.lr", "params.opt", "params.epochs"} <= set(frame.columns)
    assert frame["name"].tolist() == ["c", "b", "a", "d"]


def test_sql_reads_the_store_as_dicts(sweep: Path) -> None:
    rows = nbtrack.sql("SELECT name, status FROM runs ORDER BY number")
    assert rows == [{"name": n, "status": "finished"} for n in ("a", "b", "c", "d", "no-loss")]
    assert rows.columns == ["name", "status"]
    best = nbtrack.sql(
        "SELECT runs.name, summary.min FROM summary JOIN runs ON runs.number = summary.run"
        " WHERE summary.key = ? ORDER BY summary.min LIMIT 1", ["loss"])
    assert best[0]["name"] == "c" and best[0]["min"] == pytest.approx(0.2)
    frame = nbtrack.sql("SELECT key, COUNT(*) AS runs FROM params GROUP BY key").to_pandas()
    assert dict(zip(frame["key"], frame["runs"])) == {"lr": 5, "epochs": 4, "opt": 1}
    assert "name" in repr(rows)


def test_sql_sees_what_this_process_just_logged(workspace: Path) -> None:
    run = nbtrack.init(name="live", capture_env=False)
    run.log({"x": 1.0})
    assert nbtrack.sql("SELECT count FROM summary WHERE key = 'x'")[0]["count"] == 1
    run.finish()


def test_sql_on_an_empty_workspace_reads_the_schema(workspace: Path) -> None:
    assert nbtrack.sql("SELECT COUNT(*) AS n FROM runs") == [{"n": 0}]
    assert not (workspace / ".nbtrack").exists()  # reading never creates the store


def test_runs_to_pandas_has_params_and_metrics_columns(sweep: Path) -> None:
    frame = nbtrack.runs(where='tags has "sweep"', sort="name").to_pandas()
    assert frame["name"].tolist() == ["a", "b", "c", "d"]
    assert {"params.lr", "params.epochs", "params.opt", "metrics.loss", "metrics.acc"} <= set(
        frame.columns)
    assert frame["metrics.loss"].tolist() == pytest.approx([0.6, 0.4, 0.2, 0.95])
    assert str(frame["started"].dtype).startswith("datetime64")


def test_history_to_pandas_in_wide_and_long_form(sweep: Path) -> None:
    history = nbtrack.get_run("c").history(["loss", "acc"])
    wide = history.to_pandas()
    assert list(wide.index) == [0, 1, 2]
    assert wide["loss"].tolist() == pytest.approx([0.7, 0.45, 0.2])
    long = history.to_pandas(wide=False)
    assert set(long.columns) >= {"key", "step", "value"} and len(long) == 6


def test_dataframes_without_pandas_raise_a_clear_error(
    sweep: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    for make in (lambda: nbtrack.runs().to_pandas(),
                 lambda: nbtrack.leaderboard("loss").to_pandas(),
                 lambda: nbtrack.sql("SELECT 1 AS one").to_pandas(),
                 lambda: nbtrack.get_run("a").history().to_pandas()):
        with pytest.raises(ImportError, match="pip install pandas"):
            make()
