"""``POST <base_url>/nbtrack/api/report``: write a notebook's run report next to it.

Body ``{"path": "<notebook path relative to the server root>", "runs": [optional refs]}``;
answer ``{"path": "<the report's path relative to the server root>"}``. The notebook must be an
``.ipynb`` file inside the server root; the report is rendered by :mod:`nbtrack.report` off the
event loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.utils import ensure_async
from tornado.ioloop import IOLoop

from nbtrack import responses
from nbtrack.model import ErrorResponse
from nbtrack.server.handlers import BaseHandler
from nbtrack.store.queries import RunNotFound


def notebook_in_root(root: Path, relative: Any) -> Path:
    """The notebook ``relative`` names inside ``root``.

    Raises ``ValueError`` for anything but a relative ``.ipynb`` path that stays inside the
    root (symlinks included) and ``FileNotFoundError`` when there is no such file.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise ValueError('the body must be {"path": "<notebook path relative to the server root>"}')
    rel = relative.strip().lstrip("/")
    if not rel.endswith(".ipynb"):
        raise ValueError(f"not a notebook (.ipynb): {relative!r}")
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relative!r} is outside the server root")
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {relative!r}")
    return path


class ReportHandler(BaseHandler):
    """Export the run report of a notebook in the server root."""

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self._fail(400, "the body must be JSON")
            return
        if not isinstance(body, dict):
            self._fail(400, 'the body must be {"path": "..."}')
            return
        runs = body.get("runs")
        if runs is not None and (
            not isinstance(runs, list) or not all(isinstance(r, (str, int)) for r in runs)
        ):
            self._fail(400, "runs must be a list of run numbers, ids or names")
            return
        root = Path(self.settings.get("server_root_dir") or ".").expanduser().resolve()
        try:
            notebook = notebook_in_root(root, body.get("path"))
            if await self._hidden(notebook.relative_to(root).as_posix()):
                raise FileNotFoundError(f"no notebook at {body.get('path')!r}")
            written = await IOLoop.current().run_in_executor(
                None, lambda: _export(notebook, runs or None)
            )
        except (FileNotFoundError, RunNotFound) as exc:
            self._fail(404, str(exc))
            return
        except ValueError as exc:
            self._fail(400, str(exc))
            return
        except RuntimeError as exc:  # ReportError: e.g. the Vega bundle was never built
            self._fail(500, str(exc))
            return
        self.finish(responses.to_json({"path": written.relative_to(root).as_posix()}))

    async def _hidden(self, relative: str) -> bool:
        """True when the contents manager hides the path (and does not allow hidden files)."""
        manager = getattr(self, "contents_manager", None)
        if manager is None or getattr(manager, "allow_hidden", True):
            return False
        try:
            return bool(await ensure_async(manager.is_hidden(relative)))
        except Exception:  # noqa: BLE001 - a manager without the check: not hidden
            return False

    def _fail(self, code: int, message: str) -> None:
        self.set_status(code)
        self.finish(responses.to_json(ErrorResponse(error=message, status=code)))


def _export(notebook: Path, runs: list[str | int] | None) -> Path:
    # Imported at the first export, not at server start (it takes about 0.1 s).
    from nbtrack.report import export_report

    return export_report(notebook, runs=runs)
