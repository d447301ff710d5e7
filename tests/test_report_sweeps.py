"""The run report's Sweeps section: for a notebook whose runs are a sweep's trials, the sweep's
target, best config (as Python) and every trial, escaped; nothing for a notebook without one."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

import nbtrack
from nbtrack.report import export_report
from nbtrack.sweeps import storage

EVIL = "<script>alert(1)</script>"


def _notebook(workspace: Path, name: str) -> Path:
    path = workspace / name
    nbformat.write(nbformat.v4.new_notebook(), path)
    return path


def _trial_rows(section: str) -> list[list[str]]:
    body = re.search(r'<table class="grid sweep-trials">.*?<tbody>(.*?)</tbody>', section, re.S)
    assert body is not None
    return [[html.unescape(re.sub(r"<[^>]+>", "", td)) for td in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                             row)]
            for row in re.findall(r"<tr[^>]*data-trial=[^>]*>(.*?)</tr>", body.group(1))]


@pytest.fixture
def swept(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, nbtrack.Sweep]:
    """``search.ipynb``'s runs: five trials of sweep ``search``, the third failing."""
    notebook = _notebook(workspace, "search.ipynb")
    monkeypatch.setenv("NBTRACK_NOTEBOOK", str(notebook))
    calls = iter(range(100))

    def objective(config: dict[str, Any]) -> float:
        if next(calls) == 2:
            raise RuntimeError("boom")
        return (config["x"] - 0.3) ** 2 + (1.0 if config["opt"] == EVIL else 0.0)

    result = nbtrack.sweep(objective, {"x": nbtrack.uniform(0, 1),
                                       "opt": nbtrack.choice("adam", EVIL), "epochs": 2},
                           n_trials=5, method="random", seed=5, name="search", progress=False)
    monkeypatch.delenv("NBTRACK_NOTEBOOK")
    return notebook, result


def test_the_report_shows_the_sweep_its_trials_and_best_config(
        swept: tuple[Path, nbtrack.Sweep]) -> None:
    notebook, result = swept
    page = export_report(notebook).read_text()
    assert EVIL not in page  # every value escaped
    section = re.search(r'<section id="sweeps">(.*?)</section>', page, re.S)
    assert section is not None
    sweep = re.search(r'<article class="sweep" id="sweep-search">(.*?)</article>',
                      section.group(1), re.S)
    assert sweep is not None
    assert '<a href="#sweeps">Sweeps</a>' in page  # in the contents

    frame = result.trials
    rows = _trial_rows(sweep.group(1))
    assert [r[0] for r in rows] == ["0", "1", "2", "3", "4"]
    assert [r[1] for r in rows] == ["finished", "finished", "failed", "finished", "finished"]
    for row, (_, trial) in zip(rows, frame.iterrows()):
        assert row[3] == f"{trial['params.x']:.6g}" and row[4] == trial["params.opt"]
        assert row[-1] == f"#{trial['run']}"
        if trial["status"] == "finished":
            assert float(row[2]) == pytest.approx(trial["value"], rel=1e-5)
    assert rows[2][2] == "—"
    for number in frame["run"]:  # each trial's run links to its card in this report
        assert f'<a href="#run-{number}">#{number}</a>' in sweep.group(1)

    code = re.search(r'<pre class="sweep-config">(.*?)</pre>', sweep.group(1), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(html.unescape(code.group(1)), namespace)  # the shown code gives the best config back
    assert namespace["config"] == result.best_config and namespace["config"]["epochs"] == 2
    assert "parallel coordinates of sweep search" in sweep.group(1)
    assert f'class="sweep-best" data-trial="{result.best_trial.number}"' in page


def test_a_notebook_without_a_sweep_has_no_sweeps_section(workspace: Path) -> None:
    notebook = _notebook(workspace, "plain.ipynb")
    with nbtrack.init(name="plain", notebook="plain.ipynb") as run:
        run.log({"loss": 1.0})
    page = export_report(notebook).read_text()
    assert 'id="sweeps"' not in page


def test_a_sweep_that_cannot_be_read_is_named_with_the_reason(
        swept: tuple[Path, nbtrack.Sweep], workspace: Path) -> None:
    notebook, _ = swept
    storage.journal_path("search", workspace).unlink()
    page = export_report(notebook).read_text()
    note = re.search(r'<p class="note sweep-unreadable">(.*?)</p>', page, re.S)
    assert note is not None and "no sweep 'search'" in html.unescape(note.group(1))
    assert not storage.journal_path("search", workspace).exists()  # not made by reading
