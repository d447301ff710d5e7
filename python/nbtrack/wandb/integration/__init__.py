"""W&B's ``wandb.integration`` paths (``keras``, ``xgboost``, ``lightgbm``)."""
