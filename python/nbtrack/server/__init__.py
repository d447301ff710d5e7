"""The Jupyter server extension: nbtrack's REST API under ``<base_url>/nbtrack/api/``.

The only part of nbtrack that imports tornado and jupyter_server. At load it makes the server's
root folder the workspace (unless ``$NBTRACK_DIR`` already names one), so kernels started in
any subfolder inherit the variable and record into the same store the sidebar reads.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbtrack import config


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbtrack.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Point the workspace at the server root, create its ``.nbtrack/``, add the handlers."""
    from nbtrack.server.handlers import setup_handlers

    if not os.environ.get("NBTRACK_DIR"):
        os.environ["NBTRACK_DIR"] = str(Path(serverapp.root_dir).expanduser().resolve())
    try:
        config.store_dir().mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only root: the API still answers, with no runs
        serverapp.log.warning("nbtrack could not create %s: %s", config.store_dir(), exc)
    patterns = setup_handlers(serverapp.web_app)
    serverapp.log.info("nbtrack: store %s, %d API routes", config.db_path(), len(patterns))
