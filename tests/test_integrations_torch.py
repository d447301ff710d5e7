"""The PyTorch-based integrations with the real frameworks on CPU: Lightning's ``NbtrackLogger``
beside Lightning's own ``CSVLogger`` in the same Trainer, and the Transformers
``NbtrackCallback`` on a tiny BERT built from a config (nothing downloaded), checked against
``trainer.state.log_history``."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"  # never download anything (before transformers is imported)
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import lightning as L  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.testing.globalipapp import start_ipython  # noqa: E402
from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

import nbtrack  # noqa: E402
from nbtrack.integrations.lightning import NbtrackLogger  # noqa: E402
from nbtrack.integrations.transformers import NbtrackCallback  # noqa: E402


def outputs(run: nbtrack.Run) -> list[nbtrack.ArtifactVersion]:
    """The artifact versions ``run`` logged, oldest first."""
    graph = nbtrack.lineage(run)
    refs = [e["target"].removeprefix("artifact:") for e in graph["edges"]
            if e["direction"] == "out" and e["source"] == f"run:{run.id}"]
    versions = [nbtrack.use_artifact(ref) for ref in refs]
    return sorted(versions, key=lambda v: int(v.version[1:]))


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- Lightning -------------------------------------------------------------------------------------

HPARAMS = {"lr": 0.05, "hidden": 6, "optim": {"momentum": 0.9, "nesterov": True}}


class Tiny(L.LightningModule):
    def __init__(self, lr: float = 0.1, hidden: int = 4, optim: dict | None = None,
                 fail_at: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["fail_at"])
        self.fail_at = fail_at
        self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 1))

    def training_step(self, batch: Any, index: int) -> torch.Tensor:
        if self.fail_at is not None and self.global_step == self.fail_at:
            raise RuntimeError("diverged")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, index: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))
        self.log("val_mae", torch.nn.functional.l1_loss(self.net(x), y), on_epoch=True)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr,
                               **(self.hparams.optim or {}))


def loader(rows: int = 32, seed: int = 0) -> torch.utils.data.DataLoader:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(rows, 3, generator=gen)
    y = x.sum(dim=1, keepdim=True)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)


def trainer(tmp: Path, logger: Any, epochs: int = 3, **kwargs: Any) -> L.Trainer:
    return L.Trainer(max_epochs=epochs, logger=logger, enable_progress_bar=False,
                     enable_model_summary=False, log_every_n_steps=1, accelerator="cpu",
                     default_root_dir=tmp, **kwargs)


def by_step(points: dict[str, dict[int, float]]) -> dict[str, list[tuple[int, float]]]:
    """``{key: [(step, value), ...]}`` by step. A key logged twice at one step (Lightning's
    ``epoch`` after a training step and after validation) is one point in nbtrack: the later
    value (here, the same value)."""
    return {key: sorted(values.items()) for key, values in points.items()}


def csv_points(csv_logger: CSVLogger) -> dict[str, list[tuple[int, float]]]:
    """``{key: [(step, value), ...]}`` as Lightning's CSVLogger wrote them."""
    points: dict[str, dict[int, float]] = defaultdict(dict)
    with open(Path(csv_logger.log_dir) / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                if key != "step" and value != "":
                    points[key][int(row["step"])] = float(value)
    return by_step(points)


def run_points(run: nbtrack.Run) -> dict[str, list[tuple[int, float]]]:
    history = run.history()
    return {key: list(zip(history.steps(key), history.values(key))) for key in history}


@pytest.mark.slow
def test_lightning_fit_records_what_lightning_logged_and_the_kept_checkpoints(
        workspace: Path, tmp_path: Path) -> None:
    L.seed_everything(0)
    ours, theirs = NbtrackLogger("lit", log_model=True), CSVLogger(tmp_path / "csv")
    checkpoint = ModelCheckpoint(monitor="val_loss", save_top_k=1, save_last=True)
    fit = trainer(tmp_path, [ours, theirs], callbacks=[checkpoint])
    fit.fit(Tiny(**HPARAMS), loader(), loader(16, seed=1))

    run = nbtrack.get_run("lit")
    assert run.status == "finished"
    assert ours.version == run.id and ours.experiment is not None
    # the hyperparams, flattened as Lightning's loggers flatten them
    assert run.params == {"lr": 0.05, "hidden": 6, "optim/momentum": 0.9,
                          "optim/nesterov": True}
    # every key, step and value the CSVLogger recorded from the same Trainer
    want = csv_points(theirs)
    got = run_points(run)
    assert set(got) == set(want) == {"train_loss", "val_loss", "val_mae", "epoch"}
    for key, points in want.items():
        assert [s for s, _ in got[key]] == [s for s, _ in points], key
        assert [v for _, v in got[key]] == pytest.approx([v for _, v in points], rel=1e-5)
    assert [s for s, _ in got["train_loss"]] == list(range(fit.global_step))
    # checkpoints under <default_root_dir>/<run name>/<run id>/checkpoints, logged at the end
    assert Path(checkpoint.dirpath) == tmp_path / "lit" / run.id / "checkpoints"
    versions = outputs(run)
    assert {v.type for v in versions} == {"model"}
    assert {v.name for v in versions} == {f"model-{run.id}"}
    # each checkpoint kept (last.ckpt and the best), identical files being one version
    kept = [checkpoint.last_model_path, checkpoint.best_model_path]
    assert {v.files()[0]["sha256"] for v in versions} == {sha256(p) for p in kept}
    assert {f["path"] for v in versions for f in v.files()} == {"model.ckpt"}
    assert {v.metadata["original_filename"] for v in versions} <= {Path(p).name for p in kept}
    (best,) = [v for v in versions if "best" in v.aliases]
    assert best.files()[0]["sha256"] == sha256(checkpoint.best_model_path)
    assert best.metadata["score"] == pytest.approx(float(checkpoint.best_model_score))
    assert best.metadata["ModelCheckpoint"]["monitor"] == "val_loss"
    assert nbtrack.use_artifact(f"model-{run.id}:best").version == best.version


@pytest.mark.slow
def test_lightning_log_model_all_logs_each_checkpoint_as_saved(workspace: Path,
                                                               tmp_path: Path) -> None:
    logger = NbtrackLogger("all", log_model="all", checkpoint_name="tiny")
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_top_k=-1,
                                 every_n_epochs=1)
    trainer(tmp_path, logger, epochs=2, callbacks=[checkpoint]).fit(Tiny(), loader())
    versions = outputs(nbtrack.get_run("all"))
    assert [v.ref for v in versions] == ["tiny:v0", "tiny:v1"]
    assert [v.metadata["original_filename"] for v in versions] == \
        sorted(p.name for p in (tmp_path / "ckpt").iterdir())


@pytest.mark.slow
def test_lightning_failed_fit_marks_the_run_failed(workspace: Path, tmp_path: Path) -> None:
    logger = NbtrackLogger("boom", log_model=True)
    with pytest.raises(RuntimeError, match="diverged"):
        trainer(tmp_path, logger).fit(Tiny(fail_at=2), loader())
    run = nbtrack.get_run("boom")
    assert run.status == "failed"
    assert run.history().steps("train_loss") == [0, 1]
    assert outputs(run) == []  # checkpoints are logged on success only


@pytest.mark.slow
def test_lightning_logs_into_the_active_run_and_leaves_it_open(workspace: Path,
                                                               tmp_path: Path) -> None:
    with nbtrack.init(name="mine", config={"by": "hand"}) as run:
        fit = trainer(tmp_path, NbtrackLogger(), epochs=1)
        fit.fit(Tiny(), loader(), loader(8))
        fit.validate(Tiny(), loader(8), verbose=False)
        assert run.live
        run.log({"after": 1.0})
    assert [r.name for r in nbtrack.runs()] == ["mine"]
    mine = nbtrack.get_run("mine")
    assert mine.status == "finished" and mine.params["by"] == "hand"
    assert mine.params["lr"] == 0.1
    assert {"train_loss", "val_loss", "after"} <= set(mine.metric_keys())


# -- Transformers ----------------------------------------------------------------------------------

CONFIG = dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=2,
              intermediate_size=37, vocab_size=100, max_position_embeddings=16)


class Tokens(torch.utils.data.Dataset):
    """Random token sequences with a label: what a tokenized dataset hands the Trainer."""

    def __init__(self, rows: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 100, (rows, 8), generator=gen)
        self.labels = (self.ids[:, 0] > 50).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(8, dtype=torch.long),
                "labels": self.labels[i]}


def hf_trainer(tmp: Path, callback: Any, epochs: int = 2, **kwargs: Any) -> transformers.Trainer:
    transformers.set_seed(0)
    model = transformers.BertForSequenceClassification(transformers.BertConfig(**CONFIG))
    args = transformers.TrainingArguments(
        output_dir=str(tmp / "out"), num_train_epochs=epochs, per_device_train_batch_size=8,
        per_device_eval_batch_size=8, learning_rate=1e-3, logging_steps=1,
        eval_strategy="epoch", report_to="none", disable_tqdm=True, use_cpu=True,
        **kwargs)
    return transformers.Trainer(model=model, args=args, train_dataset=Tokens(24, 0),
                                eval_dataset=Tokens(8, 1), callbacks=[callback])


def history_points(log_history: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    points: dict[str, dict[int, float]] = defaultdict(dict)
    for entry in log_history:
        for key, value in entry.items():
            if key != "step":
                points[key][entry["step"]] = float(value)
    return by_step(points)


@pytest.mark.slow
def test_transformers_train_records_args_config_and_every_logged_value(
        workspace: Path, tmp_path: Path) -> None:
    hf = hf_trainer(tmp_path, NbtrackCallback("bert", log_checkpoints=True),
                    save_strategy="epoch", load_best_model_at_end=True,
                    metric_for_best_model="eval_loss")
    hf.train()
    run = nbtrack.get_run("bert")
    assert run.status == "finished"
    want = history_points(hf.state.log_history)
    got = run_points(run)
    assert set(got) == set(want)
    assert {"loss", "learning_rate", "epoch", "eval_loss", "train_runtime"} <= set(got)
    for key, points in want.items():
        assert [s for s, _ in got[key]] == [s for s, _ in points], key
        assert [v for _, v in got[key]] == pytest.approx([v for _, v in points], rel=1e-5)
    assert [s for s, _ in got["loss"]] == list(range(1, hf.state.global_step + 1))
    assert [s for s, _ in got["eval_loss"]] == [3, 6]
    # params: the TrainingArguments and the model config
    assert run.params["learning_rate"] == 1e-3 and run.params["num_train_epochs"] == 2
    assert run.params["output_dir"] == str(tmp_path / "out")
    assert {k: run.params[k] for k in CONFIG} == CONFIG
    assert run.params["model_type"] == "bert" and run.params["hub_token"] == "<HUB_TOKEN>"
    # one checkpoint per epoch, the best one aliased
    versions = outputs(run)
    assert [v.ref for v in versions] == [f"checkpoint-{run.id}:v0", f"checkpoint-{run.id}:v1"]
    assert [v.metadata["original_folder"] for v in versions] == ["checkpoint-3", "checkpoint-6"]
    files = {f["path"]: f["sha256"] for f in versions[1].files()}
    folder = tmp_path / "out" / "checkpoint-6"
    assert files["model.safetensors"] == sha256(folder / "model.safetensors")
    best = Path(hf.state.best_model_checkpoint).name
    (aliased,) = [v for v in versions if "best" in v.aliases]
    assert aliased.metadata["original_folder"] == best


@pytest.mark.slow
def test_transformers_logs_into_the_active_run_and_evaluate_after(workspace: Path,
                                                                 tmp_path: Path) -> None:
    callback = NbtrackCallback()
    assert isinstance(callback, transformers.TrainerCallback)
    hf = hf_trainer(tmp_path, callback, epochs=1, save_strategy="no")
    with nbtrack.init(name="mine") as run:
        hf.train()
        assert run.live
    assert nbtrack.get_run("mine").params["hidden_size"] == 32
    assert [r.name for r in nbtrack.runs()] == ["mine"]
    # an evaluation outside train(), with no active run, is a run of its own, finished
    metrics = hf.evaluate()
    (evaluated,) = [r for r in nbtrack.runs() if r.name != "mine"]
    assert evaluated.status == "finished"
    assert evaluated.history().values("eval_loss") == pytest.approx([metrics["eval_loss"]])


@pytest.mark.slow
def test_transformers_failed_training_is_marked_failed_at_the_next(workspace: Path,
                                                                   tmp_path: Path) -> None:
    class Boom(transformers.TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 2:
                raise RuntimeError("diverged")

    callback = NbtrackCallback("hf")
    hf = hf_trainer(tmp_path, callback, epochs=1, save_strategy="no")
    hf.add_callback(Boom())
    with pytest.raises(RuntimeError, match="diverged"):
        hf.train()
    hf.remove_callback(Boom)
    hf.train()
    first, second = sorted(nbtrack.runs(), key=lambda r: r.number)
    assert (first.status, second.status) == ("failed", "finished")
    assert first.history().steps("loss") == [1]  # step 2 raised before its log


# -- In a notebook: points carry the cell that called fit/train ------------------------------------

@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    ip.run_line_magic("unload_ext", "nbtrack")


@pytest.mark.slow
def test_points_logged_during_fit_and_train_carry_the_cell(shell: InteractiveShell,
                                                           tmp_path: Path) -> None:
    shell.user_ns.update(trainer=trainer, hf_trainer=hf_trainer, Tiny=Tiny, loader=loader,
                         tmp=tmp_path)
    cells = {
        "fit-lightning": ("from nbtrack.integrations.lightning import NbtrackLogger\n"
                          "trainer(tmp, NbtrackLogger('fit-lightning'), epochs=1)"
                          ".fit(Tiny(), loader(), loader(8))"),
        "fit-transformers": ("from nbtrack.integrations.transformers import NbtrackCallback\n"
                             "hf_trainer(tmp, NbtrackCallback('fit-transformers'), epochs=1,"
                             " save_strategy='no').train()"),
    }
    for name, source in cells.items():
        result = shell.run_cell(source, store_history=True)
        assert result.success, result.error_in_exec
        run = nbtrack.get_run(name)
        assert run.status == "finished"
        (cell,) = [c for c in run.cells if c["source"] == source]
        history = run.history()
        assert len(history) > 2
        for key in history:
            assert set(history[key]["cell"]) == {cell["id"]}, (name, key)


# -- Imports ---------------------------------------------------------------------------------------

def python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(nbtrack.__file__).parents[1])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_importing_the_integrations_does_not_import_their_frameworks() -> None:
    out = python("import sys\n"
                 "import nbtrack.integrations.lightning, nbtrack.integrations.transformers\n"
                 "print(sorted(m for m in ('lightning', 'pytorch_lightning', 'transformers',"
                 " 'torch') if m in sys.modules))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("module", "name", "missing", "package"), [
    ("lightning", "NbtrackLogger", ["lightning", "pytorch_lightning"], "lightning"),
    ("transformers", "NbtrackCallback", ["transformers"], "transformers"),
])
def test_a_missing_framework_is_an_import_error_naming_it(module: str, name: str,
                                                          missing: list[str],
                                                          package: str) -> None:
    out = python("import sys\n"
                 + "".join(f"sys.modules[{m!r}] = None  # as if not installed\n" for m in missing)
                 + f"from nbtrack.integrations.{module} import {name}\n"
                 f"try:\n    {name}()\nexcept ImportError as exc:\n    print(exc)\n")
    assert out.returncode == 0, out.stderr
    assert f"pip install {package}" in out.stdout


@pytest.mark.slow
def test_the_logger_follows_the_pytorch_lightning_namespace(workspace: Path) -> None:
    out = python("import pytorch_lightning as pl\n"
                 "from nbtrack.integrations.lightning import NbtrackLogger\n"
                 "logger = NbtrackLogger()\n"
                 "print(isinstance(logger, pl.loggers.Logger), isinstance(logger, NbtrackLogger),"
                 " 'lightning' in sys.modules if (sys := __import__('sys')) else 0)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "False"]
