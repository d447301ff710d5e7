"""The files sent with each run: its cells in execution order, its environment, its params in
full, and a notebook of the executed cells. All are built from the store (a read), never from
the notebook file, so they say what ran, in the order it ran.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nbtrack.store import queries
from nbtrack.store.access import Connection
from nbtrack.store.values import to_jsonable

#: Where they go in the MLflow run's artifacts.
FOLDER = "nbtrack"


def run_files(db: Connection, run: int, params: dict[str, Any]) -> dict[str, bytes]:
    """``{file name: bytes}`` of run ``run`` (no file for what the run does not have)."""
    out: dict[str, bytes] = {}
    cells = queries.cell_executions(db, run)
    if cells:
        out["cells.json"] = _json([dict(c) for c in cells])
        out["executed.ipynb"] = _json(notebook(cells))
    environment = queries.environment_of(db, run)
    if environment:
        out["environment.json"] = _json(environment)
    if params:
        out["params.json"] = _json(to_jsonable(params))
    return out


def notebook(cells: list[Any]) -> dict[str, Any]:
    """An nbformat 4 notebook with one code cell per execution, in execution order (no
    outputs: they are not recorded), each cell's metadata saying when and how it ran."""
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [
            {
                "cell_type": "code", "id": f"exec-{i}",
                "execution_count": c.get("execution_count"),
                "metadata": {"nbtrack": {
                    "cell_id": c.get("cell_id"), "started": c.get("started"),
                    "duration": c.get("duration"), "outcome": c.get("outcome"),
                    "error": c.get("error_type"),
                }},
                "source": c.get("source") or "", "outputs": [],
            }
            for i, c in enumerate(cells, 1)
        ],
    }


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True, default=repr).encode()
