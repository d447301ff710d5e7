"""Shared fixtures: every test gets its own workspace (a temp dir that NBTRACK_DIR names)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import nbtrack


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh workspace folder, made the current one through ``$NBTRACK_DIR``."""
    ws = tmp_path / "workspace"
    ws.mkdir()
    monkeypatch.setenv("NBTRACK_DIR", str(ws))
    monkeypatch.delenv("NBTRACK_NOTEBOOK", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    yield ws
    nbtrack.finish()
