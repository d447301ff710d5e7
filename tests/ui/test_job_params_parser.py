"""The lab's parameters-cell parser (labextension/src/jobs/params.ts), run by Node on the
built extension, against Python's own reading of the same cells (``ast.literal_eval``)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.ui

BUILT = Path(__file__).resolve().parents[2] / "labextension" / "lib" / "jobs" / "params.js"

CELL = '''\
lr = 0.1  # learning rate
epochs = 2
opt: str = "a#b\\n"
layers = [1, 2,
          3]  # over two lines
pair = (1, 'x')
one = (1,)
grouped = (1)
flag = True
nothing = None
neg = -1e-3
big_int = 1_000_000
raw = r"c:\\x"
joined = 'a' "b"
unicode = '\\u00e9t\\xe9'
expr = np.arange(3)
a = b = 3
huge = 12345678901234567890
import os
if flag:
    inside = 1
lr = 0.2
'''


def _run_node(script: str) -> Any:
    node = shutil.which("node")
    if node is None or not BUILT.exists():
        pytest.fail("needs node and the built extension (`npm ci && npm run build`)")
    return json.loads(subprocess.run([node, "--input-type=module", "-e", script], check=True,
                                     capture_output=True, text=True).stdout)


def _parse(tmp_path: Path, cell: str, edited: dict[str, str]) -> Any:
    module = tmp_path / "params.mjs"  # the built file is an ES module in a CommonJS package
    module.write_text(BUILT.read_text())
    return _run_node(
        f"import * as m from {json.dumps(module.as_uri())};"
        f"const ps = m.parseParameters({json.dumps(cell)});"
        f"console.log(JSON.stringify({{ps, changed: m.changedParams(ps, {json.dumps(edited)})}}));")


def _python(value: Any) -> Any:
    """A literal as JSON carries it: tuples become lists."""
    if isinstance(value, (list, tuple)):
        return [_python(v) for v in value]
    return value


def test_the_parser_reads_literals_as_python_does_and_leaves_the_rest_as_source(
    tmp_path: Path
) -> None:
    edited = {"lr": "0.5", "epochs": "2", "expr": "adam", "flag": "False", "layers": "[1, 2",
              "opt": '"a#b\\n"', "nothing": "'None'", "pair": "(2, 'y')"}
    out = _parse(tmp_path, CELL, edited)
    found = {p["name"]: p for p in out["ps"]}
    assert list(found) == ["lr", "epochs", "opt", "layers", "pair", "one", "grouped", "flag",
                           "nothing", "neg", "big_int", "raw", "joined", "unicode", "expr",
                           "huge"]
    for name, p in found.items():
        if name in ("expr", "huge"):  # not a literal / not exact in JSON: the notebook's own
            assert "value" not in p, p
            continue
        assert p["value"] == _python(ast.literal_eval(p["source"])), name
    assert found["lr"]["source"] == "0.2"  # the last assignment wins
    assert found["layers"]["source"] == "[1, 2,\n          3]"
    assert found["expr"]["source"] == "np.arange(3)"
    # Only edited fields are sent; plain text is a string; a broken literal is an error.
    assert out["changed"] == {
        "params": {"lr": 0.5, "expr": "adam", "flag": False, "nothing": "None",
                   "pair": [2, "y"]},
        "errors": {"layers": "not a Python literal"},
    }
