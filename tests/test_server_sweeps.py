"""``GET sweeps`` and ``GET sweeps/{name}`` on a real Jupyter server with token auth, over
sweeps run with real Optuna into the server's workspace."""

from __future__ import annotations

import hashlib
import math
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack import model
from nbtrack.sweeps import storage

SPACE = {"lr": nbtrack.loguniform(1e-4, 1e-1), "depth": nbtrack.intrange(2, 8),
         "opt": nbtrack.choice("adam", "sgd"), "epochs": 3}


def objective(config: dict[str, Any]) -> float:
    return (math.log10(config["lr"]) + 2) ** 2 + config["depth"] / 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_jupyter_server: Any) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("sweeps-served")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(root))
        calls = iter(range(100))

        def flaky(config: dict[str, Any]) -> float:
            if next(calls) == 3:  # the fourth trial fails
                raise RuntimeError("boom")
            return objective(config)

        running = nbtrack.sweep(flaky, SPACE, n_trials=6, method="random", seed=3,
                                name="search", progress=False)
        nbtrack.sweep(lambda c: c["x"], {"x": nbtrack.uniform(0, 1)}, n_trials=1,
                      name="tiny", goal="max", metric="acc", progress=False)
        runs = list(reversed(list(nbtrack.runs(where='tags has "sweep=search"', limit=None))))
        with start_jupyter_server(root) as served:
            served.sweep = running
            served.runs = runs
            yield served


def assert_shape(data: dict[str, Any], shape: type) -> None:
    assert set(data) == set(typing.get_type_hints(shape)), shape.__name__


def _journal(root: Path, name: str) -> Path:
    return storage.journal_path(name, root)


def test_the_sweeps_list(server: Any) -> None:
    listing = server.get("sweeps")
    assert_shape(listing, model.SweepsResponse)
    for entry in listing["sweeps"]:
        assert_shape(entry, model.SweepSummary)
    assert [s["name"] for s in listing["sweeps"]] == ["tiny", "search"]  # newest first
    tiny, search = listing["sweeps"]
    assert (search["metric"], search["goal"], search["trials"]) == ("val/loss", "minimize", 6)
    assert search["counts"] == {"finished": 5, "failed": 1}
    assert search["best_value"] == pytest.approx(server.sweep.best_value)
    assert search["storage"] == str(_journal(server.root, "search"))
    assert isinstance(search["updated"], float) and search["error"] is None
    assert (tiny["metric"], tiny["goal"], tiny["counts"]) == ("acc", "maximize",
                                                              {"finished": 1})


def test_one_sweep_with_its_space_trials_best_and_importances(server: Any) -> None:
    detail = server.get("sweeps/search")
    assert_shape(detail, model.SweepDetail)
    assert (detail["metric"], detail["goal"], detail["method"], detail["n_trials"]) == (
        "val/loss", "minimize", "random", 6)
    for param in detail["space"]:
        assert_shape(param, model.SweepParam)
    space = {p["name"]: p for p in detail["space"]}
    assert space["lr"]["description"] == "loguniform(0.0001, 0.1)" and space["lr"]["log"]
    assert (space["lr"]["low"], space["lr"]["high"]) == (1e-4, 1e-1)
    assert (space["depth"]["type"], space["depth"]["low"], space["depth"]["high"]) == (
        "intrange", 2, 8)
    assert space["opt"]["values"] == ["adam", "sgd"] and space["opt"]["low"] is None
    assert (space["epochs"]["type"], space["epochs"]["values"]) == ("constant", [3])

    trials = detail["trials"]
    for trial in trials:
        assert_shape(trial, model.SweepTrialRecord)
    assert [t["number"] for t in trials] == list(range(6))
    assert [t["status"] for t in trials] == ["finished"] * 3 + ["failed"] + ["finished"] * 2
    for trial, run in zip(trials, server.runs):
        assert (trial["run_number"], trial["run_id"]) == (run.number, run.id)
        assert trial["params"] == {k: run.params[k] for k in ("lr", "depth", "opt")}
        assert trial["duration"] >= 0 and isinstance(trial["started"], float)
    assert trials[3]["value"] is None
    frame = server.sweep.trials
    assert [t["value"] for t in trials if t["value"] is not None] == pytest.approx(
        list(frame["value"].dropna()))

    best = detail["best"]
    assert_shape(best, model.SweepBest)
    assert best["value"] == pytest.approx(server.sweep.best_value)
    assert best["config"] == server.sweep.best_config and best["config"]["epochs"] == 3
    assert best["run_id"] == server.sweep.best_run.id
    assert best["run_number"] == server.sweep.best_run.number

    importances = detail["importances"]
    assert set(importances) == {"lr", "depth", "opt"}
    assert sum(importances.values()) == pytest.approx(1.0)
    assert server.get("sweeps/search")["importances"] == importances  # stable between polls


def test_importances_are_null_with_too_few_trials(server: Any) -> None:
    detail = server.get("sweeps/tiny")
    assert detail["importances"] is None
    assert detail["best"]["config"] == {"x": detail["trials"][0]["params"]["x"]}


def test_reading_changes_no_study_and_creates_none(server: Any) -> None:
    folder = storage.sweeps_dir(server.root)
    before = {p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
              for p in folder.iterdir()}
    server.get("sweeps")
    server.get("sweeps/search")
    status, body = server.request("GET", "sweeps/nope")
    assert status == 404 and body["status"] == 404 and "no sweep 'nope'" in body["error"]
    after = {p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
             for p in folder.iterdir()}
    assert after == before
    assert not _journal(server.root, "nope").exists()


def test_a_bad_name_is_400(server: Any) -> None:
    status, body = server.request("GET", "sweeps/bad%20name")
    assert status == 400
    assert_shape(body, model.ErrorResponse)
    assert "sweep name" in body["error"]


def test_a_new_trial_shows_in_the_next_answer(server: Any) -> None:
    def objective(config: dict[str, Any]) -> float:
        return float(config["x"])

    space = {"x": nbtrack.uniform(0, 1)}
    nbtrack.sweep(objective, space, n_trials=2, name="grows", progress=False,
                  workspace=server.root)
    assert server.get("sweeps/grows")["n_trials"] == 2
    assert len(server.get("sweeps/grows")["trials"]) == 2
    nbtrack.sweep(objective, space, n_trials=3, name="grows", progress=False,
                  workspace=server.root)
    assert len(server.get("sweeps/grows")["trials"]) == 3
    assert [s["trials"] for s in server.get("sweeps")["sweeps"] if s["name"] == "grows"] == [3]


def test_an_unreadable_sweep_is_listed_with_its_error(server: Any) -> None:
    bad = _journal(server.root, "broken")
    bad.write_text("this is not a journal\n")
    try:
        entry = [s for s in server.get("sweeps")["sweeps"] if s["name"] == "broken"]
        assert len(entry) == 1 and entry[0]["error"] and entry[0]["trials"] == 0
    finally:
        bad.unlink()


@pytest.mark.parametrize("path", ["sweeps", "sweeps/search", "sweeps/nope"])
def test_every_route_needs_the_token(server: Any, path: str) -> None:
    assert server.request("GET", path, token=None)[0] == 403
    assert server.request("GET", path, token="wrong")[0] == 403
