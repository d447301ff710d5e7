"""``%load_ext nbtrack`` / ``%unload_ext nbtrack``: install and remove the magics and hooks."""

from __future__ import annotations

import sys
from typing import Any

from nbtrack import session
from nbtrack.kernel.hooks import CellHooks, kernel_session
from nbtrack.kernel.magics import TrackMagics, tolerate_wandb_magic

_ATTR = "_nbtrack_hooks"


def load(shell: Any) -> None:
    """Register the magics and the cell hooks on ``shell`` (idempotent)."""
    if getattr(shell, _ATTR, None) is not None:
        return
    session.set_session_id(kernel_session())
    hooks = CellHooks(shell)
    hooks.register()
    setattr(shell, _ATTR, hooks)
    shell.register_magics(TrackMagics(shell, hooks))
    # With nbtrack.wandb imported, W&B calls record locally: its %wandb replaces W&B's own.
    tolerate_wandb_magic(shell, replace="nbtrack.wandb" in sys.modules)


def unload(shell: Any) -> None:
    """Remove every hook and magic that :func:`load` installed."""
    hooks: CellHooks | None = getattr(shell, _ATTR, None)
    if hooks is None:
        return
    hooks.unregister()
    setattr(shell, _ATTR, None)
    magics = shell.magics_manager.magics
    magics["line"].pop("track", None)
    magics["cell"].pop("track", None)
    shell.magics_manager.registry.pop("TrackMagics", None)
