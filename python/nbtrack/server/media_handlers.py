"""``GET runs/{ref}/media`` (media lists) and ``GET blobs/{name}`` (their bytes).

Blob answers are served with the stored content type, ``nosniff``, and a Content-Security-Policy
``sandbox`` so that an HTML or SVG value opened directly never runs script in Jupyter's origin;
their names are their SHA-256, so browsers may cache them for good.
"""

from __future__ import annotations

import tornado.web
from tornado.ioloop import IOLoop

from nbtrack import responses
from nbtrack.media import responses as media
from nbtrack.model import ErrorResponse
from nbtrack.server.handlers import BaseHandler
from nbtrack.store.blobs import BlobNotFound


class MediaHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, ref: str) -> None:
        await self.answer(lambda: media.run_media(
            responses.store_path(), ref, key=self.arg("key"),
            step=self.optional_int_arg("step"), all_steps=self.bool_arg("all"),
            offset=self.int_arg("offset", 0), limit=self.int_arg("limit", 200),
        ))


class BlobHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        try:
            data, mime = await IOLoop.current().run_in_executor(
                None, media.blob_bytes, responses.store_path(), name)
        except (BlobNotFound, ValueError) as exc:
            code = 404 if isinstance(exc, BlobNotFound) else 400
            self.set_status(code)
            self.finish(responses.to_json(ErrorResponse(error=str(exc), status=code)))
            return
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:;"
                        " style-src 'unsafe-inline'; media-src 'self'")
        self.set_header("Cache-Control", "private, max-age=31536000, immutable")
        self.finish(data, set_content_type=mime)


#: ``(path under nbtrack/api/, handler)``.
MEDIA_ROUTES: list[tuple[str, type[BaseHandler]]] = [
    ("runs/([^/]+)/media", MediaHandler),
    ("blobs/([^/]+)", BlobHandler),
]
