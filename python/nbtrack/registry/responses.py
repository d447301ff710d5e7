"""The registry's JSON answers (``GET models``, ``GET models/{name}``, ``nbtrack models ...
--json``), shaped as :mod:`nbtrack.model` declares them."""

from __future__ import annotations

from pathlib import Path

from nbtrack.artifacts.names import check_name
from nbtrack.model import (
    ModelDetail,
    ModelsResponse,
    ModelSummary,
    ModelVersionRecord,
    ModelVersionRun,
)
from nbtrack.registry.api import read_model
from nbtrack.registry.models import ModelVersion
from nbtrack.store import access
from nbtrack.store import registry as _store


def models_list(path: Path) -> ModelsResponse:
    """Every registered model of the store at ``path``, by name."""
    with access.reading(path) as db:
        out = []
        for m in _store.models(db):
            count, latest = _store.version_count(db, m.id)
            out.append(ModelSummary(
                name=m.name, description=m.description, tags=_store.model_tags(db, m.id),
                aliases=_store.aliases(db, m.id), latest_version=latest, versions=count,
                updated=m.updated))
    return ModelsResponse(models=out)


def model_detail(path: Path, name: str) -> ModelDetail:
    """The registered model ``name`` of the store at ``path`` with every version
    (``ModelNotFound`` when there is none)."""
    check_name(name, "model name")
    with access.reading(path) as db:
        model = read_model(db, _store.model(db, name))
        runs = {v.source_run: _run(db, v.source_run) for v in model.versions}
    return ModelDetail(
        name=model.name, description=model.description, tags=model.tags,
        aliases=model.aliases, versions=[_record(v, runs[v.source_run]) for v in model.versions])


def _run(db: access.Connection, number: int | None) -> ModelVersionRun | None:
    if number is None:
        return None
    row = db.execute("SELECT number, id, name FROM runs WHERE number = ? AND deleted = 0",
                     (number,)).fetchone()
    return None if row is None else ModelVersionRun(number=row[0], run_id=row[1], name=row[2])


def _record(v: ModelVersion, run: ModelVersionRun | None) -> ModelVersionRecord:
    return ModelVersionRecord(
        version=v.version, artifact=v.artifact, run=run, created=v.created,
        description=v.description, tags=v.tags, aliases=v.aliases, flavor=v.flavor,
        signature=v.signature)
