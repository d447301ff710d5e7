"""How the runs of one batch are grouped: a tag ``group=<name>`` on each run.

A tag needs no schema change and every surface already shows, filters and exports tags:
``nbtrack list --where 'tags has "group=lr-sweep"'``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

PREFIX = "group="


def group_tag(name: str) -> str:
    """The tag the runs of group ``name`` carry."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a group name must be a non-empty string")
    return PREFIX + name.strip()


def group_of(tags: Iterable[str]) -> str | None:
    """The group named by a run's tags, or None."""
    for tag in tags:
        if tag.startswith(PREFIX) and len(tag) > len(PREFIX):
            return tag[len(PREFIX):]
    return None


def group_filter(name: str) -> str:
    """A filter (the filter language) keeping the runs of group ``name``."""
    tag = group_tag(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'tags has "{tag}"'


def default_group(stem: str) -> str:
    """``train-20261129-213005``: a new group's name when none is given."""
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


__all__ = ["PREFIX", "default_group", "group_filter", "group_of", "group_tag"]
