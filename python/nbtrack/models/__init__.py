"""Models: log a model in its native format (:func:`nbtrack.log_model`), load it back
(:func:`nbtrack.load_model`, :func:`load_version`), export it for MLflow
(``nbtrack export-model``). Frameworks are imported only when a model of theirs is used."""

from __future__ import annotations

from nbtrack.models.load import load_folder, load_model, load_version
from nbtrack.models.loaded import LoadedModel
from nbtrack.models.trust import UntrustedModelError

__all__ = ["LoadedModel", "UntrustedModelError", "load_folder", "load_model", "load_version"]
