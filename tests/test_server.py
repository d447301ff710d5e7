"""The REST API, read side: a real ``jupyter server`` with token auth over a recorded workspace.

One server and one workspace serve the whole module: runs recorded with the public API
(``nbtrack.init`` / ``log`` / ``finish``) and two runs recorded cell by cell in a real IPython
shell, so the API reads what users' kernels write, from another process.
"""

from __future__ import annotations

import re
import sqlite3
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from tornado.web import RequestHandler

import nbtrack
from nbtrack import model
from nbtrack.server.handlers import routes

SPIKE_STEP, SPIKE, DIP_STEP, DIP = 2777, 100.0, 1234, -50.0
SWEEP = 12


def _record_workspace() -> None:
    """20 runs: baseline, wide, a 5,000-point spiky run, a failed one, a sweep, two in cells."""
    with nbtrack.init("baseline", config={"lr": 0.01, "opt": "sgd"}, tags=["cnn"],
                      notes="First try", notebook="nb/train.ipynb", capture_env=False) as run:
        for step in range(20):
            run.log({"loss": 1 / (step + 1), "acc": step / 20})
    with nbtrack.init("wide", config={"lr": 0.1, "opt": "sgd"}, tags=["cnn", "wide"],
                      notebook="nb/train.ipynb", capture_env=False) as run:
        for step in range(20):
            run.log({"loss": 0.5 / (step + 1), "acc": step / 19})
    with nbtrack.init("spiky", config={"lr": 0.05}, tags=["long"], notebook="nb/long.ipynb",
                      capture_env=False) as run:
        for step in range(5000):
            value = SPIKE if step == SPIKE_STEP else DIP if step == DIP_STEP else 1.0
            run.log({"loss": value + step * 1e-6})
    run = nbtrack.init("broken", config={"lr": 1.0}, notebook="nb/other.ipynb",
                       capture_env=False)
    run.log({"loss": 9.0})
    run.finish("failed")
    for i in range(SWEEP):
        with nbtrack.init(f"sweep-{i:02d}", config={"lr": 0.001 * (i + 1), "opt": "adam"},
                          tags=["sweep"], notebook="nb/sweep.ipynb", capture_env=False) as run:
            if i != 5:  # sweep-05 never logs a loss: it sorts last by loss either way
                run.log({"loss": 1.0 - i * 0.05})
    _record_cells()


def _record_cells() -> None:
    """Two runs in a real IPython shell whose code differs in one cell."""
    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    try:
        for name, model_size, lr in (("cells-a", "small", 0.1), ("cells-b", "large", 0.2)):
            ip.run_cell(f"%track start {name} --no-auto-params lr={lr}", store_history=True)
            ip.run_cell("width = 64", store_history=True)
            ip.run_cell(f"model = {model_size!r}", store_history=True)
            ip.run_cell("import nbtrack\nnbtrack.log({'loss': 0.3})", store_history=True)
            ip.run_cell("%track stop", store_history=True)
        for name in ("cells-a", "cells-b"):  # the environment is captured in the background
            deadline = time.monotonic() + 60
            while not nbtrack.get_run(name).env and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        nbtrack.finish()
        ip.run_line_magic("unload_ext", "nbtrack")
        for name in ("width", "model", "nbtrack"):
            ip.user_ns.pop(name, None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_jupyter_server: Any) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("served")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_DIR", str(root))
        mp.setenv("NBTRACK_NOTEBOOK", "nb/cells.ipynb")  # the notebook of the shell's runs
        mp.delenv("JPY_SESSION_NAME", raising=False)
        _record_workspace()
        with start_jupyter_server(root) as running:
            yield running


def names(page: dict[str, Any]) -> list[str]:
    return [r["name"] for r in page["runs"]]


# -- auth ------------------------------------------------------------------------------------

def test_every_route_and_verb_answers_403_without_a_token(server: Any) -> None:
    checked = 0
    for path, handler in routes():
        url = path.replace("([^/]+)", "1")
        for method in ("GET", "POST", "PATCH", "DELETE"):
            if getattr(handler, method.lower()) is getattr(RequestHandler, method.lower()):
                continue  # a verb the handler does not define (tornado answers 405)
            for token in (None, "wrong-token"):
                status, body = server.request(method, url, token=token,
                                              body={} if method != "GET" else None)
                assert status == 403, (method, url, token, status, body)
                assert body["status"] == 403  # Forbidden (or, for writes, no XSRF token)
            checked += 1
    assert checked >= 9
    log = server.log.read_text()
    assert not re.search(r"registered for \S*nbtrack/api", log), log  # every verb decorated


# -- runs list -------------------------------------------------------------------------------

def test_paging_through_the_runs_lists_each_run_once_newest_first(server: Any) -> None:
    seen: list[str] = []
    for offset in range(0, 25, 6):
        page = server.get("runs", limit=6, offset=offset)
        assert (page["total"], page["limit"], page["offset"]) == (4 + SWEEP + 2, 6, offset)
        seen += names(page)
    assert len(seen) == len(set(seen)) == 18
    assert seen[:3] == ["cells-b", "cells-a", "sweep-11"] and seen[-1] == "baseline"
    assert server.get("runs", limit=0)["runs"] == []


def test_sorting_by_a_run_column_in_both_directions(server: Any) -> None:
    ascending = names(server.get("runs", sort="name", order="asc", limit=3))
    assert ascending == ["baseline", "broken", "cells-a"]
    descending = names(server.get("runs", sort="name", order="desc", limit=2))
    assert descending == ["wide", "sweep-11"]
    numbers = [r["number"] for r in server.get("runs", sort="number", order="asc")["runs"]]
    assert numbers == sorted(numbers)
    durations = [r["duration"] for r in server.get("runs", sort="duration", order="desc")["runs"]]
    assert durations == sorted(durations, reverse=True)


def test_sorting_by_a_metric_summary_puts_runs_without_it_last(server: Any) -> None:
    best = server.get("runs", sort="metrics.loss", order="asc", limit=100)
    losses = [r["summary"].get("loss") for r in best["runs"]]
    assert names(best)[-1] == "sweep-05" and losses[-1] is None
    assert losses[:-1] == sorted(losses[:-1])
    assert names(best)[0] == "wide"  # last loss 0.5/20
    worst = server.get("runs", sort="metrics.loss", order="desc", limit=100)
    assert names(worst)[0] == "broken" and names(worst)[-1] == "sweep-05"
    by_max = server.get("runs", sort="metrics.loss.max", order="desc", limit=1)
    assert names(by_max) == ["spiky"]  # its summary value is ~1.005 but its max is the spike
    by_min = server.get("runs", sort="metrics.loss.min", order="asc", limit=1)
    assert names(by_min) == ["spiky"]


def test_sorting_by_a_param_puts_runs_without_it_last(server: Any) -> None:
    page = server.get("runs", sort="params.lr", order="desc", limit=100)
    lrs = [r["params"]["lr"] for r in page["runs"]]
    assert names(page)[0] == "broken" and lrs == sorted(lrs, reverse=True)
    by_opt = server.get("runs", sort="params.opt", order="asc", limit=100)["runs"]
    opts = [r["params"].get("opt") for r in by_opt]
    assert opts == ["adam"] * SWEEP + ["sgd"] * 2 + [None] * 4


def test_filtering_by_status_tag_notebook_and_text(server: Any) -> None:
    assert names(server.get("runs", status="failed")) == ["broken"]
    assert server.get("runs", status="finished")["total"] == 17
    assert names(server.get("runs", tag="wide")) == ["wide"]
    assert server.get("runs", tag="cnn")["total"] == 2
    assert server.get("runs", notebook="nb/sweep.ipynb")["total"] == SWEEP
    assert names(server.get("runs", q="FIRST TRY")) == ["baseline"]  # notes, any case
    assert server.get("runs", q="sweep-0")["total"] == 10  # names
    assert names(server.get("runs", q="lon")) == ["spiky"]  # tag and notebook
    assert names(server.get("runs", q="wide", tag="cnn", status="finished")) == ["wide"]
    run_id = server.get("runs/baseline")["id"]
    assert names(server.get("runs", q=run_id[:6])) == ["baseline"]
    assert server.get("runs", q="no such run")["total"] == 0


def test_filtering_with_the_filter_language(server: Any) -> None:
    page = server.get("runs", where="params.lr < 0.005", sort="name", order="asc")
    assert names(page) == ["sweep-00", "sweep-01", "sweep-02", "sweep-03"]
    both = server.get("runs", where="params.lr < 0.005 and metrics.loss < 0.96", q="sweep")
    assert names(both) == ["sweep-03", "sweep-02", "sweep-01"]  # sweep-00: loss 1.0
    status, error = server.request("GET", "runs", params={"where": "params.lr >"})
    assert status == 400 and "column" in error["error"]  # the filter's message says where


# -- one run ---------------------------------------------------------------------------------

def test_run_detail_has_params_summaries_env_and_cells_with_variables(server: Any) -> None:
    detail = server.get("runs/cells-a")
    assert detail["params"] == {"lr": 0.1} and detail["notebook"] == "nb/cells.ipynb"
    assert [m["key"] for m in detail["metrics"]] == ["loss"]
    assert detail["metrics"][0]["last"] == 0.3 and detail["metrics"][0]["count"] == 1
    sources = [c["source"] for c in detail["cells"]]
    assert "model = 'small'" in sources and "width = 64" in sources
    cell = next(c for c in detail["cells"] if c["source"] == "model = 'small'")
    assert cell["outcome"] == "ok" and cell["run_id"] == detail["id"]
    assert [(v["name"], v["change"], v["value"]) for v in cell["variables"]] == [
        ("model", "added", "small")]
    assert isinstance(detail["env"], dict)


def test_a_run_is_found_by_number_id_or_name(server: Any) -> None:
    by_name = server.get("runs/wide")
    assert server.get(f"runs/{by_name['number']}")["id"] == by_name["id"]
    assert server.get(f"runs/{by_name['id']}")["name"] == "wide"


# -- metrics ---------------------------------------------------------------------------------

@pytest.mark.parametrize("max_points", [2, 3, 10, 101, 1000])
def test_a_long_series_is_downsampled_within_bounds_keeping_ends_and_spikes(
    server: Any, max_points: int
) -> None:
    data = server.get("runs/spiky/metrics", keys="loss", max_points=max_points)
    (series,) = data["series"]
    assert series["run_id"] == data["run_id"] == server.get("runs/spiky")["id"]
    assert series["downsampled"] is True and series["count"] == 5000
    steps = series["step"]
    assert 2 <= len(steps) <= max_points
    assert steps == sorted(set(steps))
    assert (steps[0], steps[-1]) == (0, 4999) == (series["step_min"], series["step_max"])
    assert len(series["value"]) == len(series["time"]) == len(series["cell"]) == len(steps)
    if max_points >= 4:  # room for at least one bucket's extremes
        points = dict(zip(steps, series["value"]))
        assert points[SPIKE_STEP] == pytest.approx(SPIKE + SPIKE_STEP * 1e-6)
        assert points[DIP_STEP] == pytest.approx(DIP + DIP_STEP * 1e-6)


def test_a_short_series_comes_back_whole(server: Any) -> None:
    data = server.get("runs/baseline/metrics", max_points=1000)
    assert [s["key"] for s in data["series"]] == ["acc", "loss"]  # every key by default
    loss = data["series"][1]
    assert loss["downsampled"] is False and loss["step"] == list(range(20))
    assert loss["value"] == pytest.approx([1 / (s + 1) for s in range(20)])


def test_after_step_returns_only_the_newer_points(server: Any) -> None:
    tail = server.get("runs/spiky/metrics", keys="loss", after_step=4989)["series"][0]
    assert tail["step"] == list(range(4990, 5000)) and tail["downsampled"] is False
    assert tail["count"] == 10
    newer = server.get("runs/spiky/metrics", keys="loss", after_step=2000, max_points=50)
    steps = newer["series"][0]["step"]
    assert steps[0] == 2001 and steps[-1] == 4999 and len(steps) <= 50
    assert SPIKE_STEP in steps and DIP_STEP not in steps
    nothing = server.get("runs/spiky/metrics", keys="loss", after_step=4999)["series"][0]
    assert nothing["step"] == [] and nothing["step_max"] is None


# -- diff, charts, keys ----------------------------------------------------------------------

def test_diff_shows_the_changed_param_and_the_changed_code_cell(server: Any) -> None:
    diff = server.get("diff", runs="cells-a,cells-b")
    assert [r["name"] for r in diff["runs"]] == ["cells-a", "cells-b"]
    assert {"key": "lr", "values": [0.1, 0.2], "equal": False} in diff["params"]
    changed = [c for c in diff["cells"] if not c["equal"]]
    assert [c["a_source"] for c in changed] == [
        "%track start cells-a --no-auto-params lr=0.1", "model = 'small'"]
    cell = changed[1]
    assert (cell["a_source"], cell["b_source"]) == ("model = 'small'", "model = 'large'")
    assert "-model = 'small'" in cell["diff"] and "+model = 'large'" in cell["diff"]
    assert any(c["equal"] and c["a_source"] == "width = 64" for c in diff["cells"])
    model_var = next(v for v in diff["variables"] if v["name"] == "model")
    assert (model_var["a"], model_var["b"], model_var["equal"]) == ("'small'", "'large'", False)
    assert server.get("diff", a="cells-a", b="cells-b") == diff


def test_diff_changed_only_drops_equal_params(server: Any) -> None:
    full = server.get("diff", runs="baseline,wide,broken")
    assert len(full["runs"]) == 3
    assert {d["key"] for d in full["params"]} == {"lr", "opt"}
    changed = server.get("diff", runs="baseline,wide", changed_only=1)
    assert [d["key"] for d in changed["params"]] == ["lr"]
    assert all(not d["equal"] for d in changed["env"])
    assert [m["key"] for m in changed["metrics"]] == ["acc", "loss"]


def test_charts_are_vega_lite_specs_with_their_data_inlined(server: Any) -> None:
    curves = server.get("charts", kind="curves", runs="baseline,wide", key="loss", log=1,
                        smoothing=0.5, max_points=10)
    assert curves["kind"] == "curves"
    spec = curves["spec"]
    assert "vega-lite" in spec["$schema"] and "url" not in str(spec.get("data", {}))
    rows = [row for rows in spec["datasets"].values() for row in rows]
    assert {row["run"] for row in rows} == {"#1 baseline", "#2 wide"}
    assert len(rows) <= 2 * 10  # each series downsampled on the server
    two_keys = server.get("charts", kind="curves", runs="baseline", key="loss,acc")
    assert {row["key"] for rows in two_keys["spec"]["datasets"].values() for row in rows} == {
        "loss", "acc"}
    scatter = server.get("charts", kind="scatter", param="lr", key="loss")
    points = [row for rows in scatter["spec"]["datasets"].values() for row in rows]
    assert len(points) == 17  # every run with an lr and a loss
    parallel = server.get("charts", kind="parallel", params="lr,opt", key="loss",
                          runs="baseline,wide,sweep-01")
    assert parallel["kind"] == "parallel" and parallel["spec"]["datasets"]


def test_keys_lists_the_metric_and_param_names_of_the_workspace(server: Any) -> None:
    assert server.get("keys") == {"metrics": ["acc", "loss"], "params": ["lr", "opt"]}


def test_status_names_version_schema_and_store_and_is_stable_without_writes(server: Any) -> None:
    first = server.get("status")
    assert first["version"] == nbtrack.__version__
    assert first["schema_version"] >= 1
    assert Path(first["store"]) == server.root / ".nbtrack" / "nbtrack.db"
    assert server.get("status")["change_token"] == first["change_token"]


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,params", [
    ("GET", "runs/nope", {}),
    ("GET", "runs/9999", {}),
    ("GET", "runs/nope/metrics", {}),
    ("GET", "diff", {"runs": "baseline,nope"}),
    ("GET", "charts", {"kind": "curves", "runs": "nope", "key": "loss"}),
    ("PATCH", "runs/nope", {}),
    ("DELETE", "runs/nope", {}),
])
def test_an_unknown_run_is_404(server: Any, method: str, path: str, params: dict) -> None:
    status, body = server.request(method, path, params=params,
                                  body={"notes": "x"} if method == "PATCH" else None)
    assert status == 404, body
    assert body["status"] == 404 and body["error"]


@pytest.mark.parametrize("path,params", [
    ("runs", {"limit": "abc"}),
    ("runs", {"limit": 1001}),
    ("runs", {"limit": -1}),
    ("runs", {"offset": -5}),
    ("runs", {"order": "up"}),
    ("runs", {"status": "sleeping"}),
    ("runs", {"sort": "bogus"}),
    ("runs", {"sort": "metrics."}),
    ("runs", {"where": "params.lr >"}),
    ("runs", {"where": "lr > 0.01"}),
    ("runs/spiky/metrics", {"max_points": 1}),
    ("runs/spiky/metrics", {"max_points": "many"}),
    ("runs/spiky/metrics", {"after_step": "last"}),
    ("diff", {"runs": "baseline"}),
    ("diff", {"runs": "baseline,wide", "changed_only": "maybe"}),
    ("charts", {"kind": "pie", "key": "loss"}),
    ("charts", {"kind": "curves", "runs": "baseline"}),
    ("charts", {"kind": "curves", "runs": "baseline", "key": "loss", "smoothing": 2}),
    ("charts", {"kind": "curves", "runs": "baseline", "key": "loss", "log": "perhaps"}),
    ("charts", {"kind": "scatter", "key": "loss"}),
    ("charts", {"kind": "parallel", "key": "loss"}),
])
def test_bad_arguments_are_400_with_a_message(server: Any, path: str, params: dict) -> None:
    status, body = server.request("GET", path, params=params)
    assert status == 400, body
    assert body["status"] == 400 and body["error"]


INJECTIONS = ["'; DROP TABLE runs; --", "\" OR 1=1 --", "x') OR ('1'='1", "%", "_", "*"]


def test_injection_attempts_find_nothing_or_are_rejected_and_the_store_is_intact(
    server: Any
) -> None:
    for attempt in INJECTIONS:
        for field in ("q", "tag", "notebook"):
            status, page = server.request("GET", "runs", params={field: attempt})
            assert status == 200 and page["total"] == 0, (field, attempt, page)
        status, _ = server.request("GET", "runs", params={"sort": attempt})
        assert status == 400
        status, _ = server.request("GET", "runs", params={"sort": f"metrics.{attempt}"})
        assert status == 200  # a metric nobody logged: nothing to sort by
        status, _ = server.request("GET", "runs", params={"sort": f"params.{attempt}"})
        assert status == 200
        status, _ = server.request("GET", "runs", params={"where": attempt})
        assert status == 400
        status, _ = server.request("GET", "runs/" + urllib_quote(attempt))
        assert status == 404
    assert server.get("runs")["total"] == 18
    db = sqlite3.connect(server.root / ".nbtrack" / "nbtrack.db")
    try:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 18
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def urllib_quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# -- the wire contract -----------------------------------------------------------------------

def keys_of(shape: type) -> set[str]:
    return set(typing.get_type_hints(shape))


def assert_shape(data: dict[str, Any], shape: type) -> None:
    assert set(data) == keys_of(shape), (shape.__name__, set(data) ^ keys_of(shape))


def test_every_response_carries_exactly_the_keys_of_its_model(server: Any) -> None:
    page = server.get("runs", limit=3)
    assert_shape(page, model.RunsPage)
    for record in page["runs"]:
        assert_shape(record, model.RunRecord)
    detail = server.get("runs/cells-a")
    assert_shape(detail, model.RunDetail)
    for summary in detail["metrics"]:
        assert_shape(summary, model.MetricSummary)
    assert detail["cells"]
    for cell in detail["cells"]:
        assert_shape(cell, model.CellExecution)
        for variable in cell["variables"]:
            assert_shape(variable, model.VariableChange)
    metrics = server.get("runs/spiky/metrics", max_points=100)
    assert_shape(metrics, model.MetricsResponse)
    for series in metrics["series"]:
        assert_shape(series, model.MetricSeries)
    diff = server.get("diff", runs="cells-a,cells-b")
    assert_shape(diff, model.RunDiffRecord)
    for part, shape in (("params", model.ValueDelta), ("metrics", model.MetricDelta),
                        ("cells", model.CellDiff), ("variables", model.VariableDelta),
                        ("env", model.ValueDelta), ("runs", model.RunRecord)):
        assert diff[part], part
        for item in diff[part]:
            assert_shape(item, shape)
    assert_shape(server.get("keys"), model.KeysResponse)
    assert_shape(server.get("status"), model.StatusInfo)
    assert_shape(server.get("charts", runs="baseline", key="loss"), model.ChartResponse)
    status, error = server.request("GET", "runs/nope")
    assert_shape(error, model.ErrorResponse)


def test_a_store_another_process_is_still_creating_reads_as_empty(tmp_path: Path) -> None:
    """The file exists before its tables do: the sidebar's polls get answers, not 500s."""
    from nbtrack import responses

    path = tmp_path / "nbtrack.db"
    sqlite3.connect(path).close()  # what a creating process leaves for an instant
    assert responses.status(path)["store"] == str(path)
    assert responses.runs_page(path)["total"] == 0
