"""Serving a scikit-learn model: nbtrack's scoring server beside ``mlflow models serve``.

Run: ``python benchmarks/bench_serving.py [--clients 1,8] [--seconds 10]`` (prints figures;
asserts nothing). One fitted model (a LogisticRegression on 4 named features), with the same
signature on both sides (inferred from the same input example), served in the same run on the
same machine by

- ``nbtrack serve bench-clf@production`` (logged with ``nbtrack.log_model`` and registered in
  a temporary workspace), and
- ``mlflow models serve -m DIR --env-manager local`` (saved with ``mlflow.sklearn.save_model``),

each with its default settings (nbtrack: one process, 4 prediction threads; MLflow: one uvicorn
worker, which logs every request to stdout, sent here to /dev/null). The load is a small
``dataframe_split`` request (``--rows`` rows) sent by N client threads, each on its own
keep-alive connection, for ``--seconds`` after a warm-up; the same Python client for both.
Figures: requests/s and p50/p99 latency. The floor, measured in the same run: the same request
parsed, predicted (by the bare estimator) and serialized in-process with no HTTP, one thread -
the work a server cannot avoid. The client shares the machine's cores with the server, so
absolute figures understate a server on its own machine; the comparison is fair.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def fit_model() -> Any:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 50)
    X = pd.DataFrame(rng.normal(size=(150, 4)) + y[:, None], columns=COLUMNS)
    return LogisticRegression(max_iter=500).fit(X, y)


def request_body(rows: int) -> bytes:
    import numpy as np

    data = np.round(np.random.default_rng(1).normal(size=(rows, 4)) + 1, 3).tolist()
    return json.dumps({"dataframe_split": {"columns": COLUMNS, "data": data}}).encode()


def log_and_register(model: Any, example: Any, workspace: Path) -> None:
    """Log ``model`` in a new workspace and register it as ``bench-clf@production``."""
    import nbtrack

    workspace.mkdir()
    os.environ["NBTRACK_DIR"] = str(workspace)
    run = nbtrack.init("bench-serving", capture_env=False, system_metrics=False)
    version = nbtrack.log_model(model, "bench-clf", input_example=example)
    run.finish()
    nbtrack.register_model(version, "bench-clf", aliases=["production"])


def floor(model: Any, body: bytes, seconds: float) -> tuple[float, float]:
    """(requests/s, median ms) of parse + predict + serialize in-process, one thread."""
    from nbtrack.serving.holder import Loaded
    from nbtrack.serving.scoring import invoke

    loaded = Loaded("1", model, "bench", False, time.time())
    for _ in range(50):
        invoke(loaded, body, "application/json")
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        answer = invoke(loaded, body, "application/json")
        times.append(time.perf_counter() - t0)
        assert answer.status == 200, answer.body
    return len(times) / sum(times), statistics.median(times) * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(args: list[str], env: dict[str, str], url_pattern: str,
          port: int | None = None) -> tuple[subprocess.Popen[str], int]:
    """Start a server; wait until it listens (and answers /ping): (process, port)."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    found: list[int] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            match = re.search(url_pattern, line)
            if match and not found:
                found.append(int(match.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120) or not found:
        process.kill()
        raise RuntimeError(f"{args[:3]} did not start")
    port = found[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{args[:3]} never answered /ping")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def load(port: int, body: bytes, clients: int, seconds: float,
         expected: Any) -> tuple[float, float, float, int]:
    """N keep-alive client threads for ``seconds``: (requests/s, p50 ms, p99 ms, errors)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    go = threading.Event()
    done = threading.Event()
    headers = {"Content-Type": "application/json"}

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        go.wait()
        while not done.is_set():
            t0 = time.perf_counter()
            conn.request("POST", "/invocations", body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
            latencies[k].append(time.perf_counter() - t0)
            if response.status != 200 or json.loads(text)["predictions"] != expected:
                errors[k] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    go.set()
    t0 = time.perf_counter()
    time.sleep(seconds)
    done.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_ms = sorted(x * 1000 for per in latencies for x in per)
    count = len(all_ms)
    return (count / elapsed, all_ms[count // 2], all_ms[min(count - 1, int(count * 0.99))],
            sum(errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8", help="concurrent clients, e.g. 1,8")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per load")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up first")
    parser.add_argument("--rows", type=int, default=5, help="rows per request")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    import logging
    import warnings

    import mlflow.sklearn

    logging.getLogger("mlflow").setLevel(logging.ERROR)  # pip-requirement notes on save
    warnings.filterwarnings("ignore", category=UserWarning, module="mlflow")

    model = fit_model()
    body = request_body(args.rows)
    frame = json.loads(body)["dataframe_split"]
    import pandas as pd

    expected = model.predict(pd.DataFrame(frame["data"], columns=frame["columns"])).tolist()
    tmp = Path(tempfile.mkdtemp(prefix="nbtrack-bench-serving-"))
    try:
        example = pd.DataFrame(frame["data"][:2], columns=frame["columns"])
        workspace = tmp / "workspace"
        log_and_register(model, example, workspace)
        mlflow_dir = tmp / "mlflow-model"
        mlflow.sklearn.save_model(model, str(mlflow_dir), input_example=example)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python"), "NBTRACK_DIR": str(workspace),
               "MLFLOW_TRACKING_URI": (tmp / "mlruns").as_uri()}
        bindir = Path(sys.executable).parent
        mlflow_bin = shutil.which("mlflow", path=str(bindir)) or "mlflow"
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        floor_rps, floor_ms = floor(model, body, min(args.seconds, 5.0))
        print(f"request: dataframe_split, {args.rows} rows x 4 columns ({len(body)} bytes);"
              f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        print(f"floor (parse + predict + serialize in-process, 1 thread):"
              f" {floor_rps:,.0f} req/s, {floor_ms:.2f} ms")
        servers = {
            "nbtrack serve": ([sys.executable, "-m", "nbtrack", "serve", "bench-clf@production",
                               "--port", "0"], r"at http://127\.0\.0\.1:(\d+) "),
            "mlflow models serve": ([mlflow_bin, "models", "serve", "-m", str(mlflow_dir),
                                     "--env-manager", "local", "--host", "127.0.0.1",
                                     "--port", str(free_port())], r"127\.0\.0\.1:(\d+)"),
        }
        results: dict[tuple[str, int], tuple[float, float, float, int]] = {}
        for name, (command, pattern) in servers.items():
            process, port = start(command, env, pattern)
            try:
                for n in clients:
                    load(port, body, n, args.warmup, expected)
                    results[name, n] = load(port, body, n, args.seconds, expected)
            finally:
                stop(process)
        print(f"{'server':<22}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'errors':>8}")
        for n in clients:
            for name in servers:
                rps, p50, p99, errors = results[name, n]
                print(f"{name:<22}{n:>8}{rps:>10,.0f}{p50:>9.2f}{p99:>9.2f}{errors:>8}")
            ours, theirs = results["nbtrack serve", n][0], results["mlflow models serve", n][0]
            print(f"{'':<22}{'':>8}{ours / theirs:>9.2f}x mlflow's requests/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
