"""The one rule set for artifact names, types and aliases (after MLflow's alias rules)."""

from __future__ import annotations

import re

MAX_LENGTH = 255
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_ALIAS = re.compile(r"^[A-Za-z0-9_-]+$")
_RESERVED = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


def check_name(value: object, what: str = "artifact name") -> str:
    """``value`` if it is a valid name or type, else a ``ValueError`` saying what is allowed."""
    if not isinstance(value, str) or not _NAME.match(value) or len(value) > MAX_LENGTH \
            or value in (".", ".."):
        raise ValueError(
            f"{what} {value!r} is not allowed: use 1 to {MAX_LENGTH} letters, digits, '_', '-'"
            " and '.'")
    return value


def check_alias(value: object) -> str:
    """``value`` if it is a valid alias a user may set, else a ``ValueError``."""
    if not isinstance(value, str) or not _ALIAS.match(value) or len(value) > MAX_LENGTH:
        raise ValueError(
            f"alias {value!r} is not allowed: use 1 to {MAX_LENGTH} letters, digits, '_' and"
            " '-'")
    if _RESERVED.match(value):
        raise ValueError(f"alias {value!r} is reserved: 'latest' and 'v<number>' are set by"
                         " nbtrack")
    return value


def parse_ref(ref: object) -> tuple[str, str]:
    """``"name"``, ``"name:v3"``, ``"name:alias"`` -> ``(name, selector)`` (default latest)."""
    if not isinstance(ref, str):
        raise ValueError(f"an artifact reference is a string like 'name:v3', not {ref!r}")
    name, _, selector = ref.partition(":")
    check_name(name)
    selector = selector or "latest"
    if not _ALIAS.match(selector) or len(selector) > MAX_LENGTH:
        raise ValueError(f"{ref!r}: after ':' give a version (v3) or an alias (latest, best)")
    return name, selector
