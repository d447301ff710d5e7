"""``nbtrack export-model --format mlflow``: the directory the real mlflow package loads
(``mlflow.pyfunc.load_model``, its native flavors) and serves (``mlflow models serve``),
predicting as the original model does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
from nbtrack.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def export(workspace: Path, ref: str, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["export-model", ref, "--format", "mlflow", "-o",
                                       str(out), "--workspace", str(workspace), *extra])
    return result.exit_code, result.output


def test_sklearn_export_loads_in_mlflow_and_predicts_the_same(workspace, iris, tmp_path):
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models import Model

    X, y = iris
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "iris-clf", input_example=X.head(3), aliases=["production"])
    out = tmp_path / "exported"
    code, output = export(workspace, "iris-clf:production", out)
    assert code == 0, output
    assert {p.name for p in out.iterdir()} >= {
        "MLmodel", "nbtrack-model.json", "model", "input_example.json", "requirements.txt",
        "python_env.yaml", "conda.yaml", "serving_input_example.json"}
    meta = Model.load(str(out))
    assert meta.flavors["python_function"]["loader_module"] == "nbtrack.models.mlflow_pyfunc"
    assert meta.get_input_schema().input_names() == list(X.columns)
    assert "scikit-learn==" in (out / "requirements.txt").read_text()

    loaded = mlflow.pyfunc.load_model(str(out))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(mlflow.sklearn.load_model(str(out)).predict(X),
                                  clf.predict(X))
    example = loaded.input_example
    assert list(example.columns) == list(X.columns) and len(example) == 3


def test_models_export_is_export_model_for_a_registered_model(workspace, iris, tmp_path):
    import mlflow.pyfunc

    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "iris-clf", input_example=X.head(3))
    nbtrack.register_model("iris-clf:v0", "iris", aliases=["production"])
    out = tmp_path / "exported"
    result = CliRunner().invoke(main, ["--workspace", str(workspace), "models", "export",
                                       "iris@production", "-o", str(out)])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(mlflow.pyfunc.load_model(str(out)).predict(X),
                                  clf.predict(X))


def test_export_refuses_what_this_workspace_did_not_log(workspace, iris, tmp_path):
    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "clf")
        folder = nbtrack.use_artifact("clf").download(tmp_path / "copy")
        nbtrack.log_artifact(str(folder), "smuggled", "model")
    code, output = export(workspace, "smuggled:v0", tmp_path / "out")
    assert code == 1 and "trusted=True" in output
    assert not (tmp_path / "out").exists()
    code, output = export(workspace, "smuggled:v0", tmp_path / "out", "--trusted")
    assert code == 0, output
    code, output = export(workspace, "clf", tmp_path / "out")
    assert code == 2 and "not an empty folder" in output
    code, output = export(workspace, "nope:v0", tmp_path / "other")
    assert code == 1 and "no artifact named 'nope'" in output
    result = CliRunner().invoke(main, ["--workspace", str(workspace), "export-model", "clf",
                                       "-o", str(tmp_path / "via-group")])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_lightgbm_classifier_export_keeps_its_labels(workspace, iris, tmp_path):
    import lightgbm
    import mlflow.lightgbm
    import mlflow.pyfunc

    X, y = iris
    labels = y.map({0: "setosa", 1: "versicolor", 2: "virginica"})
    clf = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(X, labels)
    with nbtrack.init():
        nbtrack.log_model(clf, "lgbm", input_example=X.head(3))
    out = tmp_path / "lgbm"
    assert export(workspace, "lgbm", out)[0] == 0
    np.testing.assert_array_equal(mlflow.pyfunc.load_model(str(out)).predict(X),
                                  clf.predict(X))
    np.testing.assert_array_equal(mlflow.lightgbm.load_model(str(out)).predict(X),
                                  clf.predict(X))


@pytest.mark.slow
def test_xgboost_booster_export_takes_tensors(workspace, iris, tmp_path):
    import mlflow.pyfunc
    import mlflow.xgboost
    import xgboost

    X, y = iris
    data = X.to_numpy(dtype="float32")
    booster = xgboost.train({"objective": "multi:softprob", "num_class": 3},
                            xgboost.DMatrix(data, label=y), num_boost_round=10)
    with nbtrack.init():
        nbtrack.log_model(booster, "booster", input_example=data[:3])
    out = tmp_path / "xgb"
    assert export(workspace, "booster:v0", out)[0] == 0
    want = booster.predict(xgboost.DMatrix(data))
    np.testing.assert_array_equal(mlflow.pyfunc.load_model(str(out)).predict(data), want)
    native = mlflow.xgboost.load_model(str(out))
    np.testing.assert_array_equal(native.predict(xgboost.DMatrix(data)), want)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_mlflow_models_serve_answers_with_the_same_predictions(workspace, iris, tmp_path):
    X, y = iris
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "iris-clf", input_example=X.head(3))
    out = tmp_path / "exported"
    assert export(workspace, "iris-clf", out)[0] == 0
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)  # mlflow runs `uvicorn` from PATH
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python"),
           "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    mlflow_cmd = str(Path(bin_dir) / "mlflow")
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([mlflow_cmd, "models", "serve", "-m", str(out), "--env-manager",
                             "local", "-h", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(url + "/ping", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "mlflow models serve did not start"
            time.sleep(0.5)
        body = {"dataframe_split": json.loads(X.to_json(orient="split", index=False))}
        request = urllib.request.Request(url + "/invocations", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as r:
            answer = json.loads(r.read())
        np.testing.assert_array_equal(np.asarray(answer["predictions"]), clf.predict(X))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and its uvicorn worker
        proc.wait(timeout=60)
        log.close()
