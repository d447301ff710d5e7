"""The model registry: named models whose versions 1, 2, ... point at logged model artifacts,
with aliases (``production``...), tags and descriptions.

See :func:`register_model`, :func:`set_alias` and :func:`resolve_version` (what
``nbtrack.load_model("name@alias")`` and ``nbtrack serve`` use to find a version).
"""

from __future__ import annotations

from nbtrack.registry.api import (
    delete_alias,
    get_model,
    get_version,
    list_models,
    register_model,
    set_alias,
    set_model_description,
    set_model_tag,
)
from nbtrack.registry.models import ModelVersion, RegisteredModel
from nbtrack.registry.refs import is_model_ref, parse_model_ref, resolve_version
from nbtrack.store.registry import ModelNotFound

__all__ = [
    "ModelNotFound",
    "ModelVersion",
    "RegisteredModel",
    "delete_alias",
    "get_model",
    "get_version",
    "is_model_ref",
    "list_models",
    "parse_model_ref",
    "register_model",
    "resolve_version",
    "set_alias",
    "set_model_description",
    "set_model_tag",
]
