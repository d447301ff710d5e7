"""``POST nbtrack/api/report`` on a real Jupyter server with token auth."""

from __future__ import annotations

from pathlib import Path

import nbformat

import nbtrack


def test_exporting_a_report_from_the_server_writes_it_next_to_the_notebook(
    workspace: Path, jupyter_server
) -> None:
    folder = workspace / "experiments"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]),
                   folder / "train.ipynb")
    with nbtrack.init(name="from-server", notebook="experiments/train.ipynb") as run:
        run.log({"loss": 0.5})

    status, body = jupyter_server.request("POST", "report",
                                          body={"path": "experiments/train.ipynb"}, token=None)
    assert status == 403  # behind Jupyter's auth
    assert not (folder / "train.report.html").exists()

    status, body = jupyter_server.request("POST", "report",
                                          body={"path": "experiments/train.ipynb"})
    assert status == 200, body
    assert body == {"path": "experiments/train.report.html"}
    html = (folder / "train.report.html").read_text()
    assert 'id="run-1"' in html and "from-server" in html

    status, body = jupyter_server.request("POST", "report", body={
        "path": "experiments/train.ipynb", "runs": ["nope"]})
    assert status == 404 and "nope" in body["error"]


def test_the_report_route_refuses_paths_outside_the_root_hidden_ones_and_non_notebooks(
    workspace: Path, jupyter_server
) -> None:
    outside = workspace.parent / "outside.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), outside)
    (workspace / "notes.txt").write_text("not a notebook")
    (workspace / ".secret").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), workspace / ".secret" / "nb.ipynb")
    cases = [
        ({"path": ".secret/nb.ipynb"}, 404),  # hidden, as the contents manager hides it
        ({"path": "../outside.ipynb"}, 400),
        ({"path": str(outside)}, 404),  # absolute paths are taken relative to the root
        ({"path": "notes.txt"}, 400),
        ({"path": "missing.ipynb"}, 404),
        ({}, 400),
        ({"path": "x.ipynb", "runs": "1"}, 400),
    ]
    for body, expected in cases:
        status, answer = jupyter_server.request("POST", "report", body=body)
        assert status == expected, (body, answer)
        assert answer["status"] == expected and answer["error"]
    status, answer = jupyter_server.request("POST", "report", raw_body=b"{not json")
    assert status == 400
    assert not (workspace.parent / "outside.report.html").exists()
    assert not (workspace / ".secret" / "nb.report.html").exists()

