"""``GET models`` and ``GET models/{name}``: the model registry over HTTP.

Each handler calls :mod:`nbtrack.registry.responses`; an unknown model is a 404 and a bad name
a 400, as JSON :class:`nbtrack.model.ErrorResponse` bodies.
"""

from __future__ import annotations

import tornado.web

from nbtrack import responses
from nbtrack.registry import responses as registry
from nbtrack.server.handlers import BaseHandler


class ModelsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: registry.models_list(responses.store_path()))


class ModelHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.answer(lambda: registry.model_detail(responses.store_path(), name))


#: ``(path under nbtrack/api/, handler)``.
MODEL_ROUTES: list[tuple[str, type[BaseHandler]]] = [
    ("models", ModelsHandler),
    ("models/([^/]+)", ModelHandler),
]
