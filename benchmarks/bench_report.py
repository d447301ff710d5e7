"""Run report export: time and file size for a large notebook and many long runs.

Run: ``python benchmarks/bench_report.py`` (prints figures; asserts nothing). Builds a workspace
with ``--runs`` runs (default 20) of ``--points`` steps (default 10,000) of two metrics each,
recorded from a ``--cells``-cell notebook (default 200; text, HTML and image outputs), with a
cell execution per training cell as the kernel hooks record them. Then it times
``export_report`` (after one warm-up export, which also pays for importing Altair) and, with
``--browser``, how long Debian's Chromium takes to open the report offline and draw every chart.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import random
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def png(width: int, height: int, seed: int) -> str:
    """A real PNG (noise, so it does not compress away) as base64, like a plot in a notebook."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3))
                    for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))
    return base64.b64encode(data).decode("ascii")


def make_notebook(path: Path, cells: int) -> list[str]:
    """Write a notebook of ``cells`` cells; return the sources of its training cells."""
    import nbformat

    v4 = nbformat.v4
    nb = v4.new_notebook()
    training: list[str] = []
    for i in range(cells):
        if i % 5 == 0:
            nb.cells.append(v4.new_markdown_cell(
                f"## Section {i // 5}\n\nWhat this part does, with *emphasis* and `code`."))
            continue
        source = "\n".join(f"value_{i}_{j} = {j} * {i}  # line {j}" for j in range(8))
        if i % 10 == 1:
            source = f"train(config_{i})\n" + source
            training.append(source)
        outputs = [v4.new_output("stream", name="stdout",
                                 text="".join(f"epoch {k}: loss {1 / (k + 1):.4f}\n"
                                              for k in range(20)))]
        if i % 10 == 3:
            outputs.append(v4.new_output("display_data", data={
                "image/png": png(160, 120, i), "text/plain": "<Figure>"}))
        if i % 20 == 7:
            table = "".join(f"<tr><td>{r}</td><td>{r * 0.5}</td></tr>" for r in range(20))
            outputs.append(v4.new_output("execute_result", execution_count=i, data={
                "text/html": f"<table><tr><th>a</th><th>b</th></tr>{table}</table>",
                "text/plain": "DataFrame"}))
        nb.cells.append(v4.new_code_cell(source, execution_count=i, outputs=outputs))
    nbformat.write(nb, path)
    return training


def record_runs(notebook: str, runs: int, points: int, training: list[str]) -> float:
    """Record the runs as a kernel would (a cell execution per training cell); return seconds."""
    import nbtrack
    from nbtrack.current_cell import current_cell

    t0 = time.perf_counter()
    for r in range(runs):
        lr = 10 ** -(1 + r % 4)
        run = nbtrack.init(name=f"sweep-{r}", notebook=notebook, capture_env=(r == 0),
                           config={"lr": lr, "seed": r, "optimizer": "adam", "epochs": points})
        cell = random.getrandbits(52)
        started = time.time()
        run.recorder.cell_started({"id": cell, "run": run.number, "session": "bench",
                                   "execution_count": r + 1, "cell_id": None,
                                   "source": training[r % len(training)], "started": started})
        current_cell.enter(cell)
        for step in range(points):
            loss = math.exp(-lr * step / 50) + 0.01 * math.sin(step)
            run.log({"loss": loss, "val/acc": 1 - loss / 2}, step=step)
        current_cell.exit()
        run.recorder.cell_ended({"id": cell, "run": run.number,
                                 "duration": time.time() - started,
                                 "outcome": "ok", "error_type": None, "error_message": None})
        run.finish()
    return time.perf_counter() - t0


def browser_seconds(report: Path) -> tuple[float, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_offline(True)
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(report.as_uri())
            page.wait_for_function("document.documentElement.dataset.charts === 'done'",
                                   timeout=300_000)
            seconds = time.perf_counter() - t0
            drawn = page.eval_on_selector_all(
                "figure.chart", "fs => fs.filter(f => f.dataset.state === 'drawn').length")
            return seconds, int(drawn)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--points", type=int, default=10_000, help="steps per run (2 metrics)")
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="also time Chromium drawing it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        os.environ["NBTRACK_DIR"] = str(workspace)
        notebook = workspace / "bench.ipynb"
        training = make_notebook(notebook, args.cells)
        t0 = time.perf_counter()
        import nbtrack.report as report_module

        import_s = time.perf_counter() - t0
        recorded = record_runs("bench.ipynb", args.runs, args.points, training)
        total_points = args.runs * args.points * 2
        print(f"workspace: {args.runs} runs x {args.points:,} steps x 2 metrics "
              f"({total_points:,} points), {args.cells}-cell notebook "
              f"({notebook.stat().st_size / 1e6:.2f} MB); recorded in {recorded:.1f} s")

        out = workspace / "bench.report.html"
        t0 = time.perf_counter()
        report_module.export_report(notebook, out)
        first = time.perf_counter() - t0
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            report_module.export_report(notebook, out)
            times.append(time.perf_counter() - t0)
        html = out.read_text(encoding="utf-8")
        bundle = len(report_module.assets.vega_bundle_script().encode())
        marker = '<script type="application/json" class="chart-spec">'
        parts = html.split(marker)[1:]
        specs = sum(len(part.split("</script>", 1)[0].encode()) for part in parts)
        print(f"import nbtrack.report: {import_s * 1000:.0f} ms; first export (imports Altair): "
              f"{first:.2f} s")
        print(f"export_report: median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s over {len(times)}")
        print(f"report file: {len(html.encode()) / 1e6:.2f} MB (Vega bundle {bundle / 1e6:.2f} MB, "
              f"chart specs {specs / 1e6:.2f} MB in {len(parts)} charts, "
              f"notebook {notebook.stat().st_size / 1e6:.2f} MB on disk)")
        if args.browser and Path(CHROMIUM).exists():
            seconds, drawn = browser_seconds(out)
            print(f"Chromium (offline): {drawn} charts drawn {seconds:.1f} s after opening")


if __name__ == "__main__":
    main()
