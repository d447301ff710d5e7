"""``GET metrics``: the Runs workspace's batch of series, against a real ``jupyter server``.

One server over a workspace recorded with the public API: three runs with ``train/``, ``val/``
and ``system/`` keys (one long enough to be downsampled, one that never logs ``val/acc``).
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest

import nbtrack
from nbtrack import model, responses

LONG = 3000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_jupyter_server: Any) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("workspace-api")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(root))
        mp.delenv("NBTRACK_NOTEBOOK", raising=False)
        mp.delenv("JPY_SESSION_NAME", raising=False)
        with nbtrack.init("short", config={"lr": 0.1}, capture_env=False) as run:
            for step in range(10):
                run.log({"train/loss": 1 / (step + 1), "val/acc": step / 10,
                         "system/cpu": 50.0})
        with nbtrack.init("long", config={"lr": 0.01}, capture_env=False) as run:
            for step in range(LONG):
                run.log({"train/loss": 100.0 if step == 1500 else 1.0, "system/cpu": 20.0})
        with nbtrack.init("third", config={"lr": 0.5}, capture_env=False) as run:
            run.log({"train/loss": 3.0}, step=0)
            run.log({"train/loss": 2.0}, step=5)
        with start_jupyter_server(root) as running:
            yield running


def ids(server: Any) -> dict[str, str]:
    return {r["name"]: r["id"] for r in server.get("runs")["runs"]}


def test_the_batch_answers_403_without_or_with_a_wrong_token(server: Any) -> None:
    for token in (None, "wrong-token"):
        status, body = server.request("GET", "metrics", params={"runs": "1", "keys": "x"},
                                      token=token)
        assert status == 403 and body["status"] == 403


def test_one_request_gives_every_run_and_key_in_the_declared_shape(server: Any) -> None:
    runs = ids(server)
    order = [runs["short"], runs["long"], runs["third"]]
    keys = ["train/loss", "val/acc", "system/cpu"]
    answer = server.get("metrics", runs=",".join(order), keys=",".join(keys), max_points=100)
    assert set(answer) == set(typing.get_type_hints(model.MetricsBatchResponse))
    assert answer["runs"] == order and answer["keys"] == keys and answer["max_points"] == 100
    assert len(answer["series"]) == 9
    series_keys = set(typing.get_type_hints(model.MetricSeries))
    assert all(set(s) == series_keys for s in answer["series"])
    # key by key, runs in the order asked
    assert [(s["key"], s["run_id"]) for s in answer["series"]] == [
        (k, r) for k in keys for r in order]
    by = {(s["key"], s["run_id"]): s for s in answer["series"]}
    short_loss = by["train/loss", runs["short"]]
    assert short_loss["step"] == list(range(10)) and short_loss["value"][1] == 0.5
    long_loss = by["train/loss", runs["long"]]
    assert long_loss["downsampled"] and long_loss["count"] == LONG
    assert len(long_loss["step"]) <= 100 and 100.0 in long_loss["value"]  # the spike survives
    assert long_loss["step"][0] == 0 and long_loss["step"][-1] == LONG - 1
    never = by["val/acc", runs["long"]]  # a run that never logged the key: an empty series
    assert never["count"] == 0 and never["step"] == [] and never["step_max"] is None


def test_runs_may_be_named_by_number_or_name_and_keys_repeat_once(server: Any) -> None:
    answer = server.get("metrics", runs="third,1", keys="train/loss,train/loss")
    assert answer["keys"] == ["train/loss"]
    assert answer["runs"] == [ids(server)["third"], ids(server)["short"]]


def test_after_steps_gives_only_the_new_points_of_each_run(server: Any) -> None:
    runs = ids(server)
    answer = server.get("metrics", runs=f"{runs['short']},{runs['third']}", keys="train/loss",
                        after_steps="6,")
    short, third = answer["series"]
    assert short["step"] == [7, 8, 9]
    assert third["step"] == [0, 5]  # empty: every point


def test_an_unknown_run_is_404_and_an_unknown_key_an_empty_series(server: Any) -> None:
    status, body = server.request("GET", "metrics",
                                  params={"runs": "no-such-run", "keys": "train/loss"})
    assert status == 404 and "no-such-run" in body["error"]
    answer = server.get("metrics", runs="short", keys="no/such/key")
    assert [s["count"] for s in answer["series"]] == [0]


@pytest.mark.parametrize(("params", "message"), [
    ({"keys": "train/loss"}, "needs runs"),
    ({"runs": "short"}, "needs metric keys"),
    ({"runs": "short", "keys": "train/loss", "max_points": "1"}, "max_points"),
    ({"runs": "short", "keys": "train/loss", "max_points": "lots"}, "integer"),
    ({"runs": "short,long", "keys": "train/loss", "after_steps": "3"}, "one per run"),
    ({"runs": "short", "keys": "train/loss", "after_steps": "x"}, "integers"),
    ({"runs": ",".join(["short"] * (responses.MAX_BATCH_RUNS + 1)), "keys": "train/loss"},
     f"at most {responses.MAX_BATCH_RUNS} runs"),
    ({"runs": "short", "keys": ",".join(f"k{i}" for i in range(responses.MAX_BATCH_KEYS + 1))},
     f"at most {responses.MAX_BATCH_KEYS} keys"),
    ({"runs": ",".join(["short"] * 200), "keys": ",".join(f"k{i}" for i in range(30)),
      "max_points": "1000"}, "fewer runs, keys or points"),
])
def test_bad_or_too_large_requests_are_400_with_a_clear_message(
    server: Any, params: dict[str, str], message: str,
) -> None:
    status, body = server.request("GET", "metrics", params=params)
    assert status == 400, body
    assert message in body["error"] and body["status"] == 400
