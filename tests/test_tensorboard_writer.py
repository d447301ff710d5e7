"""``nbtrack.tensorboard.SummaryWriter`` against tensorboardX: the same calls made to both,
tensorboardX's event files read back with TensorBoard's own reader, and what nbtrack
recorded compared with them (scalars point for point, rich values by kind, step and pixels)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
import tensorboardX
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import nbtrack
from nbtrack.tensorboard import SummaryWriter

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HPARAMS = {"lr": 0.01, "layers": 3, "optimizer": "adam", "batch_norm": True}


def training_calls(writer: Any, make: Callable[[Any], Any]) -> None:
    """What a training script writes; ``make`` turns numpy data into the script's tensors."""
    rng = np.random.default_rng(0)
    for step in range(6):
        writer.add_scalar("train/loss", make(np.float32(1.0 / (step + 1))), step)
        writer.add_scalar("lr", 0.1 * 0.9**step, global_step=step)
        writer.add_scalars("acc", {"train": make(np.float64(step / 10)), "val": step / 20},
                           step)
        if step % 2 == 0:
            writer.add_histogram("weights", make(rng.normal(size=1000)), step)
            writer.add_image("sample", make(rng.random((3, 16, 12), dtype=np.float32)), step)
            writer.add_image("gray", make(rng.integers(0, 256, (10, 14), dtype=np.uint8)), step,
                             dataformats="HW")
            writer.add_images("batch", make(rng.random((4, 3, 8, 8))), step)
            writer.add_text("note", f"step {step}: fine", step)
    figure = plt.figure(figsize=(2, 1.5), dpi=50)
    plt.plot([0, 1, 2], [2, 0, 1])
    writer.add_figure("curve", figure, 5)
    assert not plt.fignum_exists(figure.number)  # close=True
    writer.add_hparams(HPARAMS, {"hparam/best_acc": 0.45}, global_step=5)


def read_events(log_dir: Path) -> dict[str, dict[str, Any]]:
    """Per kind, per nbtrack key, what tensorboardX wrote: scalars of the sub-runs that
    ``add_scalars``/``add_hparams`` make are keyed by their sub-run (``acc/train``)."""
    found: dict[str, dict[str, Any]] = {"scalars": {}, "histograms": {}, "images": {},
                                        "text": {}}
    for folder in sorted({p.parent for p in log_dir.rglob("events.out.tfevents.*")}):
        acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                           "images": 0, "tensors": 0})
        acc.Reload()
        sub = folder.relative_to(log_dir).as_posix()
        tags = acc.Tags()
        for tag in tags["scalars"]:
            key = tag if sub == "." or tag.startswith("hparam/") else sub
            found["scalars"][key] = [(e.step, e.value) for e in acc.Scalars(tag)]
        for tag in tags["histograms"]:
            found["histograms"][tag] = acc.Histograms(tag)
        for tag in tags["images"]:
            found["images"][tag] = acc.Images(tag)
        for tag in tags["tensors"]:
            if tag.endswith("/text_summary"):
                found["text"][tag[: -len("/text_summary")]] = acc.Tensors(tag)
    return found


def pixels(encoded: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(encoded)))


@pytest.mark.parametrize("tensors", ["numpy", "torch"])
def test_the_same_calls_record_what_tensorboardx_writes(
        workspace: Path, tmp_path: Path, tensors: str) -> None:
    make: Callable[[Any], Any] = (
        (lambda a: a) if tensors == "numpy" else (lambda a: torch.as_tensor(np.asarray(a))))
    with tensorboardX.SummaryWriter(str(tmp_path / "tbx")) as tbx:
        training_calls(tbx, make)
    with SummaryWriter(f"runs/{tensors}") as writer:
        training_calls(writer, make)
    events = read_events(tmp_path / "tbx")
    run = nbtrack.get_run(f"runs/{tensors}")
    assert run.status == "finished"
    assert run.params == HPARAMS
    history = run.history()

    scalars = events["scalars"]
    assert set(scalars) == {"train/loss", "lr", "acc/train", "acc/val", "hparam/best_acc"}
    assert set(scalars) == set(run.record()["summary"])
    for key, points in scalars.items():
        assert history.steps(key) == [step for step, _ in points], key
        assert history.values(key) == pytest.approx([v for _, v in points], rel=1e-6), key

    for key, kind in [("weights", "histogram"), ("sample", "image"), ("gray", "image"),
                      ("batch", "image"), ("note", "text"), ("curve", "image")]:
        assert history[key]["kind"] == kind, key
    for key, written in events["histograms"].items():
        assert sorted(set(history.steps(key))) == [e.step for e in written]
        for item, event in zip(history.values(key), written):
            assert item.to_numpy().sum() == event.histogram_value.num == 1000
    for key in ("sample", "gray", "curve"):
        written = events["images"][key]
        assert history.steps(key) == [e.step for e in written], key
        for item, event in zip(history.values(key), written):
            theirs, ours = pixels(event.encoded_image_string), item.to_numpy()
            if ours.shape[2] == 1:  # grey stays grey here; TensorBoard makes it RGB
                theirs = theirs[:, :, :1]
            assert np.array_equal(ours, theirs), key
    # A batch is one grid image in TensorBoard and one image per batch item here.
    grids = events["images"]["batch"]
    assert history.steps("batch") == [e.step for e in grids for _ in range(4)]
    for i, item in enumerate(history.values("batch")):
        grid = pixels(grids[i // 4].encoded_image_string)
        assert np.array_equal(item.to_numpy(), grid[:, (i % 4) * 8:(i % 4 + 1) * 8]), i
    texts = events["text"]["note"]
    assert history.steps("note") == [e.step for e in texts]
    assert [item.text for item in history.values("note")] == [
        e.tensor_proto.string_val[0].decode() for e in texts]


def test_the_writer_logs_into_the_active_run_and_leaves_it_open(workspace: Path) -> None:
    with nbtrack.init(name="mine") as run:
        writer = SummaryWriter("ignored-name")
        writer.add_scalar("loss", 0.5, 3)
        writer.close()
        assert run.live
        run.log({"after": 1.0}, step=4)
    assert nbtrack.get_run("mine").history().steps("loss") == [3]
    assert [r.name for r in nbtrack.runs()] == ["mine"]


def test_a_writer_without_log_dir_starts_a_run_named_by_its_comment(workspace: Path) -> None:
    writer = SummaryWriter(comment="_lr_0.1")
    assert writer.get_logdir().startswith("runs" + os.sep) and writer.log_dir.endswith("_lr_0.1")
    writer.add_scalar("loss", 1.0)  # no step: TensorBoard's step 0
    writer.close()
    run = nbtrack.get_run("lr_0.1")
    assert run.status == "finished" and run.history().steps("loss") == [0]


BAD_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("scalar from a vector", lambda w: w.add_scalar("x", np.ones(3), 0)),
    ("scalar from a 3-vector tensor", lambda w: w.add_scalar("x", torch.ones(3), 0)),
    ("scalar from an object", lambda w: w.add_scalar("x", object(), 0)),
    ("image of the wrong rank", lambda w: w.add_image("x", np.ones((4, 4)), 0)),
    ("image with a repeated axis", lambda w: w.add_image("x", np.ones((3, 4, 4)), 0,
                                                         dataformats="CCW")),
    ("empty histogram", lambda w: w.add_histogram("x", np.array([]), 0)),
    ("hparams not a dict", lambda w: w.add_hparams([("lr", 1)], {})),
    ("hparam of a list", lambda w: w.add_hparams({"lr": [1]}, {"m": 1.0})),
    ("hparam domain of another type", lambda w: w.add_hparams(
        {"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete={"lr": ["a"]})),
    ("text not a str", lambda w: w.add_text("x", 5, 0)),
    ("scalars not a dict", lambda w: w.add_scalars("x", [1.0], 0)),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[n for n, _ in BAD_CALLS])
def test_arguments_torch_rejects_raise_the_same_exception(
        workspace: Path, tmp_path: Path, call: Callable[[Any], Any]) -> None:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    with TorchWriter(str(tmp_path / "torch")) as theirs:
        with pytest.raises(Exception) as expected:
            call(theirs)
    with SummaryWriter("bad") as ours:
        with pytest.raises(expected.type):
            call(ours)
        ours.add_scalar("still", 1.0, 0)  # the writer goes on
    assert nbtrack.get_run("bad").history().steps("still") == [0]


def test_a_store_that_cannot_be_written_warns_and_training_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NBTRACK_DIR", str(blocker / "workspace"))
    with pytest.warns(nbtrack.TrackingWarning, match="could not start a run"):
        writer = SummaryWriter("nowhere")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nbtrack.TrackingWarning)
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_histogram("w", np.arange(10.0), step)
        writer.close()
    assert nbtrack.active_run() is None


def test_importing_the_writer_imports_neither_torch_nor_numpy() -> None:
    code = ("import sys, nbtrack.tensorboard as tb; w = tb.SummaryWriter; "
            "print(sorted(m for m in ('torch', 'numpy', 'tensorboard', 'tensorboardX') "
            "if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "[]"
