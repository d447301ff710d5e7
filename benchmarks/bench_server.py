"""Latency of the REST API on a big workspace: prints figures (median ms), asserts nothing.

The workspace: 10,000 runs (each 4 params and 3 metrics) and one run with a 1,000,000-point
series. Measured in-process (the nbtrack.responses functions the handlers call) and over real HTTP
against a real ``jupyter server`` with token auth:

- ``GET runs`` first page (50 runs) sorted by a metric summary, and by start time;
- ``GET runs/{ref}/metrics`` of the 1M-point series downsampled to 1,000 points: read and
  reduced ("cold", each request a new ``max_points`` so the server's cache never answers), and
  asked again while the series is unchanged ("cached").

Target: under 100 ms each. Usage::

    PYTHONPATH=python python benchmarks/bench_server.py [--dir /tmp/nbtrack-bench] [--repeat 15]

The workspace is kept in ``--dir`` and reused by later runs (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

RUNS = 10_000
POINTS = 1_000_000


def build(workspace: Path) -> None:
    """Write the benchmark workspace (about a minute on two cores)."""
    import nbtrack
    from nbtrack import config
    from nbtrack.store import access, writes

    os.environ["NBTRACK_DIR"] = str(workspace)
    t0 = time.perf_counter()
    db = access.connect(config.db_path())
    rng = random.Random(0)
    now = time.time() - RUNS * 60
    with access.atomic(db):
        for i in range(RUNS):
            started = now + i * 60
            number = writes.insert_run(db, {
                "id": secrets.token_hex(6), "name": f"sweep-{i}", "status": "finished",
                "notebook": f"nb/sweep-{i % 20}.ipynb", "session": None, "host": "bench",
                "pid": 1, "started": started, "heartbeat": started + 50, "tags": ["sweep"],
                "notes": "",
            })
            writes.update_run(db, number, {"ended": started + 50})
            writes.write_params(db, number, {
                "lr": 10 ** rng.uniform(-5, -1), "batch": rng.choice([32, 64, 128]),
                "opt": rng.choice(["sgd", "adam"]), "seed": i,
            })
            calls = [(number, step, started + step, None, ("loss", "acc", "val/loss"),
                      (rng.random(), rng.random(), rng.random())) for step in range(3)]
            writes.write_batch(db, writes.Batch(points=calls))
    db.close()
    print(f"  {RUNS:,} runs written in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    run = nbtrack.init("long", config={"lr": 0.01}, capture_env=False)
    for step in range(POINTS):
        run.log({"loss": math.exp(-step / 2e5) + rng.random() * 0.01})
    run.finish()
    print(f"  {POINTS:,} points logged in {time.perf_counter() - t0:.1f} s")


def median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(first call ms, median ms of the next ``repeat`` calls)."""
    t0 = time.perf_counter()
    fn()
    first = (time.perf_counter() - t0) * 1000
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return first, statistics.median(times)


def serve(workspace: Path) -> tuple[subprocess.Popen, str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(8)
    home = Path(tempfile.mkdtemp(prefix="nbtrack-bench-jupyter-"))
    env = {k: v for k, v in os.environ.items() if k != "NBTRACK_DIR"}
    env.update(PYTHONPATH=str(ROOT / "python"), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    others = ("jupyterlab", "jupyter_lsp", "jupyter_server_terminals", "notebook_shim")
    extensions = {"nbtrack": True, **{name: False for name in others}}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
         "--ServerApp.ip=127.0.0.1", "--ServerApp.allow_root=True",
         f"--ServerApp.root_dir={workspace}", f"--IdentityProvider.token={token}",
         "--ServerApp.allow_unauthenticated_access=False",
         f"--ServerApp.jpserver_extensions={extensions!r}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/nbtrack/api/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            fetch(base + "status", token)
            return process, base, token
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the jupyter server did not start")


def fetch(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "nbtrack-bench"))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    workspace = Path(args.dir)
    path = workspace / ".nbtrack" / "nbtrack.db"
    print(f"workspace {workspace}")
    if not path.exists():
        workspace.mkdir(parents=True, exist_ok=True)
        build(workspace)
    os.environ["NBTRACK_DIR"] = str(workspace)

    from nbtrack import responses
    from nbtrack.store import downsample

    print(f"\nin-process (median of {args.repeat}; first call in brackets)")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("runs page 1, sort=metrics.loss asc",
         lambda: responses.runs_page(path, sort="metrics.loss", descending=False)),
        ("runs page 1, sort=started desc", lambda: responses.runs_page(path)),
        ("runs page 1, sort=params.lr desc",
         lambda: responses.runs_page(path, sort="params.lr")),
        ("runs page 1, q=sweep-99", lambda: responses.runs_page(path, search="sweep-99")),
        ("metrics 1M -> 1000 points, cold", lambda: cold_metrics(1000)),
        ("metrics 1M -> 1000 points, cached",
         lambda: responses.run_metrics(path, "long", max_points=1000)),
        ("status", lambda: responses.status(path)),
    ]

    def cold_metrics(max_points: int) -> object:
        responses._caches.clear()
        return responses.run_metrics(path, "long", max_points=max_points)

    for label, fn in cases:
        first, median = median_ms(lambda fn=fn: responses.to_json(fn()), args.repeat)
        print(f"  {label:38s} {median:7.1f} ms   ({first:.1f})")
    numpy_from = downsample.NUMPY_FROM
    downsample.NUMPY_FROM = 10**12
    first, median = median_ms(lambda: responses.to_json(cold_metrics(1000)), 5)
    downsample.NUMPY_FROM = numpy_from
    print(f"  {'metrics 1M -> 1000, cold, without numpy':38s} {median:7.1f} ms   ({first:.1f})")

    process, base, token = serve(workspace)
    try:
        print(f"\nover HTTP, real jupyter server with token auth (median of {args.repeat})")
        for label, url in [
            ("GET runs?sort=metrics.loss&order=asc", "runs?sort=metrics.loss&order=asc"),
            ("GET runs (sort=started desc)", "runs"),
            ("GET status", "status"),
        ]:
            first, median = median_ms(lambda url=url: fetch(base + url, token), args.repeat)
            print(f"  {label:38s} {median:7.1f} ms   ({first:.1f})")
        sizes = iter(range(1000, 0, -1))  # a new max_points each time: never from the cache
        first, median = median_ms(
            lambda: fetch(base + f"runs/long/metrics?max_points={next(sizes)}", token),
            args.repeat)
        print(f"  {'GET runs/long/metrics (1M), cold':38s} {median:7.1f} ms   ({first:.1f})")
        first, median = median_ms(
            lambda: fetch(base + "runs/long/metrics?max_points=1000", token), args.repeat)
        print(f"  {'GET runs/long/metrics (1M), cached':38s} {median:7.1f} ms   ({first:.1f})")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
