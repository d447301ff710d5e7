"""Charts: Vega-Lite specs built from real runs recorded in a real store."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import nbtrack
from nbtrack import charts
from nbtrack.model import MetricSeries, RunRecord


def _series(run_id: str, key: str, values: list[float], start: int = 0) -> MetricSeries:
    steps = list(range(start, start + len(values)))
    return {
        "run_id": run_id, "key": key, "step": steps, "value": list(values),
        "time": [0.0] * len(values), "cell": [None] * len(values), "count": len(values),
        "step_min": steps[0] if steps else None, "step_max": steps[-1] if steps else None,
        "downsampled": False,
    }


def _rows(spec: dict) -> list[dict]:
    """The inline rows of a spec made by ``to_spec`` (one inline dataset)."""
    assert "url" not in json.dumps(spec.get("data", {}))
    (rows,) = spec["datasets"].values()
    return rows


def _marks(spec: dict) -> list[dict]:
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "mark" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


@pytest.fixture
def two_runs(workspace: Path) -> list[nbtrack.Run]:
    runs = []
    for name, scale in (("baseline", 1.0), ("wide", 0.5)):
        with nbtrack.init(name=name, config={"lr": 0.1 * scale, "opt": "sgd"}) as run:
            for step in range(50):
                run.log({"loss": scale / (step + 1), "acc": step / 50 * scale})
        runs.append(run)
    return runs


def _history(runs: list[nbtrack.Run], key: str | None = None) -> list[MetricSeries]:
    return [s for run in runs for s in run.history(key).values()]


def test_plotting_two_runs_draws_two_labelled_lines(two_runs: list[nbtrack.Run]) -> None:
    labels = {r.id: f"#{r.number} {r.name}" for r in two_runs}
    chart = charts.curves(_history(two_runs, "loss"), labels)
    chart.to_dict(validate=True)
    spec = charts.to_spec(chart)
    rows = _rows(spec)
    assert {row["run"] for row in rows} == set(labels.values())
    assert len(rows) == 100
    line = next(m for m in _marks(spec) if m["mark"]["type"] == "line")
    assert line["encoding"]["x"]["field"] == "step"
    assert line["encoding"]["color"]["field"] == "run"
    assert spec["background"] == "transparent"


def test_several_keys_make_one_panel_per_key(two_runs: list[nbtrack.Run]) -> None:
    spec = charts.to_spec(charts.curves(_history(two_runs)))
    assert spec["facet"]["field"] == "key"
    assert {row["key"] for row in _rows(spec)} == {"loss", "acc"}
    assert spec["resolve"]["scale"]["y"] == "independent"


def test_log_scale_sets_a_log_axis_and_drops_non_positive_values() -> None:
    chart = charts.curves([_series("a", "loss", [1.0, 0.0, -2.0, 0.1])], log_scale=True)
    chart.to_dict(validate=True)
    spec = charts.to_spec(chart)
    line = next(m for m in _marks(spec) if m["mark"]["type"] == "line")
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    assert [row["value"] for row in _rows(spec)] == [1.0, 0.1]


def test_nan_values_are_left_out_of_the_line(workspace: Path) -> None:
    with nbtrack.init(name="nan") as run:
        run.log({"loss": 1.0})
        run.log({"loss": math.nan})
        run.log({"loss": 0.5})
    rows = _rows(charts.to_spec(charts.curves(_history([run], "loss"))))
    assert [(row["step"], row["value"]) for row in rows] == [(0, 1.0), (2, 0.5)]


def test_smoothing_adds_a_smoothed_field_drawn_over_the_faint_raw_line() -> None:
    values = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    chart = charts.curves([_series("a", "loss", values)], smoothing=0.6)
    chart.to_dict(validate=True)
    spec = charts.to_spec(chart)
    rows = _rows(spec)
    smoothed = [row["smoothed"] for row in rows]
    assert smoothed[0] == pytest.approx(1.0)  # debiased: the first point is the value itself
    assert max(smoothed[2:]) - min(smoothed[2:]) < 0.5  # flatter than the raw 0/1 zigzag
    lines = [m for m in _marks(spec) if m["mark"]["type"] == "line"]
    assert {m["encoding"]["y"]["field"] for m in lines} == {"value", "smoothed"}
    assert any(m["mark"].get("opacity", 1) < 1 for m in lines)


def test_bad_smoothing_is_refused() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        charts.curves([_series("a", "loss", [1.0])], smoothing=1.0)


def test_runs_sharing_a_name_keep_separate_colors() -> None:
    series = [_series("aaaaaa111", "loss", [1.0]), _series("bbbbbb222", "loss", [2.0])]
    rows = _rows(charts.to_spec(charts.curves(series, {"aaaaaa111": "base",
                                                        "bbbbbb222": "base"})))
    assert len({row["run"] for row in rows}) == 2


def test_to_spec_of_a_modified_chart_still_inlines_the_data() -> None:
    chart = charts.curves([_series("a", "loss", [1.0, 2.0])]).properties(title="changed")
    spec = charts.to_spec(chart)
    assert spec["title"] == "changed"
    assert len(_rows(spec)) == 2


def test_to_spec_inlines_more_rows_than_altairs_default_limit() -> None:
    series = [_series(f"r{i}", "loss", [1.0] * 3000) for i in range(3)]
    assert len(_rows(charts.to_spec(charts.curves(series)))) == 9000


def _records(workspace: Path) -> list[RunRecord]:
    for i, (lr, opt) in enumerate([(0.1, "sgd"), (0.01, "adam"), (0.001, "adam")]):
        with nbtrack.init(name=f"r{i}", config={"lr": lr, "opt": opt, "layers": i + 1}) as run:
            run.log({"loss": 1.0 / (i + 1)})
    with nbtrack.init(name="no-loss", config={"lr": 0.5}) as run:
        run.log({"acc": 1.0})
    return nbtrack.runs().records()


def test_scatter_has_one_point_per_run_with_the_param_and_metric(workspace: Path) -> None:
    chart = charts.scatter(_records(workspace), "lr", "loss")
    chart.to_dict(validate=True)
    spec = charts.to_spec(chart)
    rows = _rows(spec)
    assert sorted(row["param"] for row in rows) == [0.001, 0.01, 0.1]  # no-loss left out
    assert spec["mark"]["type"] == "circle"
    assert spec["encoding"]["x"]["type"] == "quantitative"
    assert spec["encoding"]["x"]["scale"]["type"] == "log"  # lr spans two decades


def test_scatter_of_a_categorical_param_uses_a_nominal_axis(workspace: Path) -> None:
    spec = charts.to_spec(charts.scatter(_records(workspace), "opt", "loss"))
    assert spec["encoding"]["x"]["type"] == "nominal"
    assert {row["param"] for row in _rows(spec)} == {"sgd", "adam"}


def test_parallel_coordinates_draw_one_line_per_run_across_every_axis(workspace: Path) -> None:
    chart = charts.parallel(_records(workspace), ["lr", "opt", "layers"], "loss")
    chart.to_dict(validate=True)
    spec = charts.to_spec(chart)
    lines = [row for row in _rows(spec) if row["kind"] == "line"]
    assert {row["run"] for row in lines} == {"#1 r0", "#2 r1", "#3 r2"}
    assert {row["dim"] for row in lines} == {"lr", "opt", "layers", "loss"}
    assert all(0.0 <= row["pos"] <= 1.0 for row in lines)
    ticks = [row for row in _rows(spec) if row["kind"] == "tick"]
    assert {"adam", "sgd"} <= {row["text"] for row in ticks}


def test_live_curves_read_a_named_dataset() -> None:
    spec = charts.live_curves(["loss"])
    assert spec["data"] == {"name": charts.LIVE_DATA}
    assert "datasets" not in spec
