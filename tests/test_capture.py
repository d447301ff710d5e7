"""What a cell did to the namespace, scalar params and the environment (nbtrack.capture)."""

from __future__ import annotations

import ast
import collections
import importlib.util
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nbtrack import capture, source_scan
from nbtrack.capture import (
    ConfigNames,
    NamespaceWatcher,
    describe,
    environment,
    is_secret,
    scalar_params,
)

REPO = Path(__file__).resolve().parents[1]


def run_cell(
    watcher: NamespaceWatcher, ns: dict[str, Any], source: str, code: str | None = None
) -> list[dict[str, Any]]:
    """Run ``source`` (or ``code``, for sources with magics) between before() and after()."""
    watcher.before(ns, source)
    exec(code if code is not None else source, ns)  # noqa: S102 - the user's cell
    ns.pop("__builtins__", None)
    return list(watcher.after(ns))


def changes(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["name"], r["change"]) for r in records]


@pytest.fixture
def ns() -> dict[str, Any]:
    """A notebook-like namespace: IPython's own names beside the user's."""
    return {
        "In": [""], "Out": {}, "_": None, "_i": "", "_i1": "", "get_ipython": lambda: None,
        "exit": None, "quit": None, "np": np, "pd": pd,
    }


# -- added, changed, deleted --------------------------------------------------------------------


def test_assigning_new_variables_reports_them_as_added(ns) -> None:
    records = run_cell(NamespaceWatcher(), ns, "xs = [1, 2, 3]\ny = 2.5")
    assert changes(records) == [("xs", "added"), ("y", "added")]
    by_name = {r["name"]: r for r in records}
    assert by_name["xs"]["length"] == 3 and by_name["xs"]["type"] == "list"
    assert by_name["y"]["value"] == 2.5 and by_name["y"]["repr"] == "2.5"
    assert set(by_name["y"]) == set(capture.VariableChange.__annotations__)


def test_rebinding_a_variable_reports_it_as_changed(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "model = 'linear'")
    assert changes(run_cell(watcher, ns, "model = 'tree'")) == [("model", "changed")]


def test_del_reports_the_variable_as_deleted_with_its_type(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "y = 2.5\nz = 1")
    records = run_cell(watcher, ns, "del y")
    assert changes(records) == [("y", "deleted")]
    assert records[0]["type"] == "float" and records[0]["value"] is None


def test_a_function_rebinding_a_global_is_caught_without_the_name_in_the_cell(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "def train():\n    global best\n    best = object()\nbest = None")
    assert changes(run_cell(watcher, ns, "train()")) == [("best", "changed")]


def test_among_a_thousand_names_a_function_rebinding_globals_is_caught(ns) -> None:
    """Above max_names only some ids are compared: the globals that the notebook's functions
    the cell calls (directly or through the functions they call) rebind or delete."""
    for i in range(1000):
        ns[f"v{i}"] = [i, i * 0.5, [i], np.full(2, i)][i % 4]
    watcher = NamespaceWatcher()
    assert watcher.max_names < 1000
    run_cell(watcher, ns, (
        "import json\n"
        "def reset():\n    global best, v7\n    best = object()\n    del v7\n"
        "def train():\n    reset()\n    return json.dumps([])\n"
        "best = None"
    ))
    assert changes(run_cell(watcher, ns, "out = train()")) == [
        ("best", "changed"), ("out", "added"), ("v7", "deleted")]
    assert changes(run_cell(watcher, ns, "y = 1")) == [("y", "added")]


def test_appending_to_a_list_in_place_is_a_change(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "losses = [0.9]")
    records = run_cell(watcher, ns, "losses.append(0.5)")
    assert [(r["name"], r["change"], r["length"]) for r in records] == [("losses", "changed", 2)]


def test_numpy_in_place_arithmetic_and_item_assignment_are_changes(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "arr = np.zeros((4, 2))")
    same_array = ns["arr"]
    assert changes(run_cell(watcher, ns, "arr += 1")) == [("arr", "changed")]
    assert changes(run_cell(watcher, ns, "arr[0, 0] = 5")) == [("arr", "changed")]
    assert ns["arr"] is same_array  # the same object all along: found by the source's syntax


def test_pandas_new_column_and_inplace_methods_are_changes(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "df = pd.DataFrame({'a': [1.0, None]})")
    records = run_cell(watcher, ns, "df['b'] = 2")
    assert changes(records) == [("df", "changed")] and records[0]["shape"] == "(2, 2)"
    assert changes(run_cell(watcher, ns, "df.fillna(0, inplace=True)")) == [("df", "changed")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("del newest\nnewest = 2", [("newest", "changed")]),
        ("del older\nfresh = 1", [("fresh", "added"), ("older", "deleted")]),
        ("del newest\nfresh = 1\nnewest = 3", [("fresh", "added"), ("newest", "changed")]),
        ("del older, newest\nnewest = 3", [("newest", "changed"), ("older", "deleted")]),
        ("tmp = 1\ndel tmp", []),
        ("del _private\nfresh = 1", [("fresh", "added")]),
    ],
)
def test_deleting_and_adding_in_one_cell_is_reported_exactly(
    ns, source: str, expected: list[tuple[str, str]]
) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "older = 0\n_private = 0\nnewest = 1")
    assert changes(run_cell(watcher, ns, source)) == expected


def test_a_namespace_that_is_not_a_dict_is_watched_too() -> None:
    ns = collections.UserDict({"a": 1, "b": [1]})
    watcher = NamespaceWatcher()
    watcher.before(ns, "b.append(2)")
    ns["b"].append(2)
    ns["c"] = 3
    del ns["a"]
    assert changes(watcher.after(ns)) == [("a", "deleted"), ("b", "changed"), ("c", "added")]


def test_fitting_a_model_in_place_is_a_change(ns) -> None:
    class Model:
        def fit(self, xs: list[float]) -> Model:
            self.coef_ = sum(xs)
            return self

    watcher = NamespaceWatcher()
    ns["Model"] = Model
    run_cell(watcher, ns, "model = Model()")
    assert changes(run_cell(watcher, ns, "model.fit([1, 2])")) == [("model", "changed")]
    # Refit: same attributes as before, but a known mutating method was called.
    assert changes(run_cell(watcher, ns, "model.fit([3])")) == [("model", "changed")]


def test_reading_variables_reports_nothing(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "xs = [3, 1, 2]\narr = np.arange(3)\nd = {'a': 1}")
    assert run_cell(watcher, ns, "print(len(xs), sorted(xs), np.sort(arr), d['a'])") == []


def test_untouched_variables_among_a_thousand_are_not_reported(ns) -> None:
    for i in range(1000):
        ns[f"v{i}"] = [i, i * 0.5, [i], np.full(2, i)][i % 4]
    watcher = NamespaceWatcher()
    for value in range(3):
        assert changes(run_cell(watcher, ns, f"x = {value}")) == [
            ("x", "added" if value == 0 else "changed")
        ]


def test_rerunning_the_same_constant_assignment_is_not_a_change(ns) -> None:
    watcher = NamespaceWatcher()
    assert changes(run_cell(watcher, ns, "lr = 0.001")) == [("lr", "added")]
    assert run_cell(watcher, ns, "lr = 0.001") == []
    assert changes(run_cell(watcher, ns, "lr = 0.01")) == [("lr", "changed")]


def test_private_hidden_and_ipython_names_are_never_reported(ns) -> None:
    watcher = NamespaceWatcher(hidden={"helper"})
    source = "_tmp = 1\nhelper = 2\nIn.append('x')\nOut[1] = 3\n_i2 = 'x'\nkept = 4"
    assert changes(run_cell(watcher, ns, source)) == [("kept", "added")]


def test_at_most_max_changes_are_described_first_by_name(ns) -> None:
    watcher = NamespaceWatcher(max_changes=5)
    records = run_cell(watcher, ns, "\n".join(f"v{i:03d} = {i}" for i in range(100)))
    assert [r["name"] for r in records] == ["v000", "v001", "v002", "v003", "v004"]


def test_cells_with_magics_and_shell_escapes_are_still_understood(ns) -> None:
    watcher = NamespaceWatcher()
    run_cell(watcher, ns, "arr = np.zeros(3)\nlst = []")
    source = "%matplotlib inline\n%time arr += 1\nfiles = !ls\nlst.append(1)"
    records = run_cell(watcher, ns, source, code="arr += 1\nfiles = ['a']\nlst.append(1)")
    assert changes(records) == [("arr", "changed"), ("files", "added"), ("lst", "changed")]
    cell_magic = "%%time\narr[0] = 7"
    assert changes(run_cell(watcher, ns, cell_magic, code="arr[0] = 7")) == [("arr", "changed")]


def test_a_cell_with_an_invalid_escape_warns_only_once_not_again_from_nbtrack(ns) -> None:
    watcher = NamespaceWatcher()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watcher.before(ns, 'import re\npattern = re.compile("\\d+")')
    assert caught == [] and watcher.after(ns) == []


def test_a_ten_thousand_name_namespace_still_reports_what_the_cell_did(ns) -> None:
    for i in range(10_000):
        ns[f"v{i}"] = i
    ns["lst"] = []
    watcher = NamespaceWatcher(max_names=5000)
    run_cell(watcher, ns, "x = 1")
    started = time.perf_counter()
    records = run_cell(watcher, ns, "x = 2\nlst.append(1)\nnew = 3\ndel v5")
    elapsed = time.perf_counter() - started
    assert changes(records) == [("lst", "changed"), ("new", "added"), ("v5", "deleted"),
                                ("x", "changed")]
    assert elapsed < 0.5  # bounded: no per-name Python work (typically well under 1 ms)


def test_after_without_before_or_on_a_broken_namespace_returns_nothing(ns) -> None:
    class Exploding(Mapping):
        def __getitem__(self, key: str) -> object:
            raise RuntimeError("boom")

        def __iter__(self) -> Iterator[str]:
            raise RuntimeError("boom")

        def __len__(self) -> int:
            return 1

    watcher = NamespaceWatcher()
    assert watcher.after(ns) == []
    watcher.before(Exploding(), "x = 1")
    assert watcher.after(Exploding()) == []
    run_cell(watcher, ns, "x = 1")  # still works afterwards
    assert changes(run_cell(watcher, ns, "x = 2")) == [("x", "changed")]


def test_in_a_real_ipython_shell_only_the_users_variables_are_reported() -> None:
    globalipapp = pytest.importorskip("IPython.testing.globalipapp")
    globalipapp.start_ipython()  # the process-wide test shell (a no-op once started)
    shell = globalipapp.get_ipython()
    watcher = NamespaceWatcher(hidden=shell.user_ns_hidden)
    seen: list[list[tuple[str, str]]] = []

    def pre(info: Any) -> None:
        watcher.before(shell.user_ns, info.raw_cell)

    def post(result: Any) -> None:
        seen.append(changes(watcher.after(shell.user_ns)))

    shell.events.register("pre_run_cell", pre)
    shell.events.register("post_run_cell", post)
    try:
        for source in ("cap_xs = [1, 2]", "cap_xs.append(3)\ncap_xs", "%time cap_y = 1",
                       "del cap_y", "len(cap_xs)"):
            shell.run_cell(source, store_history=True)
    finally:
        shell.events.unregister("pre_run_cell", pre)
        shell.events.unregister("post_run_cell", post)
        for name in ("cap_xs", "cap_y"):
            shell.user_ns.pop(name, None)
    assert seen == [[("cap_xs", "added")], [("cap_xs", "changed")], [("cap_y", "added")],
                    [("cap_y", "deleted")], []]


# -- describe() -------------------------------------------------------------------------------


def test_describing_a_numpy_array_gives_shape_dtype_and_a_short_summary() -> None:
    record = describe("X", np.random.rand(1000, 1000), "added")
    assert record["type"] == "numpy.ndarray"
    assert (record["shape"], record["dtype"], record["length"]) == ("(1000, 1000)", "float64", None)
    assert record["repr"].startswith("array([[") and len(record["repr"]) <= 200
    assert record["value"] is None


def test_describing_a_big_dataframe_is_cheap_and_names_its_columns() -> None:
    frame = pd.DataFrame(np.random.rand(100_000, 3), columns=["a", "b", "c"])
    started = time.perf_counter()
    record = describe("df", frame, "added")
    assert time.perf_counter() - started < 0.1
    assert (record["type"], record["shape"], record["dtype"]) == ("pandas.DataFrame", "(100000, 3)",
                                                                  None)
    assert "100000 rows" in record["repr"] and "'a', 'b', 'c'" in record["repr"]


@pytest.mark.parametrize(
    "value",
    [list(range(2_000_000)), dict.fromkeys(range(1_000_000)), set(range(1_000_000)),
     collections.Counter(range(500_000)), "x" * 10_000_000, [[list(range(10**5))]]],
    ids=["list", "dict", "set", "Counter", "str", "nested"],
)
def test_describing_a_huge_container_never_builds_a_huge_string(value: Any) -> None:
    started = time.perf_counter()
    record = describe("big", value, "added")
    assert time.perf_counter() - started < 0.05  # a full repr takes far longer
    assert len(record["repr"]) <= 200 and "..." in record["repr"]
    assert record["length"] == len(value) and record["value"] is None


def test_an_object_whose_repr_raises_is_unrepresentable_not_an_error() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    record = describe("b", Broken(), "added")
    assert record["type"].endswith(".Broken")  # test_capture.Broken
    assert record["repr"] == f"<unrepresentable {record['type']}>"
    assert describe("bs", [1, Broken()], "added")["repr"] == "[1, <unrepresentable Broken>]"


def test_an_object_with_hostile_properties_still_gets_a_record() -> None:
    class Hostile:
        @property
        def shape(self) -> tuple[int, ...]:
            raise RuntimeError("shape")

        @property
        def dtype(self) -> str:
            raise RuntimeError("dtype")

        def __repr__(self) -> str:
            return "Hostile()"

    record = describe("h", Hostile(), "changed")
    assert (record["shape"], record["dtype"], record["repr"]) == (None, None, "Hostile()")


def test_scalars_carry_their_value_and_numpy_scalars_become_python_ones() -> None:
    assert describe("n", np.float32(1.5), "added")["value"] == 1.5
    assert type(describe("n", np.int64(3), "added")["value"]) is int
    assert describe("b", np.bool_(True), "added")["value"] is True
    assert describe("s", "short", "added")["value"] == "short"
    assert describe("s", "x" * 201, "added")["value"] is None
    assert describe("big", 10**30, "added")["value"] is None  # not a 64-bit int
    assert describe("n", None, "added")["value"] is None


def test_secret_looking_variables_are_redacted(ns) -> None:
    records = run_cell(NamespaceWatcher(), ns, "api_key = 'abc'\nDB_PASSWORD = 'hunter2'")
    assert [(r["name"], r["repr"], r["value"]) for r in records] == [
        ("DB_PASSWORD", "<redacted>", None), ("api_key", "<redacted>", None)]
    assert all(r["type"] == "str" and r["length"] is None for r in records)


@pytest.mark.parametrize(
    ("name", "secret"),
    [("api_key", True), ("OPENAI_API_KEY", True), ("apiKey", True), ("hf_token", True),
     ("GITHUB_TOKEN", True), ("access_token", True), ("db_password", True), ("passwd", True),
     ("client_secret", True), ("aws_credentials", True), ("ssh_private_key", True),
     ("privateKey", True), ("session_token", True), ("adminToken", True),
     ("token_permissions", True), ("tokenizer", False), ("max_tokens", False),
     ("max_new_tokens", False), ("num_tokens", False), ("tokens_per_second", False),
     ("lr", False), ("keys", False), ("passes", False)],
)
def test_which_names_look_secret(name: str, secret: bool) -> None:
    assert is_secret(name) is secret


# -- scalar_params() ----------------------------------------------------------------------------


def test_scalar_params_keeps_the_users_plain_scalars_only() -> None:
    import math

    ns = {
        "lr": 0.01, "epochs": 10, "shuffle": True, "optimizer": "adam", "seed": np.int64(7),
        "momentum": np.float32(0.5), "notes": "x" * 201, "data": [1, 2], "math": math,
        "train": print, "Model": dict, "_hidden_lr": 0.1, "secret_lr": 0.2, "hf_token": "t",
        "max_tokens": 256, "In": 1, "Out": 2, "exit": 3, "quit": 4, "get_ipython": 5,
        "user_helper": 6, "huge": 2**70, "when": np.datetime64("2024-01-01"),
    }
    params = scalar_params(ns, hidden={"user_helper"})
    assert params == {"lr": 0.01, "epochs": 10, "shuffle": True, "optimizer": "adam",
                      "seed": 7, "momentum": 0.5, "max_tokens": 256}
    assert type(params["seed"]) is int and type(params["momentum"]) is float


def test_scalar_params_keeps_only_the_names_given() -> None:
    ns = {"lr": 0.01, "i": 299, "acc": 0.93}
    assert scalar_params(ns, names={"lr", "missing"}) == {"lr": 0.01}


# -- which names are settings (source_scan, ConfigNames) ----------------------------------------


@pytest.mark.parametrize(
    ("source", "config", "bound"),
    [
        ("lr = 0.01", {"lr"}, set()),
        ("epochs = 3 * 10\nwarmup = -(2 ** 4)", {"epochs", "warmup"}, set()),
        ("name = 'resnet'\nuse_bn = True\nlr: float = 1e-3", {"name", "use_bn", "lr"}, set()),
        ("a, b = 1, 2\n[c, d] = ['x', 2.5]\ne = f = 0", {"a", "b", "c", "d", "e", "f"}, set()),
        ("a, b = 1, compute()", {"a"}, {"b"}),
        ("pair = (1, 2)\nnothing = None\nlabel = f'{x}'", set(), {"pair", "nothing", "label"}),
        ("for i in range(300):\n    pass", set(), {"i"}),
        ("acc = model.score(X, y)", set(), {"acc"}),
        ("squares = [x * x for x in range(9)]", set(), {"squares"}),
        ("with open(path) as f:\n    text = f.read()", set(), {"f", "text"}),
        ("lr = 0.1\nfor lr in grid:\n    pass", set(), {"lr"}),
        ("if fast:\n    epochs = 1", set(), {"epochs"}),
        ("count = 0\ncount += 1", set(), {"count"}),
        ("import numpy as np\nfrom os import path\nimport a.b", set(), {"np", "path", "a"}),
        ("def train(lr):\n    step = 1\n    return lr\nclass Net:\n    depth = 3",
         set(), {"train", "Net"}),
        ("def bump():\n    global epochs\n    epochs = epochs + 1", set(), {"bump", "epochs"}),
        ("best = max(k for k in ks)\nn = [m := 1 for _ in ks]", set(), {"best", "n", "m"}),
        ("try:\n    pass\nexcept ValueError as err:\n    pass", set(), {"err"}),
        ("lr = 0.01\n%time x = f()\n!ls", {"lr"}, {"x"}),
        ("%%track run --no-plot\nlr = 0.05\nmodel = fit(lr)", {"lr"}, {"model"}),
        ("%%bash\nfor i in 1 2; do echo $i; done", set(), set()),
    ],
)
def test_scan_tells_settings_from_other_bindings(source: str, config: set, bound: set) -> None:
    found = source_scan.scan(source)
    assert (set(found.config), set(found.bound)) == (config, bound)


def test_config_names_follow_the_cell_that_last_bound_each_name() -> None:
    names = ConfigNames()
    for source in ("lr = 0.01\ni = 0\nseed = 1", "for i in range(3):\n    pass", "lr = 0.02"):
        names.cell(source)
    assert names.names == {"lr", "seed"}
    names.cell("reseed()")
    names.forget(["seed"])  # changed by a function: not a literal setting any more
    names.cell("lr = 0.03")
    names.forget(["lr"])  # changed, but by its own literal assignment
    assert names.names == {"lr"}
    names.cell("i = 5")
    assert "i" in names and "seed" not in names


def test_redacted_hides_values_of_secret_looking_names() -> None:
    assert capture.redacted("hf_token", "hf_abc") == capture.REDACTED == "<redacted>"
    assert capture.redacted("max_tokens", 256) == 256


# -- environment() ------------------------------------------------------------------------------

ENV_KEYS = {"python", "python_version", "executable", "platform", "host", "user", "pid", "cwd",
            "cpu_count", "memory_bytes", "gpu", "packages", "git"}
GIT_KEYS = {"commit", "branch", "remote", "dirty", "diff"}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=cwd, env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


def test_environment_inside_this_repository_describes_python_machine_and_git() -> None:
    env = environment(REPO)
    assert set(env) == ENV_KEYS
    assert env["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert env["executable"] == sys.executable and env["pid"] == os.getpid()
    assert env["cwd"] == str(REPO) and env["cpu_count"] == os.cpu_count()
    assert env["memory_bytes"] is None or env["memory_bytes"] > 0
    assert isinstance(env["gpu"], list)
    assert env["packages"].get("numpy") == np.__version__
    assert set(env["git"]) == GIT_KEYS and isinstance(env["git"]["dirty"], bool)


def test_environment_records_commit_branch_clean_remote_and_the_uncommitted_diff(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "trunk")
    (repo / "train.py").write_text("lr = 0.1\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "remote", "add", "origin", "https://alice:s3cret@example.com/lab/project.git")
    clean = environment(repo)["git"]
    assert clean["commit"] == git(repo, "rev-parse", "HEAD") and clean["branch"] == "trunk"
    assert clean["remote"] == "https://example.com/lab/project.git"
    assert (clean["dirty"], clean["diff"]) == (False, "")

    (repo / "train.py").write_text("lr = 0.01\n")
    dirty = environment(repo)["git"]
    assert dirty["dirty"] is True
    assert "-lr = 0.1" in dirty["diff"] and "+lr = 0.01" in dirty["diff"]


def test_environment_cuts_a_huge_diff_at_one_megabyte(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "data.csv").write_text("")
    git(repo, "add", "data.csv")
    git(repo, "commit", "-q", "-m", "empty")
    (repo / "data.csv").write_text("0123456789abcdef\n" * 200_000)  # a 3.4 MB diff
    diff = environment(repo)["git"]["diff"]
    assert 1_000_000 <= len(diff.encode()) <= capture.MAX_DIFF_BYTES


def test_environment_outside_any_repository_has_no_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    env = environment(tmp_path)
    assert set(env) == ENV_KEYS and env["git"] is None and env["cwd"] == str(tmp_path)


def test_environment_without_git_or_nvidia_smi_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no binaries at all
    env = environment(REPO)
    assert env["git"] is None and env["gpu"] == []


# -- the import rule --------------------------------------------------------------------------


def _module_file(root: Path, module: str) -> Path | None:
    """The source file of ``module`` (dotted, its first part the package folder in ``root``)."""
    path = root.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(root: Path, path: Path, module: str) -> set[str]:
    """The modules a module's source imports, relative imports resolved against its package:
    ``from .foo import y`` imports ``foo``; ``from . import x`` imports the module ``x``, or,
    if there is no such module, the package itself (``x`` is then a name its __init__ sets)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            submodules = {f"{base}.{alias.name}" for alias in node.names}
            submodules = {name for name in submodules if _module_file(root, name)}
            if node.module is None and len(submodules) == len(node.names):
                found.update(submodules)  # from . import a, b: only modules
            else:
                found.update({base, *submodules})
    return found


def non_stdlib_imports(root: Path, modules: list[str]) -> set[str]:
    """Everything outside the standard library that ``modules`` import, following the
    imports of their own package (``root``'s folders) to the modules those name."""
    package = modules[0].partition(".")[0]
    seen: set[str] = set()
    todo, outside = list(modules), set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(root, module)
        assert path is not None, module
        for name in _imports(root, path, module):
            top = name.partition(".")[0]
            if top == package:
                if _module_file(root, name) is not None:
                    todo.append(name)
                else:
                    outside.add(name)  # no such module
            elif top not in sys.stdlib_module_names and top != "__future__":
                outside.add(name)
    return outside


def test_capture_imports_only_the_standard_library() -> None:
    """Capture runs around every cell: it and what it imports of nbtrack use the stdlib only."""
    root = Path(capture.__file__).parents[1]
    modules = ["nbtrack.capture", "nbtrack.environment", "nbtrack.source_scan"]
    assert non_stdlib_imports(root, modules) == set()


def test_the_import_rule_follows_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import pandas\n")
    (pkg / "core.py").write_text("from . import helper\nfrom .sub.deep import y\nimport os\n")
    (pkg / "helper.py").write_text("import numpy as np\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("from .. import tool\nfrom ..helper import np\n")
    (pkg / "tool.py").write_text("from .missing import z\nimport json\n")
    assert non_stdlib_imports(tmp_path, ["pkg.core"]) == {"numpy", "pkg.missing"}
    (pkg / "plain.py").write_text("from . import not_a_module\n")  # a name from pkg/__init__
    assert non_stdlib_imports(tmp_path, ["pkg.plain"]) == {"pandas"}
