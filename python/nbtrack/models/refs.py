"""Model references to artifact version ids: ``"name:v3"``/``"name:alias"`` (artifacts),
``"runs:/<run>/<name>"`` (what a run logged) and registry references (``"name@alias"``,
``"name/3"``, ``"models:/..."``, resolved by :mod:`nbtrack.registry`)."""

from __future__ import annotations

from nbtrack.artifacts.names import parse_ref
from nbtrack.store import artifacts as _store
from nbtrack.store import queries
from nbtrack.store.access import Connection

RUNS_PREFIX = "runs:/"


def resolve_run_ref(db: Connection, ref: str) -> int:
    """The version id that ``"runs:/<run number|run id|run name>/<name>"`` names: the
    newest version of the model ``name`` the run logged; ``runs:/<run>/model`` (or no
    name) names the run's newest model when it logged none called ``model``."""
    if not ref.startswith(RUNS_PREFIX):
        raise ValueError(f"{ref!r} is not a run reference: use 'runs:/<run>/<model name>'")
    run_ref, _, name = ref[len(RUNS_PREFIX):].strip("/").partition("/")
    name = name or "model"
    if not run_ref or "/" in name:
        raise ValueError(f"{ref!r}: use 'runs:/<run number or id>/<model name>'")
    number = queries.resolve_run(db, run_ref)
    rows = db.execute(
        "SELECT v.id, a.name FROM artifact_edges e"
        " JOIN artifact_versions v ON v.id = e.version JOIN artifacts a ON a.id = v.artifact"
        " WHERE e.run = ? AND e.direction = 'out' AND a.type = 'model'"
        " ORDER BY e.time DESC, v.id DESC", (number,)).fetchall()
    for version_id, artifact in rows:
        if artifact == name:
            return int(version_id)
    if name == "model" and rows:
        return int(rows[0][0])
    logged = ", ".join(sorted({str(r[1]) for r in rows})) or "none"
    raise _store.ArtifactNotFound(
        f"run {number} logged no model named {name!r} (its models: {logged})")


def resolve(db: Connection, ref: str) -> int:
    """The artifact version id of any model reference."""
    if not isinstance(ref, str):
        raise TypeError(f"a model reference is a string like 'name:v3', not {ref!r}")
    if ref.startswith(RUNS_PREFIX):
        return resolve_run_ref(db, ref)
    from nbtrack.registry.refs import is_model_ref, resolve_version

    if is_model_ref(ref):
        return resolve_version(db, ref)
    name, selector = parse_ref(ref)
    return _store.resolve(db, name, selector).id
