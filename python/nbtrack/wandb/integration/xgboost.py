"""``from wandb.integration.xgboost import ...``: the same as :mod:`nbtrack.wandb.xgboost`."""

from nbtrack.wandb.xgboost import *  # noqa: F403
from nbtrack.wandb.xgboost import __all__ as __all__
