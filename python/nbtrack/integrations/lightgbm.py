"""LightGBM: a callback recording each evaluation result per iteration, the params and the
feature importance.

>>> from nbtrack.integrations.lightgbm import NbtrackCallback
>>> booster = lgb.train(params, train, 100, valid_sets=[valid],
...                     callbacks=[NbtrackCallback()])  # doctest: +SKIP
>>> model = lgb.LGBMClassifier().fit(X, y, eval_set=[(Xv, yv)],
...                                   callbacks=[NbtrackCallback()])  # doctest: +SKIP

LightGBM calls a callback with a ``CallbackEnv`` after each iteration (``order`` sorts the
callbacks; this one runs with ``record_evaluation``'s order, before early stopping, so it sees
the iteration early stopping ends on). lightgbm is imported when the callback is made.
"""

from __future__ import annotations

import atexit
import weakref
from typing import Any

from nbtrack.integrations.scope import RunScope, require
from nbtrack.integrations.xgboost import importance_table
from nbtrack.recorder import warn


class NbtrackCallback:
    """Record a LightGBM training (``lgb.train``, ``lgb.cv`` or the scikit-learn API).

    At the first iteration, the params LightGBM trains with become the run's params; after
    each iteration, each evaluation result is logged as ``<data>-<metric>`` (``valid_0-auc``;
    with ``lgb.cv`` ``<data>-<metric>-mean`` and ``-stdv``, as ``record_evaluation`` names
    them) at step = the iteration; after the last iteration, the feature importance is logged
    as a table (``feature_importance``) unless ``log_feature_importance=False``.

    Logs into the active run (left open) if there is one, else starts a run named ``name``
    and finishes it when training ends. LightGBM does not tell callbacks when early stopping
    ends a training: a run this callback started is then finished (and the importance of the
    model logged) when the callback is next used, or when the process exits.

    Parameters
    ----------
    name : the run's name when the callback starts one.
    importance_type : what ``Booster.feature_importance`` measures (``split`` or ``gain``).
    log_feature_importance : log the feature importance table at the end.
    """

    #: Where LightGBM puts this callback among others: after the iteration, with
    #: ``record_evaluation`` (20), before ``early_stopping`` (30).
    order = 20
    before_iteration = False

    def __init__(self, name: str | None = None, *, importance_type: str = "split",
                 log_feature_importance: bool = True) -> None:
        require("lightgbm")
        self.name = name
        self.importance_type = importance_type
        self.log_feature_importance = log_feature_importance
        self._scope = RunScope(name)
        self._model: Any = None
        self._last = -1
        self._exit_hook: Any = None

    def __deepcopy__(self, memo: dict[int, Any]) -> NbtrackCallback:
        # scikit-learn's clone() deep-copies estimator params: a copy starts afresh.
        return type(self)(self.name, importance_type=self.importance_type,
                          log_feature_importance=self.log_feature_importance)

    def __call__(self, env: Any) -> None:
        if env.iteration == env.begin_iteration or self._model is None:
            self._start(env)
        data: dict[str, Any] = {}
        for item in env.evaluation_result_list or ():
            _add(data, item)
        if data:
            self._scope.log(data, step=env.iteration)
        self._last = env.iteration
        if env.iteration >= env.end_iteration - 1:
            self.end()

    def _start(self, env: Any) -> None:
        if self._model is not None:
            self.end()  # an earlier training stopped early: close it now
        scope = self._scope
        scope.release()
        self._model = env.model
        self._last = -1
        if self._exit_hook is None:
            # Runs before the session's own exit hook (registered earlier; atexit is LIFO).
            ref = weakref.ref(self)
            self._exit_hook = _at_exit(ref)
        scope.config(dict(env.params))

    def end(self) -> None:
        """Log the feature importance of the model trained last and finish the run this
        callback started (done after the last iteration; call it after a training that
        early stopping ended, or let the next training or the process exit do it)."""
        model, self._model = self._model, None
        if model is None:
            return
        if self.log_feature_importance and not hasattr(model, "boosters"):  # not lgb.cv
            try:
                scores = dict(zip(model.feature_name(),
                                  model.feature_importance(importance_type=self.importance_type)))
            except Exception as exc:  # noqa: BLE001
                warn(f"nbtrack could not read the feature importance: {exc!r}")
            else:
                self._scope.log({"feature_importance": importance_table(scores)},
                                step=max(self._last, 0))
        self._scope.release()


def _add(data: dict[str, Any], item: Any) -> None:
    """One evaluation result into ``data`` (LightGBM 4.6+ ``EvalResult``, or older tuples)."""
    name = getattr(item, "dataset_name", None)
    if name is not None:
        metric, value = item.metric_name, item.metric_value
        std = item.metric_std_dev if item.is_cv_result() else None
    elif len(item) == 4:  # train(): (data, metric, value, higher is better)
        name, metric, value = item[0], item[1], item[2]
        std = None
    else:  # cv(): ("cv_agg", "<data> <metric>", mean, higher is better, std)
        name, _, metric = str(item[1]).partition(" ")
        value, std = item[2], item[4]
    if std is None:
        data[f"{name}-{metric}"] = value
    else:
        data[f"{name}-{metric}-mean"] = value
        data[f"{name}-{metric}-stdv"] = std


def _at_exit(ref: weakref.ref[NbtrackCallback]) -> Any:
    def hook() -> None:
        callback = ref()
        if callback is not None:
            try:
                callback.end()
            except Exception:  # noqa: BLE001 - exiting
                pass

    atexit.register(hook)
    return hook


__all__ = ["NbtrackCallback"]
