"""The framework callbacks with the real XGBoost, LightGBM and Keras (JAX backend) on tiny
data: the run's params, metric keys, steps and values are what the framework itself reported
(``evals_result``, ``record_evaluation``, Keras's ``History``)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "jax"  # before keras is imported (here or by anything below)

import keras  # noqa: E402
import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xgboost as xgb  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.testing.globalipapp import start_ipython  # noqa: E402

import nbtrack  # noqa: E402
from nbtrack.integrations import keras as nb_keras  # noqa: E402
from nbtrack.integrations import lightgbm as nb_lightgbm  # noqa: E402
from nbtrack.integrations import xgboost as nb_xgboost  # noqa: E402


def data(rows: int = 200, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((rows, features)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.random(rows) > 0.65).astype("float32")
    return x, y


def assert_same_curves(run: nbtrack.Run, reported: dict[str, list[float]]) -> None:
    """The run's metrics are exactly ``reported`` (key -> value per step 0, 1, ...)."""
    history = run.history()
    scalar_keys = {k for k in history if history[k].get("kind") is None}
    assert scalar_keys == set(reported)
    for key, values in reported.items():
        assert history.steps(key) == list(range(len(values))), key
        assert history.values(key) == pytest.approx(values, rel=1e-6), key


def importance(run: nbtrack.Run) -> dict[str, float]:
    (table,) = run.history("feature_importance").values("feature_importance")
    return {row[0]: row[1] for row in table.to_numpy()}


# -- XGBoost ---------------------------------------------------------------------------------------

XGB_PARAMS = {"eta": 0.3, "max_depth": 3, "objective": "binary:logistic",
              "eval_metric": ["logloss", "error"], "seed": 1}


def test_xgboost_train_records_every_eval_metric_params_and_importance(workspace: Path) -> None:
    x, y = data()
    train, valid = xgb.DMatrix(x[:150], y[:150]), xgb.DMatrix(x[150:], y[150:])
    reported: dict[str, Any] = {}
    booster = xgb.train(XGB_PARAMS, train, 8, evals=[(train, "train"), (valid, "valid")],
                        evals_result=reported, verbose_eval=False,
                        callbacks=[nb_xgboost.NbtrackCallback("xgb")])
    run = nbtrack.get_run("xgb")
    assert run.status == "finished"
    assert_same_curves(run, {f"{d}-{m}": v for d, ms in reported.items() for m, v in ms.items()})
    assert XGB_PARAMS.items() <= run.params.items()
    assert importance(run) == pytest.approx(booster.get_score(importance_type="gain"))
    assert run.history().steps("feature_importance") == [7]


def test_xgboost_early_stopping_records_the_iterations_that_ran(workspace: Path) -> None:
    x, y = data(seed=3)
    train, valid = xgb.DMatrix(x[:150], y[:150]), xgb.DMatrix(x[150:], y[150:])
    reported: dict[str, Any] = {}
    booster = xgb.train({"eta": 1.0, "max_depth": 6, "objective": "binary:logistic"}, train,
                        200, evals=[(valid, "valid")], early_stopping_rounds=2,
                        evals_result=reported, verbose_eval=False,
                        callbacks=[nb_xgboost.NbtrackCallback("early")])
    assert booster.num_boosted_rounds() < 200  # it did stop early
    run = nbtrack.get_run("early")
    assert run.status == "finished"
    assert_same_curves(run, {"valid-logloss": reported["valid"]["logloss"]})


def test_xgboost_scikit_learn_api_and_cross_validation(workspace: Path) -> None:
    x, y = data()
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2, eval_metric="auc",
                              callbacks=[nb_xgboost.NbtrackCallback("sk")])
    model.fit(x[:150], y[:150], eval_set=[(x[150:], y[150:])], verbose=False)
    run = nbtrack.get_run("sk")
    assert_same_curves(run, {"validation_0-auc": model.evals_result()["validation_0"]["auc"]})
    assert run.params["max_depth"] == 2 and run.params["eval_metric"] == "auc"

    folds = xgb.cv({"objective": "binary:logistic", "eval_metric": "logloss"},
                   xgb.DMatrix(x, y), 4, nfold=3, seed=0,
                   callbacks=[nb_xgboost.NbtrackCallback("cv")])
    run = nbtrack.get_run("cv")
    assert_same_curves(run, {f"{data_}-logloss{'-std' if stat == 'std' else ''}":
                             folds[f"{data_}-logloss-{stat}"].tolist()
                             for data_ in ("train", "test") for stat in ("mean", "std")})


def test_callbacks_log_into_the_active_run_and_leave_it_open(workspace: Path) -> None:
    x, y = data()
    with nbtrack.init(name="mine", config={"note": "by hand"}) as run:
        xgb.train({"max_depth": 2}, xgb.DMatrix(x, y), 3, evals=[(xgb.DMatrix(x, y), "train")],
                  verbose_eval=False, callbacks=[nb_xgboost.NbtrackCallback()])
        lgb.train({"verbose": -1, "num_leaves": 3}, lgb.Dataset(x, y), 3,
                  valid_sets=[lgb.Dataset(x, y)], callbacks=[nb_lightgbm.NbtrackCallback()])
        assert run.live
        run.log({"after": 1.0})
    assert [r.name for r in nbtrack.runs()] == ["mine"]
    mine = nbtrack.get_run("mine")
    assert mine.params["note"] == "by hand" and mine.params["num_leaves"] == 3
    assert {"train-rmse", "valid_0-l2", "after"} <= set(mine.metric_keys())


# -- LightGBM --------------------------------------------------------------------------------------

def test_lightgbm_train_records_every_eval_result_params_and_importance(workspace: Path) -> None:
    x, y = data()
    train = lgb.Dataset(x[:150], y[:150])
    valid = lgb.Dataset(x[150:], y[150:], reference=train)
    reported: dict[str, Any] = {}
    params = {"objective": "binary", "metric": ["binary_logloss", "auc"],
              "learning_rate": 0.2, "num_leaves": 7, "verbose": -1}
    booster = lgb.train(params, train, 6, valid_sets=[train, valid],
                        valid_names=["train", "valid"],
                        callbacks=[nb_lightgbm.NbtrackCallback("lgb"),
                                   lgb.record_evaluation(reported)])
    run = nbtrack.get_run("lgb")
    assert run.status == "finished"
    assert_same_curves(run, {f"{d}-{m}": v for d, ms in reported.items() for m, v in ms.items()})
    assert run.params == booster.params
    assert importance(run) == dict(zip(booster.feature_name(),
                                       booster.feature_importance().tolist()))


def test_lightgbm_scikit_learn_api_and_cross_validation(workspace: Path) -> None:
    x, y = data()
    model = lgb.LGBMClassifier(n_estimators=5, num_leaves=5, verbose=-1)
    model.fit(x[:150], y[:150], eval_X=x[150:], eval_y=y[150:],
              callbacks=[nb_lightgbm.NbtrackCallback("sk")])
    run = nbtrack.get_run("sk")
    assert run.status == "finished"
    assert_same_curves(run, {f"{d}-{m}": v for d, ms in model.evals_result_.items()
                             for m, v in ms.items()})
    assert run.params == model.booster_.params and run.params["num_leaves"] == 5

    results = lgb.cv({"objective": "binary", "verbose": -1, "num_leaves": 3},
                     lgb.Dataset(x, y), 4, nfold=3, seed=0,
                     callbacks=[nb_lightgbm.NbtrackCallback("cv")])
    run = nbtrack.get_run("cv")
    assert run.status == "finished"
    assert_same_curves(run, {key.replace("valid ", "valid-"): values
                             for key, values in results.items()})


def test_lightgbm_early_stopping_keeps_the_run_open_until_end(workspace: Path) -> None:
    x, y = data(seed=3)
    train = lgb.Dataset(x[:150], y[:150])
    valid = lgb.Dataset(x[150:], y[150:], reference=train)
    reported: dict[str, Any] = {}
    callback = nb_lightgbm.NbtrackCallback("early")
    booster = lgb.train({"objective": "binary", "learning_rate": 1.0, "verbose": -1}, train,
                        200, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(2, verbose=False), callback,
                                   lgb.record_evaluation(reported)])
    assert booster.best_iteration < 200  # it did stop early
    run = nbtrack.get_run("early")
    # LightGBM does not tell callbacks that early stopping ended the training...
    assert run.status == "running"
    callback.end()  # ...so the run ends here (or at the next training, or at exit)
    assert run.refresh()["status"] == "finished"
    assert_same_curves(run, {"valid_0-binary_logloss": reported["valid_0"]["binary_logloss"]})
    assert set(importance(run)) == set(booster.feature_name())


# -- Keras -----------------------------------------------------------------------------------------

def tiny_model(lr: float = 0.01) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.slow
def test_keras_fit_records_epoch_and_batch_metrics_and_the_optimizer(workspace: Path) -> None:
    x, y = data(64)
    model = tiny_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[nb_keras.NbtrackCallback(log_freq=2, name="keras")])
    run = nbtrack.get_run("keras")
    assert run.status == "finished"
    hist = run.history()
    epoch_keys = {k for k in hist if not k.startswith("batch/")}
    assert epoch_keys == set(history.history)
    for key, values in history.history.items():
        assert hist.steps(key) == history.epoch
        assert hist.values(key) == pytest.approx(values, rel=1e-6)
    batches = 3 * math.ceil(48 / 16)
    assert set(hist) - epoch_keys == {"batch/loss", "batch/accuracy"}
    assert hist.steps("batch/loss") == list(range(0, batches, 2))
    config = model.optimizer.get_config()
    assert run.params == {"optimizer": config.pop("name"),
                          **{f"optimizer/{k}": v for k, v in config.items()}}


@pytest.mark.slow
def test_keras_without_log_freq_leaves_batches_to_keras(workspace: Path) -> None:
    from keras.src.utils.python_utils import is_default

    callback = nb_keras.NbtrackCallback()
    assert isinstance(callback, keras.callbacks.Callback)
    assert is_default(callback.on_train_batch_end)  # Keras may dispatch batch hooks async
    x, y = data(32)
    with nbtrack.init(name="outer") as run:
        tiny_model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[callback])
        assert run.live
    assert set(nbtrack.get_run("outer").history()) == {"loss", "accuracy"}
    with pytest.raises(ValueError, match="log_freq"):
        nb_keras.NbtrackCallback(log_freq=0)


@pytest.mark.slow
def test_keras_log_model_logs_a_model_that_loads_with_the_same_predictions(
        workspace: Path) -> None:
    x, y = data(32)
    model = tiny_model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[nb_keras.NbtrackCallback(name="keras", log_model=True,
                                                  input_example=x[:3])])
    run = nbtrack.get_run("keras")
    assert run.status == "finished"
    version = nbtrack.use_artifact(f"{model.name}:latest")
    assert (version.type, version.run, version.version) == ("model", run.number, "v0")
    loaded = nbtrack.load_model(f"{model.name}:v0")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x, verbose=0))
    assert loaded.signature is not None

    with nbtrack.init(name="outer") as outer:  # into the active run, under a name given
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[nb_keras.NbtrackCallback(log_model=True, model_name="clf")])
        assert outer.live
    assert nbtrack.use_artifact("clf:v0").run == outer.number


# -- In a notebook: points carry the cell that called fit ------------------------------------------

@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    ip.run_line_magic("unload_ext", "nbtrack")


FIT_CELLS = {
    "xgboost": ("from nbtrack.integrations.xgboost import NbtrackCallback\n"
                "d = xgb.DMatrix(x, y)\n"
                "xgb.train({}, d, 3, evals=[(d, 'train')], verbose_eval=False,\n"
                "          callbacks=[NbtrackCallback('fit-xgboost')])"),
    "lightgbm": ("from nbtrack.integrations.lightgbm import NbtrackCallback\n"
                 "d = lgb.Dataset(x, y)\n"
                 "lgb.train({'verbose': -1}, d, 3, valid_sets=[d],\n"
                 "          callbacks=[NbtrackCallback('fit-lightgbm')])"),
    "keras": ("from nbtrack.integrations.keras import NbtrackCallback\n"
              "model.fit(x, y, epochs=2, verbose=0, callbacks=[NbtrackCallback(log_freq=1,"
              " name='fit-keras')])"),
}


@pytest.mark.slow
def test_points_logged_during_fit_carry_the_cell_that_called_it(shell: InteractiveShell) -> None:
    shell.user_ns.update(xgb=xgb, lgb=lgb, model=tiny_model())
    shell.user_ns["x"], shell.user_ns["y"] = data(64)
    for framework, source in FIT_CELLS.items():
        result = shell.run_cell(source, store_history=True)
        assert result.success, result.error_in_exec
        run = nbtrack.get_run(f"fit-{framework}")
        assert run.status == "finished"
        (cell,) = [c for c in run.cells if c["source"] == source]
        history = run.history()
        for key in history:
            assert set(history[key]["cell"]) == {cell["id"]}, (framework, key)


# -- Imports ---------------------------------------------------------------------------------------

def python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_importing_an_integration_does_not_import_its_framework() -> None:
    out = python("import sys\n"
                 "import nbtrack.integrations.xgboost, nbtrack.integrations.lightgbm\n"
                 "import nbtrack.integrations.keras\n"
                 "print(sorted(m for m in ('xgboost', 'lightgbm', 'keras', 'jax', 'numpy')"
                 " if m in sys.modules))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("framework", ["xgboost", "lightgbm", "keras"])
def test_a_missing_framework_is_an_import_error_naming_it(framework: str) -> None:
    out = python(f"import sys\nsys.modules[{framework!r}] = None  # as if not installed\n"
                 f"from nbtrack.integrations.{framework} import NbtrackCallback\n"
                 "try:\n    NbtrackCallback()\nexcept ImportError as exc:\n    print(exc)\n")
    assert out.returncode == 0, out.stderr
    assert f"pip install {framework}" in out.stdout
