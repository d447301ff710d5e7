"""``nbtrack sync`` / ``nbtrack pull`` against a real ``mlflow server`` process backed by a real
PostgreSQL (``postgres_fixture``), with ``--serve-artifacts`` to a temporary folder; everything
is read back with MLflow's own ``MlflowClient``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import nbtrack
from mlflow_server import CREDENTIALS, MlflowServer, start_server, stop_server
from nbtrack import config
from nbtrack.cli import main as cli
from nbtrack.store import access
from nbtrack.sync import limits
from nbtrack.sync.client import SyncError
from postgres_fixture import Postgres, create_database, free_port
from postgres_fixture import postgres as postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# -- the server ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlflow_server(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory,  # noqa: F811
                  ) -> Iterator[MlflowServer]:
    root = tmp_path_factory.mktemp("mlflow")
    server = start_server(root, create_database(postgres, "sync_tests"))
    yield server
    stop_server(server)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


# -- runs ------------------------------------------------------------------------------------

def make_run(ws: Path, name: str, steps: int, *, status: str = "finished",
             params: dict[str, Any] | None = None, tags: list[str] | None = None,
             notes: str = "", system: int = 0, finish: bool = True) -> nbtrack.Run:
    """A run of ``loss`` and ``acc`` at ``steps`` steps (``acc`` every step but the first
    ten) and ``system`` points of ``system/cpu_percent``, with known times."""
    run = nbtrack.init(name, config=params or {"lr": 0.01, "layers": 3, "opt": "adam"},
                       tags=tags if tags is not None else ["team=vision", "baseline"],
                       notes=notes, workspace=ws, capture_env=True, system_metrics=False)
    for step in range(steps):
        values: dict[str, float] = {"loss": 1.0 / (step + 1)}
        if step >= 10:
            values["acc"] = step / steps
        run.log(values, step=step)
    for step in range(system):
        run.log({"system/cpu_percent": 10.0 + step}, step=step)
    if finish:
        run.finish(status)
    return run


def local_points(ws: Path, number: int) -> dict[str, list[tuple[int, float, int]]]:
    from nbtrack.store import queries

    out = {}
    with access.reading(config.db_path(ws)) as db:
        for key in queries.metric_keys(db, number):
            a = queries.metric_arrays(db, number, key)
            out[key] = [(s, v, int(t * 1000)) for s, v, t in zip(a.steps, a.values, a.times)]
    return out


def remote_run(client: Any, experiment: str, run_id: str) -> Any:
    exp = client.get_experiment_by_name(experiment)
    found = client.search_runs([exp.experiment_id], f"tags.`nbtrack.run_id` = '{run_id}'")
    assert len(found) == 1, f"expected one MLflow run for {run_id}, found {len(found)}"
    return found[0]


def remote_points(client: Any, run_id: str, key: str) -> list[tuple[int, float, int]]:
    return sorted((m.step, m.value, m.timestamp) for m in client.get_metric_history(run_id, key))


def cursor_rows(ws: Path, table: str) -> list[Any]:
    with access.reading(config.db_path(ws)) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()  # a test's own table name


# -- the limits are MLflow's -----------------------------------------------------------------

def test_the_limits_are_mlflows_own() -> None:
    from mlflow.utils import validation

    for name in ("MAX_METRICS_PER_BATCH", "MAX_PARAMS_TAGS_PER_BATCH", "MAX_ENTITIES_PER_BATCH",
                 "MAX_BATCH_LOG_REQUEST_SIZE", "MAX_PARAM_VAL_LENGTH", "MAX_TAG_VAL_LENGTH",
                 "MAX_ENTITY_KEY_LENGTH"):
        assert getattr(limits, name) == getattr(validation, name), name
    for name in ("loss", "a b/c.d-e:f", "x@y", "a//b", "/a", "a/", "..", "./a", "é", "x" * 300,
                 "a/../b", "loss[val]"):
        cleaned = limits.clean_name(name)
        assert limits.valid_name(cleaned), (name, cleaned)
        assert validation.validate_param_and_metric_name(cleaned)
        assert not validation.path_not_unique(cleaned)
    points = [("k" * 200, 1.0, 0, i) for i in range(2500)]
    batches = list(limits.metric_batches(points))
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert sum(batches, []) == points
    big = [(f"p{i}", "v" * 6000) for i in range(250)]
    assert all(len(b) <= 100 for b in limits.pair_batches(big))
    assert sum(map(len, limits.pair_batches(big))) == 250


# -- everything, read back with MlflowClient -------------------------------------------------

def test_sync_20_runs_of_10000_points_reads_back_exactly_and_a_second_sync_adds_nothing(
    workspace: Path, mlflow_server: MlflowServer, tmp_path: Path, no_credentials: None,
) -> None:
    runs = []
    for i in range(20):
        status = "failed" if i == 3 else "finished"
        runs.append(make_run(workspace, f"run-{i}", 5000, status=status, system=10,
                             notes=f"try {i}"))
    with nbtrack.init("trainer", workspace=workspace, system_metrics=False) as trainer:
        trainer.log({"loss": 0.5, "picture": nbtrack.Image(np.zeros((4, 4, 3), np.uint8))},
                    step=0)
        weights = tmp_path / "weights.bin"
        weights.write_bytes(b"weights v1")
        art = nbtrack.Artifact("clf", type="model")
        art.add_file(weights, "model/weights.bin")
        version = trainer.log_artifact(art)
        nbtrack.register_model(version, "iris", aliases=["production"])
        data = nbtrack.Artifact("dataset", type="dataset")
        data.add_file(weights, "data.bin")
        trainer.log_artifact(data)
    runs.append(trainer)

    report = nbtrack.sync(mlflow_server.url, experiment="big", workspace=workspace,
                          progress=False)
    assert [o.action for o in report.runs] == ["created"] * 21
    assert report.points == 20 * 10_000 + 1
    assert not report.changes

    client = mlflow_server.client()
    for run in runs:
        remote = remote_run(client, "big", run.id)
        info, data = remote.info, remote.data
        assert info.run_name == run.name
        expected_status = {"finished": "FINISHED", "failed": "FAILED"}
        assert info.status == expected_status[nbtrack.get_run(run.number).status]
        assert info.end_time is not None and info.start_time == int(run.started * 1000)
        if run is trainer:
            continue
        assert data.params == {"lr": "0.01", "layers": "3", "opt": "adam"}
        assert data.tags["team"] == "vision" and data.tags["baseline"] == ""
        assert data.tags["mlflow.note.content"] == run.notes
        assert data.tags["nbtrack.run_id"] == run.id
        local = local_points(workspace, run.number)
        assert sorted(local) == ["acc", "loss", "system/cpu_percent"]
        assert sum(len(p) for p in local.values()) == 10_000
        for key, points in local.items():
            assert remote_points(client, info.run_id, key) == points, key
        files = {f.path for f in client.list_artifacts(info.run_id, "nbtrack")}
        assert {"nbtrack/environment.json", "nbtrack/params.json"} <= files

    remote = remote_run(client, "big", trainer.id)
    media = [f.path for f in client.list_artifacts(remote.info.run_id, "media/picture")]
    assert media == ["media/picture/0-0.png"]
    assert client.list_artifacts(remote.info.run_id, "artifacts/dataset/v0")[0].path \
        == "artifacts/dataset/v0/data.bin"
    mv = client.get_model_version_by_alias("iris", "production")
    assert mv.version == "1" and mv.run_id == remote.info.run_id
    downloaded = client.download_artifacts(remote.info.run_id, "models/iris/v1/model/weights.bin",
                                           str(tmp_path))
    assert Path(downloaded).read_bytes() == b"weights v1"

    again = nbtrack.sync(mlflow_server.url, experiment="big", workspace=workspace,
                         progress=False)
    assert [o.action for o in again.runs] == ["unchanged"] * 21
    assert again.points == 0 and again.requests == 1  # the experiment, nothing else
    first = runs[0]
    remote = remote_run(client, "big", first.id)
    assert len(client.get_metric_history(remote.info.run_id, "loss")) == 5000


# -- interrupted, resumed ----------------------------------------------------------------------

def test_a_killed_sync_resumes_without_duplicating_a_point(
    workspace: Path, mlflow_server: MlflowServer, no_credentials: None,
) -> None:
    run = make_run(workspace, "long", 40_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python"), "NBTRACK_DIR": str(workspace)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbtrack", "sync", mlflow_server.url, "--experiment", "killed"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if any(r[4] is not None for r in cursor_rows(workspace, "sync_metrics")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sync finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    sent = {r[2]: r[4] for r in cursor_rows(workspace, "sync_metrics")}
    assert [r[6] for r in cursor_rows(workspace, "sync_runs")] == [1]  # pending
    assert any(step is None or step < 39_999 for step in sent.values())

    # The worst moment: the server accepted batches whose steps were not recorded yet.
    with access.writing(config.db_path(workspace)) as db:
        db.execute("UPDATE sync_metrics SET step = NULL")

    report = nbtrack.sync(mlflow_server.url, experiment="killed", workspace=workspace,
                          progress=False)
    assert report.runs[0].action == "updated"
    client = mlflow_server.client()
    remote = remote_run(client, "killed", run.id)
    local = local_points(workspace, run.number)
    for key in ("loss", "acc"):
        assert remote_points(client, remote.info.run_id, key) == local[key], key
    assert remote.info.status == "FINISHED"
    assert [r[6] for r in cursor_rows(workspace, "sync_runs")] == [0]


def test_a_live_run_synced_keeps_appending(
    workspace: Path, mlflow_server: MlflowServer, no_credentials: None,
) -> None:
    run = make_run(workspace, "live", 100, finish=False)
    client = mlflow_server.client()
    plan = nbtrack.sync(mlflow_server.url, experiment="live", runs=[run.number],
                        workspace=workspace, dry_run=True, progress=False)
    assert (plan.runs[0].action, plan.runs[0].points) == ("would create", 100 + 90)
    assert cursor_rows(workspace, "sync_runs") == []
    assert client.get_experiment_by_name("live") is None  # a dry run creates nothing
    nbtrack.sync(mlflow_server.url, experiment="live", runs=[run.number], workspace=workspace,
                 progress=False)
    remote = remote_run(client, "live", run.id)
    assert remote.info.status == "RUNNING"
    assert len(client.get_metric_history(remote.info.run_id, "loss")) == 100
    for step in range(100, 250):
        run.log({"loss": 1.0 / (step + 1), "acc": 0.5}, step=step)
    report = nbtrack.sync(mlflow_server.url, experiment="live", runs=[run.number],
                          workspace=workspace, progress=False)
    assert report.runs[0].points == 300
    run.finish()
    nbtrack.sync(mlflow_server.url, experiment="live", runs=[run.number], workspace=workspace,
                 progress=False)
    remote = remote_run(client, "live", run.id)
    assert remote.info.status == "FINISHED"
    local = local_points(workspace, run.number)
    assert remote_points(client, remote.info.run_id, "loss") == local["loss"]
    assert len(local["loss"]) == 250


# -- names and values that had to change -----------------------------------------------------

def test_long_params_are_shortened_names_mapped_and_changed_params_reported(
    workspace: Path, mlflow_server: MlflowServer, no_credentials: None,
) -> None:
    prompt = "p" * 7000
    run = nbtrack.init("odd", config={"prompt": prompt, "bad@name": 1, "lr": 0.1},
                       tags=["a*b=1"], workspace=workspace, system_metrics=False)
    run.log({"loss[val]": 0.5, "a//b": 1.0}, step=0)
    run.finish()
    report = nbtrack.sync(mlflow_server.url, experiment="odd", workspace=workspace,
                          progress=False)
    changes = {(c.kind, c.key): c.detail for c in report.changes}
    assert "7,000 characters shortened to 6,000" in changes[("value", "prompt")]
    assert changes[("param", "bad@name")] == "sent as 'bad_name'"
    assert changes[("metric", "loss[val]")] == "sent as 'loss_val_'"
    assert changes[("metric", "a//b")] == "sent as 'a/b'"
    assert changes[("tag", "a*b")] == "sent as 'a_b'"
    client = mlflow_server.client()
    remote = remote_run(client, "odd", run.id)
    params = remote.data.params
    assert params["prompt"] == "p" * 5997 + "..." and params["bad_name"] == "1"
    assert set(remote.data.metrics) == {"loss_val_", "a/b"}
    assert remote.data.tags["a_b"] == "1"

    with access.writing(config.db_path(workspace)) as db:  # as `nbtrack` edits would
        db.execute("UPDATE params SET value = 0.2 WHERE run = ? AND key = 'lr'", (run.number,))
    result = CliRunner().invoke(cli, ["sync", mlflow_server.url, "--experiment", "odd",
                                      "--workspace", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "param 'lr': changed here to '0.2' after it was synced as '0.1'" in result.output
    assert remote_run(client, "odd", run.id).data.params["lr"] == "0.1"


# -- errors ----------------------------------------------------------------------------------

def test_server_down_exits_1_and_marks_nothing_synced(
    workspace: Path, no_credentials: None,
) -> None:
    make_run(workspace, "r", 10)
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["sync", url, "--workspace", str(workspace)])
    assert result.exit_code == 1
    assert f"cannot reach the MLflow server at {url}" in result.output
    assert cursor_rows(workspace, "sync_runs") == []
    with pytest.raises(SyncError, match="cannot reach"):
        nbtrack.sync(url, workspace=workspace, progress=False)


def test_a_rejected_batch_exits_1_and_is_not_marked_synced(
    workspace: Path, mlflow_server: MlflowServer, no_credentials: None,
) -> None:
    run = make_run(workspace, "clash", 10)
    client = mlflow_server.client()
    exp = client.create_experiment("clash")
    client.create_run(exp, tags={"nbtrack.run_id": run.id})  # made elsewhere, lr differs
    other = client.search_runs([exp])[0]
    client.log_param(other.info.run_id, "lr", "999")
    result = CliRunner().invoke(cli, ["sync", mlflow_server.url, "--experiment", "clash",
                                      "--workspace", str(workspace)])
    assert result.exit_code == 1
    assert "rejected a batch of params" in result.output
    assert cursor_rows(workspace, "sync_params") == []
    assert cursor_rows(workspace, "sync_metrics") == []


def test_wrong_credentials_against_basic_auth_exit_1(
    workspace: Path, postgres: Postgres, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ini = tmp_path / "auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{tmp_path / 'auth.db'}\n"
        "admin_username = admin\nadmin_password = nbtrack-admin-pass-1234\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    server = start_server(tmp_path / "auth", create_database(postgres, "sync_auth"),
                          "--app-name", "basic-auth",
                          env={"MLFLOW_AUTH_CONFIG_PATH": str(ini),
                               "MLFLOW_FLASK_SERVER_SECRET_KEY": "nbtrack-test-secret"})
    try:
        make_run(workspace, "r", 20)
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
        result = CliRunner().invoke(cli, ["sync", server.url, "--workspace", str(workspace)])
        assert result.exit_code == 1
        assert "refused the credentials (401" in result.output
        assert cursor_rows(workspace, "sync_runs") == []
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "nbtrack-admin-pass-1234")
        report = nbtrack.sync(server.url, workspace=workspace, progress=False)
        assert report.points == 20 + 10
    finally:
        stop_server(server)


# -- pull --------------------------------------------------------------------------------------

def test_pull_into_a_fresh_workspace_then_diff_against_a_local_run(
    workspace: Path, mlflow_server: MlflowServer, tmp_path: Path, no_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs = make_run(workspace, "teammate", 50, params={"lr": 0.1, "opt": "sgd"})
    nbtrack.sync(mlflow_server.url, experiment="team", workspace=workspace, progress=False)

    mine = tmp_path / "mine"
    mine.mkdir()
    monkeypatch.setenv("NBTRACK_DIR", str(mine))
    local = make_run(mine, "me", 50, params={"lr": 0.01, "opt": "sgd"})
    report = nbtrack.pull(mlflow_server.url, experiment="team", workspace=mine,
                          progress=False)
    assert [r["action"] for r in report.runs] == ["imported"]
    pulled = report.runs[0]
    assert pulled["points"] == 50 + 40
    copy = nbtrack.get_run(pulled["number"], workspace=mine)
    assert copy.name == "teammate" and copy.params == {"lr": 0.1, "opt": "sgd"}
    got = local_points(mine, copy.number)["loss"]
    assert [p[:2] for p in got] == [p[:2] for p in local_points(workspace, theirs.number)["loss"]]
    with access.reading(config.db_path(mine)) as db:
        origin = db.execute("SELECT source, path FROM run_sources").fetchall()
    assert origin == [("mlflow-server", pulled["origin"])]
    assert pulled["origin"].startswith(mlflow_server.url + "/#/experiments/")

    result = CliRunner().invoke(cli, ["diff", str(local.number), str(pulled["number"]),
                                      "--workspace", str(mine)])
    assert result.exit_code == 0, result.output
    assert "lr" in result.output and "0.1" in result.output and "0.01" in result.output

    again = nbtrack.pull(mlflow_server.url, experiment="team", workspace=mine, progress=False)
    assert [r["action"] for r in again.runs] == ["unchanged"]
    # Pulling where the runs came from skips them.
    home = nbtrack.pull(mlflow_server.url, experiment="team", workspace=workspace,
                        progress=False)
    assert home.runs == [] and len(home.skipped) == 1
    # A pulled run is never sent back; the workspace's own run is.
    sync = nbtrack.sync(mlflow_server.url, experiment="team", workspace=mine, progress=False)
    assert [o.number for o in sync.runs] == [local.number]


# -- the cells of a notebook run -----------------------------------------------------------

def test_a_notebook_runs_cells_go_as_json_and_an_executed_notebook_in_execution_order(
    workspace: Path, mlflow_server: MlflowServer, tmp_path: Path, no_credentials: None,
) -> None:
    import json

    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    try:
        ip.run_cell("%track start cells", store_history=True)
        ip.run_cell("xs = [1, 2, 3]", store_history=True)
        ip.run_cell("import nbtrack\nnbtrack.log({'n': len(xs)})", store_history=True)
        ip.run_cell("%track stop", store_history=True)
    finally:
        nbtrack.finish()
        ip.run_line_magic("unload_ext", "nbtrack")
    run = nbtrack.get_run("cells")
    nbtrack.sync(mlflow_server.url, experiment="cells", workspace=workspace, progress=False)
    client = mlflow_server.client()
    remote = remote_run(client, "cells", run.id)
    folder = Path(client.download_artifacts(remote.info.run_id, "nbtrack", str(tmp_path)))
    cells = json.loads((folder / "cells.json").read_text())
    sources = [c["source"] for c in cells]
    assert sources == [c["source"] for c in run.cells]
    assert "xs = [1, 2, 3]" in sources
    notebook = json.loads((folder / "executed.ipynb").read_text())
    assert notebook["nbformat"] == 4
    assert [c["source"] for c in notebook["cells"]] == sources


def test_watch_keeps_a_live_run_synced_and_ctrl_c_stops_it_cleanly(
    workspace: Path, mlflow_server: MlflowServer, no_credentials: None,
) -> None:
    run = make_run(workspace, "watched", 20, finish=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python"), "NBTRACK_DIR": str(workspace)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbtrack", "sync", mlflow_server.url, "--experiment", "watch",
         "--watch", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = mlflow_server.client()

    def remote_loss() -> int:
        exp = client.get_experiment_by_name("watch")
        found = exp and client.search_runs([exp.experiment_id])
        return len(client.get_metric_history(found[0].info.run_id, "loss")) if found else 0

    def wait_for(points: int) -> None:
        deadline = time.monotonic() + 300
        while remote_loss() < points:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"the watch never sent {points} points"
            time.sleep(0.2)

    try:
        wait_for(20)
        for step in range(20, 60):
            run.log({"loss": 0.1, "acc": 0.2}, step=step)
        wait_for(60)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130), err
    assert "stopped" in err and "Traceback" not in err
    assert remote_loss() == 60
    run.finish()
