"""LightGBM: a native ``Booster`` as LightGBM's text model (``save_model``); a scikit-learn
wrapper (``LGBMClassifier``, ``LGBMRegressor``...) pickled, with its booster's text beside.

Why the wrapper is pickled: its ``predict`` maps the booster's scores to the fitted labels
(``classes_`` through its label encoder, which may hold strings) and applies the objective's
transform; none of that is in the booster's text, and LightGBM documents no way to rebuild a
fitted wrapper from it. The pickle (LightGBM pickles the booster as its model string) is the
format that guarantees ``predict`` identical to the original wrapper. ``model/model.txt`` is
the same booster in LightGBM's text format, for use elsewhere (``lightgbm.Booster``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.models.flavors.base import call_predict, dump_pickle, load_pickle, own_class


class LightGBMFlavor:
    name = "lightgbm"

    def detects(self, model: Any) -> bool:
        if not own_class(model, "lightgbm"):
            return False
        return type(model).__name__ == "Booster" or callable(getattr(model, "predict", None))

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        if type(model).__name__ == "Booster":
            model.save_model(str(folder / "model.txt"))
            return {"model": "model/model.txt", "format": "text", "class": "Booster"}
        model.booster_.save_model(str(folder / "model.txt"))
        dump_pickle(model, folder / "model.pkl")
        return {"model": "model/model.pkl", "booster": "model/model.txt", "format": "pickle",
                "class": type(model).__name__}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        if files.get("format") == "text":
            import lightgbm

            return lightgbm.Booster(model_file=str(root / files["model"]))
        return load_pickle(root / files["model"])

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        return call_predict(model, "predict", data, params)

    def packages(self, model: Any) -> list[str]:
        return ["lightgbm"] if type(model).__name__ == "Booster" else ["lightgbm", "scikit-learn"]

    def pickled(self, files: dict[str, Any]) -> bool:
        return files.get("format") != "text"
