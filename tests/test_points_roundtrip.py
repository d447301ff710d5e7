"""What ``log()`` records is what every reader gives back, whatever keys each call names.

Random sequences of ``log()`` calls (random key subsets in random order, with and without
``step``, repeated steps, NaN and infinities, flushes in between, points spread over many packed
chunks, several runs) are compared with a plain-Python model of the calls, read back through
``run.history()``, the server's metrics response, ``nbtrack export metrics``, the report's data
and the summaries that filters and leaderboards use.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbtrack
from nbtrack import recorder, responses
from nbtrack.cli import main as cli
from nbtrack.report.data import read_store
from nbtrack.store import points

KEYS = ("a", "b", "c", "val/loss")
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
)
LOG = st.tuples(
    st.just("log"),
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=len(KEYS), unique=True),  # any order
    st.lists(VALUES, min_size=len(KEYS), max_size=len(KEYS)),
    st.one_of(st.none(), st.integers(min_value=0, max_value=12)),
)
ACTIONS = st.lists(
    st.one_of(LOG, LOG, LOG, LOG, st.just(("flush",)), st.just(("new_run",))),
    min_size=1, max_size=60,
)

Model = dict[str, dict[int, float]]  # key -> step -> value (the later call wins)


def same(a: float | None, b: float | None) -> bool:
    """Equal, with NaN equal to NaN (and to None, as JSON and SQLite write it)."""
    a_nan = a is None or (isinstance(a, float) and math.isnan(a))
    b_nan = b is None or (isinstance(b, float) and math.isnan(b))
    return a_nan and b_nan or (not a_nan and not b_nan and a == b)


def assert_series(model: dict[int, float], steps: list[int], values: list[Any], where: str) -> None:
    want = sorted(model.items())
    assert steps == [s for s, _ in want], where
    assert all(same(v, w) for v, (_, w) in zip(values, want)), (where, values, want)


def play(actions: list[tuple[Any, ...]], ws: Path) -> list[tuple[nbtrack.Run, Model]]:
    """Run the calls against nbtrack and the model; return each run with its model."""
    runs: list[tuple[nbtrack.Run, Model]] = []
    next_step = 0
    for action in actions:
        if action[0] == "new_run" or not runs:
            runs.append((nbtrack.init(workspace=ws, capture_env=False), {}))
            next_step = 0
            if action[0] == "new_run":
                continue
        run, model = runs[-1]
        if action[0] == "flush":
            recorder.flush_all()
            continue
        _, keys, values, step = action
        data = dict(zip(keys, values))
        run.log(data, step=step)
        if step is None:
            step = next_step
        next_step = max(next_step, step + 1)
        for key, value in data.items():
            model.setdefault(key, {})[step] = float(value)
    nbtrack.finish()
    return runs


def check(runs: list[tuple[nbtrack.Run, Model]], ws: Path) -> None:
    path = ws / ".nbtrack" / "nbtrack.db"
    numbers = [run.number for run, _ in runs]
    # 1. run.history()
    for run, model in runs:
        history = run.history()
        assert sorted(history) == sorted(model)
        for key, by_step in model.items():
            assert_series(by_step, history.steps(key), history.values(key), f"history {key}")
    # 2. the server's metrics response (max_points above every series: no downsampling)
    for run, model in runs:
        answer = responses.run_metrics(path, str(run.number), max_points=100_000)
        got = {s["key"]: s for s in answer["series"]}
        assert sorted(got) == sorted(model)
        for key, by_step in model.items():
            assert_series(by_step, got[key]["step"], got[key]["value"], f"GET metrics {key}")
    # 3. nbtrack export metrics (JSON Lines: NaN and infinities are null)
    result = CliRunner().invoke(
        cli, ["export", "metrics", "--format", "jsonl", "--workspace", str(ws)]
    )
    assert result.exit_code == 0, result.output
    exported: dict[tuple[int, str], dict[int, Any]] = {}
    for line in result.output.splitlines():
        row = json.loads(line)
        exported.setdefault((row["run"], row["key"]), {})[row["step"]] = row["value"]
    for run, model in runs:
        for key, by_step in model.items():
            got_points = exported.pop((run.number, key))
            assert sorted(got_points) == sorted(by_step), f"export {key}"
            for step, value in by_step.items():
                expected = value if math.isfinite(value) else None
                assert same(got_points[step], expected), ("export", key, step)
    assert not exported
    # 4. the report's data (a large max_points: every point)
    view = read_store(None, ws, runs=numbers, max_points=100_000)
    for (_run, model), data in zip(runs, view.runs):
        got = {s["key"]: s for s in data.series}
        assert sorted(got) == sorted(model)
        for key, by_step in model.items():
            assert_series(by_step, got[key]["step"], got[key]["value"], f"report {key}")
    # 5. the summaries (filters, leaderboards, run lists)
    for run, model in runs:
        record = nbtrack.get_run(run.number, workspace=ws).record()
        for key, by_step in model.items():
            last = by_step[max(by_step)]
            assert same(record["summary"][key], last), ("summary", key)
        detail = responses.run_detail(path, str(run.number))
        for summary in detail["metrics"]:
            by_step = model[summary["key"]]
            finite = [v for v in by_step.values() if not math.isnan(v)]
            assert summary["count"] == len(by_step)
            assert summary["last_step"] == max(by_step)
            assert same(summary["min"], min(finite) if finite else None)
            assert same(summary["max"], max(finite) if finite else None)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three points per packed chunk, so short sequences span many chunks per key."""
    monkeypatch.setattr(points, "CHUNK_POINTS", 3)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_every_reader_returns_what_was_logged(actions: list[tuple[Any, ...]],
                                              small_chunks: None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        try:
            check(play(actions, ws), ws)
        finally:
            rec = recorder.existing_recorder(ws / ".nbtrack" / "nbtrack.db")
            if rec is not None:
                rec.close()


def test_keys_in_another_order_or_subset_read_back(workspace: Path) -> None:
    """The three cases found on main: same keys reordered, a key added, a key left out."""
    actions = [
        ("log", ["a", "b"], [1.0, 2.0, 0, 0], 0), ("log", ["b", "a"], [4.0, 3.0, 0, 0], 1),
        ("new_run",),
        ("log", ["a", "b"], [1.0, 2.0, 0, 0], 0), ("log", ["a", "b", "c"], [3.0, 4.0, 5.0, 0], 1),
        ("new_run",),
        ("log", ["a", "b"], [1, 2, 0, 0], 0), ("log", ["a"], [3, 0, 0, 0], 1),
    ]
    runs = play(actions, workspace)
    check(runs, workspace)
    third = runs[2][0].history()
    assert third.steps("b") == [0] and third.values("b") == [2.0]


def test_varying_keys_across_real_chunk_boundaries(workspace: Path) -> None:
    """20,000 calls: train metrics every step, validation every 100th, dict order varying."""
    actions: list[tuple[Any, ...]] = []
    for step in range(20_000):
        if step % 100 == 0:
            actions.append(("log", ["val/loss", "a", "b"], [step / 7, step, -step, 0], step))
        elif step % 2:
            actions.append(("log", ["b", "a"], [step * 2, step * 3, 0, 0], None))
        else:
            actions.append(("log", ["a", "b"], [step * 3, step * 2, 0, 0], None))
        if step == 12_345:
            actions.append(("flush",))
    runs = play(actions, workspace)
    assert len(runs[0][0].history("a").steps("a")) == 20_000 > points.CHUNK_POINTS * 2
    check(runs, workspace)
