"""The model flavors, in detection order (the first that recognises a model saves it).

Specific formats come before the general ones: XGBoost's and LightGBM's scikit-learn
wrappers are also scikit-learn estimators, a TorchScript module is also an ``nn.Module``,
a Keras model on the torch backend is also an ``nn.Module``, and anything with
``predict`` is a ``python`` model.
"""

from __future__ import annotations

from typing import Any

from nbtrack.models.flavors.base import Flavor
from nbtrack.models.flavors.keras import KerasFlavor
from nbtrack.models.flavors.lightgbm import LightGBMFlavor
from nbtrack.models.flavors.python import PythonFlavor
from nbtrack.models.flavors.pytorch import PyTorchFlavor
from nbtrack.models.flavors.sklearn import SklearnFlavor
from nbtrack.models.flavors.torchscript import TorchScriptFlavor
from nbtrack.models.flavors.xgboost import XGBoostFlavor

#: Detection order.
FLAVORS: tuple[Flavor, ...] = (
    XGBoostFlavor(), LightGBMFlavor(), SklearnFlavor(), KerasFlavor(), TorchScriptFlavor(),
    PyTorchFlavor(), PythonFlavor(),
)
NAMES = tuple(f.name for f in FLAVORS)


def get(name: str) -> Flavor:
    """The flavor called ``name``; a ValueError listing the flavors otherwise."""
    for flavor in FLAVORS:
        if flavor.name == name:
            return flavor
    raise ValueError(f"unknown model flavor {name!r}: use one of {', '.join(NAMES)}")


def detect(model: Any) -> Flavor:
    """The first flavor that recognises ``model``; a TypeError when none does."""
    for flavor in FLAVORS:
        if flavor.detects(model):
            return flavor
    raise TypeError(
        f"cannot log {type(model).__name__} as a model: nbtrack saves scikit-learn, XGBoost,"
        " LightGBM, PyTorch, TorchScript and Keras models, and any object with a predict()"
        " method")


__all__ = ["FLAVORS", "NAMES", "Flavor", "detect", "get"]
