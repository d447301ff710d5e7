"""The %track magics and cell hooks in a real IPython shell."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

import nbtrack


@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    """A real IPython shell with ``%load_ext nbtrack`` run in the test's workspace."""
    start_ipython()  # once per process; later calls return None
    ip = InteractiveShell.instance()
    assert ip is not None
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    ip.run_line_magic("unload_ext", "nbtrack")
    for name in [n for n in ip.user_ns if not n.startswith("_") and n not in ip.user_ns_hidden]:
        del ip.user_ns[name]


def run(ip: InteractiveShell, source: str) -> Any:
    result = ip.run_cell(source, store_history=True)
    return result


def test_track_start_records_params_tags_and_the_notebooks_scalars(shell) -> None:
    run(shell, "lr = 0.01\nepochs = 3\n_private = 'x'\napi_token = 'hunter2'\nimport math")
    run(shell, "%track start baseline --tag cnn --tag small batch=32 opt=adam")
    active = nbtrack.active_run()
    assert active is not None and active.name == "baseline"
    assert active.params == {"batch": 32, "epochs": 3, "lr": 0.01, "opt": "adam"}
    assert active.tags == ["cnn", "small"]


def test_no_auto_params_keeps_only_the_explicit_ones(shell) -> None:
    run(shell, "lr = 0.01")
    run(shell, "%track start plain --no-auto-params momentum=0.9")
    assert nbtrack.active_run().params == {"momentum": 0.9}


def test_every_cell_is_recorded_with_source_order_outcome_and_changed_variables(shell) -> None:
    run(shell, "%track start cells")
    run(shell, "xs = [1, 2, 3]\ny = 2.5")
    run(shell, "xs.append(4)")
    run(shell, "del y")
    failed = run(shell, "1 / 0")
    assert isinstance(failed.error_in_exec, ZeroDivisionError)  # the cell's own error stands
    run(shell, "%track stop")
    cells = nbtrack.get_run("cells").cells
    sources = [c["source"] for c in cells]
    assert sources == ["%track start cells", "xs = [1, 2, 3]\ny = 2.5", "xs.append(4)", "del y",
                       "1 / 0", "%track stop"]
    counts = [c["execution_count"] for c in cells]
    assert counts == sorted(counts)
    assert all(c["duration"] is not None and c["duration"] >= 0 for c in cells)
    by_source = {c["source"]: c for c in cells}
    added = {v["name"]: v for v in by_source["xs = [1, 2, 3]\ny = 2.5"]["variables"]}
    assert added["xs"]["change"] == "added" and added["xs"]["length"] == 3
    assert added["y"]["value"] == 2.5
    changed = by_source["xs.append(4)"]["variables"]
    assert [(v["name"], v["change"], v["length"]) for v in changed] == [("xs", "changed", 4)]
    assert [(v["name"], v["change"]) for v in by_source["del y"]["variables"]] == [
        ("y", "deleted")]
    error = by_source["1 / 0"]
    assert (error["outcome"], error["error_type"]) == ("error", "ZeroDivisionError")
    assert "division by zero" in error["error_message"]


def test_secret_looking_variables_are_redacted(shell) -> None:
    run(shell, "%track start secrets")
    run(shell, "db_password = 'hunter2'")
    run(shell, "%track stop")
    cell = next(c for c in nbtrack.get_run("secrets").cells if "db_password" in c["source"])
    var = cell["variables"][0]
    assert var["repr"] == "<redacted>" and var["value"] is None


def test_metrics_point_at_the_cell_execution_that_logged_them(shell) -> None:
    run(shell, "%track start provenance")
    run(shell, "import nbtrack\nfor i in range(3):\n    nbtrack.log({'loss': 1 / (i + 1)})")
    run(shell, "%track log acc=0.9")
    run(shell, "%track stop")
    target = nbtrack.get_run("provenance")
    cells = {c["id"]: c["source"] for c in target.cells}
    history = target.history()
    assert {cells[c] for c in history["loss"]["cell"]} == {
        "import nbtrack\nfor i in range(3):\n    nbtrack.log({'loss': 1 / (i + 1)})"}
    assert cells[history["acc"]["cell"][0]] == "%track log acc=0.9"


def test_rerunning_the_track_start_cell_finishes_the_previous_run(shell) -> None:
    run(shell, "%track start sweep")
    first = nbtrack.active_run()
    run(shell, "%track start sweep")
    second = nbtrack.active_run()
    assert first.number != second.number
    assert first.status == "finished" and second.status == "running"


def test_track_cell_magic_is_one_run_finished_failed_or_returning_a_value(shell) -> None:
    ok = run(shell, "%%track whole lr=0.1 --no-plot\nimport nbtrack\nnbtrack.log({'a': 1})\n41 + 1")
    assert ok.result == 42
    failed = run(shell, "%%track broken --no-plot\nraise RuntimeError('nope')")
    assert isinstance(failed.error_in_exec, RuntimeError)
    assert nbtrack.get_run("whole").status == "finished"
    assert nbtrack.get_run("whole").params["lr"] == 0.1
    assert nbtrack.get_run("broken").status == "failed"
    assert nbtrack.active_run() is None


def test_track_cell_magic_marks_an_interrupted_cell(shell) -> None:
    result = run(shell, "%%track stopped --no-plot\nraise KeyboardInterrupt")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert nbtrack.get_run("stopped").status == "interrupted"


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("%track stop", "%track start"),
        ("%track log loss=0.1", "%track start"),
        ("%track start run lr", "key=value"),
        ("%track start --bogus", "--bogus"),
        ("%track list -n 0", "positive"),
        ("%track watch 1abc", "variable name"),
    ],
)
def test_mistakes_raise_usage_errors_that_say_what_to_type(shell, line: str, hint: str,
                                                           capsys) -> None:
    result = run(shell, line)
    assert not result.success
    assert hint in capsys.readouterr().err


def test_track_log_rejects_text_values(shell, capsys) -> None:
    run(shell, "%track start t")
    result = run(shell, "%track log loss=abc")
    assert not result.success
    assert "'loss'" in capsys.readouterr().err


def test_watched_variables_become_params_whenever_a_cell_changes_them(shell) -> None:
    run(shell, "lr = 0.1")
    run(shell, "%track start watched --no-auto-params")
    run(shell, "%track watch lr")
    assert nbtrack.active_run().params == {"lr": 0.1}
    run(shell, "lr = lr / 10")
    run(shell, "%track stop")
    assert nbtrack.get_run("watched").params == {"lr": pytest.approx(0.01)}


def test_list_and_status_print_the_runs(shell, capsys) -> None:
    run(shell, "%track start listed a=1")
    run(shell, "%track log loss=0.5")
    run(shell, "%track status")
    out = capsys.readouterr().out
    assert "listed" in out and "loss=0.5" in out
    run(shell, "%track stop")
    run(shell, "%track list -n 5")
    out = capsys.readouterr().out
    assert "listed" in out and "finished" in out


def test_a_failing_hook_warns_once_and_the_cell_result_stands(shell) -> None:
    hooks = shell._nbtrack_hooks

    class Broken:
        def before(self, *args: object) -> None:
            raise OSError("disk on fire")

        def after(self, *args: object) -> list:
            raise OSError("disk on fire")

    hooks.watcher = Broken()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = run(shell, "40 + 2")
        second = run(shell, "x = 1\nx + 1")
    assert first.result == 42 and second.result == 2
    messages = [str(w.message) for w in caught if issubclass(w.category, nbtrack.TrackingWarning)]
    assert len(messages) == 1 and "disk on fire" in messages[0]


def test_unloading_removes_every_hook_and_magic(shell) -> None:
    before_pre = len(shell.events.callbacks["pre_run_cell"])
    shell.run_line_magic("unload_ext", "nbtrack")
    assert len(shell.events.callbacks["pre_run_cell"]) == before_pre - 1
    assert "track" not in shell.magics_manager.magics["line"]
    assert "track" not in shell.magics_manager.magics["cell"]
    shell.run_line_magic("load_ext", "nbtrack")  # the fixture unloads again


def test_track_help_documents_every_subcommand(shell) -> None:
    doc = shell.magics_manager.magics["line"]["track"].__doc__
    for sub in ("start", "stop", "log", "status", "list", "watch", "show", "diff", "report",
                "--no-auto-params", "%%track"):
        assert sub in doc


def test_track_list_filters_with_where_and_explains_a_bad_filter(shell, capsys) -> None:
    run(shell, "%track start small lr=0.001 --no-auto-params")
    run(shell, "%track start big lr=0.1 --no-auto-params")
    run(shell, "%track stop")
    capsys.readouterr()
    run(shell, "%track list --where 'params.lr < 0.01'")
    out = capsys.readouterr().out
    assert "small" in out and "big" not in out
    result = run(shell, "%track list --where 'params.lr <'")
    assert not result.success
    assert "column" in capsys.readouterr().err


def test_quoted_words_group_and_lose_their_quotes(shell) -> None:
    run(shell, "%track start 'my first run' --notes \"two words\" opt='adam w'")
    active = nbtrack.active_run()
    assert active.name == "my first run"
    assert active.notes == "two words"
    assert active.params["opt"] == "adam w"


def test_loading_where_the_store_cannot_be_written_says_what_to_do(workspace: Path) -> None:
    start_ipython()
    ip = InteractiveShell.instance()
    (workspace / ".nbtrack").write_text("not a folder")
    result = ip.run_cell("%load_ext nbtrack")
    assert not result.success
    assert isinstance(result.error_in_exec, nbtrack.StoreUnavailableError)
    assert getattr(ip, "_nbtrack_hooks", None) is None
    assert ip.run_cell("x = 1").success  # the shell goes on as before
