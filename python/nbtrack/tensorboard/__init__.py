"""``from nbtrack.tensorboard import SummaryWriter``: TensorBoard's writer, recording into
nbtrack (see :class:`nbtrack.tensorboard.writer.SummaryWriter`). Neither torch nor
tensorboard is imported."""

from __future__ import annotations

from nbtrack.tensorboard.writer import SummaryWriter

__all__ = ["SummaryWriter"]
