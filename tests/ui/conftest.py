"""A real JupyterLab with nbtrack's server and lab extensions, and Debian's Chromium.

The lab runs from this checkout without installing the package: the server extension is
imported from ``python/`` and the built lab extension (``npm run build``) is found through a
temporary labextensions folder. Its root is a temporary workspace (``$NBTRACK_DIR``), so tests
log runs with the Python API straight into the store the sidebar reads.

Every test that uses ``lab_page`` fails when the page throws an uncaught error or logs a console
error from nbtrack's code (see ``BrowserErrors``); a test that provokes one on purpose says so
with ``lab_page.errors.expect(...)``. A missing Chromium fails the browser tests, it never skips
them: deselect them with ``-m "not ui"`` (``$NBTRACK_CHROMIUM`` names another Chromium).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
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

    executable = os.environ.get("NBTRACK_CHROMIUM", CHROMIUM)  # another build of Chromium
    if not Path(executable).exists():
        # A failure everywhere, not only under CI: a skipped browser test reads as a pass.
        pytest.fail(f"no Chromium at {executable}: the browser tests need Debian's chromium "
                    "(`sudo apt-get install chromium`, or run scripts/setup as root); "
                    'to run the other tests without it: pytest -m "not ui"', pytrace=False)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: Where nbtrack's browser code runs from: the lab extension's chunks
#: (``/lab/extensions/nbtrack/static/...``) and its HTTP API (``/nbtrack/api/...``).
NBTRACK_URL = re.compile(r"/(lab/extensions/)?nbtrack/")
#: Uncaught "errors" that are browser notices, not exceptions in anyone's code.
PAGE_ERROR_NOISE = [
    # Chromium reports a ResizeObserver callback that resized what it observes as a window
    # error; nothing threw, and Lumino's layouts trigger it on their own.
    re.compile(r"ResizeObserver loop"),
]


@dataclass(frozen=True)
class BrowserMessage:
    """One thing a page reported: an uncaught error or a console message.

    ``where`` is the console message's source (``url:line:column``) or the error's stack.
    """

    kind: str
    text: str
    where: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}\n    at {self.where or '(no location)'}"

    @property
    def from_nbtrack(self) -> bool:
        """Whether nbtrack's code (its lab extension, API or inline widgets) reported it.

        True when the text or the location names nbtrack, when the source is one of its URLs,
        or when the source is a ``blob:`` module: that is how anywidget loads a widget's ES
        module, and the only anywidgets in these tests are nbtrack's.
        """
        return ("nbtrack" in self.text.lower() or "nbtrack" in self.where.lower()
                or bool(NBTRACK_URL.search(self.where)) or self.where.startswith("blob:"))


@dataclass
class BrowserErrors:
    """Collects what a page reports and decides which messages fail the test.

    Failing: every uncaught page error (except ``PAGE_ERROR_NOISE``) and every console error
    from nbtrack's code (``BrowserMessage.from_nbtrack``), unless the test ``expect``-ed it.
    Console errors from JupyterLab itself are kept in the console log but do not fail.
    """

    messages: list[BrowserMessage] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)
    reported: int = 0

    def attach(self, page: Any) -> None:
        """Listen to ``page``'s uncaught errors and console messages."""
        page.on("pageerror", self._on_page_error)
        page.on("console", self._on_console)

    def _on_page_error(self, error: Any) -> None:
        self.messages.append(BrowserMessage("pageerror", str(error.message),
                                            str(error.stack or "")))

    def _on_console(self, message: Any) -> None:
        location = message.location or {}
        where = (f"{location.get('url', '')}:{location.get('lineNumber', 0)}"
                 f":{location.get('columnNumber', 0)}" if location.get("url") else "")
        self.messages.append(BrowserMessage(f"console.{message.type}", message.text, where))

    def expect(self, pattern: str) -> None:
        """Let errors matching the regex ``pattern`` (in text or location) pass: the test
        provokes them on purpose, e.g. the 400 the server answers to a bad filter."""
        self.expected.append(re.compile(pattern))

    def is_failure(self, message: BrowserMessage) -> bool:
        if any(p.search(message.text) or p.search(message.where) for p in self.expected):
            return False
        if message.kind == "pageerror":
            return not any(p.search(message.text) for p in PAGE_ERROR_NOISE)
        return message.kind == "console.error" and message.from_nbtrack

    def failures(self) -> list[BrowserMessage]:
        """The messages that fail the test, in the order they came."""
        return [m for m in self.messages if self.is_failure(m)]

    def check(self) -> None:
        """Raise ``AssertionError`` listing the failing messages not reported before."""
        failures = self.failures()
        new, self.reported = failures[self.reported:], len(failures)
        if new:
            listed = "\n".join(str(m) for m in new)
            raise AssertionError(
                f"the page reported {len(new)} error(s) from nbtrack or uncaught:\n{listed}")

    def log(self) -> str:
        """Every message, failing ones marked ``FAIL``: the test's console log."""
        return "\n".join(("FAIL " if self.is_failure(m) else "     ") + str(m)
                         for m in self.messages)


BROWSER_ERRORS = pytest.StashKey[BrowserErrors]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a browser test's body: fail it on errors its page reported (``BrowserErrors``)."""
    errors = item.stash.get(BROWSER_ERRORS, None)
    try:
        result = yield
    except BaseException:
        if errors is not None:  # the test failed already: show the page's errors beside it
            try:
                errors.check()
            except AssertionError as problem:
                item.add_report_section("call", "browser errors", str(problem))
        raise
    if errors is not None:
        errors.check()
    return result


@pytest.fixture
def lab_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page whose errors fail the test (``page.errors``: ``BrowserErrors``).

    Its screenshot at the end and its console log go to test-artifacts/.
    """
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors = BrowserErrors()
    errors.attach(page)
    page.errors = errors
    request.node.stash[BROWSER_ERRORS] = errors
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"))
    (ARTIFACTS / f"{request.node.name}-console.txt").write_text(errors.log())
    context.close()
    errors.check()  # what came after the test's body (checked by pytest_runtest_call)
