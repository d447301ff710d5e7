"""scikit-learn autologging: each top-level ``fit`` of an estimator is recorded.

>>> import nbtrack
>>> nbtrack.autolog()                      # doctest: +SKIP
>>> LogisticRegression().fit(X, y)         # doctest: +SKIP   (a run: params, time, score, model)
>>> nbtrack.autolog(disable=True)          # doctest: +SKIP

:func:`enable` replaces ``fit``, ``fit_transform`` and ``fit_predict`` on the estimator
classes of :func:`sklearn.utils.all_estimators` (plus ``Pipeline``, ``GridSearchCV`` and
``RandomizedSearchCV``), as ``mlflow.sklearn.autolog`` does, minus the data-preparation
modules (preprocessing, impute, feature extraction and selection, ``ColumnTransformer``):
a scaler fitted alone is not a model. :func:`disable` puts every original back.

A fit that runs while another is being recorded (a Pipeline's steps, GridSearchCV's
clones and refit, the scorer's predictions, in this thread or any other) is part of the
outer one and is not recorded again. The wrapper calls the original with the same
arguments and returns its result; nothing of the tracking raises into ``fit`` (failures are
``TrackingWarning``\\ s) and the ``random``/``numpy.random`` states are put back after the
tracking's own work, so results and random streams are those of a run without autolog.
"""

from __future__ import annotations

import copy
import functools
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nbtrack.integrations.scope import RunScope, require
from nbtrack.recorder import warn
from nbtrack.store.values import to_jsonable

#: The training score (``estimator.score`` on the training data) is computed only when the
#: training data has at most this many rows: predicting on it costs about as much as a fit
#: for neighbours and kernel methods, so bigger sets are left to the user. Read at each fit.
TRAINING_SCORE_MAX_ROWS = 10_000

#: Longest text kept for one param value (the repr of a nested estimator, a grid...).
PARAM_MAX_CHARS = 2_000

#: The methods that train an estimator.
FIT_METHODS = ("fit", "fit_transform", "fit_predict")

#: Meta-estimators patched even where ``all_estimators()`` does not list them.
_META = (("sklearn.pipeline", "Pipeline"), ("sklearn.model_selection", "GridSearchCV"),
         ("sklearn.model_selection", "RandomizedSearchCV"))

#: Data preparation, not models: recorded only as part of a pipeline (as in MLflow).
_EXCLUDED_MODULES = ("sklearn.preprocessing", "sklearn.impute", "sklearn.feature_extraction",
                     "sklearn.feature_selection")
_EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)

_MISSING = object()


@dataclass(frozen=True)
class Options:
    """What each recorded fit logs."""

    log_models: bool = True
    log_training_score: bool = True


@dataclass
class _Patch:
    cls: type
    name: str
    before: Any  # the class's own attribute before patching, or _MISSING if it inherited it


class _State:
    options: Options | None = None
    patches: list[_Patch] = []
    busy = False  # a top-level fit is being recorded (in some thread)
    lock = threading.Lock()


_state = _State()


def enable(options: Options | None = None) -> None:
    """Patch the estimators' fit methods (or, if already done, only change ``options``)."""
    require("scikit-learn", "sklearn")
    _state.options = options or Options()
    if _state.patches:
        return
    classes = estimator_classes()
    # Resolve every original before patching anything: a class that inherits a patched
    # class's fit must wrap the original, not the wrapper.
    plans = []
    for cls in classes:
        for name in FIT_METHODS:
            raw = _static(cls, name)
            if raw is _MISSING:
                continue
            wrapped = _wrapped(raw, name)
            if wrapped is not None:
                plans.append((cls, name, wrapped))
    for cls, name, wrapped in plans:
        _state.patches.append(_Patch(cls, name, cls.__dict__.get(name, _MISSING)))
        setattr(cls, name, wrapped)


def disable() -> None:
    """Put every original method back and stop recording."""
    _state.options = None
    patches, _state.patches = _state.patches, []
    for patch in reversed(patches):
        if patch.before is _MISSING:
            if patch.name in patch.cls.__dict__:
                delattr(patch.cls, patch.name)
        else:
            setattr(patch.cls, patch.name, patch.before)


def enabled() -> bool:
    """True while the fit methods are patched."""
    return bool(_state.patches)


def estimator_classes() -> list[type]:
    """The classes :func:`enable` patches."""
    import importlib

    utils = require("scikit-learn", "sklearn.utils")
    found = {cls for _, cls in utils.all_estimators()}
    for module, name in _META:
        found.add(getattr(importlib.import_module(module), name))
    return sorted(
        (cls for cls in found
         if not cls.__module__.startswith(_EXCLUDED_MODULES)
         and f"{cls.__module__}.{cls.__qualname__}" not in _EXCLUDED_CLASSES),
        key=lambda cls: (cls.__module__, cls.__qualname__),
    )


def _static(cls: type, name: str) -> Any:
    """``cls.name`` as stored (no descriptor called), unwrapped if autolog patched it."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            raw = klass.__dict__[name]
            return getattr(raw, "__nbtrack_original__", raw)
    return _MISSING


def _wrapped(raw: Any, name: str) -> Any:
    """The replacement for the stored attribute ``raw``, or None if it is not patchable."""
    if callable(raw) and not isinstance(raw, (type, staticmethod, classmethod)) \
            and hasattr(raw, "__get__"):
        return _wrapper(raw, name)
    if hasattr(raw, "fn") and hasattr(raw, "check"):  # sklearn's available_if descriptor
        descriptor = copy.copy(raw)
        descriptor.fn = _wrapper(raw.fn, name)
        descriptor.__nbtrack_original__ = raw
        return descriptor
    return None  # a property, a staticmethod...: not a fit to record


def _wrapper(original: Callable[..., Any], method: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _state.busy or _state.options is None:
            return original(self, *args, **kwargs)
        with _state.lock:
            if _state.busy:
                claimed = False
            else:
                _state.busy = claimed = True
        if not claimed:
            return original(self, *args, **kwargs)
        try:
            return _record(original, method, self, args, kwargs)
        finally:
            _state.busy = False

    fit.__nbtrack_original__ = original  # type: ignore[attr-defined]
    return fit


def _record(original: Callable[..., Any], method: str, estimator: Any,
            args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run one top-level fit and record it."""
    options = _state.options or Options()
    scope = RunScope(type(estimator).__name__)
    saved = _random_state()
    try:
        if scope.run() is not None:
            scope.config(_params(estimator))
    except Exception as exc:  # noqa: BLE001 - tracking never breaks a fit
        warn(f"nbtrack could not record the params of {type(estimator).__name__}: {exc!r}")
    finally:
        _restore_random_state(saved)
    started = time.perf_counter()
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException as exc:
        scope.release("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        raise
    elapsed = time.perf_counter() - started
    saved = _random_state()
    try:
        _after_fit(scope, estimator, args, kwargs, elapsed, options)
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not record the fit of {type(estimator).__name__}: {exc!r}")
    finally:
        _restore_random_state(saved)
        scope.release()
    return result


def _after_fit(scope: RunScope, estimator: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any], elapsed: float, options: Options) -> None:
    run = scope.run()
    if run is None:
        return
    X, y = _data(args, kwargs)
    metrics: dict[str, Any] = {"training_time": elapsed}
    if options.log_training_score:
        score = training_score(estimator, X, y, kwargs.get("sample_weight"))
        if score is not None:
            metrics["training_score"] = score
    best_score = getattr(estimator, "best_score_", None)
    if isinstance(best_score, (int, float)) and not isinstance(best_score, bool):
        metrics["best_cv_score"] = float(best_score)
    best_params = getattr(estimator, "best_params_", None)
    if isinstance(best_params, Mapping):
        scope.config({f"best_{key}": _param_value(value) for key, value in best_params.items()})
    scope.log(metrics)
    if options.log_models and callable(getattr(estimator, "predict", None)):
        _log_model(run, estimator, X)


def training_score(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float | None:
    """``estimator.score(X, y)`` for a classifier or regressor trained with labels on at most
    :data:`TRAINING_SCORE_MAX_ROWS` rows, else None (a failure warns and gives None)."""
    base = require("scikit-learn", "sklearn.base")
    if y is None or X is None or not (base.is_classifier(estimator)
                                      or base.is_regressor(estimator)):
        return None
    rows = _rows(X)
    if rows is None or rows > TRAINING_SCORE_MAX_ROWS:
        return None
    try:
        if sample_weight is not None:
            value = estimator.score(X, y, sample_weight=sample_weight)
        else:
            value = estimator.score(X, y)
        return float(value)
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not compute the training score: {exc!r}")
        return None


def _log_model(run: Any, estimator: Any, X: Any) -> None:
    name = type(estimator).__name__
    example = _head(X)
    try:
        run.log_model(estimator, name, input_example=example)
        return
    except Exception as exc:  # noqa: BLE001
        if example is None:
            warn(f"nbtrack could not log the model {name}: {exc!r}")
            return
    try:  # the example may be what failed (a sparse matrix...): log the model without it
        run.log_model(estimator, name)
    except Exception as exc:  # noqa: BLE001
        warn(f"nbtrack could not log the model {name}: {exc!r}")


def _params(estimator: Any) -> dict[str, Any]:
    """``get_params(deep=True)`` (flat already: ``step__param``), values as JSON data."""
    return {str(key): _param_value(value)
            for key, value in estimator.get_params(deep=True).items()}


def _param_value(value: Any) -> Any:
    """A JSON-able param value: numbers, strings, None, lists and dicts as they are, numpy
    scalars as numbers, anything else (a nested estimator, a function) as its repr."""
    value = to_jsonable(value)
    if isinstance(value, str) and len(value) > PARAM_MAX_CHARS:
        return value[:PARAM_MAX_CHARS - 3] + "..."
    return value


def _data(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """``(X, y)`` from a fit call's arguments (``fit(X, y=None, **params)``)."""
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y


def _rows(X: Any) -> int | None:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        return None


def _head(X: Any, rows: int = 5) -> Any:
    """The first ``rows`` rows of ``X`` (a DataFrame by position), or None."""
    if X is None:
        return None
    try:
        iloc = getattr(X, "iloc", None)
        return iloc[:rows] if iloc is not None else X[:rows]
    except Exception:  # noqa: BLE001 - no example then
        return None


def _random_state() -> tuple[Any, Any]:
    numpy = sys.modules.get("numpy")
    return random.getstate(), (numpy.random.get_state() if numpy is not None else None)


def _restore_random_state(saved: tuple[Any, Any]) -> None:
    python_state, numpy_state = saved
    random.setstate(python_state)
    if numpy_state is not None:
        sys.modules["numpy"].random.set_state(numpy_state)


__all__ = ["FIT_METHODS", "Options", "TRAINING_SCORE_MAX_ROWS", "disable", "enable", "enabled",
           "estimator_classes", "training_score"]
