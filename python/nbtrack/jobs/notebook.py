"""The notebook a job executes: read it, check its kernel, and inject the run's start and
its parameters (papermill's conventions: an ``injected-parameters`` cell after the cell
tagged ``parameters``, or at the top when there is none)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack.source_scan import scan

#: Tags of the cells a job adds to the notebook it executes.
PROLOGUE_TAG = "nbtrack-prologue"
INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"


class JobInputError(ValueError):
    """The notebook or its kernel cannot be used (missing, not a notebook, no such kernel)."""


@dataclass
class Prepared:
    """A notebook ready to execute, and what was found while preparing it."""

    nb: Any  # nbformat.NotebookNode
    kernel: str
    #: The index of the cell tagged ``parameters`` in the source notebook, or None.
    parameters_cell: int | None
    #: Names the parameters cell sets to a literal (``lr = 0.01``): recorded as params too.
    defaults: list[str] = field(default_factory=list)
    #: The source of the injected cell (the kernel side recognises it by its source).
    injected_source: str = ""

    def source_index(self, executed_index: int) -> int | None:
        """The source notebook's index of the executed notebook's cell ``executed_index``
        (None for a cell the job added)."""
        seen = 0
        for index, cell in enumerate(self.nb.cells):
            tags = cell.get("metadata", {}).get("tags", [])
            if PROLOGUE_TAG in tags or INJECTED_TAG in tags:
                if index == executed_index:
                    return None
                continue
            if index == executed_index:
                return seen
            seen += 1
        return None


def read_notebook(path: Path) -> Any:
    """The notebook at ``path`` (nbformat 4); :class:`JobInputError` when it is missing or
    not a notebook."""
    import nbformat

    if not path.is_file():
        raise JobInputError(f"no notebook at {path}")
    try:
        nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]  # untyped
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise JobInputError(f"{path} is not a Jupyter notebook: {exc}") from None
    if not isinstance(nb.get("cells"), list):
        raise JobInputError(f"{path} is not a Jupyter notebook")
    return nb


def kernel_of(nb: Any, kernel: str | None) -> str:
    """The kernel to run ``nb`` in (``kernel``, else the notebook's, else ``python3``),
    checked to exist and to be a Python kernel (:class:`JobInputError` otherwise)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = kernel or nb.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        known = ", ".join(sorted(manager.find_kernel_specs())) or "none"
        raise JobInputError(f"no kernel named {name!r} (installed kernels: {known}); pass "
                            "--kernel NAME") from None
    if (spec.language or "").lower() != "python":
        raise JobInputError(f"kernel {name!r} runs {spec.language}: nbtrack run needs a Python "
                            "kernel")
    return name


def _tags(cell: Mapping[str, Any]) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def parameters_cell(nb: Any) -> int | None:
    """The index of the first cell tagged ``parameters`` (papermill's rule), or None."""
    for index, cell in enumerate(nb.cells):
        if PARAMETERS_TAG in _tags(cell):
            return index
    return None


def parameter_defaults(nb: Any) -> dict[str, str]:
    """The names the ``parameters`` cell sets to a literal, with the source of each value
    (``{"lr": "0.01"}``), in the cell's order; for showing a notebook's parameters."""
    import ast

    index = parameters_cell(nb)
    if index is None:
        return {}
    source = nb.cells[index].source
    config = scan(source).config
    out: dict[str, str] = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return dict.fromkeys(sorted(config), "")
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and node.targets[0].id in config:
            out[node.targets[0].id] = ast.get_source_segment(source, node.value) or ""
    return out


def unknown_names(nb: Any, names: Sequence[str]) -> list[str]:
    """The ``names`` no code cell of ``nb`` mentions (a ``-p`` the notebook never uses)."""
    mentioned: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            mentioned.update(scan(cell.source).mentioned)
            mentioned.update(scan(cell.source).bound)
    return [name for name in names if name not in mentioned]


def injected_source(nb: Any, kernel: str, params: Mapping[str, Any]) -> str:
    """The code of the ``injected-parameters`` cell: one assignment per param (papermill's
    translation), under a comment saying where it stands."""
    from papermill.translators import translate_parameters

    comment = "Parameters" if parameters_cell(nb) is not None else (
        "Parameters (injected at the top by nbtrack run: this notebook has no cell tagged "
        "'parameters')")
    text: str = translate_parameters(kernel, "python", dict(params), comment)
    return text


def prepare(nb: Any, kernel: str, params: Mapping[str, Any], prologue: str) -> Prepared:
    """A copy of ``nb`` with the ``prologue`` cell at the top and the params in an
    ``injected-parameters`` cell after the ``parameters`` cell (at the top, after the
    prologue, when there is none; no cell when there is neither a param nor a parameters
    cell)."""
    import copy

    import nbformat

    nb = copy.deepcopy(nb)
    cells = list(nb.cells)
    for cell in cells:
        if INJECTED_TAG in _tags(cell) or PROLOGUE_TAG in _tags(cell):
            raise JobInputError("this notebook was already executed by a job (it has an "
                                f"'{INJECTED_TAG}' cell); run its source notebook instead")
    index = parameters_cell(nb)
    source = injected_source(nb, kernel, params)
    injected = nbformat.v4.new_code_cell(source=source)  # type: ignore[no-untyped-call]
    injected.metadata["tags"] = [INJECTED_TAG]
    start = nbformat.v4.new_code_cell(source=prologue)  # type: ignore[no-untyped-call]
    start.metadata["tags"] = [PROLOGUE_TAG]
    start.metadata["jupyter"] = {"source_hidden": True}
    at = index + 1 if index is not None else 0
    # Nothing to inject and no parameters cell: no empty cell either.
    added = [injected] if params or index is not None else []
    nb.cells = [start, *cells[:at], *added, *cells[at:]]
    defaults = sorted(scan(cells[index].source).config) if index is not None else []
    nb.metadata.setdefault("papermill", {})["parameters"] = dict(params)
    return Prepared(nb, kernel, index, defaults, source)


__all__ = ["JobInputError", "Prepared", "injected_source", "kernel_of", "parameter_defaults",
           "parameters_cell", "prepare", "read_notebook", "unknown_names"]
