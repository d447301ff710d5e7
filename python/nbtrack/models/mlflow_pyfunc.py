"""The ``loader_module`` of exported MLflow models: ``mlflow.pyfunc`` calls
:func:`_load_pyfunc` with the model directory and calls ``predict(data, params)`` on what it
returns. The directory is the one ``nbtrack export-model`` wrote (and checked the trust of
when it did); MLflow loads models as they are, so this does too."""

from __future__ import annotations

from nbtrack.models.load import load_folder
from nbtrack.models.loaded import LoadedModel


def _load_pyfunc(path: str) -> LoadedModel:
    """The model in the exported directory ``path``."""
    return load_folder(path, trusted=True)
