"""Every way of listing runs works on a store of 40,000 runs.

SQLite caps the parameters of one statement (32,766 in a stock build; Debian's is built with a
higher cap), so a list of runs bound as ``IN (?, ?, ...)`` fails there past that many runs.
These tests open every connection with the stock cap and list all 40,000 runs through the
API, the command line and the server's answers.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack import config
from nbtrack.cli import main
from nbtrack.query.sample import generate_runs
from nbtrack.responses import MAX_LIMIT, runs_page
from nbtrack.store import access

pytestmark = pytest.mark.slow

N_RUNS = 40_000
#: SQLite's default SQLITE_MAX_VARIABLE_NUMBER since 3.32 (python.org and most builds).
STOCK_VARIABLE_LIMIT = 32_766
Spec = dict[str, Any]


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Spec]]]:
    """A workspace of N_RUNS generated runs, read through connections with the stock cap."""
    assert N_RUNS > STOCK_VARIABLE_LIMIT
    ws = tmp_path_factory.mktemp("many-runs")
    connect = sqlite3.connect

    def stock_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, STOCK_VARIABLE_LIMIT)
        return conn

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sqlite3, "connect", stock_connect)
        mp.setenv("NBTRACK_DIR", str(ws))
        mp.setenv("NBTRACK_STALE_AFTER", "600")
        db = access.connect(config.db_path(ws))
        try:
            specs = generate_runs(db, N_RUNS, start=time.time())
        finally:
            db.close()
        yield ws, specs


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output[-2000:]
    return result.output


def test_runs_lists_every_run_with_params_and_metrics(many) -> None:
    ws, specs = many
    listed = nbtrack.runs(workspace=ws)
    assert len(listed) == listed.total == N_RUNS
    records = listed.records()
    assert [r["number"] for r in records] == sorted((s["number"] for s in specs), reverse=True)
    by_number = {r["number"]: r for r in records}
    for spec in specs[:: N_RUNS // 50]:
        record = by_number[spec["number"]]
        assert record["params"]["opt"] == spec["params"]["opt"]
        assert record["params"]["epochs"] == spec["params"]["epochs"]
        if spec["metrics"]:
            assert record["summary"]["loss"] == spec["metrics"]["loss"][-1]


def test_leaderboard_ranks_every_run(many) -> None:
    ws, specs = many
    board = nbtrack.leaderboard("acc", goal="max", n=None, workspace=ws)
    logged = sum(1 for s in specs if s["metrics"])
    assert len(board) == board.total == logged > STOCK_VARIABLE_LIMIT
    assert [r["rank"] for r in board.records] == list(range(1, logged + 1))


def test_cli_list_json_and_csv_hold_every_run(many) -> None:
    ws, _ = many
    page = json.loads(cli("list", "-n", "0", "--json", "--workspace", str(ws)))
    assert page["total"] == len(page["runs"]) == N_RUNS
    assert len({r["number"] for r in page["runs"]}) == N_RUNS
    rows = list(csv.DictReader(io.StringIO(cli("list", "-n", "0", "--csv",
                                               "--workspace", str(ws)))))
    assert len(rows) == N_RUNS and "params.lr" in rows[0] and "metrics.loss" in rows[0]


def test_export_writes_every_row_of_every_table(many, tmp_path: Path) -> None:
    ws, specs = many
    out = tmp_path / "dump"
    cli("export", "--out", str(out), "--format", "csv", "--workspace", str(ws))

    def count(table: str) -> int:
        with open(out / f"{table}.csv", encoding="utf-8") as f:
            return sum(1 for _ in f) - 1  # the header

    assert count("runs") == N_RUNS
    assert count("params") == sum(len(s["params"]) for s in specs)
    assert count("metrics") == sum(len(v) for s in specs for v in s["metrics"].values())
    assert count("summary") == sum(len(set(s["metrics"]) | set(s["summary"])) for s in specs)
    assert count("cells") == 0


def test_server_pages_through_every_run(many) -> None:
    ws, _ = many
    path = config.db_path(ws)
    seen: list[int] = []
    for offset in range(0, N_RUNS + MAX_LIMIT, MAX_LIMIT):
        page = runs_page(path, limit=MAX_LIMIT, offset=offset, sort="number")
        assert page["total"] == N_RUNS
        seen += [r["number"] for r in page["runs"]]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == N_RUNS


def test_rm_deletes_more_runs_than_one_statement_could_name(many, tmp_path: Path) -> None:
    ws, specs = many
    copy = tmp_path / "copy"
    shutil.copytree(config.store_dir(ws), config.store_dir(copy))
    keep = {s["number"] for s in specs if s["notes"] == "keep"}
    assert N_RUNS - len(keep) > STOCK_VARIABLE_LIMIT
    output = cli("rm", "--where", 'notes != "keep"', "--yes", "--workspace", str(copy))
    assert f"deleted {N_RUNS - len(keep)} runs" in output
    left = nbtrack.runs(workspace=copy)
    assert {r["number"] for r in left.records()} == keep
