"""``import nbtrack.wandb as wandb``: code written for Weights & Biases records into nbtrack.

The subset real scripts use, with W&B's semantics: ``init`` (every keyword W&B takes; those
without a local meaning are noted once), ``run``, ``config``, ``summary``, ``log`` (W&B's
step and commit rules), ``define_metric``, ``finish``, ``save``, ``watch``, the data types,
artifacts and models (into nbtrack's artifacts and model registry), and the Keras, XGBoost
and LightGBM entry points (``wandb.keras``, ``wandb.xgboost``, ``wandb.lightgbm``).
Module-level calls before ``init`` fail as W&B's do. See ``docs/wandb.md``.

>>> import nbtrack.wandb as wandb
>>> with wandb.init(project="mnist", config={"lr": 0.01}) as run:  # doctest: +SKIP
...     run.log({"loss": 0.5})
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbtrack.wandb.artifacts import Artifact
from nbtrack.wandb.config import Config, parse_config
from nbtrack.wandb.data_types import Audio, Histogram, Html, Image, Table
from nbtrack.wandb.errors import (
    CommError,
    ConfigError,
    Error,
    UsageError,
    WandbCompatWarning,
    note_once,
)
from nbtrack.wandb.run import META_TAGS, WandbRun
from nbtrack.wandb.summary import Summary

__version__ = "0.31.0+nbtrack"

#: W&B's ``wandb.init`` keywords that have no local meaning (noted once when given).
NO_LOCAL_MEANING = ("entity", "mode", "force", "save_code", "tensorboard", "sync_tensorboard",
                    "monitor_gym", "settings", "anonymous", "resume_from", "fork_from")


class _PreInit:
    """What ``wandb.config``/``wandb.summary`` are before ``init``: any use raises W&B's
    error."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getitem__(self, key: str) -> Any:
        raise Error(f"You must call wandb.init() before {self._name}[{key!r}]")

    def __setitem__(self, key: str, value: Any) -> None:
        raise Error(f"You must call wandb.init() before {self._name}[{key!r}]")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        raise Error(f"You must call wandb.init() before {self._name}.{key}")

    def __setattr__(self, key: str, value: Any) -> None:
        raise Error(f"You must call wandb.init() before {self._name}.{key}")


#: The active run (None before ``init`` and after ``finish``), as in W&B.
run: WandbRun | None = None
config: Config | _PreInit = _PreInit("wandb.config")
summary: Summary | _PreInit = _PreInit("wandb.summary")
_exit_hooked = False
#: Every run started here and not finished (the active one, and ``reinit="create_new"`` ones).
_open: list[WandbRun] = []


def _active(name: str) -> WandbRun:
    current = run
    if current is None:
        raise Error(f"You must call wandb.init() before wandb.{name}()")
    return current


def _attach(new: WandbRun) -> None:
    global run, config, summary
    run, config, summary = new, new.config, new.summary


def _detach(old: WandbRun) -> None:
    global run, config, summary
    if old in _open:
        _open.remove(old)
    if run is old:
        run, config, summary = None, _PreInit("wandb.config"), _PreInit("wandb.summary")


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _finish_at_exit() -> None:
    """Write what runs still hold; the session's own exit hook (run after this one) then
    finishes the active nbtrack run; the others (``create_new``) are finished here."""
    from nbtrack import session

    for current in list(_open):
        current._close()
        nb_run = current.nbtrack_run
        if nb_run.live and nb_run is not session.active_run():
            uncaught = session._state.uncaught
            nb_run.finish("finished" if uncaught is None else "interrupted"
                          if issubclass(uncaught, KeyboardInterrupt) else "failed")


def init(
    entity: str | None = None, project: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    id: str | None = None, name: str | None = None, notes: str | None = None,
    tags: Sequence[str] | None = None, config: Any = None,
    config_exclude_keys: list[str] | None = None, config_include_keys: list[str] | None = None,
    allow_val_change: bool | None = None, group: str | None = None,
    job_type: str | None = None, mode: str | None = None, force: bool | None = None,
    reinit: bool | str | None = None, resume: bool | str | None = None,
    resume_from: str | None = None, fork_from: str | None = None,
    save_code: bool | None = None, tensorboard: bool | None = None,
    sync_tensorboard: bool | None = None, monitor_gym: bool | None = None,
    settings: Any = None, anonymous: Any = None, **kwargs: Any,
) -> WandbRun:
    """Start a run, W&B's way, recorded as an nbtrack run; see ``docs/wandb.md``.

    ``project``, ``group``, ``job_type`` and ``id`` become tags of the nbtrack run
    (``project:<name>``...); ``config`` its params; ``name``, ``notes`` and ``tags`` its own.
    ``reinit``: in a notebook, or with ``True``/``"finish_previous"``, a running run is
    finished first; ``"create_new"`` starts a run beside it (``wandb.run`` and the module
    functions stay with the running one); otherwise the running run is returned (W&B's
    default in scripts). ``resume`` with an ``id`` continues the steps and config of the
    last run with that id in a new nbtrack run. ``dir`` is where ``run.dir`` is made
    (default: the store's folder). Keywords without a local meaning (``entity``, ``mode``,
    ...) are noted once.
    """
    import nbtrack
    from nbtrack import config as nb_config
    from nbtrack import session

    given = {"entity": entity, "mode": mode, "force": force, "save_code": save_code,
             "tensorboard": tensorboard, "sync_tensorboard": sync_tensorboard,
             "monitor_gym": monitor_gym, "settings": settings, "anonymous": anonymous,
             "resume_from": resume_from, "fork_from": fork_from, **kwargs}
    for key, value in given.items():
        if value is not None and key != "entity":
            note_once(f"init.{key}", f"nbtrack.wandb: init({key}=...) has no local meaning; "
                      "ignored")
    project = project or os.environ.get("WANDB_PROJECT")
    group = group or os.environ.get("WANDB_RUN_GROUP")
    job_type = job_type or os.environ.get("WANDB_JOB_TYPE")
    name = name or os.environ.get("WANDB_NAME")
    id = id or os.environ.get("WANDB_RUN_ID")
    notebook = _in_notebook()

    from nbtrack.wandb import sweeps as _sweeps

    if _sweeps.trial.current is not None and run is None:  # inside wandb.agent's function
        return _attach_trial(*_sweeps.trial.current, project=project, group=group,
                             job_type=job_type, entity=entity, config=config, name=name,
                             notes=notes, tags=tags)
    previous = run
    create_new = reinit == "create_new"
    if previous is not None and not create_new:
        if reinit in (True, "finish_previous") or (reinit in (None, "default") and notebook):
            previous.finish()
        elif resume == "must":
            raise Error("Cannot resume a run while another run is active. You must either "
                        "finish it using run.finish(), or use reinit='create_new' when "
                        "calling wandb.init().")
        else:
            return previous

    parsed = parse_config(config, exclude=config_exclude_keys, include=config_include_keys)
    staged = Config()
    if os.path.isfile("config-defaults.yaml"):  # W&B loads it from the working directory
        staged.update(parse_config("config-defaults.yaml"))
    staged.update(parsed, allow_val_change=True)
    start_step, resumed = 0, False
    if resume and id:
        earlier = nbtrack.runs(tag=f"wandb_id:{id}", limit=1)
        if resume == "never" and len(earlier):
            raise Error(f"resume='never' but a run with id {id!r} exists")
        if not len(earlier):
            if resume == "must":
                raise Error(f"resume='must' but no run with id {id!r} exists")
        else:
            last = earlier[0]
            note_once("init.resume", "nbtrack.wandb: a resumed run is recorded as a new "
                      "nbtrack run carrying on the steps and config of the last one with its id")
            steps = [max(s["step"]) for s in last.history().values() if s["step"]]
            start_step, resumed = (max(steps) + 1 if steps else 0), True
            staged.setdefaults(last.params)
    elif resume and not id:
        note_once("init.resume", "nbtrack.wandb: resume without an id starts a new run")

    meta = [f"{prefix}{value}" for prefix, value in zip(
        META_TAGS, (project, group, job_type, id)) if value]
    # reinit="create_new": a run of its own beside the active one, which stays wandb.run
    nb_run = session.init(name=name, config=staged.as_dict(), tags=[*(tags or ()), *meta],
                          notes=notes or "", activate=not create_new)
    ws = nb_run.workspace
    root = Path(dir).expanduser().resolve() if dir is not None else \
        nb_config.db_path(ws).parent
    new = WandbRun(nb_run, user_id=id, project=project, group=group, job_type=job_type,
                   entity=entity, root_dir=root,
                   allow_val_change=notebook if allow_val_change is None else allow_val_change,
                   start_step=start_step, resumed=resumed, on_close=_detach)
    new.config._items.update(staged._items)
    nb_run.on_finish(lambda _r: new._close())
    _open.append(new)
    if not create_new:
        _attach(new)
    global _exit_hooked
    if not _exit_hooked:  # after session.init's own hook: atexit runs this one first
        atexit.register(_finish_at_exit)
        _exit_hooked = True
    return new


def _attach_trial(sweep_id: str, params: dict[str, Any], *, project: str | None,
                  group: str | None, job_type: str | None, entity: str | None, config: Any,
                  name: str | None, notes: str | None, tags: Sequence[str] | None) -> WandbRun:
    """``wandb.init()`` inside ``wandb.agent``: a W&B run over the trial's nbtrack run, its
    config the trial's params (over what ``config=`` gives), left to the sweep to finish."""
    from nbtrack import config as nb_config
    from nbtrack import session

    nb_run = session.active_run()
    if nb_run is None:  # pragma: no cover - the sweep starts the trial's run first
        raise Error("wandb.init() in an agent found no trial run")
    if name:
        nb_run.name = name
    if notes:
        nb_run.notes = notes
    meta = [f"{prefix}{value}" for prefix, value in zip(
        META_TAGS, (project, group, job_type)) if value]
    if tags or meta:
        nb_run.tags = [*nb_run.tags, *(tags or ()), *meta]
    staged = Config()
    staged.update(parse_config(config), allow_val_change=True)
    staged.update(params, allow_val_change=True)  # the sweep's values win, as in W&B
    new = WandbRun(nb_run, project=project, group=group, job_type=job_type, entity=entity,
                   root_dir=nb_config.db_path(nb_run.workspace).parent, allow_val_change=False,
                   on_close=_detach, owns_run=False)
    new.sweep_id = sweep_id
    new.config._items.update(staged._items)
    extra = {k: v for k, v in staged.as_dict().items() if k not in params}
    if extra:
        nb_run.config.update(extra)
    _open.append(new)
    _attach(new)
    return new


def finish(exit_code: int | None = None, quiet: bool | None = None) -> None:
    """Finish the active run (nothing without one)."""
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def log(data: Any, step: int | None = None, commit: bool | None = None,
        sync: bool | None = None) -> None:
    """``wandb.log``: see :meth:`WandbRun.log`."""
    _active("log").log(data, step=step, commit=commit, sync=sync)


def define_metric(name: str, *args: Any, **kwargs: Any) -> Any:
    """``wandb.define_metric``: see :meth:`WandbRun.define_metric`."""
    return _active("define_metric").define_metric(name, *args, **kwargs)


def watch(models: Any, *args: Any, **kwargs: Any) -> None:
    """``wandb.watch``: see :meth:`WandbRun.watch`."""
    _active("watch").watch(models, *args, **kwargs)


def unwatch(models: Any = None) -> None:
    _active("unwatch").unwatch(models)


def save(glob_str: Any = None, base_path: Any = None, policy: str = "live") -> Any:
    """``wandb.save``: see :meth:`WandbRun.save`."""
    return _active("save").save(glob_str, base_path, policy)


def log_artifact(artifact_or_path: Any, *args: Any, **kwargs: Any) -> Any:
    return _active("log_artifact").log_artifact(artifact_or_path, *args, **kwargs)


def use_artifact(artifact_or_name: Any, *args: Any, **kwargs: Any) -> Any:
    return _active("use_artifact").use_artifact(artifact_or_name, *args, **kwargs)


def log_model(path: Any, *args: Any, **kwargs: Any) -> Any:
    return _active("log_model").log_model(path, *args, **kwargs)


def use_model(name: str) -> str:
    return _active("use_model").use_model(name)


def link_model(path: Any, registered_model_name: str, *args: Any, **kwargs: Any) -> Any:
    return _active("link_model").link_model(path, registered_model_name, *args, **kwargs)


def alert(*args: Any, **kwargs: Any) -> None:
    _active("alert").alert(*args, **kwargs)


def mark_preempting() -> None:
    _active("mark_preempting").mark_preempting()


def login(*args: Any, **kwargs: Any) -> bool:
    """Nothing to log in to: returns True."""
    return True


def setup(*args: Any, **kwargs: Any) -> None:
    """Nothing to set up."""


def teardown(*args: Any, **kwargs: Any) -> None:
    """Nothing to tear down."""


class SweepsNotSupportedError(Error, NotImplementedError):
    """A part of W&B sweeps nbtrack does not run (``wandb.controller``: W&B's server-side
    scheduler; ``wandb.sweep``/``wandb.agent`` run on nbtrack's own sweeps)."""


def _no_sweeps(call: str) -> SweepsNotSupportedError:
    return SweepsNotSupportedError(
        f"nbtrack.wandb: {call}() drives W&B's server-side sweep scheduler, which has no local"
        " counterpart; wandb.sweep(config) + wandb.agent(sweep_id, function=...) run the sweep"
        " on nbtrack's sweeps (Optuna)")


def sweep(sweep: Any = None, entity: str | None = None, project: str | None = None,
          prior_runs: Any = None) -> str:
    """``wandb.sweep``: keep a W&B sweep configuration and return its id; see
    :mod:`nbtrack.wandb.sweeps`."""
    from nbtrack.wandb import sweeps

    return sweeps.sweep(sweep, entity=entity, project=project, prior_runs=prior_runs)


def agent(sweep_id: str, function: Any = None, entity: str | None = None,
          project: str | None = None, count: int | None = None) -> None:
    """``wandb.agent``: run trials of a sweep, each calling ``function()``; see
    :mod:`nbtrack.wandb.sweeps`."""
    from nbtrack.wandb import sweeps

    sweeps.agent(sweep_id, function=function, entity=entity, project=project, count=count)


def controller(*args: Any, **kwargs: Any) -> None:
    raise _no_sweeps("wandb.controller")


class _Nothing:
    """What has no local meaning (the cloud ``Api``...): every attribute and call gives
    this object back and does nothing."""

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __iter__(self) -> Any:
        return iter(())

    def __bool__(self) -> bool:
        return False


def Api(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - W&B's name
    """W&B's cloud API has no local meaning: noted once; the object does nothing (read runs
    with ``nbtrack.runs()``/``nbtrack.get_run()``)."""
    note_once("Api", "nbtrack.wandb: wandb.Api() is W&B's cloud API and does nothing here; "
              "read runs with nbtrack.runs() / nbtrack.get_run()")
    return _Nothing()


class Settings(dict):  # type: ignore[type-arg]
    """``wandb.Settings(...)``: kept as a dict; nothing in it has a local meaning."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)


class AlertLevel:
    INFO, WARN, ERROR = "INFO", "WARN", "ERROR"


def termlog(string: str = "", newline: bool = True, repeat: bool = True) -> None:
    print(f"wandb: {string}", file=sys.stderr, end="\n" if newline else "")


def termwarn(string: str, newline: bool = True, repeat: bool = True) -> None:
    print(f"wandb: WARNING {string}", file=sys.stderr, end="\n" if newline else "")


def termerror(string: str, newline: bool = True, repeat: bool = True) -> None:
    print(f"wandb: ERROR {string}", file=sys.stderr, end="\n" if newline else "")


_SUBMODULES = ("keras", "xgboost", "lightgbm", "integration", "data_types")


def __getattr__(name: str) -> Any:
    """``wandb.keras``, ``wandb.xgboost``, ``wandb.lightgbm``: imported on first use."""
    if name in _SUBMODULES:
        module = importlib.import_module(f"nbtrack.wandb.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nbtrack.wandb' has no attribute {name!r} (W&B's {name} is"
                         " not part of what nbtrack.wandb supports; see docs/wandb.md)")


def _tolerate_magic() -> None:
    """In IPython, make ``%wandb`` a no-op line magic (also in place of W&B's own)."""
    if "IPython" not in sys.modules:
        return
    try:
        from nbtrack.kernel.magics import tolerate_wandb_magic

        tolerate_wandb_magic(sys.modules["IPython"].get_ipython(), replace=True)
    except Exception:  # noqa: BLE001 - a convenience, never an import error
        pass


_tolerate_magic()

__all__ = [
    "Api", "AlertLevel", "Artifact", "Audio", "CommError", "Config", "ConfigError", "Error",
    "Histogram", "Html", "Image", "NO_LOCAL_MEANING", "Settings", "Summary",
    "SweepsNotSupportedError", "Table", "UsageError", "WandbCompatWarning", "WandbRun",
    "agent", "alert", "config", "controller", "define_metric", "finish", "init",
    "link_model", "log", "log_artifact", "log_model", "login", "mark_preempting", "run",
    "save", "setup", "summary", "sweep", "teardown", "termerror", "termlog", "termwarn",
    "unwatch", "use_artifact", "use_model", "watch",
]
