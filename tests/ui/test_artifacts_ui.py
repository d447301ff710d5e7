"""The Runs workspace's Artifacts view in a real JupyterLab, driven by Debian's Chromium.

A run logs two versions of a dataset, another run uses the newest and logs a model; the test
opens the workspace, switches to Artifacts, selects the dataset and sees its versions, its
files as working download links and the lineage graph with both runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lab_helpers import low_contrast, open_lab, run_from_palette

import nbtrack

pytestmark = pytest.mark.ui

WORKSPACE = ".nbtrack-workspace"
LABELS = b"id,label\n1,cat\n2,dog\n"


@pytest.fixture(scope="module")
def lineage_runs(runs_lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``prep`` logs ``digits`` v0 and v1 (aliased ``best``); ``train`` uses ``digits:best``
    and logs the model ``clf``."""
    data = tmp_path_factory.mktemp("digits")
    (data / "labels.csv").write_bytes(LABELS)
    (data / "images").mkdir()
    (data / "images" / "0.bin").write_bytes(bytes(range(256)))
    with nbtrack.init(name="prep", workspace=runs_lab.root, capture_env=False) as prep:
        prep.log_artifact(data, name="digits", type="dataset", metadata={"rows": 2})
        (data / "labels.csv").write_bytes(LABELS + b"3,<b>bird</b>\n")
        prep.log_artifact(data, name="digits", type="dataset", aliases=["best"],
                          metadata={"rows": 3, "source": "<script>alert(1)</script>"})
    with nbtrack.init(name="train", workspace=runs_lab.root, capture_env=False) as train:
        train.use_artifact("digits:best")
        model = nbtrack.Artifact("clf", "model")
        model.add({"coef": [0.5, 1.5]}, "weights")
        train.log_artifact(model)
    return {"prep": str(prep.id), "train": str(train.id)}


def test_the_artifacts_view_shows_versions_files_and_the_lineage_graph(
    runs_lab: Any, lineage_runs: dict[str, str], lab_page: Any, tmp_path: Path
) -> None:
    page = lab_page
    open_lab(page, runs_lab)
    run_from_palette(page, "Open Runs workspace", "nbtrack:open-workspace", WORKSPACE)
    page.locator(f"{WORKSPACE} .nbtrack-ws-view-artifacts").click()
    row = page.locator(f"{WORKSPACE} tr.nbtrack-artifact-row[data-artifact='digits']")
    row.wait_for(timeout=30_000)
    assert page.locator(f"{WORKSPACE} tr.nbtrack-artifact-row").count() == 2
    assert "best" in row.inner_text() and "v1" in row.inner_text()
    row.click()

    detail = page.locator(f"{WORKSPACE} .nbtrack-artifact-detail[data-artifact='digits']")
    versions = detail.locator("tr.nbtrack-version-row")
    versions.first.wait_for(timeout=30_000)
    assert [versions.nth(i).get_attribute("data-version") for i in range(2)] == ["v1", "v0"]
    selected = detail.locator(".nbtrack-version-detail[data-version='v1']")
    assert selected.locator(".nbtrack-alias[data-alias='best']").count() == 0  # in the row
    assert versions.first.locator(".nbtrack-alias[data-alias='best']").count() == 1
    # Metadata is shown as text, never as markup.
    assert "<script>alert(1)</script>" in selected.locator("tr[data-key='source']").inner_text()
    links = selected.locator("a.nbtrack-file-link")
    assert sorted(links.all_inner_texts()) == ["images/0.bin", "labels.csv"]
    href = selected.locator("a.nbtrack-file-link", has_text="labels.csv").get_attribute("href")
    assert href is not None
    answer = page.request.get(href)  # the lab's login cookie, as a click sends it
    assert answer.status == 200 and answer.body() == LABELS + b"3,<b>bird</b>\n"
    assert answer.headers["content-disposition"].startswith("attachment")
    assert [c.inner_text() for c in selected.locator(".nbtrack-run-link").all()] == [
        "#1 prep", "#2 train"]

    graph = detail.locator("svg.nbtrack-lineage")
    graph.wait_for(timeout=30_000)
    nodes = graph.locator("g.nbtrack-lineage-node")
    node_ids = {nodes.nth(i).get_attribute("data-node-id") for i in range(nodes.count())}
    assert node_ids == {f"run:{lineage_runs['prep']}", f"run:{lineage_runs['train']}",
                        "artifact:digits:v1", "artifact:clf:v0"}
    depth = {n: graph.locator(f"g[data-node-id='{n}']").get_attribute("data-depth")
             for n in node_ids}
    # Upstream left, downstream right: prep -> digits:v1 -> train -> clf:v0.
    assert depth == {f"run:{lineage_runs['prep']}": "-1", "artifact:digits:v1": "0",
                     f"run:{lineage_runs['train']}": "1", "artifact:clf:v0": "2"}
    xs = [graph.locator(f"g[data-node-id='{n}']").bounding_box()["x"] for n in (
        f"run:{lineage_runs['prep']}", "artifact:digits:v1", f"run:{lineage_runs['train']}",
        "artifact:clf:v0")]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert graph.locator("path.nbtrack-lineage-edge").count() == 3
    assert "#2 train" in (graph.text_content() or "")
    page.screenshot(path=str(tmp_path / "artifacts-view.png"), full_page=True)
    detail.screenshot(path=str(tmp_path / "artifact-detail.png"))
    print("screenshots:", tmp_path)

    # The older version's own lineage: only its producer.
    versions.nth(1).click()
    page.wait_for_function(
        "() => document.querySelectorAll('.nbtrack-lineage g.nbtrack-lineage-node').length"
        " === 2")
    assert low_contrast(page, WORKSPACE, 20) == []

    # Models: the empty state.
    page.locator(f"{WORKSPACE} .nbtrack-ws-view-models").click()
    empty = page.locator(f"{WORKSPACE} .nbtrack-models-empty")
    empty.wait_for(timeout=30_000)
    assert "nbtrack.register_model(" in empty.inner_text()

    # Registering the model shows it on the next poll: aliases, versions, its artifact and run.
    nbtrack.register_model("clf:v0", "digit-clf", aliases=["production"],
                           description="<i>first</i>", workspace=runs_lab.root)
    model_row = page.locator(f"{WORKSPACE} tr.nbtrack-model-row[data-model='digit-clf']")
    model_row.wait_for(timeout=30_000)
    assert "production" in model_row.inner_text() and "v1" in model_row.inner_text()
    model_row.click()
    version = page.locator(f"{WORKSPACE} .nbtrack-model-detail[data-model='digit-clf']"
                           " tr[data-version='1']")
    version.wait_for(timeout=30_000)
    assert "clf:v0" in version.inner_text() and "#2 train" in version.inner_text()
    assert "<i>first</i>" in page.locator(f"{WORKSPACE} .nbtrack-model-detail").inner_text()
    page.screenshot(path=str(tmp_path / "models-view.png"), full_page=True)
