"""REST handlers under ``<base_url>/nbtrack/api/``.

Each parses its arguments and calls :mod:`nbtrack.responses`.

Every verb is behind Jupyter's auth; work runs off the event loop in the default executor.
Errors are JSON :class:`nbtrack.model.ErrorResponse` bodies: an unknown run, artifact or
model is 404, a bad argument (``ValueError``) is 400, missing auth 403; ``handle_error`` is the
one place that maps them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.client import responses as http_reasons
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from nbtrack import responses
from nbtrack.model import ErrorResponse

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class BaseHandler(APIHandler):
    """Shared plumbing: run work off the loop, read query arguments, map errors."""

    async def answer(self, work: Callable[[], object], status: int = 200) -> None:
        """Run ``work()`` in the executor and answer its result as JSON (or the error)."""
        try:
            result = await IOLoop.current().run_in_executor(None, work)
        except (LookupError, ValueError) as exc:
            self.handle_error(exc)
            return
        self.set_status(status)
        if status == 204:
            self.finish()
        else:
            self.finish(responses.to_json(result))

    def handle_error(self, exc: Exception) -> None:
        """The one mapping of errors to HTTP: an unknown run, artifact, file or model
        (a ``LookupError``: RunNotFound, ArtifactNotFound, ModelNotFound) 404, a bad argument
        400."""
        code = 404 if isinstance(exc, LookupError) else 400
        self.set_status(code)
        self.finish(responses.to_json(ErrorResponse(error=str(exc), status=code)))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors tornado raises itself (403 without auth, 405, 500) in the same JSON shape."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = http_reasons.get(status_code, "error")
        if isinstance(exc, tornado.web.HTTPError) and exc.log_message:
            message = exc.log_message
        self.set_header("Content-Type", "application/json")
        self.finish(responses.to_json(ErrorResponse(error=message, status=status_code)))

    def arg(self, name: str) -> str | None:
        """A query argument; absent and empty are both None."""
        value = self.get_query_argument(name, None)
        return value or None

    def text_arg(self, name: str, default: str) -> str:
        return self.arg(name) or default

    def int_arg(self, name: str, default: int) -> int:
        value = self.optional_int_arg(name)
        return default if value is None else value

    def optional_int_arg(self, name: str) -> int | None:
        text = self.arg(name)
        try:
            return None if text is None else int(text)
        except ValueError:
            raise ValueError(f"{name} must be an integer, not {text!r}") from None

    def float_arg(self, name: str, default: float) -> float:
        text = self.arg(name)
        try:
            return default if text is None else float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {text!r}") from None

    def bool_arg(self, name: str) -> bool:
        text = (self.arg(name) or "0").lower()
        if text not in _TRUE + _FALSE:
            raise ValueError(f"{name} must be 1 or 0, not {text!r}")
        return text in _TRUE

    def list_arg(self, name: str) -> list[str]:
        return [part.strip() for part in (self.arg(name) or "").split(",") if part.strip()]

    def optional_int_list_arg(self, name: str) -> list[int | None] | None:
        """Comma-separated integers where an empty item is None (``3,,7``); absent is None."""
        text = self.arg(name)
        if text is None:
            return None
        try:
            return [int(part) if part.strip() else None for part in text.split(",")]
        except ValueError:
            raise ValueError(f"{name} must be integers separated by commas, not {text!r}") from None

    def descending(self) -> bool:
        order = self.text_arg("order", "desc")
        if order not in ("asc", "desc"):
            raise ValueError(f"order must be asc or desc, not {order!r}")
        return order == "desc"


class RunsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: responses.runs_page(
            responses.store_path(), limit=self.int_arg("limit", 50),
            offset=self.int_arg("offset", 0), sort=self.text_arg("sort", "started"),
            descending=self.descending(),
            status=self.arg("status"), tag=self.arg("tag"), notebook=self.arg("notebook"),
            search=self.arg("q"), where=self.arg("where"),
        ))


class RunHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, ref: str) -> None:
        await self.answer(lambda: responses.run_detail(responses.store_path(), ref))

    @tornado.web.authenticated
    async def patch(self, ref: str) -> None:
        await self.answer(lambda: responses.update_run(
            responses.store_path(), ref, json.loads(self.request.body or b"{}")
        ))

    @tornado.web.authenticated
    async def delete(self, ref: str) -> None:
        await self.answer(lambda: responses.delete_run(responses.store_path(), ref), status=204)


class MetricsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, ref: str) -> None:
        await self.answer(lambda: responses.run_metrics(
            responses.store_path(), ref, keys=self.list_arg("keys"),
            max_points=self.int_arg("max_points", 1000),
            after_step=self.optional_int_arg("after_step"),
        ))


class MetricsBatchHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: responses.metrics_batch(
            responses.store_path(), self.list_arg("runs"), self.list_arg("keys"),
            max_points=self.int_arg("max_points", 500),
            after_steps=self.optional_int_list_arg("after_steps"),
        ))


class DiffHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: responses.run_diff(
            responses.store_path(),
            self.list_arg("runs") or [r for r in (self.arg("a"), self.arg("b")) if r],
            changed_only=self.bool_arg("changed_only"),
        ))


class ChartsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: responses.chart(
            responses.store_path(), self.text_arg("kind", "curves"),
            runs=self.list_arg("runs"), keys=self.list_arg("key"), param=self.arg("param"),
            params=self.list_arg("params"), log_scale=self.bool_arg("log"),
            smoothing=self.float_arg("smoothing", 0.0),
            max_points=self.int_arg("max_points", 1000),
        ))


class KeysHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: responses.workspace_keys(responses.store_path()))


class StatusHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: responses.status(responses.store_path()))


#: ``(path under nbtrack/api/, handler)``; :func:`routes` adds ``report``.
ROUTES: list[tuple[str, type[APIHandler]]] = [
    ("runs", RunsHandler),
    ("runs/([^/]+)", RunHandler),
    ("runs/([^/]+)/metrics", MetricsHandler),
    ("metrics", MetricsBatchHandler),
    ("diff", DiffHandler),
    ("charts", ChartsHandler),
    ("keys", KeysHandler),
    ("status", StatusHandler),
]


def routes() -> list[tuple[str, type[APIHandler]]]:
    """The route table: :data:`ROUTES`, the media, artifact, model, job and sweep routes and
    ``POST report``."""
    # Imported here: these modules build on BaseHandler from this one.
    from nbtrack.server.artifact_handlers import ARTIFACT_ROUTES
    from nbtrack.server.job_handlers import JOB_ROUTES
    from nbtrack.server.media_handlers import MEDIA_ROUTES
    from nbtrack.server.model_handlers import MODEL_ROUTES
    from nbtrack.server.report_handler import ReportHandler
    from nbtrack.server.sweep_handlers import SWEEP_ROUTES

    return [*ROUTES, *MEDIA_ROUTES, *ARTIFACT_ROUTES, *MODEL_ROUTES, *JOB_ROUTES, *SWEEP_ROUTES,
            ("report", ReportHandler)]


def setup_handlers(web_app: tornado.web.Application) -> list[str]:
    """Register every route under ``<base_url>/nbtrack/api/``; return their URL patterns."""
    base = url_path_join(web_app.settings.get("base_url", "/"), "nbtrack", "api")
    handlers = [(url_path_join(base, path), handler) for path, handler in routes()]
    web_app.add_handlers(".*$", handlers)
    return [pattern for pattern, _ in handlers]
