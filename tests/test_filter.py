"""The filter language on a real store of a few hundred generated runs.

Each filter's answer is checked against the same question asked in Python of what the
generator wrote (``nbtrack.query.sample``).
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nbtrack
from nbtrack import config
from nbtrack.filter import FilterError, compile_filter
from nbtrack.query.sample import generate_runs
from nbtrack.store import access

N_RUNS = 300
Spec = dict[str, Any]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Spec]]]:
    """A workspace of N_RUNS generated runs; running runs stay running for 10 minutes."""
    ws = tmp_path_factory.mktemp("filter-workspace")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBTRACK_STALE_AFTER", "600")
        mp.delenv("NBTRACK_DIR", raising=False)
        db = access.connect(config.db_path(ws))
        specs = generate_runs(db, N_RUNS, start=time.time())
        db.close()
        yield ws, specs


def found(store: tuple[Path, list[Spec]], where: str) -> set[int]:
    ws, _ = store
    return {r["number"] for r in nbtrack.runs(where=where, workspace=ws).records()}


def expected(store: tuple[Path, list[Spec]], keep: Callable[[Spec], bool]) -> set[int]:
    _, specs = store
    return {s["number"] for s in specs if keep(s)}


def check(store: tuple[Path, list[Spec]], where: str, keep: Callable[[Spec], bool]) -> None:
    want = expected(store, keep)
    assert found(store, where) == want, where
    assert 0 < len(want) < N_RUNS, f"{where}: a test filter should keep some runs, not all"


def status(s: Spec) -> str:
    return "crashed" if s["status"] == "stale" else s["status"]


def summary_value(s: Spec, key: str) -> Any:
    if key in s["summary"]:
        return s["summary"][key]
    values = s["metrics"].get(key)
    return values[-1] if values else None


def finite(values: list[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


# -- comparisons ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("op", "compare"),
    [("=", lambda a, b: a == b), ("!=", lambda a, b: a != b), ("<", lambda a, b: a < b),
     ("<=", lambda a, b: a <= b), (">", lambda a, b: a > b), (">=", lambda a, b: a >= b)],
)
def test_user_filters_a_numeric_param_with_each_operator(store, op, compare) -> None:
    check(store, f"params.lr {op} 0.01", lambda s: compare(s["params"]["lr"], 0.01))
    check(store, f"params.epochs {op} 4", lambda s: compare(s["params"]["epochs"], 4))


def test_user_filters_text_params_with_equality_glob_and_lists(store) -> None:
    check(store, 'params.opt = "adam"', lambda s: s["params"]["opt"] == "adam")
    check(store, "params.opt = 'adam'", lambda s: s["params"]["opt"] == "adam")
    check(store, 'params.opt != "adam"', lambda s: s["params"]["opt"] != "adam")
    check(store, 'params.opt ~ "adam*"', lambda s: s["params"]["opt"].startswith("adam"))
    check(store, 'params.opt in ("sgd", "adamw")', lambda s: s["params"]["opt"] in ("sgd", "adamw"))
    check(store, 'params.opt not in ("sgd", "adamw")', lambda s: s["params"]["opt"] == "adam")
    check(store, 'params.arch ~ "resnet1?"', lambda s: s["params"].get("arch", "")[:7] == "resnet1")
    check(store, 'params.arch > "resnet18"', lambda s: s["params"].get("arch", "") > "resnet18")


def test_numbers_and_text_never_compare_with_each_other(store) -> None:
    assert found(store, 'params.opt > 0') == set()  # text params are not numbers
    assert found(store, 'params.lr < "z"') == set()  # number params are not text
    check(store, "params.epochs in (1, 2.0, 3)", lambda s: s["params"]["epochs"] in (1, 2, 3))


def test_user_filters_boolean_null_and_infinite_params(store) -> None:
    check(store, "params.augment = true", lambda s: s["params"]["augment"])
    check(store, "params.augment = FALSE", lambda s: not s["params"]["augment"])
    check(store, "params.augment != true", lambda s: not s["params"]["augment"])
    check(store, "params.arch = null", lambda s: "arch" not in s["params"])
    check(store, "params.arch != null", lambda s: "arch" in s["params"])
    # dropout is recorded with a None value: it reads as missing.
    assert found(store, "params.dropout != null") == set()
    check(store, "params.clip > 1e300", lambda s: s["params"].get("clip") == math.inf)
    check(store, "params.clip >= 0", lambda s: "clip" in s["params"])


def test_names_with_dots_or_spaces_can_be_quoted(store) -> None:
    want = expected(store, lambda s: s["params"]["model.depth"] == 2)
    assert found(store, 'params."model.depth" = 2') == want
    assert found(store, "params.`model.depth` = 2") == want
    assert found(store, "params.model.depth = 2") == want  # unquoted parts are joined
    big = expected(store, lambda s: s["params"]["batch size"] >= 64)
    assert found(store, "params.`batch size` >= 64") == big
    assert found(store, "params.'batch size' >= 64") == big


# -- metrics ----------------------------------------------------------------------------------

def test_user_filters_metrics_by_summary_value_min_max_and_last(store) -> None:
    check(store, "metrics.loss < 0.5",
          lambda s: "loss" in s["metrics"] and s["metrics"]["loss"][-1] < 0.5)
    check(store, "metrics.loss.min <= 0.3",
          lambda s: "loss" in s["metrics"] and min(finite(s["metrics"]["loss"])) <= 0.3)
    check(store, "metrics.loss.max > 1.0",
          lambda s: "loss" in s["metrics"] and max(finite(s["metrics"]["loss"])) > 1.0)
    check(store, "metrics.loss.last >= 0.6",
          lambda s: "loss" in s["metrics"] and s["metrics"]["loss"][-1] >= 0.6)


def test_an_explicit_summary_value_overrides_the_last_one(store) -> None:
    def acc(s: Spec) -> Any:
        return summary_value(s, "acc")

    check(store, "metrics.acc >= 0.99", lambda s: acc(s) is not None and acc(s) >= 0.99)
    assert found(store, "metrics.acc.last >= 0.99") == set()
    check(store, 'metrics.note = "best"', lambda s: s["summary"].get("note") == "best")
    check(store, 'metrics.note ~ "b*"', lambda s: s["summary"].get("note") == "best")


def test_missing_metrics_read_as_null(store) -> None:
    check(store, "metrics.loss = null", lambda s: "loss" not in s["metrics"])
    check(store, "metrics.loss != null", lambda s: "loss" in s["metrics"])
    check(store, "not metrics.loss < 0.5",
          lambda s: "loss" not in s["metrics"] or s["metrics"]["loss"][-1] >= 0.5)


# -- run fields -------------------------------------------------------------------------------

def test_user_filters_on_name_id_number_notebook_and_notes(store) -> None:
    check(store, 'name = "baseline"', lambda s: s["name"] == "baseline")
    check(store, 'name ~ "wide-*"', lambda s: s["name"].startswith("wide-"))
    check(store, 'name ~ "sweep 1*"', lambda s: s["name"].startswith("sweep 1"))
    check(store, 'name in ("baseline", "cnn-2")', lambda s: s["name"] in ("baseline", "cnn-2"))
    check(store, 'id = "r000007"', lambda s: s["id"] == "r000007")
    check(store, "number <= 10", lambda s: s["number"] <= 10)
    check(store, 'notebook = "train.ipynb"', lambda s: s["notebook"] == "train.ipynb")
    check(store, "notebook = null", lambda s: s["notebook"] is None)
    check(store, 'notebook != "train.ipynb"', lambda s: s["notebook"] != "train.ipynb")
    check(store, 'notes = "keep"', lambda s: s["notes"] == "keep")


def test_status_is_the_status_readers_see(store) -> None:
    check(store, 'status = "crashed"', lambda s: status(s) == "crashed")
    check(store, 'status = "running"', lambda s: status(s) == "running")
    check(store, 'status in ("failed", "interrupted")',
          lambda s: status(s) in ("failed", "interrupted"))
    check(store, 'status != "finished"', lambda s: status(s) != "finished")


def test_user_filters_tags(store) -> None:
    check(store, 'tags has "cnn"', lambda s: "cnn" in s["tags"])
    check(store, 'tags = "cnn"', lambda s: "cnn" in s["tags"])
    check(store, 'tags != "cnn"', lambda s: "cnn" not in s["tags"])
    check(store, 'tags in ("rnn", "sweep")', lambda s: bool({"rnn", "sweep"} & set(s["tags"])))
    check(store, 'tags not in ("rnn", "sweep")', lambda s: not {"rnn", "sweep"} & set(s["tags"]))
    check(store, 'tags ~ "*line"', lambda s: "baseline" in s["tags"])
    check(store, "tags = null", lambda s: not s["tags"])


def test_user_filters_by_creation_date_and_relative_time(store) -> None:
    _, specs = store
    day = dt.datetime.fromtimestamp(specs[100]["started"]).date()
    midnight = dt.datetime.combine(day, dt.time()).timestamp()
    next_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()
    iso = day.isoformat()
    check(store, f"created = {iso}", lambda s: midnight <= s["started"] < next_day)
    check(store, f"created != {iso}", lambda s: not midnight <= s["started"] < next_day)
    check(store, f"created < {iso}", lambda s: s["started"] < midnight)
    check(store, f"created <= {iso}", lambda s: s["started"] < next_day)
    check(store, f"created > {iso}", lambda s: s["started"] >= next_day)
    check(store, f'started >= "{iso}"', lambda s: s["started"] >= midnight)
    moment = dt.datetime.fromtimestamp(specs[50]["started"]).replace(second=0, microsecond=0)
    minute = moment.timestamp()
    check(store, f"created >= {moment.strftime('%Y-%m-%dT%H:%M')}",
          lambda s: s["started"] >= minute)
    check(store, f"created < {moment.strftime('%Y-%m-%dT%H:%M')}",
          lambda s: s["started"] < minute)
    # Run i started i hours ago.
    check(store, "created > -1d", lambda s: s["i"] < 24)
    check(store, "created > -12h and created <= -2h", lambda s: 2 <= s["i"] < 12)
    check(store, "created < -1w", lambda s: s["i"] >= 7 * 24)


# -- structure --------------------------------------------------------------------------------

def test_not_binds_tighter_than_and_which_binds_tighter_than_or(store) -> None:
    def a(s: Spec) -> bool:
        return s["name"] == "baseline"

    def b(s: Spec) -> bool:
        return "sweep" in s["tags"]

    def c(s: Spec) -> bool:
        return s["params"]["lr"] < 0.01

    A, B, C = 'name = "baseline"', 'tags has "sweep"', "params.lr < 0.01"
    check(store, f"{A} or {B} and {C}", lambda s: a(s) or (b(s) and c(s)))
    check(store, f"({A} or {B}) and {C}", lambda s: (a(s) or b(s)) and c(s))
    check(store, f"not {A} and {B}", lambda s: (not a(s)) and b(s))
    check(store, f"not ({A} and {B})", lambda s: not (a(s) and b(s)))
    check(store, f"not not {B}", b)
    check(store, f"{A} or {B} or {C}", lambda s: a(s) or b(s) or c(s))
    check(store, "NAME = 'baseline' OR Tags HAS 'sweep' AND Params.lr < 0.01",
          lambda s: a(s) or (b(s) and c(s)))


def test_filters_combine_with_sort_limit_and_exact_filters(store) -> None:
    ws, specs = store
    listed = nbtrack.runs(where="params.lr < 0.01", sort="-metrics.acc", limit=5, workspace=ws)
    assert listed.total == len(expected(store, lambda s: s["params"]["lr"] < 0.01))
    values = [r["summary"].get("acc") for r in listed.records()]
    assert len(values) == 5 and values == sorted(values, reverse=True)
    tagged = nbtrack.runs(where="params.lr < 0.01", tag="cnn", workspace=ws)
    assert {r["number"] for r in tagged.records()} == expected(
        store, lambda s: s["params"]["lr"] < 0.01 and "cnn" in s["tags"])
    assert nbtrack.runs(where="   ", workspace=ws).total == N_RUNS


# -- errors and safety ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("where", "column", "words"),
    [
        ("params.lr <", 12, "expected a value"),
        ("params.lr < 0.01 and", 21, "expected a field"),
        ("(params.lr < 1", 15, "')'"),
        ("params.lr < 1)", 14, "the end of the filter"),
        ("lr < 1", 1, "did you mean params.lr or metrics.lr"),
        ("params.lr 0.1", 11, "expected an operator"),
        ('status = "done"', 10, "unknown status 'done'"),
        ("status = finished", 10, 'quote text values: "finished"'),
        ("params.lr ~ 5", 13, "glob pattern"),
        ('name = "open', 8, "unterminated string"),
        ('tags > "a"', 6, "tags does not take >"),
        ("params.lr = @", 13, "unexpected character '@'"),
        ("params. = 1", 9, "a name after 'params.'"),
        ("params.lr in 1", 14, "'(' and a list"),
        ("", 1, "a filter expression"),
        ('name has "x"', 6, "'has' works on tags only"),
        ("metrics.loss < -7d", 16, "metrics compare with numbers"),
        ('created > "yesterday"', 11, "is not a date"),
    ],
)
def test_a_bad_filter_names_the_column_and_what_was_expected(where, column, words) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(where)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.column == column, str(error)
    message = str(error)
    assert f"column {column}" in message and words in message, message
    lines = message.splitlines()
    assert lines[-1] == "  " + " " * (column - 1) + "^"  # the caret under the column
    assert lines[-2] == "  " + where


def test_bad_filters_raise_from_runs_too(store) -> None:
    ws, _ = store
    with pytest.raises(nbtrack.FilterError, match="column 12"):
        nbtrack.runs(where="params.lr <", workspace=ws)


def test_everything_the_user_typed_is_a_parameter_never_sql() -> None:
    sql, params = compile_filter(
        "name = \"x' OR 1=1 --\" or params.`a; DROP TABLE runs` = 1 or tags ~ \"';--\""
    )
    assert "DROP" not in sql and "1=1" not in sql and "';--" not in sql
    assert set(params.values()) >= {"x' OR 1=1 --", "a; DROP TABLE runs", "';--"}


def _counts(ws: Path) -> dict[str, int]:
    conn = sqlite3.connect(config.db_path(ws))
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


@pytest.mark.parametrize(
    "where",
    [
        "name = \"x' OR 1=1 --\"",
        "name = 'x\\' OR 1=1 --'",
        'params."a; DROP TABLE runs" = 1',
        "params.`x) OR 1=1 --` = 1",
        'metrics."loss\' OR \'1\'=\'1" < 1',
        'tags has "\'); DELETE FROM runs; --"',
        "name ~ \"*' UNION SELECT number FROM runs --\"",
    ],
)
def test_injection_attempts_match_nothing_and_change_nothing(store, where) -> None:
    ws, _ = store
    before = _counts(ws)
    assert found(store, where) == set()
    assert _counts(ws) == before


def test_sql_is_read_only(store) -> None:
    ws, _ = store
    before = _counts(ws)
    for statement in ("DELETE FROM runs", "DROP TABLE params",
                      "INSERT INTO runs (id, name, status, started) VALUES ('x', 'x', 'x', 0)",
                      "PRAGMA query_only = OFF", "ATTACH DATABASE ':memory:' AS other"):
        with pytest.raises(sqlite3.Error):
            nbtrack.sql(statement, workspace=ws)
    assert _counts(ws) == before


def test_filters_on_params_and_metrics_are_answered_from_indexes(store) -> None:
    ws, _ = store
    conn = sqlite3.connect(config.db_path(ws))
    try:
        for where, index in (("params.lr < 0.01", "params_key_value"),
                             ("metrics.loss < 0.5", "summary_key_value"),
                             ("metrics.loss > 0.5", "summary_key_value"),
                             ("metrics.loss.min < 0.5", "summary_key_min")):
            sql, params = compile_filter(where)
            plan = " ".join(row[3] for row in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT number FROM runs WHERE {sql}", params))
            assert f"INDEX {index} (key=? AND" in plan, (where, plan)
    finally:
        conn.close()


def test_sort_names_are_never_sql_either(store) -> None:
    ws, _ = store
    before = _counts(ws)
    for sort in ("params.x'; DROP TABLE runs; --", "-metrics.loss) DESC; DELETE FROM runs; --"):
        assert nbtrack.runs(sort=sort, limit=3, workspace=ws).total == N_RUNS
    with pytest.raises(ValueError):
        nbtrack.runs(sort="number; DROP TABLE runs", workspace=ws)
    assert _counts(ws) == before


# -- sorting ----------------------------------------------------------------------------------

def sort_value(s: Spec, name: str) -> Any:
    """The value ``nbtrack.runs(sort=name)`` orders run ``s`` by, computed in Python."""
    kind, _, key = name.partition(".")
    if kind == "params":
        return s["params"].get(key)
    base, _, aggregate = key.rpartition(".")
    if aggregate in ("min", "max", "last"):
        values = s["metrics"].get(base)
        if not values:
            return None
        return {"min": min, "max": max, "last": lambda v: v[-1]}[aggregate](finite(values))
    return summary_value(s, key)


@pytest.mark.parametrize("sort", ["metrics.loss.min", "-metrics.loss.max", "metrics.loss.last",
                                  "-metrics.acc", "params.arch", "-params.lr"])
def test_sorting_by_metrics_and_params_matches_python(store, sort) -> None:
    ws, specs = store
    name, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    keyed = [(sort_value(s, name), s["number"]) for s in specs]
    with_value = sorted((k for k in keyed if k[0] is not None), reverse=descending)
    without = sorted((k for k in keyed if k[0] is None), reverse=descending)
    listed = nbtrack.runs(sort=sort, workspace=ws)
    assert [r["number"] for r in listed.records()] == [n for _, n in with_value + without]
    assert with_value, "a test sort should have values to sort by"


def test_a_metric_named_like_an_aggregate_sorts_by_its_own_value(workspace: Path) -> None:
    for name, values in (("a", [3.0, 1.0]), ("b", [2.0, 2.5]), ("c", [1.0, 3.0])):
        with nbtrack.init(name=name, capture_env=False) as run:
            for step, value in enumerate(values):
                run.log({"loss": value, "loss.min": -value}, step=step)

    def names(sort: str) -> list[str]:
        return [r.name for r in nbtrack.runs(sort=sort)]

    assert names("metrics.loss.min") == ["c", "b", "a"]  # the metric loss.min: -3, -2.5, -1
    assert names("metrics.loss.max") == ["b", "a", "c"]  # the max of loss: 2.5, 3, 3
    assert names("-metrics.loss.last") == ["c", "b", "a"]  # the last loss: 3, 2.5, 1


# -- the package's place ------------------------------------------------------------------------

PACKAGE = Path(nbtrack.__file__).parent


def imported_modules(folder: Path) -> set[str]:
    """Every module the ``.py`` files of ``folder`` import (relative imports resolved)."""
    import ast

    found: set[str] = set()
    for path in folder.glob("*.py"):
        package = "nbtrack." + ".".join(path.parent.relative_to(PACKAGE).parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{parent}.{base}" if base else parent
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_the_store_and_the_filter_language_do_not_import_each_other() -> None:
    store = imported_modules(PACKAGE / "store")
    language = imported_modules(PACKAGE / "filter")
    assert not {m for m in store if m.startswith(("nbtrack.filter", "nbtrack.query"))}, store
    assert not {m for m in language if m.startswith(("nbtrack.store", "nbtrack.query"))}
    assert "nbtrack.condition" in store and "nbtrack.condition" in language


def test_the_store_refuses_an_uncompiled_filter(store) -> None:
    from nbtrack.store import queries

    db = access.connect(config.db_path(store[0]), readonly=True)
    try:
        with pytest.raises(TypeError, match="compiled Condition"):
            queries.list_run_numbers(db, "params.lr < 0.01")  # type: ignore[arg-type]
    finally:
        db.close()


def test_the_filter_language_is_importable_where_it_used_to_be() -> None:
    from nbtrack.query import FilterError as OldError
    from nbtrack.query import compile_filter as old_compile

    assert OldError is nbtrack.FilterError is FilterError
    assert old_compile("params.lr < 0.01") == compile_filter("params.lr < 0.01")
