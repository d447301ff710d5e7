"""``GET artifacts``, ``GET artifacts/{name}``, ``GET artifacts/{name}/{version}/files/{path}``
and ``GET lineage?ref=...``.

An unknown artifact, version or file is a 404. A file is served only when its path is in the
version's manifest (so no path reaches anything else in or outside the store), as a download
(``Content-Disposition: attachment``) with ``nosniff`` and a Content-Security-Policy
``sandbox``, streamed in chunks (artifact files can be large).
"""

from __future__ import annotations

import os
import re
import urllib.parse

import tornado.web
from tornado.ioloop import IOLoop

from nbtrack import responses
from nbtrack.artifacts import responses as artifacts
from nbtrack.server.handlers import BaseHandler

#: Bytes read and sent per write of a file download.
CHUNK = 1 << 20


class ArtifactsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: artifacts.artifacts_list(responses.store_path(),
                                                           self.arg("type")))


class ArtifactHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self.answer(lambda: artifacts.artifact_detail(responses.store_path(), name))


class LineageHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self.answer(lambda: artifacts.lineage_response(responses.store_path(),
                                                             self.arg("ref")))


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` value naming ``filename`` (RFC 6266: an ASCII fallback and
    the UTF-8 name)."""
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"


class ArtifactFileHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str, version: str, path: str) -> None:
        loop = IOLoop.current()
        try:
            found = await loop.run_in_executor(None, artifacts.artifact_file,
                                               responses.store_path(), name, version, path)
        except (LookupError, ValueError) as exc:
            self.handle_error(exc)
            return
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", attachment(found.filename))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.set_header("Cache-Control", "private, no-cache")
        with open(found.blob, "rb") as f:
            self.set_header("Content-Length", str(os.fstat(f.fileno()).st_size))
            while chunk := await loop.run_in_executor(None, f.read, CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish(set_content_type="application/octet-stream")


#: ``(path under nbtrack/api/, handler)``.
ARTIFACT_ROUTES: list[tuple[str, type[BaseHandler]]] = [
    ("artifacts", ArtifactsHandler),
    ("artifacts/([^/]+)", ArtifactHandler),
    ("artifacts/([^/]+)/([^/]+)/files/(.+)", ArtifactFileHandler),
    ("lineage", LineageHandler),
]
