"""``wandb.lightgbm.wandb_callback`` / ``log_summary`` (W&B's
``wandb.integration.lightgbm``), through the active ``nbtrack.wandb`` run.

``wandb_callback(log_params=True, define_metric=True)``: LightGBM's params as config at the
first iteration, each evaluation result as ``<data>_<metric>`` (``lgb.cv``:
``<data>_<metric>-mean`` and ``-stdv``) with ``iteration``, one row per iteration, and a
``min``/``max`` summary for losses/scores. ``log_summary(model)``: ``best_iteration`` and
``best_score`` in the summary, the feature importance as the table ``Feature Importance``,
and with ``save_model_checkpoint=True`` the model as a ``model`` artifact (alias ``best``).
lightgbm is imported when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbtrack.integrations.scope import require
from nbtrack.wandb._frameworks import active, summary_op
from nbtrack.wandb.errors import Error, notice

MINIMIZE_METRICS = ("l1", "l2", "rmse", "mape", "huber", "fair", "poisson", "gamma",
                    "binary_logloss")
MAXIMIZE_METRICS = ("map", "auc", "average_precision")


def _define(run: Any, key: str, metric: str) -> None:
    op = summary_op(metric, MINIMIZE_METRICS, MAXIMIZE_METRICS)
    if op is not None:
        run.define_metric(key, summary=op)


class _WandbCallback:
    """The LightGBM callback ``wandb_callback()`` returns (after ``record_evaluation``)."""

    def __init__(self, log_params: bool = True, define_metric: bool = True) -> None:
        self.order = 20
        self.before_iteration = False
        self.log_params = log_params
        self.define_metric_bool = define_metric

    def _init(self, run: Any, env: Any) -> None:
        if self.log_params:
            try:
                run.config.update(dict(env.params), allow_val_change=True)
            except Exception as exc:  # noqa: BLE001 - tracking never breaks training
                notice(f"nbtrack.wandb could not record LightGBM's params: {exc!r}")
        if self.define_metric_bool:
            for item in env.evaluation_result_list or ():
                if len(item) == 4:
                    _define(run, f"{item[0]}_{item[1]}", item[1])
                else:
                    data_name, eval_name = item[1].split()
                    _define(run, f"{data_name}_{eval_name}-mean", eval_name)
                    _define(run, f"{data_name}_{eval_name}-stdv", eval_name)

    def __call__(self, env: Any) -> None:
        run = active("wandb_callback")
        if env.iteration == env.begin_iteration:
            self._init(run, env)
        for item in env.evaluation_result_list or ():
            if len(item) == 4:
                data_name, eval_name, result = item[:3]
                run.log({f"{data_name}_{eval_name}": result}, commit=False)
            else:
                data_name, eval_name = item[1].split()
                run.log({f"{data_name}_{eval_name}-mean": item[2],
                         f"{data_name}_{eval_name}-stdv": item[4]}, commit=False)
        run.log({"iteration": env.iteration}, commit=True)


def wandb_callback(log_params: bool = True, define_metric: bool = True) -> Any:
    """A LightGBM callback logging into the active run (``callbacks=[wandb_callback()]``)."""
    require("lightgbm")
    return _WandbCallback(log_params, define_metric)


def log_summary(model: Any, feature_importance: bool = True,
                save_model_checkpoint: bool = False) -> None:
    """``best_iteration``/``best_score`` in the summary, the feature importance table, and
    optionally the model as an artifact."""
    lgb = require("lightgbm")
    run = active("WandbCallback")
    if not isinstance(model, lgb.Booster):
        raise Error("Model should be an instance of lightgbm.basic.Booster")
    run.summary["best_iteration"] = model.best_iteration
    run.summary["best_score"] = {d: dict(m) for d, m in model.best_score.items()}
    if feature_importance:
        from nbtrack.wandb.data_types import Table

        rows = [[f, float(i)] for f, i in zip(model.feature_name(), model.feature_importance())]
        run.log({"Feature Importance": Table(data=rows, columns=["Feature", "Importance"])},
                commit=False)
    if save_model_checkpoint:
        from nbtrack.wandb.artifacts import Artifact

        path = Path(run.dir) / f"model_ckpt_{model.best_iteration}.txt"
        model.save_model(str(path), num_iteration=model.best_iteration)
        artifact = Artifact(name=f"model_{run.id}", type="model")
        artifact.add_file(str(path))
        run.log_artifact(artifact, aliases=["best"])


__all__ = ["MAXIMIZE_METRICS", "MINIMIZE_METRICS", "log_summary", "wandb_callback"]
