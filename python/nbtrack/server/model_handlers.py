"""``GET models`` and ``GET models/{name}``: the model registry over HTTP.

Each handler calls :mod:`nbtrack.registry.responses`; an unknown model is a 404 and a bad name
a 400, as JSON :class:`nbtrack.model.ErrorResponse` bodies.
"""

from __future__ import annotations

from collections.abc import Callable

import tornado.web

from nbtrack import responses
from nbtrack.model import ErrorResponse
from nbtrack.registry import responses as registry
from nbtrack.server.handlers import BaseHandler
from nbtrack.store.registry import ModelNotFound


class _RegistryHandler(BaseHandler):
    async def answer(self, work: Callable[[], object], status: int = 200) -> None:
        """:meth:`BaseHandler.answer`, with an unknown model answered 404."""
        try:
            await super().answer(work, status)
        except ModelNotFound as exc:
            self.set_status(404)
            self.finish(responses.to_json(ErrorResponse(error=str(exc), status=404)))


class ModelsHandler(_RegistryHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: registry.models_list(responses.store_path()))


class ModelHandler(_RegistryHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.answer(lambda: registry.model_detail(responses.store_path(), name))


#: ``(path under nbtrack/api/, handler)``.
MODEL_ROUTES: list[tuple[str, type[BaseHandler]]] = [
    ("models", ModelsHandler),
    ("models/([^/]+)", ModelHandler),
]
