"""``nbtrack export-model --format mlflow``: a logged model as an MLflow model directory.

The directory holds the model's own files (``nbtrack-model.json``, ``model/``), an
``MLmodel`` whose ``python_function`` flavor loads them through
:mod:`nbtrack.models.mlflow_pyfunc` (so ``mlflow.pyfunc.load_model`` and ``mlflow models
serve`` predict exactly as :func:`nbtrack.load_model` does), the native MLflow flavor
section where the files already are in MLflow's layout (scikit-learn, XGBoost, LightGBM),
the signature in MLflow's format, the input example, ``requirements.txt``,
``python_env.yaml`` and ``conda.yaml``. Writing it needs no MLflow.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from nbtrack.models import packages, yaml_text
from nbtrack.models import spec as _spec
from nbtrack.models.load import materialize
from nbtrack.models.signature import Signature, Spec

LOADER_MODULE = "nbtrack.models.mlflow_pyfunc"
SERVING_EXAMPLE = "serving_input_example.json"


def _mlflow_spec(spec: Spec) -> dict[str, Any]:
    if spec["type"] == "tensor":
        out: dict[str, Any] = {"type": "tensor", "tensor-spec": {
            "dtype": spec.get("dtype"), "shape": spec.get("shape")}}
    else:
        out = {"type": spec["type"]}
    if spec.get("name") is not None:
        out["name"] = spec["name"]
    if spec["type"] != "tensor":
        out["required"] = True
    return out


def mlflow_signature(signature: Signature) -> dict[str, Any]:
    """The ``signature`` section of an MLmodel (each schema a JSON string, as MLflow has)."""
    outputs = signature.get("outputs")
    return {"inputs": json.dumps([_mlflow_spec(s) for s in signature["inputs"]]),
            "outputs": json.dumps([_mlflow_spec(s) for s in outputs]) if outputs else None,
            "params": None}


def _native_flavor(spec: _spec.ModelSpec) -> dict[str, dict[str, Any]]:
    """MLflow's own flavor section for the formats whose files MLflow reads as they are."""
    files, found = spec["files"], spec["packages"]
    if spec["flavor"] == "sklearn":
        return {"sklearn": {"pickled_model": files["model"], "serialization_format": "pickle",
                            "sklearn_version": found.get("scikit-learn"), "code": None}}
    if spec["flavor"] == "xgboost":
        kind = files.get("class", "Booster")
        module = "xgboost.core" if kind == "Booster" else "xgboost.sklearn"
        return {"xgboost": {"data": files["model"], "model_class": f"{module}.{kind}",
                            "model_format": "ubj", "xgb_version": found.get("xgboost"),
                            "code": None}}
    if spec["flavor"] == "lightgbm":
        booster = files.get("format") == "text"
        section = {"data": files["model"], "lgb_version": found.get("lightgbm"), "code": None,
                   "model_class": "lightgbm.basic.Booster" if booster
                   else f"lightgbm.sklearn.{files.get('class')}"}
        if not booster:
            section["serialization_format"] = "pickle"
        return {"lightgbm": section}
    return {}


def _pin(dist: str, version: str) -> str:
    return f"{dist}=={re.sub(r'[+].*$', '', version)}"  # no local label (+cpu): pip-installable


def requirements(spec: _spec.ModelSpec) -> list[str]:
    """pip requirements: MLflow, nbtrack (the loader) and the packages the model needs."""
    from nbtrack import __version__

    reqs = [_pin(d, v) for d, v in spec["packages"].items()]
    mlflow = packages.version_of("mlflow")
    return [*(["mlflow==" + mlflow] if mlflow else ["mlflow"]), f"nbtrack=={__version__}", *reqs]


def _example_info(folder: Path, spec: _spec.ModelSpec) -> dict[str, Any] | None:
    name = spec.get("input_example")
    if not name:
        return None
    example = json.loads((folder / name).read_text())
    tabular = "columns" in example
    serving = {"dataframe_split": example} if tabular else {"inputs": example["inputs"]}
    (folder / SERVING_EXAMPLE).write_text(json.dumps(serving, indent=2))
    info: dict[str, Any] = {"artifact_path": name, "serving_input_path": SERVING_EXAMPLE,
                            "type": "dataframe" if tabular else "ndarray"}
    if tabular:
        info["pandas_orient"] = "split"
    else:
        info["format"] = "tf-serving"
    return info


def write_mlmodel(folder: Path, spec: _spec.ModelSpec, size: int) -> None:
    """Write ``MLmodel`` and the environment files next to the model's files."""
    python = spec.get("python") or packages.python_version()
    reqs = requirements(spec)
    (folder / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (folder / "python_env.yaml").write_text(yaml_text.dumps({
        "python": python, "build_dependencies": ["pip", "setuptools", "wheel"],
        "dependencies": ["-r requirements.txt"]}))
    (folder / "conda.yaml").write_text(yaml_text.dumps({
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": reqs}], "name": "mlflow-env"}))
    mlmodel: dict[str, Any] = {
        "flavors": {
            "python_function": {
                "loader_module": LOADER_MODULE, "python_version": python,
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}},
            **_native_flavor(spec)},
        "model_size_bytes": size,
        "model_uuid": uuid.uuid4().hex,
        "utc_time_created": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S.%f"),
    }
    mlflow = packages.version_of("mlflow")
    if mlflow:
        mlmodel["mlflow_version"] = mlflow
    if spec.get("signature"):
        mlmodel["signature"] = mlflow_signature(spec["signature"])  # type: ignore[arg-type]
    info = _example_info(folder, spec)
    if info:
        mlmodel["saved_input_example_info"] = info
    (folder / "MLmodel").write_text(yaml_text.dumps(mlmodel))


def export_mlflow(db_path: Path, version_id: int, out: str | os.PathLike[str], *,
                  trusted: bool = False) -> Path:
    """Write artifact version ``version_id`` (a model) as an MLflow model directory ``out``
    (which must not exist or be empty); return it. The model must load under the same
    trust rule as :func:`nbtrack.models.load_version`: MLflow loads the directory as is."""
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ValueError(f"{target} exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        version, spec = materialize(db_path, version_id, tmp, trusted=trusted)
        write_mlmodel(tmp, spec, int(version.size))
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
