"""The tornado application: MLflow's scoring routes over a :class:`ModelHolder`.

``GET /ping`` and ``GET /health`` (200 once a model is loaded), ``GET /version`` (nbtrack's
version), ``POST /invocations`` (see :mod:`~nbtrack.serving.payload`). Each handler only
translates: the work is :func:`~nbtrack.serving.scoring.invoke`, run on a thread pool. Every
error, 404 and 405 included, is answered as ``{"error_code": ..., "message": ...}``.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from typing import Any

import tornado.web
from tornado.iostream import StreamClosedError

from nbtrack import __version__
from nbtrack.serving import responses
from nbtrack.serving.holder import ModelHolder
from nbtrack.serving.scoring import invoke

#: The response header naming the model version that answered (``name:vN`` or its key).
MODEL_HEADER = "X-Nbtrack-Model"


class Inflight:
    """Counts ``/invocations`` being answered, so a shutdown can wait for them."""

    def __init__(self) -> None:
        self.count = 0
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no request is being answered."""
        await self._idle.wait()


class _Handler(tornado.web.RequestHandler):
    """JSON answers, and errors in MLflow's shape (no HTML, no stack traces)."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 404:
            code = responses.ENDPOINT_NOT_FOUND
            message = (f"No endpoint {self.request.path}: the server answers GET /ping,"
                       " /health, /version and POST /invocations")
        elif status_code == 405:
            code = responses.BAD_REQUEST
            allowed = [m for m in ("GET", "POST") if _overrides(self, m.lower())]
            self.set_header("Allow", ", ".join(allowed))
            message = (f"Method {self.request.method} is not allowed on {self.request.path}"
                       f" (use {' or '.join(allowed)})")
        elif status_code < 500:
            code, message = responses.BAD_REQUEST, self._reason
        else:
            code, message = responses.INTERNAL_ERROR, "Internal server error (see the log)"
        self.set_header("Content-Type", "application/json")
        self.finish(responses.error_body(message, code))


def _overrides(handler: tornado.web.RequestHandler, method: str) -> bool:
    return getattr(type(handler), method) is not getattr(tornado.web.RequestHandler, method)


class PingHandler(_Handler):
    """``GET /ping``, ``GET /health``: healthy when a model is loaded."""

    def initialize(self, holder: ModelHolder) -> None:
        self.holder = holder

    def get(self) -> None:
        try:
            self.set_header(MODEL_HEADER, self.holder.current.label)
        except RuntimeError:
            self.set_status(404)  # MLflow: 404 when no model is loaded
        self.finish("\n")


class VersionHandler(_Handler):
    """``GET /version``: nbtrack's version."""

    def get(self) -> None:
        self.finish(__version__)


class InvocationsHandler(_Handler):
    """``POST /invocations``: score the body with the current model."""

    def initialize(self, holder: ModelHolder, executor: Executor, inflight: Inflight) -> None:
        self.holder = holder
        self.executor = executor
        self.inflight = inflight

    async def post(self) -> None:
        model = self.holder.current  # read once: a model switch never splits a request
        self.inflight.enter()  # until the answer is written: a shutdown waits for it
        try:
            answer = await asyncio.get_running_loop().run_in_executor(
                self.executor, invoke, model, self.request.body,
                self.request.headers.get("Content-Type"))
            self.set_status(answer.status)
            self.set_header(MODEL_HEADER, model.label)
            if self.inflight.draining:
                self.set_header("Connection", "close")
            await self.finish(answer.body)
        except StreamClosedError:
            pass  # the client went away; nobody to answer
        finally:
            self.inflight.leave()


class NotFoundHandler(_Handler):
    """Any other path: a JSON 404."""

    def prepare(self) -> None:
        raise tornado.web.HTTPError(404)


def make_app(holder: ModelHolder, executor: Executor,
             inflight: Inflight) -> tornado.web.Application:
    """The scoring application over ``holder``, predicting on ``executor``'s threads."""
    ping = (PingHandler, {"holder": holder})
    return tornado.web.Application(
        [
            (r"/ping", *ping),
            (r"/health", *ping),
            (r"/version", VersionHandler),
            (r"/invocations", InvocationsHandler,
             {"holder": holder, "executor": executor, "inflight": inflight}),
        ],
        default_handler_class=NotFoundHandler,
        log_function=_log_request,
    )


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Log failed requests only (an access log line per prediction costs throughput)."""
    status = handler.get_status()
    if status >= 400:
        level = logging.WARNING if status < 500 else logging.ERROR
        logging.getLogger("nbtrack.serving").log(
            level, "%d %s %s (%.1f ms)", status, handler.request.method, handler.request.uri,
            1000.0 * handler.request.request_time())
