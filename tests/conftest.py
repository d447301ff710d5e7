"""Shared fixtures: every test gets its own workspace (a temp dir that NBTRACK_DIR names);
server tests get a real ``jupyter server`` process with the extension and token auth on."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import nbtrack


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh workspace folder, made the current one through ``$NBTRACK_DIR``."""
    ws = tmp_path / "workspace"
    ws.mkdir()
    monkeypatch.setenv("NBTRACK_DIR", str(ws))
    monkeypatch.delenv("NBTRACK_NOTEBOOK", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    yield ws
    nbtrack.finish()


# -- a real Jupyter server with the nbtrack extension and token auth ---------------------------

ROOT = Path(__file__).resolve().parents[1]

#: Server extensions installed beside nbtrack that the API tests do not need (faster start).
_OTHER_EXTENSIONS = ("jupyterlab", "jupyter_lsp", "jupyter_server_terminals", "notebook_shim",
                     "notebook", "nbclassic", "jupyter_server_ydoc", "jupyter_server_fileid")


@dataclass
class JupyterServer:
    """A running ``jupyter server`` process (nbtrack enabled, token auth, base URL ``/jp/``)."""

    url: str
    token: str
    root: Path
    log: Path

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
        body: Any = None, token: str | None = "", raw_body: bytes | None = None,
    ) -> tuple[int, Any]:
        """``(status, decoded JSON or None)`` of one request to ``<base>/nbtrack/api/<path>``.

        ``token=""`` sends the server's token, ``None`` sends no Authorization header.
        """
        url = self.url + "nbtrack/api/" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"token {token or self.token}"
        data = raw_body if raw_body is not None else (
            None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, (json.loads(text) if text else None)

    def get(self, path: str, **params: Any) -> Any:
        """GET ``nbtrack/api/<path>`` and return its JSON; anything but 200 fails the test."""
        status, data = self.request("GET", path, params=params)
        assert status == 200, (status, data)
        return data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(root: Path, home: Path, env: Mapping[str, str]) -> Iterator[JupyterServer]:
    port, token = _free_port(), secrets.token_hex(8)
    extensions = {"nbtrack": True, **{name: False for name in _OTHER_EXTENSIONS}}
    environ = {k: v for k, v in os.environ.items()
               if k not in ("NBTRACK_DIR", "NBTRACK_NOTEBOOK", "JPY_SESSION_NAME")}
    environ.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), environ.get("PYTHONPATH", "")]),
        JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"), **env,
    )
    log = home / "server.log"
    command = [
        sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}", "--ServerApp.base_url=/jp/",
        f"--IdentityProvider.token={token}", "--ServerApp.allow_unauthenticated_access=False",
        f"--ServerApp.jpserver_extensions={extensions!r}",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=environ, stdout=out, stderr=subprocess.STDOUT)
    server = JupyterServer(f"http://127.0.0.1:{port}/jp/", token, root, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter server exited:\n{log.read_text()}")
            try:
                if server.request("GET", "status")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def start_jupyter_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., AbstractContextManager[JupyterServer]]:
    """Start servers: ``with start_jupyter_server(root, env={...}) as server: ...``.

    The server's root is the workspace: ``$NBTRACK_DIR`` is left unset in its environment, so
    the extension points the store at the root as it does for users.
    """

    def start(root: Path, env: Mapping[str, str] | None = None) -> (
        AbstractContextManager[JupyterServer]
    ):
        return _serve(Path(root), tmp_path_factory.mktemp("jupyter"), env or {})

    return start


@pytest.fixture
def jupyter_server(
    workspace: Path, start_jupyter_server: Callable[..., AbstractContextManager[JupyterServer]]
) -> Iterator[JupyterServer]:
    """A real Jupyter server whose root is the test's workspace."""
    with start_jupyter_server(workspace) as server:
        yield server
