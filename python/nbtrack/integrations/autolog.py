"""``nbtrack.autolog()``: record every scikit-learn ``fit`` without changing the training code.

>>> import nbtrack
>>> nbtrack.autolog()               # doctest: +SKIP
>>> nbtrack.autolog(disable=True)   # doctest: +SKIP

The work is in :mod:`nbtrack.integrations.sklearn`; this entry point imports it (and
scikit-learn) only when called.
"""

from __future__ import annotations


def autolog(*, disable: bool = False, log_models: bool = True,
            log_training_score: bool = True) -> None:
    """Record each top-level scikit-learn ``fit`` (and ``fit_transform``/``fit_predict``).

    Each recorded fit goes to the active run if there is one (left open), else to a new run
    named after the estimator class, finished after the fit (``failed`` if the fit raised).
    It records the params (``get_params(deep=True)``; nested estimators as their repr),
    ``training_time`` (seconds), ``training_score`` (``estimator.score`` on the training
    data, for classifiers and regressors given labels on at most
    :data:`nbtrack.integrations.sklearn.TRAINING_SCORE_MAX_ROWS` rows), for searches
    ``best_cv_score`` and ``best_<param>`` params, and the fitted estimator as a model
    (``log_model(estimator, <class name>, input_example=X[:5])``). A fit inside a fit (the
    steps of a Pipeline, GridSearchCV's inner fits) is part of the outer record.

    Parameters
    ----------
    disable : put the original ``fit`` methods back and stop recording.
    log_models : log each fitted estimator that can ``predict`` as a model.
    log_training_score : compute and log ``training_score``.

    Raises
    ------
    ImportError
        scikit-learn is not installed.

    Examples
    --------
    >>> nbtrack.autolog()                                       # doctest: +SKIP
    >>> clf = LogisticRegression().fit(X, y)                    # doctest: +SKIP
    >>> nbtrack.load_model("runs:/LogisticRegression/model")    # doctest: +SKIP
    """
    from nbtrack.integrations import sklearn

    if disable:
        sklearn.disable()
        return
    sklearn.enable(sklearn.Options(log_models=log_models,
                                   log_training_score=log_training_score))


__all__ = ["autolog"]
