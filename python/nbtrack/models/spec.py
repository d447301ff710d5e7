"""``nbtrack-model.json``: what a logged model's files are and how to load them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

from nbtrack.models.signature import Signature

SPEC_FILENAME = "nbtrack-model.json"
EXAMPLE_FILENAME = "input_example.json"
FORMAT = 1


class ModelSpec(TypedDict):
    """The content of ``nbtrack-model.json`` (format 1)."""

    format: int
    flavor: str
    files: dict[str, Any]
    predict: str
    signature: Signature | None
    input_example: str | None
    packages: dict[str, str]
    python: str


def write(folder: Path, spec: ModelSpec) -> None:
    (folder / SPEC_FILENAME).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")


def read(folder: Path, label: str) -> ModelSpec:
    """The spec in ``folder``; a ValueError naming ``label`` when it is missing or newer."""
    path = folder / SPEC_FILENAME
    if not path.is_file():
        raise ValueError(f"{label} is not a model: it has no {SPEC_FILENAME} (log models with"
                         " nbtrack.log_model)")
    return parse(path.read_bytes(), label)


def parse(data: bytes, label: str) -> ModelSpec:
    """The spec in the bytes of a ``nbtrack-model.json``."""
    spec: ModelSpec = json.loads(data)
    if not isinstance(spec, dict) or spec.get("format") != FORMAT:
        raise ValueError(f"{label}: model format {spec.get('format')!r} is not supported by"
                         " this nbtrack (upgrade it)")
    return spec
