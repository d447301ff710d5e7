"""A real JupyterLab with nbtrack's server and lab extensions, and Debian's Chromium.

The lab runs from this checkout without installing the package: the server extension is
imported from ``python/`` and the built lab extension (``npm run build``) is found through a
temporary labextensions folder. Its root is a temporary workspace (``$NBTRACK_DIR``), so tests
log runs with the Python API straight into the store the sidebar reads.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BUILT_EXTENSION = ROOT / "python" / "nbtrack" / "labextension"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_lab_settings(settings: Path, theme: str = LIGHT) -> None:
    """Lab user settings: no news popup, no update check, the given theme."""
    apputils = settings / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    (apputils / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))


@dataclass
class Lab:
    """A running ``jupyter lab``: its root (= the nbtrack workspace), URL, token, settings."""

    root: Path
    url: str
    token: str
    settings: Path
    log: Path

    def lab_url(self, reset: bool = True) -> str:
        return f"{self.url}/lab?token={self.token}" + ("&reset" if reset else "")

    def notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code ``cells`` into the root; return the URL that opens it."""
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nbformat.write(nb, self.root / name)
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"

    def set_theme(self, theme: str) -> None:
        """Takes effect on the next page load."""
        write_lab_settings(self.settings, theme)


@pytest.fixture(scope="module")
def runs_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """``jupyter lab`` with token auth, nbtrack's server extension and the built sidebar."""
    if not (BUILT_EXTENSION / "package.json").exists():
        pytest.fail("the lab extension is not built: run `npm ci && npm run build` first")
    root = tmp_path_factory.mktemp("runs-lab")
    home = tmp_path_factory.mktemp("runs-lab-home")
    settings = home / "settings"
    write_lab_settings(settings)
    labextensions = home / "labextensions"
    labextensions.mkdir()
    (labextensions / "nbtrack").symlink_to(BUILT_EXTENSION, target_is_directory=True)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("NBTRACK_NOTEBOOK",
                                                             "JPY_SESSION_NAME",
                                                             "NBTRACK_WIDGETS")},
        "NBTRACK_DIR": str(root),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        "--ServerApp.jpserver_extensions={'nbtrack': True}",
        f"--LabApp.extra_labextensions_path={labextensions}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = home / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited:\n{log.read_text()}")
            try:
                request = urllib.request.Request(
                    f"{url}/nbtrack/api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield Lab(root, url, token, settings, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never ``playwright install``)."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        # CI installs it (scripts/setup): there a missing browser is a failure, not a skip.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def lab_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; page errors and console errors go to test-artifacts/."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"))
    (ARTIFACTS / f"{request.node.name}-console.txt").write_text("\n".join(errors))
    context.close()
