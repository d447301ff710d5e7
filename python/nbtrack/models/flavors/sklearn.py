"""scikit-learn estimators and pipelines: pickled (the format sklearn documents and MLflow's
``sklearn`` flavor reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.models.flavors.base import call_predict, dump_pickle, in_mro, load_pickle


class SklearnFlavor:
    name = "sklearn"

    def detects(self, model: Any) -> bool:
        return in_mro(model, "sklearn") and callable(getattr(model, "predict", None))

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        dump_pickle(model, folder / "model.pkl")
        return {"model": "model/model.pkl", "format": "pickle"}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        return load_pickle(root / files["model"])

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        return call_predict(model, "predict", data, params)

    def packages(self, model: Any) -> list[str]:
        return ["scikit-learn"]

    def pickled(self, files: dict[str, Any]) -> bool:
        return True
