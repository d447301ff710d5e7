"""``POST jobs`` and ``GET jobs/{id}``: run a notebook of the server root with parameters as
a tracked run, in the background (:mod:`nbtrack.jobs.background`).

Body of ``POST jobs``: ``{"path": "<notebook relative to the server root>", "params": {...},
"name"?, "tags"?: [...], "kernel"?, "timeout"?}``; answer 202 with the job's
:class:`nbtrack.model.JobRecord` (``running``); ``GET jobs/{id}`` answers it again, with the
run and its status once the job has ended. A bad body, a missing notebook or kernel: 400.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tornado.web

from nbtrack import config
from nbtrack.server.handlers import BaseHandler
from nbtrack.server.report_handler import notebook_in_root


def _start(root: Path, body: Any) -> object:
    from nbtrack.jobs import background
    from nbtrack.jobs.api import plan

    if not isinstance(body, dict):
        raise ValueError('the body must be {"path": "...", "params": {...}}')
    params = body.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) and k for k in params):
        raise ValueError("params must be an object of parameter names to values")
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be a list of strings")
    for key in ("name", "kernel"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ValueError(f"{key} must be a string")
    timeout = body.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise ValueError("timeout must be a number of seconds")
    try:
        notebook = notebook_in_root(root, body.get("path"))
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    job = plan(notebook, [params], name=body.get("name"), tags=tags, kernel=body.get("kernel"),
               timeout=timeout, workspace=config.workspace_dir())
    return background.start(job.specs[0], job.warnings)


class JobsHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.handle_error(ValueError("the body must be JSON"))
            return
        root = Path(self.settings.get("server_root_dir") or ".").expanduser().resolve()
        await self.answer(lambda: _start(root, body), status=202)


class JobHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        from nbtrack.jobs import background

        await self.answer(lambda: background.record(job_id))


#: ``(path under nbtrack/api/, handler)``.
JOB_ROUTES: list[tuple[str, type[BaseHandler]]] = [
    ("jobs", JobsHandler),
    ("jobs/([^/]+)", JobHandler),
]
