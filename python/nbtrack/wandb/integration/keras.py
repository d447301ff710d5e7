"""``from wandb.integration.keras import ...``: the same as :mod:`nbtrack.wandb.keras`."""

from nbtrack.wandb.keras import *  # noqa: F403
from nbtrack.wandb.keras import __all__ as __all__
