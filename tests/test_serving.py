"""``nbtrack serve``: a real scoring server on a free port, real scikit-learn models, real HTTP
requests in every format of MLflow's scoring protocol (and malformed ones), concurrency, model
switches while requests flow, and a clean exit on SIGTERM/SIGINT (subprocess tests: ``slow``)."""

from __future__ import annotations

import http.client
import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from nbtrack import __version__, config
from nbtrack.cli import main
from nbtrack.serving.holder import ModelHolder
from nbtrack.serving.runner import ScoringServer
from nbtrack.serving.sources import StoreSource
from serving_models import COLUMNS, Gated, Served, fit

ROOT = Path(__file__).resolve().parents[1]


# -- models, sources and a server on a thread ------------------------------------------------

@pytest.fixture(scope="module")
def model_a() -> Any:
    return fit(0)


@pytest.fixture(scope="module")
def model_b() -> Any:
    return fit(1)


@pytest.fixture(scope="module")
def rows(model_a: Any, model_b: Any) -> pd.DataFrame:
    """Rows the two models classify differently."""
    frame = pd.DataFrame(np.random.default_rng(42).normal(size=(8, 4)) * 2, columns=COLUMNS)
    assert model_a.predict(frame).tolist() != model_b.predict(frame).tolist()
    return frame


class FixedSource:
    """One model, forever."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor

    def current_key(self) -> str:
        return "1"

    def load(self, key: str) -> Any:
        return self.predictor


class MovingSource:
    """Models by key; the test moves ``key`` as an alias would move. Keys in ``gates`` load
    only once their event is set (and say so in ``loading``)."""

    def __init__(self, models: dict[str, Any]) -> None:
        self.models = models
        self.key = next(iter(models))
        self.gates: dict[str, threading.Event] = {}
        self.loading = threading.Event()

    def current_key(self) -> str:
        return self.key

    def load(self, key: str) -> Any:
        if key in self.gates:
            self.loading.set()
            self.gates[key].wait(60)
        return self.models[key]


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Client:
    """Requests to one server, on one keep-alive connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)

    def request(self, method: str, path: str, body: bytes | str | None = None,
                content_type: str | None = "application/json") -> Reply:
        headers = {"Content-Type": content_type} if content_type else {}
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return Reply(response.status, response.headers, response.read().decode())

    def score(self, payload: Any, content_type: str = "application/json") -> Reply:
        body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        return self.request("POST", "/invocations", body, content_type)

    def close(self) -> None:
        self.conn.close()


@contextmanager
def serving(source: Any, *, poll: float | None = None, workers: int = 4) -> Iterator[Client]:
    holder = ModelHolder(source)
    holder.load()
    server = ScoringServer(holder, host="127.0.0.1", port=0, workers=workers, poll=poll)
    thread = threading.Thread(target=server.run, kwargs={"handle_signals": False}, daemon=True)
    thread.start()
    assert server.wait_ready(60)
    client = Client(server.url)
    try:
        yield client
    finally:
        client.close()
        server.stop()
        thread.join(60)
        assert not thread.is_alive()


@pytest.fixture
def client(model_a: Any) -> Iterator[Client]:
    with serving(FixedSource(Served(model_a, "clf:v1"))) as c:
        yield c


def split(frame: pd.DataFrame) -> dict[str, Any]:
    return frame.to_dict(orient="split")


# -- every input format gives the model's own predictions --------------------------------------

def test_dataframe_split_with_index_gives_the_models_predictions(
        client: Client, model_a: Any, rows: pd.DataFrame) -> None:
    reply = client.score({"dataframe_split": split(rows)})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json == {"predictions": model_a.predict(rows).tolist()}
    assert reply.headers["X-Nbtrack-Model"] == "clf:v1"
    without_index = {"columns": COLUMNS, "data": rows.values.tolist()}
    assert client.score({"dataframe_split": without_index}).json == reply.json


def test_dataframe_records(client: Client, model_a: Any, rows: pd.DataFrame) -> None:
    reply = client.score({"dataframe_records": rows.to_dict(orient="records")})
    assert reply.status == 200
    assert reply.json["predictions"] == model_a.predict(rows).tolist()


def test_instances_as_rows_and_as_records(client: Client, model_a: Any,
                                          rows: pd.DataFrame) -> None:
    expected = model_a.predict(rows).tolist()
    assert client.score({"instances": rows.values.tolist()}).json["predictions"] == expected
    records = rows.to_dict(orient="records")
    assert client.score({"instances": records}).json["predictions"] == expected


def test_inputs_as_columns_and_as_a_tensor(client: Client, model_a: Any,
                                           rows: pd.DataFrame) -> None:
    expected = model_a.predict(rows).tolist()
    columns = {name: rows[name].tolist() for name in COLUMNS}
    assert client.score({"inputs": columns}).json["predictions"] == expected
    assert client.score({"inputs": rows.values.tolist()}).json["predictions"] == expected


def test_params_reach_predict(client: Client, model_a: Any, rows: pd.DataFrame) -> None:
    reply = client.score({"dataframe_split": split(rows), "params": {"proba": True}})
    assert reply.status == 200
    assert reply.json["predictions"] == model_a.predict_proba(rows).tolist()


def test_a_model_whose_predict_takes_no_params_ignores_them(model_a: Any,
                                                            rows: pd.DataFrame) -> None:
    with serving(FixedSource(model_a)) as c:  # the bare scikit-learn estimator
        reply = c.score({"dataframe_split": split(rows), "params": {"proba": True}})
    assert reply.status == 200
    assert reply.json["predictions"] == model_a.predict(rows).tolist()


def test_csv(client: Client, model_a: Any, rows: pd.DataFrame) -> None:
    reply = client.score(rows.to_csv(index=False), content_type="text/csv")
    assert reply.status == 200
    assert reply.json["predictions"] == model_a.predict(rows).tolist()
    utf8 = client.score(rows.to_csv(index=False), content_type="text/csv; charset=UTF-8")
    assert utf8.json == reply.json


def test_dataframe_predictions_are_records(rows: pd.DataFrame, model_a: Any) -> None:
    class Frame:
        def predict(self, data: Any) -> pd.DataFrame:
            return pd.DataFrame({"label": model_a.predict(data),
                                 "score": model_a.predict_proba(data).max(axis=1)})

    with serving(FixedSource(Frame())) as c:
        reply = c.score({"dataframe_split": split(rows)})
    expected = Frame().predict(rows)
    assert reply.json["predictions"] == [
        {"label": int(label), "score": float(score)}
        for label, score in zip(expected["label"], expected["score"])]


# -- malformed requests: a 400 (415 for the content type) in MLflow's error shape --------------

BAD_BODIES = {
    "not JSON": ('{"dataframe_split": ', "valid JSON"),
    "not UTF-8": (b'{"inputs": "\xff"}', "valid JSON"),
    "a list": ("[[1, 2, 3, 4]]", "Received a list"),
    "no format key": ({"data": [[1, 2, 3, 4]]}, "exactly one of the input fields"),
    "two format keys": ({"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]},
                        "exactly one of the input fields"),
    "an unknown key": ({"inputs": [[1, 2, 3, 4]], "param": {"proba": True}},
                       "Unknown field(s) ['param']"),
    "params not an object": ({"inputs": [[1, 2, 3, 4]], "params": [1]},
                             "'params' must be a JSON object"),
    "split without data": ({"dataframe_split": {"columns": COLUMNS}}, "must have 'data' field"),
    "split as a list": ({"dataframe_split": [[1, 2, 3, 4]]}, "must be a dictionary"),
    "split columns mismatch": ({"dataframe_split": {"columns": ["a", "b"],
                                                    "data": [[1, 2, 3, 4]]}},
                               "not a valid dataframe representation in 'split' format"),
    "records as an object": ({"dataframe_records": {"a": 1}}, "must be a list of records"),
    "ragged instances": ({"instances": [[1, 2, 3, 4], [1, 2]]}, "Invalid input."),
    "columns of unequal length": ({"inputs": {"a": [1, 2], "b": [1]}},
                                  "values for each input/column name are not the same"),
    "wrong number of columns": ({"instances": [[1.0, 2.0, 3.0]]},
                                "unexpected error while evaluating the model"),
    "missing feature names": ({"dataframe_split": {"columns": ["a", "b", "c", "x"],
                                                   "data": [[1, 2, 3, 4]]}},
                              "Error: ValueError: The feature names should match"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_malformed_request_is_a_400_saying_why(client: Client, case: str) -> None:
    payload, message = BAD_BODIES[case]
    reply = client.score(payload)
    assert reply.status == 400, reply.text
    assert set(reply.json) == {"error_code", "message"}
    assert reply.json["error_code"] == "BAD_REQUEST"
    assert message in reply.json["message"]
    assert "Traceback" not in reply.text
    # the server is fine afterwards
    assert client.score({"instances": [[0.0, 0.0, 0.0, 0.0]]}).status == 200


def test_bad_csv_is_a_400(client: Client) -> None:
    reply = client.score("", content_type="text/csv")
    assert reply.status == 400
    assert "Failed to parse input as a Pandas DataFrame" in reply.json["message"]


@pytest.mark.parametrize(("content_type", "message"), [
    ("text/plain", "only supports the following content types"),
    (None, "Got no Content-Type header"),
    ("application/json; charset=latin-1", "only supports UTF-8"),
    ("application/json; format=pandas-split", "Unrecognized content type parameters: format"),
])
def test_an_unsupported_content_type_is_a_415(client: Client, content_type: str | None,
                                              message: str) -> None:
    reply = client.request("POST", "/invocations", '{"inputs": [[1, 2, 3, 4]]}', content_type)
    assert reply.status == 415
    assert reply.json["error_code"] == "BAD_REQUEST"
    assert message in reply.json["message"]


def test_wrong_method_and_path_are_json_errors(client: Client) -> None:
    reply = client.request("GET", "/invocations")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"
    assert "Method GET is not allowed on /invocations" in reply.json["message"]
    assert client.request("POST", "/ping", "{}").status == 405
    missing = client.request("GET", "/predict")
    assert missing.status == 404
    assert missing.json["error_code"] == "ENDPOINT_NOT_FOUND"


def test_ping_health_and_version(client: Client) -> None:
    for path in ("/ping", "/health"):
        reply = client.request("GET", path)
        assert (reply.status, reply.text) == (200, "\n")
    assert client.request("GET", "/version").text == __version__


# -- concurrency --------------------------------------------------------------------------------

def test_many_parallel_requests_all_get_their_own_answer(model_a: Any) -> None:
    frames = [pd.DataFrame(np.random.default_rng(i).normal(size=(1 + i % 5, 4)) * 2,
                           columns=COLUMNS) for i in range(96)]
    answers: dict[int, Any] = {}

    with serving(FixedSource(Served(model_a, "clf:v1")), workers=4) as c:
        def work(start: int) -> None:
            own = Client(c.url)
            for i in range(start, len(frames), 8):
                reply = own.score({"dataframe_split": split(frames[i])})
                answers[i] = (reply.status, reply.json)
            own.close()

        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert sorted(answers) == list(range(len(frames)))
    for i, frame in enumerate(frames):
        assert answers[i] == (200, {"predictions": model_a.predict(frame).tolist()})


def test_ping_answers_while_a_prediction_is_running(model_a: Any, tmp_path: Path,
                                                    rows: pd.DataFrame) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    result: list[Reply] = []
    with serving(FixedSource(Gated(model_a, "slow:v1", started, release))) as c:
        slow = threading.Thread(target=lambda: result.append(
            Client(c.url).score({"dataframe_split": split(rows)})))
        slow.start()
        _wait_for(started.exists)
        assert c.request("GET", "/ping").status == 200  # while predict is still blocked
        assert not result
        release.touch()
        slow.join(60)
    assert result[0].json["predictions"] == model_a.predict(rows).tolist()


# -- following an alias -------------------------------------------------------------------------

def _wait_for(condition: Any, what: str = "condition") -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_follow_alias_switches_models_without_failing_a_request(
        model_a: Any, model_b: Any, rows: pd.DataFrame) -> None:
    source = MovingSource({"1": Served(model_a, "clf:v1"), "2": Served(model_b, "clf:v2")})
    source.gates["2"] = threading.Event()
    expected = {"clf:v1": model_a.predict(rows).tolist(), "clf:v2": model_b.predict(rows).tolist()}
    seen: list[list[tuple[int, str, Any]]] = [[] for _ in range(4)]
    done = threading.Event()

    with serving(source, poll=0.05) as c:
        def work(k: int) -> None:
            own = Client(c.url)
            while not done.is_set():
                reply = own.score({"dataframe_split": split(rows)})
                seen[k].append((reply.status, reply.headers["X-Nbtrack-Model"], reply.json))
            own.close()

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()

        def count() -> int:
            return sum(map(len, seen))

        _wait_for(lambda: count() > 20, "requests before the move")
        source.key = "2"  # the alias moves
        _wait_for(source.loading.is_set, "the new version to start loading")
        during = count()
        _wait_for(lambda: count() > during + 20, "requests while the new version loads")
        source.gates["2"].set()
        _wait_for(lambda: any(label == "clf:v2" for s in seen for _, label, _ in list(s)),
                  "the new version to answer")
        after = count()
        _wait_for(lambda: count() > after + 20, "requests after the switch")
        done.set()
        for t in threads:
            t.join(60)

    replies = [r for s in seen for r in s]
    assert all(status == 200 for status, _, _ in replies)
    assert all(body == {"predictions": expected[label]} for _, label, body in replies)
    assert {label for _, label, _ in replies} == {"clf:v1", "clf:v2"}
    for per_client in seen:  # once a client saw the new version, it never sees the old one
        labels = [label for _, label, _ in per_client]
        if "clf:v2" in labels:
            assert "clf:v1" not in labels[labels.index("clf:v2"):]


def test_a_version_that_fails_to_load_leaves_the_old_one_serving(
        model_a: Any, rows: pd.DataFrame) -> None:
    failed = threading.Event()

    class Broken(MovingSource):
        def load(self, key: str) -> Any:
            if key == "2":
                failed.set()
                raise OSError("model file missing")
            return super().load(key)

    source = Broken({"1": Served(model_a, "clf:v1")})
    holder = ModelHolder(source)
    holder.load()
    source.key = "2"
    with pytest.raises(OSError):
        holder.refresh()
    assert holder.current.label == "clf:v1"
    source.key = "1"
    failed.clear()
    with serving(source, poll=0.05) as c:
        source.key = "2"
        _wait_for(failed.is_set, "the poller to try the broken version")
        for _ in range(5):
            reply = c.score({"dataframe_split": split(rows)})
            assert reply.status == 200
            assert reply.headers["X-Nbtrack-Model"] == "clf:v1"


def test_the_store_source_follows_an_artifact_alias(workspace: Path, tmp_path: Path) -> None:
    from nbtrack.artifacts.artifact import log_artifact

    db_path = config.db_path()
    for content in ("first", "second"):
        model_file = tmp_path / "model.bin"
        model_file.write_text(content)
        version = log_artifact(db_path, model_file, name="clf", type="model",
                               aliases=["production"])
        if content == "first":
            source = StoreSource(db_path, "clf:production")
            first = source.current_key()
            assert first == str(version.id)
    assert source.current_key() == str(version.id) != first
    assert StoreSource(db_path, "clf:v0").current_key() == first


# -- the command --------------------------------------------------------------------------------

def test_serve_names_what_is_missing(workspace: Path, tmp_path: Path) -> None:
    from nbtrack.artifacts.artifact import log_artifact

    runner = CliRunner()
    result = runner.invoke(main, ["serve", "clf:production"])
    assert result.exit_code == 1
    assert "no artifact named 'clf'" in result.output
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    log_artifact(config.db_path(), data, name="data", type="dataset")
    result = runner.invoke(main, ["serve", "data:latest"])
    assert result.exit_code == 2
    assert "is a 'dataset' artifact, not a model" in result.output
    for command in (["serve"], ["models", "serve"]):  # `nbtrack models serve` is the same
        result = runner.invoke(main, [*command, "clf@production"])
        assert result.exit_code == 1
        assert "no registered model named 'clf'" in result.output
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "give the model to serve" in result.output


def _start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    """``nbtrack serve ARGS --port 0`` in a subprocess: (process, its URL, its stderr lines)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "python"),
                                                        str(ROOT / "tests")])}
    process = subprocess.Popen([sys.executable, "-m", "nbtrack", "serve", *args, "--port", "0"],
                               cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            match = re.search(r" at (http://\S+) ", line)
            if match:
                url.append(match.group(1))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    found.wait(120)
    assert url, "".join(lines)
    return process, url[0], lines


def _refused(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_accepting_finishes_the_request_in_flight_and_exits_0(
        sig: signal.Signals, model_a: Any, rows: pd.DataFrame, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(Gated(model_a, "gated:v1", started, release)))
    process, url, lines = _start(["--model-pickle", str(pickled)], tmp_path)
    try:
        result: list[Reply] = []
        request = threading.Thread(target=lambda: result.append(
            Client(url).score({"dataframe_split": split(rows)})))
        request.start()
        _wait_for(started.exists, "the prediction to start")
        process.send_signal(sig)
        _wait_for(lambda: _refused(url), "the server to stop accepting")
        release.touch()
        request.join(60)
        assert process.wait(60) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
    assert result[0].status == 200
    assert result[0].json["predictions"] == model_a.predict(rows).tolist()
    assert "Traceback" not in "".join(lines)


@pytest.mark.slow
def test_listening_beyond_loopback_warns(model_a: Any, tmp_path: Path) -> None:
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(model_a))
    process, url, lines = _start(["--model-pickle", str(pickled), "--host", "0.0.0.0"],
                                 tmp_path)
    try:
        port = urllib.parse.urlsplit(url).port
        reply = Client(f"http://127.0.0.1:{port}").score({"instances": [[0, 0, 0, 0]]})
        assert reply.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert any("no authentication" in line for line in lines)


@pytest.mark.slow
def test_mlflows_own_scoring_client_works(model_a: Any, rows: pd.DataFrame) -> None:
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    with serving(FixedSource(Served(model_a, "clf:v1"))) as c:
        parts = urllib.parse.urlsplit(c.url)
        mlflow_client = ScoringServerClient(parts.hostname, parts.port)
        mlflow_client.wait_server_ready(timeout=30)
        predictions = mlflow_client.invoke(rows).get_predictions(predictions_format="ndarray")
        proba = mlflow_client.invoke(rows, params={"proba": True}).get_predictions(
            predictions_format="ndarray")
    assert predictions.tolist() == model_a.predict(rows).tolist()
    assert np.allclose(proba, model_a.predict_proba(rows))


@pytest.mark.slow
def test_serve_a_registered_model_and_follow_its_alias(
        workspace: Path, model_a: Any, model_b: Any, rows: pd.DataFrame, tmp_path: Path) -> None:
    import nbtrack

    run = nbtrack.init("train", capture_env=False, system_metrics=False)
    first = nbtrack.log_model(model_a, "clf", input_example=rows.head(2))
    second = nbtrack.log_model(model_b, "clf", input_example=rows.head(2))
    run.finish()
    nbtrack.register_model(first, "clf", aliases=["production"])
    nbtrack.register_model(second, "clf")
    process, url, lines = _start(["clf@production", "--follow-alias", "--poll", "0.1"],
                                 tmp_path)
    try:
        client = Client(url)
        before = client.score({"dataframe_split": split(rows)})
        assert before.json == {"predictions": model_a.predict(rows).tolist()}, "".join(lines)
        nbtrack.set_alias("clf", "production", 2)
        replies = [before]

        def switched() -> bool:
            replies.append(client.score({"dataframe_split": split(rows)}))
            return bool(replies[-1].json["predictions"] == model_b.predict(rows).tolist())

        _wait_for(switched, "the server to follow the alias")
        assert all(r.status == 200 for r in replies)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()


PARITY_PAYLOADS = [
    {"dataframe_split": {"columns": ["a", "b"], "index": [5, 6], "data": [[1, 2.5], [3, 4]]}},
    {"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [3, "y"]]}},
    {"dataframe_records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]},
    {"instances": [[1, 2], [3, 4]]},
    {"instances": [{"a": 1, "b": [1, 2]}, {"a": 2, "b": [3, 4]}]},
    {"inputs": {"a": [1, 2], "b": [3.5, 4]}},
    {"inputs": [[1.5, 2]]},
    {"inputs": 7},
]


@pytest.mark.slow
@pytest.mark.parametrize("body", PARITY_PAYLOADS, ids=lambda b: next(iter(b)))
def test_inputs_parse_as_mlflows_scoring_server_parses_them(body: dict[str, Any]) -> None:
    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    from nbtrack.serving import payload

    theirs = infer_and_parse_data(body)
    ours = payload.parse(json.dumps(body).encode(), "application/json").data
    assert type(ours) is type(theirs)
    if isinstance(theirs, pd.DataFrame):
        pd.testing.assert_frame_equal(ours, theirs)
    elif isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for name in theirs:
            np.testing.assert_array_equal(ours[name], theirs[name])
            assert ours[name].dtype == theirs[name].dtype
    else:
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


@pytest.mark.slow
def test_predictions_are_written_as_mlflow_writes_them() -> None:
    import io

    from mlflow.pyfunc.scoring_server import predictions_to_json

    from nbtrack.serving import responses

    for raw in [np.array([1, 2]), np.array([[0.25, 0.75]]), np.array(["a", None], dtype=object),
                pd.Series([1.5, 2.5], name="p"), {"x": np.array([1, 2])}, [np.float32(1.5)],
                pd.DataFrame({"a": [1, 2], "t": pd.to_datetime(["2020-01-01", "2021-06-01"])}),
                np.array([[b"\x00\x01", b"ab"]]), np.datetime64("2020-01-01")]:
        theirs = io.StringIO()
        predictions_to_json(raw, theirs)
        assert responses.predictions_body(raw).decode() == theirs.getvalue(), raw
