"""log_model / load_model with real frameworks: each flavor logged, loaded back in a fresh
process with identical predictions, its signature and packages recorded; trust rules; refs;
mistakes never leave a version."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
from model_defs import NoPredict, Thresholds, build_net
from nbtrack.models import UntrustedModelError
from nbtrack.store import access

ROOT = Path(__file__).resolve().parents[1]
LOADER = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    import nbtrack
    ref, data, out = sys.argv[1:]
    with open(data, "rb") as f:
        X = pickle.load(f)
    model = nbtrack.load_model(ref)
    np.save(out, np.asarray(model.predict(X)), allow_pickle=False)
    print(json.dumps({"flavor": model.flavor, "signature": model.signature,
                      "packages": model.packages, "ref": model.ref,
                      "raw": type(model.raw).__name__}))
""")


def fresh_env(workspace: Path) -> dict[str, str]:
    return {**os.environ, "NBTRACK_DIR": str(workspace), "KERAS_BACKEND": "jax",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), str(ROOT / "tests")])}


def predict_in_fresh_process(workspace: Path, ref: str, X: Any) -> tuple[np.ndarray, dict]:
    """Load ``ref`` in a new Python process and predict ``X`` there."""
    data, out = workspace / "X.pkl", workspace / "out.npy"
    data.write_bytes(pickle.dumps(X))
    proc = subprocess.run([sys.executable, "-c", LOADER, ref, str(data), str(out)],
                          env=fresh_env(workspace), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return np.load(out), json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def iris() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def model_versions(workspace: Path) -> list[tuple[str, int]]:
    db_path = workspace / ".nbtrack" / "nbtrack.db"
    if not db_path.exists():
        return []
    with access.reading(db_path) as db:
        return [(r[0], r[1]) for r in db.execute(
            "SELECT a.name, v.number FROM artifact_versions v"
            " JOIN artifacts a ON a.id = v.artifact")]


# -- scikit-learn: the fast path, checked closely ---------------------------------------------

def test_sklearn_pipeline_logged_and_loaded_in_a_fresh_process_predicts_the_same(workspace, iris):
    X, y = iris
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with nbtrack.init(name="train"):
        version = nbtrack.log_model(clf, "iris-clf", input_example=X.head(5),
                                    aliases=["candidate"], metadata={"acc": 0.97})
    assert version.ref == "iris-clf:v0" and version.type == "model"
    assert set(version.aliases) == {"latest", "candidate"}
    assert {f["path"] for f in version.files()} == {
        "nbtrack-model.json", "input_example.json", "model/model.pkl"}
    meta = version.metadata
    assert meta["flavor"] == "sklearn" and meta["acc"] == 0.97
    assert meta["signature"]["inputs"] == [
        {"name": c, "type": "double"} for c in X.columns]
    assert meta["signature"]["outputs"] == [
        {"name": None, "type": "tensor", "dtype": "int64", "shape": [-1]}]
    assert set(meta["packages"]) == {"scikit-learn", "numpy", "pandas"}

    predictions, info = predict_in_fresh_process(workspace, "iris-clf:candidate", X)
    np.testing.assert_array_equal(predictions, clf.predict(X))
    assert info["flavor"] == "sklearn" and info["raw"] == "Pipeline"
    assert info["packages"]["scikit-learn"] == meta["packages"]["scikit-learn"]


def test_relogging_the_same_model_returns_the_same_version(workspace, iris):
    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbtrack.init():
        first = nbtrack.log_model(clf, "clf", input_example=X.head(3))
        again = nbtrack.log_model(clf, "clf", input_example=X.head(3))
        other = nbtrack.log_model(LogisticRegression(C=0.1, max_iter=500).fit(X, y), "clf",
                                  input_example=X.head(3))
    assert again.ref == first.ref == "clf:v0"
    assert other.ref == "clf:v1"


def test_predict_converts_input_per_signature(workspace, iris):
    X, y = iris
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "clf", input_example=X.head(2))
    model = nbtrack.load_model("clf")
    want = clf.predict(X.head(4))
    np.testing.assert_array_equal(model.predict(X.head(4)[X.columns[::-1]]), want)
    np.testing.assert_array_equal(model.predict(X.head(4).to_dict("records")), want)
    np.testing.assert_array_equal(model.predict(X.head(4).to_dict("list")), want)
    np.testing.assert_array_equal(model.predict(X.head(4).to_numpy().tolist()), want)
    with pytest.raises(ValueError, match="missing input columns: petal width"):
        model.predict(X.head(4).drop(columns=["petal width (cm)"]))
    assert list(model.input_example.columns) == list(X.columns)


def test_plain_python_model_with_predict(workspace):
    model = Thresholds(5.0)
    X = np.array([[1.0, 2.0], [4.0, 3.0], [0.5, 0.5]])
    with nbtrack.init():
        version = nbtrack.log_model(model, "rule", input_example=X)
    assert version.metadata["flavor"] == "python"
    assert version.metadata["signature"]["inputs"] == [
        {"name": None, "type": "tensor", "dtype": "float64", "shape": [-1, 2]}]
    predictions, _ = predict_in_fresh_process(workspace, "rule:v0", X)
    np.testing.assert_array_equal(predictions, model.predict(X))


# -- mistakes raise and store nothing ---------------------------------------------------------

def test_mistakes_raise_clearly_and_leave_no_version(workspace, iris):
    import torch

    X, y = iris
    with nbtrack.init():
        with pytest.raises(TypeError, match="any object with a predict"):
            nbtrack.log_model(NoPredict(), "thing")
        with pytest.raises(ValueError, match="needs rebuild="):
            nbtrack.log_model(build_net(), "net")
        with pytest.raises(ValueError, match="lambdas and nested functions"):
            nbtrack.log_model(build_net(), "net", rebuild=lambda: build_net())
        with pytest.raises(ValueError, match="model name 'bad name'"):
            nbtrack.log_model(Thresholds(1.0), "bad name")
        with pytest.raises(ValueError, match="reserved"):
            nbtrack.log_model(Thresholds(1.0), "rule", aliases=["latest"])
        with pytest.raises(ValueError, match="predicting on the input example failed"):
            nbtrack.log_model(LogisticRegression().fit(X, y), "clf",
                              input_example=np.zeros((2, 7)))
        with pytest.raises(ValueError, match="does not fit"):
            nbtrack.log_model(torch.nn.Linear(2, 2), "net", rebuild=build_net)
    assert model_versions(workspace) == []


def test_a_failure_while_storing_files_leaves_no_version(workspace, iris, monkeypatch):
    from nbtrack.artifacts import files

    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    real_put = files.put_file
    calls = []

    def failing_put(store: Path, path: Path) -> tuple[str, int]:
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_put(store, path)

    monkeypatch.setattr(files, "put_file", failing_put)
    with nbtrack.init():
        with pytest.raises(OSError, match="disk full"):
            nbtrack.log_model(clf, "clf", input_example=X.head(2))
        assert model_versions(workspace) == []
        monkeypatch.setattr(files, "put_file", real_put)
        version = nbtrack.log_model(clf, "clf", input_example=X.head(2))
    for f in version.files():
        assert (workspace / ".nbtrack" / "blobs" / f["sha256"][:2] / f["sha256"]).is_file()
    np.testing.assert_array_equal(nbtrack.load_model("clf:v0").predict(X), clf.predict(X))


# -- trust -------------------------------------------------------------------------------------

def test_a_pickle_not_logged_by_log_model_is_refused_unless_trusted(workspace, iris, tmp_path):
    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "clf")
        folder = nbtrack.use_artifact("clf:v0").download(tmp_path / "copy")
        nbtrack.log_artifact(str(folder), "smuggled", "model")  # same files, no mark
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        nbtrack.load_model("smuggled:v0")
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        nbtrack.load_model(folder)  # a folder: nothing vouches for it
    np.testing.assert_array_equal(
        nbtrack.load_model("smuggled:v0", trusted=True).predict(X), clf.predict(X))
    np.testing.assert_array_equal(
        nbtrack.load_model(folder, trusted=True).predict(X), clf.predict(X))
    key = workspace / ".nbtrack" / "model-key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_log_model_marks_an_unmarked_version_holding_the_same_files(workspace, iris, tmp_path):
    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "clf")
        folder = nbtrack.use_artifact("clf:v0").download(tmp_path / "copy")
        plain = nbtrack.log_artifact(str(folder), "copy", "model")
        with pytest.raises(UntrustedModelError):
            nbtrack.load_model("copy:v0")
        again = nbtrack.log_model(clf, "copy")  # the same files, now from a live model
    assert again.ref == plain.ref == "copy:v0"
    assert again.metadata["flavor"] == "sklearn"
    np.testing.assert_array_equal(nbtrack.load_model("copy:v0").predict(X), clf.predict(X))


def test_a_store_copied_from_elsewhere_needs_trusted(workspace, iris, tmp_path, monkeypatch):
    X, y = iris
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbtrack.init():
        nbtrack.log_model(clf, "clf")
    other = tmp_path / "other"
    shutil.copytree(workspace / ".nbtrack", other / ".nbtrack",
                    ignore=shutil.ignore_patterns("model-key"))
    with pytest.raises(UntrustedModelError, match="not logged by this workspace"):
        nbtrack.load_model("clf", workspace=other)
    assert nbtrack.load_model("clf", workspace=other, trusted=True).flavor == "sklearn"


def test_a_mark_does_not_cover_other_content(workspace, iris):
    X, y = iris
    with nbtrack.init():
        a = nbtrack.log_model(LogisticRegression(max_iter=500).fit(X, y), "a")
        b = nbtrack.log_model(LogisticRegression(C=0.5, max_iter=500).fit(X, y), "b")
    db_path = workspace / ".nbtrack" / "nbtrack.db"
    with access.writing(db_path) as db:  # b's mark copied onto a's version
        db.execute("UPDATE artifact_versions SET metadata = ? WHERE id = ?",
                   (json.dumps({**a.metadata, "nbtrack_mark": b.metadata["nbtrack_mark"]}),
                    a.id))
    with pytest.raises(UntrustedModelError):
        nbtrack.load_model("a")


# -- references -------------------------------------------------------------------------------

def test_run_and_registry_references(workspace, iris):
    X, y = iris
    with nbtrack.init(name="first") as run:
        nbtrack.log_model(Thresholds(3.0), "rule")
        nbtrack.log_model(LogisticRegression(max_iter=500).fit(X, y), "clf")
    assert nbtrack.load_model(f"runs:/{run.number}/rule").flavor == "python"
    assert nbtrack.load_model(f"runs:/{run.id}/clf").ref == "clf:v0"
    assert nbtrack.load_model(f"runs:/{run.number}/model").ref == "clf:v0"  # the newest
    with pytest.raises(LookupError, match="logged no model named 'nope'.*clf, rule"):
        nbtrack.load_model(f"runs:/{run.number}/nope")
    with pytest.raises(LookupError):
        nbtrack.load_model("clf@production")
    with pytest.raises(ValueError, match="is not a model"):
        with nbtrack.init():
            nbtrack.log_artifact(str(Path(__file__)), "code", "model")
        nbtrack.load_model("code")


# -- the other frameworks ---------------------------------------------------------------------

@pytest.mark.slow
def test_xgboost_classifier_and_booster(workspace, iris):
    import xgboost

    X, y = iris
    clf = xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)
    booster = xgboost.train({"objective": "multi:softprob", "num_class": 3},
                            xgboost.DMatrix(X.to_numpy(), label=y), num_boost_round=10)
    with nbtrack.init():
        v1 = nbtrack.log_model(clf, "xgb", input_example=X.head(3))
        v2 = nbtrack.log_model(booster, "booster", input_example=X.to_numpy()[:3])
        assert nbtrack.log_model(clf, "xgb", input_example=X.head(3)).ref == v1.ref
    assert v1.metadata["flavor"] == v2.metadata["flavor"] == "xgboost"
    assert "xgboost" in v1.metadata["packages"]
    assert v2.metadata["signature"]["outputs"][0]["shape"] == [-1, 3]
    predictions, info = predict_in_fresh_process(workspace, "xgb:v0", X)
    np.testing.assert_array_equal(predictions, clf.predict(X))
    assert info["raw"] == "XGBClassifier"
    predictions, _ = predict_in_fresh_process(workspace, "booster:v0", X.to_numpy())
    np.testing.assert_array_equal(predictions, booster.predict(xgboost.DMatrix(X.to_numpy())))
    # XGBoost's own format runs no code: it loads without this workspace's mark
    (workspace / ".nbtrack" / "model-key").unlink()
    assert nbtrack.load_model("booster").flavor == "xgboost"


@pytest.mark.slow
def test_lightgbm_regressor_and_booster(workspace, iris):
    import lightgbm

    X, y = iris
    reg = lightgbm.LGBMRegressor(n_estimators=20, verbose=-1).fit(X, X["petal width (cm)"] * 2)
    with nbtrack.init():
        v = nbtrack.log_model(reg, "lgbm", input_example=X.head(3))
        b = nbtrack.log_model(reg.booster_, "lgbm-booster", input_example=X.head(3))
        assert nbtrack.log_model(reg, "lgbm", input_example=X.head(3)).ref == v.ref
    assert {f["path"] for f in v.files()} >= {"model/model.pkl", "model/model.txt"}
    assert v.metadata["packages"].keys() >= {"lightgbm", "scikit-learn"}
    predictions, info = predict_in_fresh_process(workspace, "lgbm:v0", X)
    np.testing.assert_array_equal(predictions, reg.predict(X))
    assert info["raw"] == "LGBMRegressor"
    predictions, info = predict_in_fresh_process(workspace, b.ref, X)
    np.testing.assert_array_equal(predictions, reg.booster_.predict(X))
    assert info["raw"] == "Booster"


@pytest.mark.slow
def test_pytorch_module_with_rebuild_and_torchscript(workspace):
    import torch

    torch.manual_seed(0)
    net = build_net()
    X = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    net.train()
    with nbtrack.init():
        v = nbtrack.log_model(net, "net", input_example=X[:2], rebuild=build_net)
        again = nbtrack.log_model(net, "net", input_example=X[:2], rebuild=build_net)
        scripted = torch.jit.script(net)
        s = nbtrack.log_model(scripted, "scripted", input_example=X[:2])
        assert nbtrack.log_model(scripted, "scripted", input_example=X[:2]).ref == s.ref
    assert net.training  # logging gave the user's module its training mode back
    assert again.ref == v.ref and v.metadata["flavor"] == "pytorch"
    assert s.metadata["flavor"] == "torchscript"
    assert v.metadata["signature"]["inputs"] == [
        {"name": None, "type": "tensor", "dtype": "float32", "shape": [-1, 4]}]
    assert "torch" in v.metadata["packages"]
    net.eval()
    with torch.no_grad():
        want = net(torch.from_numpy(X)).numpy()
    for ref in ("net:v0", "scripted:v0"):
        predictions, _ = predict_in_fresh_process(workspace, ref, X.astype("float64"))
        np.testing.assert_allclose(predictions, want, rtol=1e-6, atol=1e-6)
        assert predictions.dtype == np.float32


KERAS_LOG = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    import keras
    import nbtrack
    keras.utils.set_random_seed(0)
    X = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (X.sum(axis=1) > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X, y, epochs=2, verbose=0)
    with nbtrack.init():
        v = nbtrack.log_model(model, "kmodel", input_example=X[:2])
        again = nbtrack.log_model(model, "kmodel", input_example=X[:2])
    with open(sys.argv[1], "wb") as f:
        pickle.dump(X, f)
    np.save(sys.argv[2], model.predict(X, verbose=0))
    print(json.dumps({"ref": v.ref, "again": again.ref, "metadata": v.metadata,
                      "backend": keras.backend.backend()}))
""")


@pytest.mark.slow
def test_keras_sequential_on_jax(workspace):
    data, want = workspace / "kX.pkl", workspace / "kwant.npy"
    proc = subprocess.run([sys.executable, "-c", KERAS_LOG, str(data), str(want)],
                          env=fresh_env(workspace), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    logged = json.loads(proc.stdout.strip().splitlines()[-1])
    assert logged["backend"] == "jax"
    assert logged["again"] == logged["ref"] == "kmodel:v0"
    assert logged["metadata"]["flavor"] == "keras"
    assert logged["metadata"]["packages"].keys() >= {"keras", "jax"}
    with open(data, "rb") as f:
        X = pickle.load(f)
    predictions, info = predict_in_fresh_process(workspace, "kmodel:v0", X)
    np.testing.assert_allclose(predictions, np.load(want), rtol=1e-6, atol=1e-6)
    assert info["flavor"] == "keras"


NOTEBOOK_CELLS = [
    "import json\nimport numpy as np\nimport torch\nimport nbtrack",
    "def build():\n    return torch.nn.Sequential(torch.nn.Linear(4, 2))",
    "torch.manual_seed(1)\nnet = build()\nx = np.ones((3, 4), dtype='float32')\n"
    "with nbtrack.init(name='nb'):\n"
    "    version = nbtrack.log_model(net, 'nbnet', input_example=x, rebuild=build)",
    "loaded = nbtrack.load_model('nbnet')\n"
    "with torch.no_grad():\n    want = net(torch.from_numpy(x)).numpy()\n"
    "print(json.dumps({'ref': version.ref, 'rebuild': loaded.raw is not net,"
    " 'same': bool(np.array_equal(loaded.predict(x), want))}))",
]


@pytest.mark.slow
def test_a_notebook_logs_a_torch_module_whose_rebuild_is_defined_in_the_notebook(workspace):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(workspace)}}).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert json.loads(printed) == {"ref": "nbnet:v0", "rebuild": True, "same": True}
    # another process does not define the notebook's build(): the error says what to do
    with pytest.raises(LookupError, match="'build' is not defined in this notebook or script"):
        nbtrack.load_model("nbnet")
