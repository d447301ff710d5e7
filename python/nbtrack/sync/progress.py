"""Progress of a sync or pull: runs done and points sent, as a bar on a terminal, a widget in
a notebook, or nothing (output piped, ``--json``).

The notebook widget is :class:`nbtrack.widgets.progress_bar.ProgressBar`, imported only when a
sync runs in a kernel.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol


class Progress(Protocol):
    """What a sync reports as it goes."""

    def start(self, runs: int, label: str) -> None: ...

    def points(self, count: int) -> None: ...

    def run_done(self) -> None: ...

    def close(self) -> None: ...


class Silent:
    """No progress shown."""

    def start(self, runs: int, label: str) -> None:
        pass

    def points(self, count: int) -> None:
        pass

    def run_done(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Counts:
    def __init__(self) -> None:
        self.runs = self.done = self.sent = 0
        self.label = ""
        self.began = time.monotonic()

    def start(self, runs: int, label: str) -> None:
        self.runs, self.done, self.sent, self.label = runs, 0, 0, label
        self.began = time.monotonic()
        self.show()

    def points(self, count: int) -> None:
        self.sent += count
        self.show()

    def run_done(self) -> None:
        self.done += 1
        self.show()

    def text(self) -> str:
        rate = self.sent / max(time.monotonic() - self.began, 1e-9)
        return (f"{self.label} {self.done}/{self.runs} runs, {self.sent:,} points"
                f" ({rate:,.0f} points/s)")

    def show(self) -> None:
        raise NotImplementedError


class Terminal(_Counts):
    """A one-line bar on stderr, redrawn at most ten times a second."""

    WIDTH = 24

    def __init__(self) -> None:
        super().__init__()
        self.drawn = 0.0

    def show(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.drawn < 0.1 and self.done < self.runs:
            return
        self.drawn = now
        filled = self.WIDTH * self.done // max(self.runs, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {self.text()}\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.runs:
            self.show(force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()


class Widget(_Counts):
    """A progress bar and a caption in the notebook (:class:`nbtrack.widgets.ProgressBar`)."""

    def __init__(self) -> None:
        super().__init__()
        from nbtrack.widgets.progress_bar import ProgressBar

        self.widget = ProgressBar()
        self.drawn = 0.0

    def show(self) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.2 and self.done < self.runs:
            return
        self.drawn = now
        self.widget.update(self.done, self.runs, self.text())

    def close(self) -> None:
        self.drawn = 0.0
        self.show()
        self.widget.finish()


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # noqa: BLE001 - no IPython running
        return False
    return ip is not None and getattr(ip, "kernel", None) is not None


def choose(show: bool = True) -> Progress:
    """A widget in a notebook kernel, a bar on a terminal, else nothing."""
    if not show:
        return Silent()
    if _in_kernel():
        try:
            return Widget()
        except ImportError:
            return Silent()
    return Terminal() if sys.stderr.isatty() else Silent()
