"""The artifact API (``GET artifacts``, ``artifacts/{name}``, a version's files, ``lineage``)
and the run detail's inputs and outputs, on a real Jupyter server with token auth."""

from __future__ import annotations

import typing
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack import model

RAW = b"id,label\n1,cat\n2,dog\n"
NESTED = b"\x00\x01 binary shard \xff"


def raw(server: Any, path: str, token: str | None = "") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(server.url + "nbtrack/api/" + path)
    if token is not None:
        request.add_header("Authorization", f"token {token or server.token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def assert_shape(data: dict[str, Any], shape: type) -> None:
    assert set(data) == set(typing.get_type_hints(shape)), shape.__name__


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_jupyter_server: Any) -> Iterator[Any]:
    """``prep`` logs the dataset ``digits`` twice (v1 aliased ``best``); ``train`` uses
    ``digits:best`` and logs the model ``clf``."""
    root = tmp_path_factory.mktemp("artifacts-served")
    data = tmp_path_factory.mktemp("data")
    (data / "labels.csv").write_bytes(RAW)
    (data / "shards").mkdir()
    (data / "shards" / "s0.bin").write_bytes(NESTED)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(root))
        with nbtrack.init(name="prep", capture_env=False) as prep:
            prep.log_artifact(data, name="digits", type="dataset", metadata={"rows": 2})
            (data / "labels.csv").write_bytes(RAW + b"3,bird\n")
            prep.log_artifact(data, name="digits", type="dataset", aliases=["best"],
                              metadata={"rows": 3})
        with nbtrack.init(name="train", capture_env=False) as train:
            train.use_artifact("digits:best")
            art = nbtrack.Artifact("clf", "model", metadata={"flavor": "sklearn"})
            art.add({"coef": [1, 2]}, "weights")
            train.log_artifact(art)
        with start_jupyter_server(root) as running:
            running.root = root
            yield running


def test_the_list_names_each_artifact_with_its_latest_version(server: Any) -> None:
    listing = server.get("artifacts")
    assert_shape(listing, model.ArtifactsResponse)
    for item in listing["artifacts"]:
        assert_shape(item, model.ArtifactSummary)
    by_name = {a["name"]: a for a in listing["artifacts"]}
    assert sorted(by_name) == ["clf", "digits"]
    digits = by_name["digits"]
    assert (digits["type"], digits["versions"], digits["latest"]) == ("dataset", 2, "v1")
    assert digits["aliases"] == {"latest": "v1", "best": "v1"}
    assert digits["size"] == len(RAW) + len(b"3,bird\n") + len(NESTED)
    assert [a["name"] for a in server.get("artifacts", type="model")["artifacts"]] == ["clf"]
    assert server.get("artifacts", type="nothing")["artifacts"] == []
    status, error = server.request("GET", "artifacts", params={"type": "no/such"})
    assert status == 400 and "artifact type" in error["error"]


def test_an_artifact_shows_its_versions_files_and_runs(server: Any) -> None:
    detail = server.get("artifacts/digits")
    assert_shape(detail, model.ArtifactDetail)
    assert (detail["name"], detail["type"]) == ("digits", "dataset")
    v1, v0 = detail["versions"]
    for version in (v1, v0):
        assert_shape(version, model.ArtifactVersionRecord)
    assert (v1["version"], v1["aliases"], v1["metadata"]) == ("v1", ["latest", "best"],
                                                              {"rows": 3})
    assert (v0["version"], v0["aliases"], v0["metadata"]) == ("v0", [], {"rows": 2})
    assert [f["path"] for f in v0["files"]] == ["labels.csv", "shards/s0.bin"]
    assert_shape(v0["files"][0], model.ArtifactFile)
    assert v0["files"][0]["size"] == len(RAW)
    assert v1["producer"] is not None and v1["producer"]["name"] == "prep"
    assert_shape(v1["producer"], model.ArtifactRun)
    assert [c["name"] for c in v1["consumers"]] == ["train"]
    assert v0["consumers"] == []
    status, error = server.request("GET", "artifacts/nope")
    assert status == 404 and "nope" in error["error"]


def test_a_file_downloads_as_an_attachment_that_never_runs(server: Any) -> None:
    status, headers, body = raw(server, "artifacts/digits/v0/files/labels.csv")
    assert status == 200 and body == RAW
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith('attachment; filename="labels.csv"')
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("sandbox")
    status, _, body = raw(server, "artifacts/digits/best/files/labels.csv")
    assert status == 200 and body == RAW + b"3,bird\n"
    status, headers, body = raw(server, "artifacts/digits/v1/files/shards/s0.bin")
    assert status == 200 and body == NESTED
    assert 'filename="s0.bin"' in headers["Content-Disposition"]


@pytest.mark.parametrize("path", [
    "artifacts/digits/v0/files/nope.csv",
    "artifacts/digits/v0/files/../../../../nbtrack.db",
    "artifacts/digits/v0/files/..%2F..%2F..%2Fnbtrack.db",
    "artifacts/digits/v0/files/shards/../labels.csv",
    "artifacts/digits/v9/files/labels.csv",
    "artifacts/nope/v0/files/labels.csv",
])
def test_only_files_of_the_versions_manifest_are_served(server: Any, path: str) -> None:
    status, headers, body = raw(server, path)
    assert status == 404, (path, body[:200])
    assert b"SQLite" not in body and headers["Content-Type"].startswith("application/json")


def test_lineage_of_a_version_shows_the_runs_around_it(server: Any) -> None:
    graph = server.get("lineage", ref="digits:v1")
    assert_shape(graph, model.Lineage)
    for node in graph["nodes"]:
        assert_shape(node, model.LineageNode)
    assert graph["root"] == "artifact:digits:v1"
    labels = {(n["kind"], n["name"], n["version"]) for n in graph["nodes"]}
    assert labels == {("artifact", "digits", "v1"), ("run", "prep", None),
                      ("run", "train", None), ("artifact", "clf", "v0")}
    ids = {n["name"]: n["id"] for n in graph["nodes"] if n["kind"] == "run"}
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {
        (ids["prep"], "artifact:digits:v1"), ("artifact:digits:v1", ids["train"]),
        (ids["train"], "artifact:clf:v0")}
    assert server.get("lineage", ref="train")["root"] == ids["train"]
    for params, code in (({"ref": "digits:v7"}, 404), ({"ref": "nope:v0"}, 404),
                         ({"ref": "ghost"}, 404), ({}, 400), ({"ref": "digits:a b"}, 400)):
        status, error = server.request("GET", "lineage", params=params)
        assert status == code, (params, error)
        assert set(error) == {"error", "status"}


def test_the_run_detail_lists_what_the_run_used_and_produced(server: Any) -> None:
    train = server.get("runs/train")
    assert_shape(train, model.RunDetail)
    assert_shape(train["artifacts"], model.RunArtifacts)
    (used,) = train["artifacts"]["inputs"]
    (made,) = train["artifacts"]["outputs"]
    assert_shape(used, model.ArtifactLink)
    assert (used["ref"], used["type"], made["ref"], made["type"]) == (
        "digits:v1", "dataset", "clf:v0", "model")
    prep = server.get("runs/prep")["artifacts"]
    assert prep["inputs"] == [] and [o["ref"] for o in prep["outputs"]] == ["digits:v0",
                                                                           "digits:v1"]


@pytest.mark.parametrize("path", ["artifacts", "artifacts/digits", "lineage?ref=digits:v0",
                                  "artifacts/digits/v0/files/labels.csv"])
def test_every_artifact_route_needs_the_token(server: Any, path: str) -> None:
    status, _, body = raw(server, path, token=None)
    assert status == 403 and RAW not in body
    status, _, _ = raw(server, path, token="wrong")
    assert status == 403


def test_an_empty_workspace_has_no_artifacts(jupyter_server: Any, workspace: Path) -> None:
    assert jupyter_server.get("artifacts") == {"artifacts": []}
    status, _ = jupyter_server.request("GET", "artifacts/digits")
    assert status == 404
