"""Search spaces: nbtrack's distributions, W&B sweep configurations, and what Optuna makes of
them (the sampler, the pruner, the metric and its goal).

>>> space = {"lr": loguniform(1e-4, 1e-1), "depth": intrange(2, 8), "opt": choice("adam", "sgd")}
>>> plan = resolve(space, method="tpe", metric="val/loss", goal="min", pruner="median")

A W&B sweep configuration (``{"method": "bayes", "metric": {...}, "parameters": {...},
"early_terminate": {"type": "hyperband", ...}}``) is translated to the same plan; its metric,
method and early termination win over the function's defaults. Every spec can be written to
JSON (:func:`to_spec`, kept with the study) and read back (:func:`from_spec`), so a worker on
another machine samples the same space. optuna is imported only by the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Choice", "Constant", "Distribution", "IntRange", "Plan", "Uniform", "choice", "constant",
    "from_spec", "intrange", "loguniform", "resolve", "suggest", "to_spec", "uniform",
]

#: Search methods by name (``"bayes"`` is W&B's name for model-based search: TPE here).
METHODS = ("tpe", "bayes", "random", "grid", "cmaes", "gp", "qmc")
PRUNERS = ("median", "hyperband", "successive_halving", "none")
_GOALS = {"min": "minimize", "minimize": "minimize", "max": "maximize", "maximize": "maximize"}


# -- distributions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Uniform:
    """A float in ``[low, high]`` (on a log scale with ``log``; on a grid of ``step``)."""

    low: float
    high: float
    log: bool = False
    step: float | None = None


@dataclass(frozen=True)
class IntRange:
    """An integer in ``[low, high]``, both included (every ``step``-th; log scale with ``log``)."""

    low: int
    high: int
    step: int = 1
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """One of ``values`` (numbers, strings, bools or None)."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class Constant:
    """Always ``value`` (a param every trial records, not searched)."""

    value: Any


Distribution = Uniform | IntRange | Choice | Constant


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def uniform(low: float, high: float, step: float | None = None) -> Uniform:
    """A float drawn uniformly from ``[low, high]`` (multiples of ``step`` from ``low``)."""
    lo, hi = _number("low", low), _number("high", high)
    if lo > hi:
        raise ValueError(f"uniform({low!r}, {high!r}): low is above high")
    if step is not None and _number("step", step) <= 0:
        raise ValueError(f"uniform step must be positive, not {step!r}")
    return Uniform(lo, hi, False, None if step is None else float(step))


def loguniform(low: float, high: float) -> Uniform:
    """A float whose logarithm is uniform in ``[log(low), log(high)]`` (learning rates)."""
    lo, hi = _number("low", low), _number("high", high)
    if not 0 < lo <= hi:
        raise ValueError(f"loguniform({low!r}, {high!r}) needs 0 < low <= high")
    return Uniform(lo, hi, True)


def intrange(low: int, high: int, step: int = 1, log: bool = False) -> IntRange:
    """An integer in ``[low, high]``, both included."""
    for label, value in (("low", low), ("high", high), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, bool) or not (isinstance(value, float)
                                               and value.is_integer()):
                raise ValueError(f"intrange {label} must be an integer, not {value!r}")
    lo, hi, st = int(low), int(high), int(step)
    if lo > hi or st < 1:
        raise ValueError(f"intrange({low!r}, {high!r}, step={step!r}) needs low <= high and "
                         "step >= 1")
    if log and (lo < 1 or st != 1):
        raise ValueError("intrange(..., log=True) needs low >= 1 and step 1")
    return IntRange(lo, hi, st, bool(log))


def choice(*values: Any) -> Choice:
    """One of ``values``: ``choice("adam", "sgd")`` or ``choice(["adam", "sgd"])``."""
    if len(values) == 1 and isinstance(values[0], (list, tuple)):
        values = tuple(values[0])
    if not values:
        raise ValueError("choice() needs at least one value")
    for value in values:
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"choice values must be numbers, strings, bools or None, not "
                             f"{value!r}")
    return Choice(tuple(values))


def constant(value: Any) -> Constant:
    """A fixed param: recorded on every trial, never searched."""
    return Constant(value)


# -- JSON specs (kept in the study, so any worker samples the same space) -------------------

def to_spec(dist: Distribution) -> dict[str, Any]:
    """``dist`` as a JSON-able dict (``{"type": "uniform", "low": ..., ...}``)."""
    if isinstance(dist, Uniform):
        return {"type": "uniform", "low": dist.low, "high": dist.high, "log": dist.log,
                "step": dist.step}
    if isinstance(dist, IntRange):
        return {"type": "intrange", "low": dist.low, "high": dist.high, "step": dist.step,
                "log": dist.log}
    if isinstance(dist, Choice):
        return {"type": "choice", "values": list(dist.values)}
    return {"type": "constant", "value": dist.value}


def from_spec(spec: Mapping[str, Any]) -> Distribution:
    """The distribution :func:`to_spec` wrote."""
    kind = spec.get("type")
    if kind == "uniform":
        return Uniform(float(spec["low"]), float(spec["high"]), bool(spec.get("log")),
                       spec.get("step"))
    if kind == "intrange":
        return IntRange(int(spec["low"]), int(spec["high"]), int(spec.get("step", 1)),
                        bool(spec.get("log")))
    if kind == "choice":
        return Choice(tuple(spec["values"]))
    if kind == "constant":
        return Constant(spec.get("value"))
    raise ValueError(f"unknown distribution spec {dict(spec)!r}")


def suggest(trial: Any, name: str, dist: Distribution) -> Any:
    """Draw ``name`` from ``dist`` for an Optuna ``trial``."""
    if isinstance(dist, Uniform):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntRange):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, Choice):
        return trial.suggest_categorical(name, list(dist.values))
    return dist.value


def grid_values(name: str, dist: Distribution) -> list[Any]:
    """Every value of ``dist`` a grid search tries (a ValueError for continuous ones)."""
    if isinstance(dist, Choice):
        return list(dist.values)
    if isinstance(dist, Constant):
        return [dist.value]
    if isinstance(dist, IntRange) and not dist.log:
        return list(range(dist.low, dist.high + 1, dist.step))
    if isinstance(dist, Uniform) and dist.step is not None and not dist.log:
        count = int(math.floor((dist.high - dist.low) / dist.step + 1e-9)) + 1
        return [dist.low + i * dist.step for i in range(count)]
    raise ValueError(f"grid search needs discrete values: {name!r} is {dist}; use choice(...), "
                     "intrange(...) or uniform(low, high, step=...)")


# -- W&B sweep configurations -----------------------------------------------------------------

def is_wandb_config(space: Any) -> bool:
    """True for a W&B sweep configuration (a dict with ``parameters``)."""
    return isinstance(space, Mapping) and isinstance(space.get("parameters"), Mapping)


def wandb_parameter(name: str, spec: Any) -> Distribution:
    """One entry of a W&B configuration's ``parameters`` as a distribution.

    Supported: ``value``, ``values``, and ``distribution`` ``constant``, ``categorical``,
    ``int_uniform``, ``uniform``, ``q_uniform``, ``log_uniform_values``, ``log_uniform`` (its
    bounds are natural logarithms), ``q_log_uniform_values`` (as ``log_uniform_values``: Optuna
    has no quantized log scale) and ``categorical_w_probabilities`` (probabilities are not
    used). Without ``distribution``: ``values`` -> categorical, integer ``min``/``max`` ->
    int_uniform, else uniform, as W&B infers them.
    """
    where = f"parameters.{name}"
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: expected a dict such as {{'values': [...]}} or "
                         f"{{'min': 0, 'max': 1}}, not {spec!r}")
    if "parameters" in spec:
        raise ValueError(f"{where}: nested parameters are not supported; flatten them")
    kind = spec.get("distribution")
    if kind is None:
        if "value" in spec:
            kind = "constant"
        elif "values" in spec:
            kind = "categorical"
        elif "min" in spec and "max" in spec:
            ints = all(isinstance(spec[k], int) and not isinstance(spec[k], bool)
                       for k in ("min", "max"))
            kind = "int_uniform" if ints else "uniform"
        else:
            raise ValueError(f"{where}: give value, values, or min and max")
    try:
        if kind == "constant":
            return Constant(spec["value"])
        if kind in ("categorical", "categorical_w_probabilities"):
            return choice(list(spec["values"]))
        if kind == "int_uniform":
            return intrange(spec["min"], spec["max"])
        if kind == "uniform":
            return uniform(spec["min"], spec["max"])
        if kind == "q_uniform":
            return uniform(spec["min"], spec["max"], step=spec.get("q", 1.0))
        if kind in ("log_uniform_values", "q_log_uniform_values"):
            return loguniform(spec["min"], spec["max"])
        if kind == "log_uniform":
            return loguniform(math.exp(spec["min"]), math.exp(spec["max"]))
    except KeyError as exc:
        raise ValueError(f"{where}: distribution {kind!r} needs {exc.args[0]!r}") from None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    raise ValueError(f"{where}: distribution {kind!r} is not supported (supported: constant, "
                     "categorical, int_uniform, uniform, q_uniform, log_uniform, "
                     "log_uniform_values, q_log_uniform_values)")


# -- the plan ---------------------------------------------------------------------------------

@dataclass
class Plan:
    """What a sweep searches and how: params, metric, goal, method and pruner.

    ``method`` and ``pruner`` are names (``"tpe"``, ``"median"``...), or Optuna objects passed
    as they are (a worker elsewhere then falls back to TPE and the median pruner).
    """

    params: dict[str, Distribution]
    metric: str
    goal: str  # "minimize" or "maximize"
    method: Any = "tpe"
    pruner: Any = "median"
    pruner_options: dict[str, Any] = field(default_factory=dict)
    run_cap: int | None = None

    @property
    def direction(self) -> str:
        return self.goal

    def grid_size(self) -> int:
        size = 1
        for name, dist in self.params.items():
            size *= len(grid_values(name, dist))
        return size

    def sampler(self, seed: int | None = None) -> Any:
        """The Optuna sampler of :attr:`method`."""
        method = self.method
        if not isinstance(method, str):
            return method
        import optuna

        samplers = optuna.samplers
        if method in ("tpe", "bayes"):
            return samplers.TPESampler(seed=seed)
        if method == "random":
            return samplers.RandomSampler(seed=seed)
        if method == "grid":
            space = {name: grid_values(name, dist) for name, dist in self.params.items()
                     if not isinstance(dist, Constant)}
            return samplers.GridSampler(space, seed=seed)
        if method == "cmaes":
            return samplers.CmaEsSampler(seed=seed)
        if method == "gp":
            return samplers.GPSampler(seed=seed)
        return samplers.QMCSampler(seed=seed)

    def make_pruner(self) -> Any:
        """The Optuna pruner of :attr:`pruner`."""
        pruner = self.pruner
        if pruner is not None and not isinstance(pruner, str):
            return pruner
        import optuna

        options = dict(self.pruner_options)
        if pruner in (None, "none"):
            return optuna.pruners.NopPruner()
        if pruner == "hyperband":
            return optuna.pruners.HyperbandPruner(**options)
        if pruner == "successive_halving":
            return optuna.pruners.SuccessiveHalvingPruner(**options)
        return optuna.pruners.MedianPruner(**options)

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON (Optuna objects by their class name only)."""
        return {
            "params": {name: to_spec(d) for name, d in self.params.items()},
            "metric": self.metric, "goal": self.goal,
            "method": self.method if isinstance(self.method, str) else None,
            "method_name": self.method if isinstance(self.method, str)
            else type(self.method).__name__,
            "pruner": self.pruner if self.pruner is None or isinstance(self.pruner, str)
            else None,
            "pruner_name": self.pruner if self.pruner is None or isinstance(self.pruner, str)
            else type(self.pruner).__name__,
            "pruner_options": self.pruner_options, "run_cap": self.run_cap,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """The plan :meth:`to_json` wrote (Optuna objects become TPE and the median pruner)."""
        return cls(
            params={name: from_spec(s) for name, s in data.get("params", {}).items()},
            metric=data["metric"], goal=data["goal"], method=data.get("method") or "tpe",
            pruner=data.get("pruner") if data.get("pruner_name") is None
            or data.get("pruner") is not None else "median",
            pruner_options=dict(data.get("pruner_options") or {}), run_cap=data.get("run_cap"),
        )


def goal_direction(goal: str) -> str:
    """``"min"``/``"minimize"`` -> ``"minimize"``, ``"max"``/``"maximize"`` -> ``"maximize"``."""
    direction = _GOALS.get(str(goal).lower())
    if direction is None:
        raise ValueError(f"goal must be 'min' or 'max', not {goal!r}")
    return direction


def _check_method(method: Any) -> Any:
    if isinstance(method, str):
        if method.lower() not in METHODS:
            raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}, or an "
                             "Optuna sampler")
        return method.lower()
    if method is None:
        return "tpe"
    import optuna

    if not isinstance(method, optuna.samplers.BaseSampler):
        raise ValueError(f"method must be a name ({', '.join(METHODS)}) or an Optuna sampler, "
                         f"not {method!r}")
    return method


def _check_pruner(pruner: Any) -> Any:
    if pruner is None or pruner is False:
        return "none"
    if isinstance(pruner, str):
        if pruner.lower() not in PRUNERS:
            raise ValueError(f"unknown pruner {pruner!r}; one of {', '.join(PRUNERS)}, None, or "
                             "an Optuna pruner")
        return pruner.lower()
    import optuna

    if not isinstance(pruner, optuna.pruners.BasePruner):
        raise ValueError(f"pruner must be a name ({', '.join(PRUNERS)}), None or an Optuna "
                         f"pruner, not {pruner!r}")
    return pruner


def _hyperband(spec: Any) -> dict[str, Any]:
    """W&B's ``early_terminate`` (``type: hyperband``, ``min_iter``/``max_iter``, ``eta``) as
    the options of Optuna's HyperbandPruner."""
    if not isinstance(spec, Mapping) or spec.get("type") != "hyperband":
        raise ValueError(f"early_terminate: only {{'type': 'hyperband', ...}} is supported, not "
                         f"{spec!r}")
    options: dict[str, Any] = {}
    if "min_iter" in spec:
        options["min_resource"] = int(spec["min_iter"])
    if "max_iter" in spec:
        options["max_resource"] = int(spec["max_iter"])
    if "eta" in spec:
        options["reduction_factor"] = int(spec["eta"])
    return options


def resolve(space: Any, *, method: Any = "tpe", metric: str = "val/loss", goal: str = "min",
            pruner: Any = "median") -> Plan:
    """The :class:`Plan` of ``space``: a dict of distributions (a plain list or tuple is a
    choice, any other plain value a constant) or a W&B sweep configuration.

    Raises
    ------
    ValueError
        An unknown method, pruner or goal, a distribution Optuna cannot sample, or a grid over
        continuous values; the message names the parameter.
    """
    if is_wandb_config(space):
        return _resolve_wandb(space, metric=metric, goal=goal, pruner=pruner)
    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty dict of distributions ({'lr': "
                         "nbtrack.loguniform(1e-4, 1e-1), ...}) or a W&B sweep configuration")
    params: dict[str, Distribution] = {}
    for name, dist in space.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"param names must be non-empty strings, not {name!r}")
        params[name] = _as_distribution(name, dist)
    plan = Plan(params, _check_metric(metric), goal_direction(goal), _check_method(method),
                _check_pruner(pruner))
    if plan.method == "grid":
        plan.grid_size()  # every param discrete, or a ValueError naming the one that is not
    return plan


def _as_distribution(name: str, dist: Any) -> Distribution:
    if isinstance(dist, (Uniform, IntRange, Choice, Constant)):
        return dist
    if isinstance(dist, (list, tuple)):
        return choice(list(dist))
    if dist is None or isinstance(dist, (bool, int, float, str)):
        return Constant(dist)
    raise ValueError(f"{name!r}: expected a distribution (nbtrack.uniform, loguniform, intrange, "
                     f"choice, constant), a list of values or a constant, not {dist!r}")


def _check_metric(metric: Any) -> str:
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"metric must be a non-empty metric key, not {metric!r}")
    return metric


def _resolve_wandb(config: Mapping[str, Any], *, metric: str, goal: str, pruner: Any) -> Plan:
    params = {name: wandb_parameter(str(name), spec)
              for name, spec in config["parameters"].items()}
    if not params:
        raise ValueError("parameters: the configuration names no parameter")
    wandb_metric = config.get("metric")
    if wandb_metric is not None:
        if not isinstance(wandb_metric, Mapping) or "name" not in wandb_metric:
            raise ValueError(f"metric: expected {{'name': ..., 'goal': 'minimize'}}, not "
                             f"{wandb_metric!r}")
        metric = wandb_metric["name"]
        goal = wandb_metric.get("goal", "minimize")
    method = config.get("method", "bayes")
    if method not in ("grid", "random", "bayes"):
        raise ValueError(f"method: {method!r} is not one of grid, random, bayes")
    pruner_name: Any = _check_pruner(pruner)
    options: dict[str, Any] = {}
    if config.get("early_terminate") is not None:
        pruner_name, options = "hyperband", _hyperband(config["early_terminate"])
    run_cap = config.get("run_cap")
    if run_cap is not None and (isinstance(run_cap, bool) or not isinstance(run_cap, int)
                                or run_cap < 1):
        raise ValueError(f"run_cap must be a positive integer, not {run_cap!r}")
    plan = Plan(params, _check_metric(metric), goal_direction(goal), method, pruner_name,
                options, run_cap)
    if method == "grid":
        plan.grid_size()
    return plan


def params_of(plan: Plan, trial: Any) -> dict[str, Any]:
    """Sample every param of ``plan`` for ``trial`` (constants included, in order)."""
    return {name: suggest(trial, name, dist) for name, dist in plan.params.items()}


def describe(dist: Distribution) -> str:
    """``loguniform(0.0001, 0.1)``: a distribution as the code that makes it."""
    if isinstance(dist, Uniform):
        if dist.log:
            return f"loguniform({dist.low:g}, {dist.high:g})"
        step = f", step={dist.step:g}" if dist.step is not None else ""
        return f"uniform({dist.low:g}, {dist.high:g}{step})"
    if isinstance(dist, IntRange):
        extra = (f", step={dist.step}" if dist.step != 1 else "") + (", log=True" if dist.log
                                                                    else "")
        return f"intrange({dist.low}, {dist.high}{extra})"
    if isinstance(dist, Choice):
        return "choice(" + ", ".join(repr(v) for v in dist.values) + ")"
    return f"constant({dist.value!r})"


def describe_space(params: Mapping[str, Distribution]) -> list[str]:
    """One ``name = loguniform(...)`` line per param."""
    return [f"{name} = {describe(dist)}" for name, dist in params.items()]
