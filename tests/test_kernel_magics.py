"""The %track magics and cell hooks in a real IPython shell."""

from __future__ import annotations

import os
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


# -- the user's random numbers are theirs --------------------------------------------------------


SEEDED_CELLS = [
    "import random\nimport numpy as np\nrandom.seed(0)\nnp.random.seed(0)",
    "a = random.random()",
    "b = np.random.rand()",
    "c = random.random(), np.random.rand()",
]


def _seeded_values(ip: InteractiveShell) -> tuple:
    for source in SEEDED_CELLS:
        assert run(ip, source).success
    return ip.user_ns["a"], ip.user_ns["b"], ip.user_ns["c"]


def test_loading_nbtrack_leaves_seeded_random_numbers_as_they_were(shell) -> None:
    run(shell, "%track start seeded")
    tracked = _seeded_values(shell)
    shell.run_line_magic("unload_ext", "nbtrack")
    untracked = _seeded_values(shell)
    shell.run_line_magic("load_ext", "nbtrack")  # the fixture unloads again
    assert tracked == untracked


def test_rerunning_a_seeded_notebook_keeps_every_cell_execution(shell) -> None:
    run(shell, "%track start seeded-twice")
    for _ in range(2):
        _seeded_values(shell)
    run(shell, "%track stop")
    cells = nbtrack.get_run("seeded-twice").cells
    sources = [c["source"] for c in cells]
    assert sources == ["%track start seeded-twice", *SEEDED_CELLS, *SEEDED_CELLS, "%track stop"]
    assert len({c["id"] for c in cells}) == len(cells)


# -- points logged from other threads ----------------------------------------------------------


BACKGROUND = """\
import threading, time, nbtrack
stop, logged = threading.Event(), [0]

def feed():
    while not stop.is_set():
        nbtrack.log({"bg": float(logged[0])})
        logged[0] += 1
        time.sleep(0.001)

feeder = threading.Thread(target=feed)
feeder.start()
"""
# Waits until the background thread has logged more points while this cell runs.
WHILE_IT_LOGS = "seen = logged[0]\nwhile logged[0] < seen + 20:\n    time.sleep(0.001)\n"


def test_points_from_a_background_thread_belong_to_no_cell(shell) -> None:
    run(shell, "%track start threads")
    assert run(shell, BACKGROUND).success
    own_cell = WHILE_IT_LOGS + "nbtrack.log({'own': 1.0})\n"
    assert run(shell, own_cell).success
    assert run(shell, WHILE_IT_LOGS).success
    assert run(shell, "stop.set()\nfeeder.join()").success
    run(shell, "%track stop")
    threads = nbtrack.get_run("threads")
    by_source = {c["source"]: c["id"] for c in threads.cells}
    history = threads.history()
    assert len(history["bg"]["cell"]) >= 40
    assert set(history["bg"]["cell"]) == {None}
    assert history["own"]["cell"] == [by_source[own_cell]]


# -- %track watch, list --widget, status --------------------------------------------------------


def test_a_watched_secret_looking_name_is_recorded_redacted(shell) -> None:
    run(shell, "hf_token = 'hf_abc123'\nlr = 0.1")
    run(shell, "%track start watched-secret --no-auto-params")
    run(shell, "%track watch hf_token lr")
    run(shell, "hf_token = 'hf_rotated456'")
    run(shell, "%track stop")
    params = nbtrack.get_run("watched-secret").params
    assert params == {"hf_token": "<redacted>", "lr": 0.1}
    stored = nbtrack.sql("select value from params")
    assert not any("hf_" in str(row["value"]) for row in stored)


def test_track_list_widget_explains_a_bad_filter(shell, capsys,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBTRACK_WIDGETS", "1")
    run(shell, "%track start listed")
    result = run(shell, "%track list --widget --where 'params.lr <'")
    assert not result.success
    assert not isinstance(result.error_in_exec, nbtrack.FilterError)
    err = capsys.readouterr().err
    assert "UsageError" in err and "column 12" in err


def test_track_list_widget_returns_the_table_it_shows(
    shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_WIDGETS", "1")
    run(shell, "%track start first --no-auto-params")
    run(shell, "%track start second --no-auto-params")
    run(shell, "%track stop")
    assert run(shell, "table = %track list --widget --where 'name = \"second\"'").success
    table = shell.user_ns["table"]
    assert [row["name"] for row in table.runs] == ["second"]
    assert table.selected == []


def test_track_status_shows_what_the_writer_did_and_what_was_lost(shell, capsys) -> None:
    run(shell, "%track start lossy")
    run(shell, "%track log loss=0.5")
    run(shell, "%track status")
    out = capsys.readouterr().out
    assert "0 items lost" in out and "writer running" in out and "last error" not in out
    active = nbtrack.active_run()
    with pytest.warns(nbtrack.TrackingWarning):
        active.recorder.cell_started({  # a cell record SQLite cannot store (a lone surrogate)
            "id": 42, "run": active.number, "session": "s", "execution_count": 1,
            "cell_id": None, "source": "x = '\ud800'", "started": 0.0})
        active.recorder.flush()
    run(shell, "%track status")
    out = capsys.readouterr().out
    assert "1 item lost" in out and " written" in out
    assert "last error: " in out and "UnicodeEncodeError" in out


# -- auto-params: configuration, not every scalar -----------------------------------------------


def test_track_start_records_settings_not_loop_counters_or_results(shell) -> None:
    cells = [
        "lr = 0.01\nepochs = 3 * 10\nname = 'resnet'\nuse_bn = True\nwidth, depth = 64, 4",
        "for i in range(300):\n    pass",
        "class Model:\n    def score(self, data):\n        return 0.5\n\nmodel = Model()",
        "acc = model.score([1, 2])",
        "squares = [x * x for x in range(10)]\ntotal = sum(squares)",
        f"with open({__file__!r}) as f:\n    first = len(f.readline())",
        "def schedule(step):\n    lr = 0.1 / (step + 1)\n    return lr",
        "count = 0\ncount += 1",
        "seed = 7\nseed = seed * 2",
    ]
    for source in cells:
        assert run(shell, source).success
    run(shell, "%track start auto")
    assert nbtrack.active_run().params == {
        "lr": 0.01, "epochs": 30, "name": "resnet", "use_bn": True, "width": 64, "depth": 4,
    }


def test_a_setting_rebound_by_a_loop_or_computation_stops_being_a_param(shell) -> None:
    run(shell, "i = 5\nbatch = 32\nalpha = 0.5")
    run(shell, "for i in range(3):\n    pass")
    run(shell, "def shrink():\n    global alpha\n    alpha = alpha / 2\n\nbatch = batch * 2")
    run(shell, "shrink()")  # alpha changed by a function: no longer a literal setting
    run(shell, "%track start rebound lr=0.1")
    assert nbtrack.active_run().params == {"lr": 0.1}
    run(shell, "i = 7")  # assigned a literal again: a setting again
    run(shell, "%track start again")
    assert nbtrack.active_run().params == {"i": 7}


def test_settings_made_before_load_ext_are_params(shell) -> None:
    shell.run_line_magic("unload_ext", "nbtrack")
    run(shell, "early_lr = 0.3\nfor early_step in range(5):\n    pass")
    shell.run_line_magic("load_ext", "nbtrack")
    run(shell, "%track start early")
    assert nbtrack.active_run().params == {"early_lr": 0.3}


# -- system metrics and what each cell cost ----------------------------------------------------

def _sampler_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("nbtrack-system")]


def test_track_start_no_system_records_no_system_metrics(shell) -> None:
    run(shell, "%track start quiet --no-system --system-interval 0.1")
    assert _sampler_threads() == []
    run(shell, "import time; time.sleep(0.4)")  # four intervals of a sampler that must not exist
    run(shell, "%track stop")
    assert nbtrack.get_run("quiet").metric_keys() == []


def test_track_start_system_interval_samples_until_stop(shell) -> None:
    from nbtrack import system

    run(shell, "%track start sampled --system-interval 0.1")
    active = nbtrack.active_run()
    assert [s.interval for s in system.running()] == [0.1]
    run(shell, "import time\nfrom nbtrack import system\nfor _ in range(1200):  # at most 60 s\n"
               "    if any(s.samples >= 2 for s in system.running()):\n        break\n"
               "    time.sleep(0.05)")
    run(shell, "%track stop")
    assert _sampler_threads() == []
    keys = active.metric_keys()
    assert {"system/cpu_percent", "system/rss_bytes", "system/memory_percent"} <= set(keys)


def test_a_too_short_system_interval_is_a_usage_error(shell, capsys) -> None:
    result = run(shell, "%track start fast --system-interval 0.01")
    assert not result.success
    err = capsys.readouterr().err
    assert "UsageError" in err and "--system-interval must be at least 0.1 seconds" in err
    assert nbtrack.active_run() is None


def test_each_cell_records_its_cpu_time_and_the_peak_memory_it_added(
    shell, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import csv
    import io

    import nbformat
    from click.testing import CliRunner

    from nbtrack.cli import main
    from nbtrack.report import export_report

    monkeypatch.setenv("NBTRACK_NOTEBOOK", "costly.ipynb")
    run(shell, "%track start costly --no-system")
    burn = "t0 = time.thread_time()\nwhile time.thread_time() - t0 < 0.3:\n    pass"
    run(shell, "import resource, time, psutil")
    run(shell, burn)
    # Past the process's peak so far (an earlier test may have raised it), then 200 MB more.
    run(shell, "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
               "grow = max(peak - psutil.Process().memory_info().rss, 0) + 200 * 2**20")
    allocate = "block = b'x' * grow\ndel block"
    run(shell, allocate)
    run(shell, "%track stop")
    cells = {c["source"]: c for c in nbtrack.get_run("costly").cells}
    assert cells[burn]["cpu_time"] >= 0.2
    assert cells[allocate]["peak_memory_delta"] >= 100 * 2**20
    assert all(c["cpu_time"] is not None and c["cpu_time"] >= 0 for c in cells.values())
    assert all(c["peak_memory_delta"] is not None and c["peak_memory_delta"] >= 0
               for c in cells.values())

    # ... and shown with the cell: nbtrack show, nbtrack export cells, the report.
    runner = CliRunner()
    shown = runner.invoke(main, ["show", "costly"])
    assert shown.exit_code == 0, shown.output
    assert "cpu" in shown.output and "peak mem" in shown.output
    line = next(row for row in shown.output.splitlines() if "block = b'x' * grow" in row)
    assert " MB" in line and "+" in line
    exported = runner.invoke(main, ["export", "cells", "--runs", "costly"])
    assert exported.exit_code == 0, exported.output
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(exported.output))}
    assert float(rows[burn]["cpu_time"]) >= 0.2
    assert int(rows[allocate]["peak_memory_delta"]) >= 100 * 2**20
    notebook = Path(os.environ["NBTRACK_DIR"]) / "costly.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(burn), nbformat.v4.new_code_cell(allocate)]
    nbformat.write(nb, notebook)
    html = export_report(notebook, tmp_path / "costly.html").read_text()
    assert html.count('class="muted cell-resources"') == 2
    assert "s CPU" in html and "peak memory +" in html
