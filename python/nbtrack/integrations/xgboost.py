"""XGBoost: a ``TrainingCallback`` recording each evaluation metric per iteration, the
booster's params and the feature importance.

>>> from nbtrack.integrations.xgboost import NbtrackCallback
>>> booster = xgb.train(params, dtrain, 100, evals=[(dvalid, "valid")],
...                     callbacks=[NbtrackCallback()])  # doctest: +SKIP

xgboost is imported when the callback is made, not when this module is.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

from nbtrack.integrations.scope import LazySubclass, RunScope
from nbtrack.recorder import warn


class NbtrackCallback(LazySubclass):
    """Record an XGBoost training (``xgb.train``, ``xgb.cv`` or the scikit-learn API).

    At the start, the booster's params (from ``Booster.save_config()``) become the run's
    params; after each iteration, each evaluation result is logged as ``<data>-<metric>``
    (``valid-logloss``; with ``xgb.cv`` the mean, and ``<data>-<metric>-std``) at step =
    the iteration; at the end, the feature importance is logged as a table
    (``feature_importance``: feature, importance) unless ``log_feature_importance=False``.

    Logs into the active run (left open) if there is one, else starts a run named ``name``
    and finishes it when training ends. Tracking failures are warnings, never errors.

    Parameters
    ----------
    name : the run's name when the callback starts one.
    importance_type : what ``Booster.get_score`` measures (``gain``, ``weight``, ``cover``,
        ``total_gain``, ``total_cover``).
    log_feature_importance : log the feature importance table at the end.
    """

    _package, _base = "xgboost", "xgboost.callback:TrainingCallback"

    def __init__(self, name: str | None = None, *, importance_type: str = "gain",
                 log_feature_importance: bool = True) -> None:
        super().__init__()
        self.name = name
        self.importance_type = importance_type
        self.log_feature_importance = log_feature_importance
        self._scope = RunScope(name)
        self._last = -1

    def __deepcopy__(self, memo: dict[int, Any]) -> NbtrackCallback:
        # scikit-learn's clone() deep-copies estimator params: a copy starts afresh.
        return type(self)(self.name, importance_type=self.importance_type,
                          log_feature_importance=self.log_feature_importance)

    def before_training(self, model: Any) -> Any:
        scope = self._scope
        scope.release()  # a run left from an interrupted training is not ours to reuse
        self._last = -1
        if scope.run() is not None:
            try:
                params = booster_params(_booster(model))
            except Exception as exc:  # noqa: BLE001
                warn(f"nbtrack could not read the booster's params: {exc!r}")
            else:
                scope.config(params)
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        data: dict[str, Any] = {}
        for name, metrics in evals_log.items():
            for metric, history in metrics.items():
                last = history[-1]
                if isinstance(last, tuple):  # xgb.cv: (mean, std)
                    data[f"{name}-{metric}"] = last[0]
                    data[f"{name}-{metric}-std"] = last[1]
                else:
                    data[f"{name}-{metric}"] = last
        if data:
            self._scope.log(data, step=epoch)
        self._last = epoch
        return False

    def after_training(self, model: Any) -> Any:
        scope = self._scope
        if self.log_feature_importance and hasattr(model, "get_score"):
            try:
                scores = model.get_score(importance_type=self.importance_type)
            except Exception as exc:  # noqa: BLE001
                warn(f"nbtrack could not read the feature importance: {exc!r}")
            else:
                scope.log({"feature_importance": importance_table(scores)},
                          step=max(self._last, 0))
        scope.release()
        return model


def _booster(model: Any) -> Any:
    """The booster of ``model`` (xgb.cv hands callbacks a pack of folds)."""
    if hasattr(model, "save_config"):
        return model
    return model.cvfolds[0].bst


def booster_params(booster: Any) -> dict[str, Any]:
    """The booster's params from its saved config: every ``*_param`` section's entries
    (numbers as numbers, XGBoost's float32 digits shortened) and ``eval_metric``."""
    config = json.loads(booster.save_config())
    params: dict[str, Any] = {}
    _collect(config.get("learner", config), params)
    metrics = config.get("learner", {}).get("metrics")
    if metrics:
        names = [m.get("name") for m in metrics if isinstance(m, Mapping)]
        params["eval_metric"] = names[0] if len(names) == 1 else names
    return params


def _collect(node: Any, out: dict[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, out)
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key.endswith("_param") and isinstance(value, Mapping):
            for name, text in value.items():
                if not isinstance(text, (Mapping, list)):
                    out.setdefault(name, _number(text))
        elif isinstance(value, (Mapping, list)):
            _collect(value, out)


def _number(text: Any) -> Any:
    """``"3"`` -> 3, ``"0.300000012"`` -> 0.3 (XGBoost prints float32 with 9 digits)."""
    if not isinstance(text, str):
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    digits = sum(c.isdigit() for c in text.split("e")[0].split("E")[0].lstrip("-0."))
    if digits != 9:  # not a float32 printed in full (a double has 17 digits)
        return value
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return value
    for places in range(1, 10):  # the shortest text that reads back as the same float32
        short = float(f"{value:.{places}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == single:
            return short
    return value


def importance_table(scores: Mapping[str, float]) -> Any:
    """``{feature: score}`` as an nbtrack Table, most important first."""
    from nbtrack.media.values import Table

    rows: list[list[Any]] = [[str(k), float(v)] for k, v in scores.items()]
    rows.sort(key=lambda row: -float(row[1]))
    return Table(rows=rows, columns=["feature", "importance"])


__all__ = ["NbtrackCallback", "booster_params"]
