"""XGBoost: a native ``Booster`` or one of XGBoost's scikit-learn wrappers, saved with
XGBoost's own ``save_model`` in its binary JSON (``.ubj``) format.

The wrappers' ``save_model`` also stores what their ``predict`` needs (the estimator type,
the number of classes; XGBoost >= 2 requires classes encoded as 0..n-1, so ``classes_`` is
``arange(n_classes)``), and loading rebuilds the same class with ``load_model``: predictions
are identical and nothing is unpickled. A user subclass of a wrapper is not one of these
classes: it is pickled by the ``sklearn`` flavor instead, keeping its own behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.models.flavors.base import call_predict, own_class

#: The wrapper classes loading may instantiate (by name, from the xgboost module).
WRAPPERS = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")


class XGBoostFlavor:
    name = "xgboost"

    def detects(self, model: Any) -> bool:
        return own_class(model, "xgboost") and type(model).__name__ in ("Booster", *WRAPPERS)

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        model.save_model(str(folder / "model.ubj"))
        kind = type(model).__name__
        return {"model": "model/model.ubj", "format": "ubj", "class": kind}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        import xgboost

        kind = files.get("class", "Booster")
        if kind == "Booster":
            return xgboost.Booster(model_file=str(root / files["model"]))
        if kind not in WRAPPERS:
            raise ValueError(f"unknown XGBoost model class {kind!r}")
        model = getattr(xgboost, kind)()
        model.load_model(str(root / files["model"]))
        return model

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        if type(model).__name__ == "Booster":
            import xgboost

            return model.predict(xgboost.DMatrix(data), **(params or {}))
        return call_predict(model, "predict", data, params)

    def packages(self, model: Any) -> list[str]:
        return ["xgboost"] if type(model).__name__ == "Booster" else ["xgboost", "scikit-learn"]

    def pickled(self, files: dict[str, Any]) -> bool:
        return False  # XGBoost's own parser; the class comes from a fixed list
