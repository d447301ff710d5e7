"""Artifacts: versioned sets of files (datasets, models...) tied to the runs and cells that
made and used them. See :class:`Artifact`, :meth:`nbtrack.Run.log_artifact`,
:meth:`nbtrack.Run.use_artifact` and :func:`nbtrack.lineage`."""

from __future__ import annotations

from nbtrack.artifacts.artifact import Artifact, ArtifactVersion
from nbtrack.artifacts.files import ArtifactIntegrityError
from nbtrack.store.artifacts import ArtifactNotFound

__all__ = ["Artifact", "ArtifactIntegrityError", "ArtifactNotFound", "ArtifactVersion"]
