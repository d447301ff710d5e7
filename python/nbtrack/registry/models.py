"""What the registry hands back: :class:`RegisteredModel` and its :class:`ModelVersion` s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbtrack.store.registry import ModelNotFound


@dataclass(frozen=True)
class ModelVersion:
    """Version ``version`` (1, 2, ...) of the registered model ``name``.

    ``artifact`` is the model artifact version it points at (``"clf:v2"``); ``source_run`` the
    run that logged that artifact and ``registered_by`` the run that registered it (None
    outside a run); ``flavor`` and ``signature`` come from the artifact's metadata when it
    carries them (``nbtrack.log_model`` records them).
    """

    name: str
    version: int
    artifact: str
    artifact_version_id: int
    description: str
    created: float
    source_run: int | None
    registered_by: int | None
    aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    flavor: str | None = None
    signature: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        """``"name/3"``: what :func:`nbtrack.load_model` and ``nbtrack serve`` take."""
        return f"{self.name}/{self.version}"

    def __repr__(self) -> str:
        tags = f" [{', '.join(self.aliases)}]" if self.aliases else ""
        return f"<ModelVersion {self.ref} -> {self.artifact}{tags}>"


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model: its ``versions`` (oldest first), ``aliases`` (``{alias: version
    number}``), ``tags`` and ``description``."""

    name: str
    description: str
    created: float
    updated: float
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: list[ModelVersion] = field(default_factory=list)

    @property
    def latest_version(self) -> ModelVersion | None:
        """The newest version (None only for a model with no version)."""
        return self.versions[-1] if self.versions else None

    def version(self, number_or_alias: int | str) -> ModelVersion:
        """The version with this number, or the one this alias names."""
        if isinstance(number_or_alias, str) and not number_or_alias.isdigit():
            if number_or_alias not in self.aliases:
                raise ModelNotFound(f"registered model {self.name!r} has no alias"
                                    f" {number_or_alias!r}")
            number_or_alias = self.aliases[number_or_alias]
        for v in self.versions:
            if v.version == int(number_or_alias):
                return v
        raise ModelNotFound(f"registered model {self.name!r} has no version {number_or_alias}")

    def __repr__(self) -> str:
        return (f"<RegisteredModel {self.name!r}: {len(self.versions)} versions,"
                f" aliases {self.aliases}>")
