"""The model registry: versions, aliases, refs, tags, descriptions, concurrent registering,
gc retention and the `nbtrack models` commands, on a real SQLite store and real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import nbtrack
from nbtrack import config
from nbtrack.cli import main
from nbtrack.query.maintenance import collect_garbage
from nbtrack.registry import ModelNotFound, resolve_version
from nbtrack.store import access, blobs

ROOT = Path(__file__).resolve().parents[1]

SIGNATURE = {"inputs": [{"name": "sepal_length", "type": "double"},
                        {"name": None, "type": "tensor", "dtype": "float32", "shape": [-1, 4]}],
             "outputs": None}


def _model(name: str, content: bytes, tmp_path: Path, **metadata: object) -> nbtrack.Artifact:
    """A model artifact of one small file (what log_model makes, minus the flavor files)."""
    file = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.bin"
    file.write_bytes(content)
    art = nbtrack.Artifact(name, type="model", metadata=metadata)
    art.add_file(file, "model/weights.bin")
    return art


def _log(run: nbtrack.Run, name: str, content: bytes, tmp_path: Path,
         **metadata: object) -> nbtrack.ArtifactVersion:
    return run.log_artifact(_model(name, content, tmp_path, **metadata))


def _resolve(ref: str) -> int:
    with access.reading(config.db_path()) as db:
        return resolve_version(db, ref)


def _age_blobs(workspace: Path) -> None:
    old = time.time() - 2 * blobs.GRACE_SECONDS
    for _, path in blobs.names(config.db_path(workspace).parent):
        os.utime(path, (old, old))


def _gc(workspace: Path, keep_last: int | None = None) -> dict[str, int]:
    db = access.open_writable(config.db_path(workspace))
    try:
        return collect_garbage(db, config.db_path(workspace).parent, keep_last=keep_last)
    finally:
        db.close()


# -- versions and what can be registered ------------------------------------------------------

def test_registering_makes_versions_1_2_and_the_same_artifact_again_is_the_same_version(
    workspace: Path, tmp_path: Path,
) -> None:
    with nbtrack.init(name="train") as run:
        a = _log(run, "clf", b"weights a", tmp_path)
        b = _log(run, "clf", b"weights b", tmp_path)
        first = nbtrack.register_model(a, "iris", description="first try")
    second = nbtrack.register_model("clf:latest", "iris")
    again = nbtrack.register_model(a, "iris", aliases=["baseline"])
    assert (first.version, second.version, again.version) == (1, 2, 1)
    assert (first.artifact, second.artifact) == ("clf:v0", "clf:v1")
    assert first.artifact_version_id == a.id and second.artifact_version_id == b.id
    assert first.registered_by == run.number and second.registered_by is None
    assert first.source_run == run.number
    assert again.aliases == ["baseline"] and again.description == "first try"
    model = nbtrack.get_model("iris")
    assert [v.version for v in model.versions] == [1, 2]
    assert model.latest_version is not None and model.latest_version.artifact == "clf:v1"
    assert model.aliases == {"baseline": 1}
    other = nbtrack.register_model("clf:v1", "iris-prod")  # one artifact, two models
    assert other.version == 1
    assert [m.name for m in nbtrack.list_models()] == ["iris", "iris-prod"]


def test_register_takes_artifact_refs_run_refs_and_registry_refs(
    workspace: Path, tmp_path: Path,
) -> None:
    with nbtrack.init(name="trainer") as run:
        v0 = _log(run, "clf", b"clf 0", tmp_path)
        run.log_artifact(_model("clf", b"clf 1", tmp_path), aliases=["best"])
        reg = _log(run, "reg", b"regressor", tmp_path)
    with nbtrack.init(name="other") as other:
        _log(other, "clf", b"clf 2", tmp_path)
    assert nbtrack.register_model("clf:v0", "m").artifact == "clf:v0"
    assert nbtrack.register_model("clf:best", "m").artifact == "clf:v1"
    assert nbtrack.register_model("clf", "m").artifact == "clf:v2"  # clf:latest
    assert nbtrack.register_model(f"runs:/{run.number}/clf", "n").artifact == "clf:v1"
    assert nbtrack.register_model(f"runs:/{run.id}/reg", "n").artifact == "reg:v0"
    assert nbtrack.register_model("runs:/trainer/model", "n").artifact == "reg:v0"  # newest
    assert nbtrack.register_model("runs:/other/model", "n").artifact == "clf:v2"
    assert nbtrack.register_model("models:/m/1", "copy").artifact_version_id == v0.id
    with pytest.raises(LookupError, match=r"run \d+ logged no model named 'nope'"
                                          r" \(its models: clf, reg\)"):
        nbtrack.register_model(f"runs:/{run.number}/nope", "n")
    with pytest.raises(LookupError, match="no run"):
        nbtrack.register_model("runs:/999/model", "n")
    with pytest.raises(nbtrack.ArtifactNotFound, match="no artifact named 'ghost'"):
        nbtrack.register_model("ghost:v0", "n")
    assert nbtrack.register_model(f"runs:/{run.number}", "n").artifact == "reg:v0"  # /model
    with pytest.raises(ValueError, match="runs:/<run number or id>/<model name>"):
        nbtrack.register_model("runs:/", "n")
    assert reg.type == "model"


def test_only_model_artifacts_can_be_registered(workspace: Path, tmp_path: Path) -> None:
    data = tmp_path / "rows.csv"
    data.write_text("a,b\n1,2\n")
    with nbtrack.init(name="prep") as run:
        ds = run.log_artifact(data, name="rows", type="dataset")
    with pytest.raises(ValueError, match=r"rows:v0 is an artifact of type 'dataset': only"
                                         r" artifacts of type 'model'"):
        nbtrack.register_model(ds, "rows")
    with pytest.raises(LookupError, match="run 1 logged no model named 'rows'"):
        nbtrack.register_model(f"runs:/{run.number}/rows", "rows")
    with pytest.raises(TypeError, match="register_model takes"):
        nbtrack.register_model(42, "rows")
    assert nbtrack.list_models() == []


def test_a_version_logged_in_another_workspace_is_refused(
    workspace: Path, tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    with nbtrack.init(name="here"):
        pass
    with nbtrack.init(name="far", workspace=elsewhere) as run:
        far = _log(run, "clf", b"far away", tmp_path)
    assert nbtrack.register_model(far, "far").version == 1  # its own store by default
    assert nbtrack.get_model("far", workspace=elsewhere).versions[0].artifact == "clf:v0"
    with pytest.raises(ValueError, match="was logged in the store at"):
        nbtrack.register_model(far, "far", workspace=workspace)
    with pytest.raises(ModelNotFound):
        nbtrack.get_model("far")


# -- names, aliases and refs ------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["", "with space", "a/b", "a@b", "x" * 256, "a:b"])
def test_bad_model_names_raise_saying_what_is_allowed(workspace: Path, tmp_path: Path,
                                                      bad: str) -> None:
    with nbtrack.init(name="t") as run:
        _log(run, "clf", b"w", tmp_path)
    with pytest.raises(ValueError, match=r"model name .* is not allowed: use 1 to 255 letters,"
                                         r" digits, '_', '-' and '.'"):
        nbtrack.register_model("clf:v0", bad)
    assert nbtrack.list_models() == []


@pytest.mark.parametrize(("bad", "rule"), [
    ("latest", "is reserved: 'latest' and 'v<number>' are set by nbtrack"),
    ("v3", "is reserved"),
    ("pro.d", "is not allowed: use 1 to 255 letters, digits, '_' and '-'"),
    ("", "is not allowed"),
])
def test_bad_aliases_raise_naming_the_rule_and_store_nothing(
    workspace: Path, tmp_path: Path, bad: str, rule: str,
) -> None:
    with nbtrack.init(name="t") as run:
        _log(run, "clf", b"w", tmp_path)
    with pytest.raises(ValueError, match=rule):
        nbtrack.register_model("clf:v0", "m", aliases=[bad])
    assert nbtrack.list_models() == []
    nbtrack.register_model("clf:v0", "m")
    with pytest.raises(ValueError, match=rule):
        nbtrack.set_alias("m", bad, 1)
    assert nbtrack.get_model("m").aliases == {}


def test_an_alias_moves_and_every_ref_form_resolves(workspace: Path, tmp_path: Path) -> None:
    with nbtrack.init(name="t") as run:
        ids = [_log(run, "clf", f"w{i}".encode(), tmp_path).id for i in range(3)]
    for i in range(3):
        nbtrack.register_model(f"clf:v{i}", "iris", aliases=["production"] if i == 0 else ())
    assert _resolve("iris@production") == ids[0]
    moved = nbtrack.set_alias("iris", "production", 2)
    assert moved.version == 2 and moved.aliases == ["production"]
    nbtrack.set_alias("iris", "staging", 3)
    assert nbtrack.get_model("iris").aliases == {"production": 2, "staging": 3}
    assert [v.aliases for v in nbtrack.get_model("iris").versions] == [[], ["production"],
                                                                       ["staging"]]
    expected = {"iris@production": ids[1], "models:/iris@production": ids[1],
                "iris/1": ids[0], "models:/iris/3": ids[2], "iris": ids[2],
                "models:/iris": ids[2], "iris/latest": ids[2], "iris@latest": ids[2]}
    assert {ref: _resolve(ref) for ref in expected} == expected
    assert nbtrack.registry.get_version("iris@staging").ref == "iris/3"
    model = nbtrack.get_model("iris")
    assert model.version("staging").version == 3 and model.version(1).artifact == "clf:v0"
    with pytest.raises(ModelNotFound, match="has no alias 'nope'"):
        model.version("nope")
    nbtrack.delete_alias("iris", "staging")
    assert nbtrack.get_model("iris").aliases == {"production": 2}
    with pytest.raises(ModelNotFound, match=r"registered model 'iris' has no alias 'staging'"
                                            r" \(its aliases: production\)"):
        _resolve("iris@staging")
    with pytest.raises(ModelNotFound, match=r"has no version 9 \(its versions: 1 to 3\)"):
        _resolve("models:/iris/9")
    with pytest.raises(ModelNotFound, match="no registered model named 'nope'"):
        _resolve("nope@production")
    with pytest.raises(ModelNotFound, match="has no alias 'staging'"):
        nbtrack.delete_alias("iris", "staging")
    with pytest.raises(ModelNotFound, match="has no version 7"):
        nbtrack.set_alias("iris", "production", 7)
    with pytest.raises(ValueError, match="after '/' give a version number"):
        _resolve("iris/v2")
    with pytest.raises(ValueError, match="a model version is a number"):
        nbtrack.set_alias("iris", "production", 0)
    assert nbtrack.get_model("iris").aliases == {"production": 2}


def test_resolve_version_is_what_a_loader_needs(workspace: Path, tmp_path: Path) -> None:
    """CONTRACTS §2: resolve_version(db, ref) -> the artifact version id, whose files load."""
    from nbtrack.store import artifacts

    with nbtrack.init(name="t") as run:
        _log(run, "clf", b"the bytes", tmp_path, flavor="sklearn", signature=SIGNATURE)
    nbtrack.register_model("clf:v0", "iris", aliases=["production"])
    with access.reading(config.db_path()) as db:
        row = artifacts.version(db, resolve_version(db, "models:/iris@production"))
    assert (row.name, row.number, row.metadata["flavor"]) == ("clf", 0, "sklearn")
    folder = nbtrack.use_artifact(f"{row.name}:v{row.number}").download(tmp_path / "out")
    assert (folder / "model" / "weights.bin").read_bytes() == b"the bytes"
    assert issubclass(ModelNotFound, LookupError)
    assert nbtrack.registry.is_model_ref("iris@production")
    assert nbtrack.registry.is_model_ref("models:/iris")
    assert not nbtrack.registry.is_model_ref("clf:v0")
    assert not nbtrack.registry.is_model_ref("runs:/1/model")


# -- descriptions, tags, flavor ---------------------------------------------------------------

def test_descriptions_tags_and_the_artifacts_flavor_and_signature(
    workspace: Path, tmp_path: Path,
) -> None:
    with nbtrack.init(name="t") as run:
        _log(run, "clf", b"w0", tmp_path, flavor="sklearn", signature=SIGNATURE)
        _log(run, "clf", b"w1", tmp_path)
    nbtrack.register_model("clf:v0", "iris", tags={"stage": "dev", "auc": 0.93},
                           description="v1 text")
    nbtrack.register_model("clf:v1", "iris")
    before = nbtrack.get_model("iris").updated
    nbtrack.set_model_description("iris", "Iris species classifier")
    nbtrack.set_model_description("iris", "retrained", version=2)
    nbtrack.set_model_tag("iris", "owner", "ml-team")
    nbtrack.set_model_tag("iris", "stage", "prod", version=1)
    model = nbtrack.get_model("iris")
    assert model.description == "Iris species classifier" and model.tags == {"owner": "ml-team"}
    assert model.updated >= before
    one, two = model.versions
    assert one.tags == {"auc": "0.93", "stage": "prod"} and one.description == "v1 text"
    assert two.tags == {} and two.description == "retrained"
    assert (one.flavor, one.signature) == ("sklearn", SIGNATURE)
    assert (two.flavor, two.signature) == (None, None)
    with pytest.raises(ModelNotFound, match="has no version 5"):
        nbtrack.set_model_tag("iris", "k", "v", version=5)
    with pytest.raises(ModelNotFound, match="no registered model named 'nope'"):
        nbtrack.set_model_description("nope", "text")
    with pytest.raises(ValueError, match="tag key"):
        nbtrack.set_model_tag("iris", "", "v")
    with pytest.raises(ValueError, match="the value must be a string"):
        nbtrack.set_model_tag("iris", "k", ["not", "text"])


def test_a_workspace_with_no_store_has_no_models_and_writes_say_so(workspace: Path) -> None:
    assert nbtrack.list_models() == []
    with pytest.raises(ModelNotFound, match="no registered model named 'iris'"):
        nbtrack.get_model("iris")
    with pytest.raises(ModelNotFound, match="there is no nbtrack store"):
        nbtrack.set_alias("iris", "production", 1)
    with pytest.raises(LookupError, match="nothing to register"):
        nbtrack.register_model("clf:v0", "iris")
    assert not config.db_path(workspace).exists()


# -- concurrency ------------------------------------------------------------------------------

_REGISTER = """
    import sys, nbtrack
    for ref in sys.argv[1:]:
        print(nbtrack.register_model(ref, "shared").version, flush=True)
"""


def test_two_processes_registering_at_once_get_distinct_version_numbers(
    workspace: Path, tmp_path: Path,
) -> None:
    with nbtrack.init(name="t") as run:
        for i in range(16):
            _log(run, "clf", f"w{i}".encode(), tmp_path)
    env = {**os.environ, "NBTRACK_DIR": str(workspace),
           "PYTHONPATH": str(ROOT / "python") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    halves = [[f"clf:v{i}" for i in range(0, 16, 2)], [f"clf:v{i}" for i in range(1, 16, 2)]]
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(_REGISTER), *refs],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for refs in halves]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    numbers = [int(n) for out, _ in outs for n in out.split()]
    assert sorted(numbers) == list(range(1, 17))
    model = nbtrack.get_model("shared")
    assert [v.version for v in model.versions] == list(range(1, 17))
    assert sorted(v.artifact for v in model.versions) == sorted(f"clf:v{i}" for i in range(16))


# -- retention --------------------------------------------------------------------------------

def test_gc_keeps_registered_versions_and_their_bytes(workspace: Path, tmp_path: Path) -> None:
    with nbtrack.init(name="doomed") as doomed:
        kept = _log(doomed, "clf", b"registered weights", tmp_path)
        for i in range(3):
            _log(doomed, "clf", f"later {i}".encode(), tmp_path)
        orphan = _log(doomed, "scratch", b"nobody registered this", tmp_path)
    nbtrack.register_model(kept, "iris")
    nbtrack.register_model("clf:latest", "iris")
    with access.writing(config.db_path(workspace)) as db:
        db.execute("UPDATE runs SET deleted = 1 WHERE number = ?", (doomed.number,))
    _age_blobs(workspace)
    dropped = _gc(workspace, keep_last=0)
    assert dropped["artifact_versions"] == 3  # clf:v1, clf:v2 and scratch:v0
    assert dropped["blobs"] == 3
    with access.reading(config.db_path(workspace)) as db:
        left = sorted(r[0] for r in db.execute("SELECT number FROM artifact_versions"))
    assert left == [0, 3]
    for ref, content in (("iris/1", b"registered weights"), ("iris", b"later 2")):
        version = nbtrack.registry.get_version(ref)
        folder = nbtrack.use_artifact(version.artifact).download(tmp_path / ref.replace("/", "-"))
        assert (folder / "model" / "weights.bin").read_bytes() == content
    with pytest.raises(nbtrack.ArtifactNotFound):
        nbtrack.use_artifact(orphan.ref)


def test_gc_keep_last_from_the_command_line_keeps_a_registered_old_version(
    workspace: Path, tmp_path: Path,
) -> None:
    with nbtrack.init(name="ckpt") as run:
        for i in range(4):
            _log(run, "ckpt", f"epoch {i}".encode(), tmp_path)
    nbtrack.register_model("ckpt:v1", "best")
    _age_blobs(workspace)
    result = CliRunner().invoke(main, ["gc", "--keep-last", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 artifact versions" in result.output  # v0 and v2; v1 registered, v3 newest
    version = nbtrack.get_model("best").versions[0]
    folder = nbtrack.use_artifact(version.artifact).download(tmp_path / "best")
    assert (folder / "model" / "weights.bin").read_bytes() == b"epoch 1"


def test_a_registered_artifact_version_cannot_be_deleted(workspace: Path, tmp_path: Path) -> None:
    with nbtrack.init(name="t") as run:
        _log(run, "clf", b"w", tmp_path)
    nbtrack.register_model("clf:v0", "iris")
    result = CliRunner().invoke(main, ["artifacts", "rm", "clf:v0", "--yes"])
    assert result.exit_code == 2
    assert "registered as model 'iris' version 1" in result.output
    assert nbtrack.use_artifact("clf:v0").version == "v0"


def test_a_store_made_before_the_registry_gains_it(workspace: Path, tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from nbtrack.store import schema

    path = config.db_path(workspace)
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    old = Migrations(schema.MIGRATION_SET)
    for migration in schema.MIGRATIONS[:6]:  # up to m006_artifacts
        old()(migration)
    old.apply(Database(conn))
    conn.close()
    with nbtrack.init(name="new", system_metrics=False) as run:
        _log(run, "clf", b"w", tmp_path)
    assert nbtrack.register_model("clf:v0", "iris").version == 1
    assert "m007_registry" in schema.applied(sqlite3.connect(path))


# -- the command line -------------------------------------------------------------------------

def test_cli_list_show_alias_describe_tag(workspace: Path, tmp_path: Path) -> None:
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    assert "no registered models" in cli("models", "list")
    with nbtrack.init(name="trainer") as run:
        _log(run, "clf", b"w0", tmp_path, flavor="sklearn", signature=SIGNATURE)
        _log(run, "clf", b"w1", tmp_path)
    nbtrack.register_model("clf:v0", "iris", aliases=["production"])
    nbtrack.register_model("clf:v1", "iris")
    table = cli("models", "list")
    assert "iris" in table and "production->1" in table
    listing = json.loads(cli("models", "list", "--json"))
    (entry,) = listing["models"]
    assert (entry["versions"], entry["latest_version"], entry["aliases"]) == (
        2, 2, {"production": 1})
    assert "iris@production -> version 2" in cli("models", "alias", "iris", "2", "production")
    cli("models", "describe", "iris", "Iris species classifier")
    cli("models", "describe", "iris", "--version", "1", "the first one")
    cli("models", "tag", "iris", "owner", "ml-team")
    cli("models", "tag", "iris", "stage", "archived", "--version", "1")
    shown = json.loads(cli("models", "show", "iris", "--json"))
    assert shown["description"] == "Iris species classifier"
    assert shown["tags"] == {"owner": "ml-team"} and shown["aliases"] == {"production": 2}
    one, two = shown["versions"]
    assert (one["artifact"], one["flavor"], one["signature"]) == ("clf:v0", "sklearn", SIGNATURE)
    assert one["description"] == "the first one" and one["tags"] == {"stage": "archived"}
    assert one["run"] == {"number": run.number, "run_id": run.id, "name": "trainer"}
    assert two["aliases"] == ["production"]
    text = cli("models", "show", "iris")
    assert "version 2  [production]" in text and "flavor: sklearn" in text
    assert "signature: (sepal_length: double, tensor float32[-1, 4])" in text
    assert f"logged by: run {run.number} trainer" in text and "stage=archived" in text
    assert "names version 2, not version 1" in cli("models", "alias", "iris", "1", "production",
                                                   "--delete", code=1)
    assert "removed iris@production" in cli("models", "alias", "iris", "2", "production",
                                            "--delete")
    assert nbtrack.get_model("iris").aliases == {}
    assert "no registered model named 'nope'" in cli("models", "show", "nope", code=1)
    assert "has no version 9" in cli("models", "alias", "iris", "9", "x", code=1)
    assert "is reserved" in cli("models", "alias", "iris", "1", "latest", code=2)
    assert "is not allowed" in cli("models", "show", "bad name", code=2)
    assert "has no version 4" in cli("models", "tag", "iris", "k", "v", "--version", "4",
                                     code=1)


def test_the_models_command_runs_as_a_process(workspace: Path, tmp_path: Path) -> None:
    with nbtrack.init(name="t") as run:
        _log(run, "clf", b"w", tmp_path)
    nbtrack.register_model("clf:v0", "iris")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    env.pop("NBTRACK_DIR")
    done = subprocess.run(
        [sys.executable, "-m", "nbtrack", "models", "show", "iris", "--workspace",
         str(workspace)], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "artifact: clf:v0" in done.stdout
