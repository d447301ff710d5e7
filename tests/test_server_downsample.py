"""Downsampling for charts (nbtrack.store.downsample): bounds, ends, spikes, NaN, both scanners."""

from __future__ import annotations

import math
import random
from array import array
from pathlib import Path

import pytest

import nbtrack
from nbtrack import config
from nbtrack.model import MetricSeries
from nbtrack.store import access
from nbtrack.store import downsample as ds


def series(values: list[float], start: int = 0) -> MetricSeries:
    steps = list(range(start, start + len(values)))
    return MetricSeries(
        run_id="r", key="loss", step=steps, value=list(values), time=[float(s) for s in steps],
        cell=[s % 3 or None for s in steps], count=len(values),
        step_min=steps[0] if steps else None, step_max=steps[-1] if steps else None,
        downsampled=False,
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 10, 999, 1000, 1001, 25_000])
@pytest.mark.parametrize("max_points", [2, 3, 4, 5, 10, 1000])
def test_a_reduced_series_respects_the_bound_and_keeps_both_ends(n: int, max_points: int) -> None:
    rng = random.Random(n * 7 + max_points)
    values = [rng.gauss(0, 1) for _ in range(n)]
    keep = ds.select(values, max_points)
    assert len(keep) <= max_points and keep == sorted(set(keep))
    if n <= max_points:
        assert keep == list(range(n))
    else:
        assert keep[0] == 0 and keep[-1] == n - 1


def test_a_single_spike_and_a_single_dip_survive_among_a_million_points() -> None:
    values = array("d", (math.sin(i / 1000) for i in range(1_000_000)))
    values[123_457] = 50.0
    values[876_543] = -50.0
    keep = ds.select(values, 1000)
    assert len(keep) <= 1000 and 123_457 in keep and 876_543 in keep


def test_each_bucket_keeps_its_lowest_and_highest_point() -> None:
    values = [float(v) for v in [5, 1, 9, 3, 2, 8, 7, 0, 6, 4]]
    # max 6 -> 2 buckets over the 8 inner points: [1..4] and [5..8]
    assert ds.select(values, 6) == [0, 1, 2, 5, 7, 9]


def test_nan_is_never_chosen_as_an_extreme() -> None:
    nan = math.nan
    values = [0.0, nan, 3.0, -1.0, nan, nan, nan, nan, 2.0, nan, 5.0]
    keep = ds.select(values, 6)  # buckets: [1..4] [5..9]
    assert keep == [0, 2, 3, 8, 10]
    assert ds.select([nan] * 50, 10) == [0, 49]  # only the ends of an all-NaN series


def test_too_small_a_bound_is_an_error() -> None:
    for bad in (1, 0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_points"):
            ds.select([1.0, 2.0, 3.0], bad)  # type: ignore[arg-type]


@pytest.mark.skipif(ds._numpy() is None, reason="numpy is not installed")
@pytest.mark.parametrize("seed", range(5))
def test_the_numpy_scanner_picks_the_same_points_as_the_pure_python_one(seed: int) -> None:
    rng = random.Random(seed)
    values = array("d", (math.nan if rng.random() < 0.2 else rng.choice([0.0, 1.0, rng.random()])
                         for _ in range(30_000)))
    values[:700] = array("d", [math.nan] * 700)  # a whole bucket of NaN
    bounds = [(1 + b * 29_998 // 97, 1 + (b + 1) * 29_998 // 97) for b in range(97)]
    assert ds._extremes_numpy(values, bounds) == ds._extremes_python(values, bounds)
    as_list = values.tolist()
    assert ds._extremes_numpy(as_list, bounds) == ds._extremes_python(as_list, bounds)


def test_downsample_keeps_points_aligned_and_says_it_reduced() -> None:
    values = [float(i % 17) for i in range(500)]
    values[250] = None  # type: ignore[call-overload]  # a NaN read back as null
    reduced = ds.downsample(series(values, start=100), 50)
    assert reduced["downsampled"] is True and len(reduced["step"]) <= 50
    assert reduced["count"] == 500
    assert (reduced["step_min"], reduced["step_max"]) == (100, 599)
    for step, value, when, cell in zip(reduced["step"], reduced["value"], reduced["time"],
                                       reduced["cell"]):
        i = step - 100
        assert (value, when, cell) == (values[i], float(step), step % 3 or None)
    assert 250 + 100 not in reduced["step"]
    short = series([1.0, 2.0, 3.0])
    assert ds.downsample(short, 10) == short and ds.downsample(short, 10) is not short


def test_a_cached_long_series_is_read_again_once_points_are_added(workspace: Path) -> None:
    run = nbtrack.init("long", capture_env=False)
    for _ in range(30_000):
        run.log({"loss": 1.0})
    run.history()  # flush
    cache = ds.SeriesCache(min_points=10_000)

    def read() -> MetricSeries:
        db = access.connect(config.db_path(), readonly=True)
        try:
            (found,) = ds.read_series(db, run.number, run.id, ["loss"], max_points=100,
                                      cache=cache)
        finally:
            db.close()
        return found

    first = read()
    assert first["step_max"] == 29_999 and first["count"] == 30_000
    assert read() is first  # nothing added: answered from the cache
    run.log({"loss": 80.0}, step=30_000)
    run.log({"loss": 1.0}, step=30_001)
    run.history()
    second = read()
    assert second is not first
    assert second["count"] == 30_002 and second["step_max"] == 30_001
    assert 30_000 in second["step"]  # the new spike
    run.finish()


@pytest.mark.parametrize("out_of_order", [False, True])
def test_points_read_for_downsampling_are_the_stored_series(
    workspace: Path, out_of_order: bool
) -> None:
    from nbtrack.store import queries

    run = nbtrack.init("steps", capture_env=False)
    for step in range(20_000):
        run.log({"loss": step * 0.5}, step=step)
        if step % 7_000 == 6_999:
            run.history()  # flush: the series spans several batches and chunks
    if out_of_order:
        run.log({"loss": -1.0}, step=5)  # logged again: the later point wins
        run.log({"loss": -2.0}, step=25_000)
        run.log({"loss": -3.0}, step=20_500)
    run.finish()
    db = access.connect(config.db_path(), readonly=True)
    try:
        for after in (None, -1, 0, 6_999, 7_000, 19_999, 30_000):
            ours = ds.read_points(db, run.number, "loss", after_step=after)
            theirs = queries.metric_arrays(db, run.number, "loss", after_step=after)
            assert (ours.steps, ours.values, ours.times, ours.cells) == (
                theirs.steps, theirs.values, theirs.times, theirs.cells), after
        if out_of_order:
            whole = ds.read_points(db, run.number, "loss")
            assert whole.values[5] == -1.0 and whole.steps[-2:].tolist() == [20_500, 25_000]
    finally:
        db.close()
