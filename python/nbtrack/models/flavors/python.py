"""Any other object with a ``predict`` method: pickled. Its class must be importable where
the model is loaded (pickle stores classes by reference: module and name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.models.flavors.base import call_predict, dump_pickle, load_pickle
from nbtrack.models.packages import distribution_of


class PythonFlavor:
    name = "python"

    def detects(self, model: Any) -> bool:
        return callable(getattr(model, "predict", None))

    def save(self, model: Any, folder: Path, rebuild: Any) -> dict[str, Any]:
        dump_pickle(model, folder / "model.pkl")
        return {"model": "model/model.pkl", "format": "pickle"}

    def load(self, root: Path, files: dict[str, Any]) -> Any:
        return load_pickle(root / files["model"])

    def predict(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        return call_predict(model, "predict", data, params)

    def packages(self, model: Any) -> list[str]:
        dist = distribution_of(type(model).__module__ or "")
        return [dist] if dist else []

    def pickled(self, files: dict[str, Any]) -> bool:
        return True
