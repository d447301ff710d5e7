"""Export a notebook and its runs to one self-contained HTML run report.

Three ways in, one implementation (:func:`render_report`): :func:`export_report` (used by
``nbtrack report`` and ``%track report``), the nbconvert exporter :class:`RunReportExporter`
(``jupyter nbconvert --to nbtrack-report``) and the server's ``POST nbtrack/api/report``.

>>> nbtrack.report.export_report("train.ipynb")  # doctest: +SKIP
PosixPath('/work/train.report.html')
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import config
from nbtrack.report.assets import BundleMissingError, ReportError
from nbtrack.report.render import render_report

if TYPE_CHECKING:  # pragma: no cover
    from nbtrack.report.exporter import RunReportExporter

__all__ = [
    "BundleMissingError",
    "ReportError",
    "RunReportExporter",
    "default_output",
    "export_report",
    "render_report",
    "write_html",
]

#: What is appended to the notebook's stem for the default output file.
SUFFIX = ".report.html"


def default_output(notebook: str | os.PathLike[str]) -> Path:
    """Where a report is written by default: next to the notebook, ``<stem>.report.html``."""
    path = Path(notebook)
    return path.with_name(path.stem + SUFFIX)


def resolve_notebook(
    notebook: str | os.PathLike[str], workspace: str | os.PathLike[str] | None = None
) -> Path:
    """The notebook file: as given (relative to the working folder), else in the workspace.

    Raises :class:`FileNotFoundError` when it is in neither.
    """
    path = Path(notebook).expanduser()
    if path.is_absolute() or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"no notebook at {path}")
        return path.resolve()
    ws = Path(workspace).expanduser() if workspace else config.workspace_dir()
    if (ws / path).is_file():
        return (ws / path).resolve()
    raise FileNotFoundError(f"no notebook at {path} (nor in the workspace {ws})")


def read_notebook(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The notebook at ``path`` as nbformat 4 JSON.

    Version 4 files are read as plain JSON (importing ``nbformat`` can cost seconds: its
    validator pulls in jsonschema); older ones are upgraded through nbformat.
    """
    with open(path, encoding="utf-8") as handle:
        nb = json.load(handle)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", []), list):
        raise ReportError(f"{path} is not a Jupyter notebook")
    if nb.get("nbformat") != 4:
        import nbformat

        upgraded = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]  # untyped
        return dict(upgraded)
    return nb


def export_report(
    notebook: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    runs: Sequence[str | int] | None = None,
    workspace: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the run report of ``notebook`` and return the path of the HTML file.

    Parameters
    ----------
    notebook : the ``.ipynb`` file (relative to the working folder or the workspace).
    out : the HTML file to write (default: ``<notebook stem>.report.html`` next to it).
    runs : run references (numbers, ids or names) to include; default: every run recorded
        from this notebook.
    workspace : the nbtrack workspace (default: ``$NBTRACK_DIR`` or the nearest folder with a
        ``.nbtrack/`` above the notebook).

    Raises ``FileNotFoundError`` for a missing notebook, :class:`nbtrack.RunNotFound` for an
    unknown run and :class:`BundleMissingError` when the offline Vega bundle was never built.
    """
    path = resolve_notebook(notebook, workspace)
    nb = read_notebook(path)
    html = render_report(nb, path, runs=runs, workspace=workspace)
    target = Path(out).expanduser() if out is not None else default_output(path)
    if target.is_dir():
        target = target / default_output(path).name
    return write_html(target, html)


def write_html(target: Path, html: str) -> Path:
    """Write ``html`` to ``target`` atomically (a reader never sees half a report); return
    the resolved path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a reader never sees half a report.
    fd, tmp = tempfile.mkstemp(prefix=".nbtrack-report-", suffix=".html", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target.resolve()


def __getattr__(name: str) -> Any:
    # nbconvert is imported only when the exporter is asked for (the entry point does that).
    if name == "RunReportExporter":
        from nbtrack.report.exporter import RunReportExporter

        return RunReportExporter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
