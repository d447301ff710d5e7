"""``import nbtrack.wandb as wandb``: scripts written the way W&B's docs write them run with
only that import swapped in, and their runs hold what they logged; W&B's step and commit
rules, config rules, and errors before ``init``."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras is imported (here or elsewhere)

import pytest  # noqa: E402

import nbtrack  # noqa: E402
import nbtrack.wandb as wandb  # noqa: E402
from nbtrack.wandb.step import STALE_STEP, StepBuffer  # noqa: E402

SCRIPTS = Path(__file__).parent / "wandb_scripts"


def swap_import(source: str) -> str:
    """The one change a user makes: ``import wandb`` -> ``import nbtrack.wandb as wandb``
    (and ``from wandb.x import`` -> ``from nbtrack.wandb.x import``)."""
    source = re.sub(r"^import wandb$", "import nbtrack.wandb as wandb", source, flags=re.M)
    return re.sub(r"^from wandb\.", "from nbtrack.wandb.", source, flags=re.M)


def run_script(name: str, workspace: Path) -> str:
    """Run ``wandb_scripts/<name>.py`` (import swapped) in ``workspace`` with NBTRACK_DIR set
    to it; return its stdout (the script must succeed)."""
    script = workspace / f"{name}.py"
    script.write_text(swap_import((SCRIPTS / f"{name}.py").read_text()))
    env = {**os.environ, "NBTRACK_DIR": str(workspace), "KERAS_BACKEND": "jax",
           "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    out = subprocess.run([sys.executable, script.name], cwd=workspace, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def only_run(tag: str) -> nbtrack.Run:
    (run,) = nbtrack.runs(tag=tag)
    return run


def last_json(stdout: str) -> Any:
    return json.loads(stdout.strip().splitlines()[-1])


# -- scripts from W&B's docs -----------------------------------------------------------------

def test_quickstart_loop_records_config_steps_and_define_metric_summaries(
        workspace: Path) -> None:
    run_script("train_loop", workspace)
    run = only_run("project:quickstart")
    assert run.status == "finished"
    assert set(run.tags) == {"baseline", "project:quickstart", "group:sweep-a", "job_type:train"}
    assert run.notes == "a W&B quickstart loop"
    assert run.params == {"architecture": "mlp", "epochs": 4, "batches": 5, "lr": 0.01,
                          "dropout": 0.2, "optimizer": "adam"}
    history = run.history()
    # 5 committed batch rows then one epoch row, per epoch: W&B's _step is the nbtrack step.
    train_steps = [e * 6 + b for e in range(4) for b in range(5)]
    assert history.steps("train/loss") == train_steps
    assert history.values("train/loss") == pytest.approx(
        [1.0 / (1 + e * 5 + b) for e in range(4) for b in range(5)])
    assert history.steps("val/loss") == history.steps("epoch") == [5, 11, 17, 23]
    assert history.values("epoch") == [0, 1, 2, 3]
    val_loss = [0.5 + 0.1 * math.cos(e * 2.0) for e in range(4)]
    val_acc = [0.6 + 0.05 * e - 0.08 * (e == 3) for e in range(4)]
    assert history.values("val/acc") == pytest.approx(val_acc)
    summary = dict(run.summary)
    assert summary["val/loss"] == {"min": pytest.approx(min(val_loss))}
    assert summary["val/acc"] == {"max": pytest.approx(max(val_acc))}
    assert summary["best_accuracy"] == pytest.approx(max(val_acc))
    assert summary["train/loss"] == pytest.approx(1 / 20)


def test_keras_fit_with_wandb_metrics_logger_records_each_epoch(workspace: Path) -> None:
    reported = last_json(run_script("keras_fit", workspace))
    run = only_run("project:keras-demo")
    history = run.history()
    epoch_keys = {k for k in history if k.startswith("epoch/")}
    assert epoch_keys == {f"epoch/{k}" for k in reported} | {"epoch/epoch",
                                                             "epoch/learning_rate"}
    for key, values in reported.items():
        assert history.steps(f"epoch/{key}") == [0, 1, 2]
        assert history.values(f"epoch/{key}") == pytest.approx(values, rel=1e-6)
    assert history.values("epoch/epoch") == [0, 1, 2]
    assert history.values("epoch/learning_rate") == pytest.approx([0.01] * 3)
    assert run.params["learning_rate"] == 0.01 and run.params["optimizer"] == "adam"


def test_xgboost_with_wandb_callback_records_metrics_summary_importance_and_model(
        workspace: Path) -> None:
    reported = last_json(run_script("xgboost_train", workspace))
    run = only_run("project:xgboost-demo")
    history = run.history()
    for data, metrics in reported.items():
        for metric, values in metrics.items():
            key = f"{data}-{metric}"
            assert history.steps(key) == list(range(6)), key
            assert history.values(key) == pytest.approx(values, rel=1e-9), key
    assert history.values("epoch") == list(range(6))
    summary = dict(run.summary)
    assert summary["valid-logloss"] == {"min": pytest.approx(min(reported["valid"]["logloss"]))}
    assert summary["valid-auc"] == {"max": pytest.approx(max(reported["valid"]["auc"]))}
    assert run.params["objective"] == "binary:logistic" and run.params["max_depth"] == 3
    (table,) = history.values("Feature Importance")
    assert list(table.to_pandas().columns) == ["Feature", "Importance"]
    model = nbtrack.use_artifact(f"{run.id}_model.json:latest")
    assert model.type == "model" and model.run == run.number


def test_lightgbm_with_wandb_callback_and_log_summary(workspace: Path) -> None:
    reported = last_json(run_script("lightgbm_train", workspace))
    run = only_run("project:lightgbm-demo")
    history = run.history()
    for metric, values in reported["validation"].items():
        assert history.steps(f"validation_{metric}") == list(range(5))
        assert history.values(f"validation_{metric}") == pytest.approx(values, rel=1e-9)
    assert history.values("iteration") == list(range(5))
    summary = dict(run.summary)
    assert summary["validation_l2"] == {"min": pytest.approx(min(reported["validation"]["l2"]))}
    assert summary["best_score"]["validation"]["l1"] == pytest.approx(
        reported["validation"]["l1"][-1])
    assert run.params["objective"] == "regression" and run.params["rounds"] == 5
    checkpoint = nbtrack.use_artifact(f"model_{run.id}:best")
    assert checkpoint.type == "model"
    assert "Feature Importance" in history


def test_pytorch_watch_logs_gradient_and_parameter_histograms_every_log_freq(
        workspace: Path) -> None:
    run_script("torch_watch", workspace)
    run = only_run("project:pytorch-demo")
    history = run.history()
    assert history.steps("loss") == list(range(10))
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    for kind in ("gradients", "parameters"):
        for name in names:
            key = f"{kind}/{name}"
            # every 2nd backward/forward, joining the row of the next log() (commit=False)
            assert history.steps(key) == [1, 3, 5, 7, 9], key
            assert {v.kind for v in history.values(key)} == {"histogram"}
    assert run.status == "finished"


def test_tables_images_histograms_audio_html_and_text(workspace: Path) -> None:
    run_script("media", workspace)
    run = only_run("project:media-demo")
    history = run.history()
    (table,) = history.values("predictions")
    assert table.to_pandas().to_dict("list") == {"id": [0, 1, 2], "prediction": [0, 1, 0],
                                                  "truth": [1, 1, 1]}
    assert [v.meta["caption"] for v in history.values("examples")] == ["sample 0", "sample 1"]
    assert history.values("examples")[0].to_numpy().shape == (8, 6, 3)
    (chw,) = history.values("chw")
    assert chw.to_numpy().shape[:2] == (4, 5)  # C x H x W moved to H x W x C, as W&B does
    assert int(chw.to_numpy().max()) == 127  # floats in [0, 1] times 255, truncated: W&B's
    (hist,) = history.values("weights")
    assert len(hist.meta["counts"]) == 10
    assert [history[k]["kind"] for k in ("tone", "report", "status")] == ["audio", "html",
                                                                        "text"]
    assert history.steps("status") == history.steps("acc") == [1]
    assert history.values("status")[0].bytes == b"done"


def test_artifact_logged_and_used_and_model_linked_to_the_registry(workspace: Path) -> None:
    run_script("artifacts", workspace)
    upload, train = only_run("job_type:upload"), only_run("job_type:train")
    dataset = nbtrack.use_artifact("my-dataset:raw")
    assert dataset.run == upload.number
    assert {f["path"] for f in dataset.files()} == {"train.csv", "notes.txt"}
    assert dataset.metadata == {"rows": 2}
    lineage = nbtrack.lineage(train)
    assert "my-dataset:v0" in json.dumps(lineage)
    assert train.history().values("rows") == [2]
    model = nbtrack.use_artifact("my-model:latest")
    assert model.type == "model" and model.run == train.number
    registered = nbtrack.get_model("production-model")
    assert registered.aliases == {"staging": 1}


# -- W&B's step and commit rules ----------------------------------------------------------

#: (calls, {key: [(step, value)...]}, run.step after) - the cases of W&B's ``Run.log`` docs
#: ("the following are all equivalent") and of its handler (stale steps, bare commits).
STEP_CASES = {
    "each call a step": (
        [({"loss": 0.5, "acc": 0.8}, None, None), ({"loss": 0.4, "acc": 0.9}, None, None)],
        {"loss": [(0, 0.5), (1, 0.4)], "acc": [(0, 0.8), (1, 0.9)]}, 2),
    "commit=False accumulates": (
        [({"loss": 0.5}, None, False), ({"acc": 0.8}, None, None),
         ({"loss": 0.4}, None, False), ({"acc": 0.9}, None, None)],
        {"loss": [(0, 0.5), (1, 0.4)], "acc": [(0, 0.8), (1, 0.9)]}, 2),
    "explicit step merges until a larger step": (
        [({"loss": 0.5}, 0, None), ({"acc": 0.8}, 0, None),
         ({"loss": 0.4}, 1, None), ({"acc": 0.9}, 1, True)],
        {"loss": [(0, 0.5), (1, 0.4)], "acc": [(0, 0.8), (1, 0.9)]}, 2),
    "a smaller step is ignored": (
        [({"x": 1}, 10, None), ({"y": 2}, 10, None), ({"z": 3}, 5, None), ({}, None, None)],
        {"x": [(10, 1)], "y": [(10, 2)]}, 11),
    "bare log commits the pending step": (
        [({"q": 1}, None, False), ({}, None, None), ({"r": 2}, None, None)],
        {"q": [(0, 1)], "r": [(1, 2)]}, 2),
    "a later key at the same step wins": (
        [({"a": 1}, 3, None), ({"a": 2}, 3, None), ({"b": 1}, None, None)],
        {"a": [(3, 2)], "b": [(3, 1)]}, 4),
    "step with commit=True writes at once": (
        [({"a": 1}, 2, True), ({"a": 2}, None, None)],
        {"a": [(2, 1), (3, 2)]}, 4),
    "empty commits still advance": (
        [({}, None, None), ({}, None, None), ({"a": 1}, None, None)],
        {"a": [(2, 1)]}, 3),
}


@pytest.mark.parametrize("case", list(STEP_CASES))
def test_log_follows_w_and_b_step_and_commit_rules(workspace: Path, case: str) -> None:
    calls, expected, final_step = STEP_CASES[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with wandb.init() as run:
            for data, step, commit in calls:
                wandb.log(data, step=step, commit=commit)
            assert run.step == final_step
        nb_run = run.nbtrack_run
    history = nb_run.history()
    assert {k: list(zip(history.steps(k), history.values(k))) for k in history} == expected
    stale = [str(w.message) for w in caught if "less than the current step" in str(w.message)]
    if case == "a smaller step is ignored":
        assert stale == [STALE_STEP.format(step=5, current=10)]
        assert stale[0].startswith("Tried to log to step 5 that is less than the current "
                                   "step 10. Steps must be monotonically increasing")
    else:
        assert stale == []


def test_pending_values_are_written_when_the_run_finishes(workspace: Path) -> None:
    run = wandb.init()
    wandb.log({"a": 1}, step=7)  # not committed yet
    wandb.finish()
    assert run.nbtrack_run.history("a").steps("a") == [7]
    assert wandb.run is None


def test_step_buffer_alone() -> None:
    buf = StepBuffer()
    assert buf.log({"a": 1}, step=None, commit=False) == ([], None)
    assert buf.log({"b": 2}) == ([(0, {"a": 1, "b": 2})], None)
    rows, warning = buf.log({"c": 3}, step=0)
    assert rows == [] and warning == STALE_STEP.format(step=0, current=1)


# -- define_metric and summary ----------------------------------------------------------------

def test_define_metric_summaries_and_step_sync(workspace: Path) -> None:
    with wandb.init() as run:
        wandb.define_metric("loss", summary="min")
        wandb.define_metric("acc", summary="max,mean")
        wandb.define_metric("noise", summary="none")
        wandb.define_metric("epoch")
        wandb.define_metric("val_*", step_metric="epoch")
        for i, (loss, acc) in enumerate([(3, 0.1), (1, 0.5), (2, 0.3)]):
            wandb.log({"loss": loss, "acc": acc, "noise": i, "plain": i})
        wandb.log({"epoch": 7})
        wandb.log({"val_a": 1.5})  # step_sync: the last epoch joins the row
        assert dict(wandb.summary.items()) == {
            "loss": {"min": 1}, "acc": {"max": 0.5, "mean": pytest.approx(0.3)},
            "plain": 2, "epoch": 7, "val_a": 1.5}
        nb_run = run.nbtrack_run
    history = nb_run.history()
    assert history.steps("epoch") == [3, 4] and history.values("epoch") == [7, 7]
    stored = dict(nb_run.summary)
    assert stored["loss"] == {"min": 1} and stored["acc"]["max"] == 0.5
    assert stored["noise"] is None  # summary="none"


def test_define_metric_rejects_what_w_and_b_rejects(workspace: Path) -> None:
    wandb.init()
    with pytest.raises(wandb.Error, match="summary op: median"):
        wandb.define_metric("loss", summary="median")
    with pytest.raises(wandb.Error, match="glob suffixes only"):
        wandb.define_metric("a*b")
    with pytest.raises(wandb.Error, match="requires non-empty name"):
        wandb.define_metric("")
    metric = wandb.define_metric("score", summary="best", goal="maximize")
    assert metric.goal == "maximize"
    wandb.log({"score": 1.0})
    wandb.log({"score": 3.0})
    wandb.log({"score": 2.0})
    assert wandb.summary["score"] == {"best": 3.0}


def test_summary_set_explicitly_is_stored_and_replaced_by_a_later_log(
        workspace: Path) -> None:
    with wandb.init() as run:
        wandb.log({"acc": 0.5})
        run.summary["best_acc"] = 0.9
        run.summary.update({"note_value": 3})
        run.summary["acc"] = 0.99
        wandb.log({"acc": 0.6})
        assert wandb.summary["acc"] == 0.6
        nb_run = run.nbtrack_run
    assert dict(nb_run.summary) == {"acc": 0.6, "best_acc": 0.9, "note_value": 3}


# -- config ----------------------------------------------------------------------------------

def test_config_access_update_and_setdefaults(workspace: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=8)
    with wandb.init(config={"lr": 0.1, "layers": [64, 32], "opt": {"name": "sgd"}}) as run:
        assert wandb.config.lr == 0.1 and wandb.config["layers"] == [64, 32]
        wandb.config.update(parser.parse_args([]))
        wandb.config.update({"--epochs": 3})
        wandb.config.setdefaults({"lr": 0.5, "seed": 1})
        wandb.config["dropout"] = 0.2
        assert dict(wandb.config.items()) == {"lr": 0.1, "layers": [64, 32],
                                              "opt": {"name": "sgd"}, "batch_size": 8,
                                              "epochs": 3, "seed": 1, "dropout": 0.2}
        nb_run = run.nbtrack_run
    assert nb_run.params == dict(run.config.items())


def test_changing_a_config_value_raises_like_w_and_b(workspace: Path) -> None:
    wandb.init(config={"lr": 0.1})
    with pytest.raises(wandb.ConfigError) as exc:
        wandb.config.lr = 0.2
    assert str(exc.value) == ('Attempted to change value of key "lr" from 0.1 to 0.2\n'
                              "If you really want to do this, pass allow_val_change=True to"
                              " config.update()")
    with pytest.raises(wandb.ConfigError):
        wandb.config.update({"lr": 0.3})
    wandb.config.update({"lr": 0.1})  # the same value is no change
    wandb.config.update({"lr": 0.3}, allow_val_change=True)
    assert wandb.config.lr == 0.3
    assert nbtrack.active_run().params["lr"] == 0.3  # type: ignore[union-attr]


def test_init_allow_val_change_and_include_exclude_keys(workspace: Path) -> None:
    wandb.init(config={"a": 1, "b": 2, "c": 3}, config_exclude_keys=["c"],
               allow_val_change=True)
    wandb.config.a = 5
    assert dict(wandb.config.items()) == {"a": 5, "b": 2}


# -- before init, after finish, init's keywords ------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: wandb.log({"a": 1}), "You must call wandb.init() before wandb.log()"),
    (lambda: wandb.define_metric("a"), "You must call wandb.init() before wandb.define_metric()"),
    (lambda: wandb.save("x"), "You must call wandb.init() before wandb.save()"),
    (lambda: wandb.watch(None), "You must call wandb.init() before wandb.watch()"),
    (lambda: wandb.log_artifact("x"), "You must call wandb.init() before wandb.log_artifact()"),
    (lambda: wandb.config.lr, "You must call wandb.init() before wandb.config.lr"),
    (lambda: wandb.config["lr"], "You must call wandb.init() before wandb.config['lr']"),
    (lambda: wandb.summary.__setitem__("a", 1),
     "You must call wandb.init() before wandb.summary['a']"),
])
def test_module_calls_before_init_fail_like_w_and_b(workspace: Path, call: Any,
                                                     message: str) -> None:
    assert wandb.run is None
    with pytest.raises(wandb.Error) as exc:
        call()
    assert str(exc.value) == message
    assert nbtrack.runs().total == 0


def test_after_finish_the_module_is_back_to_before_init(workspace: Path) -> None:
    run = wandb.init()
    wandb.finish()
    assert wandb.run is None
    with pytest.raises(wandb.Error):
        wandb.log({"a": 1})
    with pytest.raises(wandb.UsageError, match="is finished"):
        run.log({"a": 1})


def test_init_accepts_every_w_and_b_keyword_and_notes_the_idle_ones_once(
        workspace: Path) -> None:
    idle = dict(entity="team", mode="offline", force=False, save_code=True, tensorboard=False,
                sync_tensorboard=False, monitor_gym=False, settings={"silent": True},
                anonymous="never", resume_from=None, fork_from=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            run = wandb.init(project="p", dir=str(workspace / "out"), name="named",
                             notes="n", tags=["t"], group="g", job_type="j", id="abc123",
                             reinit="finish_previous", resume=None, config={"x": 1}, **idle)
        run.finish()
    notes = [str(w.message) for w in caught if issubclass(w.category, wandb.WandbCompatWarning)]
    for key in ("mode", "settings", "save_code"):
        assert sum(f"init({key}=...)" in n for n in notes) == 1, notes
    assert run.id == "abc123" and run.name == "named" and run.tags == ("t",)
    assert (run.project, run.group, run.job_type) == ("p", "g", "j")
    assert Path(run.dir).is_relative_to(workspace / "out")
    first, second = nbtrack.runs(tag="wandb_id:abc123")
    assert {first.status, second.status} == {"finished"}


def test_init_in_a_script_returns_the_running_run_unless_reinit(workspace: Path) -> None:
    first = wandb.init()
    assert wandb.init() is first  # W&B's default outside notebooks: return_previous
    second = wandb.init(reinit=True)
    assert second is not first and not first.nbtrack_run.live
    assert wandb.run is second


def test_reinit_create_new_runs_beside_the_active_run(workspace: Path) -> None:
    main = wandb.init(name="main")
    side = wandb.init(name="side", reinit="create_new")
    assert wandb.run is main and nbtrack.active_run() == main.nbtrack_run
    side.log({"side_loss": 1.0})
    wandb.log({"main_loss": 2.0})
    side.finish()
    assert main.nbtrack_run.live and wandb.run is main
    wandb.finish()
    assert set(side.nbtrack_run.history()) == {"side_loss"}
    assert set(main.nbtrack_run.history()) == {"main_loss"}


def test_runs_left_open_beside_the_active_one_finish_at_exit(workspace: Path) -> None:
    out = run_code("import nbtrack.wandb as wandb\nwandb.init(project='a')\n"
                   "side = wandb.init(project='b', reinit='create_new')\n"
                   "side.log({'x': 1}, step=2)\n", workspace)
    assert out.returncode == 0, out.stderr
    side = only_run("project:b")
    assert side.status == "finished" and side.history("x").steps("x") == [2]
    assert only_run("project:a").status == "finished"


def test_resume_carries_on_the_steps_and_config_of_the_same_id(workspace: Path) -> None:
    with wandb.init(id="run-a", config={"lr": 0.1}):
        for i in range(3):
            wandb.log({"loss": i})
    with pytest.raises(wandb.Error, match="no run with id"):
        wandb.init(id="missing", resume="must")
    with pytest.warns(wandb.WandbCompatWarning, match="new nbtrack run"), \
            wandb.init(id="run-a", resume="allow") as run:
        assert run.resumed and run.step == 3 and run.config.lr == 0.1
        wandb.log({"loss": 9})
    assert run.nbtrack_run.history("loss").steps("loss") == [3]


def test_context_manager_marks_a_failed_run(workspace: Path) -> None:
    with pytest.raises(RuntimeError):
        with wandb.init() as run:
            wandb.log({"a": 1})
            raise RuntimeError("boom")
    assert run.nbtrack_run.status == "failed"
    assert run.nbtrack_run.history("a").values("a") == [1]


def test_the_sweeps_quickstart_runs_on_nbtrack_sweeps(workspace: Path) -> None:
    out = last_json(run_script("sweep_quickstart", workspace))
    trials = out["trials"]
    assert len(trials) == 5 and {t["id"] for t in trials} == {out["sweep_id"]}
    sweep = nbtrack.get_sweep("sweep", workspace=workspace)
    runs = nbtrack.runs(tag="sweep=sweep")
    assert len(runs) == 5 and {r.status for r in runs} == {"finished"}
    by_config = {json.dumps(t["config"], sort_keys=True): t for t in trials}
    for run in runs:
        config = {k: run.params[k] for k in ("batch_size", "epochs", "lr")}
        assert config["batch_size"] in (16, 32, 64) and config["epochs"] in (2, 3, 4)
        assert 0.0001 <= config["lr"] <= 0.1
        trial = by_config[json.dumps(config, sort_keys=True)]
        assert run.history("val_acc").values("val_acc")[-1] == pytest.approx(trial["val_acc"])
        assert len(run.history("val_acc").values("val_acc")) == trial["steps"]
    assert sweep.best_value == pytest.approx(max(t["val_acc"] for t in trials))


def test_bad_sweeps_fail_clearly_and_cloud_only_calls_warn_once(workspace: Path) -> None:
    with pytest.raises(wandb.Error, match="sweep configuration"):
        wandb.sweep({"method": "grid"})
    with pytest.raises(ValueError, match="normal"):
        wandb.sweep({"method": "random", "parameters": {"x": {"distribution": "normal"}}})
    with pytest.raises(wandb.Error, match="unknown sweep 'abc'"):
        wandb.agent("abc", function=print)
    with pytest.raises(NotImplementedError, match="scheduler"):
        wandb.controller("abc")
    assert wandb.login() is True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api = wandb.Api()
        assert list(api.runs("me/project")) == []
        wandb.Api()
        wandb.init()
        wandb.alert(title="t", text="x")
        wandb.alert(title="t", text="y")
    messages = [str(w.message) for w in caught]
    assert sum("wandb.Api()" in m for m in messages) <= 1
    assert sum("alerts" in m for m in messages) <= 1


def test_save_copies_the_file_into_the_run_and_logs_it_at_finish(workspace: Path) -> None:
    (workspace / "ckpt").mkdir()
    (workspace / "ckpt" / "model.h5").write_bytes(b"v1")
    os.chdir(workspace)
    with wandb.init() as run:
        saved = wandb.save("ckpt/*.h5")
        assert [Path(p).name for p in saved] == ["model.h5"]
        assert Path(run.dir, "model.h5").read_bytes() == b"v1"
        (workspace / "ckpt" / "model.h5").write_bytes(b"v2")  # policy "live": final content
    files = nbtrack.use_artifact(f"run-{run.nbtrack_run.id}-files:latest")
    assert [f["path"] for f in files.files()] == ["model.h5"]
    assert (files.download(workspace / "dl") / "model.h5").read_bytes() == b"v2"


def test_values_nbtrack_cannot_store_are_dropped_with_a_note(workspace: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with wandb.init() as run:
            wandb.log({"ok": 1, "odd": object(), "nested": {"a": 2, "b": None}})
    history = run.nbtrack_run.history()
    assert set(history) == {"ok", "nested.a"}
    assert any("'odd' was not logged" in str(w.message) for w in caught)


def test_a_notebook_cell_using_wandb_records_points_with_its_cell(workspace: Path) -> None:
    import wandb.jupyter as real_wandb_jupyter
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()
    shell = InteractiveShell.instance()
    # The real wandb, once imported anywhere in the kernel, registers its own %wandb (which asks
    # for an API key): with nbtrack.wandb imported, nbtrack's no-op takes its place.
    real_wandb_jupyter._load_ipython_extension(shell)
    shell.run_line_magic("load_ext", "nbtrack")
    try:
        source = ("import nbtrack.wandb as wandb\nrun = wandb.init(project='nb')\n"
                  "%wandb someone/project/runs/abc -h 720\n"
                  "for i in range(3):\n    wandb.log({'loss': 1 / (i + 1)})\nrun.finish()")
        result = shell.run_cell(source, store_history=True)
        assert result.success, result.error_in_exec
        run = only_run("project:nb")
        (cell,) = [c for c in run.cells if "wandb.init" in c["source"]]
        assert set(run.history("loss")["loss"]["cell"]) == {cell["id"]}
    finally:
        nbtrack.finish()
        shell.run_line_magic("unload_ext", "nbtrack")


def test_arrays_and_lists_of_numbers_become_histograms_as_in_w_and_b(workspace: Path) -> None:
    import numpy as np
    import torch

    with wandb.init() as run:
        wandb.log({"array": np.arange(10.0), "tensor": torch.arange(5.0), "lst": [1, 2, 3],
                   "scalar": np.float32(1.5), "tensor0": torch.tensor(2.0)})
        assert dict(run.summary.items()) == {"scalar": 1.5, "tensor0": 2.0}
    history = run.nbtrack_run.history()
    assert {k: history[k].get("kind", "metric") for k in history} == {
        "array": "histogram", "tensor": "histogram", "lst": "histogram",
        "scalar": "metric", "tensor0": "metric"}


def test_percent_wandb_is_tolerated_once_nbtrack_wandb_is_imported(workspace: Path) -> None:
    out = run_code("from IPython.core.interactiveshell import InteractiveShell\n"
                   "shell = InteractiveShell.instance()\n"
                   "import nbtrack.wandb\n"
                   "shell.run_line_magic('wandb', '')\nprint('ok')\n", workspace)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_importing_nbtrack_wandb_imports_no_framework() -> None:
    code = ("import sys\nimport nbtrack.wandb as wandb\n"
            "print(sorted(m for m in ('torch', 'keras', 'xgboost', 'lightgbm', 'pandas')"
            " if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- the same scripts under the real wandb (offline) -------------------------------------------

#: Runs a script unmodified under the real ``wandb`` and writes its run's summary (as W&B's
#: ``run.summary`` holds it when the script calls ``finish``) to a JSON file.
REAL_WANDB_HARNESS = """
import json, runpy, sys
from wandb.sdk.wandb_run import Run

def plain(v):
    return {k: plain(x) for k, x in dict(v).items()} if hasattr(v, "keys") else v

original = Run.finish
def finish(self, *args, **kwargs):
    summary = {k: plain(v) for k, v in dict(self.summary).items() if not k.startswith("_")}
    with open(sys.argv[2], "w") as f:
        json.dump(summary, f)
    return original(self, *args, **kwargs)

Run.finish = finish
runpy.run_path(sys.argv[1], run_name="__main__")
"""


@pytest.mark.parametrize("name, tag", [("train_loop", "project:quickstart"),
                                       ("xgboost_train", "project:xgboost-demo"),
                                       ("lightgbm_train", "project:lightgbm-demo")])
def test_summary_is_what_the_real_wandb_computes_for_the_same_script(
        workspace: Path, tmp_path: Path, name: str, tag: str) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
           "WANDB_DIR": str(real_dir)}
    out = subprocess.run([sys.executable, "-c", REAL_WANDB_HARNESS, str(SCRIPTS / f"{name}.py"),
                          str(real_dir / "summary.json")], cwd=real_dir, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    real = json.loads((real_dir / "summary.json").read_text())
    # W&B keeps a reference to a logged table in the summary; nbtrack's summary is metrics.
    real = {k: v for k, v in real.items() if not (isinstance(v, dict) and "_type" in v)}
    run_script(name, workspace)
    ours = {k: v for k, v in dict(only_run(tag).summary).items() if v is not None}
    assert ours == real


# -- exits, defaults files, integration errors -------------------------------------------------

def run_code(code: str, workspace: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NBTRACK_DIR": str(workspace),
           "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    return subprocess.run([sys.executable, "-c", code], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_script_that_never_calls_finish_keeps_its_pending_values(workspace: Path) -> None:
    out = run_code("import nbtrack.wandb as wandb\nwandb.init(project='exit')\n"
                   "wandb.log({'a': 1})\nwandb.log({'b': 2}, step=5)\n"
                   "wandb.summary['best'] = 3\n", workspace)
    assert out.returncode == 0, out.stderr
    run = only_run("project:exit")
    assert run.status == "finished"
    history = run.history()
    assert (history.steps("a"), history.steps("b")) == ([0], [5])
    assert dict(run.summary) == {"a": 1, "b": 2, "best": 3}


def test_a_script_that_crashes_is_a_failed_run_with_its_pending_values(
        workspace: Path) -> None:
    out = run_code("import nbtrack.wandb as wandb\nwandb.init(project='crash')\n"
                   "wandb.define_metric('loss', summary='min')\n"
                   "wandb.log({'loss': 2.0})\nwandb.log({'loss': 1.0}, commit=False)\n"
                   "raise SystemError('boom')\n", workspace)
    assert out.returncode != 0 and "boom" in out.stderr
    run = only_run("project:crash")
    assert run.status == "failed"
    assert run.history("loss").values("loss") == [2.0, 1.0]
    assert run.summary["loss"] == {"min": 1.0}


def test_config_defaults_yaml_is_read_as_w_and_b_reads_it(workspace: Path) -> None:
    (workspace / "config-defaults.yaml").write_text(
        "wandb_version: 1\nepochs:\n  desc: number of epochs\n  value: 10\nlr: 0.1\n")
    out = run_code("import nbtrack.wandb as wandb\n"
                   "wandb.init(project='defaults', config={'lr': 0.5})\nwandb.finish()\n",
                   workspace)
    assert out.returncode == 0, out.stderr
    assert only_run("project:defaults").params == {"epochs": 10, "lr": 0.5}


def test_integration_entry_points_need_a_run_like_w_and_b(workspace: Path) -> None:
    from nbtrack.wandb.keras import WandbMetricsLogger
    from nbtrack.wandb.xgboost import WandbCallback

    with pytest.raises(wandb.Error, match=r"You must call `wandb.init\(\)` before "
                                          r"WandbMetricsLogger\(\)"):
        WandbMetricsLogger()
    with pytest.raises(wandb.Error, match=r"before WandbCallback\(\)"):
        WandbCallback()
    assert wandb.keras.WandbMetricsLogger is WandbMetricsLogger  # attribute access works too
    with pytest.raises(AttributeError, match="plot"):
        wandb.plot  # noqa: B018
