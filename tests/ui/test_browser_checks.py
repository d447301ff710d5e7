"""The browser tests' own check can fail: errors from nbtrack's code fail a test, noise does not.

``lab_page`` (conftest.py) fails a test on an uncaught page error or a console error from
nbtrack's code. These tests provoke each kind on a page served by Playwright (a fake lab whose
scripts live where JupyterLab's and nbtrack's would), in a real JupyterLab whose nbtrack API
answers 500, and in a separate pytest run, to see the check catch them and let the rest pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.ui

UI = Path(__file__).resolve().parent
ROOT = UI.parents[1]
FAKE_LAB = "http://lab.test"
PAGE = """<!doctype html><title>lab</title>
<script src="/static/lab/jlab_core.js"></script>
<script src="/lab/extensions/nbtrack/static/remoteEntry.js"></script>"""
SCRIPTS = {
    # JupyterLab's own noise: a console error that has nothing to do with nbtrack.
    "/static/lab/jlab_core.js": "console.error('Failed to fetch the announcements');",
    # nbtrack's lab extension, which logs an error (not naming nbtrack) when asked to.
    "/lab/extensions/nbtrack/static/remoteEntry.js":
        "window.drawChart = () => console.error('could not draw the chart');",
}


def _serve_fake_lab(route: Any) -> None:
    path = route.request.url[len(FAKE_LAB):].split("?")[0]
    if path == "/lab":
        route.fulfill(status=200, content_type="text/html", body=PAGE)
    elif path in SCRIPTS:
        route.fulfill(status=200, content_type="text/javascript", body=SCRIPTS[path])
    else:  # the nbtrack API and JupyterLab's own API both fail
        route.fulfill(status=500, content_type="application/json", body='{"message": "down"}')


@pytest.fixture
def fake_lab(lab_page: Any) -> Any:
    lab_page.route(f"{FAKE_LAB}/**", _serve_fake_lab)
    lab_page.goto(f"{FAKE_LAB}/lab")
    return lab_page


def _check_fails(page: Any, count: int = 1) -> str:
    """What ``page.errors.check()`` raises once ``count`` failing messages arrived (the
    browser sends console messages asynchronously; at most 10 s)."""
    for _ in range(200):
        if len(page.errors.failures()) >= count:
            break
        page.wait_for_timeout(50)
    with pytest.raises(AssertionError) as failure:
        page.errors.check()
    return str(failure.value)


def test_console_errors_from_nbtrack_fail_and_jupyterlab_noise_does_not(fake_lab: Any) -> None:
    page = fake_lab
    page.evaluate("""async () => {
        window.drawChart();                                         // from nbtrack's chunk
        console.error('nbtrack: the runs poll stopped');            // names nbtrack
        await fetch('/nbtrack/api/runs').catch(() => {});           // nbtrack's API fails: 500
        await fetch('/api/contents/untitled.ipynb').catch(() => {}); // JupyterLab's API fails
        // A widget's ES module, loaded from a blob: URL as anywidget loads nbtrack's widgets.
        const esm = new Blob(["console.error('no vega')"], {type: 'text/javascript'});
        await import(URL.createObjectURL(esm));
    }""")
    message = _check_fails(page, count=4)
    assert "could not draw the chart" in message  # by where it came from
    assert "the runs poll stopped" in message  # by what it says
    assert "/nbtrack/api/runs" in message and "500" in message
    assert "no vega" in message and "blob:" in message
    assert "announcements" not in message and "/api/contents" not in message
    assert message.startswith("the page reported 4 error(s)")
    page.errors.check()  # each error fails once: reported, they do not fail the teardown too


def test_any_uncaught_error_fails_even_outside_nbtrack_code(fake_lab: Any) -> None:
    page = fake_lab
    page.add_script_tag(content="throw new TypeError('a lab plugin broke')")
    message = _check_fails(page)
    assert "[pageerror] a lab plugin broke" in message


def test_an_error_the_test_expects_does_not_fail_it(fake_lab: Any) -> None:
    page = fake_lab
    page.errors.expect(r"/nbtrack/api/runs\?where=bad")
    page.evaluate("() => fetch('/nbtrack/api/runs?where=bad').catch(() => {})")
    page.errors.check()
    assert any("/nbtrack/api/runs?where=bad" in m.where for m in page.errors.messages)


def test_the_real_sidebar_logging_a_failed_request_fails_the_check(
    runs_lab: Any, lab_page: Any
) -> None:
    page = lab_page
    page.route("**/nbtrack/api/runs?**", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"message": "injected failure"}'))
    page.goto(runs_lab.lab_url())
    page.locator(".jp-SideBar li[data-id='nbtrack-runs-panel']").click(timeout=60_000)
    page.locator(".nbtrack-runs-error").wait_for(timeout=30_000)
    message = _check_fails(page)
    assert "status of 500" in message and "/nbtrack/api/runs?" in message


INNER_TESTS = '''
import pytest

pytestmark = pytest.mark.ui

def test_logs_an_nbtrack_error(lab_page):
    lab_page.evaluate("console.error('nbtrack: injected by the test')")

def test_throws_an_uncaught_error(lab_page):
    lab_page.add_script_tag(content="throw new Error('injected uncaught error')")

def test_logs_unrelated_noise(lab_page):
    lab_page.evaluate("console.error('Failed to load the lab workspace')")

def test_expects_the_error_it_provokes(lab_page):
    lab_page.errors.expect("expected by the test")
    lab_page.evaluate("console.error('nbtrack: expected by the test')")
'''

INNER_CONFTEST = f'''
import importlib.util
import sys

spec = importlib.util.spec_from_file_location("nbtrack_ui_conftest", {str(UI / "conftest.py")!r})
ui = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ui)
chromium, lab_page, pytest_runtest_call = ui.chromium, ui.lab_page, ui.pytest_runtest_call

def pytest_configure(config):
    config.addinivalue_line("markers", "ui: a browser test")
'''


def _inner_pytest(folder: Path, *args: str, **env: str) -> tuple[int, str]:
    """Run the four ``INNER_TESTS`` with this folder's fixtures in a pytest of their own."""
    (folder / "conftest.py").write_text(textwrap.dedent(INNER_CONFTEST))
    (folder / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS))
    environ = {**os.environ, **env, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", *args,
         "test_inner.py"], cwd=folder, env=environ, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_a_browser_test_whose_page_logs_an_nbtrack_error_fails(tmp_path: Path) -> None:
    """The fixture's check, as every browser test gets it."""
    code, out = _inner_pytest(tmp_path)
    assert code == 1, out
    assert "2 failed, 2 passed" in out, out
    assert "error" not in out.splitlines()[-1], out  # failures of the tests, not teardown errors
    assert "FAILED test_inner.py::test_logs_an_nbtrack_error" in out, out
    assert "FAILED test_inner.py::test_throws_an_uncaught_error" in out, out
    assert "nbtrack: injected by the test" in out and "injected uncaught error" in out, out


def test_without_chromium_the_browser_tests_fail_saying_how_to_install_it(
    tmp_path: Path
) -> None:
    code, out = _inner_pytest(tmp_path, NBTRACK_CHROMIUM=str(tmp_path / "no-chromium"))
    assert code == 1, out
    assert "4 errors" in out and "skipped" not in out, out
    assert "apt-get install chromium" in out and '-m "not ui"' in out, out
    # Deselecting them is the one way to run without a browser.
    code, out = _inner_pytest(tmp_path, "-m", "not ui",
                              NBTRACK_CHROMIUM=str(tmp_path / "no-chromium"))
    assert code == pytest.ExitCode.NO_TESTS_COLLECTED and "4 deselected" in out, out
