"""Tensors in and out of PyTorch models (shared by the ``pytorch`` and ``torchscript``
flavors): inputs become CPU tensors, outputs numpy arrays; the model runs in eval mode under
``torch.no_grad()`` and gets its training mode back after."""

from __future__ import annotations

from typing import Any


def to_tensor(data: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(data, torch.Tensor):
        return data
    if hasattr(data, "to_numpy"):  # a DataFrame or Series
        data = data.to_numpy()
    return torch.as_tensor(np.asarray(data))


def to_numpy(out: Any) -> Any:
    import torch

    if isinstance(out, torch.Tensor):
        return out.detach().cpu().numpy()
    if isinstance(out, (tuple, list)):
        return type(out)(to_numpy(o) for o in out)
    if isinstance(out, dict):
        return {k: to_numpy(v) for k, v in out.items()}
    return out


def run(model: Any, data: Any, params: dict[str, Any] | None) -> Any:
    """``model(tensor, **params)`` in eval mode without gradients, as numpy."""
    import torch

    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        with torch.no_grad():
            return to_numpy(model(to_tensor(data), **(params or {})))
    finally:
        if was_training:
            model.train(True)
