"""The environment a run ran in: Python, platform, host, packages, git state, CPUs, memory, GPUs.

Captured once per run, in a background thread; stdlib only, and it never raises.
"""

from __future__ import annotations

import contextlib
import getpass
import importlib.metadata
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["MAX_DIFF_BYTES", "environment"]


# --------------------------------------------------------------------------------------------
# environment()
# --------------------------------------------------------------------------------------------

MAX_DIFF_BYTES = 1024 * 1024
GIT_TIMEOUT = 5.0
GPU_TIMEOUT = 2.0
_CREDENTIALS_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@]*)@")


def _run(args: list[str], cwd: str, timeout: float, limit: int = 64 * 1024) -> str | None:
    """stdout of a command, at most ``limit`` bytes (the rest is never read into memory);
    None if it cannot run, fails or outlives ``timeout`` seconds."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, ValueError):
        return None
    stdout = proc.stdout
    if stdout is None:  # pragma: no cover - stdout=PIPE always gives one
        return None
    timer = threading.Timer(max(timeout, 0.01), proc.kill)
    timer.start()
    try:
        data = stdout.read(limit + 1)
        truncated = len(data) > limit
        if truncated:
            proc.kill()
        code = proc.wait()
    except Exception:  # noqa: BLE001 - never raise from environment()
        proc.kill()
        return None
    finally:
        timer.cancel()
        stdout.close()
    if code != 0 and not truncated:
        return None
    return data[:limit].decode("utf-8", errors="replace")


def _strip_credentials(url: str) -> str:
    """A remote URL without its password (and, except for ssh, without its user name, which
    on https is often a token): ``https://user:pw@host/x`` -> ``https://host/x``."""
    match = _CREDENTIALS_RE.match(url)
    if not match:
        return url
    scheme = match.group("scheme")
    user = match.group("userinfo").partition(":")[0]
    keep = f"{user}@" if scheme.lower().startswith(("ssh", "git+ssh")) and user else ""
    return scheme + keep + url[match.end() :]


def _git(cwd: str) -> dict[str, object] | None:
    deadline = time.monotonic() + GIT_TIMEOUT

    def git(*args: str, limit: int = 64 * 1024) -> str | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        return _run(["git", *args], cwd, remaining, limit)

    if shutil.which("git") is None or git("rev-parse", "--show-toplevel") is None:
        return None
    commit = (git("rev-parse", "--verify", "-q", "HEAD") or "").strip() or None
    branch = (git("symbolic-ref", "--short", "-q", "HEAD") or "").strip() or None
    remote = None
    urls = dict(
        line.split(" ", 1)
        for line in (git("config", "--get-regexp", r"^remote\..*\.url$") or "").splitlines()
        if " " in line
    )
    if urls:
        url = urls.get("remote.origin.url") or next(iter(urls.values()))
        remote = _strip_credentials(url.strip())
    status = git("status", "--porcelain", "--untracked-files=no")
    diff_args = ["diff", "--no-color", "--no-ext-diff"] + (["HEAD"] if commit else ["--cached"])
    diff = git(*diff_args, limit=MAX_DIFF_BYTES)
    return {
        "commit": commit,
        "branch": branch,
        "remote": remote,
        "dirty": bool(status and status.strip()) or bool(diff),
        "diff": diff or "",
    }


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _gpus(cwd: str) -> list[str]:
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return []
    out = _run([binary, "--query-gpu=name", "--format=csv,noheader"], cwd, GPU_TIMEOUT)
    return [line.strip() for line in (out or "").splitlines() if line.strip()]


_packages_cache: tuple[tuple[object, ...], dict[str, str]] | None = None


def _packages() -> dict[str, str]:
    """Installed distributions, read again only when ``sys.path`` or one of its folders changed
    (an install in a running kernel changes its site-packages folder): runs started by the
    thousand (sweeps, jobs) do not each scan every installed package."""
    global _packages_cache
    stamp = tuple((p, _mtime(p)) for p in sys.path)
    cached = _packages_cache
    if cached is not None and cached[0] == stamp:
        return dict(cached[1])
    packages = _read_packages()
    _packages_cache = (stamp, packages)
    return dict(packages)


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return None


def _read_packages() -> dict[str, str]:
    packages: dict[str, str] = {}
    with contextlib.suppress(Exception):  # a broken sys.path entry: keep what was read
        for dist in importlib.metadata.distributions():
            try:
                name, version = dist.metadata["Name"], dist.version
            except Exception:  # noqa: BLE001, S112 - a broken dist-info folder: skip it
                continue
            if name and name not in packages:  # the first on sys.path is the one imported
                packages[name] = version
    return dict(sorted(packages.items(), key=lambda item: item[0].lower()))


def _guarded(fn: Callable[[], object], default: object = None) -> object:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - environment() never raises
        return default


def environment(cwd: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """Where a run happens: Python, machine, installed packages and git state.

    Keys: ``python``, ``python_version``, ``executable``, ``platform``, ``host``, ``user``,
    ``pid``, ``cwd``, ``cpu_count``, ``memory_bytes``, ``gpu`` (names from ``nvidia-smi``,
    ``[]`` without it), ``packages`` (``{distribution: version}``) and ``git``:
    ``{"commit", "branch", "remote", "dirty", "diff"}`` for the repository holding ``cwd``,
    or None outside one or without git. The remote URL has credentials stripped; ``dirty``
    means tracked files differ from HEAD; ``diff`` is ``git diff HEAD`` cut at 1 MB.
    Each external command has a timeout (git 5 s in all, nvidia-smi 2 s). Never raises.
    """
    where = os.fspath(cwd) if cwd is not None else str(_guarded(os.getcwd, ""))
    run_in = where if os.path.isdir(where) else None
    return {
        "python": sys.version.replace("\n", " "),
        "python_version": platform.python_version(),
        "executable": sys.executable,
        "platform": _guarded(platform.platform, ""),
        "host": _guarded(socket.gethostname, ""),
        "user": _guarded(getpass.getuser),
        "pid": os.getpid(),
        "cwd": where,
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpu": _guarded(lambda: _gpus(run_in or "."), []),
        "packages": _packages(),
        "git": _guarded(lambda: _git(run_in)) if run_in else None,
    }
