"""The REST API, write side and liveness: each test gets its own workspace and real server."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import nbtrack

ROOT = Path(__file__).resolve().parents[1]


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.1)


def record(name: str, **config: Any) -> nbtrack.Run:
    with nbtrack.init(name, config=config, capture_env=False) as run:
        run.log({"loss": 0.5})
    return run


def test_patch_renames_retags_and_annotates_a_run(jupyter_server: Any) -> None:
    record("draft")
    status, body = jupyter_server.request(
        "PATCH", "runs/draft",
        body={"name": "baseline", "tags": ["cnn", "best", "cnn"], "notes": "keep this one"},
    )
    assert status == 200, body
    assert (body["name"], body["tags"], body["notes"]) == ("baseline", ["cnn", "best"],
                                                         "keep this one")
    assert set(body) == set(jupyter_server.get("runs")["runs"][0])  # a RunRecord
    assert jupyter_server.get("runs/baseline")["notes"] == "keep this one"
    assert nbtrack.get_run("baseline").tags == ["cnn", "best"]  # in the store, for every reader
    status, body = jupyter_server.request("PATCH", "runs/baseline", body={"notes": ""})
    assert status == 200 and body["notes"] == "" and body["name"] == "baseline"


BAD_BODIES = [
    {"name": ""}, {"name": 3}, {"tags": "cnn"}, {"tags": ["ok", ""]}, {"tags": [1]},
    {"notes": 5}, {"status": "finished"}, {"deleted": 1}, [], "baseline",
]


def test_patch_with_a_bad_body_is_400_and_changes_nothing(jupyter_server: Any) -> None:
    record("baseline")
    before = jupyter_server.get("runs/baseline")
    for body in BAD_BODIES:
        status, answer = jupyter_server.request("PATCH", "runs/baseline", body=body)
        assert status == 400 and answer["status"] == 400 and answer["error"], (body, answer)
    status, answer = jupyter_server.request("PATCH", "runs/baseline", raw_body=b"{name:")
    assert status == 400 and answer["status"] == 400  # not JSON
    after = jupyter_server.get("runs/baseline")
    assert {k: after[k] for k in ("name", "tags", "notes", "status")} == {
        k: before[k] for k in ("name", "tags", "notes", "status")}


def test_delete_hides_the_run_but_keeps_it_in_the_store(jupyter_server: Any) -> None:
    record("keep")
    gone = record("gone")
    status, body = jupyter_server.request("DELETE", "runs/gone")
    assert (status, body) == (204, None)
    assert [r["name"] for r in jupyter_server.get("runs")["runs"]] == ["keep"]
    assert jupyter_server.request("GET", "runs/gone")[0] == 404
    assert jupyter_server.request("GET", f"runs/{gone.id}/metrics")[0] == 404
    assert jupyter_server.request("DELETE", "runs/gone")[0] == 404
    db = sqlite3.connect(jupyter_server.root / ".nbtrack" / "nbtrack.db")
    try:
        assert db.execute("SELECT deleted FROM runs WHERE id = ?", (gone.id,)).fetchone() == (1,)
    finally:
        db.close()


def test_the_change_token_moves_on_every_write_and_only_then(jupyter_server: Any) -> None:
    record("first")
    token = jupyter_server.get("status")["change_token"]
    assert jupyter_server.get("status")["change_token"] == token
    jupyter_server.request("PATCH", "runs/first", body={"notes": "edited in the sidebar"})
    after_patch = jupyter_server.get("status")["change_token"]
    assert after_patch != token
    record("second")  # a write by another process (this one, like a kernel)
    assert jupyter_server.get("status")["change_token"] != after_patch


def test_a_live_run_is_followed_with_after_step(jupyter_server: Any) -> None:
    run = nbtrack.init("live", capture_env=False)
    for step in range(10):
        run.log({"loss": 1.0 / (step + 1)})
    run.history()  # reading flushes what is queued
    first = jupyter_server.get(f"runs/{run.id}/metrics", keys="loss")["series"][0]
    assert first["step"] == list(range(10))
    assert jupyter_server.get("runs/live")["status"] == "running"
    for step in range(10, 15):
        run.log({"loss": 1.0 / (step + 1)})
    run.history()
    more = jupyter_server.get(f"runs/{run.id}/metrics", keys="loss",
                              after_step=first["step_max"])["series"][0]
    assert more["step"] == list(range(10, 15)) and more["count"] == 5
    run.finish()
    assert jupyter_server.get("runs/live")["status"] == "finished"


def test_a_run_whose_process_died_reads_as_crashed_and_moves_the_token(
    workspace: Path, start_jupyter_server: Any
) -> None:
    # A process starts a run and dies without finishing it (no atexit, no finish).
    code = ("import os, nbtrack\nrun = nbtrack.init('ghost', capture_env=False)\n"
            "run.log({'loss': 0.1}); run.history()\nos._exit(0)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                   env={**_child_env(), "NBTRACK_DIR": str(workspace)})
    with start_jupyter_server(workspace, env={"NBTRACK_STALE_AFTER": "2"}) as server:
        # Its last heartbeat: a few seconds ahead, so that it is fresh when first read below.
        _set_heartbeat(workspace / ".nbtrack" / "nbtrack.db", time.time() + 3)
        fresh_token = server.get("status")["change_token"]
        assert server.get("runs/ghost")["status"] == "running"
        wait_for(lambda: server.get("runs/ghost")["status"] == "crashed")
        # No byte of the store changed, yet the panel must redraw: the token moved.
        assert server.get("status")["change_token"] != fresh_token
        assert [r["name"] for r in server.get("runs", status="crashed")["runs"]] == ["ghost"]
        assert server.get("runs", status="running")["total"] == 0
        points = server.get("runs/ghost/metrics")["series"][0]
        assert points["value"] == [0.1]  # everything flushed before the crash is kept


def test_an_empty_workspace_answers_empty_results(jupyter_server: Any) -> None:
    assert (jupyter_server.root / ".nbtrack").is_dir()  # made by the extension at load
    assert jupyter_server.get("runs") == {"runs": [], "total": 0, "limit": 50, "offset": 0}
    assert jupyter_server.get("keys") == {"metrics": [], "params": []}
    status = jupyter_server.get("status")
    assert status["schema_version"] == 0 and status["change_token"]
    assert jupyter_server.request("GET", "runs/1")[0] == 404
    assert jupyter_server.request("PATCH", "runs/1", body={"notes": "x"})[0] == 404
    assert not (jupyter_server.root / ".nbtrack" / "nbtrack.db").exists()  # reads create nothing


def test_the_server_root_is_the_workspace_of_everything_it_starts(
    tmp_path: Path, start_jupyter_server: Any
) -> None:
    root = tmp_path / "project"
    (root / "notebooks" / "deep").mkdir(parents=True)
    with start_jupyter_server(root) as server:
        assert Path(server.get("status")["store"]) == root / ".nbtrack" / "nbtrack.db"
        # A script run from a subfolder finds the same store through the .nbtrack/ folder.
        code = "import nbtrack\nwith nbtrack.init('from-subfolder', capture_env=False): pass"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                       cwd=root / "notebooks" / "deep", env=_child_env())
        assert [r["name"] for r in server.get("runs")["runs"]] == ["from-subfolder"]


def test_jupyter_lists_the_extension_as_ok(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"nbtrack": True}}}))
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"], timeout=120,
        capture_output=True, text=True, env={**_child_env(), "JUPYTER_CONFIG_DIR": str(config)},
    )
    text = out.stdout + out.stderr
    assert re.search(r"nbtrack \S*enabled", text), text
    assert re.search(r"nbtrack \S+ \S*OK", text), text  # "nbtrack 0.1.0 OK": it loads


def _child_env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("NBTRACK_DIR", "NBTRACK_NOTEBOOK", "JPY_SESSION_NAME")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "python"), env.get("PYTHONPATH", "")])
    return env


def _set_heartbeat(db_path: Path, when: float) -> None:
    db = sqlite3.connect(db_path)
    try:
        with db:
            db.execute("UPDATE runs SET heartbeat = ?, started = ? WHERE name = 'ghost'",
                       (when, when - 10))
    finally:
        db.close()
