"""Artifacts: versions, dedupe, aliases, verified downloads, lineage, gc and crashes, with real
files, a real SQLite store, real processes and a real IPython shell."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

import nbtrack
from nbtrack import config
from nbtrack.cli import main
from nbtrack.query.maintenance import collect_garbage
from nbtrack.store import access, blobs

ROOT = Path(__file__).resolve().parents[1]


def _store(workspace: Path) -> Path:
    return config.db_path(workspace).parent


def _blob_names(workspace: Path) -> set[str]:
    return {name for name, _ in blobs.names(_store(workspace))}


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _rows(workspace: Path, sql: str) -> list[tuple]:
    with access.reading(config.db_path(workspace)) as db:
        return list(db.execute(sql))


def _age_blobs(workspace: Path, seconds: float = 2 * blobs.GRACE_SECONDS) -> None:
    """Make every blob look written long ago (past the collection grace period)."""
    old = time.time() - seconds
    for _, path in blobs.names(_store(workspace)):
        os.utime(path, (old, old))


def _script(workspace: Path, body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def _env(workspace: Path) -> dict[str, str]:
    return {**os.environ, "NBTRACK_DIR": str(workspace),
            "PYTHONPATH": str(ROOT / "python") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _all_blobs_whole(workspace: Path) -> None:
    for name, path in blobs.names(_store(workspace)):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == name, path


# -- versions, dedupe, aliases ---------------------------------------------------------------

def test_versions_dedupe_and_only_changed_files_take_space(workspace: Path, tmp_path: Path) -> None:
    files = {f"shard{i:02d}.bin": os.urandom(20_000) for i in range(30)}
    files["labels/train.csv"] = b"id,label\n1,cat\n"
    data = _folder(tmp_path / "data", files)
    with nbtrack.init(name="prep") as run:
        v0 = run.log_artifact(data, name="mnist", type="dataset")
        assert (v0.name, v0.version, v0.aliases) == ("mnist", "v0", ["latest"])
        assert len(v0.files()) == 31 and v0.size == 30 * 20_000 + 15
        before = _blob_names(workspace)
        again = run.log_artifact(data, name="mnist", type="dataset")
        assert again.version == "v0" and _blob_names(workspace) == before
        (data / "shard07.bin").write_bytes(os.urandom(20_000))
        v1 = run.log_artifact(data, name="mnist", type="dataset", metadata={"rows": 1})
    assert v1.version == "v1" and v1.aliases == ["latest"] and v1.metadata == {"rows": 1}
    added = _blob_names(workspace) - before
    assert added == {hashlib.sha256((data / "shard07.bin").read_bytes()).hexdigest()}
    assert nbtrack.use_artifact("mnist").version == "v1"
    assert nbtrack.use_artifact("mnist:v0").aliases == []
    assert _rows(workspace, "SELECT COUNT(*) FROM artifact_versions") == [(2,)]


def test_artifact_builder_files_values_and_aliases(workspace: Path, tmp_path: Path) -> None:
    import pandas as pd

    (tmp_path / "model.pt").write_bytes(b"weights")
    art = nbtrack.Artifact("clf", "model", description="a classifier")
    art.add_file(tmp_path / "model.pt", name="weights/model.pt")
    art.add({"classes": ["cat", "dog"]}, "config")
    frame = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    art.add(frame, "sample")
    art.metadata["acc"] = 0.9
    with nbtrack.init(name="train") as run:
        v = run.log_artifact(art, aliases=["best", "production"])
        paths = [f["path"] for f in v.files()]
        assert paths[:1] == ["config.json"] and "weights/model.pt" in paths
        assert any(p.startswith("sample.") for p in paths)
        assert v.aliases == ["latest", "best", "production"] and v.metadata == {"acc": 0.9}
        art2 = nbtrack.Artifact("clf", "model")
        art2.add({"classes": ["cat"]}, "config")
        v1 = run.log_artifact(art2, aliases=["production"])
    assert v1.aliases == ["latest", "production"]
    assert nbtrack.use_artifact("clf:best").version == "v0"
    assert nbtrack.use_artifact("clf:production").version == "v1"
    folder = nbtrack.use_artifact("clf:v0").download(tmp_path / "out")
    assert json.loads((folder / "config.json").read_text()) == {"classes": ["cat", "dog"]}
    assert (folder / "weights" / "model.pt").read_bytes() == b"weights"
    sample = next(folder.glob("sample.*"))
    read = pd.read_parquet(sample) if sample.suffix == ".parquet" else pd.read_csv(sample)
    assert read.to_dict("list") == frame.to_dict("list")


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "x" * 256, "tab\t", "..", "ünï"])
def test_bad_names_and_types_raise_saying_what_is_allowed(workspace: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        nbtrack.Artifact(bad, "dataset")
    with pytest.raises(ValueError, match="letters, digits"):
        nbtrack.Artifact("ok", bad)


@pytest.mark.parametrize("bad,message", [
    ("latest", "reserved"), ("v3", "reserved"), ("V12", "reserved"), ("has.dot", "letters"),
    ("", "letters"), ("a" * 256, "letters"),
])
def test_bad_aliases_raise_and_store_nothing(workspace: Path, tmp_path: Path, bad: str,
                                             message: str) -> None:
    (tmp_path / "f.txt").write_text("x")
    with nbtrack.init(name="r") as run, pytest.raises(ValueError, match=message):
        run.log_artifact(tmp_path / "f.txt", name="f", aliases=[bad])
    assert _rows(workspace, "SELECT COUNT(*) FROM artifact_versions") == [(0,)]


def test_another_type_for_an_existing_name_raises_before_storing_bytes(
    workspace: Path, tmp_path: Path,
) -> None:
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "g.txt").write_text("new bytes")
    with nbtrack.init(name="r") as run:
        run.log_artifact(tmp_path / "f.txt", name="f", type="dataset")
        before = _blob_names(workspace)
        with pytest.raises(ValueError, match="has type 'dataset', not 'model'"):
            run.log_artifact(tmp_path / "g.txt", name="f", type="model")
    assert _blob_names(workspace) == before


def test_an_unknown_reference_raises_not_found(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with nbtrack.init(name="r") as run:
        run.log_artifact(tmp_path / "f.txt", name="f")
        for ref in ("nope", "f:v9", "f:production"):
            with pytest.raises(nbtrack.ArtifactNotFound):
                run.use_artifact(ref)


# -- use and download ------------------------------------------------------------------------

def test_download_verifies_reuses_and_a_tampered_blob_raises_naming_the_file(
    workspace: Path, tmp_path: Path,
) -> None:
    data = _folder(tmp_path / "data", {"a.txt": b"alpha", "deep/b.bin": os.urandom(5000)})
    with nbtrack.init(name="prep") as run:
        run.log_artifact(data, name="ds")
    with nbtrack.init(name="train") as run:
        used = run.use_artifact("ds:latest")
        folder = used.download()
    assert folder == _store(workspace) / "artifacts" / "ds" / "v0"
    assert (folder / "a.txt").read_bytes() == b"alpha"
    assert (folder / "deep" / "b.bin").read_bytes() == (data / "deep" / "b.bin").read_bytes()
    first = (folder / "a.txt").stat().st_mtime_ns
    assert used.download() == folder and (folder / "a.txt").stat().st_mtime_ns == first
    (folder / "a.txt").write_bytes(b"edited by hand")  # a changed copy is replaced
    used.download()
    assert (folder / "a.txt").read_bytes() == b"alpha"
    edges = _rows(workspace, "SELECT direction, run FROM artifact_edges ORDER BY direction")
    assert edges == [("in", run.number), ("out", run.number - 1)]
    blob = hashlib.sha256(b"alpha").hexdigest()
    blobs.path_of(_store(workspace), blob).write_bytes(b"alphx")
    with pytest.raises(nbtrack.ArtifactIntegrityError, match="a.txt"):
        used.download(tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / "a.txt").exists()


# -- lineage, with cells from a real IPython shell ---------------------------------------------

@pytest.fixture
def shell(workspace: Path) -> Iterator[InteractiveShell]:
    start_ipython()
    ip = InteractiveShell.instance()
    assert ip is not None
    ip.run_line_magic("load_ext", "nbtrack")
    yield ip
    nbtrack.finish()
    ip.run_line_magic("unload_ext", "nbtrack")
    for name in [n for n in ip.user_ns if not n.startswith("_") and n not in ip.user_ns_hidden]:
        del ip.user_ns[name]


def test_lineage_upstream_and_downstream_with_cells(shell: InteractiveShell,
                                                    tmp_path: Path) -> None:
    (tmp_path / "raw.csv").write_text("a,b\n1,2\n")
    ip = shell
    ip.user_ns["src"] = str(tmp_path / "raw.csv")
    for source in (
        "import nbtrack\nproducer = nbtrack.init(name='producer')",
        "raw = nbtrack.log_artifact(src, name='raw', type='dataset')",
        "producer.finish()\nconsumer = nbtrack.init(name='consumer')",
        "got = nbtrack.use_artifact('raw:latest')",
        "art = nbtrack.Artifact('features', 'dataset')\nart.add({'n': 1}, 'stats')\n"
        "feat = nbtrack.log_artifact(art)",
        "consumer.finish()",
    ):
        result = ip.run_cell(source, store_history=True)
        assert result.success, result.error_in_exec
    producer, consumer = ip.user_ns["producer"], ip.user_ns["consumer"]
    cells = {r[1]: r[0] for r in _rows(shell_workspace(), "SELECT id, source FROM cells")}
    log_cell = next(i for s, i in cells.items() if "log_artifact(src" in s)
    use_cell = next(i for s, i in cells.items() if "use_artifact" in s)

    graph = nbtrack.lineage("raw:v0")
    assert graph["root"] == "artifact:raw:v0"
    assert graph["upstream"] == [f"run:{producer.id}"]
    assert graph["downstream"] == [f"run:{consumer.id}", "artifact:features:v0"]
    edges = {(e["source"], e["target"]): (e["direction"], e["cell"]) for e in graph["edges"]}
    assert edges[(f"run:{producer.id}", "artifact:raw:v0")] == ("out", log_cell)
    assert edges[("artifact:raw:v0", f"run:{consumer.id}")] == ("in", use_cell)

    up = nbtrack.lineage("features:latest")
    assert up["upstream"] == [f"run:{consumer.id}", "artifact:raw:v0", f"run:{producer.id}"]
    assert up["downstream"] == []
    of_run = nbtrack.lineage(consumer)
    assert of_run["upstream"] == ["artifact:raw:v0", f"run:{producer.id}"]
    assert of_run["downstream"] == ["artifact:features:v0"]
    kinds = {n["id"]: n["kind"] for n in of_run["nodes"]}
    assert kinds[f"run:{consumer.id}"] == "run" and kinds["artifact:raw:v0"] == "artifact"


def shell_workspace() -> Path:
    return Path(os.environ["NBTRACK_DIR"])


# -- processes: concurrent logging, crashes --------------------------------------------------

_LOG_SAME = """
    import sys, nbtrack
    with nbtrack.init(name="writer") as run:
        v = run.log_artifact(sys.argv[1], name="shared", type="dataset")
    print(v.version)
"""


def test_two_processes_logging_the_same_artifact_end_with_one_version(
    workspace: Path, tmp_path: Path,
) -> None:
    data = _folder(tmp_path / "data", {f"f{i}.bin": os.urandom(300_000) for i in range(20)})
    procs = [subprocess.Popen([*_script(workspace, _LOG_SAME), str(data)], env=_env(workspace),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].strip() for o in outs] == ["v0", "v0"]
    assert _rows(workspace, "SELECT COUNT(*) FROM artifact_versions") == [(1,)]
    assert _rows(workspace, "SELECT COUNT(*) FROM artifact_edges WHERE direction = 'out'") \
        == [(2,)]
    assert len(_blob_names(workspace)) == 20
    _all_blobs_whole(workspace)
    assert not list(blobs.blob_dir(_store(workspace)).glob("*/.tmp-*"))


_LOG_BIG = """
    import sys, nbtrack
    run = nbtrack.init(name="crashing")
    print("started", flush=True)
    run.log_artifact(sys.argv[1], name="big", type="dataset")
    print("logged", flush=True)
"""


def test_a_process_killed_mid_log_leaves_no_version_pointing_at_missing_bytes(
    workspace: Path, tmp_path: Path,
) -> None:
    data = tmp_path / "big"
    data.mkdir()
    (data / "small.txt").write_text("kept")
    with open(data / "huge.bin", "wb") as f:
        f.truncate(1 << 30)  # 1 GB (sparse): hashing and copying it takes a while
    proc = subprocess.Popen([*_script(workspace, _LOG_BIG), str(data)], env=_env(workspace),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        deadline = time.time() + 60
        blob_dir = blobs.blob_dir(_store(workspace))
        while time.time() < deadline and not list(blob_dir.glob("*/.tmp-*")):
            time.sleep(0.005)
        assert list(blob_dir.glob("*/.tmp-*")), "the big file was never being copied"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert _rows(workspace, "SELECT COUNT(*) FROM artifact_versions") == [(0,)]
    _all_blobs_whole(workspace)  # the partial copy is only under a temporary name
    with nbtrack.init(name="again") as run:
        (data / "huge.bin").write_bytes(b"now small")
        v = run.log_artifact(data, name="big")
    assert v.version == "v0"
    for f in v.files():
        assert blobs.path_of(_store(workspace), f["sha256"]).exists()


# -- retention -------------------------------------------------------------------------------

def _gc(workspace: Path, keep_last: int | None = None) -> dict[str, int]:
    db = access.open_writable(config.db_path(workspace))
    try:
        return collect_garbage(db, _store(workspace), keep_last=keep_last)
    finally:
        db.close()


def test_gc_reclaims_a_deleted_runs_outputs_and_keeps_what_is_held(
    workspace: Path, tmp_path: Path,
) -> None:
    def one(name: str, content: bytes) -> Path:
        return _folder(tmp_path / name, {"f.bin": content})

    with nbtrack.init(name="doomed") as doomed:
        doomed.log_artifact(one("a", b"only doomed made this"), name="orphan")
        doomed.log_artifact(one("b", b"a live run uses this"), name="used")
        doomed.log_artifact(one("c", b"an alias names this"), name="aliased",
                            aliases=["production"])
        doomed.log_artifact(one("d", b"shared v0"), name="shared")
    with nbtrack.init(name="survivor") as survivor:
        survivor.use_artifact("used:v0")
        survivor.log_artifact(one("e", b"shared v1"), name="shared")
    with access.writing(config.db_path(workspace)) as db:
        db.execute("UPDATE runs SET deleted = 1 WHERE number = ?", (doomed.number,))
    _age_blobs(workspace)
    result = _gc(workspace)
    assert result["artifact_versions"] == 2  # orphan:v0 and shared:v0
    names = {(n, v) for n, v in _rows(workspace, "SELECT a.name, v.number FROM artifact_versions"
                                                 " v JOIN artifacts a ON a.id = v.artifact")}
    assert names == {("used", 0), ("aliased", 0), ("shared", 1)}
    assert _rows(workspace, "SELECT name FROM artifacts WHERE name = 'orphan'") == []
    gone = {hashlib.sha256(b"only doomed made this").hexdigest(),
            hashlib.sha256(b"shared v0").hexdigest()}
    assert not gone & _blob_names(workspace)
    assert len(_blob_names(workspace)) == 3
    assert nbtrack.use_artifact("shared:latest").version == "v1"
    assert _rows(workspace, "SELECT DISTINCT run FROM artifact_edges") == [(survivor.number,)]
    nbtrack.use_artifact("used:v0").download(tmp_path / "check")


def test_gc_keep_last_keeps_the_newest_and_the_aliased(workspace: Path, tmp_path: Path) -> None:
    with nbtrack.init(name="checkpoints") as run:
        for i in range(6):
            run.log_artifact(_folder(tmp_path / f"c{i}", {"w.bin": f"epoch {i}".encode()}),
                             name="ckpt", type="model", aliases=["best"] if i == 1 else ())
    with nbtrack.init(name="evaluates-the-first") as user:
        user.use_artifact("ckpt:v0")
    _age_blobs(workspace)
    assert _gc(workspace, keep_last=2)["artifact_versions"] == 2
    left = _rows(workspace, "SELECT number FROM artifact_versions ORDER BY number")
    assert left == [(0,), (1,), (4,), (5,)]  # v0: a live run used it; v1: aliased
    assert len(_blob_names(workspace)) == 4
    assert nbtrack.use_artifact("ckpt:best").version == "v1"
    assert nbtrack.use_artifact("ckpt").version == "v5"


_KEEP_LOGGING = """
    import os, sys, nbtrack
    root = sys.argv[1]
    with nbtrack.init(name="busy") as run:
        for i in range(int(sys.argv[2])):
            folder = os.path.join(root, f"v{i}")
            os.makedirs(folder)
            for j in range(5):
                with open(os.path.join(folder, f"f{j}.bin"), "wb") as f:
                    # half the files repeat the deleted run's content (old blobs, reused)
                    f.write(b"old %d" % j if j % 2 else os.urandom(50_000))
            run.log_artifact(folder, name="busy")
    print("done", flush=True)
"""


def test_gc_while_another_process_logs_loses_nothing(workspace: Path, tmp_path: Path) -> None:
    old = _folder(tmp_path / "old", {f"f{j}.bin": b"old %d" % j for j in range(5)})
    with nbtrack.init(name="deleted") as run:
        run.log_artifact(old, name="old")
    with access.writing(config.db_path(workspace)) as db:
        db.execute("UPDATE runs SET deleted = 1 WHERE number = ?", (run.number,))
    _age_blobs(workspace)
    (tmp_path / "work").mkdir()
    proc = subprocess.Popen([*_script(workspace, _KEEP_LOGGING), str(tmp_path / "work"), "40"],
                            env=_env(workspace), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    reclaimed = 0
    while proc.poll() is None:
        reclaimed += _gc(workspace)["artifact_versions"]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip() == "done", err
    reclaimed += _gc(workspace)["artifact_versions"]
    assert reclaimed == 1
    versions = _rows(workspace, "SELECT v.number FROM artifact_versions v JOIN artifacts a"
                                " ON a.id = v.artifact WHERE a.name = 'busy'")
    assert len(versions) == 40
    for (number,) in versions:
        nbtrack.use_artifact(f"busy:v{number}").download(tmp_path / "check" / str(number))
    _all_blobs_whole(workspace)


# -- the command line ------------------------------------------------------------------------

def test_cli_list_show_get_rm(workspace: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    with nbtrack.init(name="prep") as run:
        run.log_artifact(_folder(tmp_path / "a", {"x.txt": b"one"}), name="ds",
                         aliases=["raw"], metadata={"rows": 3})
        run.log_artifact(_folder(tmp_path / "b", {"x.txt": b"two"}), name="ds")
        run.log_artifact(_folder(tmp_path / "m", {"w.bin": b"w"}), name="clf", type="model")

    def cli(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    table = cli("artifacts", "list")
    assert "ds" in table and "v1" in table and "latest" in table and "clf" in table
    listed = json.loads(cli("artifacts", "list", "--type", "model", "--json"))
    assert [(r["name"], r["version"], r["type"]) for r in listed] == [("clf", "v0", "model")]
    shown = json.loads(cli("artifacts", "show", "ds:raw", "--json"))
    assert shown["version"] == "v0" and shown["metadata"] == {"rows": 3}
    assert shown["aliases"] == ["raw"] and shown["files"][0]["path"] == "x.txt"
    assert [(e["direction"], e["run_id"]) for e in shown["edges"]] == [("out", run.id)]
    assert "made by run" in cli("artifacts", "show", "ds")
    out = tmp_path / "fetched"
    cli("artifacts", "get", "ds:raw", "-o", str(out))
    assert (out / "x.txt").read_bytes() == b"one"
    missing = runner.invoke(main, ["artifacts", "show", "nope:v0"])
    assert missing.exit_code == 1 and "no artifact named 'nope'" in missing.output
    bad = runner.invoke(main, ["artifacts", "show", "bad name"])
    assert bad.exit_code == 2
    cli("artifacts", "rm", "ds:v1", "--yes")
    assert nbtrack.use_artifact("ds:latest").version == "v0"
    assert "deleted run" in cli("gc")


def test_a_blob_collected_between_reuse_and_commit_is_put_back(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gc in another process may delete a reused blob after this process touched it and
    before its version commits; logging puts the bytes back."""
    from nbtrack.store import artifacts as store

    data = _folder(tmp_path / "d", {"a.bin": b"reused bytes", "b.bin": b"other"})
    blob = hashlib.sha256(b"reused bytes").hexdigest()
    real = store.write_version

    def collected_meanwhile(*args, **kwargs):  # what a concurrent gc's unlink does
        blobs.path_of(_store(workspace), blob).unlink()
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "write_version", collected_meanwhile)
    with nbtrack.init(name="r") as run:
        v = run.log_artifact(data, name="d")
    assert blobs.path_of(_store(workspace), blob).read_bytes() == b"reused bytes"
    v.download(tmp_path / "out")


def test_a_store_made_before_artifacts_gains_them(workspace: Path, tmp_path: Path) -> None:
    import sqlite3

    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from nbtrack.store import schema

    path = config.db_path(workspace)
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    old = Migrations(schema.MIGRATION_SET)
    for migration in schema.MIGRATIONS[:5]:  # up to m005_cell_resources
        old()(migration)
    old.apply(Database(conn))
    conn.close()
    (tmp_path / "f.txt").write_text("x")
    with nbtrack.init(name="new", system_metrics=False) as run:
        assert run.log_artifact(tmp_path / "f.txt", name="f").version == "v0"
    assert "m006_artifacts" in schema.applied(sqlite3.connect(path))
