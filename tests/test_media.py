"""Rich values logged with log(): what goes in comes back, bad input loses nothing, blobs are
stored once, survive crashes whole and are collected only when nothing references them."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image as PILImage

import nbtrack
from nbtrack.cli import main as cli
from nbtrack.store import blobs

matplotlib.use("Agg")

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)


def blob_files(ws: Path) -> list[Path]:
    return [p for p in (ws / ".nbtrack" / "blobs").rglob("*") if p.is_file()]


def test_every_kind_reads_back_as_it_was_logged(workspace: Path) -> None:
    import altair as alt
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1, 3, 2])
    chart = alt.Chart(alt.Data(values=[{"x": 1, "y": 2}])).mark_point().encode(x="x:Q", y="y:Q")
    plot = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    frame = pd.DataFrame({"id": [1, 2, 3], "label": ["cat", "dog", "cow"], "p": [0.9, 0.5, None]})
    wave = np.sin(np.linspace(0, 2 * np.pi * 440, 8000)) * 0.5
    with nbtrack.init(name="rich") as run:
        run.log({
            "loss": 0.5,
            "img": nbtrack.Image(RGB, caption="a batch"),
            "gray": nbtrack.Image(RNG.random((20, 30))),
            "pil": PILImage.fromarray(RGB),
            "table": nbtrack.Table(frame),
            "rows": nbtrack.Table(rows=[[1, "a"], [2, "b"]], columns=["n", "s"]),
            "hist": nbtrack.Histogram(RNG.normal(size=5000), bins=32),
            "pre": nbtrack.Histogram(counts=[1, 2, 3], edges=[0, 1, 2, 3]),
            "voice": nbtrack.Audio(wave, rate=8000, caption="a"),
            "note": nbtrack.Text("hello\nworld"),
            "page": nbtrack.Html("<b>bold</b><script>alert(1)</script>"),
            "mpl": fig, "altair": chart, "plotly": plot,
            "batch": [nbtrack.Image(RGB), nbtrack.Image(RGB[:16, :16])],
        }, step=3)
    history = nbtrack.get_run("rich").history()
    assert history.values("loss") == [0.5]
    img = history["img"]["value"][0]
    assert history["img"]["step"] == [3] and img.caption == "a batch"
    assert (img.to_numpy() == RGB).all() and img.meta["width"] == 64
    assert img.to_pil().size == (64, 48)
    gray = history["gray"]["value"][0].to_numpy()
    assert gray.shape == (20, 30, 1) and gray.dtype == np.uint8
    assert (history["pil"]["value"][0].to_numpy() == RGB).all()
    table = history["table"]["value"][0].to_pandas()
    assert table["label"].tolist() == ["cat", "dog", "cow"] and table["p"].isna().tolist()[2]
    assert history["rows"]["value"][0].to_pandas().to_dict("list") == {"n": [1, 2],
                                                                       "s": ["a", "b"]}
    hist = history["hist"]["value"][0]
    assert hist.to_numpy().sum() == 5000 and len(hist.meta["edges"]) == 33
    assert history["pre"]["value"][0].to_pandas()["count"].tolist() == [1, 2, 3]
    voice = history["voice"]["value"][0]
    assert voice.meta["rate"] == 8000 and voice.to_numpy().shape == (8000, 1)
    assert abs(voice.to_numpy()[:, 0] / 32767 - wave).max() < 1e-4
    assert history["note"]["value"][0].text == "hello\nworld"
    page = history["page"]["value"][0]
    assert "<script>" in page.text and 'sandbox=""' in page._repr_html_()
    assert history["mpl"]["value"][0].to_pil().size[0] > 100
    assert history["altair"]["value"][0].spec["mark"]["type"] == "point"
    assert history["plotly"]["value"][0].spec["data"][0]["type"] == "scatter"
    batch = history["batch"]
    assert batch["step"] == [3, 3] and [i.meta["width"] for i in batch["value"]] == [64, 16]


@pytest.mark.parametrize(("value", "error", "says"), [
    (lambda: nbtrack.Image(np.full((4, 4), np.nan)), ValueError, "NaN"),
    (lambda: nbtrack.Image(np.ones((4, 4)) * 2.0), ValueError, r"\[0, 1\]"),
    (lambda: nbtrack.Image(np.zeros((4, 4, 2), np.uint8)), ValueError, "HxWx1/3/4"),
    (lambda: nbtrack.Image(np.zeros((2, 4, 4, 3), np.uint8)), ValueError, "HxW"),
    (lambda: nbtrack.Image(np.array([["a"]])), ValueError, "uint8"),
    (lambda: nbtrack.Image({"not": "an image"}), TypeError, "numpy array"),
    (lambda: nbtrack.Image("/no/such/file.png"), ValueError, "cannot read"),
    (lambda: nbtrack.Table(rows=[[1, 2], [3]], columns=["a", "b"]), ValueError, "row 1"),
    (lambda: nbtrack.Table(rows=[[0]] * 100_001, columns=["a"]), ValueError, "100,000"),
    (lambda: nbtrack.Table(pd.Series([1, 2])), TypeError, "Series"),
    (lambda: nbtrack.Table(), TypeError, "DataFrame"),
    (lambda: nbtrack.Histogram(np.ones(10), bins=513), ValueError, "512"),
    (lambda: nbtrack.Histogram(counts=[1, 2], edges=[0, 1]), ValueError, "one longer"),
    (lambda: nbtrack.Histogram([np.nan, np.inf]), ValueError, "finite"),
    (lambda: nbtrack.Audio(np.zeros(10)), ValueError, "rate"),
    (lambda: nbtrack.Audio(np.zeros((2, 2, 2)), rate=8000), ValueError, "1-D"),
    (lambda: nbtrack.Audio(np.array([0.0, np.nan]), rate=8000), ValueError, "NaN"),
    (lambda: nbtrack.Text(b"bytes"), TypeError, "str"),
    (lambda: [nbtrack.Image(RGB), nbtrack.Text("x")], TypeError, "one kind"),
    (lambda: object(), TypeError, "rich values"),
])
def test_a_bad_value_names_its_key_and_nothing_of_the_call_is_stored(
    workspace: Path, value, error, says: str
) -> None:
    with nbtrack.init(name="bad") as run:
        with pytest.raises(error, match=says) as raised:
            run.log({"loss": 1.0, "sample": value(), "ok": nbtrack.Text("kept?")}, step=0)
        assert "'sample'" in str(raised.value)
        run.log({"loss": 0.5}, step=1)
    history = run.history()
    assert list(history) == ["loss"] and history.steps("loss") == [1]


def test_the_caller_may_change_its_array_after_log(workspace: Path) -> None:
    pixels = RGB.copy()
    with nbtrack.init() as run:
        run.log({"img": nbtrack.Image(pixels)})
        pixels[:] = 0  # the training loop reuses its buffer at once
    assert (run.history("img")["img"]["value"][0].to_numpy() == RGB).all()


def test_identical_content_is_stored_once_and_named_by_its_hash(workspace: Path) -> None:
    with nbtrack.init() as run:
        for step in range(5):
            run.log({"same": nbtrack.Image(RGB), "text": nbtrack.Text("constant")}, step=step)
    files = blob_files(workspace)
    assert len(files) == 2
    for file in files:
        assert file.name == hashlib.sha256(file.read_bytes()).hexdigest()
        assert file.parent.name == file.name[:2]
    assert len(run.history("same")["same"]["value"]) == 5


def test_a_step_logged_again_replaces_its_values(workspace: Path) -> None:
    with nbtrack.init() as run:
        run.log({"imgs": [nbtrack.Image(RGB), nbtrack.Image(RGB[:8])]}, step=0)
        run.log({"imgs": nbtrack.Image(RGB[:4])}, step=0)
    series = run.history("imgs")["imgs"]
    assert series["step"] == [0] and series["value"][0].meta["height"] == 4


def test_media_are_exported_with_their_files(workspace: Path) -> None:
    with nbtrack.init(name="exported") as run:
        run.log({"img": nbtrack.Image(RGB, caption="c"), "h": nbtrack.Histogram([1, 2, 3])})
    result = CliRunner().invoke(cli, ["export", "media", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    by_key = {r["key"]: r for r in rows}
    assert by_key["img"]["kind"] == "image" and by_key["img"]["meta"]["caption"] == "c"
    file = workspace / ".nbtrack" / by_key["img"]["file"]
    assert PILImage.open(file).size == (64, 48)
    assert by_key["h"]["file"] is None and sum(by_key["h"]["meta"]["counts"]) == 3


LOGGER = """
import sys, numpy as np, nbtrack
rng = np.random.default_rng(int(sys.argv[1]))
run = nbtrack.init(name="images", capture_env=False)
print("started", flush=True)
step = 0
while True:
    run.log({"img": nbtrack.Image(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))},
            step=step)
    step += 1
"""


def start_logger(ws: Path, seed: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LOGGER), str(seed)],
        env={**os.environ, "NBTRACK_DIR": str(ws)}, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    return proc


def referenced(ws: Path) -> set[str]:
    rows = nbtrack.sql("select blob, thumb from media", workspace=ws)
    return {name for r in rows for name in (r["blob"], r["thumb"]) if name}


def test_a_killed_writer_leaves_no_half_blob_under_a_real_name(workspace: Path) -> None:
    proc = start_logger(workspace, 1)
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    files = blob_files(workspace)
    named = [f for f in files if not f.name.startswith(".tmp-")]
    assert len(named) > 10
    for file in named:  # every blob under a real name is whole
        assert file.name == hashlib.sha256(file.read_bytes()).hexdigest()
    store = workspace / ".nbtrack"
    assert referenced(workspace) <= {name for name, _ in blobs.names(store)}


def test_gc_keeps_every_referenced_blob_while_another_process_logs(workspace: Path) -> None:
    store = workspace / ".nbtrack"
    with nbtrack.init(name="old") as old:
        old.log({"img": nbtrack.Image(RGB), "gone": nbtrack.Image(RGB[:10])})
    with nbtrack.init(name="deleted") as deleted:
        deleted.log({"img": nbtrack.Image(RGB[:20])})
    kept_name = old.history("img")["img"]["value"][0].blob
    gone_name = deleted.history("img")["img"]["value"][0].blob
    orphan = blobs.put(store, b"nothing references me")
    two_hours_ago = time.time() - 7200
    for _name, file in blobs.names(store):  # everything so far is old enough to collect
        os.utime(file, (two_hours_ago, two_hours_ago))
    assert CliRunner().invoke(cli, ["rm", "deleted", "--yes"]).exit_code == 0
    proc = start_logger(workspace, 2)
    try:
        logged = 0
        deadline = time.monotonic() + 120
        while logged < 6 and time.monotonic() < deadline:  # gc runs while images arrive
            result = CliRunner().invoke(cli, ["gc"])
            assert result.exit_code == 0, result.output
            logged = nbtrack.sql("select count(*) as n from media where key = 'img' and run ="
                                 " (select number from runs where name = 'images')",
                                 workspace=workspace)[0]["n"]
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    names = {name for name, _ in blobs.names(store)}
    assert kept_name in names  # old but referenced
    assert orphan not in names and gone_name not in names  # old and unreferenced
    assert referenced(workspace) <= names  # nothing the other process logged went missing
    assert len(nbtrack.get_run("images").history("img")["img"]["step"]) >= 6


def test_gc_gives_back_a_blob_a_writer_reuses_while_it_is_being_collected(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer touching an old unreferenced blob between gc's age check and its delete."""
    store = workspace / ".nbtrack"
    name = blobs.put(store, b"reused at the last moment")
    file = blobs.path_of(store, name)
    old = time.time() - 7200
    os.utime(file, (old, old))
    real_rename = os.rename

    def rename_after_a_reuse(src: Path, dst: Path) -> None:
        if Path(src) == file:
            assert blobs.put(store, b"reused at the last moment") == name  # touches it now
        real_rename(src, dst)

    monkeypatch.setattr(blobs.os, "rename", rename_after_a_reuse)
    assert blobs.collect(store, referenced=[]) == 0
    assert file.read_bytes() == b"reused at the last moment"
    assert not list(file.parent.glob(".gc-*"))
