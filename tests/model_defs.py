"""Models the model tests log: importable in a fresh process (tests/ is on its path)."""

from __future__ import annotations

from typing import Any


def build_net() -> Any:
    """The untrained network of the PyTorch tests (the ``rebuild`` function)."""
    import torch

    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


class Thresholds:
    """A plain Python model: any object with ``predict``."""

    def __init__(self, cut: float) -> None:
        self.cut = cut

    def predict(self, data: Any) -> Any:
        import numpy as np

        return (np.asarray(data, dtype=float).sum(axis=1) > self.cut).astype(int)


class NoPredict:
    """Not a model."""
