"""Recording with the Python API in a plain process: runs, metrics, params, reading back."""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import nbtrack
from nbtrack import config
from nbtrack.store import access, schema


def test_logged_metrics_read_back_by_step_with_nan_and_infinities(workspace: Path) -> None:
    with nbtrack.init(name="baseline") as run:
        for step in range(100):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 100})
        run.log({"weird": math.nan, "big": math.inf, "small": -math.inf})
    history = nbtrack.get_run("baseline").history()
    assert history["loss"]["step"] == list(range(100))
    assert history["loss"]["value"][-1] == pytest.approx(0.01)
    assert math.isnan(history["weird"]["value"][0])
    assert history["big"]["value"] == [math.inf]
    assert history["small"]["value"] == [-math.inf]
    assert history["weird"]["step"] == [100]  # a missing step counts up per run


def test_numpy_scalars_0d_arrays_and_bools_are_accepted(workspace: Path) -> None:
    with nbtrack.init() as run:
        run.log({"f32": np.float32(0.5), "i64": np.int64(3), "arr": np.array(2.5), "ok": True})
    summary = dict(run.summary)
    assert summary == {"f32": 0.5, "i64": 3, "arr": 2.5, "ok": 1}


@pytest.mark.parametrize("bad", ["0.5", None, [1, 2], {"nested": 1}, np.array([1.0, 2.0])])
def test_a_bad_value_raises_type_error_naming_the_key_and_stores_nothing(
    workspace: Path, bad: object
) -> None:
    with nbtrack.init() as run:
        run.log({"loss": 1.0}, step=0)
        with pytest.raises(TypeError, match="'accuracy'") as info:
            run.log({"loss": 0.5, "accuracy": bad}, step=1)
        assert type(bad).__name__ in str(info.value)
    history = run.history()
    assert history["loss"]["step"] == [0]
    assert "accuracy" not in history


def test_keys_may_hold_unicode_spaces_slashes_and_dots(workspace: Path) -> None:
    keys = ["val/loss", "train loss", "λ.accuracy", "a.b/c d"]
    with nbtrack.init() as run:
        run.log({k: 1.0 for k in keys})
    assert sorted(run.metric_keys()) == sorted(keys)
    with nbtrack.init() as run2, pytest.raises(TypeError, match="non-empty"):
        run2.log({"": 1.0})
    with nbtrack.init() as run3, pytest.raises(ValueError, match="Unicode"):
        run3.log({"bad\ud800": 1.0})


def test_explicit_steps_and_a_step_logged_twice_keeps_the_later_value(workspace: Path) -> None:
    with nbtrack.init() as run:
        run.log({"loss": 3.0}, step=10)
        run.log({"loss": 2.0})  # counts on from the last explicit step
        run.log({"loss": 9.0}, step=10)
    series = run.history("loss")["loss"]
    assert series["step"] == [10, 11]
    assert series["value"] == [9.0, 2.0]


def test_context_manager_sets_finished_failed_and_interrupted(workspace: Path) -> None:
    with nbtrack.init(name="ok"):
        pass
    with pytest.raises(ValueError), nbtrack.init(name="boom"):
        raise ValueError("boom")
    with pytest.raises(KeyboardInterrupt), nbtrack.init(name="stopped"):
        raise KeyboardInterrupt
    statuses = {r.name: r.status for r in nbtrack.runs()}
    assert statuses == {"ok": "finished", "boom": "failed", "stopped": "interrupted"}


def test_starting_a_run_while_one_is_active_finishes_the_previous(workspace: Path) -> None:
    first = nbtrack.init(name="first")
    nbtrack.log({"loss": 1.0})
    second = nbtrack.init(name="second")
    assert first.status == "finished"
    assert second.status == "running"
    assert nbtrack.active_run() is second
    assert first.number != second.number
    with pytest.raises(nbtrack.RunFinishedError):
        first.log({"loss": 0.5})


def test_log_without_a_run_says_how_to_start_one(workspace: Path) -> None:
    with pytest.raises(nbtrack.NoActiveRunError, match="nbtrack.init"):
        nbtrack.log({"loss": 1.0})


def test_config_writes_persist_and_summary_values_can_be_set(workspace: Path) -> None:
    with nbtrack.init(config={"lr": 0.01, "layers": [64, 32]}, tags=["cnn", "cnn", "small"]) as run:
        run.config["epochs"] = 3
        run.config.update(optimizer="adam")
        run.log({"acc": 0.7})
        run.log({"acc": 0.9})
        run.summary["best_acc"] = 0.95
        run.summary["acc"] = 0.85  # explicit values override the last one
    again = nbtrack.get_run(run.id)
    assert again.params == {"epochs": 3, "layers": [64, 32], "lr": 0.01, "optimizer": "adam"}
    assert again.config.lr == 0.01
    assert dict(again.summary) == {"acc": 0.85, "best_acc": 0.95}
    assert again.tags == ["cnn", "small"]


def test_runs_are_found_by_number_id_or_newest_name(workspace: Path) -> None:
    a = nbtrack.init(name="same")
    b = nbtrack.init(name="same")
    nbtrack.finish()
    assert nbtrack.get_run("same") == b
    assert nbtrack.get_run(a.number) == a
    assert nbtrack.get_run(f"#{a.number}") == a
    assert nbtrack.get_run(a.id) == a
    with pytest.raises(nbtrack.RunNotFound):
        nbtrack.get_run("nope")
    assert [r.number for r in nbtrack.runs()] == [b.number, a.number]  # newest first


def test_runs_to_pandas_has_params_and_metrics_columns(workspace: Path) -> None:
    with nbtrack.init(name="x", config={"lr": 0.1}) as run:
        run.log({"loss": 0.2})
    frame = nbtrack.runs().to_pandas()
    assert frame.loc[0, "params.lr"] == 0.1
    assert frame.loc[0, "metrics.loss"] == 0.2
    wide = run.history().to_pandas()
    assert list(wide.columns) == ["loss"]


def test_diff_shows_changed_params_and_metric_deltas(workspace: Path) -> None:
    with nbtrack.init(name="a", config={"lr": 0.01, "bs": 32}) as a:
        a.log({"loss": 0.5})
    with nbtrack.init(name="b", config={"lr": 0.1, "bs": 32}) as b:
        b.log({"loss": 0.3})
    d = nbtrack.diff("a", "b")
    assert d.changed_params() == {"lr": [0.01, 0.1]}
    loss = next(m for m in d.metrics if m["key"] == "loss")
    assert loss["delta"] == pytest.approx(-0.2)
    assert "lr" in repr(d) and "0.1" in repr(d)
    with pytest.raises(ValueError, match="at least two"):
        nbtrack.diff("a")


def test_environment_is_recorded_with_python_and_packages(workspace: Path) -> None:
    with nbtrack.init() as run:
        pass
    env = run.env
    assert env["python_version"].startswith(f"{os.sys.version_info.major}.")
    assert "sqlite-utils" in {name.lower() for name in env["packages"]}


def test_the_schema_is_versioned_by_named_migrations(workspace: Path) -> None:
    with nbtrack.init():
        pass
    db = access.connect(config.db_path(), readonly=True)
    assert schema.schema_version(db) == len(schema.MIGRATIONS) >= 3
    names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations")]
    assert names[0] == "m001_initial"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_location_follows_env_then_nearest_dot_nbtrack_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NBTRACK_DIR", raising=False)
    project = tmp_path / "project"
    (project / ".nbtrack").mkdir(parents=True)
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert config.db_path() == project / ".nbtrack" / "nbtrack.db"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert config.workspace_dir() == elsewhere
    monkeypatch.setenv("NBTRACK_DIR", str(project))
    assert config.workspace_dir() == project


def test_reading_a_workspace_with_no_store_finds_no_runs(workspace: Path) -> None:
    assert len(nbtrack.runs()) == 0
    assert not (workspace / ".nbtrack").exists()


def test_a_stale_heartbeat_reads_as_crashed(workspace: Path) -> None:
    run = nbtrack.init(name="ghost")
    nbtrack.log({"loss": 1.0})
    run.recorder.flush()
    run.recorder.discard_live(run.number)  # as if the process had died: no more heartbeats
    with sqlite3.connect(config.db_path()) as conn:
        conn.execute("UPDATE runs SET heartbeat = heartbeat - 3600, started = started - 3600")
    assert nbtrack.get_run("ghost").status == "crashed"
    assert nbtrack.runs(status="crashed")[0].name == "ghost"
    run._done = True  # don't let the fixture finish it
    nbtrack.session._state.active = None


def test_a_code_diff_keeps_removed_and_added_last_lines_apart() -> None:
    from nbtrack.store.diff import diff_cells

    def cell(source: str) -> dict:
        return {"cell_id": "c1", "source": source, "execution_count": 1, "variables": []}

    (change,) = diff_cells([cell("x = 1\ny = 2")], [cell("x = 1\ny = 3")])  # type: ignore[list-item]
    assert "-y = 2\n+y = 3\n" in change["diff"]


def test_a_store_that_cannot_be_created_gives_a_clear_error(workspace: Path) -> None:
    (workspace / ".nbtrack").write_text("not a folder")
    with pytest.raises(nbtrack.StoreUnavailableError, match="NBTRACK_DIR"):
        nbtrack.init(name="nowhere")
    assert nbtrack.active_run() is None


def test_an_int_too_large_for_a_float_is_stored_as_infinity_and_loses_nothing(
    workspace: Path,
) -> None:
    with nbtrack.init() as run:
        run.log({"loss": 0.5, "huge": 10**400})
        run.log({"loss": 0.25, "huge": -(10**400)})
    history = run.history()
    assert history["loss"]["value"] == [0.5, 0.25]
    assert history["huge"]["value"] == [math.inf, -math.inf]


def test_a_step_beyond_64_bits_is_refused_and_the_run_goes_on(workspace: Path) -> None:
    with nbtrack.init() as run:
        with pytest.raises(ValueError, match="64-bit"):
            run.log({"loss": 1.0}, step=2**70)
        run.log({"loss": 0.5}, step=3)
    assert run.history("loss")["loss"]["step"] == [3]


def test_one_unstorable_item_loses_only_itself(workspace: Path) -> None:
    with nbtrack.init() as run:
        run.log({"loss": 0.5})
        run.config["fine"] = 1
        run.recorder.enqueue("variables", (1, [{  # text SQLite cannot encode (a lone surrogate)
            "name": "bad\ud800", "change": "added", "type": "str", "shape": None,
            "dtype": None, "length": 1, "repr": "'\ud800'", "value": None}]))
        run.log({"loss": 0.25})
        with pytest.warns(nbtrack.TrackingWarning):
            run.recorder.flush()
    assert run.history("loss")["loss"]["value"] == [0.5, 0.25]
    assert run.params == {"fine": 1}
