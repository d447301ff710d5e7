"""The run report: notebooks executed by a real kernel, exported, parsed, and opened offline in
Debian's Chromium.

Two notebooks are executed once per module (each through nbclient in a real kernel, runs
attributed through ``NBTRACK_NOTEBOOK``): ``notebooks/quickstart.ipynb`` and a "showcase"
notebook with every kind of output and the escaping cases.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import nbtrack
from nbtrack.report import BundleMissingError, RunReportExporter, assets, export_report

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
XSS = "</script><script>alert(1)</script>"
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAAB"
       "JRU5ErkJggg==")


# -- parsing the report with the standard library -----------------------------------------------

@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


class ReportParser(HTMLParser):
    """Every element with its attributes, and the text of every script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._script: tuple[dict[str, str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag == "script":
            self._script = (element.attrs, [])

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [el for el in self.elements if el.tag == tag
                and all(el.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def specs(self) -> list[dict[str, Any]]:
        return [json.loads(text) for attrs, text in self.scripts
                if attrs.get("type") == "application/json"]


def parse(html: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(html)
    parser.close()
    return parser


_NETWORK = re.compile(r"^\s*(https?:|ftp:|wss?:|//)", re.I)
_URL_ATTRS = ("src", "href", "srcset", "action", "formaction", "poster", "data", "background",
              "xlink:href", "manifest", "ping")


def network_references(page: ReportParser) -> list[tuple[str, str, str]]:
    return [(el.tag, name, el.attrs[name]) for el in page.elements for name in _URL_ATTRS
            if name in el.attrs and _NETWORK.match(el.attrs[name])]


def cell_html(html: str, number: int) -> str:
    """The part of the report showing notebook cell ``number`` (1-based)."""
    start = html.index(f'id="cell-{number}"')
    ends = [i for i in (html.find('id="cell-', start + 1), html.find("</section>", start))
            if i != -1]
    return html[start:min(ends)]


def cell_with(html: str, nb: Any, text: str) -> str:
    """The part of the report showing the first cell whose source contains ``text``."""
    index = next(i for i, c in enumerate(nb.cells) if text in c.source)
    return cell_html(html, index + 1)


def without_generation_time(html: str) -> str:
    return re.sub(r'<time class="generated"[^>]*>[^<]*</time>', "<time/>", html)


# -- executing notebooks in a real kernel -------------------------------------------------------

def execute(notebook: Path, workspace: Path) -> nbformat.NotebookNode:
    """Run ``notebook`` in a real kernel whose runs go to ``workspace`` and name the notebook."""
    nb = nbformat.read(notebook, as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME",)}
    env.update(NBTRACK_DIR=str(workspace), NBTRACK_NOTEBOOK=str(notebook),
               PYTHONPATH=os.pathsep.join([str(ROOT / "python"), env.get("PYTHONPATH", "")]))
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute(
        env=env, cwd=str(notebook.parent))
    nbformat.write(nb, notebook)
    return nb


#: A Vega-Lite 6 output whose expressions (a param, a calculate and filter transform, an interval
#: selection's event handlers) Vega would compile with Function unless it interprets them.
VEGALITE_V6 = {
    "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
    "data": {"values": [{"x": i} for i in range(6)]},
    "params": [{"name": "k", "value": 2}, {"name": "pick", "select": "interval"}],
    "transform": [{"calculate": "datum.x * k + sqrt(datum.x)", "as": "y"},
                  {"filter": "datum.y >= 1"}],
    "mark": "point",
    "encoding": {"x": {"field": "x", "type": "quantitative"},
                 "y": {"field": "y", "type": "quantitative"},
                 "color": {"condition": {"param": "pick", "value": "tomato"},
                           "value": "steelblue"}},
}

#: A Vega 5 output with inline CSV (d3-dsv's parse() compiles each row with Function), a
#: formula, and a fill chosen by an expression: bars of 2, 4 and 6, the last two red.
VEGA_V5 = {
    "$schema": "https://vega.github.io/schema/vega/v5.json",
    "width": 180, "height": 90,
    "signals": [{"name": "factor", "value": 2}],
    "data": [{"name": "table", "values": 'cat,n\na,1\nb,"2"\nc,3\n',
              "format": {"type": "csv", "parse": {"n": "number"}},
              "transform": [{"type": "formula", "as": "m", "expr": "datum.n * factor"}]}],
    "scales": [{"name": "x", "type": "band", "domain": {"data": "table", "field": "cat"},
                "range": "width"},
               {"name": "y", "domain": {"data": "table", "field": "m"}, "range": "height"}],
    "marks": [{"type": "rect", "from": {"data": "table"}, "encode": {"enter": {
        "x": {"scale": "x", "field": "cat"}, "width": {"scale": "x", "band": 1},
        "y": {"scale": "y", "field": "m"}, "y2": {"scale": "y", "value": 0},
        "fill": {"signal": "datum.m > 3 ? '#ff0000' : '#0000ff'"}}}}],
}


def display_cell(mimetype: str, spec: dict[str, Any]) -> Any:
    return nbformat.v4.new_code_cell(
        f"display({{{mimetype!r}: {spec!r}, 'text/plain': '<chart>'}}, raw=True)")


def showcase_cells() -> list[Any]:
    v4 = nbformat.v4
    vegalite = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"a": "x", "b": 3}, {"a": "y", "b": 5}]},
        "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"},
                                    "y": {"field": "b", "type": "quantitative"}},
    }
    return [
        v4.new_markdown_cell("# Showcase\n\nRaw <b>tags</b> stay text. Back to the "
                             "[top](#top).\n\n## Training"),
        v4.new_code_cell("%load_ext nbtrack\nimport base64, math\nimport nbtrack\n"
                         "from IPython.display import HTML, Image, display"),
        v4.new_code_cell("def train(lr, steps=30):\n    for step in range(steps):\n"
                         "        nbtrack.log({'loss': math.exp(-lr * step),"
                         " 'val/acc': 1 - math.exp(-lr * step)}, step=step)"),
        v4.new_code_cell("run = nbtrack.init(name='baseline', config={'lr': 0.1, 'opt': 'sgd'})\n"
                         "train(0.1)\nrun.finish()"),
        v4.new_code_cell("run = nbtrack.init(name='</script><b>slow', config={'lr': 0.02,"
                         " 'opt': 'sgd', 'note': '<i>x</i>'})\ntrain(0.02)\nrun.finish()"),
        v4.new_code_cell(f"print({XSS!r})"),
        v4.new_code_cell("display(HTML(\"<p id='rich'>rich <b>html</b></p>"
                         "<script>parent.document.title = 'pwned'; alert(2)</script>\"))"),
        v4.new_code_cell(f"display({{'application/vnd.vegalite.v5+json': {vegalite!r},"
                         " 'text/plain': '<VegaLite chart>'}, raw=True)"),
        v4.new_code_cell(f"display(Image(data=base64.b64decode({PNG!r})))"),
        v4.new_code_cell("raise ValueError('boom <b>')"),
        display_cell("application/vnd.vegalite.v6+json", VEGALITE_V6),
        display_cell("application/vnd.vega.v5+json", VEGA_V5),
        v4.new_code_cell("%track report -o from-magic.html"),
    ]


@dataclass
class Executed:
    workspace: Path
    notebook: Path
    nb: Any


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executed]:
    workspace = tmp_path_factory.mktemp("showcase")
    notebook = workspace / "showcase.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = showcase_cells()
    nbformat.write(nb, notebook)
    yield Executed(workspace, notebook, execute(notebook, workspace))


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executed]:
    source = ROOT / "notebooks" / "quickstart.ipynb"
    workspace = tmp_path_factory.mktemp("quickstart")
    notebook = workspace / "quickstart.ipynb"
    shutil.copy(source, notebook)
    yield Executed(workspace, notebook, execute(notebook, workspace))


# -- the tests ----------------------------------------------------------------------------------

def test_exporting_the_executed_quickstart_shows_both_runs_and_their_curves(
    quickstart: Executed,
) -> None:
    out = export_report(quickstart.notebook, workspace=quickstart.workspace)
    assert out == quickstart.notebook.with_name("quickstart.report.html")
    html = out.read_text(encoding="utf-8")
    page = parse(html)
    cards = [el.attrs["id"] for el in page.find("article") if "run-card" in el.attrs["class"]]
    assert cards == ["run-1", "run-2"]
    assert "baseline" in html and "higher-lr" in html
    specs = page.specs()
    # one chart per run and the overlay of both (every spec parsed as JSON above)
    assert len(specs) == 3
    overlay = specs[-1]["datasets"]["nbtrack"]
    assert {row["run"] for row in overlay} == {"#1 baseline", "#2 higher-lr"}
    assert network_references(page) == []
    # the training cells are annotated with the run they belong to and what they logged
    first = cell_with(html, quickstart.nb, "eta0=lr, random_state=0)\ntrain_epochs")
    assert 'href="#run-1"' in first and 'href="#run-2"' not in first
    assert "val/acc</b> ×8 (steps 0–7)" in first
    second = cell_with(html, quickstart.nb, "%%track higher-lr")
    assert 'href="#run-2"' in second and "val/acc</b> ×8 (steps 0–7)" in second


def test_a_report_lists_every_cell_with_outputs_and_run_annotations(showcase: Executed) -> None:
    html = export_report(showcase.notebook, workspace=showcase.workspace).read_text()
    page = parse(html)
    cells = [el for el in page.elements if "cell" in el.attrs.get("class", "").split()]
    assert len(cells) == len(showcase.nb.cells)
    # runs: both cards, names escaped, params compared (only lr differs)
    assert [el.attrs["id"] for el in page.find("article")] == ["run-1", "run-2"]
    assert "#2 &lt;/script&gt;&lt;b&gt;slow" in html
    comparison = html[html.index('id="comparison"'):html.index('id="notebook"')]
    assert ">lr</th>" in comparison and ">opt</th>" not in comparison
    assert "Same in every run: opt = sgd" in comparison
    # cells: the training cells carry their run and what they logged into it
    assert "<b>loss</b> ×30 (steps 0–29) → " in html
    cell4 = cell_html(html, 4)
    assert 'href="#run-1"' in cell4 and 'href="#run-2"' not in cell4
    # outputs: stream text, sandboxed HTML, a Vega-Lite chart, the image's own base64, the error
    images = [el.attrs["src"] for el in page.find("img")]
    assert images == [f"data:image/png;base64,{PNG}"]  # the notebook's own base64, once
    assert html.count(PNG) == 2  # in the cell's code, and as the image
    frames = page.find("iframe")
    assert len(frames) == 1 and frames[0].attrs["sandbox"] == "allow-same-origin"
    assert "Content-Security-Policy" in frames[0].attrs["srcdoc"]
    charts = [el.attrs.get("data-mode") for el in page.find("figure") if el.attrs.get("data-mode")]
    # two runs, the overlay, then the notebook's own outputs: Vega-Lite 5 and 6, Vega 5
    assert charts == ["vega-lite"] * 5 + ["vega"]
    assert any(spec.get("mark") == "bar" for spec in page.specs())
    error_cell = cell_html(html, 10)
    assert "ValueError" in error_cell and "boom &lt;b&gt;" in error_cell
    assert "outcome-error" in error_cell
    # environment of the runs, with the packages the notebook imports
    env = html[html.index('id="environment"'):]
    assert "Python" in env and ">ipykernel</th>" in env
    assert network_references(page) == []


def test_notebook_text_that_looks_like_markup_stays_text(showcase: Executed) -> None:
    html = export_report(showcase.notebook, workspace=showcase.workspace).read_text()
    page = parse(html)
    # only the report's own scripts: the Vega bundle and report.js, and the JSON specs
    code = [attrs for attrs, _ in page.scripts if attrs.get("type") != "application/json"]
    assert code == [{"type": "module"}, {"type": "module"}]
    for _, text in page.scripts:
        assert "</script" not in text.lower()
    assert "alert(1)" not in "".join(text for _, text in page.scripts)
    assert "<script>alert" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the stream output
    assert "Raw &lt;b&gt;tags&lt;/b&gt; stay text" in html
    # the run name in a chart spec is plain data in JSON, with < escaped for <script>
    assert "\\u003c/script\\u003e\\u003cb\\u003eslow" in html
    assert any(row["run"] == "#2 </script><b>slow"
               for spec in page.specs() for row in spec.get("datasets", {}).get("nbtrack", []))


def test_track_report_magic_writes_the_report_of_the_current_notebook(
    showcase: Executed,
) -> None:
    magic_output = "".join(o.get("text", "") for o in showcase.nb.cells[-1].outputs)
    written = showcase.workspace / "from-magic.html"
    assert f"wrote {written}" in magic_output
    page = parse(written.read_text())
    assert [el.attrs["id"] for el in page.find("article")] == ["run-1", "run-2"]


def test_the_same_notebook_and_store_give_the_same_report(showcase: Executed,
                                                          tmp_path: Path) -> None:
    a = export_report(showcase.notebook, tmp_path / "a.html", workspace=showcase.workspace)
    b = export_report(showcase.notebook, tmp_path / "b.html", workspace=showcase.workspace)
    assert without_generation_time(a.read_text()) == without_generation_time(b.read_text())


def test_nbconvert_exporter_gives_the_same_report(showcase: Executed, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_DIR", str(showcase.workspace))
    direct = export_report(showcase.notebook, tmp_path / "direct.html").read_text()
    exporter = RunReportExporter()
    assert exporter.output_mimetype == "text/html" and exporter.file_extension == ".html"
    body, _ = exporter.from_filename(str(showcase.notebook))
    assert without_generation_time(body) == without_generation_time(direct)


def test_the_nbtrack_report_command_gives_the_same_report(showcase: Executed,
                                                         tmp_path: Path) -> None:
    direct = export_report(showcase.notebook, tmp_path / "direct.html",
                           workspace=showcase.workspace).read_text()
    env = {**os.environ, "NBTRACK_DIR": str(showcase.workspace),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "nbtrack", "report", str(showcase.notebook),
         "-o", str(tmp_path / "cli.html")],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "cli.html")
    cli = (tmp_path / "cli.html").read_text()
    assert without_generation_time(cli) == without_generation_time(direct)


def test_jupyter_nbconvert_to_nbtrack_report_gives_the_same_report(
    showcase: Executed, tmp_path: Path
) -> None:
    direct = export_report(showcase.notebook, tmp_path / "direct.html",
                           workspace=showcase.workspace).read_text()
    # The entry point's name once the package is installed; nbconvert also takes the class path.
    installed = "nbtrack-report" in {
        ep.name for ep in metadata.entry_points(group="nbconvert.exporters")}
    to = "nbtrack-report" if installed else "nbtrack.report.RunReportExporter"
    env = {**os.environ, "NBTRACK_DIR": str(showcase.workspace),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", to,
         "--output-dir", str(tmp_path / "cli"), str(showcase.notebook)],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    cli = (tmp_path / "cli" / "showcase.html").read_text()
    assert without_generation_time(cli) == without_generation_time(direct)


def test_a_notebook_without_runs_still_exports_with_a_note(workspace: Path) -> None:
    notebook = workspace / "empty.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(nb, notebook)
    html = export_report(notebook).read_text()
    assert "No runs were recorded from this notebook" in html
    assert parse(html).specs() == []
    assert "window.nbtrackVega=" not in html  # no charts: the Vega bundle is left out
    assert len(html) < 100_000


def test_runs_recorded_with_an_absolute_notebook_path_are_matched(workspace: Path) -> None:
    notebook = workspace / "sub" / "train.ipynb"
    notebook.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    with nbtrack.init(name="absolute", notebook=str(notebook)) as run:
        run.log({"x": 1.0})
    with nbtrack.init(name="relative", notebook="sub/train.ipynb") as run:
        run.log({"x": 2.0})
    with nbtrack.init(name="elsewhere", notebook="other.ipynb") as run:
        run.log({"x": 3.0})
    page = parse(export_report(notebook).read_text())
    assert [el.attrs["id"] for el in page.find("article")] == ["run-1", "run-2"]


def test_explicit_runs_replace_the_notebooks_own(workspace: Path) -> None:
    notebook = workspace / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    for name in ("a", "b", "c"):
        with nbtrack.init(name=name, notebook="nb.ipynb", config={"name": name}) as run:
            run.log({"x": 1.0})
    html = export_report(notebook, runs=["c", 1]).read_text()
    assert [el.attrs["id"] for el in parse(html).find("article")] == ["run-3", "run-1"]
    with pytest.raises(nbtrack.RunNotFound):
        export_report(notebook, runs=["nope"])


def test_long_curves_are_downsampled_in_the_report(workspace: Path) -> None:
    notebook = workspace / "long.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    with nbtrack.init(name="long", notebook="long.ipynb") as run:
        for step in range(5000):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.log({"loss": 50.0}, step=5000)  # a spike at the end survives
    (spec,) = parse(export_report(notebook).read_text()).specs()
    (curve,) = spec["datasets"]["nbtrack"]  # one record per curve, flattened by Vega-Lite
    assert spec["transform"][0] == {"flatten": ["step", "value"]}
    assert curve["run"] == "#1 long" and curve["key"] == "loss"
    assert len(curve["step"]) == len(curve["value"]) <= 400
    assert curve["step"][0] == 0 and curve["value"][-1] == 50.0


def test_cells_are_matched_by_cell_id_when_the_frontend_sends_it(workspace: Path) -> None:
    """Two cells with the same code: JupyterLab sends each one's id, so each gets its own."""
    from jupyter_client.manager import start_new_kernel

    notebook = workspace / "twins.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%load_ext nbtrack"),
                nbformat.v4.new_code_cell("nbtrack.log({'x': 1.0})"),
                nbformat.v4.new_code_cell("nbtrack.log({'x': 1.0})")]
    nbformat.write(nb, notebook)
    env = {**os.environ, "NBTRACK_NOTEBOOK": str(notebook),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(workspace), env=env)
    try:
        for code, cell_id in [("%load_ext nbtrack\nimport nbtrack", nb.cells[0].id),
                              ("run = nbtrack.init(name='twins')", None),
                              (nb.cells[1].source, nb.cells[1].id),
                              (nb.cells[2].source, nb.cells[2].id),
                              (nb.cells[2].source, nb.cells[2].id),
                              ("run.finish()", None)]:
            msg = kc.session.msg("execute_request", {
                "code": code, "silent": False, "store_history": True, "user_expressions": {},
                "allow_stdin": False, "stop_on_error": True})
            if cell_id:
                msg["metadata"]["cellId"] = cell_id  # what JupyterLab sends
            kc.shell_channel.send(msg)
            reply = kc.get_shell_msg(timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel()  # a graceful shutdown: the kernel flushes what it recorded
    html = export_report(notebook).read_text()
    first, second = cell_html(html, 2), cell_html(html, 3)
    assert "×1 (step 0)" in first and "executions" not in first
    assert "2 executions" in second and "×2 (steps 1–2)" in second


def test_a_missing_vega_bundle_says_how_to_build_it(workspace: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = workspace / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    with nbtrack.init(name="r", notebook="nb.ipynb") as run:
        run.log({"x": 1.0})
    monkeypatch.setattr(assets, "BUNDLE", workspace / "no-such-bundle.js")
    with pytest.raises(BundleMissingError, match="npm run build:vega"):
        export_report(notebook)
    assert not (workspace / "nb.report.html").exists()


def test_json_in_script_cannot_close_the_element() -> None:
    text = assets.json_for_script({"a": "</script><!-- & >", "n": float("nan")})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & >", "n": None}
    assert "</script" not in assets.inline_js("const s = '</script>'; /<!--/.test(s);")


def test_markdown_links_are_kept_and_scripts_and_remote_images_are_not() -> None:
    from nbtrack.report.cells import markdown_html

    out = markdown_html("[a](https://example.org) [b](javascript:alert(1)) "
                        "![c](https://example.org/x.png) ![d](attachment:d.png)",
                        {"d.png": {"image/png": PNG}})
    assert 'href="https://example.org" rel="noopener noreferrer"' in out
    assert "javascript:" not in out
    assert "<img" in out and f'src="data:image/png;base64,{PNG}"' in out
    assert "example.org/x.png" in out and 'src="https://' not in out


def test_the_report_page_may_not_evaluate_code(showcase: Executed) -> None:
    """Notebook outputs' Vega specs are drawn in the page: its policy must forbid eval."""
    html = export_report(showcase.notebook, workspace=showcase.workspace).read_text()
    (meta,) = [el for el in parse(html).find("meta")
               if el.attrs.get("http-equiv") == "Content-Security-Policy"]
    policy = dict(d.strip().split(" ", 1) for d in meta.attrs["content"].split(";"))
    assert policy["script-src"] == "'unsafe-inline'"  # no 'unsafe-eval', nothing from elsewhere
    assert policy["default-src"] == "'none'"


def test_a_vega_bundle_without_the_interpreter_says_to_rebuild(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = workspace / "old-bundle.js"
    old.write_text("const a = 1, b = {};\nexport{a as default,b as vega,a as vegaEmbed};\n")
    monkeypatch.setattr(assets, "BUNDLE", old)
    with pytest.raises(assets.ReportError,
                       match="expressionInterpreter, dsvFormat .*npm run build:vega"):
        assets.vega_bundle_script()


# -- in a real browser with no network ----------------------------------------------------------

#: Collects what the page reports as wrong, from the first script on (Playwright adds this
#: before the page's own scripts, in every frame).
_WATCH_CSP = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  [document.URL, e.effectiveDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(' ')));
"""

#: The showcase's HTML output tries to run a script; its sandboxed frame refuses (as it must).
_REFUSED_IN_FRAME = "Blocked script execution in 'about:srcdoc'"
#: vega-embed's notice that an output's spec names an older Vega(-Lite) schema than the bundle's.
_OLDER_SCHEMA = re.compile(r"^console\.warning: WARN The input spec uses Vega(-Lite)? v5, but "
                           r"the current version of Vega(-Lite)? is v6\.")


def bars(page: Any, cell: int) -> list[str]:
    """The fill of every bar of the chart in notebook cell ``cell``, left to right."""
    return page.eval_on_selector_all(
        f"#cell-{cell} figure.chart .mark-rect path",
        "paths => paths.sort((a, b) => a.getBBox().x - b.getBBox().x)"
        ".map(p => p.getAttribute('fill'))")


@pytest.mark.ui
def test_the_report_draws_every_chart_offline_in_chromium(showcase: Executed,
                                                           quickstart: Executed) -> None:
    """Every chart is drawn under the report's own policy (no eval): no violation, no error."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium); "
                    'without it: pytest -m "not ui"', pytrace=False)
    ARTIFACTS.mkdir(exist_ok=True)
    reports = [export_report(showcase.notebook, workspace=showcase.workspace),
               export_report(quickstart.notebook, workspace=quickstart.workspace)]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_offline(True)
            context.add_init_script(_WATCH_CSP)
            requests: list[str] = []
            dialogs: list[str] = []
            context.on("request", lambda r: requests.append(r.url))
            for report in reports:
                page = context.new_page()
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                errors: list[str] = []
                page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                page.on("console", lambda m, errors=errors: errors.append(
                    f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
                page.goto(report.as_uri())
                page.wait_for_selector("html[data-charts=done]", state="attached",
                                       timeout=60_000)
                states = page.eval_on_selector_all(
                    "figure.chart",
                    "figs => figs.map(f => [f.dataset.state, !!f.querySelector('svg, canvas'),"
                    " f.querySelectorAll('.mark-rect path, .mark-symbol path,"
                    " .mark-line path').length > 0])")
                assert states and all(s == ["drawn", True, True] for s in states), states
                assert page.evaluate("window.__violations") == []
                assert page.title().startswith("Run report")  # the sandboxed output could not
                page.screenshot(path=str(ARTIFACTS / f"report-{report.stem}.png"), full_page=True)
                refused = [e for e in errors if _REFUSED_IN_FRAME in e]
                older = [e for e in errors if _OLDER_SCHEMA.match(e)]
                assert [e for e in errors if e not in refused + older] == []
                if report == reports[0]:
                    assert len(refused) == 1, errors  # the output's own <script>, refused
                    assert len(older) == 2, errors  # the Vega-Lite 5 and Vega 5 outputs
                    assert len(states) == 6
                    shown = page.inner_text("#cell-6")
                    assert XSS in shown  # the source and the printed text, as text
                    height = page.eval_on_selector("iframe.html-output", "f => f.offsetHeight")
                    assert 20 < height < 300  # sized to its content by the report's script
                    # the Vega output's CSV was read and its expressions evaluated
                    assert bars(page, 12) == ["#0000ff", "#ff0000", "#ff0000"]
                else:
                    assert refused == older == []
                page.close()
            assert dialogs == []
            assert [u for u in requests if not u.startswith(("file:", "data:", "about:"))] == []
        finally:
            browser.close()
