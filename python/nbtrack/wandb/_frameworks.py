"""What the W&B integration entry points share: the active run they need, and W&B's
choice of summary op for an evaluation metric's name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbtrack.wandb.errors import Error

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.wandb.run import WandbRun


def active(what: str, message: str | None = None) -> WandbRun:
    """The active ``nbtrack.wandb`` run, or W&B's error naming ``what`` (or ``message``)."""
    import nbtrack.wandb as wandb

    if wandb.run is None:
        raise Error(message or f"You must call wandb.init() before {what}()")
    return wandb.run


def summary_op(metric: str, minimize: tuple[str, ...], maximize: tuple[str, ...]) -> str | None:
    """W&B's integrations: ``min`` for losses and error metrics, ``max`` for scores."""
    name = metric.lower()
    if "loss" in name or name in minimize:
        return "min"
    if name in maximize:
        return "max"
    return None
