"""What a live chart costs a training loop: 100,000 ``log()`` calls with the chart on vs off.

Run: ``python benchmarks/bench_widgets.py`` (prints figures; asserts nothing).
``--kernel`` runs the same loops inside a real Jupyter kernel, where the chart's updates travel
as comm messages to a front end (here: nobody listening, as with a closed browser tab).

Per call: the median time of one ``log()`` (what the caller waits), the CPU time the chart's
follower thread spent (it drains, downsamples and sends a few times a second, sharing the
interpreter with the loop), and the wall time of loop + ``finish()`` (the chart's last update
happens in ``finish()``), which a busy machine makes noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

METRICS = {"loss": 0.5, "acc": 0.9, "lr": 0.001, "grad_norm": 1.5, "epoch": 3}


def one_loop(calls: int, chart_on: bool, metrics: dict) -> tuple[float, float, float, int]:
    """One loop on a fresh run: (median us of a log() call, wall us per call of loop + finish,
    follower CPU us per call, updates sent)."""
    import nbtrack
    from nbtrack import widgets

    run = nbtrack.init(name="bench-widgets", capture_env=False)
    cpu = [0.0]
    chart = widgets.LiveChart(run) if chart_on else None
    if chart is not None:  # the follower's updates and the last one (in finish()) are timed
        for name in ("_update", "_last_update"):
            update = getattr(chart, name)

            def timed(status: str | None = None, update: Any = update) -> None:
                t0 = time.thread_time()
                update(status)
                cpu[0] += time.thread_time() - t0

            setattr(chart, name, timed)
    clock = time.perf_counter_ns
    samples = [0] * calls
    start = clock()
    for i in range(calls):
        t0 = clock()
        run.log(metrics)
        samples[i] = clock() - t0
    run.finish()  # the chart's last update happens here: count it
    total = clock() - start
    updates = chart.updates if chart is not None else 0
    return (statistics.median(samples) / 1000, total / calls / 1000, cpu[0] / calls * 1e6,
            updates)


def compare(calls: int, repeats: int, metrics: dict) -> None:
    results: dict[bool, list[tuple[float, float, float, int]]] = {False: [], True: []}
    for _ in range(repeats):
        for chart_on in (False, True):  # interleaved, so drift hits both alike
            results[chart_on].append(one_loop(calls, chart_on, metrics))
    off, on = ([statistics.median(r[i] for r in results[flag]) for i in range(4)]
               for flag in (False, True))
    label = f"{len(metrics)} metric{'s' if len(metrics) > 1 else ''} per call"
    print(f"{calls:,} log() calls, {label} (median of {repeats} loops each):")
    print(f"  chart off: log() median {off[0]:.2f} us, loop+finish {off[1]:.2f} us/call")
    print(f"  chart on:  log() median {on[0]:.2f} us, loop+finish {on[1]:.2f} us/call, "
          f"{on[3]:.0f} updates sent")
    print(f"  added by the live chart: log() median {on[0] - off[0]:+.2f} us/call; "
          f"follower thread CPU {on[2]:.2f} us/call "
          f"(loop+finish wall {on[1] - off[1]:+.2f} us/call, noisy on a shared machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kernel", action="store_true", help="measure inside a real kernel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NBTRACK_DIR"] = tmp
        if args.kernel:
            in_kernel(args.calls, args.repeats, tmp)
            return
        os.environ["NBTRACK_WIDGETS"] = "1"  # build real widgets (their comm is a no-op here)
        print("in this process (no kernel):")
        compare(args.calls, args.repeats, METRICS)
        compare(args.calls, args.repeats, {"loss": 0.5})


def in_kernel(calls: int, repeats: int, workspace: str) -> None:
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    km, kc = start_new_kernel(kernel_name="python3", cwd=workspace, env=env)
    try:
        code = (
            f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
            "import bench_widgets as b\n"
            "print('in a real kernel (comm messages sent on iopub):')\n"
            f"b.compare({calls}, {repeats}, b.METRICS)\n"
            f"b.compare({calls}, {repeats}, {{'loss': 0.5}})\n"
        )
        out: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        kc.execute_interactive(code, timeout=3600, output_hook=hook)
        print("".join(out), end="")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
