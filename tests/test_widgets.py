"""Inline widgets, checked through their synced state in this Python process.

Outside a kernel ipywidgets talks to a no-op comm; ``NBTRACK_WIDGETS=1`` makes the widget
functions build widgets anyway, so their traits can be read after real logging.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

import nbtrack
from nbtrack import widgets
from nbtrack.run import Run
from nbtrack.store.streaming import StreamDownsampler
from nbtrack.widgets import shared

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def notebook_mode(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NBTRACK_WIDGETS", "1")
    yield workspace


def _points(chart: widgets.LiveChart, key: str) -> tuple[list[float], list[float]]:
    data = chart.series[key]
    return array("d", data["step"]).tolist(), array("d", data["value"]).tolist()


def _count_changes(widget: object, name: str) -> list[int]:
    seen: list[int] = []
    widget.observe(lambda change: seen.append(1), names=[name])  # type: ignore[attr-defined]
    return seen


def test_live_chart_ends_with_every_point_and_the_finished_status(notebook_mode: Path) -> None:
    run = nbtrack.init(name="live")
    chart = widgets.live_chart(run)
    assert isinstance(chart, widgets.LiveChart)
    assert chart.status == "running"
    for i in range(500):
        run.log({"loss": 1.0 / (i + 1), "acc": i / 500})
    run.finish()
    assert chart.status == "finished"
    assert chart.points == 1000
    assert chart.step == 499
    assert chart.metric_keys == ["loss", "acc"]
    steps, values = _points(chart, "loss")
    assert steps == list(range(500))
    assert values[-1] == pytest.approx(1 / 500)
    assert chart.spec["facet"]["field"] == "key"  # two keys: one panel each
    assert chart.spec["data"] == {"name": chart.data_name}


def test_live_chart_shows_the_latest_rich_values_the_run_logs(notebook_mode: Path) -> None:
    import numpy as np

    run = nbtrack.init(name="live-media")
    chart = widgets.live_chart(run)
    assert chart.media == []
    pixels = np.zeros((8, 8, 3), np.uint8)
    for step in range(3):
        pixels[:] = step * 40
        run.log({"loss": 1.0 / (step + 1), "sample": nbtrack.Image(pixels, caption=f"s{step}"),
                 "note": nbtrack.Text(f"step {step}")}, step=step)
    run.finish()
    shown = {entry["key"]: entry for entry in chart.media}
    assert sorted(shown) == ["note", "sample"]
    assert shown["sample"]["step"] == 2 and shown["sample"]["values"][0]["caption"] == "s2"
    assert shown["sample"]["values"][0]["image"].startswith("data:image/png;base64,")
    assert shown["note"]["values"][0]["text"] == "step 2"
    assert chart.points == 3  # the rich values are not points of the curves


def test_live_chart_without_a_run_follows_the_active_run(notebook_mode: Path) -> None:
    run = nbtrack.init(name="active")
    chart = widgets.live_chart()
    assert isinstance(chart, widgets.LiveChart)
    run.log({"loss": 0.5})
    run.finish()
    assert chart.status == "finished"
    assert chart.points == 1


def test_live_chart_without_a_run_and_none_active_says_how_to_start_one(
    notebook_mode: Path,
) -> None:
    with pytest.raises(RuntimeError, match="nbtrack.init"):
        widgets.live_chart()


def test_ten_thousand_logs_send_a_bounded_number_of_updates(notebook_mode: Path) -> None:
    run = nbtrack.init(name="fast")
    chart = widgets.live_chart(run)
    syncs = _count_changes(chart, "series")
    for i in range(10_000):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    # The follower sends at most LIVE_RATE updates a second plus the final one; a loop this
    # fast takes well under a few seconds, so far fewer than one update per log() call.
    assert 1 <= len(syncs) <= chart.updates <= 50
    assert chart.points == 10_000


def test_a_long_series_is_kept_bounded_with_its_extremes(notebook_mode: Path) -> None:
    run = nbtrack.init(name="long")
    chart = widgets.LiveChart(run, max_points=500)
    for i in range(20_000):
        run.log({"loss": 100.0 if i == 12_345 else 1.0 / (i + 1)})
    run.finish()
    steps, values = _points(chart, "loss")
    assert len(steps) <= 500
    assert steps[0] == 0 and steps[-1] == 19_999  # first and last points kept
    assert max(values) == 100.0  # the spike survives downsampling
    assert steps == sorted(steps)
    assert chart.points == 20_000


def test_live_chart_of_given_keys_ignores_the_others(notebook_mode: Path) -> None:
    run = nbtrack.init(name="keys")
    chart = widgets.live_chart(run, keys=["acc"])
    for i in range(10):
        run.log({"loss": 1.0, "acc": i / 10})
    run.finish()
    assert list(chart.series) == ["acc"]
    assert "facet" not in chart.spec  # one key: one panel


def test_stopping_a_live_chart_freezes_it_and_still_shows_the_final_status(
    notebook_mode: Path,
) -> None:
    run = nbtrack.init(name="stop")
    chart = widgets.live_chart(run)
    run.log({"loss": 1.0})
    chart.close_live()
    run.log({"loss": 0.5})
    assert chart.points == 1
    run.finish("failed")
    assert chart.status == "failed"
    assert chart.points == 1


def test_live_chart_of_a_run_with_earlier_points_starts_from_them(notebook_mode: Path) -> None:
    run = nbtrack.init(name="resumed")
    for i in range(5):
        run.log({"loss": float(i)})
    chart = widgets.live_chart(run)
    for i in range(5, 8):
        run.log({"loss": float(i)})
    run.finish()
    assert _points(chart, "loss")[0] == [float(i) for i in range(8)]
    assert chart.points == 8


def test_live_chart_of_a_finished_run_is_a_static_chart(notebook_mode: Path) -> None:
    with nbtrack.init(name="done") as run:
        run.log({"loss": 1.0})
    chart = widgets.live_chart(nbtrack.get_run(run.number))
    assert chart.status == "finished"
    assert chart.points == 1


def test_nan_points_are_left_out_of_the_live_chart(notebook_mode: Path) -> None:
    run = nbtrack.init(name="nan")
    chart = widgets.live_chart(run)
    run.log({"loss": 1.0})
    run.log({"loss": float("nan")})
    run.log({"loss": 0.5})
    run.finish()
    assert _points(chart, "loss") == ([0.0, 2.0], [1.0, 0.5])


def test_run_card_shows_status_params_summary_and_curves(notebook_mode: Path) -> None:
    with nbtrack.init(name="card", config={"lr": 0.1}, tags=["cnn"]) as run:
        run.log({"loss": float("nan")})
        run.log({"loss": 0.5})
    card = widgets.run_card(run)
    assert isinstance(card, widgets.RunCard)
    assert card.run["status"] == "finished"
    assert card.run["params"] == {"lr": 0.1}
    assert card.run["tags"] == ["cnn"]
    json.dumps(card.run, allow_nan=False)  # NaN never reaches the page
    (rows,) = card.spec["datasets"].values()
    assert [r["value"] for r in rows] == [0.5]


def test_run_card_of_a_long_run_draws_a_bounded_curve(notebook_mode: Path) -> None:
    with nbtrack.init(name="long") as run:
        for i in range(5000):
            run.log({"loss": 100.0 if i == 4321 else 1.0 / (i + 1)})
    (rows,) = widgets.run_card(run).spec["datasets"].values()
    assert len(rows) <= widgets.CHART_POINTS + 2
    assert max(r["value"] for r in rows) == 100.0


def test_runs_table_selection_overlays_the_selected_runs_curves(notebook_mode: Path) -> None:
    for name, lr in (("a", 0.1), ("b", 0.01), ("c", 0.001)):
        with nbtrack.init(name=name, config={"lr": lr}) as run:
            run.log({"loss": lr})
    table = widgets.runs_table()
    assert isinstance(table, widgets.RunsTable)
    assert [r["name"] for r in table.runs] == ["c", "b", "a"]
    assert table.param_keys == ["lr"] and table.metric_keys == ["loss"]
    assert table.spec == {}
    ids = [r["id"] for r in table.runs]
    table.selected = [ids[0], ids[2]]  # as a click in the page does
    assert [r.name for r in table.selected_runs] == ["c", "a"]
    (rows,) = table.spec["datasets"].values()
    assert {r["run"] for r in rows} == {"#3 c", "#1 a"}


def test_runs_table_takes_filters_or_runs(notebook_mode: Path) -> None:
    with nbtrack.init(name="kept", tags=["x"]):
        pass
    with nbtrack.init(name="other"):
        pass
    assert [r["name"] for r in widgets.runs_table(tag="x").runs] == ["kept"]
    assert [r["name"] for r in widgets.runs_table(nbtrack.runs(name="other")).runs] == ["other"]
    assert [r["name"] for r in widgets.runs_table(["kept", 2]).runs] == ["kept", "other"]


def test_diff_view_carries_the_differences(notebook_mode: Path) -> None:
    for lr in (0.1, 0.2):
        with nbtrack.init(name=f"lr{lr}", config={"lr": lr, "bs": 32}) as run:
            run.log({"loss": lr})
    view = widgets.diff_view(nbtrack.diff(1, 2))
    assert isinstance(view, widgets.DiffView)
    changed = [p["key"] for p in view.diff["params"] if not p["equal"]]
    assert changed == ["lr"]
    assert view.diff["metrics"][0]["key"] == "loss"


def test_widgets_share_one_vega_library(notebook_mode: Path) -> None:
    with nbtrack.init(name="one") as run:
        run.log({"loss": 1.0})
    card, table = widgets.run_card(run), widgets.runs_table()
    assert card._vega is table._vega
    assert len(card._vega.source) > 100_000  # the bundle travels once, in the library
    assert len(card._esm) < 100_000  # not in every widget


def test_outside_a_notebook_the_widgets_are_text(workspace: Path) -> None:
    with nbtrack.init(name="plain", config={"lr": 0.1}) as run:
        run.log({"loss": 0.25})
    with nbtrack.init(name="second", config={"lr": 0.2}) as other:
        other.log({"loss": 0.5})
    card = widgets.run_card(run)
    assert isinstance(card, widgets.TextView)
    assert "#1 plain" in repr(card) and "lr=0.1" in repr(card) and "loss=0.25" in repr(card)
    assert "second" in repr(widgets.runs_table())
    assert widgets.runs_table().selected == []
    assert "lr" in repr(widgets.diff_view(nbtrack.diff(1, 2)))
    live = widgets.live_chart(other)
    live.close()
    assert "#2 second" in repr(live)


def test_a_script_can_show_runs_and_plot_them(workspace: Path) -> None:
    script = (
        "import nbtrack\n"
        "with nbtrack.init(name='s', config={'lr': 0.1}) as run:\n"
        "    run.log({'loss': 0.5})\n"
        "run.show()\n"
        "nbtrack.show_runs()\n"
        "nbtrack.diff(1, 1).show()\n"
        "print(type(nbtrack.plot([run], 'loss')).__name__)\n"
        "print(type(run.plot('loss')).__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=workspace, env=env).stdout
    assert "#1 s  [finished]" in out
    assert out.count("Chart") == 2


def test_a_missing_vega_bundle_names_the_build_command(
    notebook_mode: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shared, "BUNDLE", tmp_path / "missing.js")
    monkeypatch.setattr(shared, "_lib", None)
    with nbtrack.init(name="x") as run:
        pass
    with pytest.raises(widgets.BundleMissingError, match="npm run build:vega"):
        widgets.run_card(run)


# -- live chart: seeding, two charts, finish ---------------------------------------------------

@pytest.mark.parametrize("ending", ["finish", "stop then finish"])
def test_live_chart_of_a_run_with_earlier_points_shows_later_points_at_earlier_steps(
    notebook_mode: Path, ending: str
) -> None:
    run = nbtrack.init(name="seeded")
    for i in range(0, 10, 2):
        run.log({"loss": float(i)}, step=i)
    chart = widgets.live_chart(run)
    run.log({"loss": 3.0}, step=3)  # a step below the ones the chart was seeded with
    run.log({"loss": -2.0}, step=2)  # a step logged again: the later point is kept
    run.log({"acc": 0.5}, step=1)
    if ending == "stop then finish":  # what a %%track cell does when its body ends
        chart.stop()
    run.finish()
    stored = nbtrack.get_run(run.number).history()
    assert stored["loss"]["step"] == [0, 2, 3, 4, 6, 8]
    for key in ("loss", "acc"):  # the chart ends as the store reads
        assert _points(chart, key) == (stored[key]["step"], stored[key]["value"])
    assert chart.points == 7
    assert chart.step == 8


def test_a_point_logged_while_the_chart_reads_the_history_is_drawn_once(
    notebook_mode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = nbtrack.init(name="race")
    run.log({"loss": 1.0, "acc": 0.1})
    read = run.history

    def history_with_a_log_first(keys: object = None) -> object:
        # What another thread's log() does between the chart's tap() and its read: the point
        # reaches both the chart's tap and (through the read's flush) the store.
        run.log({"loss": 0.5, "acc": 0.2})
        return read(keys)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "history", history_with_a_log_first)
    chart = widgets.live_chart(run)
    monkeypatch.undo()
    run.log({"loss": 0.25, "acc": 0.3})
    run.finish()
    assert _points(chart, "loss") == ([0.0, 1.0, 2.0], [1.0, 0.5, 0.25])
    assert _points(chart, "acc") == ([0.0, 1.0, 2.0], [0.1, 0.2, 0.3])
    assert chart.points == 6


def test_two_live_charts_on_one_run_both_end_finished_and_stop_following(
    notebook_mode: Path,
) -> None:
    run = nbtrack.init(name="two")
    first, second = widgets.live_chart(run), widgets.live_chart(run, keys=["loss"])
    assert isinstance(first, widgets.LiveChart) and isinstance(second, widgets.LiveChart)
    for i in range(100):
        run.log({"loss": 1.0 / (i + 1), "acc": i / 100})
    run.finish()
    assert (first.status, first.points, first.step) == ("finished", 200, 99)
    assert (second.status, second.points, second.step) == ("finished", 100, 99)
    for chart in (first, second):
        chart._thread.join(timeout=30)
        assert not chart._thread.is_alive()  # the follower thread ended with the run
    assert run._taps == () and not {first._finished, second._finished} & set(run._on_finish)


# -- runs table: one listing -------------------------------------------------------------------

def test_runs_table_rows_come_from_one_listing_not_per_run_reads(
    notebook_mode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        with nbtrack.init(name=name, config={"lr": 0.1}) as run:
            run.log({"loss": 1.0})
    listed = nbtrack.runs()
    runs = list(listed)
    records = listed.records()
    reads: list[int] = []
    record = Run.record

    def counted(self: Run) -> object:
        reads.append(self.number)
        return record(self)

    monkeypatch.setattr(Run, "record", counted)  # run.name, run.status... all read through it
    tables = [widgets.runs_table(), widgets.runs_table(listed), widgets.runs_table(runs),
              widgets.runs_table(records), widgets.runs_table([runs[2], 3, records[1]])]
    assert reads == []
    for table in tables[:4]:
        assert isinstance(table, widgets.RunsTable)
        assert [r["name"] for r in table.runs] == ["c", "b", "a"]
        assert table.param_keys == ["lr"] and table.metric_keys == ["loss"]
    assert [r["name"] for r in tables[4].runs] == ["a", "c", "b"]
    table = tables[2]
    table.selected = [runs[0].id]
    assert table.selected_runs == [runs[0]]
    (rows,) = table.spec["datasets"].values()
    assert {r["run"] for r in rows} == {"#3 c"}


def test_show_runs_returns_the_table_to_read_its_selection(notebook_mode: Path) -> None:
    with nbtrack.init(name="only"):
        pass
    table = nbtrack.show_runs()
    assert isinstance(table, widgets.RunsTable)
    assert table.selected == []
    table.selected = [table.runs[0]["id"]]
    assert [r.name for r in table.selected_runs] == ["only"]


# -- the streaming downsampler (store/streaming.py) --------------------------------------------

def test_streaming_downsampler_keeps_a_bounded_envelope_of_any_stream() -> None:
    rng = random.Random(7)
    for total, chunk in ((10, 3), (5_000, 1), (50_000, 997)):
        values = [rng.gauss(0, 1) for _ in range(total)]
        values[total // 3] = 50.0  # a spike
        values[total // 2] = math.nan  # dropped
        ds = StreamDownsampler(300)
        for start in range(0, total, chunk):
            ds.extend(list(range(start, min(total, start + chunk))), values[start:start + chunk])
        steps, kept = ds.view()
        finite = [v for v in values if math.isfinite(v)]
        assert len(steps) <= 300 + 2
        assert list(steps) == sorted(steps) and steps[0] == 0 and steps[-1] == total - 1
        assert max(kept) == 50.0 and min(kept) == min(finite)
        assert all(values[int(s)] == v for s, v in zip(steps, kept))


# -- the run card's media ---------------------------------------------------------------------

XSS = "</script><script>alert(1)</script>"


def _log_every_kind(run: Run) -> None:
    import altair as alt
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    import plotly.graph_objects as go
    from PIL import Image as PILImage

    rng = np.random.default_rng(0)
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1),
                 "samples": [nbtrack.Image(np.full((256, 200, 3), step * 100, np.uint8),
                                           caption=f"{XSS} {step} {i}") for i in range(10)],
                 "w": nbtrack.Histogram(rng.normal(size=500), bins=32)}, step=step)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2])
    run.log({
        "small": PILImage.fromarray(np.zeros((8, 8), np.uint8)),
        "preds": nbtrack.Table(pd.DataFrame({"id": range(30), "label": [XSS] * 30})),
        "voice": nbtrack.Audio(np.zeros(800), 8000, caption="silence"),
        "note": nbtrack.Text("x" * 5000),
        "page": nbtrack.Html(f"<b>hi</b>{XSS}"),
        "mpl": fig,
        "altair": alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_point().encode(x="a"),
        "plotly": go.Figure(data=[go.Scatter(y=[1, 2])]),
    }, step=5)
    plt.close(fig)


def test_run_card_shows_the_latest_value_of_each_media_key(notebook_mode: Path) -> None:
    import base64
    import io

    from PIL import Image as PILImage

    with nbtrack.init(name="media") as run:
        _log_every_kind(run)
    card = widgets.run_card(run)  # a run with media used to fail drawing its curves
    assert isinstance(card, widgets.RunCard)
    (rows,) = card.spec["datasets"].values()
    assert {r["key"] for r in rows} == {"loss"}
    media = {m["key"]: m for m in card.media}
    assert sorted(media) == ["altair", "mpl", "note", "page", "plotly", "preds", "samples",
                             "small", "voice", "w"]
    samples = media["samples"]
    assert (samples["kind"], samples["step"], samples["steps"]) == ("image", 2, 3)
    assert len(samples["values"]) == 8 and samples["more"] == 2  # bounded per key
    first = samples["values"][0]
    assert first["caption"] == f"{XSS} 2 0"  # sent as data: the page sets it as text
    png = base64.b64decode(first["image"].removeprefix("data:image/png;base64,"))
    thumb = PILImage.open(io.BytesIO(png))
    assert max(thumb.size) == 128 and thumb.getpixel((0, 0)) == (200, 200, 200)
    assert media["small"]["values"][0]["image"].startswith("data:image/png;base64,")
    table = media["preds"]["values"][0]["table"]
    assert table["columns"] == ["id", "label"] and len(table["rows"]) == 10
    assert table["rows"][0] == [0, XSS] and table["total_rows"] == 30
    hist = media["w"]["values"][0]["spec"]
    assert len(hist["data"]["values"]) == 32
    assert media["voice"]["values"][0]["audio"].startswith("data:audio/wav;base64,")
    note = media["note"]["values"][0]
    assert len(note["text"]) == 4000 and note["more"] == 1000
    page = media["page"]["values"][0]["html"]
    assert "Content-Security-Policy" in page and f"<b>hi</b>{XSS}" in page
    assert media["mpl"]["values"][0]["image"].startswith("data:image/png;base64,")
    assert media["altair"]["values"][0]["spec"]["mark"] == {"type": "point"}
    assert media["plotly"]["values"][0]["note"].startswith("A Plotly figure with 1 trace:")
    json.dumps(card.media, allow_nan=False)


def test_run_card_media_is_bounded_with_a_note(notebook_mode: Path) -> None:
    import numpy as np

    from nbtrack.widgets.run_card import card_media

    rng = np.random.default_rng(0)
    with nbtrack.init(name="big") as run:
        run.log({k: nbtrack.Audio(rng.uniform(-1, 1, 40_000), 8000) for k in "abcd"})
    media = card_media(
        [s for s in run.history().values() if s.get("kind")], limit=250_000)
    values = [m["values"][0] for m in media]
    assert sum(len(v.get("audio", "")) for v in values) <= 250_000
    notes = [v["note"] for v in values if "note" in v]
    assert notes == ["This audio is not shown: a card shows at most 0.238 MB of media."] * 2
