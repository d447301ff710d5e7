"""``GET runs/{ref}/media`` and ``GET blobs/{name}`` on a real Jupyter server with token auth."""

from __future__ import annotations

import hashlib
import io
import typing
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage

import nbtrack
from nbtrack import model
from nbtrack.store import blobs

RGB = np.random.default_rng(3).integers(0, 256, (200, 300, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_jupyter_server: Any) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("media-served")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(root))
        with nbtrack.init(name="pictures", capture_env=False) as run:
            for step in range(12):
                run.log({"loss": 1 / (step + 1),
                         "img": nbtrack.Image(RGB // (step + 1), caption=f"<b>step {step}</b>")},
                        step=step)
            run.log({"page": nbtrack.Html("<script>alert('x')</script>"),
                     "pair": [nbtrack.Image(RGB[:10, :10]), nbtrack.Image(RGB[:20, :20])],
                     "hist": nbtrack.Histogram([1, 2, 2, 3])}, step=12)
        with nbtrack.init(name="plain", capture_env=False) as plain:
            plain.log({"loss": 1.0})
        with start_jupyter_server(root) as running:
            running.root = root
            yield running


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


def test_a_runs_media_keys_and_the_last_step_of_a_key(server: Any) -> None:
    listing = server.get("runs/pictures/media")
    assert_shape(listing, model.MediaResponse)
    keys = {k["key"]: k for k in listing["keys"]}
    assert sorted(keys) == ["hist", "img", "page", "pair"]
    for key in listing["keys"]:
        assert_shape(key, model.MediaKey)
    assert (keys["img"]["kind"], keys["img"]["count"], keys["img"]["last_step"]) == ("image", 12,
                                                                                     11)
    page = server.get("runs/pictures/media", key="img")
    assert page["steps"] == list(range(12))
    (item,) = page["items"]
    assert_shape(item, model.MediaRecord)
    assert item["step"] == 11 and item["meta"]["caption"] == "<b>step 11</b>"
    assert item["meta"]["width"] == 300 and item["thumb"] is not None
    pair = server.get("runs/pictures/media", key="pair")["items"]
    assert [i["idx"] for i in pair] == [0, 1]


def test_a_step_of_a_key_and_every_step_in_pages(server: Any) -> None:
    first = server.get("runs/pictures/media", key="img", step=0)["items"][0]
    assert first["step"] == 0
    pages = [server.get("runs/pictures/media", key="img", all=1, limit=5, offset=o)["items"]
             for o in (0, 5, 10)]
    assert [i["step"] for page in pages for i in page] == list(range(12))
    status, error = server.request("GET", "runs/pictures/media", params={"key": "img",
                                                                         "step": 99})
    assert status == 400 and "step 99" in error["error"]
    status, error = server.request("GET", "runs/plain/media", params={"key": "img"})
    assert status == 400
    status, _ = server.request("GET", "runs/nope/media")
    assert status == 404


def test_a_blob_is_served_with_its_type_and_its_thumbnail_is_small(server: Any) -> None:
    item = server.get("runs/pictures/media", key="img", step=0)["items"][0]
    status, headers, body = raw(server, f"blobs/{item['blob']}")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert hashlib.sha256(body).hexdigest() == item["blob"]
    assert (np.asarray(PILImage.open(io.BytesIO(body))) == RGB).all()
    status, headers, body = raw(server, f"blobs/{item['thumb']}")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert max(PILImage.open(io.BytesIO(body)).size) <= 128


def test_html_is_served_sandboxed(server: Any) -> None:
    item = server.get("runs/pictures/media", key="page")["items"][0]
    status, headers, body = raw(server, f"blobs/{item['blob']}")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert b"<script>" in body


def test_no_name_reaches_a_file_nbtrack_did_not_store_for_a_run(server: Any) -> None:
    store = server.root / ".nbtrack"
    orphan = blobs.put(store, b"stored by nobody's run")
    status, _, _ = raw(server, f"blobs/{orphan}")
    assert status == 404  # a blob file no media row references
    status, _, _ = raw(server, "blobs/" + "0" * 64)
    assert status == 404
    for name in ("..%2F..%2Fnbtrack.db", "nbtrack.db", "..", "%2e%2e", "ab" * 33):
        status, _, body = raw(server, f"blobs/{name}")
        assert status in (400, 404), (name, status)
        assert b"SQLite format" not in body
    status, _, _ = raw(server, f"blobs/{orphan}", token=None)
    assert status == 403


def test_histograms_have_no_bytes_to_serve(server: Any) -> None:
    item = server.get("runs/pictures/media", key="hist")["items"][0]
    assert item["blob"] is None and item["meta"]["counts"]
    assert Path(server.root).exists()
