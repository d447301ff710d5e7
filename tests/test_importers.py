"""``nbtrack import``: stores written by the real mlflow, wandb (offline) and tensorboardX,
imported and compared with what each script logged; importing again changes nothing; a damaged
file among good ones is reported and the rest imported; the command through a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack.importers import mlflow_store
from nbtrack.importers.detect import PathError, detect
from nbtrack.importers.source import Problem
from nbtrack.importers.write import import_items
from nbtrack.store import access

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

# -- the stores, written by each package in its own process -------------------------------------

MLFLOW_SCRIPT = """
import json, sys
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

uri, out = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(uri)
logged = {}
T0 = 1_700_000_000_000

def record(run, experiment, name, params, tags, notes, status, metrics):
    logged[run.info.run_id] = dict(experiment=experiment, name=name, params=params, tags=tags,
                                   notes=notes, status=status, metrics=metrics)

mlflow.set_experiment("exp-a")
with mlflow.start_run(run_name="alpha") as run:
    params = {"lr": 0.01, "epochs": 3, "opt": "adam", "code": "007", "flag": True}
    mlflow.log_params(params)
    tags = {"team": "vision", "empty": ""}
    mlflow.set_tags(tags)
    mlflow.set_tag("mlflow.note.content", "first try")
    metrics = {"loss": [], "acc": []}
    for step in range(10):
        ts = T0 + step * 1000
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=ts)
        metrics["loss"].append([step, 1.0 / (step + 1), ts])
        if step % 2 == 0:
            mlflow.log_metric("acc", step / 10, step=step, timestamp=ts + 1)
            metrics["acc"].append([step, step / 10, ts + 1])
    mlflow.log_metric("loss", 7.5, step=3, timestamp=T0 + 99_000)  # step 3 again: the later wins
    metrics["loss"].append([3, 7.5, T0 + 99_000])
    record(run, "exp-a", "alpha", params, tags, "first try", "finished", metrics)

mlflow.set_experiment("exp-b")
client = MlflowClient(tracking_uri=uri)
with mlflow.start_run(run_name="beta") as run:
    batch = [Metric("val/loss", 2.0 - k / 100, T0 + k, k) for k in range(250)]
    for lo in range(0, len(batch), 100):
        client.log_batch(run.info.run_id, metrics=batch[lo:lo + 100])
    mlflow.log_param("batch_size", 64)
    record(run, "exp-b", "beta", {"batch_size": 64}, {}, "", "failed",
           {"val/loss": [[m.step, m.value, m.timestamp] for m in batch]})
    mlflow.end_run(status="FAILED")

with mlflow.start_run(run_name="gone") as run:
    mlflow.log_metric("x", 1.0)
client.delete_run(run.info.run_id)  # deleted in MLflow: not imported
for run_id, run in logged.items():
    info = client.get_run(run_id).info
    run.update(start=info.start_time, end=info.end_time)

json.dump(logged, open(out, "w"))
"""

WANDB_SCRIPT = """
import json, sys, time
import wandb

out = sys.argv[1]
logged = []

run = wandb.init(project="proj", name="first", config={"lr": 0.01, "opt": {"name": "adam"}},
                 tags=["cnn", "baseline"], notes="hello", group="g1")
points = {}
for i in range(6):
    before = time.time()
    run.log({"loss": 1.0 / (i + 1), "acc": i / 10, "hist": wandb.Histogram([1, 2, 3])})
    after = time.time()
    for key, value in (("loss", 1.0 / (i + 1)), ("acc", i / 10)):
        points.setdefault(key, []).append([i, value, before, after])
before = time.time()
run.log({"val/loss": 0.5}, step=10)
points["val/loss"] = [[10, 0.5, before, time.time()]]
run.config.update({"epochs": 3})
run.summary["best"] = 0.99
logged.append(dict(id=run.id, name="first", config={"lr": 0.01, "opt": {"name": "adam"},
                   "epochs": 3}, tags=["cnn", "baseline", "project=proj", "group=g1"],
                   notes="hello", status="finished", points=points, skipped=6,
                   summary={"best": 0.99}))
run.finish()

run = wandb.init(project="proj", name="second", config={"lr": 0.1})
before = time.time()
run.log({"loss": 3.0})
points = {"loss": [[0, 3.0, before, time.time()]]}
logged.append(dict(id=run.id, name="second", config={"lr": 0.1}, tags=["project=proj"],
                   notes="", status="failed", points=points, skipped=0, summary={}))
run.finish(exit_code=1)
json.dump(logged, open(out, "w"))
"""

TBX_SCRIPT = """
import json, sys
from tensorboardX import SummaryWriter

root = sys.argv[1]
T0 = 1_700_000_000.0
logged = {}
w = SummaryWriter(root + "/a")
points = {"train/loss": [], "lr": []}
for step in range(20):
    w.add_scalar("train/loss", 1.0 / (step + 1), step, walltime=T0 + step)
    w.add_scalar("lr", 0.5 ** step, step, walltime=T0 + step + 0.5)
    w.add_histogram("weights", [1.0, 2.0, 3.0], step, walltime=T0 + step)
    points["train/loss"].append([step, 1.0 / (step + 1), T0 + step])
    points["lr"].append([step, 0.5 ** step, T0 + step + 0.5])
w.add_text("note", "hello", 0, walltime=T0)
w.close()
logged["a"] = dict(points=points, skipped=21)
w = SummaryWriter(root + "/b/eval")
w.add_scalars("acc", {"top1": 0.5, "top5": 0.75}, 0, walltime=T0)
w.add_scalar("acc1", 0.25, 1, walltime=T0 + 1)
w.close()
logged["b/eval"] = dict(points={"acc1": [[1, 0.25, T0 + 1]]}, skipped=0)
w = SummaryWriter(root + "/hp")
w.add_hparams({"lr": 0.1, "layers": 4, "opt": "sgd", "bn": True}, {"hp/acc": 0.875})
w.close()
json.dump(logged, open(root + "/logged.json", "w"))
"""


def _python(script: str, *args: str, env: dict[str, str] | None = None) -> None:
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args],
                          env=full_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def _offline_env(root: Path) -> dict[str, str]:
    """W&B offline with nothing that could reach the network."""
    return {
        "WANDB_MODE": "offline", "WANDB_DIR": str(root), "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true", "WANDB_DISABLE_CODE": "true", "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_SERVICE": "false", "WANDB_CACHE_DIR": str(root / "cache"),
        "WANDB_CONFIG_DIR": str(root / "config"), "WANDB_DATA_DIR": str(root / "data"),
        "WANDB_API_KEY": "", "WANDB_BASE_URL": "http://127.0.0.1:9",
        "WANDB_X_DISABLE_STATS": "true", "WANDB__DISABLE_STATS": "true",
    }


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mlflow-files")
    _python(MLFLOW_SCRIPT, str(root / "mlruns"), str(root / "logged.json"),
            env={"MLFLOW_ALLOW_FILE_STORE": "true"})
    return root / "mlruns", json.loads((root / "logged.json").read_text())


@pytest.fixture(scope="module")
def mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mlflow-sqlite")
    _python(MLFLOW_SCRIPT, f"sqlite:///{root / 'mlflow.db'}", str(root / "logged.json"))
    return root / "mlflow.db", json.loads((root / "logged.json").read_text())


@pytest.fixture(scope="module")
def wandb_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("wandb")
    _python(WANDB_SCRIPT, str(root / "logged.json"), env=_offline_env(root))
    return root / "wandb", json.loads((root / "logged.json").read_text())


@pytest.fixture(scope="module")
def tb_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("tb") / "runs"
    root.mkdir()
    _python(TBX_SCRIPT, str(root))
    return root, json.loads((root / "logged.json").read_text())


# -- helpers ------------------------------------------------------------------------------------

def _import(ws: Path, *paths: str | Path) -> tuple[list[Any], list[Problem]]:
    outcomes, problems = [], []
    for path in paths:
        for item in import_items(ws / ".nbtrack" / "nbtrack.db", detect(str(path)).read()):
            (problems if isinstance(item, Problem) else outcomes).append(item)
    return outcomes, problems


def _source_ids(ws: Path) -> dict[str, int]:
    with access.reading(ws / ".nbtrack" / "nbtrack.db") as db:
        return {sid: run for run, sid in db.execute("SELECT run, source_id FROM run_sources")}


def _dump(ws: Path) -> dict[str, list[Any]]:
    """Every row of every table (what "changes nothing" is measured against)."""
    with access.reading(ws / ".nbtrack" / "nbtrack.db") as db:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables}


def _f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _expected_series(points: list[list[Any]]) -> dict[int, tuple[float, ...]]:
    """Step -> the rest of the point logged last at that step."""
    return {p[0]: tuple(p[1:]) for p in points}


def _check_mlflow(ws: Path, logged: dict[str, Any]) -> None:
    ids = _source_ids(ws)
    assert sorted(ids) == sorted(logged)  # the deleted run is not imported
    for run_id, want in logged.items():
        run = nbtrack.get_run(ids[run_id], workspace=ws)
        assert run.name == want["name"]
        assert run.params == want["params"]
        assert run.record()["status"] == want["status"]
        tags = [f"{k}={v}" if v else k for k, v in sorted(want["tags"].items())]
        assert run.tags == [*tags, f"experiment={want['experiment']}"]
        assert run.record()["notes"] == want["notes"]
        history = run.history()
        assert sorted(history) == sorted(want["metrics"])
        for key, points in want["metrics"].items():
            expected = _expected_series(points)
            series = history[key]
            assert series["step"] == sorted(expected)
            assert series["value"] == [expected[s][0] for s in series["step"]]
            assert series["time"] == [expected[s][1] / 1000 for s in series["step"]]
        assert run.record()["started"] == want["start"] / 1000
        assert run.record()["ended"] == want["end"] / 1000


# -- MLflow -------------------------------------------------------------------------------------

def test_import_an_mlflow_file_store_keeps_every_run_param_tag_and_point(
        workspace: Path, mlruns: tuple[Path, dict[str, Any]]) -> None:
    path, logged = mlruns
    outcomes, problems = _import(workspace, path)
    assert problems == []
    assert sorted(o.action for o in outcomes) == ["imported", "imported"]
    _check_mlflow(workspace, logged)


def test_import_an_mlflow_sqlite_database(
        workspace: Path, mlflow_db: tuple[Path, dict[str, Any]]) -> None:
    path, logged = mlflow_db
    outcomes, problems = _import(workspace, f"sqlite:///{path}")
    assert problems == [] and len(outcomes) == 2
    _check_mlflow(workspace, logged)


def test_importing_the_same_mlflow_store_again_changes_nothing(
        workspace: Path, mlruns: tuple[Path, dict[str, Any]],
        mlflow_db: tuple[Path, dict[str, Any]]) -> None:
    _import(workspace, mlruns[0], mlflow_db[0])
    before = _dump(workspace)
    outcomes, problems = _import(workspace, mlruns[0], mlflow_db[0])
    assert problems == []
    assert [o.action for o in outcomes] == ["unchanged"] * 4
    assert _dump(workspace) == before
    assert len(nbtrack.runs(workspace=workspace)) == 4


def test_a_run_that_gained_points_since_is_brought_up_to_date(
        workspace: Path, mlruns: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    store = shutil.copytree(mlruns[0], tmp_path / "mlruns")
    _import(workspace, store)
    run_id = next(k for k, v in mlruns[1].items() if v["name"] == "alpha")
    _python("""
        import sys
        from mlflow.tracking import MlflowClient
        client = MlflowClient(tracking_uri=sys.argv[1])
        for step in (10, 11):
            client.log_metric(sys.argv[2], "loss", 0.01 * step, timestamp=1_800_000_000_000,
                              step=step)
        client.set_tag(sys.argv[2], "stage", "late")
    """, str(store), run_id, env={"MLFLOW_ALLOW_FILE_STORE": "true"})
    outcomes, _ = _import(workspace, store)
    assert sorted((o.action, o.points) for o in outcomes) == [
        ("unchanged", 0), ("updated", 2)]
    run = nbtrack.get_run(_source_ids(workspace)[run_id], workspace=workspace)
    loss = run.history("loss")["loss"]
    assert loss["step"] == list(range(12)) and loss["value"][-2:] == [0.1, 0.11]
    assert "stage=late" in run.tags
    assert len(nbtrack.runs(workspace=workspace)) == 2


def test_a_damaged_mlflow_run_is_reported_and_the_others_imported(
        workspace: Path, mlruns: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    store = shutil.copytree(mlruns[0], tmp_path / "mlruns")
    bad = next(k for k, v in mlruns[1].items() if v["name"] == "beta")
    metric = next(store.glob(f"*/{bad}/metrics/val/loss"))
    metric.write_text(metric.read_text() + "this is not a metric line\n")
    outcomes, problems = _import(workspace, store)
    assert [o.run.name for o in outcomes] == ["alpha"]
    assert len(problems) == 1 and bad in problems[0].path
    assert "cannot read this MLflow run" in problems[0].message


def test_mlflow_params_come_back_as_the_values_that_wrote_them() -> None:
    assert mlflow_store.param_value("0.01") == 0.01
    assert mlflow_store.param_value("3") == 3
    assert mlflow_store.param_value("True") is True
    assert mlflow_store.param_value("None") is None
    assert mlflow_store.param_value("007") == "007"
    assert mlflow_store.param_value("1e-3") == "1e-3"  # str(0.001) is not "1e-3"
    assert mlflow_store.param_value("[1, 2]") == "[1, 2]"


def test_a_missing_reader_package_is_an_import_error_naming_the_extra(
        monkeypatch: pytest.MonkeyPatch, mlruns: tuple[Path, dict[str, Any]]) -> None:
    monkeypatch.setitem(sys.modules, "mlflow.store.tracking.file_store", None)
    with pytest.raises(ImportError, match=r"nbtrack\[mlflow\]"):
        list(detect(str(mlruns[0])).read())


# -- W&B ----------------------------------------------------------------------------------------

def test_import_wandb_offline_runs_keeps_config_tags_summary_and_points(
        workspace: Path, wandb_dir: tuple[Path, list[dict[str, Any]]]) -> None:
    path, logged = wandb_dir
    outcomes, problems = _import(workspace, path)
    assert problems == []
    assert sorted(o.run.name for o in outcomes) == ["first", "second"]
    ids = _source_ids(workspace)
    for want in logged:
        run = nbtrack.get_run(ids[want["id"]], workspace=workspace)
        assert run.name == want["name"]
        assert run.params == want["config"]
        assert run.tags == want["tags"]
        assert run.record()["notes"] == want["notes"]
        assert run.record()["status"] == want["status"]
        assert next(o for o in outcomes if o.run.source_id == want["id"]).run.skipped == (
            want["skipped"])
        history = run.history()
        scalar_keys = sorted(k for k in history if not k.startswith("system/"))
        assert scalar_keys == sorted(want["points"])
        for key, points in want["points"].items():
            series = history[key]
            assert series["step"] == [p[0] for p in points]
            assert series["value"] == [p[1] for p in points]
            for when, (_, _, before, after) in zip(series["time"], points):
                assert before - 0.01 <= when <= after + 0.01
        for key, value in want["summary"].items():
            assert run.summary[key] == value


def test_importing_wandb_runs_again_changes_nothing(
        workspace: Path, wandb_dir: tuple[Path, list[dict[str, Any]]]) -> None:
    _import(workspace, wandb_dir[0])
    before = _dump(workspace)
    outcomes, _ = _import(workspace, wandb_dir[0])
    assert [o.action for o in outcomes] == ["unchanged", "unchanged"]
    assert _dump(workspace) == before


def test_a_damaged_wandb_log_is_reported_and_the_other_run_imported(
        workspace: Path, wandb_dir: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    folder = shutil.copytree(wandb_dir[0], tmp_path / "wandb")
    logs = sorted(folder.glob("offline-run-*/*.wandb"))
    data = bytearray(logs[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    logs[0].write_bytes(bytes(data))
    outcomes, problems = _import(workspace, folder)
    assert len(outcomes) == 1 and len(problems) == 1
    assert problems[0].path == str(logs[0]) and "damaged record" in problems[0].message


# -- TensorBoard --------------------------------------------------------------------------------

def test_import_tensorboard_event_files_one_run_per_folder(
        workspace: Path, tb_logs: tuple[Path, dict[str, Any]]) -> None:
    path, logged = tb_logs
    outcomes, problems = _import(workspace, path)
    assert problems == []
    by_name = {o.run.name: o for o in outcomes}
    assert set(by_name) == {"a", "b/eval", "b/eval/acc/top1", "b/eval/acc/top5"} | {
        n for n in by_name if n.startswith("hp/")}
    for name, want in logged.items():
        run = nbtrack.get_run(by_name[name].number or 0, workspace=workspace)
        assert by_name[name].run.skipped == want["skipped"]
        history = run.history()
        assert sorted(history) == sorted(want["points"])
        for key, points in want["points"].items():
            assert history[key]["step"] == [p[0] for p in points]
            assert history[key]["value"] == [_f32(p[1]) for p in points]
            assert history[key]["time"] == [p[2] for p in points]
        assert run.record()["status"] == "finished"
    hp = next(o for n, o in by_name.items() if n.startswith("hp/"))
    run = nbtrack.get_run(hp.number or 0, workspace=workspace)
    assert run.params == {"lr": 0.1, "layers": 4.0, "opt": "sgd", "bn": True}
    assert run.history("hp/acc")["hp/acc"]["value"] == [0.875]


def test_importing_tensorboard_logs_again_changes_nothing(
        workspace: Path, tb_logs: tuple[Path, dict[str, Any]]) -> None:
    _import(workspace, tb_logs[0])
    before = _dump(workspace)
    outcomes, _ = _import(workspace, tb_logs[0])
    assert {o.action for o in outcomes} == {"unchanged"}
    assert _dump(workspace) == before


def test_a_damaged_event_file_is_reported_and_the_other_runs_imported(
        workspace: Path, tb_logs: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root = shutil.copytree(tb_logs[0], tmp_path / "runs")
    event_file = next((root / "a").glob("*tfevents*"))
    data = bytearray(event_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    event_file.write_bytes(bytes(data))
    outcomes, problems = _import(workspace, root)
    assert "a" not in {o.run.name for o in outcomes} and "b/eval" in {o.run.name for o in outcomes}
    assert [p.path for p in problems] == [str(root / "a")]
    assert "damaged record" in problems[0].message


# -- paths and the command line -----------------------------------------------------------------

def test_paths_that_hold_nothing_importable_say_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="no such file"):
        detect(str(tmp_path / "missing"))
    with pytest.raises(PathError, match="expected an MLflow store"):
        detect(str(tmp_path))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(PathError, match="not an MLflow database"):
        detect(str(tmp_path / "notes.txt"))
    nbtrack_db = access.connect(tmp_path / "nbtrack.db")
    nbtrack_db.close()
    with pytest.raises(PathError, match="not an MLflow tracking database"):
        detect(str(tmp_path / "nbtrack.db"))


def _cli(*args: str, ws: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    return subprocess.run([sys.executable, "-m", "nbtrack", "import", "--workspace", str(ws),
                           *args], env=env, capture_output=True, text=True, timeout=300)


def test_the_import_command_reports_runs_and_problems_as_json(
        tmp_path: Path, mlruns: tuple[Path, dict[str, Any]],
        wandb_dir: tuple[Path, list[dict[str, Any]]], tb_logs: tuple[Path, dict[str, Any]],
) -> None:
    ws = tmp_path / "ws"
    bad = tmp_path / "bad.wandb"
    bad.write_bytes(b"not a log at all")
    dry = _cli(str(mlruns[0]), "--dry-run", "--json", ws=ws)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["counts"]["imported"] == 2
    assert not (ws / ".nbtrack" / "nbtrack.db").exists()  # a dry run writes nothing

    done = _cli(str(mlruns[0]), str(wandb_dir[0]), str(bad), str(tb_logs[0]), "--json", ws=ws)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["counts"]["imported"] == len(report["runs"]) >= 7
    assert report["problems"] == [{"path": str(bad), "message": report["problems"][0]["message"]}]
    assert "bad header" in report["problems"][0]["message"] and str(bad) in done.stderr
    points = sum(r["points"] for r in report["runs"])
    with access.reading(ws / ".nbtrack" / "nbtrack.db") as db:
        assert points == db.execute("SELECT SUM(count) FROM metric_chunks").fetchone()[0]

    again = _cli(str(mlruns[0]), str(wandb_dir[0]), str(tb_logs[0]), ws=ws)
    assert again.returncode == 0 and "0 imported, 0 updated" in again.stdout


def test_the_import_command_exit_codes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    missing = _cli(str(tmp_path / "nope"), ws=ws)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    bad = tmp_path / "bad.wandb"
    bad.write_bytes(b"garbage")
    nothing = _cli(str(bad), ws=ws)
    assert nothing.returncode == 1 and "bad header" in nothing.stderr
