"""``key=value`` words as typed after ``%track start`` and ``nbtrack run -p``.

One parser for every place a user types params on a line: values are Python literals where
they parse as one (``0.01``, ``True``, ``[32, 64]``, ``'a b'``), else the text as typed
(``adam``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any


def parse_value(raw: str) -> Any:
    """``"0.01"`` -> ``0.01``, ``"[1, 2]"`` -> ``[1, 2]``, ``"adam"`` -> ``"adam"``."""
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return raw


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["lr=0.01", "opt=adam"]`` -> ``{"lr": 0.01, "opt": "adam"}``.

    Values are Python literals where they parse as one, else strings. A word without ``=``
    or without a name before it raises ``ValueError`` naming the word.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"expected key=value, got {item!r}")
        out[key] = parse_value(raw)
    return out


__all__ = ["parse_assignments", "parse_value"]
