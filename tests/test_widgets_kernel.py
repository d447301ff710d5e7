"""The live chart in a real Jupyter kernel: updates reach the front end while a cell runs."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

LOOP = """
import time, nbtrack
from nbtrack import widgets
run = nbtrack.init(name="live")
chart = widgets.live_chart(run)
display(chart)
for i in range(3000):
    run.log({"loss": 1.0 / (i + 1), "acc": i / 3000})
    if i % 100 == 99:
        time.sleep(0.05)  # a 1.5 s training loop
run.finish()
"""


VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def kernel(workspace: Path) -> Iterator[Any]:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(workspace))
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _is_live_chart(state: dict) -> bool:
    return bool(state.get("_anywidget_id", "").endswith(".LiveChart"))


def _views(messages: list[dict]) -> list[str]:
    """The widget model ids the cell's outputs show (display_data and execute_result)."""
    return [m["content"]["data"][VIEW]["model_id"] for m in messages
            if m["msg_type"] in ("display_data", "execute_result")
            and VIEW in m["content"]["data"]]


def _run(kc: Any, code: str) -> list[dict]:
    messages: list[dict] = []
    reply = kc.execute_interactive(code, timeout=120, output_hook=messages.append)
    errors = [m["content"] for m in messages if m["msg_type"] == "error"]
    assert reply["content"]["status"] == "ok", errors
    return messages


def test_a_training_loop_streams_its_curves_to_the_page_and_ends_finished(kernel: Any) -> None:
    messages = _run(kernel, LOOP)
    opened = {m["content"]["comm_id"]: m["content"]["data"]["state"] for m in messages
              if m["msg_type"] == "comm_open"}
    chart_id = next(cid for cid, state in opened.items() if _is_live_chart(state))
    updates = [m for m in messages if m["msg_type"] == "comm_msg"
               and m["content"]["comm_id"] == chart_id
               and m["content"]["data"].get("method") == "update"]
    with_points = [m for m in updates if "points" in m["content"]["data"]["state"]]
    counts = [m["content"]["data"]["state"]["points"] for m in with_points]
    # Updates arrived while the loop ran (sent by the follower thread, not only at finish),
    # far fewer than the 3,000 log() calls, and the last one holds every point.
    assert any(0 < c < 6000 for c in counts)
    assert len(updates) < 60
    assert counts == sorted(counts) and counts[-1] == 6000
    last = with_points[-1]
    state = {}
    for m in updates:
        state.update(m["content"]["data"]["state"])
    assert state["status"] == "finished"
    paths = [tuple(p) for p in last["content"]["data"]["buffer_paths"]]
    buffers = dict(zip(paths, last["buffers"]))
    steps = array("d", bytes(buffers[("series", "loss", "step")])).tolist()
    assert steps[0] == 0 and steps[-1] == 2999 and len(steps) <= 2000


def test_a_track_cell_shows_a_live_chart_that_ends_with_the_run(kernel: Any) -> None:
    _run(kernel, "%load_ext nbtrack")
    messages = _run(kernel, "%%track --no-system cell-run\nimport nbtrack\nfor i in range(200):\n"
                            "    nbtrack.log({'loss': 1 / (i + 1)})\n")
    opened = {m["content"]["comm_id"]: m["content"]["data"]["state"]
              for m in messages if m["msg_type"] == "comm_open"}
    chart_id = next(cid for cid, state in opened.items() if _is_live_chart(state))
    state: dict = {}
    for m in messages:
        if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == chart_id:
            state.update(m["content"]["data"].get("state", {}))
    assert state["status"] == "finished"
    assert state["points"] == 200  # (--no-system: no system/ samples among them)


def test_show_runs_shows_the_table_once_and_returns_it(kernel: Any) -> None:
    _run(kernel, "import nbtrack\nwith nbtrack.init(name='a'):\n    pass\n"
                 "with nbtrack.init(name='b'):\n    pass")
    # As the cell's last expression, the returned table is not displayed a second time.
    assert len(_views(_run(kernel, "nbtrack.show_runs()"))) == 1
    messages = _run(kernel, "table = nbtrack.show_runs(name='b')\n"
                            "table.selected = [table.runs[0]['id']]\n"
                            "print([r.name for r in table.selected_runs])")
    assert len(_views(messages)) == 1
    assert "['b']" in "".join(m["content"].get("text", "") for m in messages
                              if m["msg_type"] == "stream")
    # Shown again on purpose in a later cell: displayed again (the same table, a second view).
    assert _views(_run(kernel, "table")) == _views(messages)
