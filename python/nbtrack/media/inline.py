"""Putting stored rich values into a page (the run report, the inline run card) within a
byte budget, so one run with thousands of images cannot make a page of gigabytes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nbtrack.media.items import MediaItem


class NotInlined(Exception):
    """A value's bytes are not put in the page: none stored, missing, or over the budget;
    the message says which, for a note in their place."""


@dataclass
class Budget:
    """The bytes still free for inlined media in one page (``limit`` in bytes)."""

    limit: int
    used: int = 0
    #: Values left out because the limit was reached.
    skipped: int = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (and counted as skipped) when they do not fit."""
        if self.used + size > self.limit:
            self.skipped += 1
            return False
        self.used += size
        return True


def base64_size(n: int) -> int:
    """How many characters ``n`` bytes take as base64 (a data URI)."""
    return 4 * math.ceil(n / 3)


def read(item: MediaItem, which: str = "blob", budget: Budget | None = None, *,
         encoded: bool = True, page: str = "the page") -> bytes:
    """The bytes of ``item``'s ``"blob"`` or ``"thumb"``, charged to ``budget`` (as base64
    when ``encoded``) before they are read; :class:`NotInlined` says why they are not."""
    path = item.path if which == "blob" else item.thumb_path
    if path is None:
        raise NotInlined("no bytes were stored")
    try:
        size = path.stat().st_size
    except OSError:
        raise NotInlined("its bytes are missing from the store") from None
    if budget is not None and not budget.take(base64_size(size) if encoded else size):
        raise NotInlined(f"not shown: {page} shows at most {budget.limit / 2**20:.3g} MB of "
                         "media")
    try:
        return path.read_bytes()
    except OSError:
        raise NotInlined("its bytes are missing from the store") from None
