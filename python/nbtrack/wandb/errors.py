"""W&B's exception types and the warnings of ``nbtrack.wandb`` (W&B's names, so that
``except wandb.Error`` in existing code keeps working)."""

from __future__ import annotations

import threading

from nbtrack.recorder import TrackingWarning, warn


class Error(Exception):
    """Base of the errors ``nbtrack.wandb`` raises where W&B raises ``wandb.Error``."""


class UsageError(Error):
    """A call W&B rejects (``wandb.UsageError``)."""


class CommError(Error):
    """Kept for ``except wandb.CommError``; nbtrack never talks to a server."""


class ConfigError(Error):
    """A config value changed without ``allow_val_change`` (W&B's ``ConfigError``)."""


class WandbCompatWarning(TrackingWarning):
    """Something W&B does that nbtrack does not (noted once per name), or W&B's own warnings."""


_noted: set[str] = set()
_lock = threading.Lock()


def note_once(name: str, message: str) -> None:
    """Warn ``message`` the first time ``name`` comes up in this process."""
    with _lock:
        if name in _noted:
            return
        _noted.add(name)
    notice(message)


def notice(message: str) -> None:
    """Warn ``message`` (a :class:`WandbCompatWarning`), never raising."""
    import warnings

    try:
        warnings.warn(message, WandbCompatWarning, stacklevel=3)
    except Exception:  # noqa: BLE001 - under -W error, a warning must not break training
        warn(message)


__all__ = ["CommError", "ConfigError", "Error", "UsageError", "WandbCompatWarning",
           "note_once", "notice"]
