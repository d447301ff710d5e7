"""``from wandb.integration.lightgbm import ...``: the same as :mod:`nbtrack.wandb.lightgbm`."""

from nbtrack.wandb.lightgbm import *  # noqa: F403
from nbtrack.wandb.lightgbm import __all__ as __all__
