"""``jupyter nbconvert --to nbtrack-report NOTEBOOK.ipynb``: the run report, via nbconvert.

Registered as the ``nbtrack-report`` entry point of ``nbconvert.exporters``. It renders the
same page as :func:`nbtrack.report.export_report`; the notebook's path (which selects its runs)
comes from nbconvert's ``resources["metadata"]``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nbconvert.exporters import Exporter
from traitlets import List, Unicode, default

from nbtrack.report.render import render_report


def notebook_path(resources: dict[str, Any] | None) -> Path | None:
    """The notebook file nbconvert is converting, from ``resources["metadata"]``."""
    meta = (resources or {}).get("metadata") or {}
    name = meta.get("name")
    if not name:
        return None
    folder = Path(meta.get("path") or os.getcwd())
    for candidate in (folder / f"{name}.ipynb", folder / str(name)):
        if candidate.is_file():
            return candidate
    return folder / f"{name}.ipynb"


class RunReportExporter(Exporter):
    """The notebook and its recorded runs as one self-contained HTML run report."""

    output_mimetype = "text/html"
    #: Offered in JupyterLab's File > Save and Export Notebook As menu.
    export_from_notebook = "Run report"

    runs = List(
        Unicode(), help="Run references to include instead of the notebook's own runs."
    ).tag(config=True)
    workspace = Unicode("", help="The nbtrack workspace (default: NBTRACK_DIR or the .nbtrack/ "
                        "folder above the notebook).").tag(config=True)

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".html"

    # nbconvert's Exporter types this as returning a notebook; its own text exporters
    # (TemplateExporter, HTMLExporter) return the text, as this one does, and ignore it too.
    def from_notebook_node(  # type: ignore[override]
        self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        output = render_report(
            nb_copy, notebook_path(resources), runs=list(self.runs) or None,
            workspace=self.workspace or None,
        )
        return output, resources
