"""Models for the serving tests, in a module of their own so that a server subprocess can
unpickle them (it runs with ``tests/`` on its path)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["a", "b", "c", "d"]


def fit(seed: int) -> Any:
    """A real scikit-learn classifier (3 classes, 4 named features) fit on tiny data;
    different seeds give models that predict differently."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(90, 4)), columns=COLUMNS)
    y = np.repeat([0, 1, 2], 30)
    X.iloc[:, seed % 4] += y * 2.0  # which feature separates the classes depends on the seed
    return LogisticRegression(max_iter=500).fit(X, y)


def as_frame(data: Any) -> pd.DataFrame:
    """What nbtrack's LoadedModel does with a dict of columns or rows: a DataFrame."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame({k: np.asarray(v) for k, v in data.items()})
    return pd.DataFrame(np.asarray(data), columns=COLUMNS)


class Served:
    """A predictor as the model helper's LoadedModel is: ``predict(data, params=None)``,
    ``.ref``; ``params={"proba": true}`` asks for class probabilities."""

    def __init__(self, model: Any, ref: str) -> None:
        self.model = model
        self.ref = ref

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        frame = as_frame(data)
        if params and params.get("proba"):
            return self.model.predict_proba(frame)
        return self.model.predict(frame)


class Gated(Served):
    """Touches ``started`` when a prediction begins, then waits for ``release`` to exist."""

    def __init__(self, model: Any, ref: str, started: Path, release: Path) -> None:
        super().__init__(model, ref)
        self.started = started
        self.release = release

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        self.started.touch()
        deadline = time.monotonic() + 120
        while not self.release.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return super().predict(data, params)
