"""A real ``mlflow server`` process for tests and benchmarks: a PostgreSQL backend store
(``postgres_fixture``), ``--serve-artifacts`` to a folder, a free port on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from postgres_fixture import free_port

BIN = Path(sys.executable).parent
#: MLflow's client settings that must not leak from the caller into a test's server or client.
CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN",
               "MLFLOW_TRACKING_URI")


class MlflowServer:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log

    def client(self) -> Any:
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.url, registry_uri=self.url)


def start_server(root: Path, db_url: str, *extra: str,
                 env: dict[str, str] | None = None) -> MlflowServer:
    """``mlflow server`` on a free port (PostgreSQL backend store, proxied artifacts)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"  # uvicorn, gunicorn
    environ.update(env or {})
    log = root / "server.log"
    proc = subprocess.Popen(
        [str(BIN / "mlflow"), "server", "--backend-store-uri", db_url, "--serve-artifacts",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", *extra],
        env=environ, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=str(root))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow server exited:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return MlflowServer(url, proc, log)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"mlflow server did not start:\n{log.read_text()[-4000:]}")


def stop_server(server: MlflowServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(30)
    except subprocess.TimeoutExpired:
        server.proc.kill()


