"""``nbtrack.autolog()`` with the real scikit-learn: what each fit records (params equal to
``get_params``, training time and score, the model that loads back and predicts the same),
nested fits recorded once, results and random streams untouched, originals put back."""

from __future__ import annotations

import inspect
import os
import random
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import nbtrack
from nbtrack.integrations import sklearn as nb_sklearn


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture
def autolog(workspace: Path) -> Iterator[None]:
    nbtrack.autolog()
    yield
    nbtrack.autolog(disable=True)


def expected_params(estimator: Any) -> dict[str, Any]:
    """What the run's params must be: ``get_params(deep=True)``, a nested estimator (or any
    non-JSON value) as its repr, tuples as lists."""
    def plain(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return repr(value)
    return {key: plain(value) for key, value in estimator.get_params(deep=True).items()}


def same(a: Any, b: Any) -> bool:
    """Equality with NaN equal to NaN (``error_score=nan``)."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(a == b)


def assert_params(run: nbtrack.Run, estimator: Any) -> None:
    params, expected = run.params, expected_params(estimator)
    for key, value in expected.items():
        assert key in params, key
        assert same(params[key], value), (key, params[key], value)


def run_names() -> list[str]:
    return [run.name for run in nbtrack.runs()]


# -- What one fit records ------------------------------------------------------------------------

def test_a_fit_without_a_run_records_params_time_score_and_model_in_its_own_run(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    clf = LogisticRegression(C=0.5, max_iter=300).fit(X, y)
    assert run_names() == ["LogisticRegression"]
    run = nbtrack.get_run("LogisticRegression")
    assert run.status == "finished"
    assert set(run.params) == set(clf.get_params(deep=True))
    assert_params(run, clf)
    assert run.params["C"] == 0.5 and run.params["max_iter"] == 300
    assert run.summary["training_score"] == clf.score(X, y)
    assert run.summary["training_time"] > 0
    assert set(run.metric_keys()) == {"training_time", "training_score"}

    model = nbtrack.load_model(f"runs:/{run.number}/model")
    assert model.flavor == "sklearn"
    np.testing.assert_array_equal(model.predict(X), clf.predict(X))
    np.testing.assert_array_equal(model.raw.coef_, clf.coef_)
    np.testing.assert_array_equal(np.asarray(model.input_example), X[:5])


def test_random_forest_params_equal_get_params_and_its_model_predicts_the_same(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    forest = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=1).fit(X, y)
    run = nbtrack.get_run("RandomForestClassifier")
    assert set(run.params) == set(forest.get_params(deep=True))
    assert_params(run, forest)
    assert run.summary["training_score"] == forest.score(X, y)
    loaded = nbtrack.load_model("RandomForestClassifier:latest")
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))
    np.testing.assert_array_equal(loaded.raw.predict_proba(X), forest.predict_proba(X))


def test_a_regressor_records_its_r2_on_the_training_data(autolog: None,
                                                         iris: tuple[np.ndarray, np.ndarray]
                                                         ) -> None:
    X, _ = iris
    reg = LinearRegression().fit(X[:, :3], X[:, 3])
    assert nbtrack.get_run("LinearRegression").summary["training_score"] == \
        reg.score(X[:, :3], X[:, 3])


# -- Nested fits are recorded once ---------------------------------------------------------------

def test_a_pipeline_is_one_record_with_the_params_of_its_steps(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=2.0, max_iter=300)).fit(X, y)
    assert run_names() == ["Pipeline"]
    run = nbtrack.get_run("Pipeline")
    assert set(run.params) == set(pipe.get_params(deep=True))
    assert_params(run, pipe)
    assert run.params["logisticregression__C"] == 2.0
    assert run.params["steps"] == [[name, repr(step)] for name, step in pipe.steps]
    assert run.summary["training_score"] == pipe.score(X, y)
    loaded = nbtrack.load_model(f"runs:/{run.number}/Pipeline")
    assert isinstance(loaded.raw, Pipeline)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_grid_search_is_one_record_with_best_params_and_best_cv_score(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    assert run_names() == ["GridSearchCV"]  # 9 fold fits and the refit are part of it
    run = nbtrack.get_run("GridSearchCV")
    assert_params(run, search)
    assert run.params["param_grid"] == {"logisticregression__C": [0.1, 1.0, 10.0]}
    assert run.params["best_logisticregression__C"] == \
        search.best_params_["logisticregression__C"]
    assert run.summary["best_cv_score"] == search.best_score_
    assert run.summary["training_score"] == search.score(X, y)
    loaded = nbtrack.load_model(f"runs:/{run.number}/model")
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))


def test_inner_fits_in_worker_threads_are_part_of_the_outer_record(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    from joblib import parallel_backend

    X, y = iris
    with parallel_backend("threading", n_jobs=2):  # the fold fits run in other threads
        GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
    assert run_names() == ["GridSearchCV"]


def test_fit_predict_and_fit_transform_are_recorded_once(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = iris
    labels = KMeans(n_clusters=3, n_init=2, random_state=0).fit_predict(X)
    PCA(n_components=2).fit_transform(X)
    assert run_names() == ["PCA", "KMeans"]
    kmeans = nbtrack.get_run("KMeans")
    assert "training_score" not in kmeans.summary  # neither classifier nor regressor
    loaded = nbtrack.load_model(f"runs:/{kmeans.number}/model")
    np.testing.assert_array_equal(loaded.predict(X), labels)
    assert nbtrack.get_run("PCA").params["n_components"] == 2


def test_data_preparation_alone_is_not_recorded(autolog: None,
                                                iris: tuple[np.ndarray, np.ndarray]) -> None:
    StandardScaler().fit(iris[0])
    StandardScaler().fit_transform(iris[0])
    assert run_names() == []


def test_fits_inside_an_active_run_go_to_it_and_leave_it_open(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    with nbtrack.init(name="study") as outer:
        LogisticRegression(max_iter=300).fit(X, y)
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        assert outer.live
        assert outer.params["logisticregression__C"] == 1.0
    assert run_names() == ["study"]
    history = outer.history("training_time")
    assert history.steps("training_time") == [0, 1]
    assert {link["name"] for link in _outputs(outer)} == {"LogisticRegression", "Pipeline"}


def _outputs(run: nbtrack.Run) -> list[Any]:
    """The artifact versions ``run`` produced."""
    from nbtrack.artifacts.responses import run_artifacts
    from nbtrack.store import access

    with access.reading(run._path) as db:
        return list(run_artifacts(db, run.number)["outputs"])


# -- Results, random state and errors are the user's -----------------------------------------------

def _fit_forest_and_logreg(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    np.random.seed(7)
    random.seed(7)
    forest = RandomForestClassifier(n_estimators=5).fit(X, y)  # draws from np.random
    logreg = LogisticRegression(max_iter=300).fit(X, y)
    return {
        "forest": forest.predict_proba(X), "coef": logreg.coef_.copy(),
        "np_next": np.random.random(3), "py_next": random.random(),
    }


def test_autolog_changes_neither_results_nor_the_random_state(
        workspace: Path, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    without = _fit_forest_and_logreg(X, y)
    nbtrack.autolog()
    try:
        with_autolog = _fit_forest_and_logreg(X, y)
    finally:
        nbtrack.autolog(disable=True)
    assert run_names() == ["LogisticRegression", "RandomForestClassifier"]
    for key, value in without.items():
        np.testing.assert_array_equal(with_autolog[key], value, err_msg=key)


def test_a_failing_fit_raises_its_own_error_and_marks_the_run_failed(
        autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = iris
    with pytest.raises(ValueError, match="class") as raised:
        LogisticRegression().fit(X, np.zeros(len(X)))  # one class only: sklearn refuses
    assert "nbtrack" not in str(raised.value)
    run = nbtrack.get_run("LogisticRegression")
    assert run.status == "failed"
    assert run.params["C"] == 1.0


def test_a_tracking_failure_warns_and_the_fit_still_returns_its_model(
        autolog: None, iris: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(nbtrack.Run, "log_model", broken)
    X, y = iris
    with pytest.warns(nbtrack.TrackingWarning, match="disk full"):
        clf = LogisticRegression(max_iter=300).fit(X, y)
    assert clf.score(X, y) > 0.9
    run = nbtrack.get_run("LogisticRegression")
    assert run.status == "finished" and "training_score" in run.summary


def test_the_fit_signature_stays_what_sklearn_inspects(autolog: None) -> None:
    from sklearn.utils.validation import has_fit_parameter

    assert "sample_weight" in inspect.signature(LogisticRegression.fit).parameters
    assert has_fit_parameter(LogisticRegression(), "sample_weight")
    assert hasattr(make_pipeline(StandardScaler(), LogisticRegression()), "fit_transform") \
        is False  # available_if still decides: the last step cannot transform


# -- Options ------------------------------------------------------------------------------------

def test_log_models_false_and_log_training_score_false(
        workspace: Path, iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    nbtrack.autolog(log_models=False, log_training_score=False)
    try:
        LogisticRegression(max_iter=300).fit(X, y)
    finally:
        nbtrack.autolog(disable=True)
    run = nbtrack.get_run("LogisticRegression")
    assert set(run.metric_keys()) == {"training_time"}
    assert _outputs(run) == []


def test_no_training_score_above_the_row_threshold(
        autolog: None, iris: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nb_sklearn, "TRAINING_SCORE_MAX_ROWS", 100)
    X, y = iris  # 150 rows
    LogisticRegression(max_iter=300).fit(X, y)
    assert set(nbtrack.get_run("LogisticRegression").metric_keys()) == {"training_time"}


# -- Disable ------------------------------------------------------------------------------------

def test_disable_puts_every_original_method_back(workspace: Path,
                                                  iris: tuple[np.ndarray, np.ndarray]) -> None:
    classes = nb_sklearn.estimator_classes()
    before = {(cls, name): cls.__dict__.get(name, "inherited")
              for cls in classes for name in nb_sklearn.FIT_METHODS}
    nbtrack.autolog()
    nbtrack.autolog()  # twice: still patched once
    assert LogisticRegression.fit is not before[(LogisticRegression, "fit")]
    assert "fit" in RandomForestClassifier.__dict__  # inherited fit wrapped on the class
    nbtrack.autolog(disable=True)
    after = {(cls, name): cls.__dict__.get(name, "inherited")
             for cls in classes for name in nb_sklearn.FIT_METHODS}
    assert after == before
    assert not nb_sklearn.enabled()
    LogisticRegression(max_iter=300).fit(*iris)
    assert run_names() == []


# -- In a notebook -------------------------------------------------------------------------------

@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    nbtrack.autolog(disable=True)
    ip.run_line_magic("unload_ext", "nbtrack")


def test_in_a_notebook_the_points_carry_the_cell_that_called_fit(
        shell: InteractiveShell, iris: tuple[np.ndarray, np.ndarray]) -> None:
    shell.user_ns["X"], shell.user_ns["y"] = iris
    shell.user_ns["LogisticRegression"] = LogisticRegression
    assert shell.run_cell("import nbtrack\nnbtrack.autolog()", store_history=True).success
    source = "clf = LogisticRegression(max_iter=300).fit(X, y)"
    result = shell.run_cell(source, store_history=True)
    assert result.success, result.error_in_exec
    run = nbtrack.get_run("LogisticRegression")
    assert run.status == "finished"
    (cell,) = [c for c in run.cells if c["source"] == source]
    history = run.history()
    assert set(history) == {"training_time", "training_score"}
    for key in history:
        assert set(history[key]["cell"]) == {cell["id"]}, key


# -- Imports ------------------------------------------------------------------------------------

def python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_importing_nbtrack_and_its_autolog_does_not_import_sklearn() -> None:
    out = python("import sys, nbtrack\nnbtrack.autolog\n"
                 "import nbtrack.integrations.sklearn\nprint('sklearn' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_autolog_without_sklearn_is_an_import_error_naming_it() -> None:
    out = python("import sys\nsys.modules['sklearn'] = None  # as if not installed\n"
                 "import nbtrack\ntry:\n    nbtrack.autolog()\nexcept ImportError as exc:\n"
                 "    print(exc)\n")
    assert out.returncode == 0, out.stderr
    assert "pip install scikit-learn" in out.stdout


def test_no_warning_from_a_plain_fit(autolog: None, iris: tuple[np.ndarray, np.ndarray]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", nbtrack.TrackingWarning)
        LogisticRegression(max_iter=300).fit(*iris)
