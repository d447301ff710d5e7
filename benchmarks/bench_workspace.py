"""Runs workspace first paint: 200 runs x 20 metric keys, in Chromium against a real jupyter lab.

Prints figures (median ms over ``--repeat`` fresh pages), asserts nothing:

- floor: from clicking the Runs sidebar's tab to its table showing runs (the same page, the
  same server, the smallest useful answer: one ``GET runs``);
- workspace, first chart: from clicking the sidebar's "Workspace" button to the first chart
  panel having drawn its curves (canvas painted: ``data-points`` > 0);
- workspace, charts in view: to every panel in view having drawn.

Times are taken around real clicks (Playwright), so they include a few ms of its round trips.

Also, in-process: ``responses.metrics_batch`` for 200 runs x 1 key (what each first request
of the workspace asks for). Target: first chart under 1 s. Usage::

    PYTHONPATH=python python benchmarks/bench_workspace.py [--dir /tmp/nbtrack-bench-ws] \\
        [--repeat 5] [--steps 500]

The lab extension must be built (``npm run build``); Debian's Chromium at /usr/bin/chromium.
The workspace is kept in ``--dir`` and reused by later runs (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

RUNS = 200
KEYS = ([f"train/{k}" for k in ("loss", "acc", "lr", "grad_norm", "ppl", "tokens")]
        + [f"val/{k}" for k in ("loss", "acc", "f1", "precision", "recall", "auc")]
        + [f"system/{k}" for k in ("cpu", "rss", "memory", "disk_read", "net_sent")]
        + ["epoch", "throughput", "loss_scale"])
CHROMIUM = os.environ.get("NBTRACK_CHROMIUM", "/usr/bin/chromium")


def build(workspace: Path, steps: int) -> None:
    """Write 200 finished runs, each with every key of ``KEYS`` at ``steps`` steps."""
    from nbtrack import config
    from nbtrack.store import access, writes

    os.environ["NBTRACK_DIR"] = str(workspace)
    t0 = time.perf_counter()
    db = access.connect(config.db_path())
    start = time.time() - RUNS * 600
    with access.atomic(db):
        rows = []
        batch = writes.Batch()
        for i in range(RUNS):
            number = i + 1
            started = start + i * 600
            rows.append((number, secrets.token_hex(6), f"sweep-{i}", "finished",
                         f"nb/sweep-{i % 5}.ipynb", started, started + steps, started + steps,
                         json.dumps(["sweep"]), ""))
            batch.params.append((number, {"lr": 10 ** -(1 + i % 4), "seed": i,
                                          "opt": ("adam", "sgd")[i % 2]}))
            keys = tuple(KEYS)
            for step in range(steps):
                decay = math.exp(-step / (50 + i))
                values = tuple(decay * (1 + k * 0.1) + 0.01 * math.sin(step + i + k)
                               for k in range(len(keys)))
                batch.points.append((number, step, started + step, None, keys, values))
        db.executemany(
            "INSERT INTO runs (number, id, name, status, notebook, session, host, pid, started,"
            " ended, heartbeat, tags, notes)"
            " VALUES (?, ?, ?, ?, ?, 'bench', 'bench', 0, ?, ?, ?, ?, ?)", rows)
        writes.write_batch(db, batch)
    db.close()
    print(f"built {RUNS} runs x {len(KEYS)} keys x {steps} steps "
          f"in {time.perf_counter() - t0:.1f} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def lab(workspace: Path) -> Iterator[tuple[str, str]]:
    """``jupyter lab`` over ``workspace`` with nbtrack's extensions (this checkout's build)."""
    built = ROOT / "python" / "nbtrack" / "labextension"
    if not (built / "package.json").exists():
        sys.exit("the lab extension is not built: npm ci && npm run build")
    home = Path(tempfile.mkdtemp(prefix="nbtrack-bench-lab-"))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    extensions = home / "labextensions"
    extensions.mkdir()
    (extensions / "nbtrack").symlink_to(built, target_is_directory=True)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "NBTRACK_DIR": str(workspace),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "rt"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--ServerApp.root_dir={workspace}", f"--IdentityProvider.token={token}",
               "--ServerApp.jpserver_extensions={'nbtrack': True}",
               f"--LabApp.extra_labextensions_path={extensions}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    with open(home / "lab.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                request = urllib.request.Request(f"{url}/nbtrack/api/status",
                                                 headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    sys.exit(f"jupyter lab did not start:\n{(home / 'lab.log').read_text()}")
                time.sleep(0.2)
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=20)


SIDEBAR_ROWS = "() => document.querySelectorAll('.nbtrack-runs-table tr[data-run-id]').length > 0"
FIRST_CHART = ("() => [...document.querySelectorAll('.nbtrack-ws-chart')]"
               ".some(c => Number(c.dataset.points) > 0)")
#: Every panel whose box is in the viewport has drawn.
CHARTS_IN_VIEW = """() => {
  const panels = [...document.querySelectorAll('.nbtrack-ws-panel')].filter(p => {
    const r = p.getBoundingClientRect();
    return r.bottom > 0 && r.top < innerHeight && r.width > 0;
  });
  return panels.length > 0 && panels.every(
    p => Number(p.querySelector('.nbtrack-ws-chart')?.dataset.points || 0) > 0);
}"""


def _timed_click(page: Any, selector: str, done: str) -> float:
    """Milliseconds from a real click on ``selector`` to ``done()`` holding (checked every
    animation frame; includes a few ms of Playwright's round trips)."""
    t0 = time.perf_counter()
    page.locator(selector).click()
    page.wait_for_function(done, polling="raf", timeout=60_000)
    return (time.perf_counter() - t0) * 1000


def measure(url: str, token: str, repeat: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {"floor": [], "first": [], "view": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for _ in range(repeat + 1):  # the first round warms the server and caches; not counted
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.goto(f"{url}/lab?token={token}&reset")
            tab = ".jp-SideBar li[data-id='nbtrack-runs-panel']"
            page.locator(tab).wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # let the lab settle
            floor = _timed_click(page, tab, SIDEBAR_ROWS)
            page.locator(".nbtrack-open-workspace").wait_for()
            t0 = time.perf_counter()
            first = _timed_click(page, ".nbtrack-open-workspace", FIRST_CHART)
            page.wait_for_function(CHARTS_IN_VIEW, polling="raf", timeout=60_000)
            view = (time.perf_counter() - t0) * 1000
            drawn = page.evaluate("() => document.querySelectorAll('.nbtrack-ws-chart').length")
            panels = page.evaluate("() => document.querySelectorAll('.nbtrack-ws-panel').length")
            if len(times["floor"]) < repeat and _ > 0:
                times["floor"].append(floor)
                times["first"].append(first)
                times["view"].append(view)
            print(f"  sidebar table {floor:6.0f} ms   first chart {first:6.0f} ms   "
                  f"charts in view {view:6.0f} ms   ({drawn} of {panels} panels drawn)"
                  + ("   [warm-up]" if _ == 0 else ""))
            context.close()
        browser.close()
    return times


def batch_in_process(workspace: Path, repeat: int) -> float:
    from nbtrack import config, responses

    os.environ["NBTRACK_DIR"] = str(workspace)
    path = config.db_path()
    ids = [r["id"] for r in responses.runs_page(path, limit=RUNS)["runs"]]
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        responses.to_json(responses.metrics_batch(path, ids, KEYS[:1], max_points=300))
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "nbtrack-bench-ws")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    workspace = args.dir.resolve()
    if not (workspace / ".nbtrack" / "nbtrack.db").exists():
        workspace.mkdir(parents=True, exist_ok=True)
        build(workspace, args.steps)
    print(f"GET metrics, 200 runs x 1 key x 300 points, in-process (read + JSON): "
          f"{batch_in_process(workspace, args.repeat):.0f} ms")
    with lab(workspace) as (url, token):
        times = measure(url, token, args.repeat)
    print(f"\nmedian of {args.repeat} fresh pages, {RUNS} runs x {len(KEYS)} keys:")
    print(f"  floor: sidebar table shows runs  {statistics.median(times['floor']):6.0f} ms")
    print(f"  workspace: first chart painted   {statistics.median(times['first']):6.0f} ms"
          "   (target < 1000 ms)")
    print(f"  workspace: every chart in view   {statistics.median(times['view']):6.0f} ms")


if __name__ == "__main__":
    main()
