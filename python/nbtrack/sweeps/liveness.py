"""Trials whose process died: a kernel killed mid-trial (SIGKILL, out of memory, a machine
reset) leaves its trial RUNNING in the study forever, where it would hold a place of the
sweep. Each trial records the process running it; a worker starting on the same machine marks
the trials of processes that are gone as failed (``crashed``), so a re-run sweep runs them
again. Trials of other machines are left to their own workers (and, on a database, to Optuna's
heartbeat).
"""

from __future__ import annotations

import os
import socket
from typing import Any

import psutil

#: The trial's user attribute naming the process that runs it.
OWNER_ATTR = "nbtrack_owner"
#: What ``nbtrack_status`` says of a trial whose process died.
CRASHED = "crashed"


def owner() -> dict[str, Any]:
    """This process, as a trial's owner: host, pid and the pid's start time (a pid reused
    by a later process is not mistaken for the owner)."""
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "started": psutil.Process().create_time()}


def _alive(found: dict[str, Any]) -> bool:
    try:
        return abs(psutil.Process(int(found["pid"])).create_time() - float(found["started"])) < 1
    except (psutil.NoSuchProcess, psutil.AccessDenied, KeyError, TypeError, ValueError):
        return False


def fail_dead_trials(study: Any) -> list[int]:
    """Mark failed (``nbtrack_status: crashed``) the RUNNING trials whose process ran on this
    machine and is gone; return their numbers."""
    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    failed: list[int] = []
    for frozen in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        found = frozen.user_attrs.get(OWNER_ATTR)
        if not isinstance(found, dict) or found.get("host") != host or _alive(found):
            continue
        try:
            optuna.Trial(study, frozen._trial_id).set_user_attr("nbtrack_status", CRASHED)
            study.tell(frozen.number, state=TrialState.FAIL)
        except (RuntimeError, ValueError):  # another worker got there first
            continue
        failed.append(frozen.number)
    return failed
