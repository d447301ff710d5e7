"""The model being served, and switching it when its alias moves.

A :class:`ModelSource` says which model is current (:meth:`~ModelSource.current_key`, cheap:
e.g. the artifact version id an alias points at) and loads one
(:meth:`~ModelSource.load`). :class:`ModelHolder` loads the current model at start; with
:meth:`ModelHolder.follow` a background thread asks for the key every few seconds and, when it
changed, loads the new model there (off the request path) and swaps it in with one reference
assignment. A request reads :attr:`ModelHolder.current` once and predicts with that model to
the end, so a swap never fails or mixes a request; a model that fails to load is logged and
the previous one keeps serving.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("nbtrack.serving")


class Predictor(Protocol):
    """Anything with ``predict(data, params=None)`` (nbtrack's ``LoadedModel``), or with
    ``predict(data)`` only (then a request's params are ignored, as MLflow does)."""

    def predict(self, data: Any, *args: Any, **kwargs: Any) -> Any: ...


class ModelSource(Protocol):
    """Where the served model comes from."""

    def current_key(self) -> str:
        """Which model is current now (cheap: called every poll)."""
        ...

    def load(self, key: str) -> Predictor:
        """Load the model ``key`` names (slow: runs off the request path)."""
        ...


@dataclass(frozen=True)
class Loaded:
    """A loaded model: its key, the predictor, a label for logs and the
    ``X-Nbtrack-Model`` header, and whether its ``predict`` takes ``params``."""

    key: str
    predictor: Predictor
    label: str
    accepts_params: bool
    loaded_at: float


def _accepts_params(predictor: Predictor) -> bool:
    try:
        parameters = inspect.signature(predictor.predict).parameters
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    return "params" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


class ModelHolder:
    """Holds the current :class:`Loaded` model of a :class:`ModelSource`."""

    def __init__(self, source: ModelSource) -> None:
        self.source = source
        self._current: Loaded | None = None
        self._refresh_lock = threading.Lock()

    @property
    def current(self) -> Loaded:
        """The model to answer the next request with."""
        current = self._current
        if current is None:
            raise RuntimeError("no model loaded yet: call ModelHolder.load() first")
        return current

    def load(self) -> Loaded:
        """Load the source's current model (at start; errors propagate)."""
        with self._refresh_lock:
            self._current = self._load(self.source.current_key())
        return self._current

    def refresh(self) -> bool:
        """Switch to the source's current model if its key changed; True when it switched.

        Errors (resolving or loading) propagate and leave the current model in place.
        """
        with self._refresh_lock:
            key = self.source.current_key()
            previous = self.current
            if key == previous.key:
                return False
            loaded = self._load(key)
            self._current = loaded  # one assignment: requests see the old or the new model
        log.info("switched from %s to %s", previous.label, loaded.label)
        return True

    def _load(self, key: str) -> Loaded:
        predictor = self.source.load(key)
        ref = getattr(predictor, "ref", None)
        label = ref if isinstance(ref, str) and ref else key
        return Loaded(key, predictor, label, _accepts_params(predictor), time.time())

    def follow(self, every: float) -> Follower:
        """Start a daemon thread calling :meth:`refresh` every ``every`` seconds."""
        follower = Follower(self, every)
        follower.start()
        return follower


class Follower(threading.Thread):
    """The background poller of :meth:`ModelHolder.follow`; :meth:`stop` ends it."""

    def __init__(self, holder: ModelHolder, every: float) -> None:
        super().__init__(name="nbtrack-serve-follow", daemon=True)
        self.holder = holder
        self.every = every
        self._stopped = threading.Event()
        self._last_error = ""

    def run(self) -> None:
        while not self._stopped.wait(self.every):
            try:
                self.holder.refresh()
                self._last_error = ""
            except Exception as exc:  # keep serving the current model, say why once
                message = f"{type(exc).__name__}: {exc}"
                if message != self._last_error:
                    log.warning("still serving %s: could not switch models (%s)",
                                self.holder.current.label, message)
                self._last_error = message

    def stop(self) -> None:
        """Stop polling and wait for a switch in progress to finish."""
        self._stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()
