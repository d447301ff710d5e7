"""``log_model``: save a model in its native format, with its signature, input example and
packages, as a version of an artifact of type ``model``.

Everything is written and checked in a temporary folder first (the model saved, its
signature inferred by predicting on the input example); only then is the folder logged with
:func:`nbtrack.artifacts.artifact.log_artifact`, whose version appears in one transaction
after its bytes are stored. A mistake raises before anything is stored.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack.artifacts.names import check_alias, check_name
from nbtrack.models import flavors, packages, trust
from nbtrack.models import spec as _spec
from nbtrack.models.inputs import prepare
from nbtrack.models.signature import (
    Signature,
    check_signature,
    example_json,
    infer_signature,
    is_dataframe,
    is_series,
)

if TYPE_CHECKING:
    from nbtrack.artifacts.artifact import ArtifactVersion

MODEL_TYPE = "model"


def _signature(flavor: flavors.Flavor, model: Any, example: Any) -> tuple[Signature, Any]:
    """The signature inferred from ``example`` and the predictions on it."""
    inputs = infer_signature(example, None)["inputs"]
    try:
        output = flavor.predict(model, prepare(example, inputs), None)
    except Exception as exc:
        raise ValueError(f"predicting on the input example failed, so no signature could be"
                         f" inferred ({type(exc).__name__}: {exc}); fix the example or pass"
                         " signature=") from exc
    return infer_signature(example, output), output


def _distributions(flavor: flavors.Flavor, model: Any, signature: Signature | None,
                   example: Any, output: Any) -> list[str]:
    names = list(flavor.packages(model))
    if "numpy" in sys.modules:
        names.append("numpy")
    tabular = signature is not None and any(s.get("name") for s in signature["inputs"])
    if tabular or any(is_dataframe(x) or is_series(x) for x in (example, output)):
        names.append("pandas")
    return names


def log_model(
    db_path: Path, model: Any, name: str, *, input_example: Any = None,
    signature: Mapping[str, Any] | None = None, flavor: str | None = None,
    aliases: Iterable[str] | None = None, metadata: Mapping[str, Any] | None = None,
    description: str = "", rebuild: Any = None, run: int | None = None,
    cell: int | None = None,
) -> ArtifactVersion:
    """Log ``model`` as a version of the artifact ``name`` (type ``model``); see
    :meth:`nbtrack.Run.log_model`."""
    from nbtrack.artifacts import files as _files
    from nbtrack.artifacts.artifact import Artifact, log_artifact, manifest_digest
    from nbtrack.store.artifacts import ManifestEntry

    check_name(name, "model name")
    alias_list = [check_alias(a) for a in ([aliases] if isinstance(aliases, str)
                                           else aliases or ())]
    kind = flavors.get(flavor) if flavor is not None else flavors.detect(model)
    if rebuild is not None and kind.name != "pytorch":
        raise ValueError(f"rebuild= is for PyTorch modules; this is a {kind.name} model")
    sig = check_signature(signature) if signature is not None else None
    output = None
    if sig is None and input_example is not None:
        sig, output = _signature(kind, model, input_example)
    dists = packages.versions(_distributions(kind, model, sig, input_example, output))
    with tempfile.TemporaryDirectory(prefix="nbtrack-model-") as tmp:
        root = Path(tmp)
        (root / "model").mkdir()
        files = kind.save(model, root / "model", rebuild)
        example_file = None
        if input_example is not None:
            example_file = _spec.EXAMPLE_FILENAME
            (root / example_file).write_text(
                json.dumps(example_json(input_example)) + "\n")
        _spec.write(root, _spec.ModelSpec(
            format=_spec.FORMAT, flavor=kind.name, files=files, predict="predict",
            signature=sig, input_example=example_file, packages=dists,
            python=packages.python_version()))
        art = Artifact(name, MODEL_TYPE, description=description)
        art.add_dir(root)
        manifest = [ManifestEntry(p, *_files.hash_file(root / p)) for p in art.paths()]
        digest = manifest_digest(manifest)
        meta = {**dict(metadata or {}), "flavor": kind.name, "signature": sig,
                "packages": dists, trust.MARK_KEY: trust.mark(db_path.parent, digest)}
        version = log_artifact(db_path, art, aliases=alias_list, metadata=meta,
                               description=description or None, run=run, cell=cell)
    if version.digest != digest:  # pragma: no cover - the temp folder changed under us
        raise RuntimeError(f"{version.ref}: the model's files changed while being logged")
    if version.metadata.get(trust.MARK_KEY) != meta[trust.MARK_KEY]:
        # The same files were logged before without log_model (plain log_artifact): this
        # workspace just wrote them from a live model, so the version gets the model's keys.
        _mark_existing(db_path, version, meta)
    return version


def _mark_existing(db_path: Path, version: ArtifactVersion, meta: dict[str, Any]) -> None:
    from nbtrack.store import access
    from nbtrack.store import artifacts as _store

    keys = {k: meta[k] for k in ("flavor", "signature", "packages", trust.MARK_KEY)}
    with access.writing(db_path) as db:
        _store.merge_metadata(db, version.id, keys)
    version.metadata.update(keys)
