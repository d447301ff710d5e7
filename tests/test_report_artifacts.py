"""The run report lists what each run used and produced (artifact ref, type, version, and the
cell that logged or used it), with cells from a real IPython shell."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

import nbtrack
from nbtrack import config
from nbtrack.report import export_report
from nbtrack.store import access


@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = InteractiveShell.instance()
    assert ip is not None
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    ip.run_line_magic("unload_ext", "nbtrack")
    for name in [n for n in ip.user_ns if not n.startswith("_") and n not in ip.user_ns_hidden]:
        del ip.user_ns[name]


def _artifact_rows(html: str, run: int) -> list[list[str]]:
    card = re.search(rf'<article class="run-card" id="run-{run}">(.*?)</article>', html, re.S)
    assert card is not None
    part = re.search(r'<div class="run-artifacts">(.*?)</div>', card.group(1), re.S)
    if part is None:
        return []
    return [[re.sub(r"<[^>]+>", "", td) for td in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr class=\"artifact-[a-z]+\">(.*?)</tr>", part.group(1))]


def test_the_report_lists_what_each_run_used_and_produced(
    shell: InteractiveShell, workspace: Path, tmp_path: Path
) -> None:
    (tmp_path / "raw.csv").write_text("a,b\n1,2\n")
    shell.user_ns["src"] = str(tmp_path / "raw.csv")
    for source in (
        "import nbtrack\nproducer = nbtrack.init(name='producer')",
        "raw = nbtrack.log_artifact(src, name='raw', type='dataset')",
        "producer.finish()\nconsumer = nbtrack.init(name='consumer')",
        "got = nbtrack.use_artifact('raw:latest')",
        "art = nbtrack.Artifact('features', 'table.v2')\nart.add({'n': 1}, 'stats')\n"
        "feat = nbtrack.log_artifact(art)",
        "consumer.finish()",
    ):
        result = shell.run_cell(source, store_history=True)
        assert result.success, result.error_in_exec
    notebook = workspace / "report.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    html = export_report(notebook, runs=["producer", "consumer"]).read_text()
    with access.reading(config.db_path(workspace)) as db:
        counts = {source.split("(")[0]: count for count, source in db.execute(
            "SELECT execution_count, source FROM cells")}
    log_count = counts["raw = nbtrack.log_artifact"]
    use_count = counts["got = nbtrack.use_artifact"]
    feat_count = counts["art = nbtrack.Artifact"]
    assert _artifact_rows(html, 1) == [["produced", "raw:v0", "dataset", "v0", f"[{log_count}]"]]
    assert _artifact_rows(html, 2) == [
        ["used", "raw:v0", "dataset", "v0", f"[{use_count}]"],
        ["produced", "features:v0", "table.v2", "v0", f"[{feat_count}]"],
    ]


def test_a_run_without_artifacts_has_no_artifacts_part(workspace: Path) -> None:
    notebook = workspace / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    with nbtrack.init(name="plain", notebook="plain.ipynb") as run:
        run.log({"loss": 1.0})
    html = export_report(notebook).read_text()
    assert "run-artifacts" not in html.split("</style>")[-1]
