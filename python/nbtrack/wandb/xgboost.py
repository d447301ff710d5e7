"""``wandb.xgboost.WandbCallback`` / ``wandb_callback`` (W&B's ``wandb.integration.xgboost``).

An ``xgboost.callback.TrainingCallback`` (the class of :mod:`nbtrack.integrations.xgboost`,
made when first constructed) logging what W&B's does through the active ``nbtrack.wandb``
run: the booster's params as config (flattened as nbtrack's XGBoost callback records them),
``<data>-<metric>`` per iteration with ``epoch`` (one row each), a ``define_metric`` summary of
``min`` for losses and errors and ``max`` for scores, the feature importance as a table
``Feature Importance`` (W&B draws a bar chart from the same table), ``best_score`` and
``best_iteration`` with early stopping, and with ``log_model=True`` the booster as a
``model`` artifact.
"""

from __future__ import annotations

from typing import Any

from nbtrack.integrations.xgboost import NbtrackCallback, booster_params
from nbtrack.wandb._frameworks import active, summary_op
from nbtrack.wandb.errors import notice

MINIMIZE_METRICS = ("rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "error@t",
                    "merror")
MAXIMIZE_METRICS = ("auc", "aucpr", "ndcg", "map", "ndcg@n", "map@n")


class WandbCallback(NbtrackCallback):
    """``WandbCallback(log_model=False, log_feature_importance=True, importance_type="gain",
    define_metric=True)``."""

    def __init__(self, log_model: bool = False, log_feature_importance: bool = True,
                 importance_type: str = "gain", define_metric: bool = True) -> None:
        super().__init__(importance_type=importance_type,
                         log_feature_importance=log_feature_importance)
        self.log_model = log_model
        self.define_metric = define_metric
        active("WandbCallback")

    def __deepcopy__(self, memo: dict[int, Any]) -> WandbCallback:
        return type(self)(self.log_model, self.log_feature_importance, self.importance_type,
                          self.define_metric)

    def before_training(self, model: Any) -> Any:
        run = active("WandbCallback")
        try:
            run.config.update(booster_params(model), allow_val_change=True)
        except Exception as exc:  # noqa: BLE001 - tracking never breaks training
            notice(f"nbtrack.wandb could not record the booster's params: {exc!r}")
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        run = active("WandbCallback")
        for data, metrics in evals_log.items():
            for metric_name, history in metrics.items():
                key = f"{data}-{metric_name}"
                if self.define_metric:
                    op = summary_op(metric_name, MINIMIZE_METRICS, MAXIMIZE_METRICS)
                    if op is not None:
                        run.define_metric(key, summary=op)
                last = history[-1]
                run.log({key: last[0] if isinstance(last, tuple) else last}, commit=False)
        run.log({"epoch": epoch})
        self.define_metric = False
        return False

    def after_training(self, model: Any) -> Any:
        from nbtrack.wandb.data_types import Table

        run = active("WandbCallback")
        if self.log_model:
            from pathlib import Path

            from nbtrack.wandb.artifacts import Artifact

            name = f"{run.id}_model.json"
            path = Path(run.dir) / name
            model.save_model(str(path))
            artifact = Artifact(name=name, type="model")
            artifact.add_file(str(path))
            run.log_artifact(artifact)
        if self.log_feature_importance:
            scores = model.get_score(importance_type=self.importance_type)
            table = Table(data=[[k, v] for k, v in scores.items()],
                          columns=["Feature", "Importance"])
            run.log({"Feature Importance": table})
        if model.attr("best_score") is not None:
            run.log({"best_score": float(model.attr("best_score")),
                     "best_iteration": int(model.attr("best_iteration"))})
        return model


def wandb_callback() -> Any:
    """W&B's old-style XGBoost callback (a function of ``env``, for XGBoost versions that
    still call such callbacks)."""

    def callback(env: Any) -> None:
        run = active("wandb_callback")
        for key, value in env.evaluation_result_list:
            run.log({key: value}, commit=False)
        run.log({})

    return callback


__all__ = ["MAXIMIZE_METRICS", "MINIMIZE_METRICS", "WandbCallback", "wandb_callback"]
