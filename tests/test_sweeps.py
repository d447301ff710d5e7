"""Sweeps on real Optuna: every trial an nbtrack run, searches, W&B configurations, pruning,
failures, resume, interrupt, %%track sweep in a real kernel, worker processes, the CLI."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack import charts
from nbtrack.cli import main
from nbtrack.sweeps.space import resolve

TESTS = Path(__file__).resolve().parent


def _runs(name: str) -> list[nbtrack.Run]:
    """The runs of sweep ``name``, oldest first."""
    return list(reversed(list(nbtrack.runs(where=f'tags has "sweep={name}"', limit=None))))


def test_random_search_records_each_trial_as_a_run_with_its_params(workspace: Path) -> None:
    def objective(config: dict) -> float:
        return (config["lr"] - 0.01) ** 2 + config["depth"]

    space = {"lr": nbtrack.loguniform(1e-4, 1e-1), "depth": nbtrack.intrange(2, 8),
             "opt": nbtrack.choice("adam", "sgd"), "epochs": 3}
    result = nbtrack.sweep(objective, space, n_trials=6, method="random", name="rs", seed=1,
                           progress=False)
    runs = _runs("rs")
    assert [r.name for r in runs] == [f"rs-trial-{i}" for i in range(6)]
    frame = result.trials
    assert list(frame["trial"]) == list(range(6))
    for run, (_, row) in zip(runs, frame.iterrows()):
        assert run.status == "finished" and "sweep" in run.tags
        assert run.params["epochs"] == 3 and run.params["opt"] in ("adam", "sgd")
        assert 1e-4 <= run.params["lr"] <= 1e-1 and 2 <= run.params["depth"] <= 8
        assert run.params["lr"] == row["params.lr"] and row["run"] == run.number
        assert run.summary["val/loss"] == pytest.approx(row["value"])  # the returned value
    best = frame.loc[frame["value"].idxmin()]
    assert result.best_value == pytest.approx(best["value"])
    assert result.best_config == {"lr": best["params.lr"], "depth": best["params.depth"],
                                  "opt": best["params.opt"], "epochs": 3}
    assert result.best_run is not None and result.best_run.number == best["run"]
    assert isinstance(result.study.sampler, optuna.samplers.RandomSampler)


def test_grid_search_tries_every_combination_once(workspace: Path) -> None:
    seen = []

    def objective(config: dict) -> float:
        seen.append((config["a"], config["b"]))
        return config["a"] * config["b"]

    result = nbtrack.sweep(objective, {"a": nbtrack.choice(1, 2, 3), "b": nbtrack.intrange(0, 1)},
                           method="grid", name="grid", progress=False)
    assert sorted(seen) == [(a, b) for a in (1, 2, 3) for b in (0, 1)]
    assert len(result.trials) == 6 and result.best_value == 0
    # Running the finished grid again runs nothing.
    nbtrack.sweep(objective, {"a": nbtrack.choice(1, 2, 3), "b": nbtrack.intrange(0, 1)},
                  method="grid", name="grid", progress=False)
    assert len(seen) == 6


def test_tpe_search_keeps_its_sampler_and_a_returned_none_uses_the_metric_summary(
        workspace: Path) -> None:
    def objective(config: dict) -> None:
        for step in range(3):
            nbtrack.log({"val/acc": 1 - abs(config["x"] - 1) / (step + 1)}, step=step)
        nbtrack.active_run().summary["val/acc"] = 1 - abs(config["x"] - 1)

    result = nbtrack.sweep(objective, {"x": nbtrack.uniform(-3, 3)}, n_trials=8,
                           metric="val/acc", goal="max", method="tpe", pruner=None, seed=0,
                           name="tpe", progress=False)
    assert isinstance(result.study.sampler, optuna.samplers.TPESampler)
    assert result.goal == "maximize"
    for o in result.outcomes():
        assert o.status == "finished"
        assert o.value == pytest.approx(1 - abs(o.params["x"] - 1))


def test_an_objective_that_returns_and_logs_nothing_fails_with_a_message(
        workspace: Path) -> None:
    result = nbtrack.sweep(lambda config: None, {"x": nbtrack.uniform(0, 1)}, n_trials=2,
                           name="nothing", progress=False)
    assert [o.status for o in result.outcomes()] == ["failed", "failed"]
    assert "logged no 'val/loss'" in (result.outcomes()[0].error or "")


# -- W&B sweep configurations -----------------------------------------------------------------

def test_wandb_grid_configuration_runs_every_value_with_constants(workspace: Path) -> None:
    config = {
        "method": "grid",
        "metric": {"name": "score", "goal": "maximize"},
        "parameters": {"batch_size": {"values": [16, 32]}, "optimizer": {"values": ["a", "b"]},
                       "epochs": {"value": 2}},
    }
    result = nbtrack.sweep(lambda c: c["batch_size"] / 16 + (c["optimizer"] == "b"), config,
                           name="wgrid", progress=False)
    pairs = sorted((r.params["batch_size"], r.params["optimizer"]) for r in _runs("wgrid"))
    assert pairs == [(16, "a"), (16, "b"), (32, "a"), (32, "b")]
    assert all(r.params["epochs"] == 2 for r in _runs("wgrid"))
    assert result.metric == "score" and result.goal == "maximize"
    assert result.best_config == {"epochs": 2, "batch_size": 32, "optimizer": "b"}


def test_wandb_random_configuration_samples_each_distribution_in_range(workspace: Path) -> None:
    config = {
        "method": "random",
        "metric": {"name": "val/loss"},
        "run_cap": 12,
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
            "wd": {"distribution": "log_uniform", "min": math.log(1e-4), "max": math.log(1e-1)},
            "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
            "dropout": {"min": 0.0, "max": 0.5},
            "units": {"min": 32, "max": 64},
            "momentum": {"distribution": "q_uniform", "min": 0.5, "max": 0.9, "q": 0.1},
            "act": {"distribution": "categorical", "values": ["relu", "gelu"]},
        },
    }
    nbtrack.sweep(lambda c: c["lr"], config, name="wrand", seed=3, progress=False)
    runs = _runs("wrand")
    assert len(runs) == 12  # run_cap
    for run in runs:
        p = run.params
        assert 1e-5 <= p["lr"] <= 1e-2 and 1e-4 <= p["wd"] <= 1e-1
        assert isinstance(p["layers"], int) and 1 <= p["layers"] <= 4
        assert isinstance(p["units"], int) and 32 <= p["units"] <= 64
        assert isinstance(p["dropout"], float) and 0 <= p["dropout"] <= 0.5
        assert any(abs(p["momentum"] - m) < 1e-9 for m in (0.5, 0.6, 0.7, 0.8, 0.9))
        assert p["act"] in ("relu", "gelu")


def test_wandb_bayes_with_hyperband_becomes_tpe_and_optuna_hyperband() -> None:
    plan = resolve({"method": "bayes", "metric": {"name": "loss", "goal": "minimize"},
                    "early_terminate": {"type": "hyperband", "min_iter": 2, "max_iter": 27,
                                        "eta": 3},
                    "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    assert isinstance(plan.sampler(), optuna.samplers.TPESampler)
    pruner = plan.make_pruner()
    assert isinstance(pruner, optuna.pruners.HyperbandPruner)
    assert (pruner._min_resource, pruner._max_resource, pruner._reduction_factor) == (2, 27, 3)
    assert plan.metric == "loss" and plan.goal == "minimize"


@pytest.mark.parametrize(("config", "message"), [
    ({"method": "grid", "parameters": {"x": {"min": 0.0, "max": 1.0}}}, "grid search needs"),
    ({"parameters": {"x": {"distribution": "normal", "mu": 0, "sigma": 1}}},
     "parameters.x: distribution 'normal' is not supported"),
    ({"parameters": {"x": {"distribution": "int_uniform", "min": 1}}},
     "parameters.x: distribution 'int_uniform' needs 'max'"),
    ({"method": "hyper", "parameters": {"x": {"values": [1]}}}, "method: 'hyper'"),
    ({"early_terminate": {"type": "envelope"}, "parameters": {"x": {"values": [1]}}},
     "early_terminate"),
])
def test_a_wandb_configuration_optuna_cannot_run_is_refused_naming_the_key(
        config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve(config)


def test_optuna_sampler_and_pruner_objects_are_used_as_they_are(workspace: Path) -> None:
    sampler = optuna.samplers.RandomSampler(seed=5)
    pruner = optuna.pruners.NopPruner()
    result = nbtrack.sweep(lambda c: c["x"], {"x": nbtrack.uniform(0, 1)}, n_trials=2,
                           method=sampler, pruner=pruner, name="objects", progress=False)
    assert result.study.sampler is not None and len(result.trials) == 2
    assert result.summary()["method"] == "RandomSampler"


# -- pruning, failures --------------------------------------------------------------------------

def _curve(config: dict) -> None:
    """val/loss stays at x for 20 steps; a pruned trial stops at the step it was pruned."""
    for step in range(20):
        nbtrack.log({"val/loss": config["x"]}, step=step)


def test_a_threshold_pruner_prunes_the_bad_trials_mid_training(workspace: Path) -> None:
    result = nbtrack.sweep(_curve, {"x": nbtrack.choice(1, 9, 2, 8)}, method="grid",
                           pruner=optuna.pruners.ThresholdPruner(upper=5), name="thr",
                           progress=False)
    by_x = {r.params["x"]: r for r in _runs("thr")}
    assert {x: r.status for x, r in by_x.items()} == {1: "finished", 2: "finished",
                                                      8: "pruned", 9: "pruned"}
    assert by_x[9].history("val/loss")["val/loss"]["count"] == 1  # stopped at step 0
    assert by_x[1].history("val/loss")["val/loss"]["count"] == 20
    states = {o.params["x"]: o.status for o in result.outcomes()}
    assert states[9] == "pruned" and result.study.trials[0].intermediate_values
    assert {r.number for r in nbtrack.runs(where='status = "pruned"', limit=None)} == {
        by_x[8].number, by_x[9].number}


def test_the_median_pruner_prunes_trials_worse_than_the_median(workspace: Path) -> None:
    values = [1, 2, 3, 4, 5, 9, 0.5, 8, 7]
    result = nbtrack.sweep(_curve, {"x": nbtrack.choice(*values)}, method="grid",
                           pruner="median", name="median", seed=0, progress=False)
    statuses = {o.params["x"]: o.status for o in result.outcomes()}
    assert "pruned" in statuses.values()
    first_five = [o.params["x"] for o in result.outcomes()[:5]]
    assert all(statuses[x] == "finished" for x in first_five)  # the pruner's warm-up
    for x, status in statuses.items():
        if status == "pruned":
            assert x > sorted(first_five)[2]  # worse than the median of what came before


def test_failing_and_nan_trials_fail_and_the_sweep_goes_on(workspace: Path,
                                                           capfd: pytest.CaptureFixture) -> None:
    def objective(config: dict) -> float:
        if config["mode"] == "raise":
            raise ZeroDivisionError("bad batch")
        if config["mode"] == "nan":
            return float("nan")
        return 1.0

    result = nbtrack.sweep(objective, {"mode": nbtrack.choice("ok", "raise", "nan", "fine")},
                           method="grid", name="fails", progress=False)
    statuses = {r.params["mode"]: r.status for r in _runs("fails")}
    assert statuses == {"ok": "finished", "raise": "failed", "nan": "failed",
                        "fine": "finished"}
    errors = {o.params["mode"]: o.error for o in result.outcomes()}
    assert errors["raise"] == "ZeroDivisionError: bad batch"
    assert errors["nan"] == "the objective's value is nan"
    assert {t.state.name for t in result.study.trials} == {"COMPLETE", "FAIL"}
    assert result.stop_reason is None
    assert "ZeroDivisionError: bad batch" in capfd.readouterr().err  # the traceback is shown


def test_consecutive_failures_stop_the_sweep_with_the_reason(workspace: Path) -> None:
    def objective(config: dict) -> float:
        raise RuntimeError("CUDA out of memory")

    result = nbtrack.sweep(objective, {"x": nbtrack.uniform(0, 1)}, n_trials=10,
                           max_failures=3, name="capped", progress=False)
    assert len(result.trials) == 3
    assert result.stop_reason == ("stopped after 3 failed trials in a row; the last: "
                                  "RuntimeError: CUDA out of memory")
    assert "stopped early: stopped after 3 failed trials" in repr(result)


# -- resume, interrupt --------------------------------------------------------------------------

def test_resuming_a_named_sweep_continues_its_numbering(workspace: Path) -> None:
    space = {"x": nbtrack.uniform(0, 4)}
    nbtrack.sweep(nbtrack_quadratic, space, n_trials=3, name="again", progress=False)
    result = nbtrack.sweep(nbtrack_quadratic, space, n_trials=5, name="again", resume=True,
                           progress=False)
    assert list(result.trials["trial"]) == [0, 1, 2, 3, 4]
    assert [r.name for r in _runs("again")] == [f"again-trial-{i}" for i in range(5)]
    resumed = nbtrack.sweep(nbtrack_quadratic, space, n_trials=5, resume=True, progress=False)
    assert resumed.name == "again" and len(resumed.trials) == 5  # the latest sweep, complete
    with pytest.raises(ValueError, match="no sweep 'other' to resume"):
        nbtrack.sweep(nbtrack_quadratic, space, n_trials=2, name="other", resume=True)
    with pytest.raises(ValueError, match="optimizes 'val/loss' \\(minimize\\)"):
        nbtrack.sweep(nbtrack_quadratic, space, n_trials=2, name="again", metric="acc")


def nbtrack_quadratic(config: dict) -> float:
    return (config["x"] - 2) ** 2


INTERRUPTED_SCRIPT = """
import sys, time
import nbtrack

def objective(config):
    if nbtrack.active_run().name.endswith("-trial-1"):
        print("SLEEPING", flush=True)
        time.sleep(120)
    return config["x"]

nbtrack.sweep(objective, {"x": nbtrack.uniform(0, 1)}, n_trials=3, name="intr",
              progress=False)
"""


def test_interrupting_a_sweep_marks_the_running_trial_interrupted_and_resume_reruns_it(
        workspace: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED_SCRIPT], cwd=workspace,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "SLEEPING"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    runs = _runs("intr")
    assert [(r.name, r.status) for r in runs] == [("intr-trial-0", "finished"),
                                                 ("intr-trial-1", "interrupted")]
    found = nbtrack.get_sweep("intr")
    assert [o.status for o in found.outcomes()] == ["finished", "interrupted"]
    assert found.study.trials[1].state.name == "FAIL"
    # After a restart, re-running the sweep continues: the interrupted trial does not count.
    result = nbtrack.sweep(lambda c: c["x"], {"x": nbtrack.uniform(0, 1)}, n_trials=3,
                           name="intr", progress=False)
    assert [o.status for o in result.outcomes()] == ["finished", "interrupted", "finished",
                                                    "finished"]


def test_a_sweep_killed_mid_trial_resumes_to_its_full_size(workspace: Path) -> None:
    """A kernel that dies (SIGKILL: nothing runs on the way out) leaves its running trial
    RUNNING in the journal; re-running the sweep after the restart still ends with its full
    number of finished trials."""
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED_SCRIPT], cwd=workspace,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "SLEEPING"
    proc.kill()
    proc.communicate(timeout=60)
    result = nbtrack.sweep(lambda c: c["x"], {"x": nbtrack.uniform(0, 1)}, n_trials=3,
                           name="intr", resume=True, progress=False)
    # The dead process's trial is marked crashed (not counted) and a new one takes its place.
    assert [o.status for o in result.outcomes()] == ["finished", "crashed", "finished",
                                                    "finished"]
    assert [r.name for r in _runs("intr") if r.status == "finished"] == [
        "intr-trial-0", "intr-trial-2", "intr-trial-3"]


# -- results, charts, CLI -----------------------------------------------------------------------

def _rows(spec: dict) -> list[dict]:
    """The (one) inline dataset of a Vega-Lite spec."""
    if "datasets" in spec:
        (rows,) = spec["datasets"].values()
        return rows
    return spec["data"]["values"]


def test_sweep_charts_and_importance_come_from_the_trials(workspace: Path) -> None:
    def objective(config: dict) -> float:
        return 4 * config["x"] + 0.01 * config["y"]

    result = nbtrack.sweep(objective, {"x": nbtrack.uniform(-2, 2), "y": nbtrack.uniform(0, 1),
                                       "kind": nbtrack.choice("a", "b")},
                           n_trials=12, method="random", seed=2, name="charts", progress=False)
    rows = _rows(charts.to_spec(result.history_chart()))
    assert [r["trial"] for r in rows] == list(range(12))
    bests = [r["best"] for r in rows]
    assert bests == sorted(bests, reverse=True) and bests[-1] == pytest.approx(result.best_value)
    parallel = charts.to_spec(result.parallel_chart())
    dims = {r["dim"] for r in parallel["datasets"][charts.DATA_NAME] if r["kind"] == "line"}
    assert dims == {"x", "y", "kind", "val/loss"}
    importance = result.importance()
    assert set(importance) == {"x", "y", "kind"} and max(importance, key=importance.get) == "x"
    assert _rows(charts.to_spec(result.importance_chart()))[0]["param"] == "x"
    assert nbtrack.get_sweep("charts").best_config == result.best_config
    with pytest.raises(nbtrack.SweepNotFound):
        nbtrack.get_sweep("missing")


def test_cli_lists_and_shows_sweeps(workspace: Path) -> None:
    nbtrack.sweep(nbtrack_quadratic, {"x": nbtrack.uniform(0, 4)}, n_trials=3, name="cli-a",
                  seed=0, progress=False)
    runner = CliRunner()
    listed = runner.invoke(main, ["sweeps", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (summary,) = json.loads(listed.output)
    assert summary["name"] == "cli-a" and summary["trials"] == 3
    assert summary["counts"] == {"finished": 3} and summary["metric"] == "val/loss"
    text = runner.invoke(main, ["sweeps", "list"]).output
    assert "cli-a" in text and "3/3" in text
    shown = runner.invoke(main, ["sweeps", "show", "cli-a", "--json"])
    data = json.loads(shown.output)
    assert [r["trial"] for r in data["trial_rows"]] == [0, 1, 2]
    assert data["best"]["config"] == nbtrack.get_sweep("cli-a").best_config
    plain = runner.invoke(main, ["sweeps", "show", "cli-a"]).output
    assert "x = uniform(0, 4)" in plain and "best val/loss=" in plain
    missing = runner.invoke(main, ["sweeps", "show", "nope"])
    assert missing.exit_code == 1 and "no sweep 'nope'" in missing.output


# -- processes ----------------------------------------------------------------------------------

def test_n_jobs_refuses_an_objective_other_processes_cannot_import(workspace: Path) -> None:
    def local(config: dict) -> float:
        return 0.0

    with pytest.raises(ValueError, match="n_jobs=1"):
        nbtrack.sweep(local, {"x": nbtrack.uniform(0, 1)}, n_trials=2, n_jobs=2)


@pytest.mark.slow
def test_four_local_processes_finish_the_sweep_with_no_duplicate_trial(workspace: Path) -> None:
    import sweep_objectives

    result = nbtrack.sweep(sweep_objectives.sleepy, {"x": nbtrack.uniform(0, 1)}, n_trials=16,
                           n_jobs=4, pruner=None, name="par", seed=0, progress=False)
    outcomes = result.outcomes()
    assert sorted(o.number for o in outcomes) == list(range(len(outcomes)))
    assert [o.status for o in outcomes].count("finished") == 16 and len(outcomes) == 16
    runs = _runs("par")
    assert len(runs) == 16 and len({r.name for r in runs}) == 16
    pids = {r.summary["pid"] for r in runs}
    assert len(pids) > 1 and os.getpid() not in pids  # trials ran in the workers
    by_run = {o.run_id: o for o in outcomes}
    for run in runs:
        assert run.params["x"] == by_run[run.id].params["x"]


# -- %%track sweep in a real kernel -------------------------------------------------------------

@pytest.mark.slow
def test_track_sweep_cell_runs_the_body_per_trial_in_a_real_kernel(workspace: Path) -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(workspace))
    try:
        def run(code: str) -> tuple[dict, str]:
            out: list[str] = []

            def hook(msg: dict) -> None:
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] in ("execute_result", "display_data"):
                    out.append(msg["content"]["data"].get("text/plain", ""))

            reply = kc.execute_interactive(code, timeout=120, output_hook=hook)
            return reply["content"], "".join(out)

        assert run("%load_ext nbtrack\nlr = 'mine'")[0]["status"] == "ok"
        line = ("%%track sweep ks --trials 4 --method random --seed 1 --metric val/loss "
                "lr=loguniform(1e-3, 1e-1) depth=intrange(2,4) act=['relu','gelu']\n")
        reply, out = run(line + textwrap.dedent("""\
            import nbtrack
            nbtrack.log({"val/loss": lr * depth, "seen": depth})
            lr * depth
            """))
        assert reply["status"] == "ok", reply
        assert "sweep ks: minimize val/loss" in out  # the Sweep is the cell's result
        reply, out = run("print(lr)")
        assert out.strip() == "mine"  # the names are given back
        bad, _ = run("%%track sweep ks2 --trials 2 lr=normal(0, 1)\npass")
        assert bad["status"] == "error" and bad["ename"] == "UsageError"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    runs = _runs("ks")
    assert len(runs) == 4
    for r in runs:
        assert r.status == "finished" and r.params["act"] in ("relu", "gelu")
        assert r.summary["val/loss"] == pytest.approx(r.params["lr"] * r.params["depth"])
    assert nbtrack.get_sweep("ks").best_value == pytest.approx(
        min(r.params["lr"] * r.params["depth"] for r in runs))


def test_sweep_worker_command_joins_an_existing_sweep(workspace: Path) -> None:
    result = nbtrack.sweep(nbtrack_quadratic, {"x": nbtrack.uniform(0, 4)}, n_trials=2,
                           name="joined", progress=False)
    proc = subprocess.run(
        [sys.executable, "-m", "nbtrack", "sweep", "worker", "joined", "--trials", "4",
         "--objective", "sweep_objectives:quadratic"],
        cwd=TESTS, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 0, proc.stderr
    assert "trial 3 finished" in proc.stderr
    assert [o.status for o in result.outcomes()] == ["finished"] * 4
    missing = subprocess.run(
        [sys.executable, "-m", "nbtrack", "sweep", "worker", "joined"], cwd=TESTS,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert missing.returncode == 2 and "--objective MODULE:FUNCTION" in missing.stderr
