"""``GET sweeps`` and ``GET sweeps/{name}``: the workspace's hyperparameter sweeps over HTTP.

Each handler calls :mod:`nbtrack.sweeps.responses` (which only reads the studies); an unknown
sweep is a 404 and a bad name a 400, as JSON :class:`nbtrack.model.ErrorResponse` bodies.
"""

from __future__ import annotations

import tornado.web

from nbtrack import responses
from nbtrack.server.handlers import BaseHandler
from nbtrack.sweeps import responses as sweeps


class SweepsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: sweeps.sweeps_list(responses.store_path()))


class SweepHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.answer(lambda: sweeps.sweep_detail(responses.store_path(), name))


#: ``(path under nbtrack/api/, handler)``.
SWEEP_ROUTES: list[tuple[str, type[BaseHandler]]] = [
    ("sweeps", SweepsHandler),
    ("sweeps/([^/]+)", SweepHandler),
]
