"""``GET models`` and ``GET models/{name}`` on a real Jupyter server with token auth."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack import model

SIGNATURE = {"inputs": [{"name": "x", "type": "double"}], "outputs": [{"name": None,
                                                                       "type": "long"}]}


def _model(root: Path, name: str, content: bytes, **metadata: object) -> nbtrack.Artifact:
    file = root / "files" / f"{name}-{content.hex()}.bin"
    file.parent.mkdir(exist_ok=True)
    file.write_bytes(content)
    art = nbtrack.Artifact(name, type="model", metadata=metadata)
    art.add_file(file, "model/weights.bin")
    return art


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_jupyter_server: Any) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("models-served")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(root))
        with nbtrack.init(name="trainer", capture_env=False) as run:
            run.log_artifact(_model(root, "clf", b"w0", flavor="sklearn", signature=SIGNATURE))
            run.log_artifact(_model(root, "clf", b"w1"))
        nbtrack.register_model("clf:v0", "iris", aliases=["production"],
                               tags={"stage": "prod"}, description="first")
        nbtrack.register_model("clf:v1", "iris")
        nbtrack.set_model_description("iris", "Iris species classifier")
        nbtrack.set_model_tag("iris", "owner", "ml-team")
        nbtrack.register_model("clf:v1", "another")
        with start_jupyter_server(root) as running:
            running.run = run
            yield running


def assert_shape(data: dict[str, Any], shape: type) -> None:
    assert set(data) == set(typing.get_type_hints(shape)), shape.__name__


def test_the_models_list(server: Any) -> None:
    listing = server.get("models")
    assert_shape(listing, model.ModelsResponse)
    for entry in listing["models"]:
        assert_shape(entry, model.ModelSummary)
    iris, another = sorted(listing["models"], key=lambda m: m["name"] != "iris")
    assert (iris["name"], iris["versions"], iris["latest_version"]) == ("iris", 2, 2)
    assert iris["aliases"] == {"production": 1} and iris["tags"] == {"owner": "ml-team"}
    assert iris["description"] == "Iris species classifier"
    assert isinstance(iris["updated"], float)
    assert (another["name"], another["versions"], another["aliases"]) == ("another", 1, {})


def test_one_model_with_its_versions(server: Any) -> None:
    detail = server.get("models/iris")
    assert_shape(detail, model.ModelDetail)
    assert detail["aliases"] == {"production": 1} and detail["tags"] == {"owner": "ml-team"}
    one, two = detail["versions"]
    for version in (one, two):
        assert_shape(version, model.ModelVersionRecord)
        assert_shape(version["run"], model.ModelVersionRun)
    assert (one["version"], one["artifact"], one["aliases"]) == (1, "clf:v0", ["production"])
    assert (one["flavor"], one["signature"]) == ("sklearn", SIGNATURE)
    assert (one["description"], one["tags"]) == ("first", {"stage": "prod"})
    assert one["run"] == {"number": server.run.number, "run_id": server.run.id,
                          "name": "trainer"}
    assert (two["artifact"], two["flavor"], two["signature"], two["aliases"]) == (
        "clf:v1", None, None, [])


def test_a_change_shows_in_the_next_answer(server: Any) -> None:
    nbtrack.set_alias("iris", "champion", 2, workspace=server.root)
    try:
        assert server.get("models/iris")["aliases"] == {"champion": 2, "production": 1}
    finally:
        nbtrack.delete_alias("iris", "champion", workspace=server.root)


def test_an_unknown_model_is_404_and_a_bad_name_400(server: Any) -> None:
    status, body = server.request("GET", "models/nope")
    assert status == 404
    assert_shape(body, model.ErrorResponse)
    assert body == {"error": "no registered model named 'nope'", "status": 404}
    status, body = server.request("GET", "models/bad%20name")
    assert status == 400 and "model name 'bad name' is not allowed" in body["error"]


@pytest.mark.parametrize("path", ["models", "models/iris", "models/nope"])
def test_every_route_needs_the_token(server: Any, path: str) -> None:
    assert server.request("GET", path, token=None)[0] == 403
    assert server.request("GET", path, token="wrong")[0] == 403
