"""The run an integration logs into: the active run (left open), else one it starts (and
finishes). Tracking failures become warnings, never exceptions in the user's training loop."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, ClassVar

from nbtrack import session
from nbtrack.recorder import warn
from nbtrack.run import Run


class RunScope:
    """Where an integration's values go.

    :meth:`run` returns the run to log into: the one this scope holds while it is live, else
    the active run (borrowed: never finished here), else a run started here with ``name``
    (owned: :meth:`release` finishes it). Every method warns instead of raising.
    """

    __slots__ = ("name", "owned", "current")

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.owned = False
        self.current: Run | None = None

    def run(self) -> Run | None:
        """The run to log into, or None (with a warning) if none could be started."""
        current = self.current
        if current is not None and current.live:
            return current
        active = session.active_run()
        if active is not None and active.live:
            self.current, self.owned = active, False
            return active
        try:
            self.current, self.owned = session.init(name=self.name), True
        except Exception as exc:  # noqa: BLE001 - tracking never breaks training
            warn(f"nbtrack could not start a run: {exc!r}")
            self.current, self.owned = None, False
        return self.current

    def log(self, data: Mapping[str, Any], step: int | None = None, *,
            check: bool = False) -> None:
        """``run.log(data, step)``, warning on failure; with ``check``, a value ``log()``
        rejects (``TypeError``/``ValueError``) raises instead: the caller's argument was bad."""
        run = self.current
        if run is None or not run.live:
            run = self.run()
            if run is None:
                return
        try:
            run.log(data, step)
        except (TypeError, ValueError) as exc:
            if check:
                raise
            warn(f"nbtrack could not log {sorted(data)}: {exc!r}")
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not log {sorted(data)}: {exc!r}")

    def config(self, params: Mapping[str, Any]) -> None:
        """Store ``params`` as the run's params, warning on failure."""
        if not params:
            return
        run = self.run()
        if run is None:
            return
        try:
            run.config.update(params)
        except Exception as exc:  # noqa: BLE001
            warn(f"nbtrack could not record params: {exc!r}")

    def flush(self) -> None:
        """Write what the run has queued so far."""
        run = self.current
        if run is not None and run.live:
            try:
                run.recorder.flush()
            except Exception as exc:  # noqa: BLE001
                warn(f"nbtrack could not flush: {exc!r}")

    def release(self, status: str = "finished") -> None:
        """Finish the run if this scope started it; forget it either way."""
        run, owned = self.current, self.owned
        self.current, self.owned = None, False
        if run is not None and owned and run.live:
            try:
                run.finish(status)
            except Exception as exc:  # noqa: BLE001
                warn(f"nbtrack could not finish run {run.number}: {exc!r}")


class LazySubclass:
    """A class that becomes a subclass of a framework's base class when first instantiated.

    ``Callback(...)`` returns an instance of ``type(name, (Callback, framework_base), {})``,
    made on the first call, so importing the module that defines ``Callback`` imports nothing
    of the framework, and ``isinstance(cb, framework_base)`` holds for what the framework sees.
    Subclasses name the framework's distribution (``_package``) and its base class
    (``_base``: ``"module:Name"``).
    """

    _package: ClassVar[str] = ""
    _base: ClassVar[str] = ""
    _concrete: ClassVar[bool] = False
    _made: ClassVar[dict[type, type]] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls._concrete:
            return object.__new__(cls)
        made = LazySubclass._made.get(cls)
        if made is None:
            made = LazySubclass._made[cls] = type(
                cls.__name__, (cls, framework_class(cls._package, cls._base)),
                {"_concrete": True, "__module__": cls.__module__,
                 "__qualname__": cls.__qualname__, "__doc__": cls.__doc__},
            )
        return object.__new__(made)


def framework_class(package: str, spec: str) -> type:
    """The class ``spec`` (``"module:Name"``), or an ImportError naming ``package``."""
    module_name, _, name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"this nbtrack integration needs {package}: pip install {package} ({exc})"
        ) from exc
    base: type = getattr(module, name)
    return base


def require(package: str, module: str | None = None) -> Any:
    """Import ``module`` (default: ``package``), or raise an ImportError naming ``package``."""
    try:
        return importlib.import_module(module or package)
    except ImportError as exc:
        raise ImportError(
            f"this nbtrack integration needs {package}: pip install {package} ({exc})"
        ) from exc
